import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FLAM_FRONTEND, applyFreqStripes, batchNormEval, bicubicCoeffs, bicubicResizeTime, bicubicSource, drawFreqStripes,
  fft, flamFrontend, flamFrontendBatch, foldToImage, hannPeriodic, hzToMelSlaney, logMel, melEdgesHz, melFromPower,
  melToHzSlaney, numFrames, powerToDb, reflectPad, slaneyMelFilterbank, stftPower,
} from '../../src/audio/mel_ref.ts';
import { assertClose, randn } from '../util/compare.ts';

const s = suite('mel_ref');

// float64 code against float64 code: differences are rounding only (~1e-13 relative at n = 1024), so these are
// much tighter than the f32 table in test/util/compare.ts.
const F64 = { atol: 1e-10, rtol: 1e-10 };

/** Direct O(n^2) DFT, each twiddle from its own cos/sin. */
function dft(re: ArrayLike<number>, im: ArrayLike<number>): [Float64Array, Float64Array] {
  const n = re.length;
  const R = new Float64Array(n), I = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0;
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((k * j) % n)) / n;
      const c = Math.cos(a), sn = Math.sin(a);
      sr += re[j] * c - im[j] * sn;
      si += re[j] * sn + im[j] * c;
    }
    R[k] = sr; I[k] = si;
  }
  return [R, I];
}

s('radix-2 FFT equals the direct DFT (n = 1, 2, 4, 8, 64, 1024)', () => {
  for (const n of [1, 2, 4, 8, 64, 1024]) {
    const re = randn(n, n), im = randn(n, n + 1);
    const [R, I] = dft(re, im);
    const a = Float64Array.from(re), b = Float64Array.from(im);
    fft(a, b);
    assertClose(`fft re n=${n}`, a, R, F64);
    assertClose(`fft im n=${n}`, b, I, F64);
  }
  assert.throws(() => fft(new Float64Array(12), new Float64Array(12)), /not a power of two/);
});

s('reflect padding mirrors without repeating the edge sample', () => {
  assert.equal(Array.from(reflectPad([1, 2, 3, 4, 5], 2)), [3, 2, 1, 2, 3, 4, 5, 4, 3]);
  assert.equal(Array.from(reflectPad([1, 2, 3, 4, 5], 4)), [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2, 1]);
  assert.throws(() => reflectPad(new Float64Array(512), 512), /needs more than 512 samples/);
});

s('periodic Hann window', () => {
  const w = hannPeriodic(1024);
  assert.is(w[0], 0);
  assert.is(w[512], 1);
  for (let i = 1; i < 512; i++) assert.ok(Math.abs(w[i] - w[1024 - i]) < 1e-15);
  assert.ok(Math.abs(w[256] - 0.5) < 1e-15);
});

s('STFT power: frame count, and first/middle/last frames against a direct DFT of the padded, windowed frame', () => {
  assert.is(numFrames(480000), 1001);
  assert.is(numFrames(5000), 11);
  const x = randn(5000, 7);
  const P = stftPower(x);
  assert.is(P.length, 11 * 513);
  const w = hannPeriodic(1024);
  for (const t of [0, 5, 10]) {
    const frame = new Float64Array(1024);
    for (let i = 0; i < 1024; i++) {
      const j = 480 * t + i - 512; // original index
      const jj = j < 0 ? -j : j >= 5000 ? 2 * 4999 - j : j; // reflect by hand
      frame[i] = x[jj] * w[i];
    }
    const [R, I] = dft(frame, new Float64Array(1024));
    const want = new Float64Array(513);
    for (let k = 0; k <= 512; k++) want[k] = R[k] * R[k] + I[k] * I[k];
    assertClose(`power frame ${t}`, P.subarray(t * 513, (t + 1) * 513), want, F64);
  }
});

