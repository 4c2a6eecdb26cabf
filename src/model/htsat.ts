// HTSAT audio encoder (a Swin transformer over the 256x256 folded log-mel "image"), flam-spec.md §3.
//
// Input: the image [B, 1, S, S] (or [B, S, S]) that the frontend produces (STFT, log-mel, bn0, fold; the frontend's
// keys spectrogram_extractor.*, logmel_extractor.* and bn0.* belong to the frontend's modules, which
// attachFrontend() registers here so that this module mounted as `audio_branch` holds every audio key). Names equal the official state_dict keys under `audio_branch.`:
//   patch_embed.proj.{weight [E,1,P,P], bias}, patch_embed.norm.*,
//   layers.{s}.blocks.{b}.{norm1, attn.{relative_position_bias_table, relative_position_index, qkv, proj}, norm2,
//   mlp.{fc1, fc2}, attn_mask (shifted blocks)}, layers.{s}.downsample.{norm, reduction} (s < last), norm.*
// Buffers are f32 tensors (relative_position_index holds integers) so the generic f32 state_dict loader fills them.
//
// Output (§3.2): after the final LayerNorm the last R x R map is unfolded into freqRatio * R chronological frames
// (rows r = chunk * (R / freqRatio) + f, frame l = chunk * R + column, averaged over the R / freqRatio frequency
// rows f of a chunk) and the global embedding is the mean over all R*R tokens.
import { Tensor, tensor, shapeSize } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { Module, LayerNorm, initRng } from '../nn/module.ts';
import { InitLinear, ModuleList, ParamHolder, normalValues, uniformValues, type InitMode } from './layers.ts';
import { add, mul, gelu, permute, mean, linear } from '../autograd/ops.ts';
import { windowAttention, windowAttentionUnfused, relPosIndex, type RelPosIndex } from '../autograd/window_attention.ts';
import { windowPartition, windowMerge } from '../autograd/window_partition.ts';

export interface HtsatConfig {
  /** Side of the square input image (256 for v1-base: 64 mel bins x freqRatio 4). */
  imgSize: number;
  /** Patch side = stride of the patch-embedding convolution. */
  patchSize: number;
  embedDim: number;
  depths: number[];
  numHeads: number[];
  windowSize: number;
  mlpRatio: number;
  /** Image rows per mel bin (the fold of §2.1): the final map's rows split into freqRatio time chunks. */
  freqRatio: number;
  /** Stochastic depth, linearly spaced from 0 over all blocks (training only). */
  dropPathRate: number;
  /** LayerNorm eps. */
  eps: number;
}

/**
 * Presets. `v1-base` is the released OpenFLAM encoder. `tiny` and `small` keep its input (256x256), patch, window
 * and frame rate (32 frames per clip) but are narrow and shallow enough to train on one machine:
 * tiny 1.43 M parameters (0.32 GMAC per clip), small 12.3 M (2.7 GMAC); v1-base 67.8 M (15.3 GMAC).
 */
export const HTSAT_PRESETS: Record<'v1-base' | 'tiny' | 'small', HtsatConfig> = {
  'v1-base': { imgSize: 256, patchSize: 4, embedDim: 128, depths: [2, 2, 12, 2], numHeads: [4, 8, 16, 32], windowSize: 8, mlpRatio: 4, freqRatio: 4, dropPathRate: 0.1, eps: 1e-5 },
  tiny: { imgSize: 256, patchSize: 4, embedDim: 32, depths: [1, 1, 2, 1], numHeads: [1, 2, 4, 8], windowSize: 8, mlpRatio: 4, freqRatio: 4, dropPathRate: 0.1, eps: 1e-5 },
  small: { imgSize: 256, patchSize: 4, embedDim: 64, depths: [2, 2, 6, 2], numHeads: [2, 4, 8, 16], windowSize: 8, mlpRatio: 4, freqRatio: 4, dropPathRate: 0.1, eps: 1e-5 },
};

export interface StagePlan {
  /** Map side R (R x R tokens). */
  res: number;
  dim: number;
  heads: number;
  depth: number;
  /** Effective window (the map side when the map is not larger than the configured window). */
  ws: number;
  /** Shift of the odd blocks (0 when the window covers the map). */
  shift: number;
  /** Windows per image. */
  nW: number;
  downsample: boolean;
}

export interface HtsatPlan { cfg: HtsatConfig; stages: StagePlan[]; numFeatures: number; frames: number; finalRes: number }

/**
 * Validate a config and derive the stage geometry. Throws an Error naming the rule a config breaks (image vs
 * patch, map vs merges, map vs window, channels vs heads, head dim vs the fused kernel, final map vs freqRatio).
 */
