// AUROC, partial AUROC and frame-level AUROC on hand-computed cases, and against a brute-force pair count.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auroc, frameAuroc, meanPartialAuroc, partialAuroc, rocCurve } from '../../src/eval/auroc.ts';
import { assertClose, rng, type Tol } from '../util/compare.ts';

const s = suite('auroc');
/** Ratios of small integers computed two ways in float64. */
const EXACT: Tol = { atol: 1e-12, rtol: 1e-12 };
const close = (name: string, got: number, want: number) => assertClose(name, [got], [want], EXACT);

s('hand cases', () => {
  // sklearn's documented example: positives {0.35, 0.8}, negatives {0.1, 0.4}: 3 of 4 pairs ordered.
  close('sklearn example', auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  // positives {0.5, 0.9}, negatives {0.5, 0.2}: tie 1/2 + 1 + 2 = 3.5 of 4.
  close('ties', auroc([0.5, 0.5, 0.2, 0.9], [0, 1, 0, 1]), 0.875);
  close('all tied', auroc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  close('perfect', auroc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]), 1);
  close('reversed', auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  // Infinite scores (e.g. log-probabilities) sort like any other: positives {Inf, -Inf}, negatives {0, -Inf}:
  // Inf beats both (2), -Inf ties -Inf (1/2) -> 2.5 / 4.
  close('infinities', auroc([Infinity, 0, -Infinity, -Infinity], [1, 0, 1, 0]), 0.625);
  assert.ok(Number.isNaN(auroc([0.1, 0.2], [1, 1])), 'one class only: NaN');
  assert.throws(() => auroc([0.1, 0.2], [1, 2]), /not 0\/1/);
  assert.throws(() => auroc([0.1, NaN], [1, 0]), /NaN score/);
  assert.throws(() => auroc([0.1], [1, 0]), /1 scores but 2 labels/);
});

s('equals the pair count P(s+ > s-) + P(=)/2 on random data with many ties', () => {
  for (const [seed, n, levels] of [[1, 200, 5], [2, 501, 0], [3, 1000, 30]] as const) {
    const r = rng(seed);
    const sc = Array.from({ length: n }, () => (levels ? Math.floor(r() * levels) : r()));
    const lab = Array.from({ length: n }, (_, i) => (r() < 0.3 + 0.4 * (sc[i] / (levels || 1)) ? 1 : 0));
    let num = 0, P = 0, N = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (lab[i] === 1 && lab[j] === 0) num += sc[i] > sc[j] ? 1 : sc[i] === sc[j] ? 0.5 : 0;
    }
    for (const l of lab) (l ? P++ : N++);
    close(`seed ${seed}`, auroc(sc, lab), num / (P * N));
    // The full ROC's trapezoidal area is the same number; McClish-standardized pAUC at maxFpr = 1 as well.
    const { fpr, tpr } = rocCurve(sc, lab);
    let a = 0;
    for (let i = 1; i < fpr.length; i++) a += ((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1])) / 2;
    close(`trapezoid ${seed}`, a, num / (P * N));
    close(`pAUC(1) ${seed}`, partialAuroc(sc, lab, 1), num / (P * N));
  }
});

s('ROC curve points', () => {
  const c = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assertClose('fpr', c.fpr, [0, 0, 0.5, 0.5, 1], EXACT);
  assertClose('tpr', c.tpr, [0, 0.5, 0.5, 1, 1], EXACT);
  assertClose('thresholds', c.thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1], EXACT);
});

s('partial AUROC: raw area and McClish standardization', () => {
  const sc = [0.1, 0.4, 0.35, 0.8], lab = [0, 0, 1, 1];
  // ROC (0,0) (0,.5) (.5,.5) (.5,1) (1,1). Area on [0, .5] = .5 * .5 = .25.
  close('raw 0.5', partialAuroc(sc, lab, 0.5, { standardize: false }), 0.25);
  // standardized: 0.5 * (1 + (.25 - .125) / (.5 - .125)) = 2/3.
  close('std 0.5', partialAuroc(sc, lab, 0.5), 2 / 3);
  // maxFpr .25 cuts the flat segment: raw .125; 0.5 * (1 + (.125 - .03125) / (.25 - .03125)) = 5/7.
  close('raw 0.25', partialAuroc(sc, lab, 0.25, { standardize: false }), 0.125);
  close('std 0.25', partialAuroc(sc, lab, 0.25), 5 / 7);
  // A single tie group is the diagonal: raw area to .5 = .125 -> standardized 0.5 (chance).
  close('diagonal', partialAuroc([0.5, 0.5], [0, 1], 0.5), 0.5);
  // Linear interpolation inside a sloped segment.
  // positives {.5}, negatives {.5, .1, .1}: points (0,0) -> (1/3, 1) -> (1, 1); to .25: .25 * .75 / 2.
  close('sloped', partialAuroc([0.5, 0.5, 0.1, 0.1], [1, 0, 0, 0], 0.25, { standardize: false }), (0.25 * 0.75) / 2);
  assert.throws(() => partialAuroc(sc, lab, 0), /maxFpr/);
  assert.ok(Number.isNaN(partialAuroc([1, 2], [0, 0])));
});

s('frame-level AUROC: per prompt, macro, pooled', () => {
  const r = frameAuroc([
    { name: 'dog', scores: [0.9, 0.1], labels: [1, 0] },      // 1
    { name: 'cat', scores: [0.6, 0.7], labels: [1, 0] },      // 0
    { name: 'bird', scores: [0.3, 0.2], labels: [0, 0] },     // undefined
  ]);
  assert.is(r.perPrompt.length, 3);
  close('dog', r.perPrompt[0], 1);
  close('cat', r.perPrompt[1], 0);
  assert.ok(Number.isNaN(r.perPrompt[2]));
  assert.is(r.defined, 2);
  close('macro', r.macro, 0.5);
  // pooled: positives {.9, .6}, negatives {.1, .7, .3, .2}: .9 beats 4, .6 beats 3 -> 7 / 8.
  close('pooled', r.pooled, 7 / 8);
  close('mean pAUC', meanPartialAuroc([{ scores: [0.9, 0.1], labels: [1, 0] }, { scores: [0.3, 0.2], labels: [0, 0] }], 0.1), 1);
});

s.run();
