// Training throughput (issue 7 target): clips/s of one FLAM training step on our engine (flamTrainStep on the
// adapter, lavapipe here) against the SAME model trained by a PyTorch CPU reference (bench/train_torch.py, plain
// torch, torch.set_num_threads(2)), in one run:
//   model    the 'tiny' preset (HTSAT tiny, text tiny with frozen GloVe word embeddings, joint 128), our random
//            init written to safetensors and loaded by the reference, so both start from the same weights
//   batches  fixed SED batches from the simulator (A = 8 clips, K = 40 text slots, synthetic sources), cycled
//   step     frontend (STFT, Slaney mel, log, bn0 eval, SpecAugment stripes, bicubic resize, fold) -> HTSAT (DropPath)
//            -> projections -> text encoder -> L = L_CLIP + 200 L_SED + L_p -> backward -> global-norm clip ->
//            AdamW, same hyper-parameters; the stripes and DropPath masks come from the same seeded streams
// Validation before timing: both run steps 1 and 2 from the same weights on the same batches with the same seeds;
// the step-1 loss terms must agree to 1e-3 relative and the gradient norm to 1e-2 (step 2 after the clipped AdamW
// update is printed too). Then warm-up and timed steps on both: median wall ms per step (ours: flamTrainStep plus
// a final sync, including the audio upload and tokenization; PyTorch: the whole step in Python, data in memory).
// clips/s = valid clips per batch / median step time. The machine may be shared: see the printed load average.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, cpus, loadavg } from 'node:os';
import type { Runtime } from '../src/gpu/runtime.ts';
import { scope } from '../src/tensor/tensor.ts';
import { noGrad } from '../src/autograd/tape.ts';
import { createFlam } from '../src/model/flam.ts';
import { AdamW } from '../src/train/optim.ts';
import { flamTrainStep, clipPairs, type StepStats } from '../src/train/flam_step.ts';
import { FLAM_LOSS_WEIGHTS } from '../src/autograd/sim_loss.ts';
import { SedLoader, simulatedProvider, type SedBatch } from '../src/data/loader.ts';
import { makePool } from '../src/data/simulate.ts';
import { syntheticSources, SYNTH_CLASSES } from '../src/data/synthetic.ts';
import { encodeSafetensors, type TensorSpec } from '../src/io/safetensors.ts';
import { loadTokenizer, gloveBytes } from '../src/cli/model.ts';
import { report, deviceString, type BenchResult } from './util.ts';

const PRESET = 'tiny';
const A = 8, TEXTS_PER_CLIP = 5, BATCHES = 2;
const OPT = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, gradClip: 1 };
const VALIDATE_STEPS = 2;
const TOL = { loss: 1e-3, gradNorm: 1e-2 };

interface TorchStep extends StepStats { ms: number }
interface TorchRun { steps: TorchStep[]; trainable: number; setup_ms: number; threads: number; torch: string; blas: string }

function runTorch(dir: string, steps?: number): TorchRun {
  const args = [join(import.meta.dirname, 'train_torch.py'), dir, ...(steps ? [String(steps)] : [])];
  const py = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', timeout: 900_000, maxBuffer: 64 << 20 });
  if (py.status !== 0) throw new Error(`bench train: the PyTorch reference failed (${py.error?.message ?? `exit ${py.status}`}): ${(py.stderr || '').trim().split('\n').slice(-6).join('\n')}`);
  return JSON.parse(py.stdout.trim().split('\n').pop()!) as TorchRun;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

function quantiles(ms: number[]): { median: number; spread: number } {
  const s = [...ms].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), spread: q(0.75) - q(0.25) };
}

