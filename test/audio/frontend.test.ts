// The GPU frontend (src/audio/frontend.ts) against the committed numpy/torch float64 fixtures (issue 3's parity
// bounds) and against mel_ref.ts's flamFrontend for BatchNorm, SpecAugment and the tensor input path.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getTestDevice } from '../util/gpu.ts';
import { assertClose } from '../util/compare.ts';
import { FIXTURES, dbErrors, fixtureBytes, readNpyFixture } from './_fixtures.ts';
import { melFrontend, MelFrontend, batchNormRows } from '../../src/audio/frontend.ts';
import { bicubicSource, drawFreqStripes, flamFrontend, type BatchNormStats } from '../../src/audio/mel_ref.ts';
import { mixToMono, readWav } from '../../src/audio/wav.ts';
import { cutWindows } from '../../src/audio/windows.ts';
import { tensor } from '../../src/tensor/tensor.ts';

const s = suite('frontend');
const BN: BatchNormStats = JSON.parse(readFileSync(join(FIXTURES, 'mel_bn_stats.json'), 'utf8'));
const NAMES = ['sweep', 'noise', 'clicks', 'silence', 'dc', 'stereo44k'];
const FILES: Record<string, string> = { stereo44k: 'mel_stereo44k_sox48k.wav' };

function clipOf(name: string): Float32Array {
  const file = FILES[name] ?? `mel_${name}.wav`;
  const w = readWav(fixtureBytes(file), file);
  return cutWindows(mixToMono(w), { name: file })[0].samples;
}

/**
 * Image errors in dB-equivalents: pixel (c*64 + m, tau) mixes log-mel rows i0-1..i0+2 of bin m with bicubic
 * weights and BatchNorm scale s_m, so |err| / (|s_m| * sum|c|) is the log-mel error it corresponds to. A pixel is
 * "within 60 dB" when every row it mixes is within 60 dB of the clip's peak.
 */
function imageDbErrors(got: ArrayLike<number>, ref: ArrayLike<number>, refLogmel: ArrayLike<number>, bnRows: Float32Array) {
  let peak = -Infinity;
  for (let i = 0; i < refLogmel.length; i++) peak = Math.max(peak, refLogmel[i]);
  let e60 = 0, e90 = 0;
  for (let c = 0; c < 4; c++) for (let m = 0; m < 64; m++) for (let tau = 0; tau < 256; tau++) {
    const r = c * 256 + tau, { i0 } = bicubicSource(r, 1001, 1024);
    let lo = Infinity;
    for (let k = -1; k <= 2; k++) lo = Math.min(lo, refLogmel[Math.min(1000, Math.max(0, i0 + k)) * 64 + m]);
    const i = (c * 64 + m) * 256 + tau;
    const e = Math.abs(got[i] - ref[i]) / (Math.abs(bnRows[64 + m]) * 1.3);
    if (lo >= peak - 60) e60 = Math.max(e60, e);
    if (lo >= peak - 90) e90 = Math.max(e90, e);
  }
  return { e60, e90 };
}

s('fixture parity: log-mel within 1e-3 dB (60 dB of peak) / 0.05 dB (90 dB); the image likewise; no NaN', async () => {
  const rt = await getTestDevice();
  const clips = NAMES.map(clipOf);
  const r = melFrontend(rt, clips, { output: 'both', bn: BN });
  const lm = await r.logmel!.data(), img = await r.image!.data();
  assert.equal(r.logmel!.shape, [6, 1001, 64]);
  assert.equal(r.image!.shape, [6, 256, 256]);
  const rows = batchNormRows(BN);
  const lines: string[] = [];
  NAMES.forEach((name, b) => {
    const got = lm.subarray(b * 64064, (b + 1) * 64064);
    for (const v of got) if (!Number.isFinite(v)) assert.unreachable(`${name}: non-finite log-mel ${v}`);
    const ref = readNpyFixture(`mel_${name}.logmel.npy.gz`).data;
    const e = dbErrors(got, ref);
    assert.ok(e.e60 <= 1e-3, `${name}: log-mel error ${e.e60} dB within 60 dB of the peak`);
    assert.ok(e.e90 <= 0.05, `${name}: log-mel error ${e.e90} dB within 90 dB of the peak`);
    const gi = img.subarray(b * 65536, (b + 1) * 65536);
    const ie = imageDbErrors(gi, readNpyFixture(`mel_${name}.image.npy.gz`).data, ref, rows);
    assert.ok(ie.e60 <= 1e-3, `${name}: image error ${ie.e60} dB-equivalent within 60 dB`);
    assert.ok(ie.e90 <= 0.05, `${name}: image error ${ie.e90} dB-equivalent within 90 dB`);
    lines.push(`${name}: log-mel err60 ${e.e60.toExponential(1)} err90 ${e.e90.toExponential(1)} all ${e.all.toExponential(1)}; image err60 ${ie.e60.toExponential(1)} err90 ${ie.e90.toExponential(1)}`);
  });
  console.log('  GPU frontend vs fixtures (dB):\n    ' + lines.join('\n    '));
  r.logmel!.dispose(); r.image!.dispose();
});