s('Slaney mel scale: 15 mel at 1 kHz, continuous, monotone, and mel->hz inverts hz->mel', () => {
  assert.ok(Math.abs(hzToMelSlaney(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMelSlaney(999.999999) - 15) < 1e-6);
  assert.ok(Math.abs(hzToMelSlaney(200) - 3) < 1e-12);
  assert.ok(Math.abs(hzToMelSlaney(6400) - 42) < 1e-12); // 15 + 27 (one factor 6.4 = 27 mel)
  let prev = -1;
  for (let f = 0; f <= 24000; f += 37.5) {
    const m = hzToMelSlaney(f);
    assert.ok(m > prev);
    prev = m;
    assert.ok(Math.abs(melToHzSlaney(m) - f) <= 1e-9 * Math.max(1, f), `${f}`);
  }
});

s('filterbank: triangles peak at f_{i+1}, peak height <= Slaney norm 2/(f_{i+2} - f_i), support (f_i, f_{i+2}), unit area', () => {
  const W = slaneyMelFilterbank();
  assert.is(W.length, 513 * 64);
  const f = melEdgesHz();
  assert.is(f.length, 66);
  assert.ok(Math.abs(f[0] - 50) < 1e-9 && Math.abs(f[65] - 14000) < 1e-9);
  const df = 48000 / 1024;
  for (let i = 0; i < 64; i++) {
    const norm = 2 / (f[i + 2] - f[i]);
    let peak = 0, argmax = -1, area = 0;
    for (let j = 0; j < 513; j++) {
      const v = W[j * 64 + i], phi = j * df;
      assert.ok(v >= 0);
      if (v > 0) assert.ok(phi > f[i] && phi < f[i + 2], `filter ${i} nonzero at ${phi} Hz outside (${f[i]}, ${f[i + 2]})`);
      if (v > peak) { peak = v; argmax = j; }
      area += v * df;
    }
    assert.ok(peak <= norm * (1 + 1e-12), `filter ${i} peak ${peak} > norm ${norm}`);
    assert.ok(Math.abs(argmax * df - f[i + 1]) <= df, `filter ${i} peaks at bin ${argmax}, centre ${f[i + 1]} Hz`);
    // The continuous triangle (height norm, base f_{i+2} - f_i) has area exactly 1; the bin-sampled sum approaches
    // it once the triangle spans many bins (the top filters span ~30 bins; the lowest span ~2).
    const binsWide = (f[i + 2] - f[i]) / df;
    if (binsWide > 20) assert.ok(Math.abs(area - 1) < 0.01, `filter ${i} area ${area}`);
    // Exactly linear on each side: the sampled value is norm * (ramp), check at the bins around the peak.
    for (let j = 1; j < 512; j++) {
      const phi = j * df, v = W[j * 64 + i];
      const want = norm * Math.max(0, Math.min((phi - f[i]) / (f[i + 1] - f[i]), (f[i + 2] - phi) / (f[i + 2] - f[i + 1])));
      assert.ok(Math.abs(v - want) < 1e-15, `filter ${i} bin ${j}`);
    }
  }
});

s('melFromPower equals the dense product P @ W', () => {
  const W = slaneyMelFilterbank();
  const P = randn(3 * 513, 9, 0, 1);
  const S = melFromPower(P, W);
  const want = new Float64Array(3 * 64);
  for (let t = 0; t < 3; t++) for (let m = 0; m < 64; m++) { let a = 0; for (let j = 0; j < 513; j++) a += P[t * 513 + j] * W[j * 64 + m]; want[t * 64 + m] = a; }
  assertClose('mel', S, want, F64);
});

s('dB: 10 log10(max(x, 1e-10)); digital silence gives -100 dB, never NaN', () => {
  assert.equal(Array.from(powerToDb([1, 10, 1e-10, 1e-12, 0, 100])), [0, 10, -100, -100, -100, 20]);
  const lm = logMel(new Float32Array(48000));
  assert.is(lm.length, numFrames(48000) * 64);
  for (const v of lm) if (v !== -100) assert.unreachable(`silence gave ${v}`);
  const full = flamFrontend(new Float32Array(480000));
  for (const v of full.logMel) if (v !== -100) assert.unreachable(`silence gave ${v}`);
  // The image goes through the bicubic sum, whose weights add to 1 up to rounding.
  for (const v of full.image) if (!(Math.abs(v + 100) < 1e-12)) assert.unreachable(`silence image ${v}`);
});

s('BatchNorm eval: formula per mel column; unit statistics are the identity', () => {
  const X = randn(5 * 64, 11, -80, 20);
  const st = { mean: randn(64, 12, -50, -20), var: randn(64, 13, 50, 200), weight: randn(64, 14, 0.5, 1.5), bias: randn(64, 15, -1, 1) };
  const Y = batchNormEval(X, st);
  for (let i = 0; i < X.length; i++) {
    const m = i % 64;
    const want = ((X[i] - st.mean[m]) / Math.sqrt(st.var[m] + 1e-5)) * st.weight[m] + st.bias[m];
    assert.ok(Math.abs(Y[i] - want) < 1e-12);
  }
  const id = batchNormEval(X, { mean: new Float64Array(64), var: new Float64Array(64).fill(1), weight: new Float64Array(64).fill(1), bias: new Float64Array(64), eps: 0 });
  assertClose('identity bn', id, X, F64);
  assert.throws(() => batchNormEval(X, { ...st, mean: new Float64Array(3) }), /mean has 3 entries/);
});

/** Keys cubic convolution kernel W(x) in its textbook |x| form (an independent statement of bicubicCoeffs). */
function keys(x: number, A: number): number {
  const u = Math.abs(x);
  if (u <= 1) return (A + 2) * u ** 3 - (A + 3) * u ** 2 + 1;
  if (u < 2) return A * u ** 3 - 5 * A * u ** 2 + 8 * A * u - 4 * A;
  return 0;
}

s('bicubic weights: equal the Keys kernel at distances t+1, t, 1-t, 2-t; sum to 1; interpolate at t = 0', () => {
  assert.equal(bicubicCoeffs(0), [0, 1, 0, 0]);
  for (let k = 0; k <= 64; k++) {
    const t = k / 64;
    for (const A of [-0.75, -0.5]) {
      const c = bicubicCoeffs(t, A);
      const want = [keys(t + 1, A), keys(t, A), keys(1 - t, A), keys(2 - t, A)];
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(c[i] - want[i]) < 1e-14, `A=${A} t=${t} tap ${i}`);
      assert.ok(Math.abs(c[0] + c[1] + c[2] + c[3] - 1) < 1e-15, `sum at t=${t}`);
      // First moment: exactly t only for A = -0.5 (Keys' choice); PyTorch's A = -0.75 is off except at t = 0, 1/2.
      const moment = -c[0] + c[2] + 2 * c[3];
      if (A === -0.5) assert.ok(Math.abs(moment - t) < 1e-15);
    }
  }
  // A = -0.75 values at t = 0.5 and t = 0.25 (exact binary fractions).
  assert.equal(bicubicCoeffs(0.5), [-0.09375, 0.59375, 0.59375, -0.09375]);
  assert.equal(bicubicCoeffs(0.25), [-0.10546875, 0.87890625, 0.26171875, -0.03515625]);
});

