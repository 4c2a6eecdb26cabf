// Float64 CPU reference of the FLAM audio frontend (spec §2, §2.1). Clarity over speed: this is the yardstick the
// GPU kernels are tested against, not the production path. Browser-safe (no node:* imports).
//
// Pipeline for one 10 s clip x[480000] at 48 kHz (dimension legend: T frames, F = 513 freq bins, M = 64 mels):
//   reflectPad(x, 512)                 xp[n + 1024], xp[-k] = x[k], xp[n-1+k] = x[n-1-k] (edge not repeated)
//   stftPower(x)                       P[T][F], T = floor(n/480) + 1 = 1001; frame t = xp[480t .. 480t+1024)
//                                      times the periodic Hann w[i] = 0.5 - 0.5 cos(2 pi i / 1024); P = re^2 + im^2
//   melFromPower(P, W)                 S[T][M] = P @ W, W = slaneyMelFilterbank() [F][M] (librosa Slaney formula)
//   powerToDb(S)                       X = 10 log10(max(S, 1e-10))        (ref 1, amin 1e-10, no top_db)
//   batchNormEval(X, stats)            X' = (X - mean[m]) / sqrt(var[m] + 1e-5) * weight[m] + bias[m]
//   applyFreqStripes(X', stripes)      training only: zero mel columns [start, start + width), 2 stripes/example
//   bicubicResizeTime(X', 1001, 1024)  PyTorch bicubic, align_corners=True, A = -0.75, clamped indices
//   foldToImage(R)                     image[c*64 + m][tau] = R[c*256 + tau][m], c = 0..3 -> [256][256]
// All 2-D results are row-major Float64Arrays with the layout given in brackets.

/** Frontend constants of FLAM v1-base (spec §2). */
export const FLAM_FRONTEND = {
  sampleRate: 48000,
  clipSamples: 480000,
  nFft: 1024,
  hop: 480,
  pad: 512,
  bins: 513,
  mels: 64,
  fmin: 50,
  fmax: 14000,
  amin: 1e-10,
  bnEps: 1e-5,
  frames: 1001,
  targetFrames: 1024,
  specSize: 256,
  freqRatio: 4,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// STFT

/** Reflect padding by `pad` samples on each side without repeating the edge sample (PyTorch/numpy 'reflect'). */
export function reflectPad(x: ArrayLike<number>, pad: number = FLAM_FRONTEND.pad): Float64Array {
  const n = x.length;
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`reflectPad: pad ${pad} must be a non-negative integer`);
  if (n <= pad) throw new Error(`reflectPad: reflect padding by ${pad} needs more than ${pad} samples, got ${n}`);
  const out = new Float64Array(n + 2 * pad);
  for (let i = 0; i < out.length; i++) {
    const j = i - pad;
    out[i] = j < 0 ? x[-j] : j >= n ? x[2 * (n - 1) - j] : x[j];
  }
  return out;
}

/** Periodic Hann window: w[i] = 0.5 - 0.5 cos(2 pi i / n), i = 0..n-1 (scipy/librosa fftbins=True). */
export function hannPeriodic(n: number = FLAM_FRONTEND.nFft): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Number of centred STFT frames for n samples: floor(n / hop) + 1 (1001 for 480000). */
export function numFrames(n: number, hop: number = FLAM_FRONTEND.hop): number {
  return Math.floor(n / hop) + 1;
}

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function fftTables(n: number) {
  let t = twiddleCache.get(n);
  if (!t) {
    const cos = new Float64Array(n / 2), sin = new Float64Array(n / 2);
    // Each twiddle from its own cos/sin call (no recurrence), so the error stays at ~1 ulp.
    for (let k = 0; k < n / 2; k++) { cos[k] = Math.cos((2 * Math.PI * k) / n); sin[k] = Math.sin((2 * Math.PI * k) / n); }
    const bits = Math.log2(n);
    const rev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
    t = { cos, sin, rev };
    twiddleCache.set(n, t);
  }
  return t;
}

