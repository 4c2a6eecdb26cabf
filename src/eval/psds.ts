// Polyphonic Sound Detection Score (PSDS).
//
// Definitions (Bilen et al., "A Framework for the Robust Evaluation of Sound Event Detection", ICASSP 2020;
// Ebbers et al., "Threshold-Independent Evaluation of Sound Event Detection Scores", ICASSP 2022):
//
//   For one operating point (a detection table) and each class c, with detections and ground truth (GT) of one
//   file compared pairwise (a detection d and a GT event g "cross" when d.onset <= g.offset and g.onset <= d.offset):
//   - DTC: d passes when  sum_{g of class c crossing d} |d ∩ g| / |d|  >=  dtc.
//   - GTC: g is a true positive when  sum_{d of class c passing DTC, crossing g} |d ∩ g| / |g|  >=  gtc.
//   - FP:  a detection that fails the DTC (and lies in its file) counts as one false positive.
//   - CT:  a detection that fails the DTC counts one cross-trigger on class k != c when
//          sum_{g of class k crossing d} |d ∩ g| / |d|  >=  cttc.
//   TPR_c = TP_c / N_c,  FPR_c = FP_c / T (per unit of time, T = total audio duration),
//   CTR_{c,k} = CT_{c,k} / T_k (T_k = total duration of class-k GT),
//   eFPR_c = FPR_c + alpha_ct * mean_k CTR_{c,k}.
//   The per-class ROC over operating points is the staircase y_c(x) = max{TPR_c(op) : eFPR_c(op) <= x} (the
//   point with no detections, (0, 0), always included). The PSD-ROC is
//   etpr(x) = max(0, mean_c y_c(x) - alpha_st * std_c y_c(x))   (population std over classes),
//   PSDS = (1 / max_efpr) * integral_0^max_efpr etpr(x) dx, computed exactly on the union of all eFPR values.
//
// Two ways to get the operating points:
//   (a) PsdsEval: one detection table per threshold, as audioanalytic/psds_eval does (no time rounding;
//       mean_k CTR over all K classes including c itself, whose CTR is 0, i.e. sum / K).
//   (b) psdsFromScores: threshold-free from frame scores, as fgnt/sed_scores_eval does: every distinct score s
//       of a class is an operating point whose detections are the runs of contiguous frames with score >= s;
//       intersections compared after rounding to `timeDecimals` (6) decimals; mean_k CTR over the K-1 other
//       classes. Computed incrementally (frames switched on in decreasing score order, runs merged), so the cost
//       is O(frames * (log frames + GT events per file)), not O(frames^2).
// No node:* imports (browser-safe).

import type { Event, Meta } from './tsv.ts';

/** PSDS task parameters (DCASE names: DTC, GTC, CTTC thresholds; alpha_ct, alpha_st; e_max). */
export interface PsdsParams {
  /** Detection tolerance criterion: fraction of a detection that must overlap same-class GT. */
  dtc: number;
  /** Ground-truth intersection criterion: fraction of a GT event that DTC-passing detections must cover. */
  gtc: number;
  /** Cross-trigger tolerance criterion: fraction of a failed detection that must overlap class-k GT to count
   * as a cross-trigger on k. Only used when alphaCt > 0. */
  cttc: number;
  /** Weight of the mean cross-trigger rate added to the FP rate (0..1). */
  alphaCt: number;
  /** Weight of the across-class standard deviation subtracted from the mean TPR (>= 0). */
  alphaSt: number;
  /** Largest effective FP rate (per unit of time, default per hour) integrated over; the area is divided by it. */
  maxEfpr: number;
}

/** DCASE PSDS scenario 1 (onset/offset-sensitive): dtc = gtc = 0.7, alpha_ct = 0 (cttc unused), alpha_st = 1,
 * max_efpr = 100 per hour. */
export const PSDS1: Readonly<PsdsParams> = Object.freeze({ dtc: 0.7, gtc: 0.7, cttc: 0.3, alphaCt: 0, alphaSt: 1, maxEfpr: 100 });
/** DCASE PSDS scenario 2 (class confusion-sensitive): dtc = gtc = 0.1, cttc = 0.3, alpha_ct = 0.5,
 * alpha_st = 1, max_efpr = 100 per hour. */
export const PSDS2: Readonly<PsdsParams> = Object.freeze({ dtc: 0.1, gtc: 0.1, cttc: 0.3, alphaCt: 0.5, alphaSt: 1, maxEfpr: 100 });

/** Units the FP and CT rates are expressed in (psds_eval's names), in seconds. */
export const SECONDS_PER_UNIT = Object.freeze({ second: 1, minute: 60, hour: 3600, day: 86400, month: 30 * 86400, year: 365 * 86400 });
/** Unit of time the FP and cross-trigger rates are given in (default 'hour'). */
export type TimeUnit = keyof typeof SECONDS_PER_UNIT;

/**
 * How the cross-trigger rates enter eFPR: 'all' divides the sum over other classes by K (psds_eval: its mean
 * runs over all K classes, the class itself contributing 0); 'others' divides by K - 1 (sed_scores_eval and the
 * paper's definition). Only matters when alphaCt > 0.
 */
export type CtAverage = 'all' | 'others';

/** One class's ROC points (any order; (0, 0) is implied). */
export interface ClassRoc {
  tpr: ArrayLike<number>;
  efpr: ArrayLike<number>;
}