s('digital silence gives exactly -100 dB everywhere, never NaN (log-mel) and a finite image', async () => {
  const rt = await getTestDevice();
  const r = melFrontend(rt, [new Float32Array(480000)], { output: 'both', bn: BN });
  const lm = await r.logmel!.data();
  for (const v of lm) if (v !== -100) assert.unreachable(`silence gave ${v} dB`);
  for (const v of await r.image!.data()) if (!Number.isFinite(v)) assert.unreachable(`silence image value ${v}`);
  r.logmel!.dispose(); r.image!.dispose();
});

s('training mode: seeded SpecAugment stripes equal drawFreqStripes; the image is the eval image with those mel rows zeroed', async () => {
  const rt = await getTestDevice();
  const clips = [clipOf('sweep'), clipOf('noise')];
  const r = melFrontend(rt, clips, { output: 'image', bn: BN, training: true, seed: 1 });
  const ev = melFrontend(rt, clips, { output: 'image', bn: BN });
  assert.equal(r.stripes, drawFreqStripes(2, 1));
  const img = await r.image!.data(), eimg = await ev.image!.data();
  for (let b = 0; b < 2; b++) {
    const zero = new Set<number>();
    for (const { start, width } of r.stripes![b]) for (let m = start; m < start + width; m++) zero.add(m);
    assert.ok(zero.size > 0, 'seed 1 draws non-empty stripes');
    for (let row = 0; row < 256; row++) for (let tau = 0; tau < 256; tau++) {
      const i = b * 65536 + row * 256 + tau;
      const want = zero.has(row % 64) ? 0 : eimg[i];
      if (img[i] !== want) assert.unreachable(`clip ${b} pixel (${row}, ${tau}): ${img[i]} != ${want}`);
    }
    // and the reference frontend with the same stripes agrees where the log-mel is above the f32 noise floor
    const ref = flamFrontend(clips[b], { bn: BN, stripes: r.stripes![b] }).image;
    let worst = 0;
    for (let i = 0; i < 65536; i++) if (zero.has(Math.floor(i / 256) % 64)) worst = Math.max(worst, Math.abs(img[b * 65536 + i] - ref[i]));
    assert.is(worst, 0, 'striped rows are exactly 0 in both');
  }
  r.image!.dispose(); ev.image!.dispose();
});

s('Tensor input [B, 480000], the matmul path and a checkpoint-style float32 melW give the same log-mel', async () => {
  const rt = await getTestDevice();
  const clips = [clipOf('sweep'), clipOf('dc')];
  const flat = new Float32Array(2 * 480000); flat.set(clips[0]); flat.set(clips[1], 480000);
  const t = tensor(rt, flat, [2, 480000]);
  const a = melFrontend(rt, t, { output: 'logmel' });
  const b = melFrontend(rt, clips, { output: 'logmel', mel: 'matmul' });
  const fe = new MelFrontend(rt, Float32Array.from(readNpyFixture('mel_filterbank.npy.gz').data));
  const c = fe.run(clips, { output: 'logmel' });
  const [la, lb, lc] = [await a.logmel!.data(), await b.logmel!.data(), await c.logmel!.data()];
  for (let i = 0; i < 2; i++) {
    const ref = readNpyFixture(`mel_${['sweep', 'dc'][i]}.logmel.npy.gz`).data;
    for (const [name, l] of [['tensor', la], ['matmul', lb], ['melW', lc]] as const) {
      const e = dbErrors(l.subarray(i * 64064, (i + 1) * 64064), ref);
      assert.ok(e.e60 <= 1e-3 && e.e90 <= 0.05, `${name} clip ${i}: ${e.e60} / ${e.e90} dB`);
    }
  }
  t.dispose(); a.logmel!.dispose(); b.logmel!.dispose(); c.logmel!.dispose(); fe.dispose();
});

s('bad input: wrong clip length, wrong tensor shape, bad BatchNorm stats, bad filterbank, bad stripes', async () => {
  const rt = await getTestDevice();
  assert.throws(() => melFrontend(rt, [new Float32Array(480000), new Float32Array(1000)]), /clip 1 has 1000 samples, want exactly 480000/);
  const t = tensor(rt, new Float32Array(960), [2, 480]);
  assert.throws(() => melFrontend(rt, t), /waves must be an f32 Tensor \[B, 480000\], got f32 \[2, 480\]/);
  t.dispose();
  assert.throws(() => melFrontend(rt, [new Float32Array(480000)], { bn: { ...BN, var: new Array(64).fill(-1) } }), /running_var\[0\] = -1/);
  assert.throws(() => melFrontend(rt, [new Float32Array(480000)], { bn: { ...BN, mean: [1, 2] } }), /BatchNorm mean has 2 entries, want 64/);
  assert.throws(() => new MelFrontend(rt, new Float32Array(100)), /filterbank has 100 entries, want 513 x 64/);
  assert.throws(() => melFrontend(rt, [new Float32Array(480000)], { training: true, stripes: [[{ start: 60, width: 8 }]] }), /stripe \[60, 68\) of clip 0 outside 0..64/);
  await rt.sync();
});

s.run();
