// The FLAM audio frontend on the GPU (spec §2, §2.1), batched over clips. Legend: B clips, n samples per clip,
// T frames (floor(n/480) + 1 = 1001 for 480000), F = 513 FFT bins, M = 64 mel bins, R = 1024 resized frames.
//
// Entries (launchers in src/ops/mel.ts, float64 reference in src/audio/mel_ref.ts):
//   mel_power   wave [B, n] -> P [B, T, rowStride]   reflect pad 512 + periodic Hann + FFT 1024 + |X|^2
//   mel_logmel  wave [B, n] -> X [B, T, M]           the same fused with the sparse Slaney projection and
//                                                    10 log10(max(., 1e-10))
//   mel_db      S [n] -> 10 log10(max(S, 1e-10))      for the unfused path (P @ melW through the matmul launcher)
//   mel_image   X [B, T, M] -> image [B, 256, 256]   BatchNorm (eval affine) + SpecAugment stripes + bicubic time
//                                                    resize T -> 1024 (align_corners, A = -0.75) + fold
//
// FFT design: one 64-invocation workgroup per frame. The 1024 windowed real samples are packed as 512 complex
// values z[m] = x[2m] + i x[2m+1] and transformed by a radix-8 Stockham FFT (3 stages; each invocation owns one
// 8-point butterfly per stage, in registers; stages exchange through workgroup memory, ping-pong, natural order
// out), then the two real spectra are split apart: with E = Z[k] + conj(Z[512-k]) and O = -i (Z[k] - conj(Z[512-k])),
// 2 X[k] = E + W^k O and 2 X[512-k] = conj(E - W^k O), W = e^{-2 pi i / 1024}. Window values and all twiddles are
// float64-computed tables (`cst`), never recurrences or in-shader sin/cos.
// Why not one invocation per frame with the whole FFT in registers (the lavapipe-friendly shape): measured on
// lavapipe, the fully unrolled 1024-point FFT runs ~3x faster than this design but takes ~7 minutes to compile
// (LLVM on ~25k straight-line lines; loops over private arrays become if-ladders there, and a stage loop with 1024
// loop-carried registers compiled for over 10 minutes). A first `flam mel` may not wait minutes for a compile.
// Frames whose window needs reflection (first and last two of a clip) load per sample; the branch depends on the
// workgroup id only, so it is uniform.
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/** Frontend constants the kernels are built for (FLAM v1-base, spec §2). */
export const MEL_NFFT = 1024;
export const MEL_HOP = 480;
export const MEL_PAD = 512;
export const MEL_BINS = 513;
export const MEL_AMIN = 1e-10;
/** Invocations per frame in mel_power / mel_logmel. */
export const MEL_FFT_WG = 64;

/** A float64 value as a WGSL literal of the nearest f32 (9 significant digits round-trip an f32). */
export function lit(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return '0.0';
  const s = f.toPrecision(9);
  return /[.e]/.test(s) ? s : s + '.0';
}

/** Periodic Hann w[i] = 0.5 - 0.5 cos(2 pi i / n) in float64. */
function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** vec4 offsets of the tables in `cst` (see melFftConstants). */
const CST = { win: 0, tw2: 256, tw3: 256 + 8 * 4, split: 256 + 8 * 4 + 64 * 4, size: 256 + 8 * 4 + 64 * 4 + 2 * 64 } as const;

/**
 * The constant tables of mel_power / mel_logmel, as vec4s (float64 values rounded to f32):
 *   win[rq][j]    (w[2j + 256 rq], w[2j + 256 rq + 1], w[2j + 128 (2rq+1)], w[... + 1])  Hann values of lane j's
 *                 inputs z[j + 64 r], r = 2rq, 2rq + 1
 *   tw2[j8][q]    stage 2 twiddles e^{-2 pi i r (j mod 8) / 64}, r = 2q+1, 2q+2 (r = 1..7, last slot 0)
 *   tw3[j][q]     stage 3 twiddles e^{-2 pi i r j / 512}
 *   split[h][j]   (W^k, W^{k+64}) for k = j + 128 h, W = e^{-2 pi i / 1024}
 */