/** The PSD-ROC on the union of all classes' eFPR values (ascending, starting at 0). */
export interface PsdRoc {
  /** x: effective FP rates (per unit of time), ascending and distinct. */
  efpr: Float64Array;
  /** y: effective TPR = max(0, mean - alphaSt * std). */
  etpr: Float64Array;
  mean: Float64Array;
  std: Float64Array;
  /** Per class staircase TPR y_c(x) at each x. */
  perClass: Float64Array[];
}

/** A PSDS value with the curve it integrates. */
export interface PsdsResult {
  /** Area under the PSD-ROC from 0 to maxEfpr, divided by maxEfpr (0..1). */
  value: number;
  /** Classes in curve order (sorted). */
  classes: string[];
  /** Per class: area under that class's staircase ROC up to maxEfpr / maxEfpr (sed_scores_eval's single-class PSDS). */
  perClass: Record<string, number>;
  roc: PsdRoc;
  alphaCt: number;
  alphaSt: number;
  maxEfpr: number;
}

/**
 * PSDS from per-class ROC points: builds each class staircase y_c(x) = max{tpr_i : efpr_i <= x} (with (0,0)),
 * evaluates all of them on the union of eFPR values, forms etpr = max(0, mean - alphaSt*std) and integrates it
 * exactly (left-constant steps) from 0 to maxEfpr, divided by maxEfpr.
 */
export function psdsFromClassRocs(rocs: readonly ClassRoc[], classes: readonly string[], alphaSt: number, maxEfpr: number, alphaCt = 0): PsdsResult {
  if (!(alphaSt >= 0)) throw new Error(`PSDS: alpha_st must be >= 0 (got ${alphaSt})`);
  if (!(maxEfpr > 0)) throw new Error(`PSDS: max_efpr must be > 0 (got ${maxEfpr})`);
  const K = rocs.length;
  if (K === 0) throw new Error('PSDS: no classes');
  if (classes.length !== K) throw new Error(`PSDS: ${classes.length} class names for ${K} ROCs`);
  const all: number[] = [0];
  for (const r of rocs) {
    if (r.tpr.length !== r.efpr.length) throw new Error('PSDS: tpr and efpr lengths differ');
    for (let i = 0; i < r.efpr.length; i++) {
      if (Number.isNaN(r.efpr[i]) || Number.isNaN(r.tpr[i])) throw new Error('PSDS: NaN in a ROC');
      all.push(r.efpr[i]);
    }
  }
  all.sort((a, b) => a - b);
  const xs: number[] = [];
  for (const v of all) if (xs.length === 0 || v !== xs[xs.length - 1]) xs.push(v);
  const n = xs.length;
  const x = Float64Array.from(xs);
  const perClass: Float64Array[] = [];
  for (const r of rocs) {
    const idx = Array.from({ length: r.efpr.length }, (_, i) => i).sort((a, b) => r.efpr[a] - r.efpr[b]);
    const y = new Float64Array(n);
    let j = 0, best = 0;
    for (let i = 0; i < n; i++) {
      while (j < idx.length && r.efpr[idx[j]] <= x[i]) { if (r.tpr[idx[j]] > best) best = r.tpr[idx[j]]; j++; }
      y[i] = best;
    }
    perClass.push(y);
  }
  const mean = new Float64Array(n), std = new Float64Array(n), etpr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < K; c++) s += perClass[c][i];
    const m = s / K;
    let v = 0;
    for (let c = 0; c < K; c++) { const d = perClass[c][i] - m; v += d * d; }
    mean[i] = m;
    std[i] = Math.sqrt(v / K);
    etpr[i] = Math.max(0, m - alphaSt * std[i]);
  }
  const pc: Record<string, number> = {};
  for (let c = 0; c < K; c++) pc[classes[c]] = staircaseArea(x, perClass[c], maxEfpr) / maxEfpr;
  return {
    value: staircaseArea(x, etpr, maxEfpr) / maxEfpr,
    classes: [...classes], perClass: pc,
    roc: { efpr: x, etpr, mean, std, perClass },
    alphaCt, alphaSt, maxEfpr,
  };
}

/** Integral from x[0] to maxX of the left-constant staircase through (x[i], y[i]) (y[last] extends to maxX). */
export function staircaseArea(x: ArrayLike<number>, y: ArrayLike<number>, maxX: number): number {
  let a = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] >= maxX) break;
    const right = i + 1 < x.length ? Math.min(x[i + 1], maxX) : maxX;
    a += y[i] * (right - x[i]);
  }
  return a;
}

function checkThresholds(dtc: number, gtc: number, cttc: number | null): void {
  for (const [v, name] of [[dtc, 'dtc'], [gtc, 'gtc'], [cttc, 'cttc']] as const) {
    if (v === null) continue;
    if (!(v >= 0 && v <= 1)) throw new Error(`PSDS: ${name} threshold must be between 0 and 1 (got ${v})`);
  }
}

function checkAlphaCt(a: number): void {
  if (!(a >= 0 && a <= 1)) throw new Error(`PSDS: alpha_ct must be between 0 and 1 (got ${a})`);
}

function durationsOf(meta: readonly Meta[] | ReadonlyMap<string, number>): Map<string, number> {
  const m = new Map<string, number>();
  if (meta instanceof Map) { for (const [k, v] of meta) m.set(k, v); }
  else for (const x of meta as readonly Meta[]) if (!m.has(x.filename)) m.set(x.filename, x.duration);
  return m;
}

