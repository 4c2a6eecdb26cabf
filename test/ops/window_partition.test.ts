import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { windowPartition, windowMerge } from '../../src/autograd/window_partition.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { TOL } from '../util/compare.ts';
import { windowPartitionRef, windowMergeRef, rollRef } from '../ref/window_partition.ts';

const s = suite('window_partition');

s('reference: roll follows torch.roll (out[i] = in[(i - k) mod n]) and merge inverts partition', () => {
  const x = Float64Array.from({ length: 1 * 3 * 4 * 1 }, (_, i) => i);
  const r = rollRef(x, 1, 3, 4, 1, -1); // shift (-1, -1): out[i][j] = in[(i+1)%3][(j+1)%4]
  assert.is(r[0], x[1 * 4 + 1]);
  assert.is(r[2 * 4 + 3], x[0 * 4 + 0]);
  const y = Float64Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.sin(i));
  assert.equal(Array.from(windowMergeRef(windowPartitionRef(y, 2, 8, 8, 3, 4, 2), 2, 8, 8, 3, 4, 2)), Array.from(y));
});

s('reference backward (partition^-1 = merge) vs finite differences', () => {
  checkRefBackward('window_partition', [[1 * 4 * 4 * 2]], ([x]) => windowPartitionRef(x, 1, 4, 4, 2, 2, 1), ([_x], dy) => [windowMergeRef(dy, 1, 4, 4, 2, 2, 1)]);
  checkRefBackward('window_merge', [[1 * 4 * 4 * 2]], ([x]) => windowMergeRef(x, 1, 4, 4, 2, 2, 1), ([_x], dy) => [windowPartitionRef(dy, 1, 4, 4, 2, 2, 1)]);
});

// [B, H, W, C, ws, shift]: vec4 and scalar channels, shift 0 and ws/2, non-square maps, one window = whole map
const CASES: [number, number, number, number, number, number][] = [
  [1, 8, 8, 4, 8, 0], [2, 16, 16, 8, 8, 4], [1, 64, 64, 128, 8, 4], [3, 12, 8, 3, 4, 2], [2, 6, 9, 5, 3, 1], [1, 1, 1, 1, 1, 0],
];
for (const [B, H, W, C, ws, shift] of CASES) {
  s(`partition and merge [${B}, ${H}, ${W}, ${C}] window ${ws} shift ${shift}: forward and backward (exact)`, async () => {
    const rt = await getTestDevice();
    await checkOp(rt, {
      name: `window_partition ${H}x${W}x${C}`, inputs: [{ shape: [B, H * W, C] }], seed: H + C,
      gpu: ([x]) => windowPartition(x, H, W, ws, shift), ref: ([x]) => windowPartitionRef(x, B, H, W, C, ws, shift),
      refBack: ([_x], dy) => [windowMergeRef(dy, B, H, W, C, ws, shift)], fwdTol: TOL.exact, gradTol: TOL.exact,
    });
    await checkOp(rt, {
      name: `window_merge ${H}x${W}x${C}`, inputs: [{ shape: [B * (H / ws) * (W / ws), ws * ws, C] }], seed: H + C + 1,
      gpu: ([x]) => windowMerge(x, B, H, W, ws, shift), ref: ([x]) => windowMergeRef(x, B, H, W, C, ws, shift),
      refBack: ([_x], dy) => [windowPartitionRef(dy, B, H, W, C, ws, shift)], fwdTol: TOL.exact, gradTol: TOL.exact,
    });
  });
}

s('bad input: windows that do not divide the map, shift out of range, wrong element count', async () => {
  const rt = await getTestDevice();
  F.scope(() => {
    const x = F.zeros(rt, [1, 64, 4]);
    assert.throws(() => windowPartition(x, 8, 8, 3), /window_partition: the 8x8 map is not divisible into 3x3 windows/);
    assert.throws(() => windowPartition(x, 8, 8, 4, 4), /window_partition: shift 4 must be an integer in \[0, window size 4\)/);
    assert.throws(() => windowPartition(x, 8, 4, 4), /window_partition: input \[1, 64, 4\] does not hold 1 x 8 x 4 x 4 elements/);
    assert.throws(() => windowMerge(x, 1, 6, 6, 4), /window_merge: the 6x6 map is not divisible into 4x4 windows/);
  });
});

s.run();
