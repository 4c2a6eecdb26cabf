import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { flamgram, medianFilter3, extractEvents, flamgramEvents } from '../../src/model/flamgram.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, TOL, randn } from '../util/compare.ts';
import { flamgramRef, median3Ref, sigmoidRef } from '../ref/sim_loss.ts';

const s = suite('flamgram');

// Scores are sigmoids of f32 logits h = alpha * cos + beta: an f32 rounding of h (|h| up to ~25 here, 2^-24
// relative, plus the D-term dot product) moves s by at most s(1-s) |dh| <= 0.25 * 25 * 2^-22 < 2e-6.
const MAPTOL = TOL.forward;

function inputs(B: number, N: number, L: number, D: number, seed: number) {
  return {
    a: f32r(randn(B * L * D, seed, -1, 1)), t: f32r(randn(N * D, seed + 1, -1, 1)),
    alpha: f32r(randn(N, seed + 2, 5, 15)), beta: f32r(randn(N, seed + 3, -10, -2)),
  };
}

for (const method of ['unbiased', 'approximate'] as const) {
  for (const [B, N, L, D, median, renorm] of [[2, 3, 32, 16, false, true], [3, 1, 32, 13, true, true], [1, 5, 7, 8, true, false], [2, 2, 32, 512, false, false]] as const) {
    s(`${method} cross [B=${B}, N=${N}, L=${L}] D=${D}${median ? ' median' : ''}${renorm ? ' renormalised' : ''} vs float64`, async () => {
      const rt = await getTestDevice();
      const x = inputs(B, N, L, D, B * 10 + N);
      // un-normalised inputs must stay in the sigmoid's sensitive range: scale cosines down when not re-normalising
      const a = renorm ? x.a : x.a.map((v) => v / Math.sqrt(D)), t = renorm ? x.t : x.t.map((v) => v / Math.sqrt(D));
      const ref = flamgramRef(f32r(a), f32r(t), x.alpha, x.beta, B, N, L, D, { method, cross: true, median, renorm });
      await F.scope(async () => {
        const out = flamgram(t32(rt, a, [B, L, D]), t32(rt, t, [N, D]), t32(rt, x.alpha, [N]), t32(rt, x.beta, [N]), { method, median, renormalize: renorm });
        assert.equal(out.shape, [B, N, L]);
        assertClose(`${method} cross`, await out.data(), ref, MAPTOL);
      });
    });
  }
  s(`${method} paired [B = N = 4, L = 32]`, async () => {
    const rt = await getTestDevice();
    const B = 4, L = 32, D = 24;
    const x = inputs(B, B, L, D, 40);
    const ref = flamgramRef(x.a, x.t, x.alpha, x.beta, B, B, L, D, { method, cross: false, median: true, renorm: true });
    await F.scope(async () => {
      const out = flamgram(t32(rt, x.a, [B, L, D]), t32(rt, x.t, [B, D]), t32(rt, x.alpha, [B]), t32(rt, x.beta, [B]), { method, cross: false, median: true });
      assert.equal(out.shape, [B, L]);
      assertClose(`${method} paired`, await out.data(), ref, MAPTOL);
    });
  });
}

s('one prompt: text [D] and scalar alpha/beta work (N = 1)', async () => {
  const rt = await getTestDevice();
  const B = 2, L = 32, D = 8;
  const x = inputs(B, 1, L, D, 50);
  const ref = flamgramRef(x.a, x.t, x.alpha, x.beta, B, 1, L, D, { method: 'unbiased', cross: true, median: false, renorm: true });
  await F.scope(async () => {
    const out = flamgram(t32(rt, x.a, [B, L, D]), t32(rt, x.t, [D]), t32(rt, x.alpha, []), t32(rt, x.beta, []));
    assert.equal(out.shape, [B, 1, L]);
    assertClose('N = 1', await out.data(), ref, MAPTOL);
  });
});

s('extreme logits: no 0/0 where both sigmoids underflow; values match the log-space float64 reference', async () => {
  const rt = await getTestDevice();
  // one audio, L = 4 frames with cos = +1, -1, 0, 0.5 against text e0; prompts with extreme alpha / beta
  const D = 4, L = 4;
  const a = [1, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0.5, Math.sqrt(0.75), 0, 0];
  const t = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];
  const alpha = [1e4, 1e4, 200, 1], beta = [-120, 100, -120, -200];
  const ref = flamgramRef(f32r(a), f32r(t), f32r(alpha), f32r(beta), 1, 4, L, D, { method: 'unbiased', cross: true, median: false, renorm: false });
  // the direct f32 formula divides 0 by 0 here (e.g. h = -1e4, beta = -120): the test would catch it
  const f = Math.fround;
  const naive = f(f(sigmoidRef(-1e4)) / f(f(sigmoidRef(-1e4)) + f(sigmoidRef(-120))));
  assert.ok(Number.isNaN(naive), 'the direct formula is 0/0 in f32 at h = -1e4, beta = -120');
  await F.scope(async () => {
    const out = await flamgram(t32(rt, a, [1, L, D]), t32(rt, t, [4, D]), t32(rt, alpha, [4]), t32(rt, beta, [4]), { renormalize: false }).data();
    for (const v of out) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `score ${v} outside [0, 1]`);
    assertClose('extreme logits', out, ref, MAPTOL);
    // h = beta (cos = 0): s = 1/2 exactly, whatever beta is
    assertClose('s = 1/2 at cos = 0', [out[0 * L + 2], out[2 * L + 2], out[3 * L + 2]], [0.5, 0.5, 0.5], MAPTOL);
  });
});

