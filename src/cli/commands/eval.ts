// flam eval: SED metrics from frame scores (threshold-free) or from detection tables (psds_eval operating points).
//
// Scores file (`--scores`, written by `flam detect --json`):
//   { "files": [ { "file": "clip.wav", "duration": 10.0, "frame_hop": 0.3125,
//                  "prompts": ["dog_bark", ...], "scores": [[s_0, ..., s_{F-1}], ...] } ] }
// Reading, precisely:
//   - `file` names a file of the truth table (its `filename` column), exactly or by its last path component;
//   - scores[p] holds the F frame scores of prompts[p]; every prompt of a file has the same F, and
//     F = ceil(duration / frame_hop - 1e-6): frame f covers [f hop, min((f+1) hop, duration)) seconds;
//   - a prompt is scored against the truth label with the same name, or the label `--prompt-map MAP.json`
//     ({"prompt": "label"}) gives it; two prompts of one file may not map to one label; every file must score the
//     same set of labels; truth labels no prompt maps to are ignored (reported on stderr);
//   - the file set is the scores' files; with --meta it must equal the metadata's files. Truth events of a file
//     that is not scored are an error naming the truth table and line.
// Metrics (src/eval): frame AUROC pooled over every (file, prompt, frame) and its mean over prompts (a frame is
// positive when a truth event of the label overlaps it with positive length), PSDS1 and PSDS2 threshold-free
// (sed_scores_eval), collar-based event F1 and 1 s segment F1 at --threshold (default 0.5; frames scoring above it).
//
// Detection tables (`--detections A.tsv B.tsv ...`): one psds_eval operating point per table (DCASE columns
// filename, onset, offset, event_label), with --truth and --meta (filename, duration), psds_eval's parameters
// --dtc --gtc --cttc (default 0.5 0.5 0.3) and --alpha-ct --alpha-st --max-efpr (default 0 0 100 per hour).
// Reports PSDS and, per table, the intersection-based macro F1 (psds_eval) and the collar-based event F1.
//
// Table errors (onset > offset, a file missing from the metadata, overlapping or duplicated same-label events)
// name the table and line; --overlaps report downgrades overlap errors to warnings.

import { readFileSync } from 'node:fs';
import { parseArgs } from '../argv.ts';
import { parseEventTable, parseMetaTable, type Event, type Meta, TsvError } from '../../eval/tsv.ts';
import { frameAuroc, type PromptFrames } from '../../eval/auroc.ts';
import { PsdsEval, psdsFromScores, detectionsFromScores, PSDS1, PSDS2, type ScoreTrack } from '../../eval/psds.ts';
import { eventBasedF1, segmentBasedF1 } from '../../eval/events.ts';

export const summary = 'SED metrics: --scores S.json --truth T.tsv (AUROC, PSDS1/2, F1) or --detections A.tsv ... --truth T.tsv --meta M.tsv (PSDS)';

const USAGE = `flam eval --scores SCORES.json --truth TRUTH.tsv [--meta META.tsv] [--prompt-map MAP.json] [--threshold 0.5] [--json]
flam eval --detections A.tsv [B.tsv ...] --truth GT.tsv --meta META.tsv [--dtc 0.5 --gtc 0.5 --cttc 0.3
          --alpha-ct 0 --alpha-st 0 --max-efpr 100] [--json]

  --scores      frame scores of 'flam detect --json': {"files":[{"file","duration","frame_hop","prompts":[...],
                "scores":[[per frame] per prompt]}]}; prompts are truth labels (or mapped by --prompt-map)
  --detections  one detection table per operating point (psds_eval)
  --overlaps    error (default) or report: what to do with overlapping same-label events in a table
  --json        print the metrics as JSON (keys auroc, auroc_macro, psds1, psds2, f1, ... / psds, f1, ...)`;

const SPEC = {
  scores: { type: 'string' }, detections: { type: 'list' }, truth: { type: 'string' }, meta: { type: 'string' },
  'prompt-map': { type: 'string' }, threshold: { type: 'number' }, json: { type: 'flag' }, overlaps: { type: 'string' },
  dtc: { type: 'number' }, gtc: { type: 'number' }, cttc: { type: 'number' }, 'alpha-ct': { type: 'number' },
  'alpha-st': { type: 'number' }, 'max-efpr': { type: 'number' }, help: { type: 'flag' },
} as const;

