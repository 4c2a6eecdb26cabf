// Fused windowed multi-head attention (Swin / HTSAT) and its fused backward.
//
// Legend: Bw windows (batch x windows per image), T tokens per window (64 for an 8x8 window), H heads, D head dim,
// C = H*D, L rows of the relative position bias table ((2w-1)^2), nW windows per image (mask rows).
//
// Inputs, laid out as the qkv Linear writes them (no permute): qkv [Bw, T, 3, H, D] (q, k, v x heads x D);
// table [L, H]; index [T, T] (integer values stored as f32, the checkpoint buffer relative_position_index);
// optional additive mask [nW, T, T] (0 / -100), window b uses mask row b % nW. Output out [Bw, T, H, D] (heads
// concatenated, as the proj Linear reads it).
//
//   S[b,h,i,j] = scale * q_i . k_j + table[index[i,j], h] + mask[b % nW, i, j]
//   P = softmax_j(S),  O_i = sum_j P_ij v_j
//
// Backward (derived): with dP_ij = dO_i . v_j, the softmax Jacobian gives
//   dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)                      (sum_k P_ik dP_ik = dO_i . O_i)
//   dq_i = scale * sum_j dS_ij k_j,   dk_j = scale * sum_i dS_ij q_i,   dv_j = sum_i P_ij dO_i
//   dtable[l, h] = sum_b sum_{(i,j): index[i,j] = l} dS[b,h,i,j]   (the mask is a constant: no gradient)
// The forward saves P [Bw, H, T, T]; backward_q writes dS [Bw, H, T, T] (a scratch buffer) that backward_kv and
// bias_grad read. No float atomics: the table gradient is one invocation per (l, h) summing its (i, j) pairs (a CSR
// plan of the fixed index: rowStart[L+1], pos[T*T]) over all windows, in a fixed order.
//
// Thread mapping: one invocation per (window, head, block of RB rows) with the RB rows' q (or dO) in registers, so
// every k_j / v_j vec4 load serves RB rows (register blocking; no workgroup memory and no barriers, which are slow
// on CPU adapters). T and D are compile-time constants (loops over D are unrolled); D must be a multiple of 4.
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

export interface WindowAttentionVariant { [k: string]: string | number | boolean; T: number; D: number; RB: number; masked: boolean; save: boolean }

const rep = (n: number, f: (i: number) => string, sep = '\n  ') => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/** Shared index math: invocation -> (b, h, block), qkv addressing in vec4 units. */
function prologue(T: number, RB: number): string {
  return `
  let NB = ${Math.ceil(T / RB)}u;
  let g = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (g >= p.Bw * p.H * NB) { return; }
  let blk = g % NB;
  let h = (g / NB) % p.H;
  let b = g / (NB * p.H);
  let i0 = blk * ${RB}u;
  let C4 = p.H * D4;            // vec4s per q (or k, v) part of a token
  let tok4 = 3u * C4;           // vec4s per token of qkv
  let qb = b * T * tok4 + h * D4; // q of token 0 of this window and head; k at + C4, v at + 2 C4
  let ob = b * T * C4 + h * D4;   // out / dout of token 0
  let pb = (b * p.H + h) * T * T; // P / dS of row 0`;
}

/**
 * Forward. S = scale q k^T + bias + mask, P = softmax(S), out = P v. One invocation per (b, h, RB query rows):
 * pass 1 computes the RB score rows (k_j loaded once for RB rows) and their max; pass 2 exponentiates, sums and
 * accumulates P v (v_j loaded once for RB rows). `save` also writes P [Bw, H, T, T] for backward.
 */