export function melFftConstants(): Float32Array {
  const out = new Float32Array(CST.size * 4);
  const w = hann(MEL_NFFT);
  const put = (v4: number, i: number, x: number) => { out[v4 * 4 + i] = x; };
  for (let rq = 0; rq < 4; rq++) for (let j = 0; j < 64; j++) {
    const v = CST.win + rq * 64 + j;
    for (let h = 0; h < 2; h++) { const m = j + 64 * (2 * rq + h); put(v, 2 * h, w[2 * m]); put(v, 2 * h + 1, w[2 * m + 1]); }
  }
  const tw = (base: number, rows: number, angle: (row: number, r: number) => number) => {
    for (let row = 0; row < rows; row++) for (let r = 1; r <= 7; r++) {
      const a = angle(row, r), v = base + row * 4 + ((r - 1) >> 1), h = (r - 1) & 1;
      put(v, 2 * h, Math.cos(a)); put(v, 2 * h + 1, Math.sin(a));
    }
  };
  tw(CST.tw2, 8, (j8, r) => (-2 * Math.PI * r * j8) / 64);
  tw(CST.tw3, 64, (j, r) => (-2 * Math.PI * r * j) / 512);
  for (let h = 0; h < 2; h++) for (let j = 0; j < 64; j++) {
    const k = j + 128 * h, v = CST.split + h * 64 + j;
    for (let e = 0; e < 2; e++) { const a = (-2 * Math.PI * (k + 64 * e)) / MEL_NFFT; put(v, 2 * e, Math.cos(a)); put(v, 2 * e + 1, Math.sin(a)); }
  }
  return out;
}

/** WGSL helpers of the FFT kernels: complex multiply, the 8-point DFT in registers, reflected sample loads. */
const FFT_FNS = /* wgsl */ `
fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
// -i * a
fn mj(a: vec2<f32>) -> vec2<f32> { return vec2<f32>(a.y, -a.x); }
// In-place 8-point DFT V[k] = sum_r v[r] e^{-2 pi i rk/8} (radix-2 DIT over three radix-2 levels, constants only).
fn dft8(v: ptr<function, array<vec2<f32>, 8>>) {
  let h = ${lit(Math.SQRT1_2)};
  // level 1: pairs (r, r+4)
  let a0 = (*v)[0] + (*v)[4]; let a1 = (*v)[0] - (*v)[4];
  let a2 = (*v)[2] + (*v)[6]; let a3 = mj((*v)[2] - (*v)[6]);
  let b0 = (*v)[1] + (*v)[5]; let b1 = (*v)[1] - (*v)[5];
  let b2 = (*v)[3] + (*v)[7]; let b3 = mj((*v)[3] - (*v)[7]);
  // 4-point DFTs of the even (a) and odd (b) samples
  let e0 = a0 + a2; let e2 = a0 - a2; let e1 = a1 + a3; let e3 = a1 - a3;
  let o0 = b0 + b2; let o2 = b0 - b2; let o1 = b1 + b3; let o3 = b1 - b3;
  // twiddles e^{-2 pi i k/8}, k = 0..3
  let t1 = vec2<f32>((o1.x + o1.y) * h, (o1.y - o1.x) * h);
  let t2 = mj(o2);
  let t3 = vec2<f32>((o3.y - o3.x) * h, -(o3.x + o3.y) * h);
  (*v)[0] = e0 + o0; (*v)[4] = e0 - o0;
  (*v)[1] = e1 + t1; (*v)[5] = e1 - t1;
  (*v)[2] = e2 + t2; (*v)[6] = e2 - t2;
  (*v)[3] = e3 + t3; (*v)[7] = e3 - t3;
}
// Sample j (may lie outside [0, n)) of the clip starting at cb after reflect padding: xp[-k] = x[k],
// xp[n-1+k] = x[n-1-k] (edge sample not repeated).
fn ldr(cb: u32, j: i32) -> f32 {
  let n = i32(p.n);
  var k = abs(j);
  if (k >= n) { k = 2 * (n - 1) - k; }
  k = clamp(k, 0, n - 1);
  let u = cb + u32(k);
  return wave[u / 4u][u % 4u];
}
var<workgroup> za: array<vec2<f32>, 512>;
var<workgroup> zb: array<vec2<f32>, 512>;
`;

/**
 * The FFT part of mel_power / mel_logmel: leaves the spectrum's power P[k], k = 0..512, in workgroup memory `pw`.
 * Lane j (0..63): stage 1 reads z[j + 64 r] straight from the clip (windowed), stages 2 and 3 through za/zb.
 */
