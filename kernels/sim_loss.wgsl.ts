// Frame-text similarity: the chunked (memory-efficient) frame-wise sigmoid loss L_SED and its gradients
// (spec §7.2, §7.5, §8.1), the CLIP InfoNCE cross-entropy over a dense N x N logit matrix (§7.1), and the
// calibrated inference maps (§6.1, §6.2) with the optional 3-tap temporal median (§6.4).
//
// Legend: A audios, L frames per clip (32), rows r = i*L + l of Aflat [A*L, D], K texts, D embedding dim
// (multiple of 4, D4 = D/4 vec4s), N texts of a CLIP batch / prompts, B audios at inference.
//
// L_SED (§7.2), beta detached:  h_ikl = alpha_k <a_il, t_k> + beta_k,  y = 2q - 1,
//   loss = sum_ikl w_ik softplus(-y h),  w_ik = scale * ma_i * mt_k,  scale = gamma_sed / (L * sum_ik M_ik).
// Backward (derived; d softplus(-y h)/dh = -y sigmoid(-y h) = sigmoid(h) - q):
//   g_ikl = w_ik (sigmoid(h) - q)
//   dL/da_il  = sum_k g_ikl alpha_k t_k                 (pass 1: one invocation per row tile, loops over all texts)
//   dL/dt_k   = alpha_k sum_il g_ikl a_il               (pass 2: one invocation per text tile, loops over rows)
//   dL/dalpha_k = sum_il g_ikl <a_il, t_k>              (pass 2, same loop; no atomics, no [A, K, L] buffer)
// Two designs (src/ops/sim_loss.ts chooses; both tested against the float64 reference and the naive path):
//  * fused (sim_loss_prep/rows/cols): the two-pass scheme of spec §8.1. Both passes recompute the [rows x texts]
//    logit tile in registers from a and t (D = 512: the dot products are the cost, the transcendental epilogue is
//    small). Pass 1 runs in the forward (the loss and the unscaled dL/da come from the same tile); its dL/da is
//    scaled by the upstream gradient in the backward (sim_loss_scale). Extra memory: O(A*L*D + K*D) only.
//  * rowtile (sim_loss_text_prep/tile/accumulate/text_finish + the engine's matmul): per chunk of R rows, one
//    [R, K] tile of S from the tuned matmul, the epilogue in place, dL/da[chunk] = G (alpha t) and U += G^T a[chunk]
//    by matmul; 3 matmul-sized products in all (fused: 4). Extra memory: O(R*K + A*L*D + K*D), R*K <= 8 MiB.
//
// Compact labels (one u32 frame mask per positive (audio, text) pair, bit l = frame l positive), packed in one
// u32 buffer `lab` by src/ops/sim_loss.ts:
//   [0, A]        aPtr: positives of audio i are entries aPtr[i] .. aPtr[i+1]-1 of (aText, aMask), sorted by text
//   oAT, oAM      aText[P], aMask[P]
//   oTP           tPtr[K+1]: positives of text k, sorted by audio, in (tAudio, tMask)
//   oTA, oTM      tAudio[P], tMask[P]
//   oAV, oTV      audio-valid[A], text-valid[K] (0/1)
// Pass 1 walks audio i's sorted list with one pointer while it loops over texts in order; pass 2 keeps one
// pointer per owned text while it loops over audios in order: O(1) amortised per (row tile, text block), and a
// text positive in several audios is just several entries of its list.
//
// Thread mapping: register blocking (each invocation owns TR rows x TC texts of the logit tile, vec4 loads, no
// workgroup memory, no barriers): fast on CPU adapters (lavapipe), where storage loads dominate; on GPUs it is a
// plain one-thread-per-block design with enough invocations (the launcher splits pass 2's row loop).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