export const windowAttention = new KernelFamily<WindowAttentionVariant>('window_attention', ({ T, D, RB, masked, save }) => {
  const D4 = D / 4;
  const bindings = [
    { name: 'qkv', access: 'read' as const, type: 'vec4<f32>' as const },
    { name: 'table', access: 'read' as const },
    { name: 'index', access: 'read' as const },
    ...(masked ? [{ name: 'mask', access: 'read' as const }] : []),
    { name: 'out', access: 'read_write' as const, type: 'vec4<f32>' as const },
    ...(save ? [{ name: 'P', access: 'read_write' as const }] : []),
  ];
  return {
    name: `window_attention_T${T}_D${D}_rb${RB}${masked ? '_masked' : ''}${save ? '_save' : ''}`,
    bindings,
    params: [['Bw', 'u32'], ['H', 'u32'], ['nW', 'u32'], ['L', 'u32'], ['scale', 'f32']],
    workgroup: [64],
    body: `
const T: u32 = ${T}u;
const D4: u32 = ${D4}u;
// out[b, i, h, :] = sum_j softmax_j(scale q_i.k_j + table[index[i,j], h] + mask[b % nW, i, j]) v_j
// One invocation per (window b, head h, block of ${RB} query rows); saves P when compiled with save.
${ENTRY} {
  ${prologue(T, RB)}
  var q: array<array<vec4<f32>, ${D4}>, ${RB}>;
  var s: array<array<f32, ${T}>, ${RB}>;
  var mx: array<f32, ${RB}>;
  var ii: array<u32, ${RB}>;
  ${rep(RB, (r) => `ii[${r}] = min(i0 + ${r}u, T - 1u);
  for (var d = 0u; d < D4; d = d + 1u) { q[${r}][d] = qkv[qb + ii[${r}] * tok4 + d] * p.scale; }
  mx[${r}] = -3.0e38;`)}
  ${masked ? 'let mb = (b % p.nW) * T * T;' : ''}
  for (var j = 0u; j < T; j = j + 1u) {
    let kb = qb + j * tok4 + C4;
    var kr: array<vec4<f32>, ${D4}>;
    ${rep(D4, (d) => `kr[${d}] = qkv[kb + ${d}u];`, '\n    ')}
    ${rep(RB, (r) => `{
      var a = vec4<f32>(0.0);
      ${rep(D4, (d) => `a = a + q[${r}][${d}] * kr[${d}];`, '\n      ')}
      var sc = a.x + a.y + a.z + a.w + table[min(u32(index[ii[${r}] * T + j]), p.L - 1u) * p.H + h];
      ${masked ? `sc = sc + mask[mb + ii[${r}] * T + j];` : ''}
      s[${r}][j] = sc;
      mx[${r}] = max(mx[${r}], sc);
    }`, '\n    ')}
  }
  var o: array<array<vec4<f32>, ${D4}>, ${RB}>;
  var l: array<f32, ${RB}>;
  for (var j = 0u; j < T; j = j + 1u) {
    let vb = qb + j * tok4 + 2u * C4;
    var vr: array<vec4<f32>, ${D4}>;
    ${rep(D4, (d) => `vr[${d}] = qkv[vb + ${d}u];`, '\n    ')}
    ${rep(RB, (r) => `{
      let e = exp(s[${r}][j] - mx[${r}]);
      s[${r}][j] = e;
      l[${r}] = l[${r}] + e;
      ${rep(D4, (d) => `o[${r}][${d}] = o[${r}][${d}] + e * vr[${d}];`, '\n      ')}
    }`, '\n    ')}
  }
  ${rep(RB, (r) => `if (i0 + ${r}u < T) {
    let inv = 1.0 / l[${r}];
    ${rep(D4, (d) => `out[ob + ii[${r}] * C4 + ${d}u] = o[${r}][${d}] * inv;`, '\n    ')}
    ${save ? `for (var j = 0u; j < T; j = j + 1u) { P[pb + ii[${r}] * T + j] = s[${r}][j] * inv; }` : ''}
  }`)}
}`,
  };
});

/**
 * Backward, rows: dP_ij = dO_i . v_j; dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik) written to dS; dq_i = scale sum_j
 * dS_ij k_j written to the q part of dqkv. One invocation per (b, h, block of RB rows).
 */