function readText(path: string, what: string): string {
  try { return readFileSync(path, 'utf8'); } catch (e) { throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`); }
}

const fmt = (x: number) => (Number.isNaN(x) ? 'nan' : x.toFixed(4));
const num = (x: number) => (Number.isFinite(x) ? +x.toFixed(6) : null);

export async function run(args: string[]): Promise<void> {
  const o = parseArgs('flam eval', args, SPEC);
  if (o.help) { console.log(USAGE); return; }
  if (o._.length) throw new Error(`unexpected argument '${o._[0]}'\n\n${USAGE}`);
  if (typeof o.truth !== 'string') throw new Error(`--truth TSV is required\n\n${USAGE}`);
  const overlaps = (o.overlaps as string | undefined) ?? 'error';
  if (overlaps !== 'error' && overlaps !== 'report') throw new Error(`--overlaps must be error or report (got '${overlaps}')`);
  if (o.scores !== undefined && o.detections !== undefined) throw new Error('give either --scores or --detections, not both');
  if (o.scores !== undefined) {
    const out = evalScores({
      scoresPath: o.scores as string, truthPath: o.truth, metaPath: o.meta as string | undefined,
      promptMapPath: o['prompt-map'] as string | undefined, threshold: (o.threshold as number | undefined) ?? 0.5, overlaps,
    });
    if (o.json) console.log(JSON.stringify(out.json, null, 1));
    else console.log(out.table);
    return;
  }
  if (o.detections !== undefined) {
    if (typeof o.meta !== 'string') throw new Error('--detections needs --meta META.tsv (filename, duration)');
    const out = evalDetections({
      detections: o.detections as string[], truthPath: o.truth, metaPath: o.meta, overlaps,
      dtc: (o.dtc as number | undefined) ?? 0.5, gtc: (o.gtc as number | undefined) ?? 0.5, cttc: (o.cttc as number | undefined) ?? 0.3,
      alphaCt: (o['alpha-ct'] as number | undefined) ?? 0, alphaSt: (o['alpha-st'] as number | undefined) ?? 0, maxEfpr: (o['max-efpr'] as number | undefined) ?? 100,
    });
    if (o.json) console.log(JSON.stringify(out.json, null, 1));
    else console.log(out.table);
    return;
  }
  throw new Error(`give --scores SCORES.json or --detections A.tsv ...\n\n${USAGE}`);
}

function warn(msg: string): void { console.error(`flam eval: warning: ${msg}`); }

function reportOverlaps(t: ReturnType<typeof parseEventTable>): void {
  for (const x of t.overlaps) warn(x.message);
}

// --- scores --------------------------------------------------------------------------------------------------

interface ScoresFile { files: { file: string; duration: number; frame_hop: number; prompts: string[]; scores: number[][] }[] }

/** Validates a parsed scores JSON; every error names the file entry (index and name) and the problem. */
export function checkScores(x: unknown, source: string): ScoresFile {
  const fail = (m: string): never => { throw new Error(`${source}: ${m}`); };
  if (typeof x !== 'object' || x === null || !Array.isArray((x as ScoresFile).files)) fail('expected an object {"files": [...]}');
  const files = (x as ScoresFile).files;
  if (files.length === 0) fail('"files" is empty');
  const seen = new Set<string>();
  files.forEach((f, i) => {
    const at = `files[${i}]${f && typeof f.file === 'string' ? ` ('${f.file}')` : ''}`;
    if (typeof f !== 'object' || f === null) fail(`${at}: not an object`);
    if (typeof f.file !== 'string' || f.file === '') fail(`${at}: "file" must be a non-empty string`);
    if (seen.has(f.file)) fail(`${at}: file listed twice`);
    seen.add(f.file);
    if (typeof f.duration !== 'number' || !(f.duration > 0)) fail(`${at}: "duration" must be a positive number of seconds`);
    if (typeof f.frame_hop !== 'number' || !(f.frame_hop > 0)) fail(`${at}: "frame_hop" must be a positive number of seconds`);
    if (!Array.isArray(f.prompts) || f.prompts.length === 0 || f.prompts.some((p) => typeof p !== 'string')) fail(`${at}: "prompts" must be a non-empty list of strings`);
    if (new Set(f.prompts).size !== f.prompts.length) fail(`${at}: a prompt is listed twice`);
    if (!Array.isArray(f.scores) || f.scores.length !== f.prompts.length) fail(`${at}: "scores" must hold one list per prompt (${f.prompts.length})`);
    const F = Math.ceil(f.duration / f.frame_hop - 1e-6);
    f.scores.forEach((row, p) => {
      if (!Array.isArray(row)) fail(`${at}: scores[${p}] is not a list`);
      if (row.length !== F) fail(`${at}: scores[${p}] ('${f.prompts[p]}') has ${row.length} frames; duration ${f.duration} s / frame_hop ${f.frame_hop} s needs ${F}`);
      row.forEach((v, j) => { if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at}: scores[${p}][${j}] is not a finite number`); });
    });
  });
  return x as ScoresFile;
}

