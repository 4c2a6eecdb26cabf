// Threshold-free PSDS (sed_scores_eval semantics) against the operating-point PSDS (psds_eval semantics) on seeded
// random data. Times are dyadic (frames of 1/8 s, GT at multiples of 1/64 s), so every intersection is exact and
// rounding to 6 decimals changes nothing; under those conditions the two definitions coincide when the operating
// points are the detection tables at every distinct score (score >= s), so the values must agree to float64
// summation order.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Event, Meta } from '../../src/eval/tsv.ts';
import {
  PSDS1, PSDS2, PsdsEval, detectionsFromScores, psdsFromOperatingPoints, psdsFromScores, scoreStatistics,
  uniformTimestamps, type PsdsParams, type ScoreTrack,
} from '../../src/eval/psds.ts';
import { assertClose, rng, type Tol } from '../util/compare.ts';

const s = suite('psds threshold-free vs operating points');
/** Same counts, rates summed in a different order: agreement to a few ulps of values <= a few thousand. */
const SUM_ORDER: Tol = { atol: 1e-12, rtol: 1e-12 };
const CLASSES = ['dog', 'siren', 'speech'];

interface Data { tracks: ScoreTrack[]; gt: Event[]; meta: Meta[] }

/** Seeded data: piecewise-constant scores on `levels` levels (ties, plateaus, merges) or continuous when 0. */
function makeData(seed: number, nFiles: number, nFrames: number, levels: number): Data {
  const r = rng(seed);
  const hop = 1 / 8, dur = nFrames * hop;
  const tracks: ScoreTrack[] = [], gt: Event[] = [], meta: Meta[] = [];
  for (let f = 0; f < nFiles; f++) {
    const filename = `clip${f}.wav`;
    const scores: Record<string, Float64Array> = {};
    for (const c of CLASSES) {
      // 0-2 GT events per class, non-overlapping, on a 1/64 s grid.
      const n = Math.floor(r() * 3);
      const cuts = Array.from({ length: 2 * n }, () => Math.round(r() * dur * 64) / 64).sort((a, b) => a - b);
      const evs: [number, number][] = [];
      for (let i = 0; i < n; i++) if (cuts[2 * i + 1] > cuts[2 * i]) evs.push([cuts[2 * i], cuts[2 * i + 1]]);
      for (const [on, off] of evs) gt.push({ filename, onset: on, offset: off, label: c });
      // Scores: higher inside own events, plus noise; piecewise constant when quantized.
      const sc = new Float64Array(nFrames);
      let level = r();
      for (let i = 0; i < nFrames; i++) {
        const t = (i + 0.5) * hop;
        const inside = evs.some(([on, off]) => t >= on && t < off);
        if (r() < 0.15) level = r();
        // Inside an event mostly high, outside mostly low with occasional bumps.
        let v = inside ? 0.35 + 0.65 * level : 0.45 * level ** 4;
        if (levels > 0) v = Math.floor(v * levels) / levels;
        sc[i] = v;
      }
      scores[c] = sc;
    }
    tracks.push({ filename, timestamps: uniformTimestamps(nFrames, hop), scores });
    meta.push({ filename, duration: dur });
  }
  return { tracks, gt, meta };
}

function distinctScores(tracks: readonly ScoreTrack[], label?: string): number[] {
  const set = new Set<number>();
  for (const t of tracks) for (const c of label ? [label] : Object.keys(t.scores)) for (const v of Array.from(t.scores[c])) set.add(v);
  return [...set].sort((a, b) => b - a);
}

s('incremental statistics equal a full re-detection at every distinct score', () => {
  for (const [seed, levels] of [[11, 12], [12, 0], [13, 7]] as const) {
    const { tracks, gt, meta } = makeData(seed, 5, 80, levels);
    for (const p of [{ dtc: 0.7, gtc: 0.7, cttc: 0.3 }, { dtc: 0.1, gtc: 0.1, cttc: 0.3 }, { dtc: 0.5, gtc: 0.3, cttc: 0.1 }]) {
      const { classes, stats } = scoreStatistics(tracks, gt, p);
      const ev = new PsdsEval(gt, meta, { ...p, classes: CLASSES });
      assert.equal(ev.classes, classes);
      const K = classes.length;
      let checked = 0;
      for (let c = 0; c < K; c++) {
        const st = stats[c];
        for (const sc of distinctScores(tracks, classes[c])) {
          // The statistics hold from their threshold down to the next listed one.
          let i = st.thresholds.length - 1;
          while (st.thresholds[i] < sc) i--;
          const dets = detectionsFromScores(tracks, sc, { inclusive: true }).filter((d) => d.label === classes[c]);
          const op = ev.evaluate(dets);
          const want = [op.counts[c][c], op.counts[c][K], ...classes.map((_, k) => (k === c ? 0 : op.counts[c][k]))];
          const got = [st.tps[i], st.fps[i], ...classes.map((_, k) => st.cts[k][i])];
          assert.equal(got, want, `seed ${seed} ${JSON.stringify(p)} class ${classes[c]} score ${sc}`);
          checked++;
        }
      }
      assert.ok(checked >= 20, `checked ${checked} thresholds`);
    }
  }
});

