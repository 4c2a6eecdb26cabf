// Area under the ROC curve, exact.
//
// AUROC = P(score of a random positive > score of a random negative) + 0.5 * P(equal)
//       = (R+ - P(P+1)/2) / (P N)   (Mann-Whitney U; R+ = sum of the positives' ranks, ties get their average rank),
// which equals the trapezoidal area under the ROC polyline through one point per distinct score (sklearn's
// roc_auc_score). Frame-level AUROC for FLAM (spec §10.1): every (clip, prompt, frame) score against its binary
// frame label, per prompt and pooled over all prompts. No node:* imports (browser-safe).

/** Binary labels: 1/true = positive, 0/false = negative. */
export type Labels = ArrayLike<number> | readonly boolean[];

function label01(labels: Labels, i: number): number {
  const v = labels[i] as number | boolean;
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  throw new Error(`AUROC: label ${String(v)} at index ${i} is not 0/1`);
}

function sortedOrder(scores: ArrayLike<number>): Uint32Array | number[] {
  const n = scores.length;
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) throw new Error(`AUROC: NaN score at index ${i}`);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // Typed-array sort with a comparator is a stable sort on numbers.
  // Compare, not subtract: Infinity - Infinity is NaN.
  return idx.sort((a, b) => (scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : a - b));
}

/**
 * Exact AUROC of `scores` against binary `labels`, ties handled by average rank (equivalently, a tie between a
 * positive and a negative counts one half). Returns NaN when all labels are equal (AUROC undefined).
 */
export function auroc(scores: ArrayLike<number>, labels: Labels): number {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`AUROC: ${n} scores but ${labels.length} labels`);
  const order = sortedOrder(scores);
  let P = 0, rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks i+1..j+1
    for (let k = i; k <= j; k++) if (label01(labels, order[k])) { P++; rankSum += avgRank; }
    i = j + 1;
  }
  const N = n - P;
  if (P === 0 || N === 0) return NaN;
  return (rankSum - (P * (P + 1)) / 2) / (P * N);
}

/** ROC polyline: one point per distinct score, from (0,0) to (1,1), thresholds descending. */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  /** thresholds[i]: the point after including every score >= thresholds[i]; thresholds[0] = +Infinity. */
  thresholds: Float64Array;
}

/** The ROC curve (no points dropped). Throws when all labels are equal. */
export function rocCurve(scores: ArrayLike<number>, labels: Labels): RocCurve {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`ROC: ${n} scores but ${labels.length} labels`);
  const order = sortedOrder(scores);
  let P = 0;
  for (let i = 0; i < n; i++) P += label01(labels, i);
  const N = n - P;
  if (P === 0 || N === 0) throw new Error('ROC: needs at least one positive and one negative label');
  const fpr = [0], tpr = [0], th = [Infinity];
  let tp = 0, fp = 0;
  for (let i = n - 1; i >= 0; ) {
    const s = scores[order[i]];
    while (i >= 0 && scores[order[i]] === s) { if (label01(labels, order[i])) tp++; else fp++; i--; }
    fpr.push(fp / N); tpr.push(tp / P); th.push(s);
  }
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(th) };
}

/**
 * Partial AUROC up to false-positive rate `maxFpr` (trapezoids on the ROC polyline, the last segment cut by linear
 * interpolation at maxFpr). With `standardize` (default true) it is McClish-corrected as sklearn's
 * roc_auc_score(max_fpr=...) and DCASE 2023 task 4b's pAUC: 0.5 * (1 + (A - maxFpr^2/2) / (maxFpr - maxFpr^2/2)),
 * so 0.5 = chance and 1 = perfect; at maxFpr = 1 this equals {@link auroc}. Without it, the raw area in
 * [0, maxFpr]. Default maxFpr = 0.1. NaN when all labels are equal.
 */
export function partialAuroc(scores: ArrayLike<number>, labels: Labels, maxFpr = 0.1, opts: { standardize?: boolean } = {}): number {
  if (!(maxFpr > 0 && maxFpr <= 1)) throw new Error(`partialAuroc: maxFpr must be in (0, 1] (got ${maxFpr})`);
  let P = 0;
  for (let i = 0; i < labels.length; i++) P += label01(labels, i);
  if (P === 0 || P === labels.length) return NaN;
  const { fpr, tpr } = rocCurve(scores, labels);
  let a = 0;
  for (let i = 1; i < fpr.length; i++) {
    const x0 = fpr[i - 1], x1 = fpr[i], y0 = tpr[i - 1], y1 = tpr[i];
    if (x0 >= maxFpr) break;
    if (x1 <= maxFpr) a += ((x1 - x0) * (y0 + y1)) / 2;
    else {
      const y = y0 + ((y1 - y0) * (maxFpr - x0)) / (x1 - x0);
      a += ((maxFpr - x0) * (y0 + y)) / 2;
    }
  }
  if (opts.standardize === false) return a;
  const minA = (maxFpr * maxFpr) / 2;
  return 0.5 * (1 + (a - minA) / (maxFpr - minA));
}

/** Scores and binary labels of one prompt (text query) over every frame of every clip. */
export interface PromptFrames {
  /** Optional name (e.g. the prompt text or class). */
  name?: string;
  scores: ArrayLike<number>;
  labels: Labels;
}

/** Result of {@link frameAuroc}. */
export interface FrameAurocResult {
  /** AUROC of each prompt (NaN where the prompt's labels are all 0 or all 1). */
  perPrompt: number[];
  /** Mean of the defined per-prompt AUROCs (NaN if none). */
  macro: number;
  /** Number of prompts with a defined AUROC. */
  defined: number;
  /** AUROC of all (prompt, frame) pairs pooled: the paper's frame-level AUROC. */
  pooled: number;
}

/**
 * Frame-level AUROC per prompt, their macro mean, and pooled over all prompts (every (clip, prompt, frame) score
 * against its binary label, as FLAM reports it).
 */
export function frameAuroc(prompts: readonly PromptFrames[]): FrameAurocResult {
  let total = 0;
  for (const p of prompts) {
    if (p.scores.length !== p.labels.length) throw new Error(`frameAuroc: prompt ${p.name ?? ''} has ${p.scores.length} scores but ${p.labels.length} labels`);
    total += p.scores.length;
  }
  const all = new Float64Array(total), lab = new Uint8Array(total);
  let o = 0;
  const perPrompt: number[] = [];
  let s = 0, d = 0;
  for (const p of prompts) {
    for (let i = 0; i < p.scores.length; i++) { all[o] = p.scores[i]; lab[o++] = label01(p.labels, i); }
    const a = auroc(p.scores, p.labels);
    perPrompt.push(a);
    if (!Number.isNaN(a)) { s += a; d++; }
  }
  return { perPrompt, macro: d ? s / d : NaN, defined: d, pooled: auroc(all, lab) };
}

/**
 * Mean partial AUROC over classes/prompts (DCASE 2023 task 4b's mpAUC with maxFpr = 0.1, McClish-standardized),
 * skipping prompts whose labels are all equal.
 */
export function meanPartialAuroc(prompts: readonly PromptFrames[], maxFpr = 0.1, opts: { standardize?: boolean } = {}): number {
  let s = 0, d = 0;
  for (const p of prompts) {
    const a = partialAuroc(p.scores, p.labels, maxFpr, opts);
    if (!Number.isNaN(a)) { s += a; d++; }
  }
  return d ? s / d : NaN;
}
