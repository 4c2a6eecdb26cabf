// Batched matmul: out[b] = alpha * op(A[b]) @ op(B[b]) (+ bias[N]), op = identity or transpose.
// Shapes: op(A) [M, K], op(B) [K, N], out [batch, M, N]; A is [M, K] or (transA) [K, M], B is [K, N] or
// (transB) [N, K]. Batch strides sA, sB in elements (0 broadcasts one matrix over the batch).
// Three designs behind one launcher (src/ops/matmul.ts): naive (baseline "version 1"), register-blocked (rb:
// each invocation owns a 4x4 output block, vec4 loads where aligned, no workgroup memory: fast on CPU adapters)
// and workgroup-tiled (tiled: 64x64 tile per workgroup in shared memory, 4x4 per invocation: for real GPUs).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

export interface MatmulVariant { [k: string]: string | number | boolean; transA: boolean; transB: boolean; bias: boolean }

const PARAMS: [string, 'u32' | 'f32'][] = [['batch', 'u32'], ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['sA', 'u32'], ['sB', 'u32'], ['alpha', 'f32']];

function bindings(bias: boolean, vecA = false, vecB = false) {
  const b = [
    { name: 'A', access: 'read' as const, type: vecA ? 'vec4<f32>' as const : 'f32' as const },
    { name: 'B', access: 'read' as const, type: vecB ? 'vec4<f32>' as const : 'f32' as const },
    { name: 'out', access: 'read_write' as const },
  ];
  if (bias) b.push({ name: 'bias', access: 'read' as const, type: 'f32' as const });
  return b;
}

/** Index helpers for A(m, k) and B(k, n) within a batch, per transpose flags. */
function indexFns(transA: boolean, transB: boolean): string {
  return `
fn ia(m: u32, k: u32) -> u32 { return ${transA ? 'k * p.M + m' : 'm * p.K + k'}; }
fn ib(k: u32, n: u32) -> u32 { return ${transB ? 'n * p.K + k' : 'k * p.N + n'}; }`;
}

/** One invocation per output element. */
export const matmulNaive = new KernelFamily<MatmulVariant>('matmul_naive', ({ transA, transB, bias }) => ({
  name: `matmul_naive${transA ? '_tA' : ''}${transB ? '_tB' : ''}${bias ? '_bias' : ''}`,
  bindings: bindings(bias),
  params: PARAMS,
  workgroup: [64],
  body: indexFns(transA, transB) + wgsl`
// out[b, m, n] = alpha * sum_k A(m, k) B(k, n) (+ bias[n]); one invocation per output element.
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.batch * p.M * p.N) { return; }
  let n = i % p.N;
  let m = (i / p.N) % p.M;
  let b = i / (p.M * p.N);
  let oa = b * p.sA;
  let ob = b * p.sB;
  var acc = 0.0;
  for (var k = 0u; k < p.K; k = k + 1u) { acc = acc + A[oa + ia(m, k)] * B[ob + ib(k, n)]; }
  acc = acc * p.alpha;
#if ${bias}
  acc = acc + bias[n];
#endif
  out[i] = acc;
}`,
}));

/**
 * Register-blocked: one invocation per TM x (4*NV) output block (4x4, 8x4, 4x8 or 8x8), k stepped by 4, operands
 * loaded as vec4 register tiles; no workgroup memory, no barriers (fast on CPU adapters, where storage loads are
 * bounds-checked per lane: larger blocks raise FMAs per load from 2 (4x4) to 4 (8x8)).
 * `vec`: A and B bound as vec4 arrays (needs the contiguous dimension of each operand to be a multiple of 4:
 * K for A, N for B, M for transposed A, K for transposed B); otherwise scalar bounds-checked loads (4x4 only).
 */
