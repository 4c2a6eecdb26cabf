// Cross-modal retrieval and zero-shot classification metrics from a similarity matrix.
//
// For each query, targets are ranked by decreasing similarity (ties: lower target index first, i.e. a stable
// sort, so results are deterministic). With rank_q = 1-based rank of the best-ranked relevant target:
//   R@k      = fraction of queries with rank_q <= k;
//   mAP@K    = mean over queries of AP@K = (1 / min(|rel_q|, K)) * sum_{i <= K, target i relevant} precision@i
//              (with one relevant target: 1/rank_q if rank_q <= K else 0, as CLAP/OpenFLAM logs compute it; with
//              five captions per clip in audio-to-text: the usual "/5" normalisation);
//   mean / median rank of rank_q (median = floor(median of 0-based ranks) + 1, as CLAP's logs).
// Zero-shot accuracy: fraction of clips whose highest-similarity class (first on ties) is the true class.
// No node:* imports (browser-safe).

/** A dense matrix: an array of rows, or row-major data with its shape. */
export type SimMatrix = readonly ArrayLike<number>[] | { data: ArrayLike<number>; rows: number; cols: number };

interface Dense { rows: number; cols: number; at(i: number, j: number): number }

function dense(m: SimMatrix): Dense {
  if (Array.isArray(m)) {
    const rowsArr = m as readonly ArrayLike<number>[];
    const cols = rowsArr.length ? rowsArr[0].length : 0;
    for (let i = 0; i < rowsArr.length; i++) if (rowsArr[i].length !== cols) throw new Error(`similarity matrix: row ${i} has ${rowsArr[i].length} columns, row 0 has ${cols}`);
    return { rows: rowsArr.length, cols, at: (i, j) => rowsArr[i][j] };
  }
  const d = m as { data: ArrayLike<number>; rows: number; cols: number };
  if (d.data.length !== d.rows * d.cols) throw new Error(`similarity matrix: ${d.data.length} values for ${d.rows}x${d.cols}`);
  return { rows: d.rows, cols: d.cols, at: (i, j) => d.data[i * d.cols + j] };
}

function transpose(m: Dense): Dense {
  return { rows: m.cols, cols: m.rows, at: (i, j) => m.at(j, i) };
}

/** Retrieval scores (fractions in [0, 1], ranks 1-based). */
export interface RetrievalResult {
  /** Recall at 1, 5 and 10. */
  r1: number;
  r5: number;
  r10: number;
  /** Recall at every requested k. */
  recall: Record<number, number>;
  /** mean AP at mapK (default 10). */
  mAP10: number;
  meanRank: number;
  medianRank: number;
  /** 1-based rank of the best relevant target, per query. */
  ranks: Int32Array;
  queries: number;
}

/** Options of {@link retrievalMetrics}. */
export interface RetrievalOptions {
  /** Recall cut-offs (default [1, 5, 10]; 1, 5 and 10 are always computed). */
  ks?: readonly number[];
  /** Cut-off of mAP (default 10). */
  mapK?: number;
}

/**
 * Retrieval metrics for queries = rows of `sim`, targets = columns; `relevant[q]` lists the relevant target
 * columns of query q (at least one each). See the file header for the definitions.
 */
export function retrievalMetrics(sim: SimMatrix, relevant: readonly (readonly number[])[], opts: RetrievalOptions = {}): RetrievalResult {
  return retrievalDense(dense(sim), relevant, opts);
}

