// `flam eval` on handmade files: frame scores (AUROC computed by hand), detection tables (psds_eval's example 1),
// and the errors for malformed inputs, each naming the file (and the line for tables).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/eval.ts';

const s = suite('data eval CLI');
const dir = mkdtempSync(join(tmpdir(), 'flam-eval-test-'));
const fx = join(import.meta.dirname, '..', 'fixtures', 'psds_eval');
const H = 'filename\tonset\toffset\tevent_label\n';

function put(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Runs `flam eval ARGS`, returning what it printed to stdout (stderr swallowed). */
async function evalCli(args: string[]): Promise<string> {
  const out: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => { out.push(a.join(' ')); };
  console.error = () => {};
  try { await run(args); } finally { console.log = log; console.error = err; }
  return out.join('\n');
}

async function fails(args: string[], re: RegExp): Promise<void> {
  try { await evalCli(args); } catch (e) { assert.match((e as Error).message, re); return; }
  assert.unreachable(`expected an error matching ${re}`);
}

// Two files of 4 s, 1 s frames. dog: a.wav [0, 2); cat: b.wav [1, 3).
const truth = put('truth.tsv', H + 'a.wav\t0\t2\tdog\nb.wav\t1\t3\tcat\n');
const scoresDoc = {
  files: [
    { file: 'a.wav', duration: 4, frame_hop: 1, prompts: ['dog', 'cat'], scores: [[0.9, 0.8, 0.1, 0.2], [0.1, 0.2, 0.3, 0.1]] },
    { file: 'audio/b.wav', duration: 4, frame_hop: 1, prompts: ['cat', 'dog'], scores: [[0.2, 0.9, 0.95, 0.1], [0.3, 0.85, 0.1, 0.0]] },
  ],
};
const scores = put('scores.json', JSON.stringify(scoresDoc));

s('scores: AUROC by hand, perfect detections give F1 = 1; table output', async () => {
  const j = JSON.parse(await evalCli(['--scores', scores, '--truth', truth, '--json']));
  // dog: positives 0.9, 0.8 (a.wav frames 0-1); negatives 0.1, 0.2 (a) and 0.3, 0.85, 0.1, 0.0 (b):
  //   one (positive, negative) pair of 12 is inverted (0.8 < 0.85) -> AUROC 11/12.
  // cat: positives 0.9, 0.95 (b frames 1-2); negatives 0.1 0.2 0.3 0.1 (a), 0.2, 0.1 (b) -> 1.
  assert.ok(Math.abs(j.per_class.dog.auroc - 11 / 12) < 1e-6, `dog ${j.per_class.dog.auroc}`);
  assert.is(j.per_class.cat.auroc, 1);
  assert.ok(Math.abs(j.auroc_macro - (11 / 12 + 1) / 2) < 1e-6);
  // Pooled: 4 positives, 12 negatives; inverted pairs: 0.8 < 0.85 only -> 1 - 1/48.
  assert.ok(Math.abs(j.auroc - (1 - 1 / 48)) < 1e-6, `pooled ${j.auroc}`);
  // At 0.5: dog detections a [0,2) and b [1,2) (0.85): one TP, one FP -> F1 2/3; cat b [1,3): TP -> 1.
  assert.ok(Math.abs(j.per_class.dog.f1 - 2 / 3) < 1e-6, `dog f1 ${j.per_class.dog.f1}`);
  assert.is(j.per_class.cat.f1, 1);
  assert.ok(Math.abs(j.f1 - (2 / 3 + 1) / 2) < 1e-6);
  // PSDS2 (dtc = gtc = 0.1): at thresholds above 0.85 dog's a.wav frame 0 alone covers 50 % of its event with no
  // FP, cat's b.wav frame 2 likewise -> TPR 1 at eFPR 0 for both -> 1. PSDS1 (gtc 0.7): dog needs frames 0-1 of
  // a.wav (threshold 0.8), which also switches on b.wav frame 1 (0.85): one FP in 8 s = 450 / h > max_efpr 100,
  // so dog's TPR is 0 on [0, 100]; mean 0.5 - std 0.5 = 0 -> 0.
  assert.is(j.psds2, 1);
  assert.is(j.psds1, 0);
  assert.is(j.per_class.dog.psds2, 1);
  assert.is(j.files, 2);
  const t = await evalCli(['--scores', scores, '--truth', truth]);
  assert.match(t, /frame AUROC \(pooled\) \| 0\.9792/);
  assert.match(t, /\| cat \| 1\.0000 \|/);
});

s('scores: --prompt-map maps natural-language prompts to truth labels', async () => {
  const doc = JSON.parse(JSON.stringify(scoresDoc));
  for (const f of doc.files) f.prompts = f.prompts.map((p: string) => (p === 'dog' ? 'a dog barks' : 'a cat meows'));
  const sp = put('scores_text.json', JSON.stringify(doc));
  const map = put('map.json', JSON.stringify({ 'a dog barks': 'dog', 'a cat meows': 'cat' }));
  const j = JSON.parse(await evalCli(['--scores', sp, '--truth', truth, '--prompt-map', map, '--json']));
  assert.ok(Math.abs(j.per_class.dog.auroc - 11 / 12) < 1e-6);
  await fails(['--scores', sp, '--truth', truth, '--json'], /none of the scored labels \(a cat meows, a dog barks\) is a truth label.*--prompt-map/);
});

s('scores: malformed inputs are errors naming the file entry or table line', async () => {
  const bad = (mut: (d: typeof scoresDoc) => void, name: string) => { const d = JSON.parse(JSON.stringify(scoresDoc)); mut(d); return put(name, JSON.stringify(d)); };
  await fails(['--scores', bad((d) => { d.files[0].scores[1] = [0.1, 0.2, 0.3]; }, 's1.json'), '--truth', truth], /files\[0\] \('a\.wav'\): scores\[1\] \('cat'\) has 3 frames; .* needs 4/);
  await fails(['--scores', bad((d) => { d.files[1].scores[0][2] = Number.NaN; }, 's2.json'), '--truth', truth], /files\[1\].*scores\[0\]\[2\] is not a finite number/);
  await fails(['--scores', bad((d) => { d.files[1].prompts = ['cat', 'bird']; }, 's3.json'), '--truth', truth], /scores labels \[bird, cat\].*same labels/);
  await fails(['--scores', bad((d) => { d.files.pop(); }, 's4.json'), '--truth', truth], /truth\.tsv:3: file 'b\.wav' is not in the scores file/);
  await fails(['--scores', put('s5.json', '{"files": ['), '--truth', truth], /s5\.json: not valid JSON/);
  await fails(['--scores', scores, '--truth', put('t1.tsv', H + 'a.wav\t3\t2\tdog\n')], /t1\.tsv:2: onset 3 > offset 2/);
  await fails(['--scores', scores, '--truth', put('t2.tsv', H + 'a.wav\t0\t2\tdog\na.wav\t1\t3\tdog\n')], /t2\.tsv:3: overlapping 'dog' events/);
  await fails(['--scores', scores, '--truth', put('t3.tsv', H + 'a.wav\t0\t2\tdog\na.wav\t0\t2\tdog\n')], /t3\.tsv:3: duplicated 'dog' events/);
  await fails(['--scores', scores, '--truth', truth, '--meta', put('m1.tsv', 'filename\tduration\na.wav\t4\nb.wav\t4\nc.wav\t4\n')], /m1\.tsv:4: file 'c\.wav' is not in the scores file/);
  await fails(['--scores', scores], /--truth TSV is required/);
  await fails(['--scores', scores, '--truth', truth, '--bogus'], /unknown option --bogus/);
});

s('detections: psds_eval example 1 gives PSDS 0.9142857142857143; per-table F1', async () => {
  const j = JSON.parse(await evalCli(['--detections', join(fx, 'test_1.det'), '--truth', join(fx, 'test_1.gt'), '--meta', join(fx, 'test.metadata'),
    '--dtc', '0.5', '--gtc', '0.5', '--cttc', '0.3', '--alpha-ct', '0', '--alpha-st', '0', '--max-efpr', '100', '--json']));
  assert.ok(Math.abs(j.psds - 0.9142857142857143) < 1e-6, `psds ${j.psds}`);
  assert.is(j.operating_points, 1);
  assert.is(j.tables.length, 1);
  assert.ok(j.tables[0].f1_intersection > 0);
  // Two tables (the second a copy): still one operating point (psds_eval skips identical tables).
  const copy = put('copy.det', readFileSync(join(fx, 'test_1.det'), 'utf8'));
  const j2 = JSON.parse(await evalCli(['--detections', join(fx, 'test_1.det'), copy, '--truth', join(fx, 'test_1.gt'), '--meta', join(fx, 'test.metadata'), '--json']));
  assert.is(j2.operating_points, 1);
  assert.is(j2.tables[1].duplicate_table, true);
  const t = await evalCli(['--detections', join(fx, 'test_1.det'), '--truth', join(fx, 'test_1.gt'), '--meta', join(fx, 'test.metadata')]);
  assert.match(t, /^PSDS 0\.9143/);
});

s('detections: table errors name the file and line', async () => {
  const gt = join(fx, 'test_1.gt'), meta = join(fx, 'test.metadata');
  await fails(['--detections', put('d1.tsv', H + 'test.wav\t5\t4\tc1\n'), '--truth', gt, '--meta', meta], /d1\.tsv:2: onset 5 > offset 4/);
  await fails(['--detections', put('d2.tsv', H + 'test.wav\t1\t4\tc1\nnope.wav\t1\t2\tc1\n'), '--truth', gt, '--meta', meta], /d2\.tsv:3: file 'nope\.wav' is not in the metadata/);
  await fails(['--detections', put('d3.tsv', H + 'test.wav\t1\t4\tc1\ntest.wav\t1\t4\tc1\n'), '--truth', gt, '--meta', meta], /d3\.tsv:3: duplicated 'c1' events/);
  await fails(['--detections', put('d4.tsv', H), '--truth', gt], /needs --meta/);
  // --overlaps report: the overlap becomes a warning and the evaluation runs.
  const j = JSON.parse(await evalCli(['--detections', join(dir, 'd3.tsv'), '--truth', gt, '--meta', meta, '--overlaps', 'report', '--json']));
  assert.is(j.tables[0].detections, 2);
});

s('cleanup', () => { rmSync(dir, { recursive: true, force: true }); });

s.run();