export interface ScoresEvalInput { scoresPath: string; truthPath: string; metaPath?: string; promptMapPath?: string; threshold: number; overlaps: 'error' | 'report' | string }

/** Metrics of a scores file against a truth table (see the file header); returns the JSON object and a text table. */
export function evalScores(a: ScoresEvalInput): { json: Record<string, unknown>; table: string } {
  let raw: unknown;
  try { raw = JSON.parse(readText(a.scoresPath, 'scores file')); } catch (e) {
    if (e instanceof SyntaxError) throw new Error(`${a.scoresPath}: not valid JSON (${e.message})`);
    throw e;
  }
  const sc = checkScores(raw, a.scoresPath);
  let pmap: Record<string, string> = {};
  if (a.promptMapPath) {
    const m = JSON.parse(readText(a.promptMapPath, 'prompt map'));
    if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) throw new Error(`${a.promptMapPath}: expected an object {"prompt": "label", ...}`);
    pmap = m;
  }
  const labelOf = (p: string) => pmap[p] ?? p;
  // Truth table: file names resolved against the scored files (exact, or the last path component).
  const truthText = readText(a.truthPath, 'truth table');
  let meta: Meta[] | undefined;
  if (a.metaPath) meta = parseMetaTable(readText(a.metaPath, 'metadata table'), a.metaPath);
  const scored = new Map<string, ScoresFile['files'][number]>();
  const base = (s: string) => s.slice(s.lastIndexOf('/') + 1);
  const truthProbe = parseEventTable(truthText, a.truthPath, { overlaps: a.overlaps === 'error' ? 'error' : 'report' });
  reportOverlaps(truthProbe);
  const truthFiles = new Set(truthProbe.files);
  for (const f of sc.files) {
    const name = truthFiles.has(f.file) ? f.file : truthFiles.has(base(f.file)) ? base(f.file) : f.file;
    if (scored.has(name)) throw new Error(`${a.scoresPath}: two entries score truth file '${name}'`);
    scored.set(name, f);
  }
  const durations = new Map<string, number>();
  for (const [name, f] of scored) durations.set(name, f.duration);
  if (meta) {
    for (const m of meta) if (!scored.has(m.filename)) throw new TsvError(a.metaPath!, m.line ?? 0, `file '${m.filename}' is not in the scores file ${a.scoresPath}`);
    const metaNames = new Set(meta.map((m) => m.filename));
    for (const name of scored.keys()) if (!metaNames.has(name)) throw new Error(`${a.scoresPath}: scored file '${name}' is not in the metadata ${a.metaPath}`);
  }
  // Unknown files: a truth row of a file that is not scored (or past its end).
  const truth = truthProbe.events;
  for (const e of truth) {
    const d = durations.get(e.filename);
    if (d === undefined) throw new TsvError(a.truthPath, e.line ?? 0, `file '${e.filename}' is not in the scores file ${a.scoresPath}`);
    if (e.offset > d + 1e-6) throw new TsvError(a.truthPath, e.line ?? 0, `offset ${e.offset} is past the end of '${e.filename}' (${d} s)`);
  }
  // Labels per file.
  let labels: string[] | null = null;
  const tracks: ScoreTrack[] = [];
  for (const [name, f] of scored) {
    const byLabel: Record<string, number[]> = {};
    f.prompts.forEach((p, i) => {
      const l = labelOf(p);
      if (byLabel[l]) throw new Error(`${a.scoresPath}: file '${f.file}': prompts '${f.prompts[f.prompts.map(labelOf).indexOf(l)]}' and '${p}' both map to label '${l}'`);
      byLabel[l] = f.scores[i];
    });
    const ls = Object.keys(byLabel).sort();
    if (labels === null) labels = ls;
    else if (ls.join('\u0001') !== labels.join('\u0001')) throw new Error(`${a.scoresPath}: file '${f.file}' scores labels [${ls.join(', ')}], the first file [${labels.join(', ')}]: every file must score the same labels`);
    const F = f.scores[0].length;
    const ts = new Float64Array(F + 1);
    for (let i = 0; i <= F; i++) ts[i] = Math.min(i * f.frame_hop, f.duration);
    tracks.push({ filename: name, timestamps: ts, scores: byLabel });
  }
  const L = labels!;
  const truthLabels = [...new Set(truth.map((e) => e.label))].sort();
  if (!L.some((l) => truthLabels.includes(l))) {
    throw new Error(`${a.scoresPath}: none of the scored labels (${L.join(', ')}) is a truth label of ${a.truthPath} (${truthLabels.join(', ')}); map prompts to labels with --prompt-map`);
  }
  const unscored = truthLabels.filter((l) => !L.includes(l));
  if (unscored.length) warn(`truth labels without a prompt are ignored: ${unscored.join(', ')}`);
  const absent = L.filter((l) => !truthLabels.includes(l));
  if (absent.length) warn(`labels with no truth event (PSDS counts their TPR as 0): ${absent.join(', ')}`);
  const truthUsed = truth.filter((e) => L.includes(e.label));

  // Frame AUROC.
  const byKey = new Map<string, Event[]>();
  for (const e of truthUsed) {
    const k = `${e.filename}\u0000${e.label}`;
    let l = byKey.get(k);
    if (!l) byKey.set(k, (l = []));
    l.push(e);
  }
  const prompts: PromptFrames[] = L.map((label) => {
    const s: number[] = [], y: number[] = [];
    for (const t of tracks) {
      const ev = byKey.get(`${t.filename}\u0000${label}`) ?? [];
      const x = t.scores[label];
      for (let j = 0; j < x.length; j++) {
        const a0 = t.timestamps[j], a1 = t.timestamps[j + 1];
        s.push(x[j]);
        y.push(ev.some((e) => e.onset < a1 && e.offset > a0) ? 1 : 0);
      }
    }
    return { name: label, scores: s, labels: y };
  });
  const au = frameAuroc(prompts);
  const metaList = [...durations].map(([filename, duration]) => ({ filename, duration }));
  const p1 = psdsFromScores(tracks, truthUsed, metaList, PSDS1, { classes: L });
  const p2 = psdsFromScores(tracks, truthUsed, metaList, PSDS2, { classes: L });
  const det = detectionsFromScores(tracks, a.threshold);
  const files = [...durations.keys()];
  const ev = eventBasedF1(truthUsed, det, { classes: L, files });
  const seg = segmentBasedF1(truthUsed, det, { classes: L, files, durations });
  const perClass: Record<string, unknown> = {};
  L.forEach((l, i) => {
    perClass[l] = { auroc: num(au.perPrompt[i]), psds1: num(p1.perClass[l]), psds2: num(p2.perClass[l]), f1: num(ev.perClass[l].f1), segment_f1: num(seg.perClass[l].f1) };
  });
  const json = {
    files: files.length, labels: L.length, threshold: a.threshold,
    auroc: num(au.pooled), auroc_macro: num(au.macro), psds1: num(p1.value), psds2: num(p2.value),
    f1: num(ev.macro.f1), f1_micro: num(ev.micro.f1), segment_f1: num(seg.macro.f1), segment_f1_micro: num(seg.micro.f1),
    per_class: perClass,
  };
  const lines = [
    `files ${files.length}, labels ${L.length}, truth events ${truthUsed.length}, threshold ${a.threshold}`,
    '',
    '| metric | value |', '|---|---|',
    `| frame AUROC (pooled) | ${fmt(au.pooled)} |`, `| frame AUROC (mean over labels) | ${fmt(au.macro)} |`,
    `| PSDS1 | ${fmt(p1.value)} |`, `| PSDS2 | ${fmt(p2.value)} |`,
    `| event F1 (collar 0.2 s, macro) | ${fmt(ev.macro.f1)} |`, `| event F1 (micro) | ${fmt(ev.micro.f1)} |`,
    `| segment F1 (1 s, macro) | ${fmt(seg.macro.f1)} |`, `| segment F1 (micro) | ${fmt(seg.micro.f1)} |`,
    '', '| label | AUROC | PSDS1 | PSDS2 | event F1 | segment F1 |', '|---|---|---|---|---|---|',
    ...L.map((l, i) => `| ${l} | ${fmt(au.perPrompt[i])} | ${fmt(p1.perClass[l])} | ${fmt(p2.perClass[l])} | ${fmt(ev.perClass[l].f1)} | ${fmt(seg.perClass[l].f1)} |`),
  ];
  return { json, table: lines.join('\n') };
}

