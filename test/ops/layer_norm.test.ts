import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { layerNormRef, layerNormBackRef } from '../ref/ops.ts';
import { TOL } from '../util/compare.ts';

const s = suite('layer_norm');
const EPS = 1e-5;

s('reference backward vs finite differences', () => {
  checkRefBackward('layer_norm', [[3, 6], [6], [6]], ([x, g, b]) => layerNormRef(x, g, b, 3, 6, EPS).y, ([x, g], dy) => layerNormBackRef(x, g, 3, 6, EPS, dy));
});

for (const [rows, C] of [[1, 1], [3, 3], [63, 64], [65, 63], [4, 768], [2, 1025], [4096, 128], [65600, 2]]) {
  s(`layer_norm [${rows}, ${C}] forward and backward (saving mean and rstd)`, async () => {
    const rt = await getTestDevice();
    await checkOp(rt, {
      name: `layer_norm ${rows}x${C}`, inputs: [{ shape: [rows, C], lo: -2, hi: 3 }, { shape: [C], lo: 0.5, hi: 1.5 }, { shape: [C] }], seed: rows + C,
      gpu: ([x, g, b]) => F.layerNorm(x, g, b, EPS), ref: ([x, g, b]) => layerNormRef(x, g, b, rows, C, EPS).y,
      // inputs lie in [-2, 3], gamma in [0.5, 1.5]; rstd of nearly constant rows (C = 2) reaches 1/sqrt(eps)
      fwdTol: TOL.normalized(3, 1 / Math.sqrt(EPS), 1.5),
      refBack: ([x, g], dy) => layerNormBackRef(x, g, rows, C, EPS, dy),
      // C == 1: the output is beta exactly, dx is 0; dgamma/dbeta sum over `rows` terms
      gradTol: { atol: 1e-4 * Math.sqrt(rows / 16 + 1), rtol: 1e-3 },
    });
  });
}

s('bad input: gamma size', async () => {
  const rt = await getTestDevice();
  assert.throws(() => F.layerNorm(F.zeros(rt, [2, 4]), F.zeros(rt, [3]), F.zeros(rt, [4])), /layer_norm: gamma \[3\] and beta \[4\] must have 4 elements/);
});

s.run();
