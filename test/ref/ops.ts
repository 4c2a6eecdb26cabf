// float64 CPU references of every engine kernel, forward and backward (llm.c style: the kernel's first life).
// Arrays are row-major Float64Array with an explicit shape.

export type Arr = Float64Array;
export const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
export function strides(s: readonly number[]): number[] {
  const r = new Array(s.length); let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) { r[i] = acc; acc *= s[i]; }
  return r;
}

// ---- unary ----
function erf(x: number): number {
  // float64 erf: series for |x| < 2.5, continued fraction for the tail (|err| < 1e-15).
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = x, term = x; const x2 = x * x;
    for (let n = 1; n < 200; n++) { term *= -x2 / n; const t = term / (2 * n + 1); sum += t; if (Math.abs(t) < 1e-17 * Math.abs(sum)) break; }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz)
  let f = ax, C = ax, D = 0; const tiny = 1e-300;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    D = ax + an * D; D = D === 0 ? tiny : 1 / D;
    C = ax + an / C; if (C === 0) C = tiny;
    const delta = C * D; f *= delta; if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x >= 0 ? 1 - erfc : erfc - 1;
}
export { erf };
const sig = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export const unaryRef: Record<string, { f: (x: number, a: number, b: number) => number; d: (x: number, a: number, b: number) => number; domain?: [number, number] }> = {
  neg: { f: (x) => -x, d: () => -1 },
  exp: { f: Math.exp, d: Math.exp },
  log: { f: Math.log, d: (x) => 1 / x, domain: [0.1, 3] },
  sigmoid: { f: sig, d: (x) => sig(x) * (1 - sig(x)) },
  softplus: { f: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), d: sig },
  tanh: { f: Math.tanh, d: (x) => 1 - Math.tanh(x) ** 2 },
  relu: { f: (x) => Math.max(x, 0), d: (x) => (x > 0 ? 1 : 0) },
  gelu: { f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), d: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI) },
  square: { f: (x) => x * x, d: (x) => 2 * x },
  sqrt: { f: Math.sqrt, d: (x) => 0.5 / Math.sqrt(x), domain: [0.1, 3] },
  rsqrt: { f: (x) => 1 / Math.sqrt(x), d: (x) => -0.5 * x ** -1.5, domain: [0.1, 3] },
  abs: { f: Math.abs, d: Math.sign },
  affine: { f: (x, a, b) => x * a + b, d: (_x, a) => a },
};

// ---- binary with broadcasting ----
export function bshape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error('ref: not broadcastable');
    return da === 1 ? db : da;
  });
}
function bindex(shape: readonly number[], out: readonly number[]): (i: number) => number {
  const st = strides(shape), r = out.length, off = r - shape.length;
  const ost = strides(out);
  return (i) => {
    let j = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(i / ost[d]) % out[d];
      if (d >= off && shape[d - off] !== 1) j += c * st[d - off];
    }
    return j;
  };
}
const bin: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, max: Math.max, min: Math.min,
};
export function binaryRef(op: string, a: Arr, as: number[], b: Arr, bs: number[]): { y: Arr; shape: number[] } {
  const shape = bshape(as, bs); const n = size(shape);
  const ia = bindex(as, shape), ib = bindex(bs, shape);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = bin[op](a[ia(i)], b[ib(i)]);
  return { y, shape };
}
/** Backward of a broadcast binary op: (da, db) summed back to the input shapes. */
export function binaryBackRef(op: string, a: Arr, as: number[], b: Arr, bs: number[], dy: Arr): [Arr, Arr] {
  const shape = bshape(as, bs); const n = size(shape);
  const ia = bindex(as, shape), ib = bindex(bs, shape);
  const da = new Float64Array(a.length), db = new Float64Array(b.length);
  for (let i = 0; i < n; i++) {
    const x = a[ia(i)], z = b[ib(i)], g = dy[i];
    let ga = 0, gb = 0;
    switch (op) {
      case 'add': ga = g; gb = g; break;
      case 'sub': ga = g; gb = -g; break;
      case 'mul': ga = g * z; gb = g * x; break;
      case 'div': ga = g / z; gb = -g * x / (z * z); break;
      case 'max': ga = x >= z ? g : 0; gb = x >= z ? 0 : g; break;
      case 'min': ga = x <= z ? g : 0; gb = x <= z ? 0 : g; break;
    }
    da[ia(i)] += ga; db[ib(i)] += gb;
  }
  return [da, db];
}

