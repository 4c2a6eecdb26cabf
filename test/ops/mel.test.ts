// Mel frontend kernels (kernels/mel.wgsl.ts) against the float64 reference in src/audio/mel_ref.ts: the FFT power
// spectrum, the fused mel + log, the matmul path, mel_db, BatchNorm + SpecAugment + resize + fold; bad input.
// Fixture parity (numpy/torch float64) of the whole GPU frontend is in test/audio/frontend.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getTestDevice } from '../util/gpu.ts';
import { assertClose, randn } from '../util/compare.ts';
import { dbErrors } from '../audio/_fixtures.ts';
import { melPowerOp, melLogmelOp, melDbOp, melImageOp, melFrames, uploadFilterbank, releaseFilterbank } from '../../src/ops/mel.ts';
import { sparseFilterbank } from '../../kernels/mel.wgsl.ts';
import {
  applyFreqStripes, batchNormEval, bicubicResizeTime, drawFreqStripes, foldToImage, melFromPower, powerToDb,
  slaneyMelFilterbank, stftPower, type BatchNormStats,
} from '../../src/audio/mel_ref.ts';
import { batchNormRows, bicubicTaps } from '../../src/audio/frontend.ts';
import type { Runtime } from '../../src/gpu/runtime.ts';

const s = suite('mel');

/** Test signal: chirp + noise + a click + a DC offset, so every bin carries energy at several levels. */
function signal(n: number, seed: number): Float32Array {
  const r = randn(n, seed, -1, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / 48000;
    x[i] = 0.5 * Math.sin(2 * Math.PI * (200 * t + 4000 * t * t)) + 0.01 * r[i] + 0.05 + (i % 9973 === 17 ? 0.8 : 0);
  }
  return x;
}

async function readF32(rt: Runtime, buf: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await rt.read(buf, 0, n * 4));
}

function upload(rt: Runtime, data: Float32Array | Uint32Array): GPUBuffer {
  const b = rt.alloc(Math.max(16, data.byteLength));
  rt.upload(b, data);
  return b;
}

// Frame counts: n = 4800 -> 11 frames (every frame but the middle ones reflects), 48000 -> 101, and a length that
// is not a multiple of the hop. Clips sit at a stride larger than n to check the batch addressing.
for (const [B, n, stride] of [[1, 1024, 1024], [2, 4800, 4804], [3, 48000 + 123, 48128], [1, 513, 516]] as const) {
  s(`mel_power [${B} clips x ${n} samples] equals the float64 reflect-padded Hann STFT power (all 513 bins)`, async () => {
    const rt = await getTestDevice();
    const T = melFrames(n);
    const wave = new Float32Array(B * stride);
    for (let b = 0; b < B; b++) wave.set(signal(n, 10 + b), b * stride);
    const wb = upload(rt, wave), out = rt.alloc(B * T * 520 * 4);
    melPowerOp(rt, wb, out, { B, n, stride, rowStride: 520 });
    const got = await readF32(rt, out, B * T * 520);
    for (let b = 0; b < B; b++) {
      const ref = stftPower(wave.subarray(b * stride, b * stride + n));
      assert.is(ref.length, T * 513);
      let peak = 0;
      for (const v of ref) peak = Math.max(peak, v);
      const g = new Float64Array(T * 513);
      for (let t = 0; t < T; t++) {
        for (let k = 0; k < 513; k++) g[t * 513 + k] = got[(b * T + t) * 520 + k];
        for (let k = 513; k < 520; k++) assert.is(got[(b * T + t) * 520 + k], 0, 'row padding is zero');
      }
      // f32 FFT: the error of every bin is ~eps * sqrt(log2 n) of the frame's energy, so the absolute tolerance
      // is relative to the clip's peak power; louder bins also meet 1e-4 relative.
      assertClose(`mel_power clip ${b}`, g, ref, { atol: 2e-6 * peak, rtol: 1e-4 });
    }
    rt.release(wb); rt.release(out);
  });
}

s('mel_logmel (FFT + sparse Slaney projection + log fused) equals melFromPower + powerToDb of the reference', async () => {
  const rt = await getTestDevice();
  const B = 2, n = 48000, T = melFrames(n);
  const W = slaneyMelFilterbank();
  const fb = uploadFilterbank(rt, W, 64);
  assert.ok(fb.nnz < 700, `Slaney filterbank is sparse (${fb.nnz} nonzeros)`);
  const wave = new Float32Array(B * n);
  wave.set(signal(n, 3), 0); wave.set(signal(n, 4).map((v) => v * 1e-3), n); // second clip 60 dB quieter
  const wb = upload(rt, wave), out = rt.alloc(B * T * 64 * 4);
  melLogmelOp(rt, wb, out, fb, { B, n });
  const got = await readF32(rt, out, B * T * 64);
  for (let b = 0; b < B; b++) {
    const ref = powerToDb(melFromPower(stftPower(wave.subarray(b * n, (b + 1) * n)), W));
    const e = dbErrors(got.subarray(b * T * 64, (b + 1) * T * 64), ref);
    assert.ok(e.e60 <= 1e-3 && e.e90 <= 0.05, `clip ${b}: err within 60 dB ${e.e60}, within 90 dB ${e.e90}`);
  }
  rt.release(wb); rt.release(out); releaseFilterbank(rt, fb);
});

