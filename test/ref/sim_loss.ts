// float64 references of the sim_loss family (spec §6, §7): L_SED with compact labels decoded to a dense q[A, K, L]
// independently of the GPU packing, its analytic backward (§7.5), the prior loss, the CLIP InfoNCE loss, and the
// inference maps with the 3-tap median. Plain loops, no tiling: the kernels' first life.
import type { Arr } from './ops.ts';

export interface RefLabels {
  A: number; K: number; L: number;
  positives: readonly (readonly [number, number, number])[];
  audioMask?: readonly (number | boolean)[];
  textMask?: readonly (number | boolean)[];
}

const sig = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const logsig = (x: number) => -softplus(-x);

/** Dense q[i][k][l] in {0, 1} (duplicate pairs OR-ed), masks as 0/1. */
export function denseLabels(lb: RefLabels): { q: Uint8Array; ma: Float64Array; mt: Float64Array } {
  const { A, K, L } = lb;
  const q = new Uint8Array(A * K * L);
  for (const [i, k, m] of lb.positives) for (let l = 0; l < L; l++) if ((m >>> l) & 1) q[(i * K + k) * L + l] = 1;
  const ma = Float64Array.from({ length: A }, (_, i) => (lb.audioMask ? Number(lb.audioMask[i]) : 1));
  const mt = Float64Array.from({ length: K }, (_, k) => (lb.textMask ? Number(lb.textMask[k]) : 1));
  return { q, ma, mt };
}

/**
 * weight * sum_ikl M_ik softplus(-y h) / (sum M) / L with h = alpha_k <a_il, t_k> + beta_k; a [A, L, D], t [K, D].
 * Returns the loss and its analytic gradients (dbeta = the gradient beta would get if it were not detached).
 */
export function sedLossRef(a: Arr, t: Arr, alpha: Arr, beta: Arr, lb: RefLabels, D: number, weight = 1):
  { loss: number; da: Arr; dt: Arr; dalpha: Arr; dbeta: Arr } {
  const { A, K, L } = lb;
  const { q, ma, mt } = denseLabels(lb);
  let sumM = 0;
  for (let i = 0; i < A; i++) for (let k = 0; k < K; k++) sumM += ma[i] * mt[k];
  const da = new Float64Array(A * L * D), dt = new Float64Array(K * D), dalpha = new Float64Array(K), dbeta = new Float64Array(K);
  let loss = 0;
  for (let i = 0; i < A; i++) for (let k = 0; k < K; k++) {
    const w = weight * ma[i] * mt[k] / sumM / L;
    if (w === 0) continue;
    for (let l = 0; l < L; l++) {
      let c = 0;
      for (let d = 0; d < D; d++) c += a[(i * L + l) * D + d] * t[k * D + d];
      const h = alpha[k] * c + beta[k];
      const qq = q[(i * K + k) * L + l], y = 2 * qq - 1;
      loss += w * softplus(-y * h);
      const g = w * (sig(h) - qq);
      for (let d = 0; d < D; d++) {
        da[(i * L + l) * D + d] += g * alpha[k] * t[k * D + d];
        dt[k * D + d] += g * alpha[k] * a[(i * L + l) * D + d];
      }
      dalpha[k] += g * c;
      dbeta[k] += g;
    }
  }
  return { loss, da, dt, dalpha, dbeta };
}

/** Prior loss: weight * sum_k m^t_k (softplus(b_k) - r_k b_k) / sum m^t, r_k = P_k / (sum m^a * L); and dbeta. */
export function priorLossRef(beta: Arr, lb: RefLabels, weight = 1): { loss: number; dbeta: Arr; r: Arr } {
  const { A, K, L } = lb;
  const { q, ma, mt } = denseLabels(lb);
  let nA = 0, nT = 0;
  for (let i = 0; i < A; i++) nA += ma[i];
  for (let k = 0; k < K; k++) nT += mt[k];
  const r = new Float64Array(K), dbeta = new Float64Array(K);
  let loss = 0;
  for (let k = 0; k < K; k++) {
    let P = 0;
    for (let i = 0; i < A; i++) for (let l = 0; l < L; l++) P += q[(i * K + k) * L + l];
    r[k] = P / (nA * L);
    loss += weight * mt[k] * (softplus(beta[k]) - r[k] * beta[k]) / nT;
    dbeta[k] = weight * mt[k] * (sig(beta[k]) - r[k]) / nT;
  }
  return { loss, dbeta, r };
}

