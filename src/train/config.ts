// Training configuration (JSON file or preset name) with defaults and validation.
import { FLAM_PRESETS } from '../model/flam.ts';

export interface TrainConfig {
  /** FLAM preset (src/model/flam.ts). */
  model: keyof typeof FLAM_PRESETS;
  /** Audio slots per SED batch (A); text slots K = textsPerClip * A. */
  batchClips: number;
  textsPerClip: number;
  steps: number;
  lr: number;
  warmup: number;
  minLr: number;
  weightDecay: number;
  /** Global gradient-norm clip (0: off). */
  gradClip: number;
  weights: { clip: number; sed: number; prior: number };
  seed: number;
  /** Validation every N steps on `evalClips` validation clips (0: never). */
  evalEvery: number;
  evalClips: number;
  /** Checkpoint every N steps (and at the end). */
  ckptEvery: number;
  /** Training clips used to estimate bn0's statistics before the first step. */
  bnClips: number;
  /**
   * Steps during which the per-text scale head (alpha) is not updated. Trained from scratch (no pretrained global
   * model, unlike the paper's FLAM-Global initialisation), alpha otherwise collapses to ~0 within a few hundred
   * steps: with alpha -> 0 every frame logit becomes beta, the SED loss stops depending on the embeddings and they
   * collapse to one point (seen here: alpha 1e-4, all cosines 1.0 at step 350). Holding alpha at its init (~10)
   * forces the embeddings to separate positives from negatives first.
   */
  alphaFrozenSteps: number;
}

export const TRAIN_PRESETS: Record<string, TrainConfig> = {
  /** Trains on a 2-core machine with lavapipe in a few hours. */
  tiny: { model: 'tiny', batchClips: 8, textsPerClip: 5, steps: 4000, lr: 1e-3, warmup: 200, minLr: 2e-5, weightDecay: 0.01, gradClip: 1, weights: { clip: 1, sed: 200, prior: 1 }, seed: 1, evalEvery: 500, evalClips: 48, ckptEvery: 50, bnClips: 64, alphaFrozenSteps: 4000 },
  'tiny-noglove': { model: 'tiny-noglove', batchClips: 8, textsPerClip: 5, steps: 4000, lr: 1e-3, warmup: 200, minLr: 2e-5, weightDecay: 0.01, gradClip: 1, weights: { clip: 1, sed: 200, prior: 1 }, seed: 1, evalEvery: 500, evalClips: 48, ckptEvery: 50, bnClips: 64, alphaFrozenSteps: 4000 },
  /** For real GPUs. */
  small: { model: 'small', batchClips: 32, textsPerClip: 5, steps: 20000, lr: 5e-4, warmup: 1000, minLr: 1e-5, weightDecay: 0.01, gradClip: 1, weights: { clip: 1, sed: 200, prior: 1 }, seed: 1, evalEvery: 1000, evalClips: 300, ckptEvery: 200, bnClips: 256, alphaFrozenSteps: 2000 },
};

/** A preset name, or a JSON object (partial: missing fields come from the preset named by its `preset` or `model`). */
export function resolveTrainConfig(src: string | Record<string, unknown>, source = 'config'): TrainConfig {
  if (typeof src === 'string') {
    const p = TRAIN_PRESETS[src];
    if (!p) throw new Error(`${source}: unknown training preset '${src}' (known: ${Object.keys(TRAIN_PRESETS).join(', ')}) and not a JSON file`);
    return structuredClone(p);
  }
  const base = TRAIN_PRESETS[String(src.preset ?? src.model ?? 'tiny')] ?? TRAIN_PRESETS.tiny;
  const c = { ...structuredClone(base), ...src } as TrainConfig & { preset?: string };
  delete c.preset;
  c.weights = { ...base.weights, ...(src.weights as object ?? {}) };
  if (!(c.model in FLAM_PRESETS)) throw new Error(`${source}: model '${c.model}' is not a FLAM preset (${Object.keys(FLAM_PRESETS).join(', ')})`);
  for (const k of ['batchClips', 'textsPerClip', 'steps', 'warmup', 'evalClips', 'ckptEvery', 'bnClips', 'alphaFrozenSteps'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 0)) throw new Error(`${source}: ${k} = ${c[k]} must be a non-negative integer`);
  }
  if (c.batchClips < 1) throw new Error(`${source}: batchClips must be at least 1`);
  for (const k of ['lr', 'minLr', 'weightDecay', 'gradClip'] as const) if (!(c[k] >= 0)) throw new Error(`${source}: ${k} = ${c[k]} must be >= 0`);
  return c;
}