/**
 * In-place forward complex DFT X[k] = sum_i x[i] e^{-2 pi i k i / n} (no scaling), n a power of two.
 * Iterative radix-2 decimation in time: bit-reverse permutation, then log2(n) butterfly passes.
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re and im lengths differ (${n} vs ${im.length})`);
  if (n < 1 || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
  if (n === 1) return;
  const { cos, sin, rev } = fftTables(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2, step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = -sin[k * step]; // e^{-2 pi i k / size}
        const a = start + k, b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

export interface StftOptions {
  nFft?: number;
  hop?: number;
  /** Centre padding (reflect); default nFft / 2. */
  pad?: number;
}

/**
 * Power spectrogram P[T][nFft/2 + 1] = |FFT(frame_t * hann)|^2 of the reflect-padded signal, frame t starting at
 * padded sample hop*t. T = floor((n + 2 pad - nFft) / hop) + 1 (= floor(n/480) + 1 with the FLAM defaults).
 */
export function stftPower(x: ArrayLike<number>, opts: StftOptions = {}): Float64Array {
  const nFft = opts.nFft ?? FLAM_FRONTEND.nFft, hop = opts.hop ?? FLAM_FRONTEND.hop, pad = opts.pad ?? nFft / 2;
  const xp = reflectPad(x, pad);
  if (xp.length < nFft) throw new Error(`stftPower: ${x.length} samples (+${2 * pad} padding) are shorter than one frame of ${nFft}`);
  const T = Math.floor((xp.length - nFft) / hop) + 1;
  const F = nFft / 2 + 1;
  const w = hannPeriodic(nFft);
  const out = new Float64Array(T * F);
  const re = new Float64Array(nFft), im = new Float64Array(nFft);
  for (let t = 0; t < T; t++) {
    const o = t * hop;
    for (let i = 0; i < nFft; i++) { re[i] = xp[o + i] * w[i]; im[i] = 0; }
    fft(re, im);
    for (let k = 0; k < F; k++) out[t * F + k] = re[k] * re[k] + im[k] * im[k];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Mel

const F_SP = 200 / 3; // Hz per mel below 1 kHz
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOGSTEP = Math.log(6.4) / 27;

/** Slaney mel scale (librosa htk=False): linear below 1 kHz, logarithmic above. */
export function hzToMelSlaney(f: number): number {
  return f < MIN_LOG_HZ ? f / F_SP : MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP;
}

/** Inverse of hzToMelSlaney. */
export function melToHzSlaney(m: number): number {
  return m < MIN_LOG_MEL ? F_SP * m : MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL));
}

export interface MelOptions {
  sampleRate?: number;
  nFft?: number;
  nMels?: number;
  fmin?: number;
  fmax?: number;
}

/** The nMels + 2 filter edge frequencies f_0..f_{nMels+1} (Hz), equally spaced in Slaney mel between fmin and fmax. */
export function melEdgesHz(opts: MelOptions = {}): Float64Array {
  const nMels = opts.nMels ?? FLAM_FRONTEND.mels, fmin = opts.fmin ?? FLAM_FRONTEND.fmin, fmax = opts.fmax ?? FLAM_FRONTEND.fmax;
  const m0 = hzToMelSlaney(fmin), m1 = hzToMelSlaney(fmax);
  const num = nMels + 2;
  const step = (m1 - m0) / (num - 1);
  const f = new Float64Array(num);
  for (let i = 0; i < num; i++) f[i] = melToHzSlaney(i === num - 1 ? m1 : m0 + i * step); // numpy linspace
  return f;
}

/**
 * Slaney-normalised triangular mel filterbank in float64, row-major [bin][mel] ([513][64] by default), so that
 * mel = P @ W. Filter i over FFT bin frequency phi_j = j sr / nFft:
 *   W[j][i] = max(0, min((phi_j - f_i)/(f_{i+1} - f_i), (f_{i+2} - phi_j)/(f_{i+2} - f_{i+1}))) * 2/(f_{i+2} - f_i).
 */
export function slaneyMelFilterbank(opts: MelOptions = {}): Float64Array {
  const sr = opts.sampleRate ?? FLAM_FRONTEND.sampleRate, nFft = opts.nFft ?? FLAM_FRONTEND.nFft;
  const nMels = opts.nMels ?? FLAM_FRONTEND.mels;
  const f = melEdgesHz(opts);
  const F = Math.floor(nFft / 2) + 1;
  const W = new Float64Array(F * nMels);
  for (let i = 0; i < nMels; i++) {
    const lo = f[i], ce = f[i + 1], hi = f[i + 2];
    const enorm = 2 / (hi - lo);
    for (let j = 0; j < F; j++) {
      const phi = (j * sr) / nFft;
      const up = (phi - lo) / (ce - lo), down = (hi - phi) / (hi - ce);
      W[j * nMels + i] = Math.max(0, Math.min(up, down)) * enorm;
    }
  }
  return W;
}

