// The FLAM model (spec §1): mel frontend -> HTSAT audio encoder -> audio projection (local frames + global), text
// encoder -> text projection + per-text alpha (scale) and beta (bias); state_dict keys as in the official
// checkpoint (audio_branch.*, text_branch.*, top-level heads). Presets: v1-base (the released architecture) and
// small variants that train on one machine ('tiny': GloVe-initialised frozen word embeddings, so unseen words in
// prompts still land near their meaning; the frozen table is rebuilt from weights/glove at load and never stored).
import type { Runtime } from '../gpu/runtime.ts';
import { Tensor, tensor } from '../tensor/tensor.ts';
import { Module } from '../nn/module.ts';
import { Htsat, HTSAT_PRESETS, type HtsatConfig } from './htsat.ts';
import { TextEncoder, TEXT_PRESETS, type TextConfig, type TextOutput } from './text.ts';
import { FlamHeads } from './heads.ts';
import { setValues } from './layers.ts';
import { MelFrontend } from '../audio/frontend.ts';
import type { BatchNormStats } from '../audio/mel_ref.ts';
import type { BpeTokenizer } from '../text/bpe.ts';
import { loadGlove, gloveEmbeddingInit } from '../text/glove.ts';
import { initRng } from '../nn/module.ts';

/**
 * Per-element std of the frozen GloVe rows (5x the 0.02 of the learned position/type tables): after the embedding
 * LayerNorm the token identity, not the position, dominates each state, so different prompts start apart.
 */
export const GLOVE_STD = 0.1;

export interface FlamConfig {
  name: string;
  audio: HtsatConfig;
  text: TextConfig;
  jointDim: number;
  /** 'trainable' (random init, trained) or 'glove-frozen' (GloVe rows, frozen, rebuilt from the GloVe table). */
  wordEmbeddings: 'trainable' | 'glove-frozen';
  /** Seed of the random initialisation. */
  seed: number;
}

export const FLAM_PRESETS: Record<'v1-base' | 'tiny' | 'tiny-noglove' | 'small', FlamConfig> = {
  'v1-base': { name: 'v1-base', audio: HTSAT_PRESETS['v1-base'], text: TEXT_PRESETS['roberta-base'], jointDim: 512, wordEmbeddings: 'trainable', seed: 1 },
  tiny: { name: 'tiny', audio: HTSAT_PRESETS.tiny, text: { ...TEXT_PRESETS.tiny, pooling: 'mean' }, jointDim: 128, wordEmbeddings: 'glove-frozen', seed: 1 },
  'tiny-noglove': { name: 'tiny-noglove', audio: HTSAT_PRESETS.tiny, text: { ...TEXT_PRESETS.tiny, pooling: 'mean' }, jointDim: 128, wordEmbeddings: 'trainable', seed: 1 },
  small: { name: 'small', audio: HTSAT_PRESETS.small, text: { ...TEXT_PRESETS.small, pooling: 'mean' }, jointDim: 256, wordEmbeddings: 'glove-frozen', seed: 1 },
};

/** bn0 (BatchNorm over mel bins, eval statistics) as buffers with the official names. */
export class FrontendNorm extends Module {
  readonly weight: Tensor; readonly bias: Tensor; readonly running_mean: Tensor; readonly running_var: Tensor;
  constructor(rt: Runtime, mels = 64) {
    super(rt);
    this.weight = this.buffer('weight', tensor(rt, new Float32Array(mels).fill(1), [mels]));
    this.bias = this.buffer('bias', tensor(rt, new Float32Array(mels), [mels]));
    this.running_mean = this.buffer('running_mean', tensor(rt, new Float32Array(mels), [mels]));
    this.running_var = this.buffer('running_var', tensor(rt, new Float32Array(mels).fill(1), [mels]));
  }
  /** CPU copy of the statistics for the frontend kernel (read once after load, cached). */
  stats: BatchNormStats | null = null;
  setStats(s: { mean: ArrayLike<number>; var: ArrayLike<number>; weight?: ArrayLike<number>; bias?: ArrayLike<number> }): void {
    const M = this.weight.size;
    const f = (a: ArrayLike<number> | undefined, d: number) => Float32Array.from(a ?? new Array(M).fill(d));
    setValues(this.running_mean, f(s.mean, 0)); setValues(this.running_var, f(s.var, 1));
    setValues(this.weight, f(s.weight, 1)); setValues(this.bias, f(s.bias, 0));
    this.stats = { mean: Float64Array.from(f(s.mean, 0)), var: Float64Array.from(f(s.var, 1)), weight: Float64Array.from(f(s.weight, 1)), bias: Float64Array.from(f(s.bias, 0)), eps: 1e-5 };
  }
  async syncStats(): Promise<BatchNormStats> {
    const [mean, v, w, b] = await Promise.all([this.running_mean.data(), this.running_var.data(), this.weight.data(), this.bias.data()]);
    this.stats = { mean: Float64Array.from(mean), var: Float64Array.from(v), weight: Float64Array.from(w), bias: Float64Array.from(b), eps: 1e-5 };
    return this.stats;
  }
}

