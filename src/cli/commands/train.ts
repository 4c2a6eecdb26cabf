// flam train: train a FLAM variant natively on a corpus built by `flam data build`.
import { readFileSync, existsSync, mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRuntime } from '../../gpu/node.ts';
import { tuneMatmul } from '../../ops/matmul.ts';
import { noGrad } from '../../autograd/tape.ts';
import { scope } from '../../tensor/tensor.ts';
import { AdamW } from '../../train/optim.ts';
import { lrAt } from '../../train/schedule.ts';
import { encodeCheckpoint, decodeCheckpoint, restoreOptimizer } from '../../train/checkpoint.ts';
import { resolveTrainConfig, type TrainConfig } from '../../train/config.ts';
import { flamTrainStep } from '../../train/flam_step.ts';
import { evaluateSplit } from '../eval_split.ts';
import { createFlam, loadFlamState, type Flam } from '../../model/flam.ts';
import type { BpeTokenizer } from '../../text/bpe.ts';
import { loadTokenizer, gloveBytes } from '../model.ts';
import { SedLoader } from '../../data/loader.ts';
import { datasetProvider } from '../data/dataset.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { parseArgs } from '../argv.ts';

export const summary = 'train a FLAM variant: --config CONFIG --data DIR --out RUN [--resume] [--steps N] [--max-minutes M]';


function progressBar(step: number, total: number, width = 24): string {
  const f = Math.min(1, step / total);
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(100 * f).toFixed(1)}%`;
}

const fmtTime = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`);

