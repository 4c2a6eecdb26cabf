// Retrieval R@k / mAP@10 / ranks and zero-shot accuracy on hand-computed cases, and against a sort-based
// brute force on random matrices.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audioToText, retrievalMetrics, textToAudio, zeroShotAccuracy } from '../../src/eval/retrieval.ts';
import { assertClose, rng, type Tol } from '../util/compare.ts';

const s = suite('retrieval');
/** Means of small-integer ratios. */
const EXACT: Tol = { atol: 1e-12, rtol: 1e-12 };
const close = (name: string, got: number, want: number) => assertClose(name, [got], [want], EXACT);

s('text-to-audio, one caption per clip (diagonal)', () => {
  // [texts x clips]; text i describes clip i. Ranks: t0 1; t1 2 (0.8 above 0.3); t2 3 (0.4, 0.6 above 0.1).
  const sim = [[0.9, 0.1, 0.5], [0.8, 0.3, 0.2], [0.4, 0.6, 0.1]];
  const r = textToAudio(sim);
  assert.equal(Array.from(r.ranks), [1, 2, 3]);
  close('R@1', r.r1, 1 / 3);
  close('R@5', r.r5, 1);
  close('R@10', r.r10, 1);
  close('mAP@10', r.mAP10, (1 + 1 / 2 + 1 / 3) / 3);
  close('mean rank', r.meanRank, 2);
  assert.is(r.medianRank, 2);
  close('R@2', textToAudio(sim, undefined, { ks: [2] }).recall[2], 2 / 3);
  // mAP@2: rank 3 scores 0.
  close('mAP@2', textToAudio(sim, undefined, { mapK: 2 }).mAP10, (1 + 1 / 2) / 3);
  // The same matrix as row-major data.
  close('flat', textToAudio({ data: sim.flat(), rows: 3, cols: 3 }).mAP10, r.mAP10);
});

s('several captions per clip: T2A one relevant clip, A2T all captions relevant', () => {
  // texts 0,1 describe clip 0; texts 2,3 describe clip 1.
  const sim = [[0.9, 0.2], [0.3, 0.4], [0.1, 0.8], [0.7, 0.6]];
  const map = [0, 0, 1, 1];
  const t2a = textToAudio(sim, map);
  assert.equal(Array.from(t2a.ranks), [1, 2, 1, 2]);
  close('T2A R@1', t2a.r1, 0.5);
  close('T2A mAP', t2a.mAP10, 0.75);
  // A2T clip 0 over texts [.9 .3 .1 .7]: relevant t0 rank 1, t1 rank 3 -> AP (1/1 + 2/3) / 2 = 5/6.
  // clip 1 over [.2 .4 .8 .6]: t2 rank 1, t3 rank 2 -> AP 1.
  const a2t = audioToText(sim, map);
  assert.equal(Array.from(a2t.ranks), [1, 1]);
  close('A2T R@1', a2t.r1, 1);
  close('A2T mAP', a2t.mAP10, (5 / 6 + 1) / 2);
  // mAP@2: clip 0 only t0 within 2 -> 1 / min(2, 2) = 1/2.
  close('A2T mAP@2', audioToText(sim, map, { mapK: 2 }).mAP10, (0.5 + 1) / 2);
  assert.throws(() => audioToText(sim, [0, 0, 0, 0]), /clip 1 has no caption/);
  assert.throws(() => textToAudio(sim), /need an audioOfText mapping/);
});

s('ties rank the lower index first; median of an even count', () => {
  const r = textToAudio([[0.5, 0.5], [0.5, 0.5]]);
  assert.equal(Array.from(r.ranks), [1, 2]);
  // 0-based ranks [0, 1]: median 0.5 -> floor 0 -> 1.
  assert.is(r.medianRank, 1);
  close('mean rank', r.meanRank, 1.5);
});

s('random matrices: R@k and mAP@10 equal a sort-based brute force', () => {
  const r = rng(77);
  for (const [nq, nt, per] of [[40, 40, 1], [60, 12, 5], [25, 30, 1]] as const) {
    // Quantized similarities: plenty of ties.
    const sim = Array.from({ length: nq }, () => Array.from({ length: nt }, () => Math.floor(r() * 20) / 20));
    const rel = Array.from({ length: nq }, (_, q) => Array.from({ length: per }, (_, k) => (q * 7 + k * 3) % nt));
    const uniq = rel.map((x) => [...new Set(x)]);
    const got = retrievalMetrics(sim, uniq);
    let r1 = 0, r5 = 0, r10 = 0, map = 0;
    for (let q = 0; q < nq; q++) {
      const order = Array.from({ length: nt }, (_, j) => j).sort((a, b) => sim[q][b] - sim[q][a] || a - b);
      const first = order.findIndex((j) => uniq[q].includes(j)) + 1;
      if (first <= 1) r1++;
      if (first <= 5) r5++;
      if (first <= 10) r10++;
      let hits = 0, ap = 0;
      for (let i = 0; i < 10 && i < nt; i++) if (uniq[q].includes(order[i])) { hits++; ap += hits / (i + 1); }
      map += ap / Math.min(uniq[q].length, 10);
    }
    close('R@1', got.r1, r1 / nq);
    close('R@5', got.r5, r5 / nq);
    close('R@10', got.r10, r10 / nq);
    close('mAP@10', got.mAP10, map / nq);
  }
});

s('zero-shot accuracy, top-1 and top-k', () => {
  // [clips x classes]. clip 0 true 1: argmax 1 (ok). clip 1 true 2: argmax 0, second 2. clip 2 true 1: tie with
  // class 0, which ranks first.
  const sim = [[0.1, 0.9, 0.3], [0.8, 0.1, 0.2], [0.3, 0.3, 0.1]];
  close('top-1', zeroShotAccuracy(sim, [1, 2, 1]), 1 / 3);
  close('top-2', zeroShotAccuracy(sim, [1, 2, 1], 2), 1);
  assert.throws(() => zeroShotAccuracy(sim, [1, 3, 1]), /label 3 of clip 1 out of range/);
  assert.throws(() => zeroShotAccuracy(sim, [1, 2]), /2 labels for 3 clips/);
});

s.run();