export function planHtsat(cfg: HtsatConfig): HtsatPlan {
  const bad = (rule: string) => { throw new Error(`HTSAT config: ${rule}`); };
  const { imgSize, patchSize, embedDim, depths, numHeads, windowSize, mlpRatio, freqRatio } = cfg;
  for (const [k, v] of Object.entries({ imgSize, patchSize, embedDim, windowSize, freqRatio })) if (!Number.isInteger(v) || v < 1) bad(`${k} = ${v} must be a positive integer`);
  if (!(mlpRatio > 0) || !Number.isInteger(embedDim * mlpRatio)) bad(`mlpRatio ${mlpRatio} must give an integer hidden width`);
  if (depths.length === 0 || depths.length !== numHeads.length) bad(`depths [${depths}] and numHeads [${numHeads}] must be non-empty and of equal length`);
  if (depths.some((d) => !Number.isInteger(d) || d < 1)) bad(`every depth must be a positive integer, got [${depths}]`);
  if (!(cfg.dropPathRate >= 0 && cfg.dropPathRate < 1)) bad(`dropPathRate ${cfg.dropPathRate} must be in [0, 1)`);
  if (imgSize % patchSize !== 0) bad(`image side ${imgSize} is not a multiple of the patch size ${patchSize}`);
  const n = depths.length;
  const r0 = imgSize / patchSize;
  if (r0 % 2 ** (n - 1) !== 0) bad(`the ${r0}x${r0} patch map cannot be halved ${n - 1} times by the patch merges (its side must be a multiple of ${2 ** (n - 1)})`);
  const stages: StagePlan[] = [];
  for (let s = 0; s < n; s++) {
    const res = r0 / 2 ** s, dim = embedDim * 2 ** s, heads = numHeads[s];
    if (!Number.isInteger(heads) || heads < 1 || dim % heads !== 0) bad(`stage ${s}: ${dim} channels are not divisible by ${heads} heads`);
    if ((dim / heads) % 4 !== 0) bad(`stage ${s}: head dim ${dim / heads} must be a multiple of 4 (the fused window attention reads vec4)`);
    // Swin rule: a window not smaller than the map becomes the whole map and the shift is disabled.
    const ws = res <= windowSize ? res : windowSize;
    const shift = res <= windowSize ? 0 : Math.floor(windowSize / 2);
    if (res % ws !== 0) bad(`stage ${s}: the ${res}x${res} map is not divisible into ${ws}x${ws} windows (the map side must be a multiple of the window size)`);
    stages.push({ res, dim, heads, depth: depths[s], ws, shift, nW: (res / ws) ** 2, downsample: s < n - 1 });
  }
  const finalRes = stages[n - 1].res;
  if (finalRes % freqRatio !== 0) bad(`the final ${finalRes}x${finalRes} map cannot be unfolded into ${freqRatio} time chunks (its side must be a multiple of freqRatio ${freqRatio})`);
  return { cfg, stages, numFeatures: stages[n - 1].dim, frames: freqRatio * finalRes, finalRes };
}

/**
 * Swin shift mask of an R x R map (window ws, shift s): positions are labelled by region (rows [0, R-ws),
 * [R-ws, R-s), [R-s, R); the same for columns: 9 labels), the labels partitioned into windows, and
 * mask[w, i, j] = 0 where token i and j share a label, else -100. Returns [nW, T, T].
 */
export function shiftMaskCPU(R: number, ws: number, shift: number): Float32Array {
  const region = (x: number) => (x < R - ws ? 0 : x < R - shift ? 1 : 2);
  const nWs = R / ws, T = ws * ws;
  const mask = new Float32Array(nWs * nWs * T * T);
  for (let w = 0; w < nWs * nWs; w++) {
    const lab = new Int32Array(T);
    for (let t = 0; t < T; t++) {
      const h = Math.floor(w / nWs) * ws + Math.floor(t / ws), c = (w % nWs) * ws + (t % ws);
      lab[t] = region(h) * 3 + region(c);
    }
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) mask[(w * T + i) * T + j] = lab[i] === lab[j] ? 0 : -100;
  }
  return mask;
}

/** Swin/HTSAT init of a Linear: weight ~ trunc_normal(std 0.02, absolute bounds +-2), bias 0. */
function swinLinear(rt: Runtime, inF: number, outF: number, ctx: InitCtx, bias = true): InitLinear {
  return new InitLinear(rt, inF, outF, { bias, init: { kind: 'normal', std: 0.02, clip: 2 }, rng: ctx.rng, mode: ctx.mode });
}

interface InitCtx { rng: () => number; mode: InitMode }