export const matmulRB = new KernelFamily<MatmulVariant & { vec: boolean; TM: number; NV: number; WG: number }>('matmul_rb', ({ transA, transB, bias, vec, TM, NV, WG }) => {
  const TN = 4 * NV;
  const unroll = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n    ');
  let loadA: string, loadB: string;
  if (!transA) loadA = unroll(TM, (i) => `ar[${i}] = A[oa + (min(m0 + ${i}u, p.M - 1u) * p.K + k) / 4u];`);
  else loadA = unroll(TM / 4, (q) => `{ let mq = min(m0 + ${4 * q}u, p.M - 4u);
      let a0 = A[oa + (k * p.M + mq) / 4u]; let a1 = A[oa + ((k + 1u) * p.M + mq) / 4u];
      let a2 = A[oa + ((k + 2u) * p.M + mq) / 4u]; let a3 = A[oa + ((k + 3u) * p.M + mq) / 4u];
      ar[${4 * q}] = vec4<f32>(a0.x, a1.x, a2.x, a3.x); ar[${4 * q + 1}] = vec4<f32>(a0.y, a1.y, a2.y, a3.y);
      ar[${4 * q + 2}] = vec4<f32>(a0.z, a1.z, a2.z, a3.z); ar[${4 * q + 3}] = vec4<f32>(a0.w, a1.w, a2.w, a3.w); }`);
  if (!transB) loadB = unroll(4 * NV, (x) => { const j = Math.floor(x / NV), v = x % NV; return `br[${j * NV + v}] = B[ob + ((k + ${j}u) * p.N + min(n0 + ${4 * v}u, p.N - 4u)) / 4u];`; });
  else loadB = unroll(NV, (v) => `{ let b0 = B[ob + (min(n0 + ${4 * v}u, p.N - 1u) * p.K + k) / 4u]; let b1 = B[ob + (min(n0 + ${4 * v + 1}u, p.N - 1u) * p.K + k) / 4u];
      let b2 = B[ob + (min(n0 + ${4 * v + 2}u, p.N - 1u) * p.K + k) / 4u]; let b3 = B[ob + (min(n0 + ${4 * v + 3}u, p.N - 1u) * p.K + k) / 4u];
      br[${v}] = vec4<f32>(b0.x, b1.x, b2.x, b3.x); br[${NV + v}] = vec4<f32>(b0.y, b1.y, b2.y, b3.y);
      br[${2 * NV + v}] = vec4<f32>(b0.z, b1.z, b2.z, b3.z); br[${3 * NV + v}] = vec4<f32>(b0.w, b1.w, b2.w, b3.w); }`);
  const fma = unroll(TM * NV, (x) => { const i = Math.floor(x / NV), v = x % NV; return `acc[${x}] = acc[${x}] + ar[${i}].x * br[${v}] + ar[${i}].y * br[${NV + v}] + ar[${i}].z * br[${2 * NV + v}] + ar[${i}].w * br[${3 * NV + v}];`; });
  return {
    name: `matmul_rb${vec ? `_vec4_${TM}x${TN}` : ''}_wg${WG}${transA ? '_tA' : ''}${transB ? '_tB' : ''}${bias ? '_bias' : ''}`,
    bindings: bindings(bias, vec, vec),
    params: PARAMS,
    workgroup: [WG],
    body: wgsl`
#if ${!vec}
${indexFns(transA, transB)}
fn la(oa: u32, m: u32, k: u32) -> f32 { if (m < p.M && k < p.K) { return A[oa + ia(m, k)]; } return 0.0; }
fn lb(ob: u32, k: u32, n: u32) -> f32 { if (k < p.K && n < p.N) { return B[ob + ib(k, n)]; } return 0.0; }
#endif
const TM: u32 = ${TM}u;
const TN: u32 = ${TN}u;
// ar[i] = A(m0+i, k..k+3); br[j*NV + v] = B(k+j, n0+4v..n0+4v+3); acc[i*NV + v] = out(m0+i, n0+4v..).
${ENTRY} {
  let tilesN = (p.N + TN - 1u) / TN;
  let tilesM = (p.M + TM - 1u) / TM;
  let t = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (t >= p.batch * tilesM * tilesN) { return; }
  let n0 = (t % tilesN) * TN;
  let m0 = ((t / tilesN) % tilesM) * TM;
  let b = t / (tilesM * tilesN);
  var acc: array<vec4<f32>, ${TM * NV}>;
  for (var i = 0u; i < ${TM * NV}u; i = i + 1u) { acc[i] = vec4<f32>(0.0); }
#if ${vec}
  // vec4 indices (units of 4 floats); loads clamped to stay in bounds (their results are never stored).
  let oa = b * p.sA / 4u;
  let ob = b * p.sB / 4u;
  for (var k = 0u; k < p.K; k = k + 4u) {
    var ar: array<vec4<f32>, ${TM}>;
    var br: array<vec4<f32>, ${4 * NV}>;
    ${loadA}
    ${loadB}
    ${fma}
  }
#else
  let oa = b * p.sA;
  let ob = b * p.sB;
  for (var k = 0u; k < p.K; k = k + 4u) {
    var br: array<vec4<f32>, 4>;
    for (var j = 0u; j < 4u; j = j + 1u) {
      br[j] = vec4<f32>(lb(ob, k + j, n0), lb(ob, k + j, n0 + 1u), lb(ob, k + j, n0 + 2u), lb(ob, k + j, n0 + 3u));
    }
    for (var i = 0u; i < 4u; i = i + 1u) {
      let ar = vec4<f32>(la(oa, m0 + i, k), la(oa, m0 + i, k + 1u), la(oa, m0 + i, k + 2u), la(oa, m0 + i, k + 3u));
      acc[i] = acc[i] + ar.x * br[0] + ar.y * br[1] + ar.z * br[2] + ar.w * br[3];
    }
  }
#endif
  let oo = b * p.M * p.N;
  for (var i = 0u; i < TM; i = i + 1u) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < TN; j = j + 1u) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      var v = acc[i * ${NV}u + j / 4u][j % 4u] * p.alpha;
#if ${bias}
      v = v + bias[n];
#endif
      out[oo + m * p.N + n] = v;
    }
  }
}`,
  };
});