function sortedUnique(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------------
// (a) Operating points from detection tables (psds_eval).

/** Options of {@link PsdsEval}. Defaults are psds_eval's: dtc = gtc = 0.5, cttc = 0.3, rates per hour. */
export interface PsdsEvalOptions {
  dtc?: number;
  gtc?: number;
  cttc?: number;
  /** Extra class names (merged with the GT labels, then sorted), e.g. classes that have no GT event. */
  classes?: readonly string[];
  unitOfTime?: TimeUnit;
}

/** Per-class rates of one operating point. Class order = {@link PsdsEval.classes}. */
export interface OperatingPoint {
  /**
   * Counts, (K+1) x (K+1), row = detected class, column = GT class, last column = "world" (the whole file):
   * counts[c][c] = true positives (GT events of c hit), counts[c][K] = false positives of c,
   * counts[c][k] = cross-triggers of c on k. The last row is all zeros (psds_eval's layout).
   */
  counts: number[][];
  /** TP ratio per class (0 for a class with no GT events). */
  tpr: Float64Array;
  /** FP rate per class, per unit of time. */
  fpr: Float64Array;
  /** CT rate per (detected class, GT class), per unit of time; diagonal 0. */
  ctr: Float64Array[];
  /** Optional user data given to addOperatingPoint (e.g. the threshold). */
  info?: Record<string, unknown>;
}

interface GtItem { on: number; off: number; dur: number; cls: number }

/**
 * PSDS from operating points, as audioanalytic/psds_eval computes it: set the ground truth and metadata once,
 * add one detection table per decision threshold, then call {@link PsdsEval.psds}. Identical tables (in any row
 * order) are added once. Detections with a label that is not a class are ignored (as psds_eval does).
 * GT events and detections of files absent from the metadata are errors.
 */
export class PsdsEval {
  /** Class names, sorted; index = row/column in counts, tpr, fpr, ctr. */
  readonly classes: string[];
  /** Detection tolerance criterion threshold (default 0.5). */
  readonly dtc: number;
  /** Ground-truth intersection criterion threshold (default 0.5). */
  readonly gtc: number;
  /** Cross-trigger tolerance criterion threshold (default 0.3). */
  readonly cttc: number;
  /** Seconds in the unit the rates are expressed in (3600 for 'hour'). */
  readonly unitSeconds: number;
  /** Total audio duration (s): sum of metadata durations. */
  readonly datasetDuration: number;
  /** GT events per class. */
  readonly nGt: Float64Array;
  /** Total GT duration per class (s). */
  readonly gtDuration: Float64Array;
  private readonly gtByFile = new Map<string, GtItem[]>();
  private readonly classIndex = new Map<string, number>();
  private readonly durations: Map<string, number>;
  private readonly ops: OperatingPoint[] = [];
  private readonly opKeys = new Set<string>();

  constructor(groundTruth: readonly Event[], meta: readonly Meta[] | ReadonlyMap<string, number>, opts: PsdsEvalOptions = {}) {
    this.dtc = opts.dtc ?? 0.5;
    this.gtc = opts.gtc ?? 0.5;
    this.cttc = opts.cttc ?? 0.3;
    checkThresholds(this.dtc, this.gtc, this.cttc);
    const unit = opts.unitOfTime ?? 'hour';
    if (!(unit in SECONDS_PER_UNIT)) throw new Error(`PSDS: invalid unit of time '${unit}'`);
    this.unitSeconds = SECONDS_PER_UNIT[unit];
    this.durations = durationsOf(meta);
    if (this.durations.size === 0) throw new Error('PSDS: the metadata is empty');
    let total = 0;
    for (const [f, d] of this.durations) {
      if (!(d >= 0)) throw new Error(`PSDS: bad duration ${d} for '${f}'`);
      total += d;
    }
    this.datasetDuration = total;
    this.classes = sortedUnique([...groundTruth.map((e) => e.label), ...(opts.classes ?? [])]);
    this.classes.forEach((c, i) => this.classIndex.set(c, i));
    const K = this.classes.length;
    this.nGt = new Float64Array(K);
    this.gtDuration = new Float64Array(K);
    for (const [f, d] of this.durations) this.gtByFile.set(f, [{ on: 0, off: d, dur: d, cls: K }]);
    for (const e of groundTruth) {
      const list = this.gtByFile.get(e.filename);
      if (!list) throw new Error(`PSDS: ground-truth file '${e.filename}'${e.line ? ` (line ${e.line})` : ''} is not in the metadata`);
      const cls = this.classIndex.get(e.label)!;
      list.push({ on: e.onset, off: e.offset, dur: e.offset - e.onset, cls });
      this.nGt[cls] += 1;
      this.gtDuration[cls] += e.offset - e.onset;
    }
  }

  /** Number of distinct operating points added. */
  get numOperatingPoints(): number { return this.ops.length; }
  /** The operating points added so far (in order). */
  get operatingPoints(): readonly OperatingPoint[] { return this.ops; }

  /** Removes every operating point (the ground truth stays). */
  clear(): void { this.ops.length = 0; this.opKeys.clear(); }

  /**
   * Evaluates a detection table and adds it as an operating point; returns it, or null when an identical table
   * was already added (psds_eval skips those too).
   */
  addOperatingPoint(detections: readonly Event[], info?: Record<string, unknown>): OperatingPoint | null {
    const key = detections.map((d) => `${d.filename}\t${d.onset}\t${d.offset}\t${d.label}`).sort().join('\n');
    if (this.opKeys.has(key)) return null;
    const op = this.evaluate(detections);
    if (info) op.info = info;
    this.opKeys.add(key);
    this.ops.push(op);
    return op;
  }

  /** Counts and rates of one detection table under this evaluation's dtc/gtc/cttc, without adding it. */
  evaluate(detections: readonly Event[]): OperatingPoint {
    const K = this.classes.length;
    const counts = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(0));
    const byFile = new Map<string, { on: number; off: number; cls: number }[]>();
    for (const d of detections) {
      const cls = this.classIndex.get(d.label);
      if (!this.gtByFile.has(d.filename)) throw new Error(`PSDS: detection file '${d.filename}'${d.line ? ` (line ${d.line})` : ''} is not in the metadata`);
      if (cls === undefined) continue;
      if (!(d.onset <= d.offset)) throw new Error(`PSDS: detection with onset ${d.onset} > offset ${d.offset} in '${d.filename}'`);
      let l = byFile.get(d.filename);
      if (!l) byFile.set(d.filename, (l = []));
      l.push({ on: d.onset, off: d.offset, cls });
    }
    const ctSum = new Float64Array(K + 1);
    const ctHit = new Uint8Array(K + 1);
    for (const [file, dets] of byFile) {
      const gts = this.gtByFile.get(file)!;
      const G = gts.length;
      const gtcSum = new Float64Array(G);
      const gtcHit = new Uint8Array(G);
      const dtcPass = new Uint8Array(dets.length);
      // DTC: sum over crossing same-class GT of |d∩g|/|d| (NaN terms of a zero-length detection skipped, as pandas does).
      for (let i = 0; i < dets.length; i++) {
        const d = dets[i], dur = d.off - d.on;
        let s = 0, any = false;
        for (const g of gts) {
          if (g.cls !== d.cls || !(d.on <= g.off && g.on <= d.off)) continue;
          any = true;
          const p = (Math.min(d.off, g.off) - Math.max(d.on, g.on)) / dur;
          if (!Number.isNaN(p)) s += p;
        }
        dtcPass[i] = any && s >= this.dtc ? 1 : 0;
      }
      // GTC: per GT, sum of |d∩g|/|g| over crossing same-class DTC-passing detections.
      for (let i = 0; i < dets.length; i++) {
        if (!dtcPass[i]) continue;
        const d = dets[i];
        for (let j = 0; j < G; j++) {
          const g = gts[j];
          if (g.cls !== d.cls || !(d.on <= g.off && g.on <= d.off)) continue;
          gtcHit[j] = 1;
          const c = (Math.min(d.off, g.off) - Math.max(d.on, g.on)) / g.dur;
          if (!Number.isNaN(c)) gtcSum[j] += c;
        }
      }
      for (let j = 0; j < G; j++) if (gtcHit[j] && gtcSum[j] >= this.gtc) counts[gts[j].cls][gts[j].cls] += 1;
      // FP and CT: detections failing the DTC; one count per (detection, crossed GT class), the world always.
      for (let i = 0; i < dets.length; i++) {
        if (dtcPass[i]) continue;
        const d = dets[i], dur = d.off - d.on;
        ctSum.fill(0); ctHit.fill(0);
        for (const g of gts) {
          if (g.cls === d.cls || !(d.on <= g.off && g.on <= d.off)) continue;
          ctHit[g.cls] = 1;
          const p = (Math.min(d.off, g.off) - Math.max(d.on, g.on)) / dur;
          if (!Number.isNaN(p)) ctSum[g.cls] += p;
        }
        for (let k = 0; k <= K; k++) if (ctHit[k] && (k === K || ctSum[k] >= this.cttc)) counts[d.cls][k] += 1;
      }
    }
    const tpr = new Float64Array(K), fpr = new Float64Array(K);
    const ctr = Array.from({ length: K }, () => new Float64Array(K));
    for (let c = 0; c < K; c++) {
      tpr[c] = this.nGt[c] > 0 ? counts[c][c] / this.nGt[c] : 0;
      fpr[c] = this.datasetDuration > 0 ? (counts[c][K] * this.unitSeconds) / this.datasetDuration : 0;
      for (let k = 0; k < K; k++) {
        if (k !== c && this.gtDuration[k] > 0) ctr[c][k] = (counts[c][k] * this.unitSeconds) / this.gtDuration[k];
      }
    }
    return { counts, tpr, fpr, ctr };
  }

  /** Effective FP rate per class of one operating point: fpr + alphaCt * (sum_k ctr[c][k]) / (K or K-1). */
  effectiveFpr(op: OperatingPoint, alphaCt: number, ctAverage: CtAverage = 'all'): Float64Array {
    checkAlphaCt(alphaCt);
    const K = this.classes.length;
    const out = new Float64Array(K);
    const div = ctAverage === 'all' ? K : K - 1;
    for (let c = 0; c < K; c++) {
      let s = 0;
      for (let k = 0; k < K; k++) if (k !== c) s += op.ctr[c][k];
      out[c] = op.fpr[c] + (alphaCt > 0 && div > 0 ? (alphaCt * s) / div : 0);
    }
    return out;
  }

  /** Per-class ROC points (TPR, eFPR) of all operating points added so far. */
  classRocs(alphaCt: number, ctAverage: CtAverage = 'all'): ClassRoc[] {
    const K = this.classes.length;
    const rocs = Array.from({ length: K }, () => ({ tpr: [] as number[], efpr: [] as number[] }));
    for (const op of this.ops) {
      const e = this.effectiveFpr(op, alphaCt, ctAverage);
      for (let c = 0; c < K; c++) { rocs[c].tpr.push(op.tpr[c]); rocs[c].efpr.push(e[c]); }
    }
    return rocs;
  }

  /**
   * PSDS over the operating points added so far (psds_eval's `psds(alpha_ct, alpha_st, max_efpr)`).
   * @param alphaCt cross-trigger weight in eFPR, 0..1 (default 0)
   * @param alphaSt weight of the across-class std, >= 0 (default 0)
   * @param maxEfpr upper end of the integral (default 100 per unit of time)
   * @param ctAverage 'all' (psds_eval, default) or 'others' (sed_scores_eval), see {@link CtAverage}
   */
  psds(alphaCt = 0, alphaSt = 0, maxEfpr = 100, ctAverage: CtAverage = 'all'): PsdsResult {
    checkAlphaCt(alphaCt);
    if (!(alphaSt >= 0)) throw new Error(`PSDS: alpha_st can't be negative (got ${alphaSt})`);
    return psdsFromClassRocs(this.classRocs(alphaCt, ctAverage), this.classes, alphaSt, maxEfpr, alphaCt);
  }

  /**
   * Intersection-based F-score per class of one operating point (psds_eval's compute_macro_f_score counting:
   * TP = GT events hit, FP = detections failing the DTC, FN = GT events missed; cross-triggers count as FPs
   * through the world column). Returns per-class F and their mean over classes with a defined F. Unlike
   * psds_eval, a class with TP = 0 gets F = 0 (psds_eval yields NaN there); F is NaN only when TP = FP = FN = 0.
   */
  fScore(op: OperatingPoint, beta = 1): { perClass: Record<string, number>; macro: number } {
    const K = this.classes.length;
    const perClass: Record<string, number> = {};
    let s = 0, n = 0;
    const b2 = beta * beta;
    for (let c = 0; c < K; c++) {
      const tp = op.counts[c][c], fp = op.counts[c][K], fn = this.nGt[c] - tp;
      const den = (1 + b2) * tp + b2 * fn + fp;
      const f = den > 0 ? ((1 + b2) * tp) / den : NaN;
      perClass[this.classes[c]] = f;
      if (!Number.isNaN(f)) { s += f; n++; }
    }
    return { perClass, macro: n ? s / n : NaN };
  }
}

