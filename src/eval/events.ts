// Event-based (collar) and segment-based F1, as TUT-ARG/sed_eval defines them (Mesaros et al., "Metrics for
// Polyphonic Sound Event Detection", Applied Sciences 2016).
//
// Event-based: in each file, an estimated event matches a reference event of the same label when
//   |onset_est - onset_ref| <= tCollar  and  |offset_est - offset_ref| <= max(tCollar, percentageOfLength * len_ref),
// and events are paired one-to-one by a maximum bipartite matching (sed_eval's 'optimal' matching).
// Segment-based: each file is cut into segments of `segment` seconds; a class is active in a segment when any of
// its events overlaps it (segments floor(onset/res) .. ceil(offset/res) - 1); TP/ref/sys are counted per
// (segment, class).
// Micro ("overall"): F from the counts summed over classes. Macro ("class-wise average"): mean over classes of the
// per-class F (and P, R), skipping NaN. Per class P = Ntp/Nsys (NaN if Nsys = 0, or 0 with
// emptySystemOutput = 'zero_score'), R = Ntp/Nref (NaN if Nref = 0), F = 2PR/(P+R) (0 if P = R = 0).
// No node:* imports (browser-safe).

import type { Event } from './tsv.ts';

/** Counts and scores of one class or of all classes pooled. */
export interface Prf {
  nRef: number;
  nSys: number;
  nTp: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Result of {@link eventBasedF1} / {@link segmentBasedF1}. */
export interface F1Result {
  /** Counts pooled over classes (sed_eval "overall"). */
  micro: Prf;
  /** Mean over classes of the per-class F, P and R, NaN entries skipped (sed_eval "class-wise average"). */
  macro: { f1: number; precision: number; recall: number };
  perClass: Record<string, Prf>;
  classes: string[];
}

/** Shared options. */
export interface F1Options {
  /** Classes for the macro average (default: every label in reference or estimate, sorted). */
  classes?: readonly string[];
  /** Files evaluated (default: every file in reference or estimate). Events of other files are ignored. */
  files?: readonly string[];
  /**
   * Precision of a class with no system output: 'zero_score' (default; DCASE baselines' choice) gives 0, so the
   * class's F is 0 when it has references; 'nan' (sed_eval's own default) gives NaN, dropping the class from the
   * macro average.
   */
  emptySystemOutput?: 'zero_score' | 'nan';
  beta?: number;
}

/** Options of {@link eventBasedF1}. Defaults: tCollar 0.2 s, percentageOfLength 0.2 (DCASE), onset and offset. */
export interface CollarOptions extends F1Options {
  /** Onset collar in seconds (default 0.2). */
  tCollar?: number;
  /** Offset collar = max(tCollar, percentageOfLength * reference length) (default 0.2). */
  percentageOfLength?: number;
  evaluateOnset?: boolean;
  evaluateOffset?: boolean;
}

/** Options of {@link segmentBasedF1}. */
export interface SegmentOptions extends F1Options {
  /** Segment length in seconds (default 1.0). */
  segment?: number;
  /**
   * Per-file evaluated length in seconds (e.g. the metadata durations). A file's segment count is
   * ceil(length / segment), events past it are cut (sed_eval's evaluated_length_seconds); default: the largest
   * offset of the file's reference and estimated events.
   */
  durations?: ReadonlyMap<string, number>;
}

function prf(nRef: number, nSys: number, nTp: number, zeroScore: boolean, beta: number): Prf {
  const precision = nSys === 0 ? (zeroScore ? 0 : NaN) : nTp / nSys;
  const recall = nRef === 0 ? NaN : nTp / nRef;
  const b2 = beta * beta;
  const f1 = precision === 0 && recall === 0 ? 0 : ((1 + b2) * precision * recall) / (b2 * precision + recall);
  return { nRef, nSys, nTp, precision, recall, f1 };
}

function nanMean(v: number[]): number {
  let s = 0, n = 0;
  for (const x of v) if (!Number.isNaN(x)) { s += x; n++; }
  return n ? s / n : NaN;
}

function groupByFile(ref: readonly Event[], est: readonly Event[], files?: readonly string[]): Map<string, { ref: Event[]; est: Event[] }> {
  const m = new Map<string, { ref: Event[]; est: Event[] }>();
  const allow = files ? new Set(files) : undefined;
  if (files) for (const f of files) m.set(f, { ref: [], est: [] });
  const get = (f: string) => {
    let g = m.get(f);
    if (!g) m.set(f, (g = { ref: [], est: [] }));
    return g;
  };
  for (const e of ref) if (!allow || allow.has(e.filename)) get(e.filename).ref.push(e);
  for (const e of est) if (!allow || allow.has(e.filename)) get(e.filename).est.push(e);
  return m;
}

function classList(ref: readonly Event[], est: readonly Event[], classes?: readonly string[]): string[] {
  if (classes) return [...classes];
  return [...new Set([...ref.map((e) => e.label), ...est.map((e) => e.label)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function finish(classes: string[], counts: Map<string, [number, number, number]>, opts: F1Options): F1Result {
  const zero = (opts.emptySystemOutput ?? 'zero_score') === 'zero_score';
  const beta = opts.beta ?? 1;
  let R = 0, S = 0, T = 0;
  for (const [r, s, t] of counts.values()) { R += r; S += s; T += t; }
  const perClass: Record<string, Prf> = {};
  for (const c of classes) { const [r, s, t] = counts.get(c) ?? [0, 0, 0]; perClass[c] = prf(r, s, t, zero, beta); }
  const pcs = classes.map((c) => perClass[c]);
  return {
    micro: prf(R, S, T, zero, beta),
    macro: { f1: nanMean(pcs.map((p) => p.f1)), precision: nanMean(pcs.map((p) => p.precision)), recall: nanMean(pcs.map((p) => p.recall)) },
    perClass, classes,
  };
}

/**
 * Size of a maximum matching in the bipartite graph `adj` (left i -> right j), by augmenting paths (Kuhn).
 * Returns matchRight[j] = matched left vertex or -1.
 */
export function maxBipartiteMatching(adj: readonly (readonly number[])[], nRight: number): Int32Array {
  const matchR = new Int32Array(nRight).fill(-1);
  const seen = new Int32Array(nRight).fill(-1);
  const tryAug = (u: number, stamp: number): boolean => {
    for (const v of adj[u]) {
      if (seen[v] === stamp) continue;
      seen[v] = stamp;
      if (matchR[v] < 0 || tryAug(matchR[v], stamp)) { matchR[v] = u; return true; }
    }
    return false;
  };
  for (let u = 0; u < adj.length; u++) tryAug(u, u);
  return matchR;
}

/**
 * Collar-based event F1 (sed_eval EventBasedMetrics with event_matching_type 'optimal'). Defaults: onset collar
 * 0.2 s, offset collar max(0.2 s, 0.2 * reference length), onset and offset both evaluated, one-to-one matching
 * within each file and label. Returns micro (overall) and macro (class-wise average) F1, precision, recall.
 */
export function eventBasedF1(reference: readonly Event[], estimated: readonly Event[], opts: CollarOptions = {}): F1Result {
  const tCollar = opts.tCollar ?? 0.2;
  const pol = opts.percentageOfLength ?? 0.2;
  const doOn = opts.evaluateOnset ?? true, doOff = opts.evaluateOffset ?? true;
  const classes = classList(reference, estimated, opts.classes);
  const counts = new Map<string, [number, number, number]>();
  const add = (c: string, r: number, s: number, t: number) => {
    const v = counts.get(c) ?? [0, 0, 0];
    v[0] += r; v[1] += s; v[2] += t;
    counts.set(c, v);
  };
  for (const { ref, est } of groupByFile(reference, estimated, opts.files).values()) {
    const labels = new Set([...ref.map((e) => e.label), ...est.map((e) => e.label)]);
    for (const label of labels) {
      const R = ref.filter((e) => e.label === label), E = est.filter((e) => e.label === label);
      const adj = R.map((r) => {
        const out: number[] = [];
        for (let j = 0; j < E.length; j++) {
          const e = E[j];
          if (doOn && !(Math.abs(r.onset - e.onset) <= tCollar)) continue;
          if (doOff && !(Math.abs(r.offset - e.offset) <= Math.max(tCollar, pol * (r.offset - r.onset)))) continue;
          out.push(j);
        }
        return out;
      });
      const m = maxBipartiteMatching(adj, E.length);
      let tp = 0;
      for (let j = 0; j < E.length; j++) if (m[j] >= 0) tp++;
      add(label, R.length, E.length, tp);
    }
  }
  return finish(classes, counts, opts);
}

/**
 * Segment-based F1 (sed_eval SegmentBasedMetrics). Default segment 1.0 s. Each (file, segment, class) is active in
 * the reference / estimate when an event of that class overlaps the segment; TP = active in both. Returns micro
 * (counts pooled over classes and segments) and macro (mean of per-class F) scores.
 */
export function segmentBasedF1(reference: readonly Event[], estimated: readonly Event[], opts: SegmentOptions = {}): F1Result {
  const res = opts.segment ?? 1.0;
  if (!(res > 0)) throw new Error(`segmentBasedF1: segment length must be > 0 (got ${res})`);
  const classes = classList(reference, estimated, opts.classes);
  const counts = new Map<string, [number, number, number]>();
  const roll = (events: Event[], label: string, n: number): Uint8Array => {
    const r = new Uint8Array(n);
    for (const e of events) {
      if (e.label !== label) continue;
      const a = Math.floor(e.onset / res), b = Math.min(n, Math.ceil(e.offset / res));
      for (let i = Math.max(0, a); i < b; i++) r[i] = 1;
    }
    return r;
  };
  for (const [file, { ref, est }] of groupByFile(reference, estimated, opts.files)) {
    let len = opts.durations?.get(file);
    if (len === undefined) {
      len = 0;
      for (const e of ref) len = Math.max(len, e.offset);
      for (const e of est) len = Math.max(len, e.offset);
    }
    const n = Math.ceil(len / res);
    const labels = new Set([...ref.map((e) => e.label), ...est.map((e) => e.label)]);
    for (const label of labels) {
      const a = roll(ref, label, n), b = roll(est, label, n);
      let r = 0, s = 0, t = 0;
      for (let i = 0; i < n; i++) { r += a[i]; s += b[i]; t += a[i] & b[i]; }
      const v = counts.get(label) ?? [0, 0, 0];
      v[0] += r; v[1] += s; v[2] += t;
      counts.set(label, v);
    }
  }
  return finish(classes, counts, opts);
}