/**
 * Workgroup-tiled (real GPUs): a 16x16 workgroup computes a 64x64 output tile, each invocation a 4x4 block;
 * A and B k-slices of 64x16 / 16x64 staged in workgroup memory, one barrier pair per k-step of 16.
 */
export const matmulTiled = new KernelFamily<MatmulVariant>('matmul_tiled', ({ transA, transB, bias }) => ({
  name: `matmul_tiled${transA ? '_tA' : ''}${transB ? '_tB' : ''}${bias ? '_bias' : ''}`,
  bindings: bindings(bias),
  params: PARAMS,
  workgroup: [16, 16],
  body: indexFns(transA, transB) + wgsl`
var<workgroup> As: array<array<f32, 65>, 16>;  // [k][m], padded against bank conflicts
var<workgroup> Bs: array<array<f32, 65>, 16>;  // [k][n]
${ENTRY} {
  let tilesN = (p.N + 63u) / 64u;
  let tilesM = (p.M + 63u) / 64u;
  let t = linear_wg(wid, nwg);
  // Every invocation of a workgroup takes the same branch: uniform control flow for the barriers.
  let valid = t < p.batch * tilesM * tilesN;
  let tt = select(0u, t, valid);
  let tn = tt % tilesN;
  let tm = (tt / tilesN) % tilesM;
  let b = tt / (tilesM * tilesN);
  let oa = b * p.sA;
  let ob = b * p.sB;
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<array<f32, 4>, 4>;
  for (var i = 0u; i < 4u; i = i + 1u) { for (var j = 0u; j < 4u; j = j + 1u) { acc[i][j] = 0.0; } }
  for (var k0 = 0u; k0 < p.K; k0 = k0 + 16u) {
    // 256 invocations load 64x16 of A and 16x64 of B: 4 elements each.
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = lid * 4u + e;          // 0..1023
      let kk = idx % 16u;
      let mm = idx / 16u;              // 0..63
      let gm = tm * 64u + mm;
      let gk = k0 + kk;
      var av = 0.0;
      if (gm < p.M && gk < p.K) { av = A[oa + ia(gm, gk)]; }
      As[kk][mm] = av;
      let nn = idx % 64u;
      let kb = idx / 64u;              // 0..15
      let gn = tn * 64u + nn;
      let gkb = k0 + kb;
      var bv = 0.0;
      if (gn < p.N && gkb < p.K) { bv = B[ob + ib(gkb, gn)]; }
      Bs[kb][nn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      var ar: array<f32, 4>;
      var br: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) { ar[i] = As[kk][ty * 4u + i]; br[i] = Bs[kk][tx * 4u + i]; }
      for (var i = 0u; i < 4u; i = i + 1u) { for (var j = 0u; j < 4u; j = j + 1u) { acc[i][j] = acc[i][j] + ar[i] * br[j]; } }
    }
    workgroupBarrier();
  }
  if (!valid) { return; }
  let oo = b * p.M * p.N;
  for (var i = 0u; i < 4u; i = i + 1u) {
    let m = tm * 64u + ty * 4u + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let n = tn * 64u + tx * 4u + j;
      if (n >= p.N) { break; }
      var v = acc[i][j] * p.alpha;
#if ${bias}
      v = v + bias[n];
#endif
      out[oo + m * p.N + n] = v;
    }
  }
}`,
}));