const FFT_BODY = /* wgsl */ `
  let frame = linear_wg(wid, nwg);
  let b = frame / p.T;
  let t = frame % p.T;
  if (b >= p.B) { return; }   // uniform: the whole workgroup leaves
  let j = lid;
  // uniform per workgroup (one frame): does the frame read outside [0, n)?
  let edge = t * ${MEL_HOP}u < ${MEL_PAD}u || t * ${MEL_HOP}u + ${MEL_PAD}u > p.n;
  let cb = b * p.stride4 * 4u;
  let j0 = i32(t * ${MEL_HOP}u) - ${MEL_PAD};
  var v: array<vec2<f32>, 8>;
  // stage 1 (Stockham, Ns = 1): v[r] = z[j + 64 r] = (xp[2j + 128 r], xp[2j + 128 r + 1]) * hann, no twiddles
  if (!edge) {
    let v0 = cb / 4u + (t * ${MEL_HOP}u - ${MEL_PAD}u) / 4u + j / 2u;
    let odd = (j & 1u) == 1u;
    for (var rq = 0u; rq < 4u; rq = rq + 1u) {
      let w = cst[${CST.win}u + rq * 64u + j];
      let s0 = wave[v0 + 64u * rq];
      let s1 = wave[v0 + 64u * rq + 32u];
      v[2u * rq] = select(s0.xy, s0.zw, odd) * w.xy;
      v[2u * rq + 1u] = select(s1.xy, s1.zw, odd) * w.zw;
    }
  } else {
    for (var rq = 0u; rq < 4u; rq = rq + 1u) {
      let w = cst[${CST.win}u + rq * 64u + j];
      let i0 = j0 + i32(2u * j + 256u * rq);
      v[2u * rq] = vec2<f32>(ldr(cb, i0), ldr(cb, i0 + 1)) * w.xy;
      v[2u * rq + 1u] = vec2<f32>(ldr(cb, i0 + 128), ldr(cb, i0 + 129)) * w.zw;
    }
  }
  dft8(&v);
  for (var r = 0u; r < 8u; r = r + 1u) { za[8u * j + r] = v[r]; }
  workgroupBarrier();
  // stage 2 (Ns = 8): v[r] = z[j + 64 r] * e^{-2 pi i r (j mod 8)/64}; out at (j/8)*64 + j%8 + 8 r
  for (var r = 0u; r < 8u; r = r + 1u) { v[r] = za[j + 64u * r]; }
  for (var q = 0u; q < 4u; q = q + 1u) {
    let w = cst[${CST.tw2}u + (j % 8u) * 4u + q];
    v[2u * q + 1u] = cmul(v[2u * q + 1u], w.xy);
    if (q < 3u) { v[2u * q + 2u] = cmul(v[2u * q + 2u], w.zw); }
  }
  dft8(&v);
  let d2 = (j / 8u) * 64u + (j % 8u);
  for (var r = 0u; r < 8u; r = r + 1u) { zb[d2 + 8u * r] = v[r]; }
  workgroupBarrier();
  // stage 3 (Ns = 64): v[r] = z[j + 64 r] * e^{-2 pi i r j/512}; out at j + 64 r (natural order)
  for (var r = 0u; r < 8u; r = r + 1u) { v[r] = zb[j + 64u * r]; }
  for (var q = 0u; q < 4u; q = q + 1u) {
    let w = cst[${CST.tw3}u + j * 4u + q];
    v[2u * q + 1u] = cmul(v[2u * q + 1u], w.xy);
    if (q < 3u) { v[2u * q + 2u] = cmul(v[2u * q + 2u], w.zw); }
  }
  dft8(&v);
  for (var r = 0u; r < 8u; r = r + 1u) { za[j + 64u * r] = v[r]; }
  workgroupBarrier();
  // split: lane j computes k = j + 64 e (e = 0..3, k < 256) and the mirrors 512 - k
  for (var e = 0u; e < 4u; e = e + 1u) {
    let k = j + 64u * e;
    let wq = cst[${CST.split}u + (e / 2u) * 64u + j];
    let w = select(wq.xy, wq.zw, (e & 1u) == 1u);
    let a = za[k];
    if (k == 0u) {
      pw[0] = (a.x + a.y) * (a.x + a.y);
      pw[512] = (a.x - a.y) * (a.x - a.y);
      let c = za[256];
      pw[256] = dot(c, c);
    } else {
      let c = za[512u - k];
      let ev = vec2<f32>(a.x + c.x, a.y - c.y);
      let od = vec2<f32>(a.y + c.y, c.x - a.x);
      let tt = cmul(od, w);
      let u = ev + tt;
      let d = ev - tt;
      pw[k] = dot(u, u) * 0.25;
      pw[512u - k] = dot(d, d) * 0.25;
    }
  }
  workgroupBarrier();
`;