/** Window attention: qkv Linear, fused attention with relative position bias (+ shift mask), proj Linear. */
export class SwinAttention extends Module {
  readonly qkv: InitLinear;
  readonly proj: InitLinear;
  readonly table: Tensor;
  readonly rel: RelPosIndex;
  /** 'fused' (kernels/window_attention) or 'unfused' (matmul + softmax + matmul; comparison only). */
  impl: 'fused' | 'unfused' = 'fused';
  constructor(rt: Runtime, readonly dim: number, readonly heads: number, readonly ws: number, ctx: InitCtx) {
    super(rt);
    this.rel = relPosIndex(rt, ws);
    const n = this.rel.L * heads;
    this.table = this.param('relative_position_bias_table', ctx.mode === 'zeros' ? new Float32Array(n) : normalValues(n, ctx.rng, 0.02, 2), [this.rel.L, heads]);
    this.buffer('relative_position_index', this.rel.index);
    this.qkv = this.child('qkv', swinLinear(rt, dim, 3 * dim, ctx));
    this.proj = this.child('proj', swinLinear(rt, dim, dim, ctx));
  }
  /** windows [Bw, T, C] -> [Bw, T, C]. */
  forward(win: Tensor, mask: Tensor | null): Tensor {
    const qkv = this.qkv.forward(win);
    const f = this.impl === 'fused' ? windowAttention : windowAttentionUnfused;
    return this.proj.forward(f(qkv, this.table, this.rel, { heads: this.heads, mask }));
  }
  override dispose(): void { super.dispose(); this.rel.dispose(); }
}

export class Mlp extends Module {
  readonly fc1: InitLinear;
  readonly fc2: InitLinear;
  constructor(rt: Runtime, dim: number, hidden: number, ctx: InitCtx) {
    super(rt);
    this.fc1 = this.child('fc1', swinLinear(rt, dim, hidden, ctx));
    this.fc2 = this.child('fc2', swinLinear(rt, hidden, dim, ctx));
  }
  forward(x: Tensor): Tensor { return this.fc2.forward(gelu(this.fc1.forward(x))); }
}

/**
 * Per-sample stochastic depth: branch * m_b / keep with m_b ~ Bernoulli(keep) per image (timm's drop_path), from
 * a seeded generator. Identity when p = 0 or not training.
 */
export function dropPath(branch: Tensor, p: number, training: boolean, rng: () => number): Tensor {
  if (!training || p === 0) return branch;
  const B = branch.shape[0], keepP = 1 - p;
  const m = new Float32Array(B);
  for (let b = 0; b < B; b++) m[b] = Math.floor(keepP + rng()) / keepP;
  return mul(branch, tensor(branch.rt, m, [B, ...branch.shape.slice(1).map(() => 1)]));
}

/** Pre-norm Swin block: x + attn(LN1(x)) over (shifted) windows, then x + MLP(LN2(x)); DropPath on both. */
export class SwinBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: SwinAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly mask: Tensor | null;
  constructor(rt: Runtime, readonly st: StagePlan, readonly shift: number, readonly dropP: number, cfg: HtsatConfig, ctx: InitCtx, private dropRng: () => number) {
    super(rt);
    this.norm1 = this.child('norm1', new LayerNorm(rt, st.dim, cfg.eps));
    this.attn = this.child('attn', new SwinAttention(rt, st.dim, st.heads, st.ws, ctx));
    this.norm2 = this.child('norm2', new LayerNorm(rt, st.dim, cfg.eps));
    this.mlp = this.child('mlp', new Mlp(rt, st.dim, Math.round(st.dim * cfg.mlpRatio), ctx));
    this.mask = shift > 0 ? this.buffer('attn_mask', tensor(rt, shiftMaskCPU(st.res, st.ws, shift), [st.nW, st.ws * st.ws, st.ws * st.ws])) : null;
  }
  /** x [B, R*R, C] -> [B, R*R, C]. */
  forward(x: Tensor): Tensor {
    const { res, ws } = this.st;
    const B = x.shape[0];
    const win = windowPartition(this.norm1.forward(x), res, res, ws, this.shift);
    const a = windowMerge(this.attn.forward(win, this.mask), B, res, res, ws, this.shift);
    const x1 = add(x, dropPath(a, this.dropP, this.training, this.dropRng));
    return add(x1, dropPath(this.mlp.forward(this.norm2.forward(x1)), this.dropP, this.training, this.dropRng));
  }
}

/**
 * Patch merging: [B, R, R, C] -> concat(x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]) on channels
 * (one permute of the view [B, R/2, 2, R/2, 2, C] to [B, R/2, R/2, 2(col), 2(row), C]) -> LayerNorm(4C) ->
 * Linear(4C, 2C, no bias).
 */