/**
 * PSDS from operating points in one call: one detection table per threshold (psds_eval semantics).
 * @param params dtc, gtc, cttc, alphaCt, alphaSt, maxEfpr (e.g. {@link PSDS1}, {@link PSDS2})
 */
export function psdsFromOperatingPoints(
  groundTruth: readonly Event[], meta: readonly Meta[] | ReadonlyMap<string, number>, tables: readonly (readonly Event[])[],
  params: PsdsParams, opts: { classes?: readonly string[]; unitOfTime?: TimeUnit; ctAverage?: CtAverage } = {},
): PsdsResult {
  const ev = new PsdsEval(groundTruth, meta, { dtc: params.dtc, gtc: params.gtc, cttc: params.cttc, classes: opts.classes, unitOfTime: opts.unitOfTime });
  for (const t of tables) ev.addOperatingPoint(t);
  return ev.psds(params.alphaCt, params.alphaSt, params.maxEfpr, opts.ctAverage ?? 'all');
}

// ---------------------------------------------------------------------------------------------------------------
// (b) Threshold-free from frame scores (sed_scores_eval).

/** Frame-wise scores of one audio file. */
export interface ScoreTrack {
  filename: string;
  /** Frame boundaries in seconds, length F+1, strictly increasing: frame i spans [timestamps[i], timestamps[i+1]]. */
  timestamps: ArrayLike<number>;
  /** Per class (prompt): F scores, higher = more likely active. Every track must have the same class keys. */
  scores: Readonly<Record<string, ArrayLike<number>>>;
}

