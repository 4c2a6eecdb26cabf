// PSDS from operating points against audioanalytic/psds_eval's own test data (test/fixtures/psds_eval, MIT) and the
// values its tests assert (tests/test_psds.py, tests/test_psds_examples.py at v0.3.0, commit 3b0cfe0): the
// confusion counts exactly, TP ratio / FP rate / CT rate with np.testing.assert_allclose's default rtol 1e-7, and
// the PSDS values with pytest.approx's default rel 1e-6.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventTable, parseMetaTable, type Event, type Meta } from '../../src/eval/tsv.ts';
import { PsdsEval } from '../../src/eval/psds.ts';
import { assertClose, type Tol } from '../util/compare.ts';

const s = suite('psds_eval fixtures');
const dir = join(import.meta.dirname, '..', 'fixtures', 'psds_eval');
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const events = (f: string): Event[] => parseEventTable(read(f), f, { overlaps: 'report' }).events;
const meta = (f: string): Meta[] => parseMetaTable(read(f), f);

/** np.testing.assert_allclose default (rtol 1e-7, atol 0): the tolerance psds_eval's tests use for rates. */
const ALLCLOSE: Tol = { atol: 0, rtol: 1e-7 };
/** pytest.approx default (rel 1e-6, abs 1e-12): the tolerance psds_eval's tests use for PSDS values. */
const APPROX: Tol = { atol: 1e-12, rtol: 1e-6 };

const approx = (name: string, got: number, want: number) => assertClose(name, [got], [want], APPROX);

function checkOp(ev: PsdsEval, det: Event[], counts: number[][], tpr: number[], fpr: number[], ctr: number[][]) {
  const op = ev.addOperatingPoint(det);
  assert.ok(op, 'operating point added');
  assert.equal(op!.counts, counts, 'counts (rows = detected class, columns = GT class, last = world)');
  assertClose('tpr', op!.tpr, tpr, ALLCLOSE);
  assertClose('fpr', op!.fpr, fpr, ALLCLOSE);
  assertClose('ctr', op!.ctr.flatMap((r) => Array.from(r)), ctr.flat(), ALLCLOSE);
}

const testMeta = () => meta('test.metadata');
const icassp = (gt: string) => new PsdsEval(events(gt), testMeta(), { dtc: 0.5, gtc: 0.5, cttc: 0.3 });