export async function benchTrain(rt: Runtime, quick = false): Promise<BenchResult[]> {
  const warm = 1, timed = quick ? 3 : 6;
  const total = VALIDATE_STEPS + warm + timed;
  const tok = await loadTokenizer();
  const model = createFlam(rt, PRESET, { glove: gloveBytes() });

  // fixed batches from the simulator
  const pool = makePool(syntheticSources(7, 6), SYNTH_CLASSES);
  const loader = new SedLoader(simulatedProvider(pool, 'train', 4 * A * BATCHES, 11), { clips: A, textsPerClip: TEXTS_PER_CLIP, seed: 1, prefetch: 0 });
  const batches: SedBatch[] = [];
  for (let j = 0; j < BATCHES; j++) batches.push(await loader.next());
  const valid = batches.map((b) => b.audioMask.reduce((x, y) => x + y, 0));

  // bn0 eval statistics from the batches' log-mel (as `flam train` does before its first step)
  const sum = new Float64Array(64), sq = new Float64Array(64);
  let count = 0;
  for (const b of batches) {
    const waves = Array.from({ length: b.A }, (_, i) => b.audio.subarray(i * 480000, (i + 1) * 480000));
    const lm = await scope(async () => noGrad(() => model.frontend.run(waves, { output: 'logmel' }).logmel!.data()));
    for (let r = 0; r < lm.length / 64; r++) for (let m = 0; m < 64; m++) { const v = lm[r * 64 + m]; sum[m] += v; sq[m] += v * v; }
    count += lm.length / 64;
  }
  const mean = Array.from(sum, (s) => s / count);
  model.bn0.setStats({ mean, var: Array.from(sq, (s, m) => Math.max(1e-3, s / count - mean[m] ** 2)) });

  // the reference's inputs: initial weights (every parameter and buffer, the frozen GloVe table included), batches
  const dir = mkdtempSync(join(tmpdir(), 'flam-train-bench-'));
  try {
    const weights: [string, TensorSpec][] = [];
    for (const [k, t] of model.stateDict()) weights.push([k, { dtype: 'F32', shape: t.shape, data: await t.data() as Float32Array }]);
    writeFileSync(join(dir, 'weights.safetensors'), encodeSafetensors(weights));
    const maxLength = Math.min(tok.maxLength, model.text_branch.maxTokens);
    const bspec = batches.map((b, j) => {
      writeFileSync(join(dir, `audio${j}.f32`), b.audio);
      const e = tok.encodeBatch(b.texts, { maxLength });
      const [ai, ti] = clipPairs(b);
      return {
        A: b.A, K: b.K, L: b.L, ids: Array.from(e.ids), lengths: e.lengths, seqLen: e.seqLen,
        audioMask: Array.from(b.audioMask), textMask: Array.from(b.textMask),
        positives: { audio: Array.from(b.positives.audio), text: Array.from(b.positives.text), frames: Array.from(b.positives.frames) },
        pairs: { audio: ai, text: ti },
      };
    });
    const steps = Array.from({ length: total }, (_, s) => ({ batch: s % BATCHES, seed: 1000 + s }));
    const flam = model.cfg;
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({
      config: { htsat: flam.audio, text: flam.text, heads: model.heads.cfg, wordEmbeddings: flam.wordEmbeddings },
      opt: OPT, lossWeights: { ...FLAM_LOSS_WEIGHTS }, threads: 2, batches: bspec, steps,
    }));

    const trainable = model.trainableParameters();
    const nTrainable = trainable.reduce((s, [, t]) => s + t.size, 0);
    const opt = new AdamW(trainable.map(([, t]) => t), { lr: OPT.lr, beta1: OPT.beta1, beta2: OPT.beta2, eps: OPT.eps, weightDecay: OPT.weightDecay });
    model.train();
    const ours: (StepStats & { ms: number })[] = [];
    const step = async (s: number) => {
      const t0 = performance.now();
      const st = await flamTrainStep(rt, model, tok, opt, batches[steps[s].batch], { lr: OPT.lr, gradClip: OPT.gradClip, weights: { ...FLAM_LOSS_WEIGHTS }, seed: steps[s].seed });
      await rt.sync();
      ours.push({ ...st, ms: performance.now() - t0 });
    };

    // validation: steps 1 and 2 on both, same weights, batches and seeds
    for (let s = 0; s < VALIDATE_STEPS; s++) await step(s);
    const pv = runTorch(dir, VALIDATE_STEPS);
    if (pv.trainable !== nTrainable) throw new Error(`bench train: ${nTrainable} trainable parameters here, ${pv.trainable} in the PyTorch reference`);
    const fmt = (x: StepStats) => `total ${x.total.toFixed(5)} (sed ${x.sed.toFixed(5)}, prior ${x.prior.toFixed(5)}, clip ${x.clip.toFixed(5)}), grad norm ${x.gradNorm.toFixed(5)}`;
    const diffs: Record<string, number> = {};
    for (let s = 0; s < VALIDATE_STEPS; s++) {
      console.log(`step ${s + 1} ours:    ${fmt(ours[s])}\nstep ${s + 1} pytorch: ${fmt(pv.steps[s])}`);
      for (const k of ['total', 'sed', 'prior', 'clip', 'gradNorm'] as const) diffs[`step${s + 1}_${k}`] = rel(ours[s][k], pv.steps[s][k]);
    }
    console.log(`relative differences: ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
    const bad = [
      ...(['total', 'sed', 'prior', 'clip'] as const).filter((k) => !(diffs[`step1_${k}`] <= TOL.loss)).map((k) => `step-1 ${k} differs by ${diffs[`step1_${k}`].toExponential(2)} (tolerance ${TOL.loss})`),
      ...(diffs.step1_gradNorm <= TOL.gradNorm ? [] : [`step-1 gradient norm differs by ${diffs.step1_gradNorm.toExponential(2)} (tolerance ${TOL.gradNorm})`]),
    ];
    if (bad.length) throw new Error(`bench train: our step and the PyTorch reference disagree: ${bad.join('; ')}`);

    // timing: warm-up + timed steps on ours, then the whole sequence on the reference (it times the same steps)
    const load0 = loadavg()[0];
    for (let s = VALIDATE_STEPS; s < total; s++) await step(s);
    const pt = runTorch(dir);
    const load1 = loadavg()[0];
    const first = VALIDATE_STEPS + warm;
    const ourT = quantiles(ours.slice(first).map((x) => x.ms)), ptT = quantiles(pt.steps.slice(first).map((x) => x.ms));
    const clips = steps.slice(first).reduce((s, x) => s + valid[x.batch], 0) / timed;
    const shape = `A=${A} K=${A * TEXTS_PER_CLIP} (${clips} valid clips/step), ${PRESET}`;
    const common = { loss_step1: ours[0].total, loss_rel_diff_step1: diffs.step1_total, gradnorm_rel_diff_step1: diffs.step1_gradNorm, loss_rel_diff_step2: diffs.step2_total, loss_last: ours[total - 1].total, loss_last_pytorch: pt.steps[total - 1].total, load_avg_1min: +((load0 + load1) / 2).toFixed(2), trainable: nTrainable, steps_timed: timed };
    const cpu = cpus()[0]?.model ?? 'cpu';
    const rows: BenchResult[] = [
      { bench: 'train', variant: 'ours', shape, device: deviceString(rt), median_ms: ourT.median, spread_ms: ourT.spread, clips_per_s: clips / (ourT.median / 1000), ...common },
      { bench: 'train', variant: 'pytorch-cpu', shape, device: `${cpu} (${pt.threads} threads; torch ${pt.torch}, ${pt.blas.split('/').slice(-2).join('/')})`, median_ms: ptT.median, spread_ms: ptT.spread, clips_per_s: clips / (ptT.median / 1000), ...common },
    ];
    rows[0].vs_pytorch = ptT.median / ourT.median;
    rows[1].vs_pytorch = 1;
    for (const r of rows) report(r);
    opt.dispose();
    return rows;
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Columns of the printed table. */
export const TRAIN_KEYS = ['clips_per_s', 'vs_pytorch', 'loss_step1', 'loss_rel_diff_step1', 'gradnorm_rel_diff_step1', 'loss_rel_diff_step2', 'load_avg_1min'];

/** The ratio the issue's target is stated in. */
export function trainRatio(rows: BenchResult[]): void {
  const o = rows.find((r) => r.variant === 'ours'), p = rows.find((r) => r.variant === 'pytorch-cpu');
  if (!o || !p) return;
  console.log(`training clips/s: ours ${(o.clips_per_s as number).toFixed(2)} on ${o.device}, PyTorch CPU ${(p.clips_per_s as number).toFixed(2)} on ${p.device}: ours / PyTorch = ${((o.clips_per_s as number) / (p.clips_per_s as number)).toFixed(2)}x (1-min load average ${o.load_avg_1min} on ${cpus().length} cores: shared machine, noisy)`);
}

// Direct run: node --import tsx bench/train.bench.ts [--quick]
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { nodeRuntime } = await import('../src/gpu/node.ts');
  const { tuneMatmul } = await import('../src/ops/matmul.ts');
  const { printTable } = await import('./util.ts');
  const rt = await nodeRuntime();
  await tuneMatmul(rt);
  console.log(`device: ${deviceString(rt)}`);
  const rows = await benchTrain(rt, process.argv.includes('--quick'));
  printTable('train (one FLAM training step, tiny preset: ours vs PyTorch CPU, same weights and batches)', rows, TRAIN_KEYS);
  trainRatio(rows);
  process.exit(0);
}