export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: InitLinear;
  constructor(rt: Runtime, readonly res: number, readonly dim: number, cfg: HtsatConfig, ctx: InitCtx) {
    super(rt);
    this.norm = this.child('norm', new LayerNorm(rt, 4 * dim, cfg.eps));
    this.reduction = this.child('reduction', swinLinear(rt, 4 * dim, 2 * dim, ctx, false));
  }
  forward(x: Tensor): Tensor {
    const B = x.shape[0], R = this.res, C = this.dim;
    const cat = permute(x.reshape([B, R / 2, 2, R / 2, 2, C]), [0, 1, 3, 4, 2, 5]).reshape([B, (R / 2) ** 2, 4 * C]);
    return this.reduction.forward(this.norm.forward(cat));
  }
}

export class BasicLayer extends Module {
  readonly blocks: ModuleList<SwinBlock>;
  readonly downsample: PatchMerging | null;
  constructor(rt: Runtime, readonly st: StagePlan, dpr: number[], cfg: HtsatConfig, ctx: InitCtx, dropRng: () => number) {
    super(rt);
    const blocks = Array.from({ length: st.depth }, (_, b) => new SwinBlock(rt, st, b % 2 === 1 ? st.shift : 0, dpr[b], cfg, ctx, dropRng));
    this.blocks = this.child('blocks', new ModuleList(rt, blocks));
    this.downsample = st.downsample ? this.child('downsample', new PatchMerging(rt, st.res, st.dim, cfg, ctx)) : null;
  }
}

/** Patch embedding: the P x P stride-P convolution (proj.weight [E, 1, P, P], proj.bias) as a matmul, LayerNorm. */
export class PatchEmbed extends Module {
  readonly proj: ParamHolder;
  readonly norm: LayerNorm;
  constructor(rt: Runtime, readonly cfg: HtsatConfig, ctx: InitCtx) {
    super(rt);
    const P = cfg.patchSize, E = cfg.embedDim;
    // Conv2d's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = P*P (HTSAT re-initialises only Linear/LN).
    const init = (n: number) => (ctx.mode === 'zeros' ? new Float32Array(n) : uniformValues(n, ctx.rng, -1 / P, 1 / P));
    this.proj = this.child('proj', new ParamHolder(rt, { weight: { data: init(E * P * P), shape: [E, 1, P, P] }, bias: { data: init(E), shape: [E] } }));
    this.norm = this.child('norm', new LayerNorm(rt, E, cfg.eps));
  }
  /** image [B, S, S] -> patches [B, (S/P)^2, P*P] (a permute) -> conv as a matmul -> LayerNorm. */
  forward(img: Tensor): Tensor {
    const { patchSize: P, imgSize: S, embedDim: E } = this.cfg;
    const B = img.shape[0], R = S / P;
    const patches = permute(img.reshape([B, R, P, R, P]), [0, 1, 3, 2, 4]).reshape([B, R * R, P * P]);
    return this.norm.forward(linear(patches, this.proj.p.weight.reshape([E, P * P]), this.proj.p.bias));
  }
}

export interface HtsatOutput {
  /** Final normalised tokens [B, R*R, C]. */
  tokens: Tensor;
  /** Fine-grained embedding [B, freqRatio * R, C] (32 frames for v1-base), chronological. */
  frames: Tensor;
  /** Global embedding [B, C] (mean over all tokens = mean over the frames). */
  global: Tensor;
  /** With `intermediates`: patch_embed, layers.{s}.blocks.{b}, layers.{s}.downsample and norm outputs by name. */
  intermediates?: Map<string, Tensor>;
}

/**
 * §3.2 unfold: tokens [B, R*R, C] of the final R x R map (row r = chunk * (R / freqRatio) + f) -> frames
 * [B, freqRatio * R, C], frame l = chunk * R + column, averaged over the R / freqRatio frequency rows f of a chunk.
 */
export function unfoldFrames(tokens: Tensor, freqRatio: number, R: number): Tensor {
  const B = tokens.shape[0], C = tokens.shape[tokens.rank - 1];
  if (tokens.size !== B * R * R * C || R % freqRatio !== 0) throw new Error(`unfoldFrames: tokens [${tokens.shape.join(', ')}] are not an ${R}x${R} map splittable into ${freqRatio} chunks`);
  return mean(tokens.reshape([B, freqRatio, R / freqRatio, R, C]), 2).reshape([B, freqRatio * R, C]);
}

