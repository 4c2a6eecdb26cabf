// FLAM projections and per-text heads (flam-spec.md §5), with the official top-level state_dict names:
//   audio_projection.{0,2}.*  Linear(Ca, J) -> ReLU -> Linear(J, J)
//   text_projection.{0,2}.*   Linear(Ct, J) -> ReLU -> Linear(J, J)
//   fc_per_text_logit_scale.{0,2}.*  Linear(Ct, Ct) -> GELU -> Linear(Ct, 1), alpha = exp(.) (last bias += ln 10)
//   fc_per_text_logit_bias.{0,2}.*   Linear(Ct, Ct) -> GELU -> Linear(Ct, 1) = beta       (last bias += -8)
//   logit_scale_a [] (CLIP log-temperature, init ln(1/0.07)), aed_logit_scale [] (frozen 0: a buffer here)
// Embeddings are L2-normalised after the projections (F.normalize, eps 1e-12). The global audio embedding is the
// projection of the pooled 1024-d vector, not the mean of projected frames.
import { Tensor, tensor } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { Module, initRng } from '../nn/module.ts';
import { relu, gelu, exp, mul } from '../autograd/ops.ts';
import { l2Normalize } from '../autograd/l2_normalize.ts';
import { InitLinear, type InitMode } from './layers.ts';

export interface HeadsConfig {
  /** Width of the audio encoder's output (1024 for v1-base). */
  audioDim: number;
  /** Width of the text encoder's pooled output (768 for RoBERTa-base). */
  textDim: number;
  /** Joint embedding width (512). */
  jointDim: number;
}

export const HEADS_PRESETS: Record<'v1-base', HeadsConfig> = { 'v1-base': { audioDim: 1024, textDim: 768, jointDim: 512 } };

interface Ctx { rng: () => number; mode: InitMode }

/** Two Linears with an activation between them; children named 0 and 2 (index 1 is the parameterless activation). */
export class Mlp2 extends Module {
  readonly l0: InitLinear;
  readonly l2: InitLinear;
  constructor(rt: Runtime, inF: number, hid: number, outF: number, readonly act: 'relu' | 'gelu', ctx: Ctx, lastBiasShift = 0) {
    super(rt);
    this.l0 = this.child('0', new InitLinear(rt, inF, hid, { rng: ctx.rng, mode: ctx.mode }));
    this.l2 = this.child('2', new InitLinear(rt, hid, outF, { rng: ctx.rng, mode: ctx.mode, biasShift: lastBiasShift }));
  }
  forward(x: Tensor): Tensor {
    const h = this.l0.forward(x);
    return this.l2.forward(this.act === 'relu' ? relu(h) : gelu(h));
  }
}

export class FlamHeads extends Module {
  readonly cfg: HeadsConfig;
  readonly audio_projection: Mlp2;
  readonly text_projection: Mlp2;
  readonly fc_per_text_logit_scale: Mlp2;
  readonly fc_per_text_logit_bias: Mlp2;
  readonly logitScaleA: Tensor;
  readonly aedLogitScale: Tensor;

  constructor(rt: Runtime, cfg: HeadsConfig | keyof typeof HEADS_PRESETS = 'v1-base', opts: { seed?: number; init?: InitMode } = {}) {
    super(rt);
    const c = typeof cfg === 'string' ? HEADS_PRESETS[cfg] : cfg;
    if (!c) throw new Error(`FLAM heads: unknown preset ${JSON.stringify(cfg)}`);
    for (const k of ['audioDim', 'textDim', 'jointDim'] as const) if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`FLAM heads config: ${k} = ${c[k]} must be a positive integer`);
    this.cfg = c;
    const ctx: Ctx = { rng: initRng(opts.seed ?? 3), mode: opts.init ?? 'random' };
    this.audio_projection = this.child('audio_projection', new Mlp2(rt, c.audioDim, c.jointDim, c.jointDim, 'relu', ctx));
    this.text_projection = this.child('text_projection', new Mlp2(rt, c.textDim, c.jointDim, c.jointDim, 'relu', ctx));
    // alpha ~ 10 and beta ~ -8 at init: the last biases are shifted after PyTorch's default init.
    this.fc_per_text_logit_scale = this.child('fc_per_text_logit_scale', new Mlp2(rt, c.textDim, c.textDim, 1, 'gelu', ctx, Math.log(10)));
    this.fc_per_text_logit_bias = this.child('fc_per_text_logit_bias', new Mlp2(rt, c.textDim, c.textDim, 1, 'gelu', ctx, -8));
    this.logitScaleA = this.param('logit_scale_a', new Float32Array([ctx.mode === 'random' ? Math.log(1 / 0.07) : 0]), []);
    this.aedLogitScale = this.buffer('aed_logit_scale', tensor(rt, [0], []));
  }

  /** Local [B, L, Ca] and global [B, Ca] audio features -> unit vectors [B, L, J] and [B, J]. */
  audioEmbeddings(frames: Tensor, global: Tensor): { local: Tensor; global: Tensor } {
    return { local: l2Normalize(this.audio_projection.forward(frames)), global: l2Normalize(this.audio_projection.forward(global)) };
  }

  /** Pooled text output u [N, Ct] -> unit vectors [N, J]. */
  textEmbeddings(u: Tensor): Tensor { return l2Normalize(this.text_projection.forward(u)); }

  /** alpha(t) = exp(MLP(u)) [N]. */
  alpha(u: Tensor): Tensor { return exp(this.fc_per_text_logit_scale.forward(u)).reshape([u.shape[0]]); }

  /** beta(t) = MLP(u) [N]. */
  beta(u: Tensor): Tensor { return this.fc_per_text_logit_bias.forward(u).reshape([u.shape[0]]); }

  /**
   * The frame-logit scale of each prompt, alpha [N] * exp(aed_logit_scale) (spec §5: h = exp(aed) alpha <a, t> +
   * beta). aed_logit_scale is a frozen 0 in every model trained here and in the released checkpoint (factor 1), but
   * a checkpoint may carry another value.
   */
  frameScale(alpha: Tensor): Tensor { return mul(alpha, exp(this.aedLogitScale.reshape([1]))); }
}
