// Inference maps of FLAM (spec §6): the calibrated "flamgram" s = sigma(h) / (sigma(h) + sigma(beta)),
// h = alpha <a_l, t> + beta, evaluated in log space (log s = logsig(h) - logaddexp(logsig(h), logsig(beta)): no 0/0
// when both sigmoids underflow), the approximate map sigma(alpha <a_l, t>), cross-product [B, N, L] and paired
// [B, L] modes for any N >= 1 prompts, the optional 3-tap temporal median (scipy median_filter size (1, 3), mode
// 'reflect' = edge sample duplicated), and event extraction (threshold, gap merge, minimum duration) into
// onset/offset lists in seconds (frame l of a window starting at s covers [s + 0.3125 l, s + 0.3125 (l + 1))).
import { Tensor, empty, shapeSize, scope } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/tape.ts';
import { matmul, sqrt, square, sum, concat } from '../autograd/ops.ts';
import { flamgramMapOp, type MapMethod } from '../ops/sim_loss.ts';
import { fmt } from '../ops/common.ts';
import { FRAME_SECONDS } from '../audio/windows.ts';
import type { Event } from '../eval/tsv.ts';

export type { MapMethod };

export interface FlamgramOptions {
  /** 'unbiased' (default, spec §6.1) or 'approximate' (§6.2: drops beta). */
  method?: MapMethod;
  /** true (default): every audio against every prompt -> [B, N, L]; false: audio i with prompt i -> [B, L]. */
  cross?: boolean;
  /** 3-tap temporal median (scipy 'reflect' boundary: first and last frames unchanged). Default false. */
  median?: boolean;
  /** Re-normalise both embeddings to unit length first, as the reference hook does (default true). */
  renormalize?: boolean;
}

/**
 * Frame scores in (0, 1). local [B, L, D] local audio embeddings, text [N, D] (or [D] for one prompt), alpha and
 * beta with N elements ([N], or a scalar for N = 1). Returns [B, N, L] (cross) or [B, L] (paired, B == N).
 * Runs without recording gradients.
 */
export function flamgram(local: Tensor, text: Tensor, alpha: Tensor, beta: Tensor, o: FlamgramOptions = {}): Tensor {
  const op = 'flamgram';
  for (const [n, x] of [['local', local], ['text', text], ['alpha', alpha], ['beta', beta]] as const) {
    x.check(op);
    if (x.dtype !== 'f32') throw new Error(`${op}: ${n} must be f32, got ${x.dtype} ${fmt(x.shape)}`);
  }
  if (local.rank !== 3) throw new Error(`${op}: local audio embeddings must be [B, L, D], got ${fmt(local.shape)}`);
  const [B, L, D] = local.shape;
  if (text.rank !== 1 && text.rank !== 2) throw new Error(`${op}: text embeddings must be [N, D] (or [D] for one prompt), got ${fmt(text.shape)}`);
  const [N, Dt] = text.rank === 1 ? [1, text.shape[0]] : text.shape;
  if (N === 0) throw new Error(`${op}: empty prompt list (text ${fmt(text.shape)})`);
  if (B === 0 || L === 0) throw new Error(`${op}: empty audio batch (local ${fmt(local.shape)})`);
  if (Dt !== D) throw new Error(`${op}: embedding dims differ: audio ${fmt(local.shape)} has D = ${D}, text ${fmt(text.shape)} has D = ${Dt}`);
  if (alpha.size !== N || beta.size !== N) throw new Error(`${op}: alpha ${fmt(alpha.shape)} and beta ${fmt(beta.shape)} must have N = ${N} elements (one per prompt)`);
  const cross = o.cross ?? true;
  if (!cross && B !== N) throw new Error(`${op}: paired mode (cross = false) pairs audio i with prompt i and needs B == N, got B = ${B}, N = ${N}`);
  if (L > 64) throw new Error(`${op}: L = ${L} frames per clip exceeds 64`);
  const renorm = o.renormalize ?? true;
  const rt = local.rt;
  return noGrad(() => scope(() => {
    const a2 = local.reshape([B * L, D]);
    const t2 = text.reshape([N, D]);
    const src = cross ? matmul(a2, t2, { transB: true }) : a2;
    const norms = renorm ? concat([sqrt(sum(square(a2), -1)), sqrt(sum(square(t2), -1))], 0) : alpha;
    const out = empty(rt, cross ? [B, N, L] : [B, L], 'f32', op);
    flamgramMapOp(rt, src.binding(), t2.binding(), alpha.binding(), beta.binding(), norms.binding(), out.binding(),
      { B, N, L, D, method: o.method ?? 'unbiased', cross, median: !!o.median, renorm });
    return out;
  }));
}

