import { suite } from 'uvu';
import * as F from '../../src/index.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { reduceRef, reduceBackRef } from '../ref/ops.ts';
import { TOL } from '../util/compare.ts';

const s = suite('reduce');
const CASES: [number[], number][] = [[[1], 0], [[3, 5], 1], [[63, 4], 0], [[2, 64, 3], 1], [[65, 7], 1], [[768, 2], 0], [[4, 1025], 1], [[5000], 0], [[3, 2600, 2], 1]];

for (const op of ['sum', 'mean', 'max'] as const) {
  s(`${op}: reference backward vs finite differences`, () => {
    checkRefBackward(op, [[3, 4, 2]], ([x]) => reduceRef(op, x, [3, 4, 2], 1), ([x], dy) => [reduceBackRef(op, x, [3, 4, 2], 1, dy)]);
  });
  s(`${op}: forward and backward over swept shapes and axes (incl. the two-stage split)`, async () => {
    const rt = await getTestDevice();
    for (const [shape, axis] of CASES) {
      await checkOp(rt, {
        name: `${op} ${JSON.stringify(shape)} axis ${axis}`, inputs: [{ shape }], seed: shape[0] + axis,
        gpu: ([x]) => (op === 'sum' ? F.sum(x, axis) : op === 'mean' ? F.mean(x, axis) : F.max(x, axis)),
        ref: ([x]) => reduceRef(op, x, shape, axis),
        refBack: ([x], dy) => [reduceBackRef(op, x, shape, axis, dy)],
        fwdTol: TOL.reduce(shape[axis]),
      });
    }
  });
}

s('sum over a grid over 65535 workgroups', async () => {
  const rt = await getTestDevice();
  const shape = [65536 * 64 + 5, 2];
  await checkOp(rt, { name: 'sum big', inputs: [{ shape }], gpu: ([x]) => F.sum(x, 1), ref: ([x]) => reduceRef('sum', x, shape, 1), refBack: ([x], dy) => [reduceBackRef('sum', x, shape, 1, dy)] });
});

s.run();