// ---- reductions ----
export function split3(shape: readonly number[], axis: number): [number, number, number] {
  return [size(shape.slice(0, axis)), shape[axis], size(shape.slice(axis + 1))];
}
export function reduceRef(op: 'sum' | 'mean' | 'max', x: Arr, shape: number[], axis: number): Arr {
  const [O, R, I] = split3(shape, axis);
  const y = new Float64Array(O * I);
  for (let o = 0; o < O; o++) for (let j = 0; j < I; j++) {
    let acc = op === 'max' ? -Infinity : 0;
    for (let r = 0; r < R; r++) { const v = x[(o * R + r) * I + j]; acc = op === 'max' ? Math.max(acc, v) : acc + v; }
    y[o * I + j] = op === 'mean' ? acc / R : acc;
  }
  return y;
}
export function reduceBackRef(op: 'sum' | 'mean' | 'max', x: Arr, shape: number[], axis: number, dy: Arr): Arr {
  const [O, R, I] = split3(shape, axis);
  const dx = new Float64Array(x.length);
  for (let o = 0; o < O; o++) for (let j = 0; j < I; j++) {
    if (op === 'max') {
      let bi = 0;
      for (let r = 1; r < R; r++) if (x[(o * R + r) * I + j] > x[(o * R + bi) * I + j]) bi = r;
      dx[(o * R + bi) * I + j] = dy[o * I + j];
    } else for (let r = 0; r < R; r++) dx[(o * R + r) * I + j] = dy[o * I + j] / (op === 'mean' ? R : 1);
  }
  return dx;
}

// ---- softmax ----
export function softmaxRef(x: Arr, rows: number, N: number, mask?: Arr, map?: { ma: number; mb: number; mc: number }): Arr {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const mr = map ? ((Math.floor(r / map.ma) % map.mb) * map.mc + (r % map.mc)) : 0;
    let m = -Infinity;
    for (let c = 0; c < N; c++) m = Math.max(m, x[r * N + c] + (mask ? mask[mr * N + c] : 0));
    let s = 0;
    for (let c = 0; c < N; c++) { const e = Math.exp(x[r * N + c] + (mask ? mask[mr * N + c] : 0) - m); y[r * N + c] = e; s += e; }
    for (let c = 0; c < N; c++) y[r * N + c] /= s;
  }
  return y;
}
export function softmaxBackRef(y: Arr, dy: Arr, rows: number, N: number): Arr {
  const dx = new Float64Array(y.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < N; c++) s += dy[r * N + c] * y[r * N + c];
    for (let c = 0; c < N; c++) dx[r * N + c] = y[r * N + c] * (dy[r * N + c] - s);
  }
  return dx;
}

// ---- layer norm ----
export function layerNormRef(x: Arr, g: Arr, b: Arr, rows: number, C: number, eps: number): { y: Arr; mean: Arr; rstd: Arr } {
  const y = new Float64Array(x.length), mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0; for (let c = 0; c < C; c++) m += x[r * C + c]; m /= C;
    let v = 0; for (let c = 0; c < C; c++) v += (x[r * C + c] - m) ** 2; v /= C;
    const rs = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) y[r * C + c] = (x[r * C + c] - m) * rs * g[c] + b[c];
    mean[r] = m; rstd[r] = rs;
  }
  return { y, mean, rstd };
}
/** dx = rstd*(dn - mean(dn) - n*mean(dn*n)), dn = dy*gamma; dgamma = sum dy*n; dbeta = sum dy. */
export function layerNormBackRef(x: Arr, g: Arr, rows: number, C: number, eps: number, dy: Arr): [Arr, Arr, Arr] {
  const { mean, rstd } = layerNormRef(x, g, new Float64Array(C), rows, C, eps);
  const dx = new Float64Array(x.length), dg = new Float64Array(C), db = new Float64Array(C);
  for (let r = 0; r < rows; r++) {
    let s1 = 0, s2 = 0;
    for (let c = 0; c < C; c++) { const n = (x[r * C + c] - mean[r]) * rstd[r]; const dn = dy[r * C + c] * g[c]; s1 += dn; s2 += dn * n; dg[c] += dy[r * C + c] * n; db[c] += dy[r * C + c]; }
    for (let c = 0; c < C; c++) { const n = (x[r * C + c] - mean[r]) * rstd[r]; dx[r * C + c] = rstd[r] * (dy[r * C + c] * g[c] - s1 / C - n * s2 / C); }
  }
  return [dx, dg, db];
}