/** The HTSAT encoder. `forward(image)` takes the frontend's [B, 1, S, S] image. */
export class Htsat extends Module {
  readonly plan: HtsatPlan;
  readonly patch_embed: PatchEmbed;
  readonly layers: ModuleList<BasicLayer>;
  readonly norm: LayerNorm;
  private dropRng: () => number;

  /**
   * @param cfg a preset name or a config (validated by planHtsat).
   * @param opts seed of the random init; init 'zeros' skips it (for loading a checkpoint); dropPathSeed.
   */
  constructor(rt: Runtime, cfg: HtsatConfig | keyof typeof HTSAT_PRESETS = 'v1-base', opts: { seed?: number; init?: InitMode; dropPathSeed?: number } = {}) {
    super(rt);
    const c = typeof cfg === 'string' ? HTSAT_PRESETS[cfg] : cfg;
    if (!c) throw new Error(`HTSAT: unknown preset ${JSON.stringify(cfg)} (known: ${Object.keys(HTSAT_PRESETS).join(', ')})`);
    this.plan = planHtsat(c);
    const ctx: InitCtx = { rng: initRng(opts.seed ?? 1), mode: opts.init ?? 'random' };
    let dr = initRng(opts.dropPathSeed ?? 1234);
    this.dropRng = () => dr();
    const nBlocks = c.depths.reduce((a, b) => a + b, 0);
    const dpr = Array.from({ length: nBlocks }, (_, i) => (nBlocks === 1 ? 0 : (c.dropPathRate * i) / (nBlocks - 1)));
    this.patch_embed = this.child('patch_embed', new PatchEmbed(rt, c, ctx));
    let off = 0;
    const layers = this.plan.stages.map((st) => {
      const l = new BasicLayer(rt, st, dpr.slice(off, off + st.depth), c, ctx, () => this.dropRng());
      off += st.depth;
      return l;
    });
    this.layers = this.child('layers', new ModuleList(rt, layers));
    this.norm = this.child('norm', new LayerNorm(rt, this.plan.numFeatures, c.eps));
    this.setDropPathSeed = (seed: number) => { dr = initRng(seed); };
  }

  /** Reseed DropPath's generator (training). */
  readonly setDropPathSeed: (seed: number) => void;

  /**
   * Register the frontend's modules (spectrogram_extractor, logmel_extractor, bn0) as children, so that this module
   * mounted as `audio_branch` carries every official audio key and loads a checkpoint strictly. forward() does not
   * call them: it takes the frontend's image.
   */
  attachFrontend(children: Record<string, Module>): void {
    for (const [k, m] of Object.entries(children)) {
      if (k === 'patch_embed' || k === 'layers' || k === 'norm') throw new Error(`HTSAT.attachFrontend: '${k}' is an encoder module name`);
      this.child(k, m);
    }
  }

  /** Choose the attention implementation of every block ('unfused' exists for comparison). */
  setAttention(impl: 'fused' | 'unfused'): void {
    for (const l of this.layers.items) for (const b of l.blocks.items) b.attn.impl = impl;
  }

  forward(image: Tensor, opts: { intermediates?: boolean } = {}): HtsatOutput {
    const S = this.plan.cfg.imgSize;
    image.check('HTSAT');
    const ok = image.dtype === 'f32' && ((image.rank === 4 && image.shape[1] === 1 && image.shape[2] === S && image.shape[3] === S) || (image.rank === 3 && image.shape[1] === S && image.shape[2] === S));
    if (!ok) throw new Error(`HTSAT: input must be an f32 image [B, 1, ${S}, ${S}] (or [B, ${S}, ${S}]), got ${image.dtype} [${image.shape.join(', ')}]`);
    const B = image.shape[0];
    if (B < 1) throw new Error('HTSAT: empty batch');
    const inter = opts.intermediates ? new Map<string, Tensor>() : undefined;
    let x = this.patch_embed.forward(image);
    inter?.set('patch_embed', x);
    this.layers.items.forEach((layer, s) => {
      layer.blocks.items.forEach((blk, b) => {
        x = blk.forward(x);
        inter?.set(`layers.${s}.blocks.${b}`, x);
      });
      if (layer.downsample) {
        x = layer.downsample.forward(x);
        inter?.set(`layers.${s}.downsample`, x);
      }
    });
    const tokens = this.norm.forward(x);
    inter?.set('norm', tokens);
    const frames = unfoldFrames(tokens, this.plan.cfg.freqRatio, this.plan.finalRes);
    const global = mean(tokens, 1);
    return { tokens, frames, global, intermediates: inter };
  }

  /** Number of trainable parameters. */
  numParameters(): number { return this.parameters().reduce((s, p) => s + shapeSize(p.shape), 0); }
}
