// PSDS on hand-computed cases: the staircase area, the operating-point variant (psds_eval semantics) and the
// threshold-free variant (sed_scores_eval semantics). Every expected number is derived in the comments.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Event } from '../../src/eval/tsv.ts';
import {
  PSDS1, PSDS2, PsdsEval, detectionsFromScores, psdsFromClassRocs, psdsFromOperatingPoints, psdsFromScores, scoreStatistics, staircaseArea,
  uniformTimestamps, type ScoreTrack,
} from '../../src/eval/psds.ts';
import { assertClose, type Tol } from '../util/compare.ts';

const s = suite('psds (hand-computed)');
/** Float64 sums of a handful of terms: agreement to a few ulps. */
const EXACT: Tol = { atol: 1e-12, rtol: 1e-12 };
const close = (name: string, got: number, want: number) => assertClose(name, [got], [want], EXACT);

s('presets are the DCASE definitions', () => {
  assert.equal({ ...PSDS1 }, { dtc: 0.7, gtc: 0.7, cttc: 0.3, alphaCt: 0, alphaSt: 1, maxEfpr: 100 });
  assert.equal({ ...PSDS2 }, { dtc: 0.1, gtc: 0.1, cttc: 0.3, alphaCt: 0.5, alphaSt: 1, maxEfpr: 100 });
});

s('staircase area: left-constant steps, cut or extended at maxX', () => {
  // Steps y=0 on [0,1), 1 on [1,2), 2 on [2,3), 3 from 3.
  const x = [0, 1, 2, 3], y = [0, 1, 2, 3];
  close('to 3', staircaseArea(x, y, 3), 3);
  close('to 2.5', staircaseArea(x, y, 2.5), 2);
  close('to 10', staircaseArea(x, y, 10), 3 + 3 * 7);
  close('to 0.5', staircaseArea(x, y, 0.5), 0);
});

s('PSD-ROC from class ROCs: mean, population std, alpha_st, clipping at 0', () => {
  // Class A: tpr 0.5 from x=0, 1 from x=10. Class B: 0 until x=20, then 1.
  // x union {0,10,20}: yA = [0.5,1,1], yB = [0,0,1]; mean [0.25,0.5,1]; std [0.25,0.5,0].
  const rocs = [{ tpr: [0.5, 1], efpr: [0, 10] }, { tpr: [1], efpr: [20] }];
  const r0 = psdsFromClassRocs(rocs, ['A', 'B'], 0, 40);
  assertClose('x', r0.roc.efpr, [0, 10, 20], EXACT);
  assertClose('mean', r0.roc.mean, [0.25, 0.5, 1], EXACT);
  assertClose('std', r0.roc.std, [0.25, 0.5, 0], EXACT);
  // area = 0.25*10 + 0.5*10 + 1*20 = 27.5 -> /40
  close('alpha_st 0', r0.value, 27.5 / 40);
  // alpha_st 1: etpr [0, 0, 1] -> area 20
  close('alpha_st 1', psdsFromClassRocs(rocs, ['A', 'B'], 1, 40).value, 20 / 40);
  // alpha_st 2: etpr max(0, .25-.5)=0, max(0, .5-1)=0, 1
  close('alpha_st 2', psdsFromClassRocs(rocs, ['A', 'B'], 2, 40).value, 20 / 40);
  // max_efpr 15 (between points): area .25*10 + .5*5 = 5 -> /15
  close('max 15', psdsFromClassRocs(rocs, ['A', 'B'], 0, 15).value, 5 / 15);
  // single-class areas: A = (0.5*10 + 30)/40, B = 20/40
  close('per class A', r0.perClass.A, 35 / 40);
  close('per class B', r0.perClass.B, 20 / 40);
  // a worse point to the right does not lower the staircase (cummax)
  close('cummax', psdsFromClassRocs([{ tpr: [1, 0.2], efpr: [5, 8] }], ['A'], 0, 10).value, 5 / 10);
});