/**
 * Operand packing for the subgroup design: writes op(A) (which 'a') or op(B) (which 'b') of every batch into an
 * rgba32float 2-D array texture, zero-padded. A texel (layer b, y = m, x = kq) = A(m, 4kq..4kq+3);
 * B texel (layer b, y = k, x = nq) = B(k, 4nq..4nq+3). One invocation per texel.
 */
export const matmulPack = new KernelFamily<{ which: 'a' | 'b'; trans: boolean }>('matmul_pack', ({ which, trans }) => ({
  name: `matmul_pack_${which}${trans ? '_t' : ''}`,
  bindings: [{ name: 'src', access: 'read' }, { name: 'tex', access: 'read_write', kind: 'storage_texture' }],
  // rows x cols: the logical operand (A: M x K, B: K x N); W x H x L: texture size in texels; stride: batch stride
  params: [['rows', 'u32'], ['cols', 'u32'], ['W', 'u32'], ['H', 'u32'], ['L', 'u32'], ['stride', 'u32']],
  workgroup: [64],
  body: `
fn at(b: u32, r: u32, c: u32) -> f32 {
  if (r >= p.rows || c >= p.cols) { return 0.0; }
  return src[b * p.stride + ${trans ? 'c * p.rows + r' : 'r * p.cols + c'}];
}
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.W * p.H * p.L) { return; }
  let x = i % p.W;
  let y = (i / p.W) % p.H;
  let b = i / (p.W * p.H);
  let v = vec4<f32>(at(b, y, 4u * x), at(b, y, 4u * x + 1u), at(b, y, 4u * x + 2u), at(b, y, 4u * x + 3u));
  textureStore(tex, vec2<u32>(x, y), b, v);
}`,
}));

/**
 * Subgroup design for CPU adapters whose subgroup is 8 lanes (lavapipe): a workgroup is exactly one subgroup and
 * computes a 32 x 64 tile; lane j owns rows m0..m0+31 and columns n0+8j..n0+8j+7 (a 32x8 block). Per k-step of 4,
 * lane j loads 4 A texels (rows m0 + j + 8q) and 8 B texels; A rows reach every lane via subgroupBroadcast, so the
 * 32 rows cost 4 loads per lane. Operands come from textures (vectorised loads; storage buffers pay a bounds check
 * per lane on this driver). Textures are packed by matmul_pack.
 */
