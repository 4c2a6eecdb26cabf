// Launchers of the mel frontend kernels (kernels/mel.wgsl.ts): buffers and shapes in, validated, dispatched.
// The float64 tables they need (FFT constants, sparse filterbank, bicubic taps, BatchNorm scale) are built by the
// caller (src/audio/frontend.ts) or by the helpers here; nothing here imports the audio layer.
import { melPower, melLogmel, melDb, melImage, melFftConstants, sparseFilterbank, MEL_BINS, MEL_HOP, MEL_PAD } from '../../kernels/mel.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding, fail } from './common.ts';

export { sparseFilterbank, MEL_BINS };

const constants = new WeakMap<Runtime, GPUBuffer>();

/** The FFT constant table (window, twiddles) on this runtime, uploaded once. */
export function melConstants(rt: Runtime): GPUBuffer {
  let b = constants.get(rt);
  if (!b) {
    const c = melFftConstants();
    b = rt.alloc(c.byteLength, 'mel-constants');
    rt.upload(b, c);
    constants.set(rt, b);
  }
  return b;
}

export interface FrameArgs {
  /** Clips. */
  B: number;
  /** Samples per clip (> 512: reflect padding needs more samples than the pad). */
  n: number;
  /** Elements between clip starts in the wave buffer; a multiple of 4, >= n. Default n (n % 4 == 0). */
  stride?: number;
}

/** STFT frames of n samples: floor(n / 480) + 1 (1001 for 480000). */
export function melFrames(n: number): number { return Math.floor(n / MEL_HOP) + 1; }

function frameParams(rt: Runtime, op: string, a: FrameArgs) {
  const { B, n } = a;
  const stride = a.stride ?? n;
  if (!Number.isInteger(B) || B < 0) fail(op, `B = ${B} is not a non-negative integer`);
  if (!Number.isInteger(n) || n <= MEL_PAD) fail(op, `clips of ${n} samples: reflect padding by ${MEL_PAD} needs more than ${MEL_PAD} samples`);
  if (!Number.isInteger(stride) || stride % 4 !== 0 || stride < n) fail(op, `clip stride ${stride} must be a multiple of 4 and >= n = ${n} (the kernel reads vec4s)`);
  checkBinding(rt, op, `wave (${B} clips x stride ${stride})`, B * stride);
  return { B, n, stride4: stride / 4, T: melFrames(n) };
}

/**
 * Power spectrogram P[b, t, k] = |FFT1024(hann * frame t of the reflect-padded clip b)|^2, k < 513, into `out`
 * [B, T, rowStride] (rowStride a multiple of 4, >= 513; bins past 512 are written as 0). One workgroup per frame.
 */
export function melPowerOp(rt: Runtime, wave: Binding, out: Binding, a: FrameArgs & { rowStride?: number }): void {
  const pr = frameParams(rt, 'mel_power', a);
  const rowStride = a.rowStride ?? 516;
  if (rowStride % 4 !== 0 || rowStride < MEL_BINS) fail('mel_power', `rowStride ${rowStride} must be a multiple of 4 and >= ${MEL_BINS}`);
  if (pr.B === 0) return;
  checkBinding(rt, 'mel_power', `out (${pr.B} x ${pr.T} x ${rowStride})`, pr.B * pr.T * rowStride);
  rt.dispatch(melPower.get({}), [wave, melConstants(rt), out], { ...pr, rowStride4: rowStride / 4 }, pr.B * pr.T);
}

/** A filterbank in the sparse form mel_logmel reads, on the GPU. */
export interface GpuFilterbank { mi: GPUBuffer; mw: GPUBuffer; mels: number; nnz: number }

/** Uploads a [513][mels] filterbank (bin-major, mel = P @ W) in sparse form. Release with releaseFilterbank. */
export function uploadFilterbank(rt: Runtime, W: ArrayLike<number>, mels: number): GpuFilterbank {
  const s = sparseFilterbank(W, mels);
  const mi = rt.alloc(s.mi.byteLength, 'mel-fb-index'), mw = rt.alloc(s.mw.byteLength, 'mel-fb-weights');
  rt.upload(mi, s.mi); rt.upload(mw, s.mw);
  return { mi, mw, mels, nnz: s.nnz };
}