const R = (n: number, f: (i: number) => string, sep = '\n    ') => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/** Shared stable math: exp(-|h|) is computed once and gives both softplus(-y h) and sigmoid(h). */
const MATH = /* wgsl */ `
// log(1 + e) for e in [0, 1], accurate for small e.
fn log1p_s(e: f32) -> f32 { return select(log(1.0 + e), e * (1.0 - e * (0.5 - e * 0.33333333)), e < 1e-4); }
fn log1p_4(e: vec4<f32>) -> vec4<f32> { return select(log(1.0 + e), e * (1.0 - e * (0.5 - e * 0.33333333)), e < vec4<f32>(1e-4)); }
// sigmoid(h) from en = exp(-|h|)
fn sig_en(h: f32, en: f32) -> f32 { return select(en, 1.0, h >= 0.0) / (1.0 + en); }
fn sig_en4(h: vec4<f32>, en: vec4<f32>) -> vec4<f32> { return select(en, vec4<f32>(1.0), h >= vec4<f32>(0.0)) / (1.0 + en); }
// softplus(x) = max(x, 0) + log1p(exp(-|x|))
fn softplus_s(x: f32) -> f32 { return max(x, 0.0) + log1p_s(exp(-abs(x))); }
`;

/**
 * Text-side operand of both passes: tx [(D + 3), Kp] with tx[d, k] = t[k, d] (texts contiguous, so a vec4 holds 4
 * texts), then the rows alpha, beta and text-valid (0/1); zero for the padding texts K <= k < Kp (Kp a multiple of
 * the text block). One invocation per element. (t stays as is for pass 1's dL/da update.)
 */
