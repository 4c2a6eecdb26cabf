// Evaluation of a model on a split of a built corpus (flam train's validation, flam evaluate): prompts per class,
// clips read in batches, metrics per prompt group.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../gpu/runtime.ts';
import type { Flam } from '../model/flam.ts';
import type { BpeTokenizer } from '../text/bpe.ts';
import type { ClipProvider } from '../data/loader.ts';
import { CLASSES, phrasingsFor } from '../data/classes.ts';
import { parseEventTable } from '../eval/tsv.ts';
import { scoreClips, groupMetrics, type EvalClip, type EvalPrompt } from '../train/evaluate.ts';
import { datasetProvider } from './data/dataset.ts';

/** Prompts for evaluation: one caption per event class present, drawn from the split's phrasings. */
export function evalPrompts(split: 'validation' | 'test', labels: Set<string>): EvalPrompt[] {
  const out: EvalPrompt[] = [];
  for (const c of CLASSES) {
    if (c.role !== 'event' || !labels.has(c.label)) continue;
    if (c.heldOut && split !== 'test') continue;
    const { captions, novelty } = phrasingsFor(c, split);
    out.push({ label: c.label, caption: captions[0], group: novelty === 'class' ? 'held-out classes' : novelty === 'phrasing' ? 'seen classes, held-out phrasings' : 'seen' });
  }
  return out;
}

/** Clips of a split in batches, as EvalClips. */
export async function* splitBatches(dir: string, split: 'validation' | 'test', count: number, batch: number): AsyncGenerator<EvalClip[]> {
  const meta = JSON.parse(readFileSync(join(dir, split, 'captions.json'), 'utf8')) as { files: { file: string }[] };
  const prov: ClipProvider = datasetProvider(dir, split);
  const n = Math.min(count, prov.size);
  for (let i = 0; i < n; i += batch) {
    const items = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => prov.get(i + j)));
    yield items.map((it, j) => ({ filename: meta.files[i + j].file, audio: it.audio, events: it.events }));
  }
}

export async function evaluateSplit(rt: Runtime, model: Flam, tok: BpeTokenizer, dir: string, split: 'validation' | 'test', count: number) {
  const truth = parseEventTable(readFileSync(join(dir, split, 'labels.tsv'), 'utf8'), join(dir, split, 'labels.tsv'), { overlaps: 'ignore' }).events;
  const meta = JSON.parse(readFileSync(join(dir, split, 'captions.json'), 'utf8')) as { files: { file: string }[] };
  const files = new Set(meta.files.slice(0, count).map((f) => f.file));
  const labels = new Set(truth.filter((e) => files.has(e.filename)).map((e) => e.label));
  const prompts = evalPrompts(split, labels);
  const sc = await scoreClips(rt, model, tok, splitBatches(dir, split, count, 8), prompts);
  return { metrics: groupMetrics(sc, truth), scored: sc };
}

