// The FLAM audio frontend on the GPU (spec §2, §2.1): waves [B, 480000] at 48 kHz -> log-mel [B, 1001, 64]
// (before BatchNorm) and/or the encoder's input image [B, 256, 256] (BatchNorm in eval form, SpecAugment stripes
// in training, bicubic time resize 1001 -> 1024, fold). Kernels in kernels/mel.wgsl.ts, float64 reference in
// mel_ref.ts (same stripes, same filterbank, same taps). Browser-safe.
//
// The frontend has no trainable parameters except BatchNorm's (bn0 weight/bias, running mean/var). BatchNorm is
// applied in its eval form (running statistics) in training mode too: batch statistics and the running-stat update
// (momentum 0.1) are not implemented yet.
import type { Runtime } from '../gpu/runtime.ts';
import { Tensor, empty, tensor } from '../tensor/tensor.ts';
import { melFrames, melImageOp, melLogmelOp, melPowerOp, melDbOp, uploadFilterbank, releaseFilterbank, type GpuFilterbank } from '../ops/mel.ts';
import { matmulOp } from '../ops/matmul.ts';
import { FLAM_FRONTEND, bicubicCoeffs, bicubicSource, drawFreqStripes, slaneyMelFilterbank, type BatchNormStats, type FreqStripe } from './mel_ref.ts';

export interface MelFrontendOptions {
  /** What to return: the log-mel before BatchNorm, the folded image, or both (default 'image'). */
  output?: 'logmel' | 'image' | 'both';
  /** BatchNorm eval statistics (bn0); default identity (mean 0, var 1 - eps, weight 1, bias 0). */
  bn?: BatchNormStats;
  /** Training mode: SpecAugment frequency stripes (2 per clip, width < 8) zeroed after BatchNorm. */
  training?: boolean;
  /** Seed of drawFreqStripes(B, seed) in training mode (default 0). */
  seed?: number;
  /** Explicit stripes per clip (training mode), instead of drawing them. */
  stripes?: FreqStripe[][];
  /**
   * 'fused' (default): FFT, power, sparse mel and log in one kernel. 'matmul': power spectrum to memory, then the
   * dense projection P @ melW with the matmul launcher and mel_db (for filterbanks that are not sparse).
   */
  mel?: 'fused' | 'matmul';
}

export interface MelFrontendResult {
  /** [B, 1001, 64] dB before BatchNorm (when output is 'logmel' or 'both'). */
  logmel?: Tensor;
  /** [B, 256, 256] encoder input (when output is 'image' or 'both'). */
  image?: Tensor;
  /** The SpecAugment stripes used (training mode). */
  stripes?: FreqStripe[][];
}

const { clipSamples, frames, targetFrames, mels: MELS, freqRatio, bnEps } = FLAM_FRONTEND;

/** BatchNorm eval statistics that leave the log-mel unchanged (scale 1, shift 0). */
export function identityBatchNorm(mels: number = MELS): BatchNormStats {
  return { mean: new Float64Array(mels), var: new Float64Array(mels).fill(1 - bnEps), weight: new Float64Array(mels).fill(1), bias: new Float64Array(mels), eps: bnEps };
}

/** (mean, scale, bias) rows for mel_image, scale = weight / sqrt(var + eps) in float64. */
export function batchNormRows(bn: BatchNormStats, mels: number = MELS): Float32Array {
  const out = new Float32Array(3 * mels);
  const eps = bn.eps ?? bnEps;
  for (const k of ['mean', 'var', 'weight', 'bias'] as const) {
    if (bn[k].length !== mels) throw new Error(`melFrontend: BatchNorm ${k} has ${bn[k].length} entries, want ${mels}`);
  }
  for (let m = 0; m < mels; m++) {
    const v = Number(bn.var[m]);
    if (!(v + eps > 0) || !Number.isFinite(v)) throw new Error(`melFrontend: BatchNorm running_var[${m}] = ${v} (+ eps ${eps}) is not positive`);
    out[m] = bn.mean[m];
    out[mels + m] = Number(bn.weight[m]) / Math.sqrt(v + eps);
    out[2 * mels + m] = bn.bias[m];
  }
  return out;
}