// ---- matmul ----
export interface MM { batch: number; M: number; N: number; K: number; transA: boolean; transB: boolean; bShared: boolean; alpha: number }
export function matmulRef(A: Arr, B: Arr, o: MM, bias?: Arr): Arr {
  const { batch, M, N, K, transA, transB, bShared, alpha } = o;
  const y = new Float64Array(batch * M * N);
  for (let b = 0; b < batch; b++) {
    const oa = b * M * K, ob = bShared ? 0 : b * K * N;
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += A[oa + (transA ? k * M + m : m * K + k)] * B[ob + (transB ? n * K + k : k * N + n)];
      y[(b * M + m) * N + n] = alpha * acc + (bias ? bias[n] : 0);
    }
  }
  return y;
}
export function matmulBackRef(A: Arr, B: Arr, o: MM, dy: Arr): [Arr, Arr, Arr] {
  const { batch, M, N, K, transA, transB, bShared, alpha } = o;
  const dA = new Float64Array(A.length), dB = new Float64Array(B.length), dbias = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    const oa = b * M * K, ob = bShared ? 0 : b * K * N;
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      const g = dy[(b * M + m) * N + n];
      dbias[n] += g;
      for (let k = 0; k < K; k++) {
        const ia = oa + (transA ? k * M + m : m * K + k), ib = ob + (transB ? n * K + k : k * N + n);
        dA[ia] += alpha * g * B[ib]; dB[ib] += alpha * g * A[ia];
      }
    }
  }
  return [dA, dB, dbias];
}

// ---- gather ----
export function gatherRef(table: Arr, idx: ArrayLike<number>, C: number): Arr {
  const y = new Float64Array(idx.length * C);
  for (let i = 0; i < idx.length; i++) for (let c = 0; c < C; c++) y[i * C + c] = table[idx[i] * C + c];
  return y;
}
export function scatterAddRef(dy: Arr, idx: ArrayLike<number>, V: number, C: number): Arr {
  const dt = new Float64Array(V * C);
  for (let i = 0; i < idx.length; i++) for (let c = 0; c < C; c++) dt[idx[i] * C + c] += dy[i * C + c];
  return dt;
}

// ---- copies ----
export function permuteRef(x: Arr, shape: number[], perm: number[]): Arr {
  const st = strides(shape), os = perm.map((p) => shape[p]), ost = strides(os);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let j = 0;
    for (let d = 0; d < os.length; d++) j += (Math.floor(i / ost[d]) % os[d]) * st[perm[d]];
    y[i] = x[j];
  }
  return y;
}
export function sliceRef(x: Arr, shape: number[], starts: number[], ends: number[], steps: number[]): { y: Arr; shape: number[] } {
  const st = strides(shape);
  const os = shape.map((_, d) => Math.ceil((ends[d] - starts[d]) / steps[d]));
  const ost = strides(os);
  const y = new Float64Array(size(os));
  for (let i = 0; i < y.length; i++) {
    let j = 0;
    for (let d = 0; d < os.length; d++) j += (starts[d] + (Math.floor(i / ost[d]) % os[d]) * steps[d]) * st[d];
    y[i] = x[j];
  }
  return { y, shape: os };
}
export function concatRef(xs: Arr[], shapes: number[][], axis: number): Arr {
  const [O] = split3(shapes[0], axis);
  const out: number[] = [];
  for (let o = 0; o < O; o++) for (let t = 0; t < xs.length; t++) {
    const [, R, I] = split3(shapes[t], axis);
    for (let k = 0; k < R * I; k++) out.push(xs[t][o * R * I + k]);
  }
  return Float64Array.from(out);
}

// ---- AdamW ----
export function adamwRef(p: Arr, g: Arr, m: Arr, v: Arr, h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }, t: number): void {
  const bc1 = 1 - h.beta1 ** t, bc2 = 1 - h.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    p[i] -= h.lr * ((m[i] / bc1) / (Math.sqrt(v[i] / bc2) + h.eps) + h.weightDecay * p[i]);
  }
}

// ---- finite differences ----
/**
 * Central finite differences of L(x) = sum(f(x) * dy) with respect to every input, in float64.
 * Returns one gradient per input.
 */
export function finiteDiff(f: (xs: Arr[]) => Arr, xs: Arr[], dy: Arr, h = 1e-6): Arr[] {
  return xs.map((x, k) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + h; const yp = f(xs);
      x[i] = keep - h; const ym = f(xs);
      x[i] = keep;
      let s = 0;
      for (let j = 0; j < dy.length; j++) s += (yp[j] - ym[j]) * dy[j];
      g[i] = s / (2 * h);
    }
    void k;
    return g;
  });
}