s('threshold-free PSDS equals operating-point PSDS at every distinct score (PSDS1, PSDS2, variants)', () => {
  for (const [seed, nFiles, levels] of [[21, 12, 16], [22, 6, 0]] as const) {
    const { tracks, gt, meta } = makeData(seed, nFiles, 160, levels);
    const tables = distinctScores(tracks).map((sc) => detectionsFromScores(tracks, sc, { inclusive: true }));
    for (const base of [PSDS1, PSDS2]) {
      const ev = new PsdsEval(gt, meta, { dtc: base.dtc, gtc: base.gtc, cttc: base.cttc, classes: CLASSES });
      for (const t of tables) ev.addOperatingPoint(t);
      const variants: PsdsParams[] = [{ ...base }, { ...base, alphaSt: 0 }, { ...base, alphaSt: 0.5, maxEfpr: 400 }, { ...base, alphaCt: 0.5 - base.alphaCt }];
      for (const p of variants) {
        for (const ctAverage of ['others', 'all'] as const) {
          const name = `seed ${seed} ${JSON.stringify(p)} ${ctAverage}`;
          const tf = psdsFromScores(tracks, gt, meta, p, { ctAverage });
          const op = ev.psds(p.alphaCt, p.alphaSt, p.maxEfpr, ctAverage);
          assertClose(name, [tf.value], [op.value], SUM_ORDER);
          assertClose(`${name} per class`, CLASSES.map((c) => tf.perClass[c]), CLASSES.map((c) => op.perClass[c]), SUM_ORDER);
          assert.ok(tf.value > 0.02 && tf.value < 0.99, `${name}: a non-trivial value (${tf.value})`);
          // Rounding to 6 decimals changes nothing on dyadic times.
          assertClose(`${name} raw floats`, [psdsFromScores(tracks, gt, meta, p, { ctAverage, timeDecimals: null }).value], [tf.value], SUM_ORDER);
        }
      }
    }
  }
});

s('a few operating points give a lower bound of the threshold-free PSDS (alpha_st = 0)', () => {
  const { tracks, gt, meta } = makeData(31, 12, 160, 0);
  const p = { ...PSDS1, alphaSt: 0 };
  const exact = psdsFromScores(tracks, gt, meta, p).value;
  const sparse = psdsFromOperatingPoints(gt, meta, [0.2, 0.4, 0.6, 0.8].map((t) => detectionsFromScores(tracks, t)), p, { classes: CLASSES }).value;
  assert.ok(sparse <= exact + 1e-12 && sparse > 0, `sparse ${sparse} <= exact ${exact}`);
  assert.ok(exact - sparse > 1e-3, 'the threshold-free curve has more points');
});

s('detectionsFromScores: runs above threshold, strict and inclusive, per-class thresholds', () => {
  const t: ScoreTrack[] = [{ filename: 'x.wav', timestamps: [0, 0.5, 1, 1.5, 2, 2.5], scores: { a: [0.2, 0.5, 0.5, 0.1, 0.7], b: [1, 1, 0, 0, 1] } }];
  const rows = (d: Event[]) => d.map((e) => `${e.label} ${e.onset}-${e.offset}`);
  assert.equal(rows(detectionsFromScores(t, 0.5)), ['a 2-2.5', 'b 0-1', 'b 2-2.5']);
  assert.equal(rows(detectionsFromScores(t, 0.5, { inclusive: true })), ['a 0.5-1.5', 'a 2-2.5', 'b 0-1', 'b 2-2.5']);
  assert.equal(rows(detectionsFromScores(t, { a: 0.1, b: 2 })), ['a 0-1.5', 'a 2-2.5']);
});

s.run();
