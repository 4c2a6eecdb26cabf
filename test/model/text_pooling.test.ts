import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { TextEncoder, TEXT_PRESETS } from '../../src/model/text.ts';
import { getTestDevice } from '../util/gpu.ts';
import { assertClose, TOL } from '../util/compare.ts';

const s = suite('text pooling');

s("pooling 'mean' = tanh(dense(mean of the real tokens' final states)), and gradients flow through it", async () => {
  const rt = await getTestDevice();
  const cfg = { ...TEXT_PRESETS.tiny, vocabSize: 60, hidden: 16, intermediate: 32, heads: 2, layers: 1, padTokenId: 1, pooling: 'mean' as const };
  const enc = new TextEncoder(rt, cfg, { seed: 3 });
  const ids = Int32Array.from([0, 5, 9, 2, 1, 1, 0, 7, 8, 11, 13, 2]);
  await F.scope(async () => {
    const out = enc.forward({ ids, lengths: [4, 6], seqLen: 6 });
    const h = await out.hidden.data(), u = await out.pooled.data();
    const W = await enc.pooler.dense.weight.data(), b = await enc.pooler.dense.bias!.data();
    const C = 16, T = 6;
    const want = new Float64Array(2 * C);
    [4, 6].forEach((len, r) => {
      const m = new Float64Array(C);
      for (let t = 0; t < len; t++) for (let c = 0; c < C; c++) m[c] += h[(r * T + t) * C + c] / len;
      for (let o = 0; o < C; o++) { let acc = b[o]; for (let c = 0; c < C; c++) acc += W[o * C + c] * m[c]; want[r * C + o] = Math.tanh(acc); }
    });
    assertClose('mean-pooled output', u, want, TOL.grad);
    F.backward(F.sumAll(out.pooled));
    assert.ok(enc.pooler.dense.weight.grad, 'pooler receives a gradient');
  });
  enc.dispose();
});

s.run();
