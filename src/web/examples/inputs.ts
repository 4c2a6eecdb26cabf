// Deterministic inputs of the kernels example (kernels.ts), shared with its test so the test can compute the
// float64 references of exactly what the page ran.

/** 10 s at 48 kHz: a log chirp 100 Hz -> 8 kHz at 0.3 amplitude plus a 1 kHz burst in 4-6 s. */
export function exampleWave(): Float32Array {
  const sr = 48000, n = 480000, f0 = 100, f1 = 8000, T = 10;
  const k = Math.log(f1 / f0) / T;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    x[i] = 0.3 * Math.sin((2 * Math.PI * f0 * (Math.exp(k * t) - 1)) / k) + (t >= 4 && t < 6 ? 0.2 * Math.sin(2 * Math.PI * 1000 * t) : 0);
  }
  return x;
}

/** Inputs of the chunked frame-text loss: a [A, L, D] and t [K, D] unit rows, alpha [K], beta [K], positives. */
export function exampleLossInputs() {
  const A = 3, L = 32, D = 24, K = 5;
  let s = 2463534242;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32 - 0.5; };
  const unitRows = (rows: number) => {
    const x = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) {
      let nn = 0;
      for (let d = 0; d < D; d++) { x[r * D + d] = rnd(); nn += x[r * D + d] ** 2; }
      for (let d = 0; d < D; d++) x[r * D + d] /= Math.sqrt(nn);
    }
    return x;
  };
  const a = unitRows(A * L), t = unitRows(K);
  const alpha = Float32Array.from({ length: K }, (_, k) => 5 + 2 * k);
  const beta = Float32Array.from({ length: K }, (_, k) => -3 - 0.5 * k);
  // text k is present in audio k % A on frames [4k, 4k + 10)
  const positives: [number, number, number][] = [];
  for (let k = 0; k < K; k++) positives.push([k % A, k, ((1 << 10) - 1) << (4 * k) >>> 0]);
  return { A, L, D, K, a, t, alpha, beta, positives };
}