function retrievalDense(m: Dense, relevant: readonly (readonly number[])[], opts: RetrievalOptions): RetrievalResult {
  const { rows: nq, cols: nt } = m;
  if (relevant.length !== nq) throw new Error(`retrieval: ${relevant.length} relevance lists for ${nq} queries`);
  if (nq === 0) throw new Error('retrieval: no queries');
  const mapK = opts.mapK ?? 10;
  const ks = [...new Set([1, 5, 10, ...(opts.ks ?? [])])].sort((a, b) => a - b);
  const ranks = new Int32Array(nq);
  let apSum = 0;
  const row = new Float64Array(nt);
  for (let q = 0; q < nq; q++) {
    const rel = relevant[q];
    if (rel.length === 0) throw new Error(`retrieval: query ${q} has no relevant target`);
    for (let j = 0; j < nt; j++) {
      row[j] = m.at(q, j);
      if (Number.isNaN(row[j])) throw new Error(`retrieval: NaN similarity at (${q}, ${j})`);
    }
    for (const j of rel) {
      if (!(j >= 0 && j < nt && Number.isInteger(j))) throw new Error(`retrieval: query ${q}: relevant index ${j} out of range 0..${nt - 1}`);
    }
    // Rank of target j = 1 + #(higher score) + #(equal score, lower index).
    const relRanks: number[] = [];
    for (const j of new Set(rel)) {
      let r = 1;
      const v = row[j];
      for (let t = 0; t < nt; t++) if (row[t] > v || (row[t] === v && t < j)) r++;
      relRanks.push(r);
    }
    relRanks.sort((a, b) => a - b);
    ranks[q] = relRanks[0];
    let hits = 0, ap = 0;
    for (const r of relRanks) { if (r > mapK) break; hits++; ap += hits / r; }
    apSum += ap / Math.min(relRanks.length, mapK);
  }
  const recall: Record<number, number> = {};
  for (const k of ks) { let c = 0; for (let q = 0; q < nq; q++) if (ranks[q] <= k) c++; recall[k] = c / nq; }
  const sorted = Array.from(ranks).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median0 = sorted.length % 2 ? sorted[mid] - 1 : (sorted[mid - 1] + sorted[mid]) / 2 - 1;
  let sum = 0;
  for (const r of ranks) sum += r;
  return {
    r1: recall[1], r5: recall[5], r10: recall[10], recall, mAP10: apSum / nq,
    meanRank: sum / nq, medianRank: Math.floor(median0) + 1, ranks, queries: nq,
  };
}

function audioOf(nText: number, nAudio: number, audioOfText?: ArrayLike<number>): ArrayLike<number> {
  if (audioOfText) {
    if (audioOfText.length !== nText) throw new Error(`retrieval: audioOfText has ${audioOfText.length} entries for ${nText} texts`);
    return audioOfText;
  }
  if (nText !== nAudio) throw new Error(`retrieval: ${nText} texts and ${nAudio} clips need an audioOfText mapping`);
  return Array.from({ length: nText }, (_, i) => i);
}

/**
 * Text-to-audio retrieval. `sim` is [texts x clips]; text t's caption describes clip audioOfText[t] (default: the
 * diagonal, text i <-> clip i). Each text query has exactly one relevant clip.
 */
export function textToAudio(sim: SimMatrix, audioOfText?: ArrayLike<number>, opts: RetrievalOptions = {}): RetrievalResult {
  const m = dense(sim);
  const a = audioOf(m.rows, m.cols, audioOfText);
  return retrievalDense(m, Array.from({ length: m.rows }, (_, t) => [a[t]]), opts);
}

/**
 * Audio-to-text retrieval. `sim` is the same [texts x clips] matrix as for {@link textToAudio}; each clip is a
 * query whose relevant texts are all captions of it (e.g. 5 per clip for Clotho / AudioCaps).
 */
export function audioToText(sim: SimMatrix, audioOfText?: ArrayLike<number>, opts: RetrievalOptions = {}): RetrievalResult {
  const m = dense(sim);
  const a = audioOf(m.rows, m.cols, audioOfText);
  const rel: number[][] = Array.from({ length: m.cols }, () => []);
  for (let t = 0; t < m.rows; t++) {
    const j = a[t];
    if (!(j >= 0 && j < m.cols && Number.isInteger(j))) throw new Error(`retrieval: audioOfText[${t}] = ${j} out of range`);
    rel[j].push(t);
  }
  for (let j = 0; j < m.cols; j++) if (rel[j].length === 0) throw new Error(`retrieval: clip ${j} has no caption`);
  return retrievalDense(transpose(m), rel, opts);
}

/**
 * Zero-shot classification accuracy: `sim` is [clips x classes] (audio embedding vs. one prompt per class),
 * `labels[i]` the true class index of clip i. A clip counts as correct when its true class is among the `k`
 * highest similarities (default k = 1; ties broken towards the lower class index).
 */
export function zeroShotAccuracy(sim: SimMatrix, labels: ArrayLike<number>, k = 1): number {
  const m = dense(sim);
  if (labels.length !== m.rows) throw new Error(`zeroShotAccuracy: ${labels.length} labels for ${m.rows} clips`);
  if (m.rows === 0) throw new Error('zeroShotAccuracy: no clips');
  let ok = 0;
  for (let i = 0; i < m.rows; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < m.cols && Number.isInteger(y))) throw new Error(`zeroShotAccuracy: label ${y} of clip ${i} out of range`);
    const v = m.at(i, y);
    let r = 1;
    for (let j = 0; j < m.cols; j++) if (m.at(i, j) > v || (m.at(i, j) === v && j < y)) r++;
    if (r <= k) ok++;
  }
  return ok / m.rows;
}