export interface AudioEmbeddings { local: Tensor; global: Tensor }
export interface TextEmbeddings { t: Tensor; u: Tensor; alpha: Tensor; beta: Tensor }

export class Flam extends Module {
  readonly audio_branch: Htsat;
  readonly text_branch: TextEncoder;
  readonly heads: FlamHeads;
  readonly bn0: FrontendNorm;
  readonly frontend: MelFrontend;
  /** Keys rebuilt at construction and never stored (the frozen GloVe table). */
  readonly externalKeys: string[] = [];

  /**
   * @param opts glove: the GloVe table ('glove-frozen' presets); init 'zeros' skips the random init (before loading
   * weights); filterbank: the mel filterbank [513, 64] of the frontend (e.g. an official checkpoint's melW; default
   * the float64 Slaney bank).
   */
  constructor(rt: Runtime, readonly cfg: FlamConfig, opts: { glove?: Uint8Array; init?: 'random' | 'zeros'; filterbank?: ArrayLike<number> } = {}) {
    super(rt);
    this.audio_branch = this.child('audio_branch', new Htsat(rt, cfg.audio, { seed: cfg.seed, init: opts.init }));
    this.bn0 = new FrontendNorm(rt);
    this.audio_branch.attachFrontend({ bn0: this.bn0 });
    this.text_branch = this.child('text_branch', new TextEncoder(rt, cfg.text, { seed: cfg.seed + 1, init: opts.init }));
    this.heads = new FlamHeads(rt, { audioDim: this.audio_branch.plan.numFeatures, textDim: cfg.text.hidden, jointDim: cfg.jointDim }, { seed: cfg.seed + 2, init: opts.init });
    this.frontend = new MelFrontend(rt, opts.filterbank);
    if (cfg.wordEmbeddings === 'glove-frozen') {
      if (!opts.glove) throw new Error(`FLAM ${cfg.name}: the 'glove-frozen' word embeddings need the GloVe table (weights/glove/gpt2-glove100.safetensors)`);
      const W = this.text_branch.embeddings.word_embeddings.p.weight;
      const { table } = gloveEmbeddingInit(loadGlove(opts.glove), cfg.text.vocabSize, cfg.text.hidden, GLOVE_STD, initRng(cfg.seed + 7));
      setValues(W, table);
      W.requiresGrad = false;
      this.externalKeys.push('text_branch.embeddings.word_embeddings.weight');
    }
  }

  // The heads carry top-level names (audio_projection.*, logit_scale_a, ...): merge them without a prefix.
  override namedParameters(prefix = ''): [string, Tensor][] { return [...super.namedParameters(prefix), ...this.heads.namedParameters(prefix)]; }
  override namedBuffers(prefix = ''): [string, Tensor][] { return [...super.namedBuffers(prefix), ...this.heads.namedBuffers(prefix)]; }
  override train(on = true): this { super.train(on); this.heads.train(on); return this; }
  override dispose(): void { super.dispose(); this.heads.dispose(); this.frontend.dispose(); }

  /** Parameters the optimizer updates (frozen ones excluded). */
  trainableParameters(): [string, Tensor][] { return this.namedParameters().filter(([, t]) => t.requiresGrad); }

  /** Everything a model file stores: parameters and buffers except the external (rebuilt) keys. */
  storedState(): [string, Tensor][] {
    const ext = new Set(this.externalKeys);
    return [...this.stateDict()].filter(([k]) => !ext.has(k));
  }

  numParameters(): number { return this.namedParameters().reduce((s, [, t]) => s + t.size, 0); }

