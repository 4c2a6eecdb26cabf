import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { permuteRef, sliceRef, concatRef, size } from '../ref/ops.ts';

const s = suite('copy');

function permBack(shape: number[], perm: number[]) {
  const inv: number[] = []; perm.forEach((p, i) => (inv[p] = i));
  return (dy: Float64Array) => permuteRef(dy, perm.map((p) => shape[p]), inv);
}
function sliceBack(shape: number[], st: number[], en: number[], sp: number[]) {
  return (dy: Float64Array) => {
    // scatter dy into zeros (reference of slice's backward)
    const dx = new Float64Array(size(shape));
    const idx = sliceRef(Float64Array.from({ length: size(shape) }, (_, i) => i), shape, st, en, sp).y;
    idx.forEach((j, i) => (dx[j] = dy[i]));
    return dx;
  };
}

s('reference backwards vs finite differences', () => {
  checkRefBackward('permute', [[2, 3, 4]], ([x]) => permuteRef(x, [2, 3, 4], [2, 0, 1]), ([_x], dy) => [permBack([2, 3, 4], [2, 0, 1])(dy)]);
  checkRefBackward('slice', [[4, 5]], ([x]) => sliceRef(x, [4, 5], [1, 0], [4, 5], [2, 2]).y, ([_x], dy) => [sliceBack([4, 5], [1, 0], [4, 5], [2, 2])(dy)]);
});

const PERMS: [number[], number[]][] = [[[1], [0]], [[3, 5], [1, 0]], [[63, 64], [1, 0]], [[2, 65, 3], [2, 0, 1]], [[4, 3, 768], [1, 0, 2]], [[2, 1025, 2, 2], [3, 1, 0, 2]], [[65536 * 2 + 1, 130], [1, 0]]];
for (const [shape, perm] of PERMS) {
  s(`permute ${JSON.stringify(shape)} by [${perm}]`, async () => {
    const rt = await getTestDevice();
    await checkOp(rt, { name: 'permute', inputs: [{ shape }], gpu: ([x]) => F.permute(x, perm), ref: ([x]) => permuteRef(x, shape, perm), refBack: (_x, dy) => [permBack(shape, perm)(dy)], fwdTol: { atol: 0, rtol: 0 }, gradTol: { atol: 0, rtol: 0 } });
  });
}

s('slice with steps and negative indices, forward and backward', async () => {
  const rt = await getTestDevice();
  for (const [shape, st, en, sp] of [[[10], [3], [-1], [2]], [[64, 65], [1, 0], [63, 65], [1, 3]], [[3, 768, 2], [0, 5, 1], [3, 700, 2], [2, 7, 1]]] as number[][][]) {
    const stp = st.map((v, i) => (v < 0 ? v + shape[i] : v)), enp = en.map((v, i) => (v < 0 ? v + shape[i] : v));
    await checkOp(rt, { name: `slice ${JSON.stringify(shape)}`, inputs: [{ shape }], gpu: ([x]) => F.slice(x, st, en, sp), ref: ([x]) => sliceRef(x, shape, stp, enp, sp).y, refBack: (_x, dy) => [sliceBack(shape, stp, enp, sp)(dy)], fwdTol: { atol: 0, rtol: 0 }, gradTol: { atol: 0, rtol: 0 } });
  }
});

s('concat along each axis, forward and backward', async () => {
  const rt = await getTestDevice();
  const CC: [number[][], number][] = [[[[3], [1], [64]], 0], [[[2, 3, 4], [2, 5, 4]], 1], [[[63, 2], [63, 65]], 1], [[[2, 768], [1, 768]], 0]];
  for (const [shapes, axis] of CC) {
    await checkOp(rt, {
      name: `concat axis ${axis}`, inputs: shapes.map((shape) => ({ shape })), gpu: (xs) => F.concat(xs, axis), ref: (xs) => concatRef(xs, shapes, axis),
      refBack: (_xs, dy) => {
        // split dy back: concat's backward is the slices
        const outs: Float64Array[] = shapes.map((sh) => new Float64Array(size(sh)));
        const O = size(shapes[0].slice(0, axis));
        let p = 0;
        for (let o = 0; o < O; o++) shapes.forEach((sh, t) => { const RI = size(sh.slice(axis)); for (let k = 0; k < RI; k++) outs[t][o * RI + k] = dy[p++]; });
        return outs;
      }, fwdTol: { atol: 0, rtol: 0 }, gradTol: { atol: 0, rtol: 0 },
    });
  }
});

s('bad input: permutation, concat shapes', async () => {
  const rt = await getTestDevice();
  const x = F.zeros(rt, [2, 3]);
  assert.throws(() => F.permute(x, [0, 0]), /permute: \[0,0\] is not a permutation/);
  assert.throws(() => F.concat([x, F.zeros(rt, [3, 3])], 1), /concat: shapes \[2, 3\], \[3, 3\] differ outside axis 1/);
  assert.throws(() => x.reshape([4]), /reshape: cannot view \[2, 3\] \(6 elements\) as \[4\]/);
});

s.run();