/** Bicubic taps of the time resize tIn -> tOut: [tOut][5] = (i0, c_-1, c_0, c_1, c_2), float64 rounded to f32. */
export function bicubicTaps(tIn: number, tOut: number): Float32Array {
  const out = new Float32Array(tOut * 5);
  for (let r = 0; r < tOut; r++) {
    const { i0, t } = bicubicSource(r, tIn, tOut);
    const c = bicubicCoeffs(t);
    out[r * 5] = i0;
    for (let k = 0; k < 4; k++) out[r * 5 + 1 + k] = c[k];
  }
  return out;
}

/**
 * GPU state of the frontend on one runtime: FFT constants (in src/ops/mel.ts), the filterbank (sparse for the
 * fused kernel, dense [516, 64] for the matmul path) and the bicubic taps. Reuse one per runtime and filterbank.
 */
export class MelFrontend {
  readonly fb: GpuFilterbank;
  private dense: GPUBuffer | null = null;
  private taps: GPUBuffer;
  private zero: GPUBuffer;
  private W: Float64Array | Float32Array;

  /** `filterbank`: [513][64] bin-major (mel = P @ W), e.g. a checkpoint's melW; default the float64 Slaney bank. */
  constructor(readonly rt: Runtime, filterbank?: ArrayLike<number>) {
    this.W = filterbank ? Float32Array.from(filterbank as ArrayLike<number>) : slaneyMelFilterbank();
    if (this.W.length !== 513 * MELS) throw new Error(`MelFrontend: filterbank has ${this.W.length} entries, want 513 x ${MELS} (melW layout [513, 64])`);
    for (const v of this.W) if (!Number.isFinite(v)) throw new Error('MelFrontend: filterbank holds NaN or Inf');
    this.fb = uploadFilterbank(rt, this.W, MELS);
    const taps = bicubicTaps(frames, targetFrames);
    this.taps = rt.alloc(taps.byteLength, 'mel-taps');
    rt.upload(this.taps, taps);
    this.zero = rt.alloc(16, 'mel-no-stripes');
    rt.upload(this.zero, new Uint32Array(4));
  }

  private denseBank(): GPUBuffer {
    if (!this.dense) {
      const d = new Float32Array(516 * MELS);
      d.set(Float32Array.from(this.W));
      this.dense = this.rt.alloc(d.byteLength, 'mel-fb-dense');
      this.rt.upload(this.dense, d);
    }
    return this.dense;
  }

