// Launchers of the sim_loss family (kernels/sim_loss.wgsl.ts): compact SED labels (validated and packed on the
// CPU, uploaded once), the two passes of the chunked frame-wise loss, the CLIP cross-entropy, the inference map
// and a debug non-finite check. Every launcher validates shapes and limits and throws, naming the op, before
// anything is recorded.
import {
  simLossPrep, simLossRows, simLossCols, simLossScale, simLossTextPrep, simLossTile, simLossAccumulate, simLossTextFinish, simLossClipLse, simLossClipFinish, simLossClipBackward, simLossMap,
  simLossCountNonFinite, type MapMethod,
} from '../../kernels/sim_loss.wgsl.ts';
import { reduceOp } from './reduce.ts';
import { matmulOp } from './matmul.ts';
import { fillOp } from './elementwise.ts';
import { type Runtime, type Binding, groups, checkBinding, fail } from './common.ts';

export type { MapMethod };

// ---------------------------------------------------------------------------------------------------------------
// Compact labels
// ---------------------------------------------------------------------------------------------------------------

/**
 * Frame labels of an SED batch in compact form: the positive (audio, text) pairs, each with a u32 frame mask
 * (bit l set = frame l of that audio is positive for that text); every other (audio, text, frame) is negative.
 * A pair listed twice has its masks OR-ed. Masked audio/text slots (false / 0) are left out of the loss.
 */
export interface SedLabels {
  /** Audio slots, text slots, frames per clip (default 32, at most 32). */
  A: number;
  K: number;
  L?: number;
  /**
   * Positive pairs: [audio i, text k, frame mask] triples, or the loaders' struct of arrays
   * { audio, text, frames } (src/data/loader.ts SedBatch.positives: a SedBatch is a SedLabels).
   */
  positives: ArrayLike<readonly [number, number, number]> | { audio: ArrayLike<number>; text: ArrayLike<number>; frames: ArrayLike<number> };
  /** m^a [A] (default all valid). */
  audioMask?: ArrayLike<number | boolean>;
  /** m^t [K] (default all valid). */
  textMask?: ArrayLike<number | boolean>;
}

/** Labels of the common simulated-mixture case: text k is positive only in audio owner[k] (-1: none) on frames[k]. */
export function labelsFromOwners(A: number, owner: ArrayLike<number>, frames: ArrayLike<number>, L = 32,
  masks: { audioMask?: ArrayLike<number | boolean>; textMask?: ArrayLike<number | boolean> } = {}): SedLabels {
  if (owner.length !== frames.length) fail('sed_labels', `owner has ${owner.length} entries but frames has ${frames.length}`);
  const positives: [number, number, number][] = [];
  for (let k = 0; k < owner.length; k++) if (owner[k] >= 0) positives.push([owner[k], k, frames[k]]);
  return { A, K: owner.length, L, positives, ...masks };
}

/** Validated, merged and packed labels (CPU side), see the buffer layout in kernels/sim_loss.wgsl.ts. */
export interface PackedSedLabels {
  A: number; K: number; L: number;
  /** Distinct positive pairs, sorted by (audio, text). */
  pairAudio: Uint32Array; pairText: Uint32Array; pairMask: Uint32Array;
  audioValid: Uint8Array; textValid: Uint8Array;
  nValidAudio: number; nValidText: number;
  /** sum_ik M_ik = nValidAudio * nValidText. */
  nValidPairs: number;
  /** Positive frames per text, P_k = sum_i popcount(mask_ik) (all audios, as the reference PriorLoss counts). */
  positiveFrames: Float64Array;
  /** The u32 buffer uploaded to the GPU and its section offsets (in u32 elements). */
  lab: Uint32Array;
  off: { oAT: number; oAM: number; oTP: number; oTA: number; oTM: number; oAV: number; oTV: number };
}

const isInt = (x: number) => Number.isInteger(x);

function popcount(x: number): number { x = x - ((x >>> 1) & 0x55555555); x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24; }