s('bicubic resize 1001 -> 1024: PyTorch source positions, kernel sum with clamped taps, endpoints, constants, ramps', () => {
  const tIn = 1001, tOut = 1024, M = 64;
  const X = randn(tIn * M, 20, -80, 20);
  const R = bicubicResizeTime(X, tIn, tOut, M);
  for (let r = 0; r < tOut; r++) {
    const { i0, t } = bicubicSource(r, tIn, tOut);
    const p = i0 + t;
    assert.ok(Math.abs(p - (r * 1000) / 1023) < 1e-12);
    // out[r] = sum over the 4 nearest source rows k of W(p - k) X[clamp(k)]
    for (let m = 0; m < M; m += 7) {
      let want = 0;
      for (let k = i0 - 1; k <= i0 + 2; k++) want += keys(p - k, -0.75) * X[Math.min(tIn - 1, Math.max(0, k)) * M + m];
      assert.ok(Math.abs(R[r * M + m] - want) < 1e-10, `row ${r} mel ${m}: ${R[r * M + m]} vs ${want}`);
    }
  }
  // align_corners: first and last rows are the first and last input rows.
  assertClose('row 0', R.subarray(0, M), X.subarray(0, M), F64);
  assertClose('row 1023', R.subarray(1023 * M), X.subarray(1000 * M), F64);
  // Row 1 has a clamped tap: X[-1] := X[0].
  const { i0, t } = bicubicSource(1, tIn, tOut);
  assert.is(i0, 0);
  const c = bicubicCoeffs(t);
  for (let m = 0; m < M; m++) {
    const want = c[0] * X[m] + c[1] * X[m] + c[2] * X[M + m] + c[3] * X[2 * M + m];
    assert.ok(Math.abs(R[M + m] - want) < 1e-12);
  }
  // Constants are kept everywhere (clamping included).
  const C = bicubicResizeTime(new Float64Array(tIn * M).fill(-42.5), tIn, tOut, M);
  for (const v of C) assert.ok(Math.abs(v + 42.5) < 1e-12);
  // A linear ramp is reproduced exactly away from the clamped borders with A = -0.5, which has first-order
  // accuracy; with FLAM's A = -0.75 it is not (see bicubicCoeffs), so that case checks the kernel sum above instead.
  const a = randn(M, 21), b = randn(M, 22);
  const ramp = new Float64Array(tIn * M);
  for (let t2 = 0; t2 < tIn; t2++) for (let m = 0; m < M; m++) ramp[t2 * M + m] = a[m] * t2 + b[m];
  const Rr = bicubicResizeTime(ramp, tIn, tOut, M, -0.5);
  let interior = 0;
  for (let r = 0; r < tOut; r++) {
    const { i0: j, t: u } = bicubicSource(r, tIn, tOut);
    if (j - 1 < 0 || j + 2 > tIn - 1) continue;
    interior++;
    for (let m = 0; m < M; m++) assert.ok(Math.abs(Rr[r * M + m] - (a[m] * (j + u) + b[m])) < 1e-9, `ramp row ${r} mel ${m}`);
  }
  assert.ok(interior >= 1020, `${interior} interior rows`);
  // Same size is the identity.
  assertClose('identity resize', bicubicResizeTime(X.subarray(0, 10 * M), 10, 10, M), X.subarray(0, 10 * M), F64);
});