const FRAME_BINDINGS = [{ name: 'wave', access: 'read' as const, type: 'vec4<f32>' as const }, { name: 'cst', access: 'read' as const, type: 'vec4<f32>' as const }];
const FRAME_PARAMS: [string, 'u32'][] = [['B', 'u32'], ['n', 'u32'], ['stride4', 'u32'], ['T', 'u32']];

/**
 * mel_power: P[b, t, k] = |sum_i xp[480t + i] w[i] e^{-2 pi i ik/1024}|^2 for k < 513, xp the reflect-padded clip,
 * w the periodic Hann window; bins 513..4*rowStride4-1 of a row are 0 (rows padded to a multiple of 4 for the
 * vec4 matmul). One 64-invocation workgroup per frame (see the file comment); cst = melFftConstants().
 */
export const melPower = new KernelFamily<{}>('mel_power', () => ({
  name: 'mel_power',
  bindings: [...FRAME_BINDINGS, { name: 'out', access: 'read_write', type: 'vec4<f32>' }],
  params: [...FRAME_PARAMS, ['rowStride4', 'u32']],
  workgroup: [MEL_FFT_WG],
  body: FFT_FNS + `var<workgroup> pw: array<f32, ${Math.ceil(MEL_BINS / 4) * 4}>;\n` + `
${ENTRY} {
${FFT_BODY}
  let o = frame * p.rowStride4;
  for (var q = j; q < p.rowStride4; q = q + ${MEL_FFT_WG}u) {
    var r = vec4<f32>(0.0);
    if (q < ${Math.ceil(MEL_BINS / 4)}u) { r = vec4<f32>(pw[4u * q], pw[4u * q + 1u], pw[4u * q + 2u], pw[4u * q + 3u]); }
    if (4u * q + 3u >= ${MEL_BINS}u) { r = select(r, vec4<f32>(0.0), vec4<u32>(4u * q) + vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(${MEL_BINS}u)); }
    out[o + q] = r;
  }
}`,
}));

/** 10 log10(max(s, 1e-10)) in WGSL; exactly -100 at and below amin (digital silence). */
const DB_FN = /* wgsl */ `
fn to_db(s: f32) -> f32 {
  // 10 log10(s) = (10 log10 2) log2(s)
  return select(${lit(10 * Math.log10(2))} * log2(s), -100.0, !(s > ${lit(MEL_AMIN)}));
}
fn to_db4(s: vec4<f32>) -> vec4<f32> { return vec4<f32>(to_db(s.x), to_db(s.y), to_db(s.z), to_db(s.w)); }
`;

/**
 * Sparse form of a [513][M] filterbank for mel_logmel: per mel m, its nonzero bins [first, first + count) and
 * their weights at `offset` in the weight list. `mi` = (first, count, offset) per mel (u32), `mw` = weights (f32).
 */
export function sparseFilterbank(W: ArrayLike<number>, mels: number): { mi: Uint32Array; mw: Float32Array; nnz: number } {
  if (W.length !== MEL_BINS * mels) throw new Error(`mel: filterbank has ${W.length} entries, want ${MEL_BINS} x ${mels}`);
  const mi = new Uint32Array(mels * 3);
  const ws: number[] = [];
  for (let m = 0; m < mels; m++) {
    let first = -1, last = -1;
    for (let k = 0; k < MEL_BINS; k++) if (W[k * mels + m] !== 0) { if (first < 0) first = k; last = k; }
    mi[3 * m] = Math.max(0, first); mi[3 * m + 1] = first < 0 ? 0 : last - first + 1; mi[3 * m + 2] = ws.length;
    if (first >= 0) for (let k = first; k <= last; k++) ws.push(W[k * mels + m]);
  }
  const mw = Float32Array.from(ws.length ? ws : [0]);
  return { mi, mw, nnz: ws.length };
}

/**
 * mel_logmel: X[b, t, m] = 10 log10(max(sum_k P[b, t, k] W[k, m], 1e-10)), P as in mel_power, W given sparsely
 * (sparseFilterbank: each filter's contiguous nonzero range, ~600 weights for Slaney 513 x 64). Lane m of the
 * frame's workgroup sums filter m (and m + 64, ... when M > 64). One workgroup per frame.
 */
