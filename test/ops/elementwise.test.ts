import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { unaryRef, binaryRef, binaryBackRef } from '../ref/ops.ts';
import { UNARY_OPS } from '../../kernels/elementwise.wgsl.ts';

const s = suite('elementwise');
const SIZES = [1, 3, 63, 64, 65, 768, 1025];

for (const op of UNARY_OPS) {
  const r = unaryRef[op];
  const [lo, hi] = r.domain ?? [-4, 4];
  const a = 1.7, b = -0.3;
  const fn = (x: F.Tensor) => (op === 'affine' ? F.affine(x, a, b) : (F as any)[op](x) as F.Tensor);
  s(`unary ${op}: reference backward vs finite differences`, () => {
    // relu/abs have a kink at 0: sample away from it
    checkRefBackward(op, [[16]], ([x]) => x.map((v) => r.f(v, a, b)), ([x], dy) => [x.map((v, i) => dy[i] * r.d(v, a, b))], 3, op === 'relu' || op === 'abs' ? 0.1 : lo, hi);
  });
  s(`unary ${op} forward and backward over swept sizes`, async () => {
    const rt = await getTestDevice();
    for (const n of SIZES) {
      await checkOp(rt, {
        name: `${op}[${n}]`, inputs: [{ shape: [n], lo, hi }], gpu: ([x]) => fn(x),
        ref: ([x]) => x.map((v) => r.f(v, a, b)),
        refBack: ([x], dy) => [x.map((v, i) => dy[i] * r.d(v, a, b))],
        seed: n,
      });
    }
  });
}

s('unary on a grid over 65535 workgroups (folded)', async () => {
  const rt = await getTestDevice();
  const n = 65535 * 256 + 300; // 65537 workgroups of 256
  await checkOp(rt, { name: `exp[${n}]`, inputs: [{ shape: [n], lo: -2, hi: 2 }], gpu: ([x]) => F.exp(x), ref: ([x]) => x.map(Math.exp), refBack: ([x], dy) => [x.map((v, i) => dy[i] * Math.exp(v))] });
});

const BCASTS: [number[], number[]][] = [
  [[65], [65]], [[64], [64]], [[3, 5], [5]], [[4, 1, 6], [3, 1]], [[1], [7, 9]], [[2, 3, 4], [2, 1, 4]], [[768, 3], [768, 1]], [[1025], [1]],
];
for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as const) {
  s(`binary ${op}: reference backward vs finite differences`, () => {
    checkRefBackward(op, [[3, 4], [4]], ([a, b]) => binaryRef(op, a, [3, 4], b, [4]).y, ([a, b], dy) => binaryBackRef(op, a, [3, 4], b, [4], dy), 5, 0.5, 2);
  });
  s(`binary ${op} with broadcasting, forward and backward`, async () => {
    const rt = await getTestDevice();
    for (const [as, bs] of BCASTS) {
      const fn = { add: F.add, sub: F.sub, mul: F.mul, div: F.div, max: F.maximum, min: F.minimum }[op];
      await checkOp(rt, {
        name: `${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`, inputs: [{ shape: as, lo: 0.5, hi: 2 }, { shape: bs, lo: 0.5, hi: 2 }],
        gpu: ([a, b]) => fn(a, b), ref: ([a, b]) => binaryRef(op, a, as, b, bs).y,
        refBack: ([a, b], dy) => binaryBackRef(op, a, as, b, bs, dy), seed: as.length * 7 + bs[0],
        // reductions of broadcast gradients sum up to 768 terms
        gradTol: F.shapeSize(as) >= 768 ? { atol: 1e-4 * Math.sqrt(768), rtol: 1e-3 } : undefined,
      });
    }
  });
}

s('bad input: incompatible broadcast and disposed tensors throw before anything is submitted', async () => {
  const rt = await getTestDevice();
  const a = F.tensor(rt, new Float32Array(6), [2, 3]), b = F.tensor(rt, new Float32Array(4), [4]);
  const before = rt.stats.dispatches;
  assert.throws(() => F.add(a, b), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  b.dispose();
  assert.throws(() => F.mul(a, b), /mul: tensor #\d+ \[4\] was disposed/);
  const i = F.tensor(rt, [1, 2], [2], 'i32');
  assert.throws(() => F.exp(i), /exp: expected f32 tensors, got i32/);
  assert.is(rt.stats.dispatches, before);
  a.dispose(); i.dispose();
});

s.run();