export const windowAttentionBackwardQ = new KernelFamily<{ T: number; D: number; RB: number }>('window_attention_backward_q', ({ T, D, RB }) => {
  const D4 = D / 4;
  return {
    name: `window_attention_backward_q_T${T}_D${D}_rb${RB}`,
    bindings: [
      { name: 'qkv', access: 'read', type: 'vec4<f32>' }, { name: 'P', access: 'read' },
      { name: 'dout', access: 'read', type: 'vec4<f32>' }, { name: 'dS', access: 'read_write' },
      { name: 'dqkv', access: 'read_write', type: 'vec4<f32>' },
    ],
    params: [['Bw', 'u32'], ['H', 'u32'], ['scale', 'f32']],
    workgroup: [64],
    body: `
const T: u32 = ${T}u;
const D4: u32 = ${D4}u;
// dS = P (dO v^T - rowsum(P dO v^T)); dq = scale dS k. One invocation per (window, head, block of ${RB} rows).
${ENTRY} {
  ${prologue(T, RB)}
  var go: array<array<vec4<f32>, ${D4}>, ${RB}>;
  var dp: array<array<f32, ${T}>, ${RB}>;
  var pr: array<array<f32, ${T}>, ${RB}>;
  var dd: array<f32, ${RB}>;
  var ii: array<u32, ${RB}>;
  ${rep(RB, (r) => `ii[${r}] = min(i0 + ${r}u, T - 1u);
  for (var d = 0u; d < D4; d = d + 1u) { go[${r}][d] = dout[ob + ii[${r}] * C4 + d]; }`)}
  for (var j = 0u; j < T; j = j + 1u) {
    let vb = qb + j * tok4 + 2u * C4;
    var vr: array<vec4<f32>, ${D4}>;
    ${rep(D4, (d) => `vr[${d}] = qkv[vb + ${d}u];`, '\n    ')}
    ${rep(RB, (r) => `{
      var a = vec4<f32>(0.0);
      ${rep(D4, (d) => `a = a + go[${r}][${d}] * vr[${d}];`, '\n      ')}
      let x = a.x + a.y + a.z + a.w;
      let pp = P[pb + ii[${r}] * T + j];
      dp[${r}][j] = x;
      pr[${r}][j] = pp;
      dd[${r}] = dd[${r}] + pp * x;
    }`, '\n    ')}
  }
  var dq: array<array<vec4<f32>, ${D4}>, ${RB}>;
  for (var j = 0u; j < T; j = j + 1u) {
    let kb = qb + j * tok4 + C4;
    var kr: array<vec4<f32>, ${D4}>;
    ${rep(D4, (d) => `kr[${d}] = qkv[kb + ${d}u];`, '\n    ')}
    ${rep(RB, (r) => `{
      let ds = pr[${r}][j] * (dp[${r}][j] - dd[${r}]);
      if (i0 + ${r}u < T) { dS[pb + ii[${r}] * T + j] = ds; }
      ${rep(D4, (d) => `dq[${r}][${d}] = dq[${r}][${d}] + ds * kr[${d}];`, '\n      ')}
    }`, '\n    ')}
  }
  ${rep(RB, (r) => `if (i0 + ${r}u < T) {
    ${rep(D4, (d) => `dqkv[qb + ii[${r}] * tok4 + ${d}u] = dq[${r}][${d}] * p.scale;`, '\n    ')}
  }`)}
}`,
  };
});

/**
 * Backward, keys: dk_j = scale sum_i dS_ij q_i and dv_j = sum_i P_ij dO_i, written to the k and v parts of dqkv.
 * One invocation per (b, h, block of RB keys): each q_i / dO_i vec4 load serves RB keys.
 */