/** Frame boundaries 0, hop, 2*hop, ..., nFrames*hop (plus `start`). */
export function uniformTimestamps(nFrames: number, hop: number, start = 0): Float64Array {
  const t = new Float64Array(nFrames + 1);
  for (let i = 0; i <= nFrames; i++) t[i] = start + i * hop;
  return t;
}

/**
 * Events detected at one threshold: runs of contiguous frames with score > threshold (sed_scores_eval's
 * scores_to_event_list), or >= threshold with `inclusive`. Onset = start of the first frame, offset = end of the
 * last. `threshold` may be one number or one per class.
 */
export function detectionsFromScores(tracks: readonly ScoreTrack[], threshold: number | Readonly<Record<string, number>>, opts: { inclusive?: boolean } = {}): Event[] {
  const out: Event[] = [];
  for (const t of tracks) {
    for (const label of Object.keys(t.scores)) {
      const s = t.scores[label];
      const thr = typeof threshold === 'number' ? threshold : threshold[label];
      if (thr === undefined) throw new Error(`detectionsFromScores: no threshold for class '${label}'`);
      let start = -1;
      for (let i = 0; i <= s.length; i++) {
        const on = i < s.length && (opts.inclusive ? s[i] >= thr : s[i] > thr);
        if (on && start < 0) start = i;
        else if (!on && start >= 0) { out.push({ filename: t.filename, onset: t.timestamps[start], offset: t.timestamps[i], label }); start = -1; }
      }
    }
  }
  return out;
}

