// The FLAM log-mel on the CPU in plain JavaScript (float32/float64 mix, fft.js real FFT): the baseline the GPU
// frontend is benchmarked against (bench/mel.bench.ts), with the same framing (reflect pad 512, periodic Hann,
// hop 480) and the same sparse Slaney projection. Not the reference (that is mel_ref.ts, float64 throughout).
import FFT from 'fft.js';
import { FLAM_FRONTEND, hannPeriodic, numFrames, slaneyMelFilterbank } from './mel_ref.ts';

/** A reusable CPU log-mel: X[T][64] = 10 log10(max(P @ W, 1e-10)) of one 48 kHz mono clip. */
export class MelCpu {
  private fft = new FFT(1024);
  private win = Float32Array.from(hannPeriodic(1024));
  private frame = new Float64Array(1024);
  private spec: number[];
  private first: Int32Array;
  private weights: Float64Array[];

  constructor(W: ArrayLike<number> = slaneyMelFilterbank()) {
    const M = FLAM_FRONTEND.mels;
    this.spec = this.fft.createComplexArray();
    this.first = new Int32Array(M);
    this.weights = [];
    for (let m = 0; m < M; m++) {
      let a = -1, b = -1;
      for (let k = 0; k < 513; k++) if (W[k * M + m] !== 0) { if (a < 0) a = k; b = k; }
      this.first[m] = Math.max(0, a);
      this.weights.push(a < 0 ? new Float64Array(0) : Float64Array.from({ length: b - a + 1 }, (_, i) => W[(a + i) * M + m]));
    }
  }

  run(x: Float32Array): Float32Array {
    const n = x.length, T = numFrames(n), M = FLAM_FRONTEND.mels;
    if (n <= 512) throw new Error(`MelCpu: ${n} samples; reflect padding needs more than 512`);
    const out = new Float32Array(T * M);
    const P = new Float64Array(513);
    const fr = this.frame, w = this.win, sp = this.spec;
    for (let t = 0; t < T; t++) {
      const j0 = t * 480 - 512;
      if (j0 >= 0 && j0 + 1024 <= n) for (let i = 0; i < 1024; i++) fr[i] = x[j0 + i] * w[i];
      else for (let i = 0; i < 1024; i++) { let k = Math.abs(j0 + i); if (k >= n) k = 2 * (n - 1) - k; fr[i] = x[k] * w[i]; }
      this.fft.realTransform(sp, fr);
      for (let k = 0; k <= 512; k++) P[k] = sp[2 * k] * sp[2 * k] + sp[2 * k + 1] * sp[2 * k + 1];
      for (let m = 0; m < M; m++) {
        const ws = this.weights[m], a = this.first[m];
        let s = 0;
        for (let i = 0; i < ws.length; i++) s += P[a + i] * ws[i];
        out[t * M + m] = s > 1e-10 ? 10 * Math.log10(s) : -100;
      }
    }
    return out;
  }
}
