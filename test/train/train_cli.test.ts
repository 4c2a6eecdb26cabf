// flam train end to end on a tiny synthetic corpus: checkpoints, --resume continuing exactly (the next step's
// loss equals the uninterrupted run's), the exported model file loading in flam detect's loader, bad configs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset } from '../../src/cli/data/dataset.ts';
import { run as train } from '../../src/cli/commands/train.ts';
import { resolveTrainConfig } from '../../src/train/config.ts';
import { decodeCheckpoint } from '../../src/train/checkpoint.ts';
import { rejects } from '../util/compare.ts';

const s = suite('train_cli');
const dir = mkdtempSync(join(tmpdir(), 'flam-train-'));
const data = join(dir, 'corpus');
const cfgPath = join(dir, 'cfg.json');

const quiet = async <T>(fn: () => Promise<T>): Promise<T> => {
  const w = process.stderr.write.bind(process.stderr);
  (process.stderr as any).write = () => true;
  try { return await fn(); } finally { (process.stderr as any).write = w; }
};
const losses = (run: string) => readFileSync(join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.total !== undefined).map((r) => [r.step, r.total] as [number, number]);

s.before(async () => {
  await buildDataset({ out: data, clips: 12, seed: 3, synthetic: { seed: 1, perClass: 5 }, workers: 1, log: () => {} });
  writeFileSync(cfgPath, JSON.stringify({ preset: 'tiny', batchClips: 2, textsPerClip: 3, steps: 3, warmup: 1, evalEvery: 0, ckptEvery: 1, bnClips: 2 }));
});

s('training writes checkpoints, a JSONL log and a checksummed model file', async () => {
  const a = join(dir, 'a');
  await quiet(() => train(['--config', cfgPath, '--data', data, '--out', a]));
  assert.ok(existsSync(join(a, 'model.safetensors')), 'model file written');
  assert.is(losses(a).length, 3);
  const m = decodeCheckpoint(readFileSync(join(a, 'model.safetensors')), 'model');
  assert.is(m.m.size, 0, 'no optimizer state in the model file');
  assert.is((m.config as { model: string }).model, 'tiny');
});

s('resume from a checkpoint reproduces the uninterrupted run step for step', async () => {
  const a = join(dir, 'c'), b = join(dir, 'd');
  // same config (3 steps) for both; b gets a time budget of 0 minutes: it saves after step 1 and exits
  await quiet(() => train(['--config', cfgPath, '--data', data, '--out', a]));
  await quiet(() => train(['--config', cfgPath, '--data', data, '--out', b, '--max-minutes', '0']));
  const ck = decodeCheckpoint(readFileSync(join(b, 'ckpt.safetensors')), 'ckpt');
  assert.is(ck.step, 1);
  await quiet(() => train(['--config', cfgPath, '--data', data, '--out', b, '--resume']));
  const la = losses(a), lb = losses(b);
  assert.equal(lb.map(([st]) => st), [1, 2, 3]);
  for (let i = 0; i < 3; i++) assert.is(lb[i][1], la[i][1], `step ${i + 1}: resumed ${lb[i][1]} vs uninterrupted ${la[i][1]}`);
});

s('bad configs and a missing checkpoint are named', async () => {
  assert.throws(() => resolveTrainConfig({ preset: 'tiny', batchClips: 0 }, 'x.json'), /x.json: batchClips must be at least 1/);
  assert.throws(() => resolveTrainConfig('huge', '--config'), /unknown training preset 'huge'/);
  await rejects(() => train(['--config', cfgPath, '--data', data, '--out', join(dir, 'none'), '--resume']), /--resume: .*ckpt.safetensors does not exist/);
  await rejects(() => train(['--config', cfgPath, '--data', join(dir, 'nowhere'), '--out', join(dir, 'e')]), /captions.json not found/);
});

s.run();