function maskArray(op: string, name: string, m: ArrayLike<number | boolean> | undefined, n: number): Uint8Array {
  const out = new Uint8Array(n).fill(1);
  if (!m) return out;
  if (m.length !== n) fail(op, `${name} has ${m.length} entries, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const v = m[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v === false || v === 0) out[i] = 0;
    else fail(op, `${name}[${i}] = ${String(v)} is not 0/1 or a boolean`);
  }
  return out;
}

/** Validate, merge duplicates, sort and pack compact labels. Throws naming the offending pair. */
export function packSedLabels(labels: SedLabels, op = 'sed_loss'): PackedSedLabels {
  const { A, K } = labels;
  const L = labels.L ?? 32;
  if (!isInt(A) || A < 1) fail(op, `empty batch: A = ${A} audio slots (need at least 1)`);
  if (!isInt(K) || K < 1) fail(op, `empty batch: K = ${K} text slots (need at least 1)`);
  if (!isInt(L) || L < 1 || L > 32) fail(op, `L = ${L} frames per clip is not supported (1 <= L <= 32: one u32 frame mask per pair)`);
  const audioValid = maskArray(op, 'audioMask', labels.audioMask, A);
  const textValid = maskArray(op, 'textMask', labels.textMask, K);
  const highBits = L === 32 ? 0 : (~((1 << L) - 1)) >>> 0;
  const map = new Map<number, number>();
  const pos = labels.positives;
  const soa = !Array.isArray(pos) && 'audio' in pos ? pos as { audio: ArrayLike<number>; text: ArrayLike<number>; frames: ArrayLike<number> } : null;
  if (soa && (soa.text.length !== soa.audio.length || soa.frames.length !== soa.audio.length)) fail(op, `positives: audio, text and frames arrays differ in length (${soa.audio.length}, ${soa.text.length}, ${soa.frames.length})`);
  const count = soa ? soa.audio.length : (pos as ArrayLike<readonly [number, number, number]>).length;
  for (let n = 0; n < count; n++) {
    let i: number, k: number, m: number;
    if (soa) { i = soa.audio[n]; k = soa.text[n]; m = soa.frames[n]; }
    else {
      const e = (pos as ArrayLike<readonly [number, number, number]>)[n];
      if (!e || e.length !== 3) fail(op, `positive #${n} must be [audio, text, frameMask]`);
      [i, k, m] = e;
    }
    if (!isInt(i) || i < 0 || i >= A) fail(op, `positive #${n}: audio index ${i} is outside [0, ${A})`);
    if (!isInt(k) || k < 0 || k >= K) fail(op, `positive #${n}: text index ${k} is outside [0, ${K})`);
    if (!isInt(m) || m < 0 || m > 0xffffffff) fail(op, `positive #${n} (audio ${i}, text ${k}): frame mask ${m} is not a u32`);
    if ((m & highBits) !== 0) fail(op, `positive #${n} (audio ${i}, text ${k}): frame mask 0x${(m >>> 0).toString(16)} sets frames beyond L = ${L} (bits >= ${L})`);
    const key = i * K + k;
    map.set(key, ((map.get(key) ?? 0) | m) >>> 0);
  }
  const keys = [...map.keys()].sort((x, y) => x - y);
  const P = keys.length;
  const pairAudio = new Uint32Array(P), pairText = new Uint32Array(P), pairMask = new Uint32Array(P);
  keys.forEach((key, n) => { pairAudio[n] = Math.floor(key / K); pairText[n] = key % K; pairMask[n] = map.get(key)!; });
  let nValidAudio = 0, nValidText = 0;
  for (let i = 0; i < A; i++) nValidAudio += audioValid[i];
  for (let k = 0; k < K; k++) nValidText += textValid[k];
  const nValidPairs = nValidAudio * nValidText;
  if (nValidPairs === 0) fail(op, `empty batch: no valid (audio, text) pair (${nValidAudio} of ${A} audio slots and ${nValidText} of ${K} text slots are unmasked)`);
  const positiveFrames = new Float64Array(K);
  for (let n = 0; n < P; n++) positiveFrames[pairText[n]] += popcount(pairMask[n]);
  // pack: aPtr[A+1] aText[P] aMask[P] tPtr[K+1] tAudio[P] tMask[P] aValid[A] tValid[K]
  const oAT = A + 1, oAM = oAT + P, oTP = oAM + P, oTA = oTP + K + 1, oTM = oTA + P, oAV = oTM + P, oTV = oAV + A;
  const lab = new Uint32Array(oTV + K);
  for (let n = 0; n < P; n++) lab[pairAudio[n] + 1]++;
  for (let i = 0; i < A; i++) lab[i + 1] += lab[i];
  lab.set(pairText, oAT); lab.set(pairMask, oAM);          // already sorted by (audio, text)
  const byText = Array.from({ length: P }, (_, n) => n).sort((x, y) => pairText[x] - pairText[y] || pairAudio[x] - pairAudio[y]);
  for (let n = 0; n < P; n++) lab[oTP + pairText[n] + 1]++;
  for (let k = 0; k < K; k++) lab[oTP + k + 1] += lab[oTP + k];
  byText.forEach((n, j) => { lab[oTA + j] = pairAudio[n]; lab[oTM + j] = pairMask[n]; });
  lab.set(audioValid, oAV); lab.set(textValid, oTV);
  return { A, K, L, pairAudio, pairText, pairMask, audioValid, textValid, nValidAudio, nValidText, nValidPairs, positiveFrames, lab, off: { oAT, oAM, oTP, oTA, oTM, oAV, oTV } };
}