  /**
   * Audio: waves [B][480000] at 48 kHz (or a frontend image [B, 256, 256]) -> unit local [B, L, J] and global
   * [B, J] embeddings. In training mode SpecAugment stripes are drawn with `seed`.
   */
  audioEmbeddings(input: Float32Array[] | Tensor, o: { seed?: number } = {}): AudioEmbeddings {
    let image: Tensor;
    if (input instanceof Tensor) image = input;
    else {
      if (!this.bn0.stats) throw new Error('FLAM: bn0 statistics not loaded (call model.bn0.syncStats() after loading weights)');
      image = this.frontend.run(input, { output: 'image', bn: this.bn0.stats, training: this.training, seed: o.seed }).image!;
    }
    const S = this.cfg.audio.imgSize;
    const h = this.audio_branch.forward(image.reshape([image.shape[0], 1, S, S]));
    return this.heads.audioEmbeddings(h.frames, h.global);
  }

  /** Text: prompts -> unit t [N, J], pooled u [N, Ct], alpha [N] = exp(MLP(u)), beta [N]. */
  textEmbeddings(texts: readonly string[], tok: BpeTokenizer): TextEmbeddings {
    if (texts.length === 0) throw new Error('FLAM: no prompts given (need at least one text)');
    const out: TextOutput = this.text_branch.encodeTexts(texts, tok);
    const u = out.pooled;
    return { t: this.heads.textEmbeddings(u), u, alpha: this.heads.alpha(u), beta: this.heads.beta(u) };
  }
}

/** Construct by preset name or config. */
export function createFlam(rt: Runtime, cfg: FlamConfig | keyof typeof FLAM_PRESETS, opts: { glove?: Uint8Array; init?: 'random' | 'zeros' } = {}): Flam {
  const c = typeof cfg === 'string' ? FLAM_PRESETS[cfg] : cfg;
  if (!c) throw new Error(`FLAM: unknown preset ${JSON.stringify(cfg)} (known: ${Object.keys(FLAM_PRESETS).join(', ')})`);
  return new Flam(rt, c, opts);
}

/**
 * Load stored weights into a model, strictly over its stored keys (every key present, no unknown key, same
 * shapes); external keys (the frozen GloVe table) are rebuilt by the constructor and never read.
 */
export function loadFlamState(model: Flam, values: Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  const ext = new Set(model.externalKeys);
  const stored = model.storedState();
  const keys = new Set(stored.map(([k]) => k));
  const missing = [...keys].filter((k) => !values.has(k));
  const unexpected = [...values.keys()].filter((k) => !keys.has(k) && !ext.has(k));
  const shape = stored.filter(([k, t]) => values.has(k) && (values.get(k)!.shape.length !== t.shape.length || values.get(k)!.shape.some((d, i) => d !== t.shape[i])))
    .map(([k, t]) => `${k}: file [${values.get(k)!.shape}] vs model [${t.shape}]`);
  if (missing.length || unexpected.length || shape.length) {
    const list = (a: string[]) => a.slice(0, 6).join(', ') + (a.length > 6 ? ` (+${a.length - 6} more)` : '');
    throw new Error(`weights do not match the '${model.cfg.name}' model: ${[missing.length ? `missing ${list(missing)}` : '', unexpected.length ? `unexpected ${list(unexpected)}` : '', shape.length ? `wrong shapes ${list(shape)}` : ''].filter(Boolean).join('; ')}`);
  }
  for (const [k, t] of stored) t.rt.upload(t.storage.buffer, values.get(k)!.data, t.offset * 4);
}

/**
 * A model from a checkpoint or model file (checksum verified by decodeCheckpoint; the preset or config is read
 * from the file). `glove` is needed by presets with GloVe-frozen word embeddings.
 */
export async function flamFromFile(rt: Runtime, bytes: Uint8Array, source: string, glove?: Uint8Array): Promise<Flam> {
  const { decodeCheckpoint } = await import('../train/checkpoint.ts');
  const ck = decodeCheckpoint(bytes, source);
  const c = ck.config as { model?: string; flam?: FlamConfig };
  const cfg = c.flam ?? FLAM_PRESETS[c.model as keyof typeof FLAM_PRESETS];
  if (!cfg) throw new Error(`${source}: no model configuration in the file (config ${JSON.stringify(ck.config).slice(0, 120)})`);
  const model = new Flam(rt, cfg, { glove, init: 'zeros' });
  try {
    loadFlamState(model, ck.model);
  } catch (e) {
    model.dispose();
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  await model.bn0.syncStats();
  return model;
}