export const windowAttentionBackwardKV = new KernelFamily<{ T: number; D: number; RB: number }>('window_attention_backward_kv', ({ T, D, RB }) => {
  const D4 = D / 4;
  return {
    name: `window_attention_backward_kv_T${T}_D${D}_rb${RB}`,
    bindings: [
      { name: 'qkv', access: 'read', type: 'vec4<f32>' }, { name: 'P', access: 'read' },
      { name: 'dout', access: 'read', type: 'vec4<f32>' }, { name: 'dS', access: 'read' },
      { name: 'dqkv', access: 'read_write', type: 'vec4<f32>' },
    ],
    params: [['Bw', 'u32'], ['H', 'u32'], ['scale', 'f32']],
    workgroup: [64],
    body: `
const T: u32 = ${T}u;
const D4: u32 = ${D4}u;
// dk = scale dS^T q, dv = P^T dO. One invocation per (window, head, block of ${RB} keys).
${ENTRY} {
  ${prologue(T, RB)}
  var dk: array<array<vec4<f32>, ${D4}>, ${RB}>;
  var dv: array<array<vec4<f32>, ${D4}>, ${RB}>;
  var jj: array<u32, ${RB}>;
  ${rep(RB, (r) => `jj[${r}] = min(i0 + ${r}u, T - 1u);`)}
  for (var i = 0u; i < T; i = i + 1u) {
    let qi = qb + i * tok4;
    let oi = ob + i * C4;
    var qr: array<vec4<f32>, ${D4}>;
    var gr: array<vec4<f32>, ${D4}>;
    ${rep(D4, (d) => `qr[${d}] = qkv[qi + ${d}u]; gr[${d}] = dout[oi + ${d}u];`, '\n    ')}
    ${rep(RB, (r) => `{
      let ds = dS[pb + i * T + jj[${r}]];
      let pp = P[pb + i * T + jj[${r}]];
      ${rep(D4, (d) => `dk[${r}][${d}] = dk[${r}][${d}] + ds * qr[${d}]; dv[${r}][${d}] = dv[${r}][${d}] + pp * gr[${d}];`, '\n      ')}
    }`, '\n    ')}
  }
  ${rep(RB, (r) => `if (i0 + ${r}u < T) {
    let kb = qb + jj[${r}] * tok4 + C4;
    ${rep(D4, (d) => `dqkv[kb + ${d}u] = dk[${r}][${d}] * p.scale; dqkv[kb + C4 + ${d}u] = dv[${r}][${d}];`, '\n    ')}
  }`)}
}`,
  };
});

/**
 * Relative position bias table gradient without atomics: dtable[l, h] = sum over the (i, j) pairs with
 * index[i, j] = l (CSR plan: pos[rowStart[l] .. rowStart[l+1]) holds i*T + j) of sum_b dS[b, h, i, j].
 * One invocation per (l, h); fixed summation order (deterministic).
 */
export const windowAttentionBiasGrad = new KernelFamily<{}>('window_attention_bias_grad', () => ({
  name: 'window_attention_bias_grad',
  bindings: [{ name: 'dS', access: 'read' }, { name: 'rowStart', access: 'read', type: 'u32' }, { name: 'pos', access: 'read', type: 'u32' },
    { name: 'dtable', access: 'read_write' }],
  params: [['Bw', 'u32'], ['H', 'u32'], ['L', 'u32'], ['TT', 'u32']],
  workgroup: [64],
  body: `
// dtable[l, h] = sum_{pairs of l} sum_b dS[b, h, pair]. One invocation per (l, h).
${ENTRY} {
  let g = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (g >= p.L * p.H) { return; }
  let l = g / p.H;
  let h = g % p.H;
  var acc = 0.0;
  for (var q = rowStart[l]; q < rowStart[l + 1u]; q = q + 1u) {
    let pair = pos[q];
    var a = 0.0;
    for (var b = 0u; b < p.Bw; b = b + 1u) { a = a + dS[(b * p.H + h) * p.TT + pair]; }
    acc = acc + a;
  }
  dtable[g] = acc;
}`,
}));

// ---------------------------------------------------------------------------------------------------------------
// Subgroup design for CPU adapters with 8-lane subgroups (lavapipe): a workgroup is exactly one subgroup; lane r
// owns query row i = 8 * block + r (forward, backward_q) or key j (backward_kv). Keys (queries) are visited in
// blocks of 8: lane c loads the k/v (q/dO) rows of the block's c-th token and subgroupBroadcast hands them to every
// lane, so a row costs D/4 vec4 loads per 8 tokens instead of per token (storage loads are bounds-checked per lane
// on this driver). The bias is read from a dense [H, T, T] copy gathered once per call (window_attention_bias).
// Needs T % 8 == 0 (every block full; the launcher falls back to the register design otherwise).