export const matmulSG = new KernelFamily<{ bias: boolean; bShared: boolean }>('matmul_sg', ({ bias, bShared }) => {
  const bc = (r: number) => `subgroupBroadcast(a${r >> 3}, ${r & 7}u)`;
  const fmas: string[] = [];
  for (let r = 0; r < 32; r++) {
    fmas.push(`{ let ar = ${bc(r)};
      acc[${2 * r}] = acc[${2 * r}] + ar.x * b00 + ar.y * b10 + ar.z * b20 + ar.w * b30;
      acc[${2 * r + 1}] = acc[${2 * r + 1}] + ar.x * b01 + ar.y * b11 + ar.z * b21 + ar.w * b31; }`);
  }
  return {
    name: `matmul_sg${bShared ? '_sharedB' : ''}${bias ? '_bias' : ''}`,
    enable: ['subgroups'],
    bindings: [
      { name: 'TA', access: 'read', kind: 'texture' },
      { name: 'TB', access: 'read', kind: 'texture' },
      { name: 'out', access: 'read_write' },
      ...(bias ? [{ name: 'bias', access: 'read' as const }] : []),
    ],
    params: [['batch', 'u32'], ['M', 'u32'], ['N', 'u32'], ['K4', 'u32'], ['alpha', 'f32']],
    workgroup: [8],
    body: `
${ENTRY} {
  let tilesN = (p.N + 63u) / 64u;
  let tilesM = (p.M + 31u) / 32u;
  let t = linear_wg(wid, nwg);
  // t is uniform across the workgroup (= one subgroup): every lane runs the same loop (subgroup ops stay uniform).
  let tt = min(t, p.batch * tilesM * tilesN - 1u);
  // Grouped tile order: runs of G row-tiles share one B column tile, so G A row-tiles (G*32 rows) stay in cache
  // while the B columns stream once per group instead of once per row-tile.
  let b = tt / (tilesM * tilesN);
  let r = tt % (tilesM * tilesN);
  let G = 8u;
  let grp = r / (G * tilesN);
  let gRows = min(G, tilesM - grp * G);
  let inG = r % (G * tilesN);
  let m0 = (grp * G + inG % gRows) * 32u;
  let n0 = (inG / gRows) * 64u;
  let lb = ${bShared ? '0u' : 'b'};
  let j = lid;
  let nq = n0 / 4u + 2u * j;
  var acc: array<vec4<f32>, 64>;
  for (var i = 0u; i < 64u; i = i + 1u) { acc[i] = vec4<f32>(0.0); }
  for (var kq = 0u; kq < p.K4; kq = kq + 1u) {
    let a0 = textureLoad(TA, vec2<u32>(kq, m0 + j), b, 0);
    let a1 = textureLoad(TA, vec2<u32>(kq, m0 + 8u + j), b, 0);
    let a2 = textureLoad(TA, vec2<u32>(kq, m0 + 16u + j), b, 0);
    let a3 = textureLoad(TA, vec2<u32>(kq, m0 + 24u + j), b, 0);
    let k = 4u * kq;
    let b00 = textureLoad(TB, vec2<u32>(nq, k), lb, 0);      let b01 = textureLoad(TB, vec2<u32>(nq + 1u, k), lb, 0);
    let b10 = textureLoad(TB, vec2<u32>(nq, k + 1u), lb, 0); let b11 = textureLoad(TB, vec2<u32>(nq + 1u, k + 1u), lb, 0);
    let b20 = textureLoad(TB, vec2<u32>(nq, k + 2u), lb, 0); let b21 = textureLoad(TB, vec2<u32>(nq + 1u, k + 2u), lb, 0);
    let b30 = textureLoad(TB, vec2<u32>(nq, k + 3u), lb, 0); let b31 = textureLoad(TB, vec2<u32>(nq + 1u, k + 3u), lb, 0);
    ${fmas.join('\n    ')}
  }
  if (t >= p.batch * tilesM * tilesN) { return; }
  let oo = b * p.M * p.N;
  for (var r = 0u; r < 32u; r = r + 1u) {
    let m = m0 + r;
    if (m >= p.M) { break; }
    for (var c = 0u; c < 8u; c = c + 1u) {
      let n = n0 + 8u * j + c;
      if (n >= p.N) { break; }
      var v = acc[2u * r + c / 4u][c % 4u] * p.alpha;
${bias ? '      v = v + bias[n];' : ''}
      out[oo + m * p.N + n] = v;
    }
  }
}`,
  };
});