export const melLogmel = new KernelFamily<{}>('mel_logmel', () => ({
  name: 'mel_logmel',
  bindings: [...FRAME_BINDINGS, { name: 'mi', access: 'read', type: 'u32' }, { name: 'mw', access: 'read' }, { name: 'out', access: 'read_write' }],
  params: [...FRAME_PARAMS, ['M', 'u32']],
  workgroup: [MEL_FFT_WG],
  body: FFT_FNS + DB_FN + `var<workgroup> pw: array<f32, ${Math.ceil(MEL_BINS / 4) * 4}>;\n` + `
${ENTRY} {
${FFT_BODY}
  for (var m = j; m < p.M; m = m + ${MEL_FFT_WG}u) {
    let first = mi[3u * m];
    let count = mi[3u * m + 1u];
    let off = mi[3u * m + 2u];
    var s = 0.0;
    for (var i = 0u; i < count; i = i + 1u) { s = s + pw[first + i] * mw[off + i]; }
    out[frame * p.M + m] = to_db(s);
  }
}`,
}));

/** mel_db: y = 10 log10(max(x, 1e-10)) elementwise, vec4 (-100 dB exactly at and below 1e-10). 1 / vec4. */
export const melDb = new KernelFamily<{}>('mel_db', () => ({
  name: 'mel_db',
  bindings: [{ name: 'x', access: 'read', type: 'vec4<f32>' }, { name: 'y', access: 'read_write', type: 'vec4<f32>' }],
  params: [['n4', 'u32']],
  workgroup: [64],
  body: DB_FN + `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n4) { return; }
  y[i] = to_db4(x[i]);
}`,
}));

// ---------------------------------------------------------------------------------------------------------------
// BatchNorm + SpecAugment + bicubic resize + fold

/**
 * mel_image: image[b, c*M + m, tau] = sum_{k=0..3} coef[r, k] * Y[b, clamp(i0[r] - 1 + k, 0, T-1), m], r = c*Q + tau,
 * where Y = (X - mean[m]) * scale[m] + bias[m] (BatchNorm eval, scale = weight / sqrt(var + eps) precomputed in
 * float64), and Y[., ., m] = 0 for mel bins inside one of clip b's SpecAugment stripes (start, width).
 * taps[r] = (i0, c_-1, c_0, c_1, c_2) from float64 (bicubicSource/bicubicCoeffs). Q = R / ratio time columns.
 * One invocation per (b, r, 4 mels): 4 vec4 loads, 4 scalar stores (rows c*M + m .. m+3 of column tau).
 * M4 = M / 4 consecutive invocations share r, so the taps and stripe loads are uniform within an 8-lane group.
 */
export const melImage = new KernelFamily<{ WG: number }>('mel_image', ({ WG }) => ({
  name: `mel_image_wg${WG}`,
  bindings: [{ name: 'x', access: 'read', type: 'vec4<f32>' }, { name: 'bn', access: 'read', type: 'vec4<f32>' },
    { name: 'taps', access: 'read' }, { name: 'stripes', access: 'read', type: 'u32' }, { name: 'img', access: 'read_write' }],
  params: [['B', 'u32'], ['T', 'u32'], ['M4', 'u32'], ['R', 'u32'], ['Q', 'u32'], ['S', 'u32']],
  workgroup: [WG],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.B * p.R * p.M4) { return; }
  let m4 = i % p.M4;
  let r = (i / p.M4) % p.R;
  let b = i / (p.M4 * p.R);
  let mean = bn[m4];
  let scale = bn[p.M4 + m4];
  let bias = bn[2u * p.M4 + m4];
  // SpecAugment: keep[j] = 0 for mel bins 4 m4 + j inside a stripe
  var keep = vec4<f32>(1.0);
  let mb = vec4<u32>(4u * m4) + vec4<u32>(0u, 1u, 2u, 3u);
  for (var s = 0u; s < p.S; s = s + 1u) {
    let st = stripes[(b * p.S + s) * 2u];
    let wd = stripes[(b * p.S + s) * 2u + 1u];
    keep = select(keep, vec4<f32>(0.0), (mb >= vec4<u32>(st)) & (mb < vec4<u32>(st + wd)));
  }
  let i0 = i32(taps[r * 5u]);
  let xb = b * p.T;
  var acc = vec4<f32>(0.0);
  for (var k = 0; k < 4; k = k + 1) {
    let row = u32(clamp(i0 - 1 + k, 0, i32(p.T) - 1));
    let y = (x[(xb + row) * p.M4 + m4] - mean) * scale + bias;
    acc = acc + taps[r * 5u + 1u + u32(k)] * y;
  }
  acc = acc * keep;
  let M = 4u * p.M4;
  let c = r / p.Q;
  let tau = r % p.Q;
  let o = (b * (p.R / p.Q) * M + c * M + 4u * m4) * p.Q + tau;
  img[o] = acc.x;
  img[o + p.Q] = acc.y;
  img[o + 2u * p.Q] = acc.z;
  img[o + 3u * p.Q] = acc.w;
}`,
}));