s('fold: image[c*64 + m][tau] = R[c*256 + tau][m], a permutation of all 65536 values', () => {
  const R = new Float64Array(1024 * 64);
  for (let t = 0; t < 1024; t++) for (let m = 0; m < 64; m++) R[t * 64 + m] = t * 64 + m; // unique code
  const img = foldToImage(R);
  assert.is(img.length, 256 * 256);
  const seen = new Uint8Array(65536);
  for (let row = 0; row < 256; row++) {
    for (let col = 0; col < 256; col++) {
      const c = Math.floor(row / 64), m = row % 64, t = c * 256 + col;
      const v = img[row * 256 + col];
      if (v !== t * 64 + m) assert.unreachable(`image[${row}][${col}] = ${v}, want R[${t}][${m}]`);
      seen[v] = 1;
    }
  }
  assert.ok(seen.every((x) => x === 1));
  assert.is(img[1 * 256 + 0], R[0 * 64 + 1]); // row 1 = mel 1 of chunk 0
  assert.is(img[64 * 256 + 0], R[256 * 64 + 0]); // row 64 = mel 0 of chunk 1 (time 256)
  assert.throws(() => foldToImage(new Float64Array(1001 * 64)), /1024 x 64/);
});

s('SpecAugment stripes: seeded, width in 0..7, start in 0..64-width-1, both ends reachable; zeroing exact', () => {
  const a = drawFreqStripes(16, 1234), b = drawFreqStripes(16, 1234), c = drawFreqStripes(16, 1235);
  assert.equal(a, b);
  assert.not.equal(a, c);
  assert.is(a.length, 16);
  const widths = new Set<number>();
  let maxEnd = 0, minStart = 64;
  for (const ex of drawFreqStripes(4000, 7)) {
    assert.is(ex.length, 2);
    for (const { start, width } of ex) {
      assert.ok(Number.isInteger(width) && width >= 0 && width <= 7);
      assert.ok(Number.isInteger(start) && start >= 0 && start <= 64 - width - 1);
      widths.add(width); maxEnd = Math.max(maxEnd, start + width); minStart = Math.min(minStart, start);
    }
  }
  assert.is(widths.size, 8);
  assert.is(maxEnd, 63); // start + width never reaches 64 (start < 64 - width)
  assert.is(minStart, 0);
  const X = randn(7 * 64, 31, 1, 2); // no zeros before masking
  const Y = applyFreqStripes(X, [{ start: 3, width: 4 }, { start: 60, width: 3 }]);
  for (let t = 0; t < 7; t++) {
    for (let m = 0; m < 64; m++) {
      const masked = (m >= 3 && m < 7) || (m >= 60 && m < 63);
      assert.is(Y[t * 64 + m], masked ? 0 : X[t * 64 + m]);
    }
  }
});

s('composed frontend: stages chain, SpecAugment per example, exact-length check', () => {
  assert.throws(() => flamFrontend(new Float32Array(48000)), /exactly 480000 samples, got 48000/);
  const x = Float32Array.from(randn(480000, 41, -0.3, 0.3));
  const st = { mean: randn(64, 42, -40, -20), var: randn(64, 43, 50, 100), weight: randn(64, 44, 0.5, 1.5), bias: randn(64, 45, -1, 1) };
  const [r] = flamFrontendBatch([x], { bn: st, specAugmentSeed: 99 });
  assert.is(r.logMel.length, FLAM_FRONTEND.frames * 64);
  assert.is(r.image.length, 256 * 256);
  const stripes = drawFreqStripes(1, 99)[0];
  const want = applyFreqStripes(batchNormEval(logMel(x), st), stripes);
  assertClose('normalized', r.normalized, want, F64);
  assertClose('image', r.image, foldToImage(bicubicResizeTime(want, 1001, 1024)), F64);
  // A masked column is zero at every time step of the image (rows c*64 + m).
  const m = stripes.find((q) => q.width > 0);
  if (m) for (let c = 0; c < 4; c++) for (let tau = 0; tau < 256; tau++) assert.is(r.image[(c * 64 + m.start) * 256 + tau], 0);
});

s.run();