export function releaseFilterbank(rt: Runtime, fb: GpuFilterbank): void { rt.release(fb.mi); rt.release(fb.mw); }

/**
 * Fused log-mel X[b, t, m] = 10 log10(max(sum_k P[b, t, k] W[k, m], 1e-10)) into `out` [B, T, mels]: FFT,
 * power, the sparse projection and the log in one kernel, one workgroup per frame.
 */
export function melLogmelOp(rt: Runtime, wave: Binding, out: Binding, fb: GpuFilterbank, a: FrameArgs): void {
  const pr = frameParams(rt, 'mel_logmel', a);
  if (pr.B === 0) return;
  checkBinding(rt, 'mel_logmel', `out (${pr.B} x ${pr.T} x ${fb.mels})`, pr.B * pr.T * fb.mels);
  rt.dispatch(melLogmel.get({}), [wave, melConstants(rt), fb.mi, fb.mw, out], { ...pr, M: fb.mels }, pr.B * pr.T);
}

/** y = 10 log10(max(x, 1e-10)) over n elements (n a multiple of 4); -100 dB exactly for digital silence. */
export function melDbOp(rt: Runtime, x: Binding, y: Binding, n: number): void {
  if (n % 4 !== 0) fail('mel_db', `n = ${n} is not a multiple of 4`);
  if (n === 0) return;
  checkBinding(rt, 'mel_db', 'x', n);
  rt.dispatch(melDb.get({}), [x, y], { n4: n / 4 }, groups(n / 4, 64));
}

export interface ImageArgs {
  B: number;
  /** Input frames (1001). */
  T: number;
  /** Mel bins (64; a multiple of 4). */
  M: number;
  /** Resized frames (1024). */
  R: number;
  /** Chunks stacked in the fold (4): image [B, ratio*M, R/ratio]. */
  ratio: number;
  /** SpecAugment stripes per clip in `stripes` (0 = none). */
  S: number;
}

/**
 * image[b, c*M + m, tau] = sum_k taps[r].c_k * Y[b, clamp(i0 - 1 + k), m] (r = c*R/ratio + tau), with
 * Y = (X - mean) * scale + bias per mel bin and the SpecAugment stripes of clip b zeroed.
 * x [B, T, M]; bn [3, M] = (mean, scale, bias) with scale = weight / sqrt(var + eps) computed in float64;
 * taps [R, 5] = (i0, c_-1, c_0, c_1, c_2) (float64 bicubic weights rounded to f32); stripes u32 [B, S, 2] =
 * (start, width) (any buffer when S = 0); img [B, ratio*M, R/ratio].
 */
export function melImageOp(rt: Runtime, x: Binding, bn: Binding, taps: Binding, stripes: Binding, img: Binding, a: ImageArgs): void {
  const { B, T, M, R, ratio, S } = a;
  for (const [k, v] of Object.entries(a)) if (!Number.isInteger(v) || v < 0) fail('mel_image', `${k} = ${v} is not a non-negative integer`);
  if (M % 4 !== 0 || M === 0) fail('mel_image', `M = ${M} mel bins must be a positive multiple of 4`);
  if (ratio === 0 || R % ratio !== 0) fail('mel_image', `${R} resized frames do not split into ${ratio} chunks`);
  if (T === 0 || R === 0) fail('mel_image', `empty time axis (T = ${T}, R = ${R})`);
  if (B === 0) return;
  checkBinding(rt, 'mel_image', `x (${B} x ${T} x ${M})`, B * T * M);
  checkBinding(rt, 'mel_image', `img (${B} x ${ratio * M} x ${R / ratio})`, B * R * M);
  const n = B * R * (M / 4);
  rt.dispatch(melImage.get({ WG: 64 }), [x, bn, taps, stripes, img], { B, T, M4: M / 4, R, Q: R / ratio, S }, groups(n, 64));
}