s('sparse filterbank: per-mel contiguous ranges reproduce the dense projection exactly', () => {
  const W = slaneyMelFilterbank();
  const { mi, mw } = sparseFilterbank(W, 64);
  for (let m = 0; m < 64; m++) {
    const first = mi[3 * m], count = mi[3 * m + 1], off = mi[3 * m + 2];
    for (let k = 0; k < 513; k++) {
      const w = k >= first && k < first + count ? mw[off + k - first] : 0;
      assert.is(w, Math.fround(W[k * 64 + m]));
    }
  }
  assert.throws(() => sparseFilterbank(new Float64Array(10), 64), /filterbank has 10 entries, want 513 x 64/);
});

s('mel_db: 10 log10(max(x, 1e-10)); -100 dB exactly at and below 1e-10 (digital silence), never NaN', async () => {
  const rt = await getTestDevice();
  const x = Float32Array.from([0, 1e-12, 1e-10, 1.0000001e-10, 1e-9, 1e-3, 0.5, 1, 2, 1234.5, 3.4e38, 1e-45, 7.7e-6, 42, 1e20, 0.1]);
  const xb = upload(rt, x), yb = rt.alloc(x.byteLength);
  melDbOp(rt, xb, yb, x.length);
  const got = await readF32(rt, yb, x.length);
  assert.is(got[0], -100); assert.is(got[1], -100); assert.is(got[2], -100); assert.is(got[11], -100);
  const ref = powerToDb(Float64Array.from(x));
  // log2 on the GPU: ~1 ulp of its result, i.e. ~3 * 2^-24 * |log2 x| dB
  assertClose('mel_db', got, ref, { atol: 2e-5, rtol: 1e-6 });
  rt.release(xb); rt.release(yb);
  assert.throws(() => melDbOp(rt, xb, yb, 3), /n = 3 is not a multiple of 4/);
});

s('matmul path: mel_power (rows padded to 516) @ dense melW, then mel_db, equals the reference log-mel', async () => {
  const rt = await getTestDevice();
  const n = 24000, T = melFrames(n);
  const x = signal(n, 5);
  const W = slaneyMelFilterbank();
  const dense = new Float32Array(516 * 64); dense.set(Float32Array.from(W));
  const { matmulOp } = await import('../../src/ops/matmul.ts');
  const wb = upload(rt, x), wd = upload(rt, dense), P = rt.alloc(T * 516 * 4), S = rt.alloc(T * 64 * 4), X = rt.alloc(T * 64 * 4);
  melPowerOp(rt, wb, P, { B: 1, n, rowStride: 516 });
  matmulOp(rt, P, wd, S, { batch: 1, M: T, N: 64, K: 516 });
  melDbOp(rt, S, X, T * 64);
  const got = await readF32(rt, X, T * 64);
  const e = dbErrors(got, powerToDb(melFromPower(stftPower(x), W)));
  assert.ok(e.e60 <= 1e-3 && e.e90 <= 0.05, `err within 60 dB ${e.e60}, within 90 dB ${e.e90}`);
  for (const b of [wb, wd, P, S, X]) rt.release(b);
});

/** Runs mel_image on X [B, T, 64] and returns the image [B, 256, 256]. */
async function runImage(rt: Runtime, X: Float32Array, B: number, T: number, bn: BatchNormStats | null, stripes: number[][][] | null): Promise<Float32Array> {
  const bnRows = bn ? batchNormRows(bn) : Float32Array.from([...new Array(64).fill(0), ...new Array(64).fill(1), ...new Array(64).fill(0)]);
  const S = stripes ? stripes[0].length : 0;
  const flat = new Uint32Array(Math.max(4, B * S * 2));
  if (stripes) stripes.forEach((ex, b) => ex.forEach(([st, w], i) => { flat[(b * S + i) * 2] = st; flat[(b * S + i) * 2 + 1] = w; }));
  const xb = upload(rt, X), bb = upload(rt, bnRows), tb = upload(rt, bicubicTaps(T, 1024)), sb = upload(rt, flat), img = rt.alloc(B * 65536 * 4);
  melImageOp(rt, xb, bb, tb, sb, img, { B, T, M: 64, R: 1024, ratio: 4, S });
  const got = await readF32(rt, img, B * 65536);
  for (const b of [xb, bb, tb, sb, img]) rt.release(b);
  return got;
}