/** S[T][M] = P[T][F] @ W[F][M], skipping the zero part of each filter. */
export function melFromPower(P: ArrayLike<number>, W: ArrayLike<number>, bins: number = FLAM_FRONTEND.bins, mels: number = FLAM_FRONTEND.mels): Float64Array {
  if (W.length !== bins * mels) throw new Error(`melFromPower: filterbank has ${W.length} entries, want ${bins}x${mels}`);
  if (P.length % bins !== 0) throw new Error(`melFromPower: power length ${P.length} is not a multiple of ${bins} bins`);
  const T = P.length / bins;
  // Nonzero bin range of each filter.
  const first = new Int32Array(mels).fill(bins), last = new Int32Array(mels).fill(-1);
  for (let j = 0; j < bins; j++) for (let m = 0; m < mels; m++) if (W[j * mels + m] !== 0) { first[m] = Math.min(first[m], j); last[m] = j; }
  const S = new Float64Array(T * mels);
  for (let t = 0; t < T; t++) {
    const p = t * bins;
    for (let m = 0; m < mels; m++) {
      let s = 0;
      for (let j = first[m]; j <= last[m]; j++) s += P[p + j] * W[j * mels + m];
      S[t * mels + m] = s;
    }
  }
  return S;
}

/** 10 log10(max(x, amin)) elementwise (power_to_db with ref 1, top_db None). Digital silence gives -100 dB. */
export function powerToDb(S: ArrayLike<number>, amin: number = FLAM_FRONTEND.amin): Float64Array {
  const out = new Float64Array(S.length);
  for (let i = 0; i < S.length; i++) out[i] = 10 * Math.log10(Math.max(S[i], amin));
  return out;
}

let defaultFilterbank: Float64Array | null = null;

/** Log-mel X[T][64] (dB, before BatchNorm) of a 48 kHz mono signal of any length > 512 samples. */
export function logMel(x: ArrayLike<number>, W?: ArrayLike<number>): Float64Array {
  const fb = W ?? (defaultFilterbank ??= slaneyMelFilterbank());
  return powerToDb(melFromPower(stftPower(x), fb));
}

// ---------------------------------------------------------------------------------------------------------------
// BatchNorm, SpecAugment

/** BatchNorm2d(64) eval statistics, the mel bin being the channel. */
export interface BatchNormStats {
  mean: ArrayLike<number>;
  var: ArrayLike<number>;
  weight: ArrayLike<number>;
  bias: ArrayLike<number>;
  /** Default 1e-5. */
  eps?: number;
}

/** X'[t][m] = (X[t][m] - mean[m]) / sqrt(var[m] + eps) * weight[m] + bias[m]. */
export function batchNormEval(X: ArrayLike<number>, stats: BatchNormStats, mels: number = FLAM_FRONTEND.mels): Float64Array {
  for (const k of ['mean', 'var', 'weight', 'bias'] as const) {
    if (stats[k].length !== mels) throw new Error(`batchNormEval: ${k} has ${stats[k].length} entries, want ${mels}`);
  }
  if (X.length % mels !== 0) throw new Error(`batchNormEval: input length ${X.length} is not a multiple of ${mels}`);
  const eps = stats.eps ?? FLAM_FRONTEND.bnEps;
  const scale = new Float64Array(mels);
  for (let m = 0; m < mels; m++) { scale[m] = stats.weight[m] / Math.sqrt(stats.var[m] + eps); }
  const out = new Float64Array(X.length);
  for (let i = 0; i < X.length; i++) {
    const m = i % mels;
    out[i] = (X[i] - stats.mean[m]) * scale[m] + stats.bias[m];
  }
  return out;
}

/** One frequency stripe: mel columns [start, start + width) are zeroed. */
export interface FreqStripe { start: number; width: number }

export interface StripeOptions {
  /** Stripes per example; default 2. */
  stripes?: number;
  /** Widths are drawn from U{0 .. dropWidth-1}; default 8. */
  dropWidth?: number;
  mels?: number;
}