  /**
   * Runs the frontend on a batch. `waves`: Float32Arrays of exactly 480000 samples (48 kHz mono; cut or zero-pad
   * first, see windows.ts), or a Tensor [B, 480000]. Records GPU work and returns tensors (await .data()).
   */
  run(waves: Float32Array[] | Tensor, opts: MelFrontendOptions = {}): MelFrontendResult {
    const rt = this.rt;
    const output = opts.output ?? 'image';
    let B: number, wave: Tensor, own = false;
    if (waves instanceof Tensor) {
      if (waves.rank !== 2 || waves.shape[1] !== clipSamples || waves.dtype !== 'f32') {
        throw new Error(`melFrontend: waves must be an f32 Tensor [B, ${clipSamples}], got ${waves.dtype} [${waves.shape.join(', ')}] (cut or zero-pad clips to exactly 10 s at 48 kHz)`);
      }
      B = waves.shape[0]; wave = waves;
    } else {
      B = waves.length;
      const flat = new Float32Array(B * clipSamples);
      waves.forEach((w, b) => {
        if (w.length !== clipSamples) throw new Error(`melFrontend: clip ${b} has ${w.length} samples, want exactly ${clipSamples} (cut or zero-pad it first with cutWindows; the resize would otherwise stretch time)`);
        flat.set(w, b * clipSamples);
      });
      wave = tensor(rt, flat, [B, clipSamples]); own = true;
    }
    let stripes: FreqStripe[][] | undefined;
    if (opts.training) {
      stripes = opts.stripes ?? drawFreqStripes(B, opts.seed ?? 0);
      if (stripes.length !== B) throw new Error(`melFrontend: ${stripes.length} stripe lists for ${B} clips`);
    }
    const logmel = empty(rt, [B, frames, MELS], 'f32', 'logmel');
    try {
      if ((opts.mel ?? 'fused') === 'fused') {
        melLogmelOp(rt, wave.binding('melFrontend'), logmel.binding(), this.fb, { B, n: clipSamples });
      } else {
        const P = rt.alloc(B * frames * 516 * 4, 'mel-power'), S = rt.alloc(B * frames * MELS * 4, 'mel-linear');
        melPowerOp(rt, wave.binding('melFrontend'), P, { B, n: clipSamples, rowStride: 516 });
        matmulOp(rt, P, this.denseBank(), S, { batch: 1, M: B * frames, N: MELS, K: 516 });
        melDbOp(rt, S, logmel.binding(), B * frames * MELS);
        rt.release(P); rt.release(S);
      }
      const res: MelFrontendResult = { stripes };
      if (output !== 'logmel') {
        const image = empty(rt, [B, freqRatio * MELS, targetFrames / freqRatio], 'f32', 'mel-image');
        const bn = rt.alloc(3 * MELS * 4, 'mel-bn');
        rt.upload(bn, batchNormRows(opts.bn ?? identityBatchNorm()));
        let S = 0, sb = this.zero;
        if (stripes) {
          S = Math.max(0, ...stripes.map((s) => s.length));
          const flat = new Uint32Array(Math.max(4, B * S * 2));
          stripes.forEach((ex, b) => ex.forEach(({ start, width }, s) => {
            if (!(Number.isInteger(start) && Number.isInteger(width) && start >= 0 && width >= 0 && start + width <= MELS)) throw new Error(`melFrontend: stripe [${start}, ${start + width}) of clip ${b} outside 0..${MELS}`);
            flat[(b * S + s) * 2] = start; flat[(b * S + s) * 2 + 1] = width;
          }));
          if (S > 0) { sb = rt.alloc(flat.byteLength, 'mel-stripes'); rt.upload(sb, flat); }
        }
        melImageOp(rt, logmel.binding(), bn, this.taps, sb, image.binding(), { B, T: frames, M: MELS, R: targetFrames, ratio: freqRatio, S });
        rt.release(bn);
        if (sb !== this.zero) rt.release(sb);
        res.image = image;
      }
      if (output === 'image') logmel.dispose(); else res.logmel = logmel;
      return res;
    } catch (e) {
      logmel.dispose();
      throw e;
    } finally {
      if (own) wave.dispose();
    }
  }

  dispose(): void {
    releaseFilterbank(this.rt, this.fb);
    this.rt.release(this.taps); this.rt.release(this.zero);
    if (this.dense) this.rt.release(this.dense);
  }
}

const defaults = new WeakMap<Runtime, MelFrontend>();

/**
 * The FLAM frontend with the float64 Slaney filterbank (one cached MelFrontend per runtime):
 * waves [B][480000] or Tensor [B, 480000] -> { logmel [B, 1001, 64], image [B, 256, 256], stripes }.
 */
export function melFrontend(rt: Runtime, waves: Float32Array[] | Tensor, opts: MelFrontendOptions = {}): MelFrontendResult {
  let f = defaults.get(rt);
  if (!f) { f = new MelFrontend(rt); defaults.set(rt, f); }
  return f.run(waves, opts);
}

export { melFrames };