// ---------------------------------------------------------------------------------------------------------------
// Tiles
// ---------------------------------------------------------------------------------------------------------------

/**
 * Register blocks of the two passes: pass 1 owns TR1 rows and streams texts in blocks of 4*NV1; pass 2 owns 4*NV2
 * texts and streams rows in tiles of TR2; WG invocations per workgroup.
 */
export interface SedTiles { TR1: number; NV1: number; TR2: number; NV2: number; WG: number }

/** Largest of `cands` dividing L (row tiles never straddle two clips). */
function rowTile(L: number, want: number): number { return [want, 16, 8, 4, 2, 1].filter((c) => c <= want).find((c) => L % c === 0) ?? 1; }

/**
 * Default blocks: 8 rows x 8 texts per invocation in both passes, like matmul_rb 8x8, workgroups of 64 (in a few
 * noisy runs on a shared 2-core lavapipe, 8x16 / 4x16 / workgroups of 8 were no faster and 16-wide blocks compile
 * several times slower). rt.choices.simLossTiles = 'TR1xTC1/TR2xTC2/wgWG' overrides.
 */
export function chooseSedTiles(rt: Runtime, L: number): SedTiles {
  const m = /^(\d+)x(\d+)\/(\d+)x(\d+)\/wg(\d+)$/.exec(rt.choices.simLossTiles ?? '');
  const t = m ? { TR1: +m[1], NV1: +m[2] / 4, TR2: +m[3], NV2: +m[4] / 4, WG: +m[5] } : { TR1: 8, NV1: 2, TR2: 8, NV2: 2, WG: 64 };
  return { ...t, TR1: rowTile(L, t.TR1), TR2: rowTile(L, t.TR2) };
}

function checkTiles(op: string, t: SedTiles): void {
  for (const [k, v] of Object.entries(t)) if (!isInt(v) || v < 1) fail(op, `tile ${k} = ${v} must be a positive integer`);
  if (t.NV1 > 4 || t.NV2 > 4 || t.TR1 > 32 || t.TR2 > 32) fail(op, `register block ${JSON.stringify(t)} is too large (TR <= 32, NV <= 4)`);
}

// ---------------------------------------------------------------------------------------------------------------
// L_SED passes
// ---------------------------------------------------------------------------------------------------------------

export interface SedDims { A: number; K: number; L: number; D: number }

function checkSedDims(rt: Runtime, op: string, d: SedDims): void {
  for (const [k, v] of Object.entries(d)) if (!isInt(v) || v < 1) fail(op, `${k} = ${v} must be a positive integer`);
  if (d.D % 4 !== 0) fail(op, `embedding dim D = ${d.D} must be a multiple of 4 (vec4 loads)`);
  checkBinding(rt, op, `audio embeddings [A*L, D] = [${d.A * d.L}, ${d.D}]`, d.A * d.L * d.D);
  checkBinding(rt, op, `text embeddings [K, D] = [${d.K}, ${d.D}]`, d.K * d.D);
}