/** Intersection statistics of one class at every operating point (descending thresholds). */
export interface ClassScoreStats {
  label: string;
  /** thresholds[0] = +Infinity (no detections); then every distinct score where a statistic changes, descending.
   * At threshold s the detections are runs of frames with score >= s. */
  thresholds: Float64Array;
  tps: Float64Array;
  fps: Float64Array;
  /** Cross-trigger counts per other class index (all zeros unless cttc is given); own index all zeros. */
  cts: Float64Array[];
  /** GT events of this class. */
  nRef: number;
  /** Total GT duration of this class (s). */
  tRef: number;
}

/** Options of {@link scoreStatistics} / {@link psdsFromScores}. */
export interface ScoreStatsOptions {
  dtc: number;
  gtc: number;
  /** null: do not count cross-triggers (sed_scores_eval's cttc_threshold=None). */
  cttc: number | null;
  /** Decimals intersections and thresholds*lengths are rounded to before comparing (sed_scores_eval: 6);
   * null compares raw floats. */
  timeDecimals?: number | null;
  /** Classes to evaluate (default: the score keys of the tracks). GT events of other labels are then ignored;
   * without it, a GT label that has no scores is an error. */
  classes?: readonly string[];
}

function rint(y: number): number {
  const f = Math.floor(y), d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

interface FileGt { on: Float64Array; off: Float64Array }

/**
 * sed_scores_eval's intersection-based intermediate statistics for every distinct score of every class, computed
 * incrementally (see file header). Per file, per class: frames are switched on in decreasing score order; runs
 * of active frames are the detections; each time a run appears, grows or merges, only that run's DTC/CT status
 * and the coverage of the GT events it touches are updated.
 */
export function scoreStatistics(tracks: readonly ScoreTrack[], groundTruth: readonly Event[], opts: ScoreStatsOptions): { classes: string[]; stats: ClassScoreStats[] } {
  checkThresholds(opts.dtc, opts.gtc, opts.cttc);
  if (tracks.length === 0) throw new Error('PSDS: no score tracks');
  const dec = opts.timeDecimals === undefined ? 6 : opts.timeDecimals;
  const scale = dec === null ? 0 : Math.pow(10, dec);
  const q = dec === null ? (v: number) => v : (v: number) => rint(v * scale) / scale;
  const keys0 = Object.keys(tracks[0].scores);
  const classes = opts.classes ? [...opts.classes] : sortedUnique(keys0);
  const cIndex = new Map(classes.map((c, i) => [c, i] as const));
  const K = classes.length;
  const trackByFile = new Map<string, ScoreTrack>();
  for (const t of tracks) {
    if (trackByFile.has(t.filename)) throw new Error(`PSDS: two score tracks for '${t.filename}'`);
    trackByFile.set(t.filename, t);
    const F = t.timestamps.length - 1;
    if (F < 1) throw new Error(`PSDS: '${t.filename}' has no frames`);
    for (let i = 0; i < F; i++) {
      if (!(t.timestamps[i + 1] > t.timestamps[i])) throw new Error(`PSDS: timestamps of '${t.filename}' are not strictly increasing at frame ${i}`);
    }
    for (const c of classes) {
      const s = t.scores[c];
      if (!s) throw new Error(`PSDS: '${t.filename}' has no scores for class '${c}'`);
      if (s.length !== F) throw new Error(`PSDS: '${t.filename}' class '${c}': ${s.length} scores for ${F} frames (timestamps must have F+1 entries)`);
      for (let i = 0; i < F; i++) if (Number.isNaN(s[i])) throw new Error(`PSDS: NaN score in '${t.filename}' class '${c}' frame ${i}`);
    }
  }
  // GT per file per class.
  const gtLists = new Map<string, { on: number[]; off: number[] }[]>();
  const nRef = new Float64Array(K), tRef = new Float64Array(K);
  for (const e of groundTruth) {
    if (!trackByFile.has(e.filename)) throw new Error(`PSDS: ground-truth file '${e.filename}'${e.line ? ` (line ${e.line})` : ''} has no scores`);
    const c = cIndex.get(e.label);
    if (c === undefined) {
      if (opts.classes) continue;
      throw new Error(`PSDS: ground-truth label '${e.label}' in '${e.filename}' has no scores (classes: ${classes.join(', ')})`);
    }
    let l = gtLists.get(e.filename);
    if (!l) gtLists.set(e.filename, (l = Array.from({ length: K }, () => ({ on: [] as number[], off: [] as number[] }))));
    l[c].on.push(e.onset); l[c].off.push(e.offset);
    nRef[c] += 1; tRef[c] += e.offset - e.onset;
  }
  const emptyGt: FileGt = { on: new Float64Array(0), off: new Float64Array(0) };
  const stats: ClassScoreStats[] = [];
  for (let c = 0; c < K; c++) {
    // Change records across files: score, dtps, dfps, and sparse cts deltas.
    const recScore: number[] = [], recTp: number[] = [], recFp: number[] = [];
    const ctRec: number[] = [], ctK: number[] = [], ctD: number[] = [];
    let tps0 = 0;
    for (const t of tracks) {
      const l = gtLists.get(t.filename);
      const target: FileGt = l ? { on: Float64Array.from(l[c].on), off: Float64Array.from(l[c].off) } : emptyGt;
      const others: { k: number; gt: FileGt }[] = [];
      if (opts.cttc !== null && l) {
        for (let k = 0; k < K; k++) if (k !== c && l[k].on.length) others.push({ k, gt: { on: Float64Array.from(l[k].on), off: Float64Array.from(l[k].off) } });
      }
      tps0 += fileClassDeltas(t.timestamps, t.scores[classes[c]], target, others, opts.dtc, opts.gtc, opts.cttc ?? 0, q,
        (score, dtp, dfp, dct) => {
          const r = recScore.length;
          recScore.push(score); recTp.push(dtp); recFp.push(dfp);
          for (let o = 0; o < dct.length; o++) if (dct[o] !== 0) { ctRec.push(r); ctK.push(others[o].k); ctD.push(dct[o]); }
        });
    }
    const n = recScore.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (recScore[a] > recScore[b] ? -1 : recScore[a] < recScore[b] ? 1 : a - b));
    const ctByRec = new Map<number, number[]>();
    for (let i = 0; i < ctRec.length; i++) { let v = ctByRec.get(ctRec[i]); if (!v) ctByRec.set(ctRec[i], (v = [])); v.push(i); }
    const th: number[] = [Infinity], tp: number[] = [tps0], fp: number[] = [0];
    const ct: number[][] = Array.from({ length: K }, () => [0]);
    let curTp = tps0, curFp = 0;
    const curCt = new Float64Array(K);
    for (let i = 0; i < n; ) {
      const s = recScore[order[i]];
      while (i < n && recScore[order[i]] === s) {
        const r = order[i];
        curTp += recTp[r]; curFp += recFp[r];
        const cr = ctByRec.get(r);
        if (cr) for (const j of cr) curCt[ctK[j]] += ctD[j];
        i++;
      }
      th.push(s); tp.push(curTp); fp.push(curFp);
      for (let k = 0; k < K; k++) ct[k].push(curCt[k]);
    }
    stats.push({
      label: classes[c], thresholds: Float64Array.from(th), tps: Float64Array.from(tp), fps: Float64Array.from(fp),
      cts: ct.map((a) => Float64Array.from(a)), nRef: nRef[c], tRef: tRef[c],
    });
  }
  return { classes, stats };
}