const bc = (v: string, c: number) => `subgroupBroadcast(${v}, ${c}u)`;

function sgPrologue(T: number): string {
  return `
  let NB = ${T / 8}u;
  let total = p.Bw * p.H * NB;
  let t = linear_wg(wid, nwg);
  // t is uniform over the subgroup: every lane runs the same loops (subgroup operations stay in uniform control).
  let tt = min(t, total - 1u);
  let blk = tt % NB;
  let h = (tt / NB) % p.H;
  let b = tt / (NB * p.H);
  let own = blk * 8u + lid;      // this lane's row (or key)
  let C4 = p.H * D4;
  let tok4 = 3u * C4;
  let qb = b * T * tok4 + h * D4;
  let ob = b * T * C4 + h * D4;
  let pb = (b * p.H + h) * T * T;`;
}

/** Dense relative position bias: bias[h, i, j] = table[index[i, j], h]. One invocation per element. */
export const windowAttentionBias = new KernelFamily<{}>('window_attention_bias', () => ({
  name: 'window_attention_bias',
  bindings: [{ name: 'table', access: 'read' }, { name: 'index', access: 'read' }, { name: 'bias', access: 'read_write' }],
  params: [['H', 'u32'], ['L', 'u32'], ['TT', 'u32']],
  workgroup: [64],
  body: `
// bias[h, i, j] = table[index[i, j], h] (index clamped to the table). One invocation per element.
${ENTRY} {
  let g = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (g >= p.H * p.TT) { return; }
  let h = g / p.TT;
  let e = g % p.TT;
  bias[g] = table[min(u32(index[e]), p.L - 1u) * p.H + h];
}`,
}));

/**
 * Forward, subgroup design: online softmax over blocks of 8 keys (running max m, sum l, accumulator o rescaled once
 * per block). With save, the raw scores go to P and a last pass over the row turns them into exp(S - m - log l).
 */