s('example 1 (ICASSP paper): counts, rates, PSDS 0.9142857142857143', () => {
  const ev = icassp('test_1.gt');
  checkOp(ev, events('test_1.det'),
    [[1, 0, 1, 1], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]],
    [1, 1, 1], [12.857143, 12.857143, 0], [[0, 0, 720], [0, 0, 0], [0, 0, 0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0.9142857142857143);
});

s('example 2 (ICASSP paper): PSDS 0.29047619047619044', () => {
  const ev = icassp('test_2.gt');
  checkOp(ev, events('test_2.det'),
    [[0, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]],
    [0, 0, 1], [12.857143, 0, 12.857143], [[0, 144, 0], [0, 0, 0], [240, 144, 0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0.29047619047619044);
});

s('example 3 (ICASSP paper): PSDS 0.6238095238095237', () => {
  const ev = icassp('test_3.gt');
  checkOp(ev, events('test_3.det'),
    [[1, 0, 1, 1], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
    [1, 1, 0], [12.857143, 0, 12.857143], [[0, 0, 600], [0, 0, 0], [0, 0, 0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0.6238095238095237);
});

s('example 4: PSDS 0.5', () => {
  const ev = icassp('test_4.gt');
  checkOp(ev, events('test_4.det'),
    [[2, 0, 0, 0, 0], [0, 0, 1, 0, 3], [0, 0, 1, 0, 0], [1, 1, 0, 0, 2], [0, 0, 0, 0, 0]],
    [1, 0, 1, 0], [0, 38.57142857, 0, 25.71428571],
    [[0, 0, 0, 0], [0, 0, 156.521739, 0], [0, 0, 0, 0], [87.804878, 300, 0, 0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0.5);
});

s('detection on a file without ground truth: fpr 360, PSDS 0', () => {
  const det: Event[] = [{ filename: 'test.wav', onset: 2.4, offset: 5.9, label: 'c1' }];
  const ev = new PsdsEval([], [{ filename: 'test.wav', duration: 10 }], { classes: ['c1'] });
  checkOp(ev, det, [[0, 1], [0, 0]], [0], [360], [[0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0);
});

s('empty detection table: zero counts, PSDS 0', () => {
  const gt: Event[] = [{ filename: 'test.wav', onset: 2.4, offset: 5.9, label: 'c1' }];
  const ev = new PsdsEval(gt, [{ filename: 'test.wav', duration: 10 }], { classes: ['c1'] });
  checkOp(ev, [], [[0, 0], [0, 0]], [0], [0], [[0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0);
});

s('DCASE file Y23R6_ppquxs: PSDS 0.6089285714285714', () => {
  const ev = icassp('Y23R6_ppquxs_247.000_257000.gt');
  checkOp(ev, events('Y23R6_ppquxs_247.000_257000.det'),
    [[1, 1, 1], [0, 4, 0], [0, 0, 0]], [0.25, 1], [12.857143, 0], [[0, 600.40026684], [0, 0]]);
  approx('psds', ev.psds(0, 0, 100).value, 0.6089285714285714);
});

const dcaseGt = () => events('baseline_validation_gt.csv');
const dcaseMeta = () => meta('baseline_validation_metadata.csv');
const dcaseDet = () => events('baseline_validation_AA_0.005.csv');

s('full DCASE 2019 validation set: 10-class counts, rates, PSDS 0.0044306914546640595', () => {
  const ev = new PsdsEval(dcaseGt(), dcaseMeta(), { dtc: 0.5, gtc: 0.5, cttc: 0.3 });
  checkOp(ev, dcaseDet(), [
    [269, 5, 54, 37, 45, 14, 3, 8, 89, 0, 302],
    [9, 59, 17, 43, 10, 22, 20, 41, 120, 83, 416],
    [63, 4, 129, 8, 79, 11, 12, 13, 74, 1, 585],
    [41, 45, 19, 164, 73, 24, 136, 119, 493, 12, 1100],
    [120, 29, 105, 56, 278, 30, 96, 93, 825, 58, 1480],
    [13, 31, 13, 9, 7, 41, 35, 48, 203, 27, 386],
    [7, 35, 14, 63, 24, 51, 87, 135, 403, 46, 840],
    [18, 46, 16, 63, 51, 26, 103, 127, 187, 46, 662],
    [128, 86, 82, 87, 154, 62, 97, 185, 966, 120, 1340],
    [2, 58, 20, 7, 22, 43, 27, 32, 89, 67, 390],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ], [0.64047619, 0.61458333, 0.37829912, 0.28924162, 0.4877193, 0.63076923, 0.92553191, 0.53586498, 0.55074116, 0.72826087],
  [93.08219178, 128.21917808, 180.30821918, 339.04109589, 456.16438356, 118.97260274, 258.90410959, 204.04109589, 413.01369863, 120.20547945],
  [
    [0., 36.54377132, 412.06956854, 375.77227974, 201.60236547, 100.2921207, 13.91555321, 23.16073227, 122.13847545, 0.],
    [39.38051054, 0., 129.72560491, 436.70832511, 44.80052566, 157.60190396, 92.77035472, 118.69875286, 164.68109049, 382.88155531],
    [275.66357376, 29.23501705, 0., 81.24806048, 353.92415271, 78.80095198, 55.66221283, 37.63618993, 101.55333914, 4.61303079],
    [179.40010356, 328.89394185, 144.98744078, 0., 327.04383731, 171.92934977, 630.83841208, 344.51589244, 676.56481345, 55.35636944],
    [525.07347382, 211.95387364, 801.24638326, 568.73642339, 0., 214.91168722, 445.29770265, 269.24351258, 1132.18249714, 267.55578564],
    [56.88295966, 226.57138217, 99.20193317, 91.40406805, 31.36036796, 0., 162.34812076, 138.96439359, 278.58551142, 124.55183125],
    [30.62928597, 255.80639922, 106.8328511, 639.82847632, 107.52126158, 365.34986827, 0., 390.83735697, 553.05399557, 212.1994162],
    [78.76102107, 336.20269612, 122.09468697, 639.82847632, 228.48268086, 186.25679559, 477.7673268, 0., 256.62803269, 212.1994162],
    [560.07837208, 628.55286666, 625.73527074, 883.57265777, 689.92809516, 444.15082025, 449.93622038, 535.59193363, 0., 553.56369442],
    [8.75122456, 423.90774728, 152.61835872, 71.09205292, 98.56115645, 308.04008501, 125.23997887, 92.64292906, 122.13847545, 0.],
  ]);
  approx('psds', ev.psds(0, 0, 100).value, 0.0044306914546640595);
});

// --- numpy's legacy RandomState (MT19937, init_genrand seeding) and its permutation, to rebuild
// pandas' DataFrame.sample(n, random_state=seed) == rows RandomState(seed).permutation(len)[:n].
function mt19937(seed: number): () => number {
  const mt = new Uint32Array(624);
  mt[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
  let pos = 624;
  return () => {
    if (pos >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
        mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      pos = 0;
    }
    let y = mt[pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
}

/** Fisher-Yates from the end with masked rejection sampling of j in [0, i] (numpy's random_interval). */
function legacyPermutation(n: number, seed: number): Int32Array {
  const next = mt19937(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i >= 1; i--) {
    let mask = i;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    let j: number;
    do { j = next() & mask; } while (j > i);
    const t = a[i]; a[i] = a[j]; a[j] = t;
  }
  return a;
}

s('MT19937 / legacy permutation reproduce numpy (RandomState(0).permutation(10))', () => {
  assert.equal(Array.from(legacyPermutation(10, 0)), [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
  // numpy: RandomState(5489).randint(0, 2**32) family; the reference MT19937 first output for seed 5489 is 3499211612.
  assert.is(mt19937(5489)(), 3499211612);
});

s('six operating points (full table + five 4500-row samples), three rounds with clear(): PSDS 0.07211376135412327', () => {
  const det = dcaseDet();
  const tables: Event[][] = [det];
  for (let k = 0; k < 5; k++) tables.push(Array.from(legacyPermutation(det.length, 7 * k).subarray(0, 4500), (i) => det[i]));
  const ev = new PsdsEval(dcaseGt(), dcaseMeta(), { dtc: 0.5, gtc: 0.5, cttc: 0.3 });
  for (let round = 0; round < 3; round++) {
    for (const t of tables) ev.addOperatingPoint(t);
    assert.is(ev.numOperatingPoints, 6);
    approx(`psds round ${round}`, ev.psds(0, 0, 100).value, 0.07211376135412327);
    ev.clear();
    assert.is(ev.numOperatingPoints, 0);
  }
});

s('two operating points, the second with no usable detections: PSDS 0.9142857142857143', () => {
  const ev = new PsdsEval(events('test_1.gt'), testMeta());
  ev.addOperatingPoint(events('test_1.det'));
  ev.addOperatingPoint(events('test_4.det'));
  approx('psds', ev.psds(0, 0, 100).value, 0.9142857142857143);
});

s('dtc = gtc = cttc = 1 filters every detection out: PSDS 0', () => {
  const ev = new PsdsEval(events('test_1.gt'), testMeta(), { dtc: 1, gtc: 1, cttc: 1 });
  ev.addOperatingPoint(events('test_1.det'));
  ev.addOperatingPoint(events('test_1a.det'));
  approx('psds', ev.psds(0, 0, 100).value, 0);
});

s('operating points: empty table counts, shuffled / reordered duplicates are skipped', () => {
  const ev = new PsdsEval(events('test_1.gt'), testMeta());
  assert.is(ev.numOperatingPoints, 0);
  ev.addOperatingPoint(events('empty.det'));
  assert.is(ev.numOperatingPoints, 1);
  ev.clear();
  const det = events('test_1.det');
  assert.ok(ev.addOperatingPoint(det));
  assert.is(ev.addOperatingPoint([...det].reverse()), null);
  // Same rows with the columns in another order in the file.
  const cols = 'onset\tevent_label\toffset\tfilename\n' + det.map((d) => `${d.onset}\t${d.label}\t${d.offset}\t${d.filename}`).join('\n');
  assert.is(ev.addOperatingPoint(parseEventTable(cols, 'reordered').events), null);
  assert.is(ev.numOperatingPoints, 1);
  ev.addOperatingPoint(events('test_1a.det'));
  assert.is(ev.numOperatingPoints, 2);
});

s('invalid thresholds, negative alpha_st, empty metadata are errors', () => {
  const gt = events('test_1.gt');
  for (const x of [-1, 1.2, -5, -Infinity]) {
    assert.throws(() => new PsdsEval(gt, testMeta(), { dtc: x }), /dtc/);
    assert.throws(() => new PsdsEval(gt, testMeta(), { cttc: x }), /cttc/);
    assert.throws(() => new PsdsEval(gt, testMeta(), { gtc: x }), /gtc/);
  }
  for (const x of [1, 0, 0.1, 0.6]) new PsdsEval(gt, testMeta(), { dtc: x, gtc: x, cttc: x });
  assert.throws(() => new PsdsEval(gt, testMeta()).psds(0, -1, 100), /alpha_st/);
  assert.throws(() => parseMetaTable(read('empty.metadata'), 'empty.metadata'), /empty.metadata:1: metadata table has no files/);
  assert.throws(() => new PsdsEval(gt, []), /metadata is empty/);
  // Empty ground truth is fine.
  const ev = new PsdsEval(events('empty.gt'), testMeta());
  assert.equal(ev.classes, []);
});

s('intersection F-score of the best operating point for c1 is 2/3 (psds_eval select_operating_points_per_class)', () => {
  const ev = new PsdsEval(events('test_1.gt'), testMeta(), { dtc: 0.5, gtc: 0.5, cttc: 0.3 });
  const op1 = ev.addOperatingPoint(events('test_1.det'))!;
  const op2 = ev.addOperatingPoint(events('test_2.det'))!;
  const f1 = ev.fScore(op1).perClass.c1, f2 = ev.fScore(op2).perClass.c1;
  approx('F(c1) at test_1', Math.max(f1, f2), 2 / 3);
  assert.ok(f1 > f2, 'test_1 is the operating point chosen for c1');
});

s('DCASE ground truth has overlapping same-label events; they are reported with file and line', () => {
  const t = parseEventTable(read('baseline_validation_gt.csv'), 'baseline_validation_gt.csv', { overlaps: 'report' });
  const pair = t.overlaps.find((o) => o.first.line === 149 && o.second.line === 150);
  assert.ok(pair, 'Dishes 3.797-4.103 (line 149) overlaps Dishes 3.797-4.492 (line 150)');
  assert.match(pair!.message, /^baseline_validation_gt\.csv:149,150: overlapping 'Dishes' events/);
  assert.throws(() => parseEventTable(read('baseline_validation_gt.csv'), 'baseline_validation_gt.csv'), /baseline_validation_gt\.csv:150: overlapping 'Dishes'/);
  // Files listed without events (empty onset/offset/label) are kept as files.
  assert.ok(t.files.includes('YU0Cg_t_3TdI_30.000_40.000.wav'));
  assert.not.ok(t.events.some((e) => e.filename === 'YU0Cg_t_3TdI_30.000_40.000.wav'));
});

s.run();