export async function run(args: string[]): Promise<void> {
  const a = parseArgs('flam train', args, { config: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, steps: { type: 'number' }, 'max-minutes': { type: 'number' }, resume: { type: 'flag' }, help: { type: 'flag' } });
  if (a.help) { console.log(`flam train --config CONFIG --data DIR --out RUN [--resume] [--steps N] [--max-minutes M]\n  CONFIG: a preset (tiny, tiny-noglove, small) or a JSON file (fields of src/train/config.ts; missing ones from its "preset")\n  DIR: a corpus from 'flam data build'; RUN: output folder (config.json, log.jsonl, ckpt.safetensors, model.safetensors)`); return; }
  for (const k of ['config', 'data', 'out']) if (!a[k]) throw new Error(`--${k} is required (flam train --help)`);
  const out = String(a.out), data = String(a.data);
  mkdirSync(out, { recursive: true });
  const ckptPath = join(out, 'ckpt.safetensors');
  let cfg: TrainConfig;
  const cfgArg = String(a.config);
  if (existsSync(cfgArg)) {
    let j: Record<string, unknown>;
    try { j = JSON.parse(readFileSync(cfgArg, 'utf8')); } catch (e) { throw new Error(`${cfgArg}: not valid JSON (${(e as Error).message})`); }
    cfg = resolveTrainConfig(j, cfgArg);
  } else cfg = resolveTrainConfig(cfgArg, '--config');
  if (a.steps) cfg.steps = Number(a.steps);
  const maxMs = a['max-minutes'] !== undefined ? Number(a['max-minutes']) * 60000 : Infinity;

  const rt = await nodeRuntime();
  await tuneMatmul(rt);
  const tok = await loadTokenizer();
  const model = createFlam(rt, cfg.model, { glove: gloveBytes() });
  const trainable = model.trainableParameters();
  const opt = new AdamW(trainable.map(([, t]) => t), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const provider = datasetProvider(data, 'train');
  let step = 0;
  let loaderState: { epoch: number; position: number; rng: number } | undefined;
  if (a.resume) {
    if (!existsSync(ckptPath)) throw new Error(`--resume: ${ckptPath} does not exist`);
    const ck = decodeCheckpoint(readFileSync(ckptPath), ckptPath);
    const saved = ck.config as TrainConfig;
    if (saved.model !== cfg.model) throw new Error(`--resume: ${ckptPath} holds a '${saved.model}' model, the config asks for '${cfg.model}'`);
    cfg = { ...saved, steps: a.steps ? Number(a.steps) : saved.steps };
    loadFlamState(model, ck.model);
    restoreOptimizer(opt, trainable, ck);
    step = ck.step;
    loaderState = ck.state.loader as typeof loaderState;
    await model.bn0.syncStats();
    console.error(`resumed ${ckptPath} at step ${step}`);
  } else {
    // bn0 statistics from the first bnClips training clips (log-mel per mel bin, eval-mode BatchNorm afterwards)
    const n = Math.min(cfg.bnClips, provider.size);
    const sum = new Float64Array(64), sq = new Float64Array(64);
    let count = 0;
    for (let i = 0; i < n; i += 8) {
      const items = await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, j) => provider.get(i + j)));
      const lm = await scope(async () => noGrad(() => model.frontend.run(items.map((x) => x.audio), { output: 'logmel' }).logmel!.data()));
      for (let r = 0; r < lm.length / 64; r++) for (let m = 0; m < 64; m++) { const v = lm[r * 64 + m]; sum[m] += v; sq[m] += v * v; }
      count += lm.length / 64;
    }
    const mean = Array.from(sum, (s) => s / count), v = Array.from(sq, (s, m) => Math.max(1e-3, s / count - mean[m] ** 2));
    model.bn0.setStats({ mean, var: v });
    atomicWriteSync(join(out, 'config.json'), new TextEncoder().encode(JSON.stringify(cfg, null, 1) + '\n'));
    console.error(`bn0 statistics from ${n} clips: mean ${(mean.reduce((x, y) => x + y, 0) / 64).toFixed(1)} dB`);
  }
  const loader = new SedLoader(provider, { clips: cfg.batchClips, textsPerClip: cfg.textsPerClip, seed: cfg.seed, shuffle: true, state: loaderState, prefetch: 2 });
  const logPath = join(out, 'log.jsonl');
  const log = (o: Record<string, unknown>) => appendFileSync(logPath, JSON.stringify({ time: new Date().toISOString(), ...o }) + '\n');
  console.error(`training ${cfg.model}: ${model.numParameters()} parameters (${trainable.reduce((s, [, t]) => s + t.size, 0)} trainable), ${provider.size} clips, batch ${cfg.batchClips} clips x ${cfg.textsPerClip * cfg.batchClips} text slots, steps ${step}/${cfg.steps}; device ${rt.adapter.description || rt.adapter.device}`);
  model.train();
  const alphaParams = new Set(model.heads.fc_per_text_logit_scale.parameters());
  const t0 = Date.now();
  let clipsDone = 0, lastSave = step;
  const save = async () => {
    const bytes = await encodeCheckpoint(model.storedState(), opt, { step, state: { loader: loader.state() }, config: cfg });
    atomicWriteSync(ckptPath, bytes);
    lastSave = step;
  };
  while (step < cfg.steps) {
    const batch = await loader.next();
    step++;
    const lr = lrAt({ lr: cfg.lr, warmup: cfg.warmup, total: cfg.steps, minLr: cfg.minLr }, step);
    const frozen = step <= (cfg.alphaFrozenSteps ?? 0) ? alphaParams : undefined;
    const s = await flamTrainStep(rt, model, tok, opt, batch, { lr, gradClip: cfg.gradClip, weights: cfg.weights, seed: cfg.seed * 1000003 + step, frozen });
    clipsDone += batch.audioMask.reduce((x, y) => x + y, 0);
    const el = (Date.now() - t0) / 1000;
    const cps = clipsDone / el;
    const eta = ((cfg.steps - step) * (el / Math.max(1, clipsDone)) * cfg.batchClips);
    log({ step, lr, ...s, clips_per_s: cps, epoch: loader.state().epoch });
    process.stderr.write(`\r${progressBar(step, cfg.steps)} step ${step}/${cfg.steps} loss ${s.total.toFixed(3)} (sed ${s.sed.toFixed(3)} prior ${s.prior.toFixed(3)} clip ${s.clip.toFixed(3)}) ${cps.toFixed(2)} clips/s ETA ${fmtTime(eta)}   `);
    if (step % cfg.ckptEvery === 0 || step === cfg.steps) await save();
    if (cfg.evalEvery > 0 && (step % cfg.evalEvery === 0 || step === cfg.steps)) {
      const { metrics } = await evaluateSplit(rt, model, tok, data, 'validation', cfg.evalClips);
      log({ step, validation: metrics });
      process.stderr.write(`\nvalidation @${step}: AUROC ${metrics.all.auroc.toFixed(3)} PSDS1 ${metrics.all.psds1.toFixed(3)} PSDS2 ${metrics.all.psds2.toFixed(3)}\n`);
    }
    if (Date.now() - t0 > maxMs) { if (lastSave !== step) await save(); process.stderr.write(`\nstopped after --max-minutes at step ${step}; continue with --resume\n`); break; }
  }
  if (step >= cfg.steps) {
    // final model file: weights and bn0 statistics, no optimizer state; same checksummed format as checkpoints
    const bytes = await encodeCheckpoint(model.storedState(), null, { step, state: {}, config: { model: cfg.model, flam: model.cfg, trainConfig: cfg } });
    atomicWriteSync(join(out, 'model.safetensors'), bytes);
    process.stderr.write(`\nwrote ${join(out, 'model.safetensors')} (${(bytes.length / 2 ** 20).toFixed(1)} MiB)\n`);
  }
}