const gcd = (x: number, y: number): number => (y ? gcd(y, x % y) : x);
/** Texts padded to a multiple of both passes' text blocks. */
function paddedK(K: number, t: SedTiles): number { const b = (16 * t.NV1 * t.NV2) / gcd(4 * t.NV1, 4 * t.NV2); return Math.ceil(K / b) * b; }

/** tx [(D+3), Kp]: t transposed, then alpha, beta, text-valid rows; zero padding. The caller releases it. */
function prepTx(rt: Runtime, op: string, t: Binding, alpha: Binding, beta: Binding, lab: Binding, pk: PackedSedLabels, D: number, Kp: number): GPUBuffer {
  checkBinding(rt, op, `transposed texts [${D + 3}, ${Kp}]`, (D + 3) * Kp);
  const tx = rt.alloc((D + 3) * Kp * 4, 'sed-tx');
  rt.dispatch(simLossPrep.get({}), [t, alpha, beta, lab, tx], { K: pk.K, Kp, D, oTV: pk.off.oTV }, groups((D + 3) * Kp, 256));
  return tx;
}

/**
 * Pass 1: loss[0] = sum of the weighted loss terms (scale = gamma / (L * sum M) folded in) and, when `da` is
 * given, da = dL/da unscaled by the upstream gradient. `lab` is the packed label buffer of `pk`.
 */
export function sedRowsOp(rt: Runtime, a: Binding, t: Binding, alpha: Binding, beta: Binding, lab: Binding, pk: PackedSedLabels,
  loss: Binding, da: Binding | null, D: number, scale: number, tiles = chooseSedTiles(rt, pk.L)): void {
  const op = 'sed_loss';
  const { A, K, L } = pk;
  checkSedDims(rt, op, { A, K, L, D });
  checkTiles(op, tiles);
  const { TR1: TR, NV1: NV, WG } = tiles;
  if (L % TR !== 0) fail(op, `row tile ${TR} does not divide L = ${L}`);
  const rows = A * L;
  const Kp = paddedK(K, tiles);
  const tx = prepTx(rt, op, t, alpha, beta, lab, pk, D, Kp);
  const lossRows = rt.alloc(rows * 4, 'sed-loss-rows');
  const tpa = L / TR;
  rt.dispatch(simLossRows.get({ grad: !!da, TR, NV, WG }), da ? [a, tx, t, lab, lossRows, da] : [a, tx, t, lab, lossRows],
    { A, K, Kp, L, D4: D / 4, Kp4: Kp / 4, tpa, scale, oAT: pk.off.oAT, oAM: pk.off.oAM, oAV: pk.off.oAV }, groups(A * tpa, WG));
  reduceOp(rt, 'sum', lossRows, loss, 1, rows, 1, 1);
  rt.release(lossRows);
  rt.release(tx);
}

/** Audio splits of pass 2: enough invocations for the device, partials [P, K, D] capped at 64 MiB. */
export function sedSplits(rt: Runtime, A: number, K: number, D: number, tiles: SedTiles): number {
  const ctiles = Math.ceil(K / (4 * tiles.NV2));
  const target = rt.adapter.isCPU ? 256 : 16384;
  const cap = Math.max(1, Math.floor(Math.min(64 * 2 ** 20, rt.limits.maxStorageBufferBindingSize) / (K * D * 4)));
  const P = Math.max(1, Math.min(A, cap, Math.ceil(target / ctiles)));
  return Math.ceil(A / Math.ceil(A / P));
}

/**
 * Pass 2: dt = dL/dt [K, D] and dalpha = dL/dalpha [K], scaled by the upstream gradient gs[0]. Partials over P
 * audio splits are summed with reduce_sum (P = 1 writes the outputs directly).
 */
