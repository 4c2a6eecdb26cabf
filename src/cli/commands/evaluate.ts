// flam evaluate: a model on a split of a built corpus: frame AUROC and PSDS1/PSDS2 per prompt group (seen classes
// with held-out phrasings, held-out classes, all).
import { nodeRuntime } from '../../gpu/node.ts';
import { tuneMatmul } from '../../ops/matmul.ts';
import { loadModel, loadTokenizer } from '../model.ts';
import { evaluateSplit } from '../eval_split.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { parseArgs } from '../argv.ts';

export const summary = 'evaluate a model on a corpus split: flam evaluate --data DIR [--split test] [--model FILE] [--clips N] [--json OUT]';

export async function run(args: string[]): Promise<void> {
  const a = parseArgs('flam evaluate', args, { data: { type: 'string' }, split: { type: 'string' }, model: { type: 'string' }, clips: { type: 'number' }, json: { type: 'string' }, help: { type: 'flag' } });
  if (a.help) { console.log(`${summary}\n  Prompts: one caption per event class present (test: held-out phrasings of seen classes, any phrasing of held-out classes).`); return; }
  if (!a.data) throw new Error('--data DIR is required (a corpus from flam data build)');
  const split = (a.split as string | undefined) ?? 'test';
  if (split !== 'test' && split !== 'validation') throw new Error(`--split must be test or validation, got '${split}'`);
  const rt = await nodeRuntime();
  await tuneMatmul(rt);
  const model = await loadModel(rt, a.model as string | undefined);
  const tok = await loadTokenizer();
  const t0 = Date.now();
  const { metrics, scored } = await evaluateSplit(rt, model, tok, a.data as string, split, (a.clips as number | undefined) ?? Infinity);
  const secs = (Date.now() - t0) / 1000;
  const out = { split, clips: scored.filenames.length, prompts: scored.prompts.length, seconds: secs, metrics };
  for (const [g, m] of Object.entries(metrics)) console.log(`${g.padEnd(34)} prompts ${String(m.prompts).padStart(3)}  AUROC ${m.auroc.toFixed(4)}  PSDS1 ${m.psds1.toFixed(4)}  PSDS2 ${m.psds2.toFixed(4)}`);
  console.log(`${scored.filenames.length} clips in ${secs.toFixed(1)} s`);
  if (a.json) atomicWriteSync(a.json as string, new TextEncoder().encode(JSON.stringify(out, null, 1) + '\n'));
}