// --- detections ------------------------------------------------------------------------------------------------

export interface DetectionsEvalInput {
  detections: string[]; truthPath: string; metaPath: string; overlaps: 'error' | 'report' | string;
  dtc: number; gtc: number; cttc: number; alphaCt: number; alphaSt: number; maxEfpr: number;
}

/** PSDS over detection tables (psds_eval semantics) plus per-table F1. */
export function evalDetections(a: DetectionsEvalInput): { json: Record<string, unknown>; table: string } {
  const mode = a.overlaps === 'error' ? 'error' : 'report';
  const meta = parseMetaTable(readText(a.metaPath, 'metadata table'), a.metaPath);
  const gtT = parseEventTable(readText(a.truthPath, 'truth table'), a.truthPath, { meta, overlaps: mode });
  reportOverlaps(gtT);
  const gt: Event[] = gtT.events;
  const ev = new PsdsEval(gt, meta, { dtc: a.dtc, gtc: a.gtc, cttc: a.cttc });
  const files = meta.map((m) => m.filename);
  const ops: Record<string, unknown>[] = [];
  for (const path of a.detections) {
    const t = parseEventTable(readText(path, 'detection table'), path, { meta, overlaps: mode });
    reportOverlaps(t);
    const op = ev.addOperatingPoint(t.events, { file: path });
    const scored = op ?? ev.evaluate(t.events);
    const fi = ev.fScore(scored);
    const cf = eventBasedF1(gt, t.events, { classes: ev.classes, files });
    ops.push({
      file: path, detections: t.events.length, duplicate_table: op === null,
      tpr_mean: num(scored.tpr.reduce((s, x) => s + x, 0) / Math.max(1, scored.tpr.length)),
      fpr_mean: num(scored.fpr.reduce((s, x) => s + x, 0) / Math.max(1, scored.fpr.length)),
      f1_intersection: num(fi.macro), f1: num(cf.macro.f1),
    });
  }
  const ps = ev.psds(a.alphaCt, a.alphaSt, a.maxEfpr);
  const bestF1 = Math.max(...ops.map((x) => (x.f1 as number | null) ?? -Infinity));
  const json = {
    psds: num(ps.value), operating_points: ev.numOperatingPoints,
    params: { dtc: a.dtc, gtc: a.gtc, cttc: a.cttc, alpha_ct: a.alphaCt, alpha_st: a.alphaSt, max_efpr: a.maxEfpr },
    classes: ev.classes, f1: Number.isFinite(bestF1) ? bestF1 : null, tables: ops,
    per_class_psds: Object.fromEntries(Object.entries(ps.perClass).map(([k, v]) => [k, num(v)])),
  };
  const lines = [
    `PSDS ${fmt(ps.value)}  (${ev.numOperatingPoints} operating points; dtc ${a.dtc}, gtc ${a.gtc}, cttc ${a.cttc}, alpha_ct ${a.alphaCt}, alpha_st ${a.alphaSt}, max_efpr ${a.maxEfpr})`,
    '', '| detections | events | mean TPR | mean FPR (/h) | F1 intersection | F1 collar |', '|---|---|---|---|---|---|',
    ...ops.map((x) => `| ${x.file}${x.duplicate_table ? ' (duplicate)' : ''} | ${x.detections} | ${fmt(x.tpr_mean as number)} | ${fmt(x.fpr_mean as number)} | ${fmt((x.f1_intersection as number | null) ?? NaN)} | ${fmt((x.f1 as number | null) ?? NaN)} |`),
  ];
  return { json, table: lines.join('\n') };
}