/**
 * One file, one class. Calls `emit(score, dTps, dFps, dCts)` after all frames with that score are switched on,
 * whenever a statistic changed. Returns the TP count with no detection (nonzero only for gtc = 0 or
 * zero-length GT events, as sed_scores_eval counts them).
 */
function fileClassDeltas(
  ts: ArrayLike<number>, s: ArrayLike<number>, target: FileGt, others: { k: number; gt: FileGt }[],
  dtcT: number, gtcT: number, cttcT: number, q: (v: number) => number,
  emit: (score: number, dTp: number, dFp: number, dCt: Float64Array) => void,
): number {
  const F = s.length;
  const G = target.on.length, O = others.length;
  const active = new Uint8Array(F);
  const runEnd = new Int32Array(F);   // at a run's first frame: one past its last frame
  const runStart = new Int32Array(F); // at a run's last frame: its first frame
  const dtcFlag = new Uint8Array(F);  // at a run's first frame
  const coverage = new Float64Array(G);
  const contributors = new Int32Array(G);
  const gtPass = new Uint8Array(G);
  const gtNeed = new Float64Array(G);
  for (let g = 0; g < G; g++) gtNeed[g] = q(gtcT * (target.off[g] - target.on[g]));
  let tps = 0;
  for (let g = 0; g < G; g++) { gtPass[g] = q(0) >= gtNeed[g] ? 1 : 0; tps += gtPass[g]; }
  const tps0 = tps;
  let fps = 0;
  const cts = new Float64Array(O);
  const inter = new Float64Array(G);

  const update = (a: number, b: number, sign: 1 | -1) => {
    const on = ts[a], off = ts[b], len = off - on;
    let total = 0;
    for (let g = 0; g < G; g++) {
      const v = Math.max(Math.min(off, target.off[g]) - Math.max(on, target.on[g]), 0);
      inter[g] = v;
      total += v;
    }
    let dtc: boolean;
    if (sign > 0) { dtc = q(total) >= q(dtcT * len); dtcFlag[a] = dtc ? 1 : 0; } else dtc = dtcFlag[a] === 1;
    if (!dtc) fps += sign;
    else {
      for (let g = 0; g < G; g++) {
        if (inter[g] <= 0) continue;
        contributors[g] += sign;
        coverage[g] = contributors[g] === 0 ? 0 : coverage[g] + sign * inter[g];
        const p = q(coverage[g]) >= gtNeed[g] ? 1 : 0;
        if (p !== gtPass[g]) { tps += p - gtPass[g]; gtPass[g] = p; }
      }
    }
    if (O) {
      const need = q(cttcT * len);
      for (let o = 0; o < O; o++) {
        let oi = 0;
        if (!dtc) {
          const gt = others[o].gt;
          for (let j = 0; j < gt.on.length; j++) oi += Math.max(Math.min(off, gt.off[j]) - Math.max(on, gt.on[j]), 0);
        }
        if (q(oi) >= need) cts[o] += sign;
      }
    }
  };

  const order = Array.from({ length: F }, (_, i) => i).sort((a, b) => (s[a] > s[b] ? -1 : s[a] < s[b] ? 1 : a - b)); // compare: Inf - Inf is NaN
  const dCt = new Float64Array(O);
  for (let i = 0; i < F; ) {
    const score = s[order[i]];
    const tp0 = tps, fp0 = fps, ct0 = cts.slice();
    while (i < F && s[order[i]] === score) {
      const f = order[i++];
      let L = f, R = f + 1;
      if (f > 0 && active[f - 1]) { L = runStart[f - 1]; update(L, f, -1); }
      if (f + 1 < F && active[f + 1]) { R = runEnd[f + 1]; update(f + 1, R, -1); }
      active[f] = 1;
      runEnd[L] = R; runStart[R - 1] = L;
      update(L, R, 1);
    }
    let changed = tps !== tp0 || fps !== fp0;
    for (let o = 0; o < O; o++) { dCt[o] = cts[o] - ct0[o]; if (dCt[o] !== 0) changed = true; }
    if (changed) emit(score, tps - tp0, fps - fp0, dCt);
  }
  return tps0;
}