export const windowAttentionSG = new KernelFamily<{ T: number; D: number; masked: boolean; save: boolean }>('window_attention_sg', ({ T, D, masked, save }) => {
  const D4 = D / 4;
  const scores = rep(8, (c) => `var s${c}: f32;
    { var a = vec4<f32>(0.0);
      ${rep(D4, (d) => `a = a + q[${d}] * ${bc(`kr[${d}]`, c)};`, ' ')}
      s${c} = a.x + a.y + a.z + a.w + bi${c >> 2}[${c & 3}]${masked ? ` + mk${c >> 2}[${c & 3}]` : ''}; }`, '\n    ');
  const accum = rep(8, (c) => `{ let e = exp(s${c} - mb); l = l + e;
      ${rep(D4, (d) => `o[${d}] = o[${d}] + e * ${bc(`vr[${d}]`, c)};`, ' ')} }`, '\n    ');
  return {
    name: `window_attention_sg_T${T}_D${D}${masked ? '_masked' : ''}${save ? '_save' : ''}`,
    enable: ['subgroups'],
    bindings: [
      { name: 'qkv', access: 'read', type: 'vec4<f32>' },
      { name: 'bias', access: 'read', type: 'vec4<f32>' },
      ...(masked ? [{ name: 'mask', access: 'read' as const, type: 'vec4<f32>' as const }] : []),
      { name: 'out', access: 'read_write', type: 'vec4<f32>' },
      ...(save ? [{ name: 'P', access: 'read_write' as const, type: 'vec4<f32>' as const }] : []),
    ],
    params: [['Bw', 'u32'], ['H', 'u32'], ['nW', 'u32'], ['scale', 'f32']],
    workgroup: [8],
    body: `
const T: u32 = ${T}u;
const D4: u32 = ${D4}u;
// out[b, i, h, :] = softmax_j(scale q_i.k_j + bias[h, i, j] + mask[b % nW, i, j]) v_j; lane = query row i,
// keys in blocks of 8 shared by subgroupBroadcast; online softmax. Saves P (save) for backward.
${ENTRY} {
  ${sgPrologue(T)}
  var q: array<vec4<f32>, ${D4}>;
  for (var d = 0u; d < D4; d = d + 1u) { q[d] = qkv[qb + own * tok4 + d] * p.scale; }
  let brow = ((h * T + own) * T) / 4u;
  ${masked ? 'let mrow = (((b % p.nW) * T + own) * T) / 4u;' : ''}
  let prow = (pb + own * T) / 4u;
  var m = -3.0e38;
  var l = 0.0;
  var o: array<vec4<f32>, ${D4}>;
  for (var kb = 0u; kb < NB; kb = kb + 1u) {
    let kt = qb + (kb * 8u + lid) * tok4;
    var kr: array<vec4<f32>, ${D4}>;
    var vr: array<vec4<f32>, ${D4}>;
    for (var d = 0u; d < D4; d = d + 1u) { kr[d] = qkv[kt + C4 + d]; vr[d] = qkv[kt + 2u * C4 + d]; }
    let bi0 = bias[brow + 2u * kb];
    let bi1 = bias[brow + 2u * kb + 1u];
    ${masked ? 'let mk0 = mask[mrow + 2u * kb]; let mk1 = mask[mrow + 2u * kb + 1u];' : ''}
    ${scores}
    ${save ? 'P[prow + 2u * kb] = vec4<f32>(s0, s1, s2, s3); P[prow + 2u * kb + 1u] = vec4<f32>(s4, s5, s6, s7);' : ''}
    let mb = max(m, max(max(max(s0, s1), max(s2, s3)), max(max(s4, s5), max(s6, s7))));
    let corr = exp(m - mb);
    l = l * corr;
    for (var d = 0u; d < D4; d = d + 1u) { o[d] = o[d] * corr; }
    ${accum}
    m = mb;
  }
  if (t >= total) { return; }
  let inv = 1.0 / l;
  for (var d = 0u; d < D4; d = d + 1u) { out[ob + own * C4 + d] = o[d] * inv; }
  ${save ? `let lse = m + log(l);
  for (var k = 0u; k < T / 4u; k = k + 1u) { P[prow + k] = exp(P[prow + k] - vec4<f32>(lse)); }` : ''}
}`,
  };
});

/**
 * Backward rows, subgroup design: lane = row i. D_i = dO_i . O_i (= sum_j P_ij dP_ij), then per block of 8 keys
 * dS_ij = P_ij (dO_i . v_j - D_i) (written to dS) and dq_i += dS_ij k_j.
 */
export const windowAttentionSGBackwardQ = new KernelFamily<{ T: number; D: number }>('window_attention_sg_backward_q', ({ T, D }) => {
  const D4 = D / 4;
  const body8 = rep(8, (c) => `{ var a = vec4<f32>(0.0);
      ${rep(D4, (d) => `a = a + go[${d}] * ${bc(`vr[${d}]`, c)};`, ' ')}
      let ds = p${c >> 2}[${c & 3}] * (a.x + a.y + a.z + a.w - Di);
      ds${c >> 2}[${c & 3}] = ds;
      ${rep(D4, (d) => `dq[${d}] = dq[${d}] + ds * ${bc(`kr[${d}]`, c)};`, ' ')} }`, '\n    ');
  return {
    name: `window_attention_sg_backward_q_T${T}_D${D}`,
    enable: ['subgroups'],
    bindings: [
      { name: 'qkv', access: 'read', type: 'vec4<f32>' }, { name: 'P', access: 'read', type: 'vec4<f32>' },
      { name: 'O', access: 'read', type: 'vec4<f32>' }, { name: 'dout', access: 'read', type: 'vec4<f32>' },
      { name: 'dS', access: 'read_write', type: 'vec4<f32>' }, { name: 'dqkv', access: 'read_write', type: 'vec4<f32>' },
    ],
    params: [['Bw', 'u32'], ['H', 'u32'], ['scale', 'f32']],
    workgroup: [8],
    body: `
const T: u32 = ${T}u;
const D4: u32 = ${D4}u;
// dS = P (dO v^T - dO.O), dq = scale dS k; lane = row i, keys in blocks of 8 shared by subgroupBroadcast.
${ENTRY} {
  ${sgPrologue(T)}
  var go: array<vec4<f32>, ${D4}>;
  var dq: array<vec4<f32>, ${D4}>;
  var Di = 0.0;
  for (var d = 0u; d < D4; d = d + 1u) {
    go[d] = dout[ob + own * C4 + d];
    let od = O[ob + own * C4 + d];
    Di = Di + dot(go[d], od);
  }
  let prow = (pb + own * T) / 4u;
  for (var kb = 0u; kb < NB; kb = kb + 1u) {
    let kt = qb + (kb * 8u + lid) * tok4;
    var kr: array<vec4<f32>, ${D4}>;
    var vr: array<vec4<f32>, ${D4}>;
    for (var d = 0u; d < D4; d = d + 1u) { kr[d] = qkv[kt + C4 + d]; vr[d] = qkv[kt + 2u * C4 + d]; }
    let p0 = P[prow + 2u * kb];
    let p1 = P[prow + 2u * kb + 1u];
    var ds0: vec4<f32>;
    var ds1: vec4<f32>;
    ${body8}
    if (t < total) { dS[prow + 2u * kb] = ds0; dS[prow + 2u * kb + 1u] = ds1; }
  }
  if (t >= total) { return; }
  for (var d = 0u; d < D4; d = d + 1u) { dqkv[qb + own * tok4 + d] = dq[d] * p.scale; }
}`,
  };
});