export function sedColsOp(rt: Runtime, a: Binding, t: Binding, alpha: Binding, beta: Binding, lab: Binding, pk: PackedSedLabels,
  gs: Binding, dt: Binding, dalpha: Binding, D: number, scale: number, tiles = chooseSedTiles(rt, pk.L), splits?: number): void {
  const op = 'sed_loss backward';
  const { A, K, L } = pk;
  checkSedDims(rt, op, { A, K, L, D });
  checkTiles(op, tiles);
  const { TR2: TR, NV2: NV, WG } = tiles;
  if (L % TR !== 0) fail(op, `row tile ${TR} does not divide L = ${L}`);
  const P = splits ?? sedSplits(rt, A, K, D, tiles);
  if (!isInt(P) || P < 1 || P > A) fail(op, `audio splits P = ${P} must be in [1, A = ${A}]`);
  const aps = Math.ceil(A / P);
  const ctiles = Math.ceil(K / (4 * NV));
  checkBinding(rt, op, `dt partials [${P}, ${K}, ${D}]`, P * K * D);
  const Kp = paddedK(K, tiles);
  const tx = prepTx(rt, op, t, alpha, beta, lab, pk, D, Kp);
  const params = { A, K, L, D4: D / 4, Kp4: Kp / 4, scale, ctiles, P, aps, oTP: pk.off.oTP, oTA: pk.off.oTA, oTM: pk.off.oTM, oAV: pk.off.oAV };
  const spec = simLossCols.get({ TR, NV, WG });
  if (P === 1) {
    rt.dispatch(spec, [a, tx, lab, gs, dt, dalpha], params, groups(ctiles, WG));
  } else {
    const pdt = rt.alloc(P * K * D * 4, 'sed-dt-partials'), pda = rt.alloc(P * K * 4, 'sed-dalpha-partials');
    rt.dispatch(spec, [a, tx, lab, gs, pdt, pda], params, groups(ctiles * P, WG));
    reduceOp(rt, 'sum', pdt, dt, 1, P, K * D, 1);
    reduceOp(rt, 'sum', pda, dalpha, 1, P, K, 1);
    rt.release(pdt); rt.release(pda);
  }
  rt.release(tx);
}

// ---------------------------------------------------------------------------------------------------------------
// Row-tile design
// ---------------------------------------------------------------------------------------------------------------

/**
 * The two chunked designs: 'fused' = the two-pass register-blocked kernels (spec §8.1 literally: pass 1 per row
 * tile over all texts, pass 2 per text tile over all rows, S recomputed in registers, no scratch); 'rowtile' =
 * per chunk of rows one [R, K] tile of S from the tuned matmul, an epilogue kernel, and two matmuls for the
 * gradients (3 matmuls in all, like the naive path, with an [R, K] tile instead of [A*L, K]).
 * rt.choices.simLoss overrides the default 'rowtile' (on lavapipe, bench/sim_loss.bench.ts: rowtile 0.22x / 0.56x
 * the naive path's time at (A, K) = (64, 320) / (256, 1280), fused 1.1x / 2.0x: the tuned matmul reads its operands
 * through textures and subgroup broadcasts, the fused kernels through bounds-checked storage loads).
 */
export type SedDesign = 'fused' | 'rowtile';
export function chooseSedDesign(rt: Runtime): SedDesign {
  const c = rt.choices.simLoss;
  return c === 'fused' || c === 'rowtile' ? c : 'rowtile';
}

/** Default [R, K] tile budget of the row-tile design. */
export const SED_TILE_BYTES = 8 * 2 ** 20;

/**
 * Rows per chunk: the [R, K] tile within `budget` bytes, R a multiple of the storage-offset alignment in rows (the
 * chunk's rows of a and da are bound at an offset) and at least one such unit.
 */
export function sedChunkRows(rt: Runtime, rows: number, K: number, D: number, budget = SED_TILE_BYTES): number {
  const align = rt.limits.minStorageBufferOffsetAlignment;
  const unit = align / gcd(D * 4, align);
  const R = Math.max(unit, Math.floor(budget / (K * 4) / unit) * unit);
  return Math.min(R, rows);
}

export interface RowTileOutputs { loss: Binding; da?: Binding; dt?: Binding; dalpha?: Binding }