export const simLossPrep = new KernelFamily<{}>('sim_loss_prep', () => ({
  name: 'sim_loss_prep',
  bindings: [{ name: 't', access: 'read' }, { name: 'alpha', access: 'read' }, { name: 'beta', access: 'read' },
    { name: 'lab', access: 'read', type: 'u32' }, { name: 'tx', access: 'read_write' }],
  params: [['K', 'u32'], ['Kp', 'u32'], ['D', 'u32'], ['oTV', 'u32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let e = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (e >= (p.D + 3u) * p.Kp) { return; }
  let d = e / p.Kp;
  let k = e % p.Kp;
  var v = 0.0;
  if (k < p.K) {
    if (d < p.D) { v = t[k * p.D + d]; }
    else if (d == p.D) { v = alpha[k]; }
    else if (d == p.D + 1u) { v = beta[k]; }
    else { v = f32(lab[p.oTV + k]); }
  }
  tx[e] = v;
}`,
}));

/**
 * The logit tile S[j][v] (rows r0+j, texts k0+4v..k0+4v+3 as a vec4) of both passes, register-blocked like matmul_rb:
 * per 4 dims, TR vec4 loads of a and 4*NV vec4 loads of tx feed TR*NV*4 vec4 FMAs.
 */
function tileS(TR: number, NV: number): string {
  return `
      ${R(TR * NV, (x) => `acc[${x}] = vec4<f32>(0.0);`, ' ')}
      for (var e = 0u; e < p.D4; e = e + 1u) {
    ${R(TR, (j) => `let a${j} = a[(r0 + ${j}u) * p.D4 + e];`)}
    ${R(4 * NV, (x) => `let b${x} = tx[(4u * e + ${Math.floor(x / NV)}u) * p.Kp4 + kb + ${x % NV}u];`)}
    ${R(TR * NV, (x) => { const j = Math.floor(x / NV), v = x % NV; return `acc[${x}] = acc[${x}] + a${j}.x * b${v} + a${j}.y * b${NV + v} + a${j}.z * b${2 * NV + v} + a${j}.w * b${3 * NV + v};`; })}
      }`;
}

export interface RowsVariant { [k: string]: number | boolean; grad: boolean; TR: number; NV: number; WG: number }

/**
 * Pass 1 (forward of L_SED, and dL/da when `grad`): one invocation per tile of TR frames of one audio (TR | L),
 * looping over all texts in blocks of TC = 4*NV: S = a[rows] tx[:, block] in registers, loss_rows[r] =
 * sum_k w softplus(-y h) and, with grad, da[r] = sum_k w (sigmoid(h) - q) alpha_k t_k (unscaled by the upstream
 * gradient), accumulated block by block in the invocation's own rows of da (read-modify-write, no atomics).
 * Shapes: a [A*L, D], tx [(D+3), Kp], t [K, D], loss_rows [A*L], da [A*L, D]. Saves nothing (da is the saved state).
 */
export const simLossRows = new KernelFamily<RowsVariant>('sim_loss_rows', ({ grad, TR, NV, WG }) => {
  const TC = 4 * NV;
  return {
    name: `sim_loss_rows${grad ? '_grad' : ''}_${TR}x${TC}_wg${WG}`,
    bindings: [
      { name: 'a', access: 'read', type: 'vec4<f32>' }, { name: 'tx', access: 'read', type: 'vec4<f32>' },
      { name: 't', access: 'read', type: 'vec4<f32>' }, { name: 'lab', access: 'read', type: 'u32' },
      { name: 'loss_rows', access: 'read_write' },
      ...(grad ? [{ name: 'da', access: 'read_write' as const, type: 'vec4<f32>' as const }] : []),
    ],
    params: [['A', 'u32'], ['K', 'u32'], ['Kp', 'u32'], ['L', 'u32'], ['D4', 'u32'], ['Kp4', 'u32'], ['tpa', 'u32'], ['scale', 'f32'],
      ['oAT', 'u32'], ['oAM', 'u32'], ['oAV', 'u32']],
    workgroup: [WG],
    body: MATH + wgsl`
const TR: u32 = ${TR}u;
const TC: u32 = ${TC}u;
${ENTRY} {
  let tile = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (tile >= p.A * p.tpa) { return; }
  let i = tile / p.tpa;
  let l0 = (tile % p.tpa) * TR;
  let r0 = i * p.L + l0;
  let D = p.D4 * 4u;
  // (explicit zeroing everywhere: a var declared without initializer inside a loop body was not re-zeroed per
  // iteration on lavapipe)
  var ls: array<vec4<f32>, ${TR}>;
  ${R(TR, (j) => `ls[${j}] = vec4<f32>(0.0);`, ' ')}
  var acc: array<vec4<f32>, ${TR * NV}>;
  var qmv: array<u32, ${TC}>;
  if (lab[p.oAV + i] != 0u) {
    var ptr = lab[i];
    let pend = lab[i + 1u];
    for (var k0 = 0u; k0 < p.Kp; k0 = k0 + TC) {
      let kb = k0 / 4u;
      // frame masks of this audio for texts k0 .. k0+TC-1 (0 = all frames negative)
      ${R(TC, (c) => `qmv[${c}] = 0u;`, ' ')}
      loop {
        if (ptr >= pend) { break; }
        let kk = lab[p.oAT + ptr];
        if (kk >= k0 + TC) { break; }
        qmv[kk - k0] = lab[p.oAM + ptr];
        ptr = ptr + 1u;
      }
${tileS(TR, NV)}
      // epilogue, 4 texts per vec4: loss terms, and (grad) acc <- w alpha (sigmoid(h) - q)
    ${R(NV, (v) => `{
      let al = tx[D * p.Kp4 + kb + ${v}u];
      let be = tx[(D + 1u) * p.Kp4 + kb + ${v}u];
      let w = p.scale * tx[(D + 2u) * p.Kp4 + kb + ${v}u];
      let qm = vec4<u32>(qmv[${4 * v}], qmv[${4 * v + 1}], qmv[${4 * v + 2}], qmv[${4 * v + 3}]) >> vec4<u32>(l0);
      ${R(TR, (j) => `{
        let h = al * acc[${j * NV + v}] + be;
        let q = vec4<f32>((qm >> vec4<u32>(${j}u)) & vec4<u32>(1u));
        let en = exp(-abs(h));
        ls[${j}] = ls[${j}] + w * (max((1.0 - 2.0 * q) * h, vec4<f32>(0.0)) + log1p_4(en));${grad ? `
        acc[${j * NV + v}] = w * al * (sig_en4(h, en) - q);` : ''}
      }`, '\n      ')}
    }`)}
#if ${grad}
      // da[rows] += G t[block]
      let first = k0 == 0u;
      for (var e = 0u; e < p.D4; e = e + 1u) {
    ${R(TC, (c) => `let t${c} = t[min(k0 + ${c}u, p.K - 1u) * p.D4 + e];`)}
    ${R(TR, (j) => `{
          let o = (r0 + ${j}u) * p.D4 + e;
          da[o] = select(da[o], vec4<f32>(0.0), first) ${R(NV, (v) => `+ acc[${j * NV + v}].x * t${4 * v} + acc[${j * NV + v}].y * t${4 * v + 1} + acc[${j * NV + v}].z * t${4 * v + 2} + acc[${j * NV + v}].w * t${4 * v + 3}`, ' ')};
        }`)}
      }
#endif
    }
  } else {
#if ${grad}
    for (var e = 0u; e < p.D4; e = e + 1u) {
    ${R(TR, (j) => `da[(r0 + ${j}u) * p.D4 + e] = vec4<f32>(0.0);`)}
    }
#endif
  }
  ${R(TR, (j) => `loss_rows[r0 + ${j}u] = dot(ls[${j}], vec4<f32>(1.0));`, '\n  ')}
}`,
  };
});

export interface ColsVariant { [k: string]: number | boolean; TR: number; NV: number; WG: number }

/**
 * Pass 2 (backward of L_SED for t and alpha): one invocation per (block of TC = 4*NV texts, split of the audios),
 * looping over the split's audios and their frames in tiles of TR rows (TR | L): recomputes S and
 * G = w (sigmoid(h) - q) with w = scale * gs[0] (the upstream gradient), then dt[k] += alpha_k G^T a[rows] and
 * dalpha[k] += sum G * S. Shapes: dt [P, K, D], dalpha [P, K] partials over the P audio splits (P = 1: the final
 * gradients).
 */
export const simLossCols = new KernelFamily<ColsVariant>('sim_loss_cols', ({ TR, NV, WG }) => {
  const TC = 4 * NV;
  const comp = ['x', 'y', 'z', 'w'];
  return {
    name: `sim_loss_cols_${TR}x${TC}_wg${WG}`,
    bindings: [
      { name: 'a', access: 'read', type: 'vec4<f32>' }, { name: 'tx', access: 'read', type: 'vec4<f32>' },
      { name: 'lab', access: 'read', type: 'u32' }, { name: 'gs', access: 'read' },
      { name: 'dt', access: 'read_write', type: 'vec4<f32>' }, { name: 'dalpha', access: 'read_write' },
    ],
    params: [['A', 'u32'], ['K', 'u32'], ['L', 'u32'], ['D4', 'u32'], ['Kp4', 'u32'], ['scale', 'f32'], ['ctiles', 'u32'], ['P', 'u32'], ['aps', 'u32'],
      ['oTP', 'u32'], ['oTA', 'u32'], ['oTM', 'u32'], ['oAV', 'u32']],
    workgroup: [WG],
    body: MATH + wgsl`
const TR: u32 = ${TR}u;
const TC: u32 = ${TC}u;
${ENTRY} {
  let inv = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (inv >= p.ctiles * p.P) { return; }
  let ct = inv % p.ctiles;
  let sp = inv / p.ctiles;
  let k0 = ct * TC;
  let kb = k0 / 4u;
  let i0 = min(sp * p.aps, p.A);
  let i1 = min(i0 + p.aps, p.A);
  let D = p.D4 * 4u;
  let wg = p.scale * gs[0];
  let ob = sp * p.K;
  var al: array<vec4<f32>, ${NV}>;
  var be: array<vec4<f32>, ${NV}>;
  var w: array<vec4<f32>, ${NV}>;
  var dal: array<vec4<f32>, ${NV}>;
  ${R(NV, (v) => `al[${v}] = tx[D * p.Kp4 + kb + ${v}u]; be[${v}] = tx[(D + 1u) * p.Kp4 + kb + ${v}u]; w[${v}] = wg * tx[(D + 2u) * p.Kp4 + kb + ${v}u]; dal[${v}] = vec4<f32>(0.0);`, '\n  ')}
  // per owned text: its positives (sorted by audio), advanced to the split's first audio
  var ptrv: array<u32, ${TC}>;
  var endv: array<u32, ${TC}>;
  var qmv: array<u32, ${TC}>;
  for (var c = 0u; c < TC; c = c + 1u) {
    let k = k0 + c;
    let kl = min(k, p.K - 1u);
    ptrv[c] = lab[p.oTP + kl];
    endv[c] = select(ptrv[c], lab[p.oTP + kl + 1u], k < p.K);
    loop { if (ptrv[c] >= endv[c]) { break; } if (lab[p.oTA + ptrv[c]] >= i0) { break; } ptrv[c] = ptrv[c] + 1u; }
  }
  var acc: array<vec4<f32>, ${TR * NV}>;
  var first = true;
  for (var i = i0; i < i1; i = i + 1u) {
    if (lab[p.oAV + i] == 0u) { continue; }
    for (var c = 0u; c < TC; c = c + 1u) {
      loop { if (ptrv[c] >= endv[c]) { break; } if (lab[p.oTA + ptrv[c]] >= i) { break; } ptrv[c] = ptrv[c] + 1u; }
      qmv[c] = 0u;
      if (ptrv[c] < endv[c]) { if (lab[p.oTA + ptrv[c]] == i) { qmv[c] = lab[p.oTM + ptrv[c]]; } }
    }
    for (var l0 = 0u; l0 < p.L; l0 = l0 + TR) {
      let r0 = i * p.L + l0;
${tileS(TR, NV)}
    ${R(NV, (v) => `{
      let qm = vec4<u32>(qmv[${4 * v}], qmv[${4 * v + 1}], qmv[${4 * v + 2}], qmv[${4 * v + 3}]) >> vec4<u32>(l0);
      ${R(TR, (j) => `{
        let sv = acc[${j * NV + v}];
        let h = al[${v}] * sv + be[${v}];
        let q = vec4<f32>((qm >> vec4<u32>(${j}u)) & vec4<u32>(1u));
        let g = w[${v}] * (sig_en4(h, exp(-abs(h))) - q);
        dal[${v}] = dal[${v}] + g * sv;
        acc[${j * NV + v}] = g * al[${v}];
      }`, '\n      ')}
    }`)}
      for (var e = 0u; e < p.D4; e = e + 1u) {
    ${R(TR, (j) => `let a${j} = a[(r0 + ${j}u) * p.D4 + e];`)}
    ${R(TC, (c) => { const v = Math.floor(c / 4), cc = comp[c % 4]; return `if (k0 + ${c}u < p.K) {
          let o = (ob + k0 + ${c}u) * p.D4 + e;
          dt[o] = select(dt[o], vec4<f32>(0.0), first) ${R(TR, (j) => `+ acc[${j * NV + v}].${cc} * a${j}`, ' ')};
        }`; })}
      }
      first = false;
    }
  }
  ${R(TC, (c) => `if (k0 + ${c}u < p.K) {
    if (first) { for (var e = 0u; e < p.D4; e = e + 1u) { dt[(ob + k0 + ${c}u) * p.D4 + e] = vec4<f32>(0.0); } }
    dalpha[ob + k0 + ${c}u] = dal[${Math.floor(c / 4)}].${comp[c % 4]};
  }`, '\n  ')}
}`,
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Row-tile design (src/ops/sim_loss.ts 'rowtile'): per chunk of R rows (whole clips), S = a[chunk] t^T [R, K] comes
// from the tuned matmul, sim_loss_tile turns it into loss terms and G in place, and two more matmuls give
// dL/da[chunk] = G (alpha t) and U += G^T a[chunk]; at the end dL/dt = alpha U, dL/dalpha = <U, t>. Extra memory
// is one [R, K] tile (R << A*L), never [A, K, L].
// ---------------------------------------------------------------------------------------------------------------

/**
 * Per-text operands of the row-tile design: ptx[k] = (alpha_k, beta_k, valid_k, 0) and, with `scaled`,
 * at[k, :] = alpha_k t_k (the right operand of dL/da = G (alpha t)). One invocation per text (loops over D).
 */
export const simLossTextPrep = new KernelFamily<{ scaled: boolean }>('sim_loss_text_prep', ({ scaled }) => ({
  name: `sim_loss_text_prep${scaled ? '_scaled' : ''}`,
  bindings: [{ name: 't', access: 'read', type: 'vec4<f32>' }, { name: 'alpha', access: 'read' }, { name: 'beta', access: 'read' },
    { name: 'lab', access: 'read', type: 'u32' }, { name: 'ptx', access: 'read_write', type: 'vec4<f32>' },
    ...(scaled ? [{ name: 'at', access: 'read_write' as const, type: 'vec4<f32>' as const }] : [])],
  params: [['K', 'u32'], ['D4', 'u32'], ['oTV', 'u32']],
  workgroup: [64],
  body: wgsl`
${ENTRY} {
  let k = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (k >= p.K) { return; }
  let al = alpha[k];
  ptx[k] = vec4<f32>(al, beta[k], f32(lab[p.oTV + k]), 0.0);
#if ${scaled}
  for (var e = 0u; e < p.D4; e = e + 1u) { at[k * p.D4 + e] = al * t[k * p.D4 + e]; }
#endif
}`,
}));

/**
 * Row-tile epilogue: s [R, K] holds S = a[r0 + r] . t_k for the chunk's rows; one invocation per row r:
 * loss_rows[r0 + r] = sum_k w softplus(-y h) and, with grad, s[r, k] <- w (sigmoid(h) - q) in place (G), with
 * h = alpha_k S + beta_k, w = scale * ma_i * mt_k, q from the row's audio's sorted positives (one pointer).
 */
export const simLossTile = new KernelFamily<{ grad: boolean }>('sim_loss_tile', ({ grad }) => ({
  name: `sim_loss_tile${grad ? '_grad' : ''}`,
  bindings: [{ name: 's', access: 'read_write' }, { name: 'ptx', access: 'read', type: 'vec4<f32>' },
    { name: 'lab', access: 'read', type: 'u32' }, { name: 'loss_rows', access: 'read_write' }],
  params: [['K', 'u32'], ['L', 'u32'], ['R', 'u32'], ['r0', 'u32'], ['scale', 'f32'], ['oAT', 'u32'], ['oAM', 'u32'], ['oAV', 'u32']],
  workgroup: [64],
  body: MATH + wgsl`
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.R) { return; }
  let row = p.r0 + r;
  let i = row / p.L;
  let l = row % p.L;
  let w = select(0.0, p.scale, lab[p.oAV + i] != 0u);
  var ptr = lab[i];
  let pend = lab[i + 1u];
  var nk = select(p.K, lab[p.oAT + ptr], ptr < pend);   // next text with a positive label for this audio
  var ls = 0.0;
  let base = r * p.K;
  for (var k = 0u; k < p.K; k = k + 1u) {
    var q = 0.0;
    if (k == nk) {
      q = f32((lab[p.oAM + ptr] >> l) & 1u);
      ptr = ptr + 1u;
      nk = select(p.K, lab[p.oAT + ptr], ptr < pend);
    }
    let pt = ptx[k];
    let wk = w * pt.z;
    let h = pt.x * s[base + k] + pt.y;
    let en = exp(-abs(h));
    ls = ls + wk * (max((1.0 - 2.0 * q) * h, 0.0) + log1p_s(en));
#if ${grad}
    s[base + k] = wk * (sig_en(h, en) - q);
#endif
  }
  loss_rows[row] = ls;
}`,
}));

/** x[i] += y[i] (vec4; accumulates the per-chunk U = G^T a). One invocation per vec4. */
export const simLossAccumulate = new KernelFamily<{}>('sim_loss_accumulate', () => ({
  name: 'sim_loss_accumulate',
  bindings: [{ name: 'x', access: 'read_write', type: 'vec4<f32>' }, { name: 'y', access: 'read', type: 'vec4<f32>' }],
  params: [['n4', 'u32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n4) { return; }
  x[i] = x[i] + y[i];
}`,
}));

