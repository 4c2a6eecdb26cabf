import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { FlamHeads, type HeadsConfig } from '../../src/model/heads.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, randn, TOL } from '../util/compare.ts';
import { unaryRef } from '../ref/ops.ts';
import { officialKeys } from './_keys.ts';

const s = suite('flam heads');
const SMALL: HeadsConfig = { audioDim: 12, textDim: 8, jointDim: 6 };

s('v1-base: names and shapes equal the official top-level keys; aed_logit_scale is a frozen buffer', async () => {
  const rt = await getTestDevice();
  const m = new FlamHeads(rt, 'v1-base');
  try {
    const want = officialKeys('');
    for (const k of [...want.keys()]) if (k.startsWith('audio_branch.') || k.startsWith('text_branch.')) want.delete(k);
    const got = new Map([...m.stateDict()].map(([k, t]) => [k, t.shape.slice()]));
    assert.equal([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, shp] of want) assert.equal(got.get(k), shp, k);
    assert.ok(m.namedBuffers().some(([k]) => k === 'aed_logit_scale'));
    assert.not.ok(m.namedParameters().some(([k]) => k === 'aed_logit_scale'));
    assert.equal(Array.from(await m.aedLogitScale.data()), [0]);
    assertClose('logit_scale_a init', await m.logitScaleA.data(), [Math.log(1 / 0.07)], TOL.forward);
  } finally { m.dispose(); }
});

/** float64 reference of Linear -> act -> Linear from the module's weights. */
async function mlpRef(m: { l0: { weight: F.Tensor; bias: F.Tensor | null }; l2: { weight: F.Tensor; bias: F.Tensor | null } }, x: Float64Array, rows: number, act: (v: number) => number): Promise<Float64Array> {
  const [W0, b0, W2, b2] = await Promise.all([m.l0.weight.data(), m.l0.bias!.data(), m.l2.weight.data(), m.l2.bias!.data()]);
  const inF = m.l0.weight.shape[1], hid = m.l0.weight.shape[0], out = m.l2.weight.shape[0];
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    const h = new Float64Array(hid);
    for (let j = 0; j < hid; j++) { let a = b0[j]; for (let i = 0; i < inF; i++) a += W0[j * inF + i] * x[r * inF + i]; h[j] = act(a); }
    for (let o = 0; o < out; o++) { let a = b2[o]; for (let j = 0; j < hid; j++) a += W2[o * hid + j] * h[j]; y[r * out + o] = a; }
  }
  return y;
}
const normRows = (y: Float64Array, C: number) => { const o = new Float64Array(y.length); for (let r = 0; r < y.length / C; r++) { let n = 0; for (let c = 0; c < C; c++) n += y[r * C + c] ** 2; n = Math.max(Math.sqrt(n), 1e-12); for (let c = 0; c < C; c++) o[r * C + c] = y[r * C + c] / n; } return o; };

s('projections + L2 normalisation, alpha = exp(MLP), beta = MLP against a float64 reference; init shifts ln 10 and -8', async () => {
  const rt = await getTestDevice();
  const m = new FlamHeads(rt, SMALL, { seed: 9 });
  try {
    await F.scope(async () => {
      const fr = f32r(randn(2 * 3 * 12, 1)), gl = f32r(randn(2 * 12, 2)), u = f32r(randn(4 * 8, 3));
      const a = m.audioEmbeddings(t32(rt, fr, [2, 3, 12]), t32(rt, gl, [2, 12]));
      const relu = (v: number) => Math.max(v, 0), gelu = (v: number) => unaryRef.gelu.f(v, 1, 0);
      assertClose('local audio', await a.local.data(), normRows(await mlpRef(m.audio_projection, fr, 6, relu), 6), TOL.forward);
      assertClose('global audio', await a.global.data(), normRows(await mlpRef(m.audio_projection, gl, 2, relu), 6), TOL.forward);
      assertClose('text', await m.textEmbeddings(t32(rt, u, [4, 8])).data(), normRows(await mlpRef(m.text_projection, u, 4, relu), 6), TOL.forward);
      const al = await mlpRef(m.fc_per_text_logit_scale, u, 4, gelu), be = await mlpRef(m.fc_per_text_logit_bias, u, 4, gelu);
      assertClose('alpha', await m.alpha(t32(rt, u, [4, 8])).data(), al.map(Math.exp), TOL.forward);
      assertClose('beta', await m.beta(t32(rt, u, [4, 8])).data(), be, TOL.forward);
      // PyTorch default bias init U(-1/sqrt(8), 1/sqrt(8)) plus the shift
      const bs = (await m.fc_per_text_logit_scale.l2.bias!.data())[0], bb = (await m.fc_per_text_logit_bias.l2.bias!.data())[0];
      assert.ok(Math.abs(bs - Math.log(10)) <= 1 / Math.sqrt(8), `scale bias ${bs}`);
      assert.ok(Math.abs(bb + 8) <= 1 / Math.sqrt(8), `bias bias ${bb}`);
    });
  } finally { m.dispose(); }
});

s('backward through the heads reaches every parameter except the unused CLIP scale', async () => {
  const rt = await getTestDevice();
  const m = new FlamHeads(rt, SMALL, { seed: 10 });
  try {
    await F.scope(async () => {
      const u = t32(rt, f32r(randn(3 * 8, 4)), [3, 8]);
      const a = m.audioEmbeddings(t32(rt, f32r(randn(2 * 3 * 12, 5)), [2, 3, 12]), t32(rt, f32r(randn(24, 6)), [2, 12]));
      const loss = F.add(F.add(F.sumAll(F.mul(a.local, a.local)), F.sumAll(a.global)), F.add(F.sumAll(m.textEmbeddings(u)), F.sumAll(F.mul(m.alpha(u), m.beta(u)))));
      F.backward(loss);
      assert.equal(m.namedParameters().filter(([, p]) => !p.grad).map(([k]) => k), ['logit_scale_a']);
      for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
    });
  } finally { m.dispose(); }
});

s.run();