function sub(buf: GPUBuffer | Binding, offset: number, size: number): Binding {
  const b = (buf as { buffer?: GPUBuffer }).buffer !== undefined ? buf as { buffer: GPUBuffer; offset?: number } : { buffer: buf as GPUBuffer, offset: 0 };
  return { buffer: b.buffer, offset: (b.offset ?? 0) + offset, size };
}

/**
 * Row-tile L_SED: loss[0] and, for the outputs given, da = dL/da, dt = dL/dt, dalpha = dL/dalpha (unscaled by the
 * upstream gradient). Extra memory: one [R, K] tile, packed text params, and (gradients) alpha*t and U [K, D].
 */
export function sedRowTileOp(rt: Runtime, a: Binding, t: Binding, alpha: Binding, beta: Binding, lab: Binding, pk: PackedSedLabels,
  D: number, scale: number, out: RowTileOutputs, o: { chunkRows?: number } = {}): void {
  const op = 'sed_loss';
  const { A, K, L } = pk;
  checkSedDims(rt, op, { A, K, L, D });
  const rows = A * L;
  const R = o.chunkRows ?? sedChunkRows(rt, rows, K, D);
  const align = rt.limits.minStorageBufferOffsetAlignment;
  if (!isInt(R) || R < 1 || (R < rows && (R * D * 4) % align !== 0)) fail(op, `chunk of ${R} rows: R * D * 4 must be a multiple of the storage offset alignment ${align}`);
  checkBinding(rt, op, `similarity tile [${R}, ${K}]`, R * K);
  const grad = !!(out.da || out.dt || out.dalpha);
  const needU = !!(out.dt || out.dalpha);
  const ptx = rt.alloc(K * 16, 'sed-ptx');
  const at = out.da ? rt.alloc(K * D * 4, 'sed-alpha-t') : null;
  rt.dispatch(simLossTextPrep.get({ scaled: !!at }), at ? [t, alpha, beta, lab, ptx, at] : [t, alpha, beta, lab, ptx], { K, D4: D / 4, oTV: pk.off.oTV }, groups(K, 64));
  const lossRows = rt.alloc(rows * 4, 'sed-loss-rows');
  const tile = rt.alloc(R * K * 4, 'sed-tile');
  const U = needU ? (out.dt ?? rt.alloc(K * D * 4, 'sed-U')) : null;
  const tmp = needU && R < rows ? rt.alloc(K * D * 4, 'sed-U-chunk') : null;
  for (let r0 = 0; r0 < rows; r0 += R) {
    const n = Math.min(R, rows - r0);
    const aC = sub(a, r0 * D * 4, n * D * 4);
    matmulOp(rt, aC, t, tile, { batch: 1, M: n, N: K, K: D, transB: true });
    rt.dispatch(simLossTile.get({ grad }), [tile, ptx, lab, lossRows],
      { K, L, R: n, r0, scale, oAT: pk.off.oAT, oAM: pk.off.oAM, oAV: pk.off.oAV }, groups(n, 64));
    if (out.da) matmulOp(rt, tile, at!, sub(out.da, r0 * D * 4, n * D * 4), { batch: 1, M: n, N: D, K });
    if (U) {
      const first = r0 === 0;
      matmulOp(rt, tile, aC, first ? U : tmp!, { batch: 1, M: K, N: D, K: n, transA: true });
      if (!first) rt.dispatch(simLossAccumulate.get({}), [U, tmp!], { n4: K * D / 4 }, groups(K * D / 4, 256));
    }
  }
  reduceOp(rt, 'sum', lossRows, out.loss, 1, rows, 1, 1);
  if (U) {
    const dal = out.dalpha ?? rt.alloc(K * 4, 'sed-dalpha');
    rt.dispatch(simLossTextFinish.get({}), [U, t, alpha, dal], { K, D4: D / 4 }, groups(K, 64));
    if (!out.dalpha) rt.release(dal as GPUBuffer);
    if (!out.dt) rt.release(U as GPUBuffer);
  }
  rt.release(ptx); rt.release(lossRows); rt.release(tile);
  if (at) rt.release(at);
  if (tmp) rt.release(tmp);
}