/** Deterministic PRNG (mulberry32) returning uniforms in [0, 1). */
import { mulberry32 } from '../util/rng.ts';
export { mulberry32 };

/**
 * SpecAugment frequency stripes for a batch, seeded: for each example in order, for each stripe in order,
 * width ~ U{0..dropWidth-1} then start ~ U{0..mels-width-1}, both from one mulberry32(seed) stream.
 * Pass the result to applyFreqStripes (or upload it for the GPU kernel) so CPU and GPU use identical stripes.
 */
export function drawFreqStripes(batch: number, seed: number, opts: StripeOptions = {}): FreqStripe[][] {
  const stripes = opts.stripes ?? 2, dropWidth = opts.dropWidth ?? 8, mels = opts.mels ?? FLAM_FRONTEND.mels;
  if (dropWidth < 1 || dropWidth > mels) throw new Error(`drawFreqStripes: dropWidth ${dropWidth} outside 1..${mels}`);
  const r = mulberry32(seed);
  const out: FreqStripe[][] = [];
  for (let b = 0; b < batch; b++) {
    const ex: FreqStripe[] = [];
    for (let s = 0; s < stripes; s++) {
      const width = Math.floor(r() * dropWidth);
      const start = Math.floor(r() * (mels - width));
      ex.push({ start, width });
    }
    out.push(ex);
  }
  return out;
}