/** Options of {@link psdsFromScores}: the PSDS parameters plus how to compute the statistics. */
export interface PsdsFromScoresOptions {
  /** Decimals for rounding intersections (default 6, as sed_scores_eval); null = no rounding. */
  timeDecimals?: number | null;
  /** 'others' (default, sed_scores_eval) or 'all' (psds_eval), see {@link CtAverage}. */
  ctAverage?: CtAverage;
  classes?: readonly string[];
  unitOfTime?: TimeUnit;
}

/** Per-class ROC of the threshold-free evaluation: one point per threshold in {@link ClassScoreStats}. */
export interface ScoreClassRoc extends ClassRoc {
  label: string;
  thresholds: Float64Array;
  tpr: Float64Array;
  fpr: Float64Array;
  efpr: Float64Array;
}

/**
 * Per-class ROCs (TPR and eFPR at every distinct score) from frame scores, as sed_scores_eval computes them:
 * TPR = tps / max(nRef, 1), FPR = fps / T, CTR_k = cts_k / T_k, eFPR = FPR + alphaCt * mean_k CTR_k, per unit of
 * time. The total duration T is the sum of the metadata durations of the scored files.
 */
export function classRocsFromScores(
  tracks: readonly ScoreTrack[], groundTruth: readonly Event[], meta: readonly Meta[] | ReadonlyMap<string, number>,
  params: Pick<PsdsParams, 'dtc' | 'gtc' | 'cttc' | 'alphaCt'>, opts: PsdsFromScoresOptions = {},
): { classes: string[]; rocs: ScoreClassRoc[]; stats: ClassScoreStats[] } {
  checkAlphaCt(params.alphaCt);
  const unit = opts.unitOfTime ?? 'hour';
  if (!(unit in SECONDS_PER_UNIT)) throw new Error(`PSDS: invalid unit of time '${unit}'`);
  const sec = SECONDS_PER_UNIT[unit];
  const dur = durationsOf(meta);
  let T = 0;
  for (const t of tracks) {
    const d = dur.get(t.filename);
    if (d === undefined) throw new Error(`PSDS: scored file '${t.filename}' is not in the metadata`);
    T += d;
  }
  if (!(T > 0)) throw new Error('PSDS: total audio duration is 0');
  const { classes, stats } = scoreStatistics(tracks, groundTruth, {
    dtc: params.dtc, gtc: params.gtc, cttc: params.alphaCt > 0 ? params.cttc : null, timeDecimals: opts.timeDecimals, classes: opts.classes,
  });
  const K = classes.length;
  const div = (opts.ctAverage ?? 'others') === 'all' ? K : K - 1;
  const rocs = stats.map((st, c) => {
    const n = st.thresholds.length;
    const tpr = new Float64Array(n), fpr = new Float64Array(n), efpr = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      tpr[i] = st.tps[i] / Math.max(st.nRef, 1);
      fpr[i] = (st.fps[i] / T) * sec;
      let ctm = 0;
      if (params.alphaCt > 0 && div > 0) {
        for (let k = 0; k < K; k++) if (k !== c) ctm += st.cts[k][i] / Math.max(stats[k].tRef, 1e-12);
        ctm /= div;
      }
      efpr[i] = (st.fps[i] / T + params.alphaCt * ctm) * sec;
    }
    return { label: st.label, thresholds: st.thresholds, tpr, fpr, efpr };
  });
  return { classes, rocs, stats };
}

/**
 * Threshold-free PSDS from frame scores (sed_scores_eval's exact computation): every distinct score of a class is
 * an operating point, its detections the runs of contiguous frames scoring >= it; see the file header.
 * @param params e.g. {@link PSDS1} or {@link PSDS2}
 */
export function psdsFromScores(
  tracks: readonly ScoreTrack[], groundTruth: readonly Event[], meta: readonly Meta[] | ReadonlyMap<string, number>,
  params: PsdsParams, opts: PsdsFromScoresOptions = {},
): PsdsResult & { rocs: ScoreClassRoc[] } {
  const { classes, rocs } = classRocsFromScores(tracks, groundTruth, meta, params, opts);
  return { ...psdsFromClassRocs(rocs, classes, params.alphaSt, params.maxEfpr, params.alphaCt), rocs };
}