/** x[0..n) *= gs[0] in place. */
export function sedScaleOp(rt: Runtime, x: Binding, gs: Binding, n: number): void {
  if (n === 0) return;
  checkBinding(rt, 'sed_loss scale', 'x', n);
  const vec = n % 4 === 0;
  const m = vec ? n / 4 : n;
  rt.dispatch(simLossScale.get({ vec }), [x, gs], { n: m }, groups(m, 256));
}

// ---------------------------------------------------------------------------------------------------------------
// CLIP cross-entropy
// ---------------------------------------------------------------------------------------------------------------

/** lse [2N] (row then column log-sum-exp of z [N, N]) and loss[0] = weight * (CE(Z) + CE(Z^T)) / 2. */
export function clipLossOp(rt: Runtime, z: Binding, lse: Binding, loss: Binding, N: number, weight: number): void {
  if (!isInt(N) || N < 1) fail('clip_loss', `empty batch: N = ${N}`);
  checkBinding(rt, 'clip_loss', `logits [${N}, ${N}]`, N * N);
  rt.dispatch(simLossClipLse.get({}), [z, lse], { N }, groups(2 * N, 64));
  rt.dispatch(simLossClipFinish.get({}), [z, lse, loss], { N, weight }, 1);
}

/** dz = gs[0] * weight * (softmax_rows(z) + softmax_cols(z) - 2I) / (2N). */
export function clipLossBackwardOp(rt: Runtime, z: Binding, lse: Binding, gs: Binding, dz: Binding, N: number, weight: number): void {
  checkBinding(rt, 'clip_loss backward', `logits [${N}, ${N}]`, N * N);
  rt.dispatch(simLossClipBackward.get({}), [z, lse, gs, dz], { N, weight }, groups(N * N, 256));
}

// ---------------------------------------------------------------------------------------------------------------
// Inference map
// ---------------------------------------------------------------------------------------------------------------

export interface MapArgs { B: number; N: number; L: number; D: number; method: MapMethod; cross: boolean; median: boolean; renorm: boolean }

/**
 * Frame scores. cross: src = S [B*L, N] (Aflat T^T), out [B, N, L]; paired (B == N): src = Aflat [B*L, D], out [B, L].
 * norms = |a| [B*L] then |t| [N] (read with renorm only; pass any buffer otherwise).
 */
export function flamgramMapOp(rt: Runtime, src: Binding, t: Binding, alpha: Binding, beta: Binding, norms: Binding, out: Binding, m: MapArgs): void {
  const op = 'flamgram';
  for (const k of ['B', 'N', 'L', 'D'] as const) if (!isInt(m[k]) || m[k] < 1) fail(op, `${k} = ${m[k]} must be a positive integer`);
  if (m.L > 64) fail(op, `L = ${m.L} frames per clip exceeds the kernel's 64`);
  if (!m.cross && m.B !== m.N) fail(op, `paired mode needs as many audios as texts (B = ${m.B}, N = ${m.N})`);
  checkBinding(rt, op, m.cross ? `similarities [${m.B * m.L}, ${m.N}]` : `audio embeddings [${m.B * m.L}, ${m.D}]`, m.cross ? m.B * m.L * m.N : m.B * m.L * m.D);
  const n = m.cross ? m.B * m.N : m.B;
  rt.dispatch(simLossMap.get({ method: m.method, cross: m.cross, median: m.median, renorm: m.renorm }), [src, t, alpha, beta, norms, out],
    { B: m.B, N: m.N, L: m.L, D: m.D }, groups(n, 64));
}

// ---------------------------------------------------------------------------------------------------------------
// Debug: non-finite values
// ---------------------------------------------------------------------------------------------------------------

/** Count the non-finite f32 values of x[0..n) into count[0] (a u32 buffer; zeroed here). */
export function countNonFiniteOp(rt: Runtime, x: Binding, count: Binding, n: number): void {
  fillOp(rt, count, 1, 0, true);
  if (n === 0) return;
  checkBinding(rt, 'check_finite', 'x', n);
  rt.dispatch(simLossCountNonFinite.get({}), [x, count], { n }, groups(Math.ceil(n / 256), 64));
}