// One file of 3600 s, so 1 false positive = 1 per hour. GT: A [10,20] (10 s), B [100,110].
const meta = [{ filename: 'f.wav', duration: 3600 }];
const gt: Event[] = [
  { filename: 'f.wav', onset: 10, offset: 20, label: 'A' },
  { filename: 'f.wav', onset: 100, offset: 110, label: 'B' },
];
const e = (onset: number, offset: number, label: string): Event => ({ filename: 'f.wav', onset, offset, label });
// op1: A hits its GT (9/9 of the detection inside, 9/10 of the GT covered): A (tpr 1, fpr 0); B (0, 0).
const op1 = [e(10, 19, 'A')];
// op2: + A false alarm [500,510]; B hits its GT [101,110]; B [12,18] lies inside A's GT: B FP and a cross-trigger
// on A (6/6 of it on A >= cttc 0.3). A: (1, fpr 1). B: (1, fpr 1, ctr B->A = 1 * 3600 / 10 s = 360 per hour).
const op2 = [e(10, 19, 'A'), e(500, 510, 'A'), e(101, 110, 'B'), e(12, 18, 'B')];

s('operating points: counts and rates of a hand example', () => {
  const ev = new PsdsEval(gt, meta, { dtc: 0.7, gtc: 0.7, cttc: 0.3 });
  const p1 = ev.addOperatingPoint(op1)!, p2 = ev.addOperatingPoint(op2)!;
  assert.equal(p1.counts, [[1, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assert.equal(p2.counts, [[1, 0, 1], [1, 1, 1], [0, 0, 0]]);
  assertClose('tpr', p2.tpr, [1, 1], EXACT);
  assertClose('fpr', p2.fpr, [1, 1], EXACT);
  assertClose('ctr', [...p2.ctr[0], ...p2.ctr[1]], [0, 0, 360, 0], EXACT);
  // eFPR with alpha_ct 0.5: psds_eval averages CT rates over all K=2 classes: B = 1 + 0.5*360/2 = 91;
  // over the K-1 = 1 other classes: 1 + 0.5*360 = 181.
  assertClose('efpr all', ev.effectiveFpr(p2, 0.5, 'all'), [1, 91], EXACT);
  assertClose('efpr others', ev.effectiveFpr(p2, 0.5, 'others'), [1, 181], EXACT);
});

s('operating points: PSDS1 / PSDS2 / variants of the hand example', () => {
  // alpha_ct 0: yA = 1 from 0; yB = 0 on [0,1), 1 from 1. alpha_st 1: etpr = mean - std = 0 on [0,1), then 1.
  // PSDS1 = 99/100. alpha_st 0: 0.5*1 + 99 = 99.5.
  close('PSDS1', psdsFromOperatingPoints(gt, meta, [op1, op2], PSDS1).value, 0.99);
  close('alpha_st 0', psdsFromOperatingPoints(gt, meta, [op1, op2], { ...PSDS1, alphaSt: 0 }).value, 0.995);
  // PSDS2 (dtc = gtc = 0.1 change nothing here): B's point moves to x = 91 -> etpr 1 only on [91,100]: 0.09.
  close('PSDS2', psdsFromOperatingPoints(gt, meta, [op1, op2], PSDS2).value, 0.09);
  // ...with the paper's K-1 average, B reaches tpr 1 at 181 > 100: 0.
  close('PSDS2 others', psdsFromOperatingPoints(gt, meta, [op1, op2], PSDS2, { ctAverage: 'others' }).value, 0);
  // alpha_ct 0.5, alpha_st 0: mean 0.5 on [0,91), 1 on [91,100]: 45.5 + 9 = 54.5.
  close('PSDS2 alpha_st 0', psdsFromOperatingPoints(gt, meta, [op1, op2], { ...PSDS2, alphaSt: 0 }).value, 0.545);
  // Without op1, A's only point is (1, 1): yA = 0 on [0,1) -> PSDS1: etpr 0 on [0,1), 1 after = 0.99 still;
  // with alpha_st 0: 0 on [0,1) then 1 -> 0.99.
  close('op2 only, alpha_st 0', psdsFromOperatingPoints(gt, meta, [op2], { ...PSDS1, alphaSt: 0 }).value, 0.99);
  // unit minute: 1 FP in 3600 s = 1/60 per minute, so B's step is at 1/60: alpha_st 0 -> (0.5/60 + (100 - 1/60)) / 100.
  close('per minute', psdsFromOperatingPoints(gt, meta, [op1, op2], { ...PSDS1, alphaSt: 0 }, { unitOfTime: 'minute' }).value,
    (0.5 / 60 + (100 - 1 / 60)) / 100);
});

s('operating points: bad input', () => {
  assert.throws(() => new PsdsEval([{ filename: 'x.wav', onset: 0, offset: 1, label: 'A' }], meta), /'x.wav'.*not in the metadata/);
  const ev = new PsdsEval(gt, meta);
  assert.throws(() => ev.addOperatingPoint([{ filename: 'y.wav', onset: 0, offset: 1, label: 'A' }]), /'y.wav'.*not in the metadata/);
  assert.throws(() => ev.psds(1.5, 0, 100), /alpha_ct/);
  assert.throws(() => ev.psds(0, 0, 0), /max_efpr/);
});

// Threshold-free: two files of 10 s (total 20 s, 1 FP = 180 per hour), 1 s frames, one class A.
// a.wav: GT A [2,5]; scores 0.8 on frames 2..4 -> at threshold 0.8 one detection [2,5] = the GT (TP).
// b.wav: no GT; 0.9 at frame 0, 0.5 at frame 5, 0.2 elsewhere.
//   s=0.9: b [0,1] FP                      -> (tpr 0, 180)
//   s=0.8: + a [2,5] TP                    -> (1, 180)
//   s=0.5: + b [5,6] FP                    -> (1, 360)
//   s=0.2: b's frames all on: one FP [0,10] -> (1, 180)
//   s=0.1: a all on: [0,10] covers 3/10 < 0.7, FP, GT lost -> (0, 360)
// Staircase: 0 below 180, 1 from 180. PSDS with max_efpr 720 = (720 - 180) / 720 = 0.75.
const ts10 = uniformTimestamps(10, 1);
const tracksAB: ScoreTrack[] = [
  { filename: 'a.wav', timestamps: ts10, scores: { A: [0.1, 0.1, 0.8, 0.8, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1] } },
  { filename: 'b.wav', timestamps: ts10, scores: { A: [0.9, 0.2, 0.2, 0.2, 0.2, 0.5, 0.2, 0.2, 0.2, 0.2] } },
];
const gtAB: Event[] = [{ filename: 'a.wav', onset: 2, offset: 5, label: 'A' }];
const metaAB = [{ filename: 'a.wav', duration: 10 }, { filename: 'b.wav', duration: 10 }];

s('threshold-free: statistics at every distinct score of a hand example', () => {
  const { stats } = scoreStatistics(tracksAB, gtAB, { dtc: 0.7, gtc: 0.7, cttc: null });
  const st = stats[0];
  assertClose('thresholds', st.thresholds, [Infinity, 0.9, 0.8, 0.5, 0.2, 0.1], EXACT);
  assert.equal(Array.from(st.tps), [0, 0, 1, 1, 1, 0]);
  assert.equal(Array.from(st.fps), [0, 1, 1, 2, 1, 2]);
  assert.is(st.nRef, 1);
  assert.is(st.tRef, 3);
  const r = psdsFromScores(tracksAB, gtAB, metaAB, { ...PSDS1, maxEfpr: 720 });
  assertClose('efpr', r.rocs[0].efpr, [0, 180, 180, 360, 180, 360], EXACT);
  close('PSDS', r.value, 0.75);
  // The same through operating points at thresholds between the scores (score > t).
  const tables = [0.85, 0.6, 0.3].map((t) => detectionsFromScores(tracksAB, t));
  assert.equal(tables[1].map((d) => [d.filename, d.onset, d.offset]), [['a.wav', 2, 5], ['b.wav', 0, 1]]);
  close('op-based PSDS', psdsFromOperatingPoints(gtAB, metaAB, tables, { ...PSDS1, maxEfpr: 720 }).value, 0.75);
});

// One file, 10 s, 1 s frames; GT A [2,5] (3 s), B [6,8].
// Class B scores: 0.9 on frames 2,3 (inside A's GT), 0.5 on frames 6,7 (B's GT), 0 elsewhere.
//   s=0.9: [2,4] fails the DTC (no B there): FP; 2/2 on A >= cttc 0.3: CT on A.  tps 0, fps 1, ct 1
//   s=0.5: + [6,8] = B's GT: TP.                                                   tps 1, fps 1, ct 1
//   s=0:   one run [0,10]: 2/10 on B < dtc 0.5: FP, the GT is lost; 3/10 on A >= cttc: CT.     tps 0, fps 1, ct 1
// Class A scores all 0: s=0: [0,10] covers 3/10 of A's GT < dtc: FP; 2/10 on B < cttc: no CT.
const ctTrack: ScoreTrack[] = [{
  filename: 'c.wav', timestamps: ts10,
  scores: { A: new Array(10).fill(0), B: [0, 0, 0.9, 0.9, 0, 0, 0.5, 0.5, 0, 0] },
}];
const ctGt: Event[] = [
  { filename: 'c.wav', onset: 2, offset: 5, label: 'A' },
  { filename: 'c.wav', onset: 6, offset: 8, label: 'B' },
];

s('threshold-free: cross-triggers and the 6-decimal rounding', () => {
  const { classes, stats } = scoreStatistics(ctTrack, ctGt, { dtc: 0.5, gtc: 0.5, cttc: 0.3 });
  assert.equal(classes, ['A', 'B']);
  const [A, B] = stats;
  assertClose('B thresholds', B.thresholds, [Infinity, 0.9, 0.5, 0], EXACT);
  assert.equal([Array.from(B.tps), Array.from(B.fps), Array.from(B.cts[0]), Array.from(B.cts[1])],
    [[0, 0, 1, 0], [0, 1, 1, 1], [0, 1, 1, 1], [0, 0, 0, 0]]);
  assert.equal([Array.from(A.thresholds), Array.from(A.tps), Array.from(A.fps), Array.from(A.cts[1])],
    [[Infinity, 0], [0, 0], [0, 1], [0, 0]]);
  // Rounding: a 1 s detection [2,3] of B over A's GT [2, 2.3]: the intersection 2.3 - 2 = 0.2999999999999998 in
  // doubles reaches cttc 0.3 * 1 only after rounding to 6 decimals (sed_scores_eval's time_decimals).
  const rt: ScoreTrack[] = [{ filename: 'r.wav', timestamps: [0, 2, 3], scores: { A: [0, 0], B: [0, 0.9] } }];
  const rg: Event[] = [{ filename: 'r.wav', onset: 2, offset: 2.3, label: 'A' }, { filename: 'r.wav', onset: 0, offset: 1, label: 'B' }];
  assert.ok(2.3 - 2 < 0.3, 'the intersection is below 0.3 in doubles');
  // At threshold 0 the run is [0,3]: 1/3 on B's GT fails the DTC, 0.3/3 on A < cttc: no CT.
  const rounded = scoreStatistics(rt, rg, { dtc: 0.5, gtc: 0.5, cttc: 0.3 }).stats[1];
  assert.equal([Array.from(rounded.thresholds), Array.from(rounded.fps), Array.from(rounded.cts[0])], [[Infinity, 0.9, 0], [0, 1, 1], [0, 1, 0]]);
  // Raw floats: no CT at 0.9, and nothing changes at 0, so that threshold is not listed.
  const raw = scoreStatistics(rt, rg, { dtc: 0.5, gtc: 0.5, cttc: 0.3, timeDecimals: null }).stats[1];
  assert.equal([Array.from(raw.thresholds), Array.from(raw.fps), Array.from(raw.cts[0])], [[Infinity, 0.9], [0, 1], [0, 0]]);
  // PSDS with alpha_ct 0.5: 10 s of audio, 1 FP = 360/h; A's GT is 3 s, 1 CT = 1200/h.
  // B's eFPR at 0.9 and 0.5: 360 + 0.5 * 1200 / (K-1 = 1) = 960 -> yB = 1 from 960; yA = 0 throughout.
  // max_efpr 1000, alpha_st 0: mean 0.5 on [960, 1000] -> 20 / 1000.
  const p = { dtc: 0.5, gtc: 0.5, cttc: 0.3, alphaCt: 0.5, alphaSt: 0, maxEfpr: 1000 };
  const r = psdsFromScores(ctTrack, ctGt, [{ filename: 'c.wav', duration: 10 }], p);
  assertClose('B efpr', r.rocs[1].efpr, [0, 960, 960, 360 + 600], EXACT);
  close('PSDS others', r.value, 0.02);
  // psds_eval's K average: 360 + 0.5 * 1200 / 2 = 660 -> 0.5 * 340 / 1000.
  close('PSDS all', psdsFromScores(ctTrack, ctGt, [{ filename: 'c.wav', duration: 10 }], p, { ctAverage: 'all' }).value, 0.17);
  // alpha_st 1: std 0.5 = mean -> 0.
  close('PSDS alpha_st 1', psdsFromScores(ctTrack, ctGt, [{ filename: 'c.wav', duration: 10 }], { ...p, alphaSt: 1 }).value, 0);
});

s('threshold-free: plateaus, merges and splits of runs in one file', () => {
  // GT A [0,3] and [5,6] of a 8-frame file (0.5 s frames, 4 s). Scores with ties and a valley.
  // frames:   0    1    2    3    4    5    6    7
  // score:   .6   .9   .6   .3   .3   .9   .1   .1
  // GT A:   [0 ................ 1.5)  ..  [2.5, 3)
  // In seconds frame i = [i/2, i/2 + 1/2). GT events: [0, 1.5] and [2.5, 3.0].
  const t: ScoreTrack[] = [{ filename: 'p.wav', timestamps: uniformTimestamps(8, 0.5), scores: { A: [0.6, 0.9, 0.6, 0.3, 0.3, 0.9, 0.1, 0.1] } }];
  const g: Event[] = [{ filename: 'p.wav', onset: 0, offset: 1.5, label: 'A' }, { filename: 'p.wav', onset: 2.5, offset: 3, label: 'A' }];
  // dtc = gtc = 0.5.
  // s=.9: [0.5,1] (inside GT1, TP? covers 0.5/1.5 < .5 no), [2.5,3] (= GT2: TP)         tps 1 fps 0
  // s=.6: [0,1.5] = GT1 (TP), [2.5,3] TP                                                 tps 2 fps 0
  // s=.3: one run [0,3]: 2/3 on GT -> DTC ok; covers both GTs fully                      tps 2 fps 0
  // s=.1: [0,4]: 2/4 = .5 >= .5 DTC ok                                                  tps 2 fps 0  (no change: not emitted)
  const st = scoreStatistics(t, g, { dtc: 0.5, gtc: 0.5, cttc: null }).stats[0];
  assertClose('thresholds', st.thresholds, [Infinity, 0.9, 0.6], EXACT);
  assert.equal(Array.from(st.tps), [0, 1, 2]);
  assert.equal(Array.from(st.fps), [0, 0, 0]);
  // dtc 0.6: s=.1 run [0,4] has 2/4 < .6 -> FP and both GTs lost.
  const st2 = scoreStatistics(t, g, { dtc: 0.6, gtc: 0.5, cttc: null }).stats[0];
  assertClose('thresholds dtc .6', st2.thresholds, [Infinity, 0.9, 0.6, 0.1], EXACT);
  assert.equal([Array.from(st2.tps), Array.from(st2.fps)], [[0, 1, 2, 0], [0, 0, 0, 1]]);
});

s('threshold-free: bad input', () => {
  const ok = tracksAB;
  assert.throws(() => psdsFromScores(ok, gtAB, [{ filename: 'a.wav', duration: 10 }], PSDS1), /'b.wav' is not in the metadata/);
  assert.throws(() => psdsFromScores(ok, [{ filename: 'z.wav', onset: 0, offset: 1, label: 'A' }], metaAB, PSDS1), /'z.wav'.*has no scores/);
  assert.throws(() => psdsFromScores(ok, [{ filename: 'a.wav', onset: 0, offset: 1, label: 'Q' }], metaAB, PSDS1), /label 'Q'.*has no scores/);
  const bad: ScoreTrack[] = [{ filename: 'a.wav', timestamps: ts10, scores: { A: [0.1, NaN, 0, 0, 0, 0, 0, 0, 0, 0] } }];
  assert.throws(() => psdsFromScores(bad, [], metaAB, PSDS1), /NaN score in 'a.wav'/);
  const short: ScoreTrack[] = [{ filename: 'a.wav', timestamps: ts10, scores: { A: [0.1, 0.2] } }];
  assert.throws(() => psdsFromScores(short, [], metaAB, PSDS1), /2 scores for 10 frames/);
  const unsorted: ScoreTrack[] = [{ filename: 'a.wav', timestamps: [0, 2, 1], scores: { A: [0.1, 0.2] } }];
  assert.throws(() => psdsFromScores(unsorted, [], metaAB, PSDS1), /not strictly increasing/);
  // Infinite scores are ordinary thresholds: the same hand example with 0.9 -> Infinity and 0.1 -> -Infinity.
  const inf: ScoreTrack[] = tracksAB.map((t) => ({ ...t, scores: { A: Array.from(t.scores.A, (v) => (v === 0.9 ? Infinity : v === 0.1 ? -Infinity : v)) } }));
  close('infinite scores', psdsFromScores(inf, gtAB, metaAB, { ...PSDS1, maxEfpr: 720 }).value, 0.75);
  // With explicit classes, other GT labels are ignored.
  const r = psdsFromScores(ok, [...gtAB, { filename: 'a.wav', onset: 0, offset: 1, label: 'Q' }], metaAB, { ...PSDS1, maxEfpr: 720 }, { classes: ['A'] });
  close('classes option', r.value, 0.75);
});

s.run();