/** CLIP: Z = exp(s) A T^T; L = weight (CE(Z) + CE(Z^T)) / 2; gradients for A [N, D], T [N, D] and s. */
export function clipLossRef(A: Arr, T: Arr, s: number, N: number, D: number, weight = 1): { loss: number; dA: Arr; dT: Arr; ds: number } {
  const tau = Math.exp(s);
  const C = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) { let c = 0; for (let d = 0; d < D; d++) c += A[i * D + d] * T[j * D + d]; C[i * N + j] = c; }
  const Z = C.map((c) => tau * c);
  const lseR = new Float64Array(N), lseC = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let m = -Infinity; for (let j = 0; j < N; j++) m = Math.max(m, Z[i * N + j]);
    let t = 0; for (let j = 0; j < N; j++) t += Math.exp(Z[i * N + j] - m);
    lseR[i] = m + Math.log(t);
    let mc = -Infinity; for (let j = 0; j < N; j++) mc = Math.max(mc, Z[j * N + i]);
    let tc = 0; for (let j = 0; j < N; j++) tc += Math.exp(Z[j * N + i] - mc);
    lseC[i] = mc + Math.log(tc);
  }
  let loss = 0;
  for (let i = 0; i < N; i++) loss += (lseR[i] - Z[i * N + i] + lseC[i] - Z[i * N + i]);
  loss *= weight / (2 * N);
  const G = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
    G[i * N + j] = weight * (Math.exp(Z[i * N + j] - lseR[i]) + Math.exp(Z[i * N + j] - lseC[j]) - (i === j ? 2 : 0)) / (2 * N);
  }
  const dA = new Float64Array(N * D), dT = new Float64Array(N * D);
  let ds = 0;
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
    const g = G[i * N + j];
    ds += g * Z[i * N + j];
    for (let d = 0; d < D; d++) { dA[i * D + d] += tau * g * T[j * D + d]; dT[j * D + d] += tau * g * A[i * D + d]; }
  }
  return { loss, dA, dT, ds };
}

/** Scipy median_filter(size 3, mode 'reflect') along the last axis of rows x L. */
export function median3Ref(x: ArrayLike<number>, rows: number, L: number): Float64Array {
  const out = new Float64Array(rows * L);
  for (let r = 0; r < rows; r++) for (let l = 0; l < L; l++) {
    const g = (j: number) => x[r * L + Math.min(Math.max(j, 0), L - 1)];   // reflect: d c b a | a b c d | d c b a
    out[r * L + l] = [g(l - 1), g(l), g(l + 1)].sort((p, q) => p - q)[1];
  }
  return out;
}

export interface MapRefOptions { method: 'unbiased' | 'approximate'; cross: boolean; median: boolean; renorm: boolean }

/**
 * Inference map in float64: unbiased s = sigma(h) / (sigma(h) + sigma(beta)) evaluated as
 * 1 / (1 + exp(logsig(beta) - logsig(h))) (the same ratio without underflow), approximate s = sigma(alpha cos).
 * a [B, L, D], t [N, D]; cross -> [B, N, L], paired -> [B, L].
 */
export function flamgramRef(a: Arr, t: Arr, alpha: Arr, beta: Arr, B: number, N: number, L: number, D: number, o: MapRefOptions): Float64Array {
  const norm = (x: Arr, off: number) => { let s = 0; for (let d = 0; d < D; d++) s += x[off + d] ** 2; return Math.max(Math.sqrt(s), 1e-12); };
  const pairs: [number, number][] = [];
  if (o.cross) { for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) pairs.push([b, n]); }
  else for (let b = 0; b < B; b++) pairs.push([b, b]);
  const out = new Float64Array(pairs.length * L);
  pairs.forEach(([b, n], p) => {
    for (let l = 0; l < L; l++) {
      let c = 0;
      for (let d = 0; d < D; d++) c += a[(b * L + l) * D + d] * t[n * D + d];
      if (o.renorm) c /= norm(a, (b * L + l) * D) * norm(t, n * D);
      out[p * L + l] = o.method === 'unbiased'
        ? 1 / (1 + Math.exp(logsig(beta[n]) - logsig(alpha[n] * c + beta[n])))
        : sig(alpha[n] * c);
    }
  });
  return o.median ? median3Ref(out, pairs.length, L) : out;
}

export { sig as sigmoidRef, softplus as softplusRef };