/**
 * Backward keys, subgroup design: lane = key j; per block of 8 queries (q and dO rows shared by subgroupBroadcast)
 * dk_j += dS_ij q_i and dv_j += P_ij dO_i.
 */
export const windowAttentionSGBackwardKV = new KernelFamily<{ T: number; D: number }>('window_attention_sg_backward_kv', ({ T, D }) => {
  const D4 = D / 4;
  const body8 = rep(8, (c) => `{ let ds = dS[pb + (ib * 8u + ${c}u) * T + own]; let pp = P[pb + (ib * 8u + ${c}u) * T + own];
      ${rep(D4, (d) => `dk[${d}] = dk[${d}] + ds * ${bc(`qr[${d}]`, c)}; dv[${d}] = dv[${d}] + pp * ${bc(`gr[${d}]`, c)};`, ' ')} }`, '\n    ');
  return {
    name: `window_attention_sg_backward_kv_T${T}_D${D}`,
    enable: ['subgroups'],
    bindings: [
      { name: 'qkv', access: 'read', type: 'vec4<f32>' }, { name: 'P', access: 'read' },
      { name: 'dout', access: 'read', type: 'vec4<f32>' }, { name: 'dS', access: 'read' },
      { name: 'dqkv', access: 'read_write', type: 'vec4<f32>' },
    ],
    params: [['Bw', 'u32'], ['H', 'u32'], ['scale', 'f32']],
    workgroup: [8],
    body: `
const T: u32 = ${T}u;
const D4: u32 = ${D4}u;
// dk = scale dS^T q, dv = P^T dO; lane = key j, queries in blocks of 8 shared by subgroupBroadcast.
${ENTRY} {
  ${sgPrologue(T)}
  var dk: array<vec4<f32>, ${D4}>;
  var dv: array<vec4<f32>, ${D4}>;
  for (var ib = 0u; ib < NB; ib = ib + 1u) {
    let it = ib * 8u + lid;
    var qr: array<vec4<f32>, ${D4}>;
    var gr: array<vec4<f32>, ${D4}>;
    for (var d = 0u; d < D4; d = d + 1u) { qr[d] = qkv[qb + it * tok4 + d]; gr[d] = dout[ob + it * C4 + d]; }
    ${body8}
  }
  if (t >= total) { return; }
  let kt = qb + own * tok4 + C4;
  for (var d = 0u; d < D4; d = d + 1u) { dqkv[kt + d] = dk[d] * p.scale; dqkv[kt + C4 + d] = dv[d]; }
}`,
  };
});