s('3-tap median: scipy reflect boundary (hand-computed), GPU == CPU', async () => {
  assert.equal(Array.from(medianFilter3([5, 1, 3, 9, 2], 1, 5)), [5, 3, 3, 3, 2]);
  assert.equal(Array.from(medianFilter3([0, 1, 0, 1, 1, 0], 2, 3)), [0, 0, 0, 1, 1, 0]);
  const x = randn(3 * 32, 9);
  assertClose('median vs ref', medianFilter3(x, 3, 32), median3Ref(f32r(x), 3, 32), TOL.exact);
  const rt = await getTestDevice();
  const B = 2, N = 3, L = 32, D = 8;
  const y = inputs(B, N, L, D, 70);
  await F.scope(async () => {
    const args = [t32(rt, y.a, [B, L, D]), t32(rt, y.t, [N, D]), t32(rt, y.alpha, [N]), t32(rt, y.beta, [N])] as const;
    const raw = await flamgram(...args).data();
    const med = await flamgram(...args, { median: true }).data();
    assertClose('GPU median == CPU median of the GPU map', med, medianFilter3(raw, B * N, L), TOL.exact);
  });
});

s('event extraction: threshold, gap merge, minimum duration, window start, edge cases', () => {
  const h = 0.3125;
  const sc = [0.1, 0.6, 0.7, 0.2, 0.9, 0.1, 0.1, 0.1, 0.8, 0.8, 0.8, 0.5];
  assert.equal(extractEvents(sc), [
    { onset: h, offset: 3 * h, peak: 0.7 }, { onset: 4 * h, offset: 5 * h, peak: 0.9 }, { onset: 8 * h, offset: 11 * h, peak: 0.8 }]);
  assert.equal(extractEvents(sc, { inclusive: true }).map((e) => e.offset), [3 * h, 5 * h, 12 * h]);
  // a one-frame gap (0.3125 s) merges with mergeGap >= 0.3125, not below
  assert.equal(extractEvents(sc, { mergeGap: 0.3125 }).map((e) => [e.onset, e.offset]), [[h, 5 * h], [8 * h, 11 * h]]);
  assert.equal(extractEvents(sc, { mergeGap: 0.3 }).length, 3);
  // minimum duration applies after merging
  assert.equal(extractEvents(sc, { minDuration: 0.9 }).map((e) => e.onset), [8 * h]);
  assert.equal(extractEvents(sc, { mergeGap: 0.4, minDuration: 0.9 }).map((e) => e.onset), [h, 8 * h]);
  // window start shifts everything; frame l covers [s + 0.3125 l, s + 0.3125 (l + 1))
  assert.equal(extractEvents([0, 1], { start: 20 }), [{ onset: 20.3125, offset: 20.625, peak: 1 }]);
  assert.equal(extractEvents(new Array(32).fill(0.9)).map((e) => [e.onset, e.offset]), [[0, 10]]);
  assert.equal(extractEvents(new Array(32).fill(0.1)), []);
  assert.equal(extractEvents([NaN, 0.9, NaN]).map((e) => [e.onset, e.offset]), [[h, 2 * h]]);
  assert.throws(() => extractEvents(sc, { hop: 0 }), /hop = 0 must be positive/);
  // whole maps -> DCASE rows
  const map = [0, 1, 1, 0, /* b0 n1 */ 0, 0, 0, 0, /* b1 n0 */ 1, 0, 0, 0, /* b1 n1 */ 0, 0, 0, 1];
  assert.equal(flamgramEvents(map, [2, 2, 4], ['dog', 'rain'], { filenames: ['x.wav', 'y.wav'], starts: [0, 10] }), [
    { filename: 'x.wav', onset: h, offset: 3 * h, label: 'dog' },
    { filename: 'y.wav', onset: 10, offset: 10 + h, label: 'dog' },
    { filename: 'y.wav', onset: 10 + 3 * h, offset: 10 + 4 * h, label: 'rain' }]);
});

s('bad input: mismatched dims, empty prompts, paired with B != N, alpha size', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const a = F.zeros(rt, [2, 32, 8]), t = F.zeros(rt, [3, 8]), al = F.ones(rt, [3]), be = F.zeros(rt, [3]);
    assert.throws(() => flamgram(a, F.zeros(rt, [3, 6]), al, be), /flamgram: embedding dims differ: audio \[2, 32, 8\] has D = 8, text \[3, 6\] has D = 6/);
    assert.throws(() => flamgram(a, F.zeros(rt, [0, 8]), F.zeros(rt, [0]), F.zeros(rt, [0])), /flamgram: empty prompt list/);
    assert.throws(() => flamgram(a, t, al, be, { cross: false }), /paired mode .* needs B == N, got B = 2, N = 3/);
    assert.throws(() => flamgram(a, t, F.ones(rt, [2]), be), /flamgram: alpha \[2\] and beta \[3\] must have N = 3 elements/);
    assert.throws(() => flamgram(F.zeros(rt, [2, 8]), t, al, be), /local audio embeddings must be \[B, L, D\]/);
    assert.throws(() => flamgramEvents([0, 1], [1, 1, 2], ['a', 'b']), /2 labels for N = 1/);
  });
});

s.run();
