import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { l2Normalize } from '../../src/autograd/l2_normalize.ts';
import { getTestDevice, t32 } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { assertClose, TOL } from '../util/compare.ts';
import { l2NormalizeRef, l2NormalizeBackRef } from '../ref/l2_normalize.ts';

const s = suite('l2_normalize');
const EPS = 1e-12;

s('reference backward vs finite differences', () => {
  checkRefBackward('l2_normalize', [[3, 5]], ([x]) => l2NormalizeRef(x, 3, 5, EPS), ([x], dy) => [l2NormalizeBackRef(x, 3, 5, EPS, dy)]);
  // clamped branch: a large eps makes every row clamped
  checkRefBackward('l2_normalize clamped', [[2, 3]], ([x]) => l2NormalizeRef(x, 2, 3, 10), ([x], dy) => [l2NormalizeBackRef(x, 2, 3, 10, dy)]);
});

for (const [rows, C] of [[1, 1], [3, 3], [63, 64], [65, 512], [2, 1025], [70000, 2]]) {
  s(`l2_normalize [${rows}, ${C}] forward and backward`, async () => {
    const rt = await getTestDevice();
    await checkOp(rt, {
      name: `l2_normalize ${rows}x${C}`, inputs: [{ shape: [rows, C], lo: -2, hi: 2 }], seed: rows + C,
      gpu: ([x]) => l2Normalize(x, EPS), ref: ([x]) => l2NormalizeRef(x, rows, C, EPS),
      refBack: ([x], dy) => [l2NormalizeBackRef(x, rows, C, EPS, dy)],
    });
  });
}

s('zero rows: the norm is clamped to eps (output 0, gradient dy / eps)', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const x = t32(rt, [0, 0, 0, 3, 4, 0], [2, 3], true);
    const y = l2Normalize(x, 1e-3);
    assertClose('zero row forward', await y.data(), [0, 0, 0, 0.6, 0.8, 0], TOL.forward);
    F.backward(y, t32(rt, [1, 2, 3, 0, 0, 0], [2, 3]));
    assertClose('zero row grad', await x.grad!.data(), [1000, 2000, 3000, 0, 0, 0], TOL.grad);
  });
});

s('bad input: scalar', async () => {
  const rt = await getTestDevice();
  assert.throws(() => l2Normalize(F.zeros(rt, [])), /l2_normalize: needs at least one axis/);
});

s.run();