/** Copy of X[T][mels] with the stripes' mel columns set to 0 in every frame. */
export function applyFreqStripes(X: ArrayLike<number>, stripes: FreqStripe[], mels: number = FLAM_FRONTEND.mels): Float64Array {
  const out = Float64Array.from(X as ArrayLike<number>);
  const T = out.length / mels;
  for (const { start, width } of stripes) {
    if (start < 0 || width < 0 || start + width > mels) throw new Error(`applyFreqStripes: stripe [${start}, ${start + width}) outside 0..${mels}`);
    for (let t = 0; t < T; t++) for (let m = start; m < start + width; m++) out[t * mels + m] = 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Bicubic time resize and fold (spec §2.1)

/**
 * Keys cubic convolution weights for the taps at offsets -1, 0, 1, 2 around the source position (A = -0.75,
 * PyTorch's choice): c_{-1} = ((A(t+1) - 5A)(t+1) + 8A)(t+1) - 4A, c_0 = ((A+2)t - (A+3))t^2 + 1,
 * c_1 = ((A+2)(1-t) - (A+3))(1-t)^2 + 1, c_2 = ((A(2-t) - 5A)(2-t) + 8A)(2-t) - 4A.
 * They always sum to 1 (constants are kept), but only A = -0.5 also reproduces linear functions: with A = -0.75
 * the first moment -c_{-1} + c_1 + 2 c_2 differs from t (by 0.047 at t = 1/4), so a resized ramp is not a ramp.
 */
export function bicubicCoeffs(t: number, A = -0.75): [number, number, number, number] {
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 <= |x| < 2
  const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| <= 1
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** Source row, integer base and fraction of output row r (align_corners=True: p = r * (tIn-1)/(tOut-1)). */
export function bicubicSource(r: number, tIn: number, tOut: number): { i0: number; t: number } {
  const scale = tOut > 1 ? (tIn - 1) / (tOut - 1) : 0; // PyTorch: scale first, then scale * r
  const p = scale * r;
  const i0 = Math.floor(p);
  return { i0, t: p - i0 };
}

/**
 * Resize X[tIn][mels] along time to [tOut][mels] like F.interpolate(mode='bicubic', align_corners=True) does on
 * the time axis (the mel axis is unchanged): out[r] = sum_{m=-1..2} c_m(t) X[clamp(i0 + m, 0, tIn - 1)].
 * `A` is exposed for tests only (FLAM / PyTorch use -0.75).
 */
export function bicubicResizeTime(X: ArrayLike<number>, tIn: number, tOut: number, mels: number = FLAM_FRONTEND.mels, A = -0.75): Float64Array {
  if (X.length !== tIn * mels) throw new Error(`bicubicResizeTime: input length ${X.length} != ${tIn} x ${mels}`);
  const out = new Float64Array(tOut * mels);
  for (let r = 0; r < tOut; r++) {
    const { i0, t } = bicubicSource(r, tIn, tOut);
    const c = bicubicCoeffs(t, A);
    for (let k = 0; k < 4; k++) {
      const src = Math.min(tIn - 1, Math.max(0, i0 - 1 + k));
      for (let m = 0; m < mels; m++) out[r * mels + m] += c[k] * X[src * mels + m];
    }
  }
  return out;
}

/**
 * Fold R[T][mels] (time, mel) into the image [ratio*mels][T/ratio]: time is cut into `ratio` chunks of T/ratio
 * frames, each chunk transposed to (mel, time) and the chunks stacked vertically:
 *   image[c*mels + m][tau] = R[c*(T/ratio) + tau][m].   FLAM: T = 1024, mels = 64, ratio = 4 -> [256][256].
 */
export function foldToImage(R: ArrayLike<number>, T: number = FLAM_FRONTEND.targetFrames, mels: number = FLAM_FRONTEND.mels, ratio: number = FLAM_FRONTEND.freqRatio): Float64Array {
  if (R.length !== T * mels) throw new Error(`foldToImage: input length ${R.length} != ${T} x ${mels}`);
  if (T % ratio !== 0) throw new Error(`foldToImage: ${T} frames do not split into ${ratio} chunks`);
  const chunk = T / ratio;
  const img = new Float64Array(ratio * mels * chunk);
  for (let c = 0; c < ratio; c++) {
    for (let m = 0; m < mels; m++) {
      const row = (c * mels + m) * chunk;
      for (let tau = 0; tau < chunk; tau++) img[row + tau] = R[(c * chunk + tau) * mels + m];
    }
  }
  return img;
}

// ---------------------------------------------------------------------------------------------------------------
// Composed

export interface FrontendOptions {
  /** BatchNorm eval statistics; omitted = identity (the returned `normalized` equals `logMel`). */
  bn?: BatchNormStats;
  /** SpecAugment stripes for this example (training); omitted = none. */
  stripes?: FreqStripe[];
  /** Mel filterbank [513][64]; default slaneyMelFilterbank(). A checkpoint's melW can be passed instead. */
  filterbank?: ArrayLike<number>;
}

export interface FrontendResult {
  /** [1001][64] dB before BatchNorm. */
  logMel: Float64Array;
  /** [1001][64] after BatchNorm (and SpecAugment stripes when given). */
  normalized: Float64Array;
  /** [1024][64] after the bicubic time resize. */
  resized: Float64Array;
  /** [256][256] folded image, the encoder input. */
  image: Float64Array;
}

/** The whole frontend for one clip of exactly 480000 samples (cut/pad first: see windows.ts). */
export function flamFrontend(wave: ArrayLike<number>, opts: FrontendOptions = {}): FrontendResult {
  const { clipSamples, frames, targetFrames, mels } = FLAM_FRONTEND;
  if (wave.length !== clipSamples) {
    throw new Error(`flamFrontend: a clip must have exactly ${clipSamples} samples, got ${wave.length} (cut or zero-pad it first; the resize would otherwise stretch time)`);
  }
  const lm = logMel(wave, opts.filterbank);
  let normalized = opts.bn ? batchNormEval(lm, opts.bn) : Float64Array.from(lm);
  if (opts.stripes && opts.stripes.length) normalized = applyFreqStripes(normalized, opts.stripes);
  const resized = bicubicResizeTime(normalized, frames, targetFrames, mels);
  return { logMel: lm, normalized, resized, image: foldToImage(resized) };
}

export interface FrontendBatchOptions {
  bn?: BatchNormStats;
  filterbank?: ArrayLike<number>;
  /** When set, SpecAugment stripes are drawn with drawFreqStripes(batch, seed) (training). */
  specAugmentSeed?: number;
}

/** flamFrontend over a batch; SpecAugment stripes (when seeded) are drawn per example from one stream. */
export function flamFrontendBatch(waves: ArrayLike<number>[], opts: FrontendBatchOptions = {}): FrontendResult[] {
  const stripes = opts.specAugmentSeed === undefined ? null : drawFreqStripes(waves.length, opts.specAugmentSeed);
  return waves.map((w, b) => flamFrontend(w, { bn: opts.bn, filterbank: opts.filterbank, stripes: stripes ? stripes[b] : undefined }));
}