/** From U = G^T a [K, D]: dalpha[k] = <U_k, t_k>, then U_k <- alpha_k U_k (= dL/dt, in place). One invocation per text. */
export const simLossTextFinish = new KernelFamily<{}>('sim_loss_text_finish', () => ({
  name: 'sim_loss_text_finish',
  bindings: [{ name: 'u', access: 'read_write', type: 'vec4<f32>' }, { name: 't', access: 'read', type: 'vec4<f32>' },
    { name: 'alpha', access: 'read' }, { name: 'dalpha', access: 'read_write' }],
  params: [['K', 'u32'], ['D4', 'u32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let k = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (k >= p.K) { return; }
  let al = alpha[k];
  var s = vec4<f32>(0.0);
  for (var e = 0u; e < p.D4; e = e + 1u) {
    let o = k * p.D4 + e;
    let uv = u[o];
    s = s + uv * t[o];
    u[o] = al * uv;
  }
  dalpha[k] = s.x + s.y + s.z + s.w;
}`,
}));

/** x[i] *= gs[0] in place (scales gradients computed with the loss by the upstream gradient). One invocation per vec4 (or element). */
export const simLossScale = new KernelFamily<{ vec: boolean }>('sim_loss_scale', ({ vec }) => ({
  name: `sim_loss_scale${vec ? '_vec4' : ''}`,
  bindings: [{ name: 'x', access: 'read_write', type: vec ? 'vec4<f32>' : 'f32' }, { name: 'gs', access: 'read' }],
  params: [['n', 'u32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
  x[i] = x[i] * gs[0];
}`,
}));

/**
 * CLIP InfoNCE (§7.1), stage 1: log-sum-exp of every row (j < N) and every column (j >= N) of the logits
 * z [N, N] (z = tau * A T^T): lse[j]. One invocation per row / column (max, then sum of exp). Saved for backward.
 */
export const simLossClipLse = new KernelFamily<{}>('sim_loss_clip_lse', () => ({
  name: 'sim_loss_clip_lse',
  bindings: [{ name: 'z', access: 'read' }, { name: 'lse', access: 'read_write' }],
  params: [['N', 'u32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let j = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (j >= 2u * p.N) { return; }
  let col = j >= p.N;
  let q = select(j, j - p.N, col);
  let base = select(q * p.N, q, col);
  let st = select(1u, p.N, col);
  var m = -3.0e38;
  for (var c = 0u; c < p.N; c = c + 1u) { m = max(m, z[base + c * st]); }
  var s = 0.0;
  for (var c = 0u; c < p.N; c = c + 1u) { s = s + exp(z[base + c * st] - m); }
  lse[j] = m + log(s);
}`,
}));

/**
 * CLIP stage 2: loss = weight * (sum_j lse[j] - 2 sum_i z[i, i]) / (2N)
 *   = weight * (CE(Z, arange) + CE(Z^T, arange)) / 2 (mean-reduced). One invocation (2N + N terms).
 */
export const simLossClipFinish = new KernelFamily<{}>('sim_loss_clip_finish', () => ({
  name: 'sim_loss_clip_finish',
  bindings: [{ name: 'z', access: 'read' }, { name: 'lse', access: 'read' }, { name: 'loss', access: 'read_write' }],
  params: [['N', 'u32'], ['weight', 'f32']],
  workgroup: [1],
  body: `
${ENTRY} {
  if (linear_wg(wid, nwg) != 0u) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.N; i = i + 1u) { s = s + (lse[i] - z[i * p.N + i]) + (lse[p.N + i] - z[i * p.N + i]); }
  loss[0] = p.weight * s / (2.0 * f32(p.N));
}`,
}));

/**
 * CLIP backward: dz[i, j] = gs[0] * weight * (P^r_ij + P^c_ij - 2 delta_ij) / (2N), P^r = exp(z - lse_row[i]),
 * P^c = exp(z - lse_col[j]) (row / column softmax). One invocation per element.
 */
export const simLossClipBackward = new KernelFamily<{}>('sim_loss_clip_backward', () => ({
  name: 'sim_loss_clip_backward',
  bindings: [{ name: 'z', access: 'read' }, { name: 'lse', access: 'read' }, { name: 'gs', access: 'read' }, { name: 'dz', access: 'read_write' }],
  params: [['N', 'u32'], ['weight', 'f32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let e = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (e >= p.N * p.N) { return; }
  let i = e / p.N;
  let j = e % p.N;
  let zz = z[e];
  let d = select(0.0, 2.0, i == j);
  dz[e] = gs[0] * p.weight * (exp(zz - lse[i]) + exp(zz - lse[p.N + j]) - d) / (2.0 * f32(p.N));
}`,
}));

export type MapMethod = 'unbiased' | 'approximate';
export interface MapVariant { [k: string]: string | boolean; method: MapMethod; cross: boolean; median: boolean; renorm: boolean }

/**
 * Inference map (§6.1/§6.2): cos = <a_bl, t_n> (optionally / (max(|a_bl|, 1e-12) max(|t_n|, 1e-12))), h = alpha_n cos + beta_n;
 *   unbiased:    log s = logsig(h) - logaddexp(logsig(h), logsig(beta_n)), s = exp(log s)  (no 0/0 at large |h|)
 *   approximate: s = sigmoid(alpha_n cos).
 * cross: reads S [B*L, N] = Aflat T^T (from the matmul) and writes out [B, N, L], one invocation per (b, n);
 * paired: n = b, computes the L dot products itself, out [B, L], one invocation per b. Optional 3-tap median over
 * l with scipy's 'reflect' boundary (edge sample duplicated, so the first and last frames are unchanged).
 * norms: |a| [B*L] then |t| [N] (read only with renorm). L <= 64.
 */
export const simLossMap = new KernelFamily<MapVariant>('sim_loss_map', ({ method, cross, median, renorm }) => ({
  name: `sim_loss_map_${method}${cross ? '_cross' : '_paired'}${median ? '_median' : ''}${renorm ? '_renorm' : ''}`,
  bindings: [
    { name: 'src', access: 'read' }, { name: 'tx', access: 'read' }, { name: 'alpha', access: 'read' }, { name: 'beta', access: 'read' },
    { name: 'norms', access: 'read' }, { name: 'out', access: 'read_write' },
  ],
  params: [['B', 'u32'], ['N', 'u32'], ['L', 'u32'], ['D', 'u32']],
  workgroup: [64],
  body: MATH + wgsl`
fn logsig(x: f32) -> f32 { return -softplus_s(-x); }
${ENTRY} {
  let inv = linear_wg(wid, nwg) * WG_SIZE + lid;
#if ${cross}
  if (inv >= p.B * p.N) { return; }
  let b = inv / p.N;
  let n = inv % p.N;
#else
  if (inv >= p.B) { return; }
  let b = inv;
  let n = inv;
#endif
  let al = alpha[n];
  let be = beta[n];
  let lsb = logsig(be);
  var v: array<f32, 64>;
  for (var l = 0u; l < p.L; l = l + 1u) {
    let r = b * p.L + l;
#if ${cross}
    var c = src[r * p.N + n];
#else
    var c: f32;
    c = 0.0;
    for (var d = 0u; d < p.D; d = d + 1u) { c = c + src[r * p.D + d] * tx[n * p.D + d]; }
#endif
#if ${renorm}
    c = c / (max(norms[r], 1e-12) * max(norms[p.B * p.L + n], 1e-12));
#endif
#if ${method === 'unbiased'}
    let lsh = logsig(al * c + be);
    let m = max(lsh, lsb);
    let lse = m + log1p_s(exp(-abs(lsh - lsb)));
    v[l] = exp(lsh - lse);
#else
    let h = al * c;
    v[l] = sig_en(h, exp(-abs(h)));
#endif
  }
  let ob = inv * p.L;
  for (var l = 0u; l < p.L; l = l + 1u) {
#if ${median}
    let x0 = v[select(l - 1u, 0u, l == 0u)];
    let x2 = v[min(l + 1u, p.L - 1u)];
    let x1 = v[l];
    out[ob + l] = max(min(x0, x1), min(max(x0, x1), x2));
#else
    out[ob + l] = v[l];
#endif
  }
}`,
}));

/** Debug check: count[0] = number of non-finite values of x (NaN or +-Inf, by the exponent bits). One invocation per chunk of 256. */
export const simLossCountNonFinite = new KernelFamily<{}>('sim_loss_count_nonfinite', () => ({
  name: 'sim_loss_count_nonfinite',
  bindings: [{ name: 'x', access: 'read', type: 'u32' }, { name: 'count', access: 'read_write', type: 'atomic<u32>' }],
  params: [['n', 'u32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let c = linear_wg(wid, nwg) * WG_SIZE + lid;
  let i0 = c * 256u;
  if (i0 >= p.n) { return; }
  let i1 = min(i0 + 256u, p.n);
  var bad = 0u;
  for (var i = i0; i < i1; i = i + 1u) { if ((x[i] & 0x7f800000u) == 0x7f800000u) { bad = bad + 1u; } }
  if (bad != 0u) { atomicAdd(&count[0], bad); }
}`,
}));
