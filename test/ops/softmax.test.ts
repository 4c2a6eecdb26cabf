import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { softmaxRef, softmaxBackRef } from '../ref/ops.ts';

const s = suite('softmax');

s('reference backward vs finite differences', () => {
  checkRefBackward('softmax', [[3, 5]], ([x]) => softmaxRef(x, 3, 5), ([x], dy) => [softmaxBackRef(softmaxRef(x, 3, 5), dy, 3, 5)], 1, -3, 3);
});

for (const [rows, N] of [[1, 1], [3, 3], [63, 64], [64, 65], [2, 768], [3, 1025], [65537, 2]]) {
  s(`softmax [${rows}, ${N}] forward and backward`, async () => {
    const rt = await getTestDevice();
    await checkOp(rt, {
      name: `softmax ${rows}x${N}`, inputs: [{ shape: [rows, N], lo: -5, hi: 5 }], seed: rows + N,
      gpu: ([x]) => F.softmax(x), ref: ([x]) => softmaxRef(x, rows, N),
      refBack: ([x], dy) => [softmaxBackRef(softmaxRef(x, rows, N), dy, rows, N)],
    });
  });
}

s('softmax with a Swin-style window mask map (rows (b, w, h, i) -> mask (w, i))', async () => {
  const rt = await getTestDevice();
  const B = 2, nW = 3, H = 2, T = 8; // scores [B*nW, H, T, T], mask [nW, T, T]
  const rows = B * nW * H * T;
  const map = { ma: H * T, mb: nW, mc: T };
  const maskData = new Float64Array(nW * T * T).map((_, i) => ((i * 7) % 5 === 0 ? -100 : 0));
  await checkOp(rt, {
    name: 'softmax masked', inputs: [{ shape: [B * nW, H, T, T], lo: -3, hi: 3 }],
    gpu: ([x]) => F.softmax(x, F.tensor(rt, Float32Array.from(maskData), [nW, T, T]), map),
    ref: ([x]) => softmaxRef(x, rows, T, maskData, map),
    refBack: ([x], dy) => [softmaxBackRef(softmaxRef(x, rows, T, maskData, map), dy, rows, T)],
  });
});

s('bad input: mask width', async () => {
  const rt = await getTestDevice();
  assert.throws(() => F.softmax(F.zeros(rt, [4, 8]), F.zeros(rt, [4, 7])), /softmax: mask \[4, 7\] must end in 8/);
});

s.run();