function refImage(X: ArrayLike<number>, T: number, bn: BatchNormStats | null, stripes: number[][] | null): Float64Array {
  let y: Float64Array = Float64Array.from(X);
  if (bn) y = batchNormEval(y, bn);
  if (stripes) y = applyFreqStripes(y, stripes.map(([start, width]) => ({ start, width })));
  return foldToImage(bicubicResizeTime(y, T, 1024, 64));
}

const BN: BatchNormStats = (() => {
  const r = randn(256, 77);
  return { mean: r.slice(0, 64).map((v) => -40 + 20 * v), var: r.slice(64, 128).map((v) => 50 + 40 * v), weight: r.slice(128, 192).map((v) => 1 + 0.5 * v), bias: r.slice(192).map((v) => 0.3 * v) };
})();

s('mel_image: bicubic resize 1001 -> 1024 + fold (identity BatchNorm, no stripes), 2 clips', async () => {
  const rt = await getTestDevice();
  const B = 2, T = 1001;
  const X = Float32Array.from(randn(B * T * 64, 9, -100, 30));
  const got = await runImage(rt, X, B, T, null, null);
  for (let b = 0; b < B; b++) {
    // bicubic weights sum |c| <= 1.3 over values up to 100: a few f32 ulps of 100
    assertClose(`image clip ${b}`, got.subarray(b * 65536, (b + 1) * 65536), refImage(X.subarray(b * T * 64, (b + 1) * T * 64), T, null, null), { atol: 5e-5, rtol: 1e-5 });
  }
});

s('mel_image: BatchNorm eval affine (mean, var, weight, bias, eps 1e-5) before the resize', async () => {
  const rt = await getTestDevice();
  const T = 1001;
  const X = Float32Array.from(randn(T * 64, 10, -100, 30));
  const got = await runImage(rt, X, 1, T, BN, null);
  assertClose('image with BatchNorm', got, refImage(X, T, BN, null), { atol: 5e-5, rtol: 1e-5 });
});

s('mel_image: SpecAugment stripes from drawFreqStripes zero the same mel rows as applyFreqStripes', async () => {
  const rt = await getTestDevice();
  const B = 3, T = 1001;
  const X = Float32Array.from(randn(B * T * 64, 11, -100, 30));
  const drawn = drawFreqStripes(B, 1234);
  const stripes = drawn.map((ex) => ex.map((st) => [st.start, st.width]));
  stripes[2][1] = [60, 4]; // a stripe that touches the last mel bin
  const got = await runImage(rt, X, B, T, BN, stripes);
  for (let b = 0; b < B; b++) {
    const ref = refImage(X.subarray(b * T * 64, (b + 1) * T * 64), T, BN, stripes[b]);
    assertClose(`image clip ${b} with stripes`, got.subarray(b * 65536, (b + 1) * 65536), ref, { atol: 5e-5, rtol: 1e-5 });
    for (const [st, w] of stripes[b]) for (let m = st; m < st + w; m++) for (let c = 0; c < 4; c++) assert.is(got[b * 65536 + (c * 64 + m) * 256 + 17], 0);
  }
});

s('mel_image: a shorter time axis (T = 11) is stretched the same way as the reference', async () => {
  const rt = await getTestDevice();
  const X = Float32Array.from(randn(11 * 64, 12, -10, 10));
  const got = await runImage(rt, X, 1, 11, null, null);
  assertClose('image T=11', got, refImage(X, 11, null, null), { atol: 1e-5, rtol: 1e-5 });
});

s('bad input: short clips, unaligned strides, row strides, image shapes', async () => {
  const rt = await getTestDevice();
  const b = rt.alloc(1 << 16);
  assert.throws(() => melPowerOp(rt, b, b, { B: 1, n: 512 }), /mel_power: clips of 512 samples: reflect padding by 512 needs more than 512 samples/);
  assert.throws(() => melPowerOp(rt, b, b, { B: 1, n: 1000, stride: 1002 }), /clip stride 1002 must be a multiple of 4/);
  assert.throws(() => melPowerOp(rt, b, b, { B: 1, n: 1024, rowStride: 513 }), /rowStride 513 must be a multiple of 4 and >= 513/);
  assert.throws(() => melPowerOp(rt, b, b, { B: 1, n: 1001 }), /clip stride 1001 must be a multiple of 4/);
  assert.throws(() => melImageOp(rt, b, b, b, b, b, { B: 1, T: 1001, M: 62, R: 1024, ratio: 4, S: 0 }), /M = 62 mel bins must be a positive multiple of 4/);
  assert.throws(() => melImageOp(rt, b, b, b, b, b, { B: 1, T: 1001, M: 64, R: 1023, ratio: 4, S: 0 }), /1023 resized frames do not split into 4 chunks/);
  assert.throws(() => melPowerOp(rt, b, b, { B: 1 << 20, n: 480000 }), /over the device's maxStorageBufferBindingSize/);
  rt.release(b);
});

s.run();