/** scipy.ndimage.median_filter(x, size=(1, 3)) on rows x L (mode 'reflect': the edge sample is duplicated). */
export function medianFilter3(x: ArrayLike<number>, rows: number, L: number): Float32Array {
  if (x.length !== rows * L) throw new Error(`medianFilter3: ${x.length} values do not fill [${rows}, ${L}]`);
  const out = new Float32Array(rows * L);
  const med = (a: number, b: number, c: number) => Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  for (let r = 0; r < rows; r++) {
    const o = r * L;
    for (let l = 0; l < L; l++) out[o + l] = med(x[o + Math.max(l - 1, 0)], x[o + l], x[o + Math.min(l + 1, L - 1)]);
  }
  return out;
}

export interface EventOptions {
  /** A frame is active when its score is above the threshold (default 0.5; `inclusive`: at or above). */
  threshold?: number;
  inclusive?: boolean;
  /** Events separated by a gap of at most this many seconds are merged (default 0: only touching frames join). */
  mergeGap?: number;
  /** Events shorter than this many seconds (after merging) are dropped (default 0). */
  minDuration?: number;
  /** Start time of frame 0 in seconds (the window's start; default 0). */
  start?: number;
  /** Seconds per frame (default 0.3125 = 10 s / 32). */
  hop?: number;
}

export interface DetectedEvent { onset: number; offset: number; /** highest frame score inside the event */ peak: number }

const EPS = 1e-9;

/** Threshold a score track, merge close events, drop short ones; onsets/offsets in seconds. */
export function extractEvents(scores: ArrayLike<number>, o: EventOptions = {}): DetectedEvent[] {
  const thr = o.threshold ?? 0.5, hop = o.hop ?? FRAME_SECONDS, start = o.start ?? 0;
  const gap = o.mergeGap ?? 0, minDur = o.minDuration ?? 0;
  for (const [k, v] of Object.entries({ threshold: thr, hop, start, mergeGap: gap, minDuration: minDur })) {
    if (!Number.isFinite(v)) throw new Error(`extractEvents: ${k} = ${v} is not a finite number`);
  }
  if (!(hop > 0)) throw new Error(`extractEvents: hop = ${hop} must be positive`);
  if (gap < 0 || minDur < 0) throw new Error(`extractEvents: mergeGap and minDuration must be >= 0 (got ${gap}, ${minDur})`);
  const on = (v: number) => (o.inclusive ? v >= thr : v > thr);    // NaN is never active
  const runs: [number, number, number][] = [];   // [first frame, end frame (exclusive), peak]
  for (let l = 0; l < scores.length; l++) {
    if (!on(scores[l])) continue;
    let e = l, peak = -Infinity;
    while (e < scores.length && on(scores[e])) { peak = Math.max(peak, scores[e]); e++; }
    runs.push([l, e, peak]);
    l = e;
  }
  const merged: [number, number, number][] = [];
  for (const r of runs) {
    const last = merged[merged.length - 1];
    if (last && (r[0] - last[1]) * hop <= gap + EPS) { last[1] = r[1]; last[2] = Math.max(last[2], r[2]); }
    else merged.push([...r]);
  }
  return merged.filter(([b, e]) => (e - b) * hop >= minDur - EPS).map(([b, e, peak]) => ({ onset: start + b * hop, offset: start + e * hop, peak }));
}

/**
 * Events of a whole cross-product flamgram [B, N, L] (read back to the CPU) as DCASE-style rows: one per event,
 * labelled with its prompt. `filenames[b]` names audio b (default `audio<b>`), `starts[b]` its window start.
 */
export function flamgramEvents(map: ArrayLike<number>, shape: readonly [number, number, number], labels: readonly string[],
  o: EventOptions & { filenames?: readonly string[]; starts?: readonly number[] } = {}): Event[] {
  const [B, N, L] = shape;
  if (map.length !== shapeSize(shape)) throw new Error(`flamgramEvents: ${map.length} scores do not fill [${B}, ${N}, ${L}]`);
  if (labels.length !== N) throw new Error(`flamgramEvents: ${labels.length} labels for N = ${N} prompts`);
  if (o.filenames && o.filenames.length !== B) throw new Error(`flamgramEvents: ${o.filenames.length} filenames for B = ${B} audios`);
  if (o.starts && o.starts.length !== B) throw new Error(`flamgramEvents: ${o.starts.length} window starts for B = ${B} audios`);
  const out: Event[] = [];
  const track = new Float64Array(L);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
    for (let l = 0; l < L; l++) track[l] = map[(b * N + n) * L + l];
    for (const e of extractEvents(track, { ...o, start: o.starts ? o.starts[b] : o.start })) {
      out.push({ filename: o.filenames ? o.filenames[b] : `audio${b}`, onset: e.onset, offset: e.offset, label: labels[n] });
    }
  }
  return out;
}
