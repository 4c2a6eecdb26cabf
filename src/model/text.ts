// RoBERTa-style text encoder (flam-spec.md §4): learned absolute positions with RoBERTa's padding offset (the first
// real token has position 2), one token type, embedding LayerNorm, post-LN transformer layers with a key-padding
// mask, erf-GELU, and the tanh pooler over the <s> token. Names equal HF RobertaModel's keys (the official
// `text_branch.` keys):
//   embeddings.{word_embeddings, position_embeddings, token_type_embeddings}.weight, embeddings.LayerNorm.*,
//   encoder.layer.{n}.attention.self.{query,key,value}.*, .attention.output.{dense, LayerNorm}.*,
//   .intermediate.dense.*, .output.{dense, LayerNorm}.*, pooler.dense.*
// Only real tokens are computed: a batch is padded to its longest sequence (never to 77) and pads are masked out
// as keys (their own rows are computed and ignored). No dropout (training uses none here). A word table larger than
// one storage binding (RoBERTa-base's, 154 MB, on devices that bind at most 128 MiB) is gathered through a copy of
// the rows the batch uses (inference only).
import { Tensor, tensor, empty } from '../tensor/tensor.ts';
import { isGradEnabled } from '../autograd/tape.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { Module, LayerNorm, initRng } from '../nn/module.ts';
import { add, gelu, tanh, permute, matmul, softmax, embedding, narrow } from '../autograd/ops.ts';
import { InitLinear, ModuleList, ParamHolder, normalValues, type InitMode } from './layers.ts';
import type { BpeTokenizer } from '../text/bpe.ts';

export interface TextConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** Rows of the position table; sequences hold at most maxPositions - positionOffset tokens (specials included). */
  maxPositions: number;
  typeVocab: number;
  /** Position of the first real token (RoBERTa: padding_idx 1 + 1 = 2). */
  positionOffset: number;
  /** Token id whose embedding row is zero-initialised (HF's padding_idx of word_embeddings). */
  padTokenId: number;
  eps: number;
  /**
   * Input of the tanh pooler: 'cls' (default; RoBERTa/FLAM: the final hidden state of <s>) or 'mean' (mean of the
   * final hidden states of the real tokens). Small models trained from scratch use 'mean': at init the <s> state is
   * almost the same for every prompt (cosine 0.9998 measured), and the training signal then collapses the text
   * embeddings to one point.
   */
  pooling?: 'cls' | 'mean';
}

/**
 * `roberta-base` is the official text branch (vocab 50265: RoBERTa's own vocab.json, which a user supplies).
 * `tiny` and `small` use the shipped GPT-2 tokenizer's 50261 ids (<s> 50257, <pad> 50258, </s> 50259, <unk> 50260)
 * and room for 77 tokens: tiny ~6.9 M parameters (6.4 M of them the token table), small ~16 M.
 */
export const TEXT_PRESETS: Record<'roberta-base' | 'tiny' | 'small', TextConfig> = {
  'roberta-base': { vocabSize: 50265, hidden: 768, layers: 12, heads: 12, intermediate: 3072, maxPositions: 514, typeVocab: 1, positionOffset: 2, padTokenId: 1, eps: 1e-5 },
  tiny: { vocabSize: 50261, hidden: 128, layers: 2, heads: 2, intermediate: 512, maxPositions: 79, typeVocab: 1, positionOffset: 2, padTokenId: 50258, eps: 1e-5 },
  small: { vocabSize: 50261, hidden: 256, layers: 4, heads: 4, intermediate: 1024, maxPositions: 79, typeVocab: 1, positionOffset: 2, padTokenId: 50258, eps: 1e-5 },
};

/** Throws naming the rule a config breaks. */
export function checkTextConfig(c: TextConfig): void {
  const bad = (rule: string) => { throw new Error(`text encoder config: ${rule}`); };
  for (const k of ['vocabSize', 'hidden', 'layers', 'heads', 'intermediate', 'maxPositions', 'typeVocab'] as const) if (!Number.isInteger(c[k]) || c[k] < 1) bad(`${k} = ${c[k]} must be a positive integer`);
  if (c.hidden % c.heads !== 0) bad(`hidden ${c.hidden} is not divisible by ${c.heads} heads`);
  if (!Number.isInteger(c.positionOffset) || c.positionOffset < 0 || c.maxPositions - c.positionOffset < 2) bad(`maxPositions ${c.maxPositions} minus positionOffset ${c.positionOffset} leaves no room for <s> and </s>`);
}

interface Ctx { rng: () => number; mode: InitMode }

/** BERT init: Linear weight ~ N(0, 0.02), bias 0. */
const bertLinear = (rt: Runtime, i: number, o: number, ctx: Ctx) => new InitLinear(rt, i, o, { init: { kind: 'normal', std: 0.02 }, rng: ctx.rng, mode: ctx.mode });

/** An nn.Embedding's weight (N(0, 0.02), the padding row zeroed). */
function embeddingTable(rt: Runtime, rows: number, dim: number, ctx: Ctx, padRow: number | null): ParamHolder {
  const w = ctx.mode === 'zeros' ? new Float32Array(rows * dim) : normalValues(rows * dim, ctx.rng, 0.02);
  if (padRow !== null && padRow >= 0 && padRow < rows) w.fill(0, padRow * dim, (padRow + 1) * dim);
  return new ParamHolder(rt, { weight: { data: w, shape: [rows, dim] } });
}

class Embeddings extends Module {
  readonly word_embeddings: ParamHolder;
  readonly position_embeddings: ParamHolder;
  readonly token_type_embeddings: ParamHolder;
  readonly LayerNorm: LayerNorm;
  constructor(rt: Runtime, c: TextConfig, ctx: Ctx) {
    super(rt);
    this.word_embeddings = this.child('word_embeddings', embeddingTable(rt, c.vocabSize, c.hidden, ctx, c.padTokenId));
    this.position_embeddings = this.child('position_embeddings', embeddingTable(rt, c.maxPositions, c.hidden, ctx, c.positionOffset - 1));
    this.token_type_embeddings = this.child('token_type_embeddings', embeddingTable(rt, c.typeVocab, c.hidden, ctx, null));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(rt, c.hidden, c.eps));
  }
  /** ids, pos [N, T] i32; idsCpu: the same ids on the CPU (needed when the word table is too large to bind). */
  forward(ids: Tensor, pos: Tensor, idsCpu?: Int32Array): Tensor {
    const W = this.word_embeddings.p.weight;
    const w = W.size * 4 <= this.rt.limits.maxStorageBufferBindingSize ? embedding(W, ids) : this.gatherRows(W, ids, idsCpu);
    const p = embedding(this.position_embeddings.p.weight, pos);
    const t = narrow(this.token_type_embeddings.p.weight, 0, 0, 1); // token_type_ids are all 0
    return this.LayerNorm.forward(add(add(w, p), t));
  }

  /**
   * The word-embedding gather for a table larger than one storage binding (RoBERTa-base's 50265 x 768 f32 table is
   * 154 MB; lavapipe and browsers by default bind at most 128 MiB): the distinct rows the batch uses are copied
   * into a small table (buffer copies, no kernel binds the big table) and gathered from there. Inference only.
   */
  private gatherRows(W: Tensor, ids: Tensor, idsCpu: Int32Array | undefined): Tensor {
    if (!idsCpu || idsCpu.length !== ids.size) throw new Error(`text encoder: the word-embedding table (${W.size * 4} bytes) exceeds the device's maxStorageBufferBindingSize (${this.rt.limits.maxStorageBufferBindingSize}); gathering it in parts needs the token ids on the CPU`);
    if (W.requiresGrad && isGradEnabled()) throw new Error(`text encoder: the word-embedding table (${W.size * 4} bytes) exceeds the device's maxStorageBufferBindingSize (${this.rt.limits.maxStorageBufferBindingSize}); it cannot be trained on this device (freeze it, or run under noGrad for inference)`);
    const [V, C] = W.shape;
    const rows = [...new Set(idsCpu)].sort((a, b) => a - b);
    const local = new Map(rows.map((v, i) => [v, i]));
    for (const v of rows) if (!(v >= 0 && v < V)) throw new Error(`embedding: index ${v} is outside the table's ${V} rows`);
    const sub = empty(this.rt, [rows.length, C], 'f32', 'embedding-rows');
    rows.forEach((v, i) => this.rt.copy(W.storage.buffer, (W.offset + v * C) * 4, sub.storage.buffer, (sub.offset + i * C) * 4, C * 4));
    const idx = tensor(this.rt, Int32Array.from(idsCpu, (v) => local.get(v)!), ids.shape, 'i32');
    const out = embedding(sub, idx);
    sub.dispose(); idx.dispose();
    return out;
  }
}

class SelfAttention extends Module {
  readonly query: InitLinear;
  readonly key: InitLinear;
  readonly value: InitLinear;
  constructor(rt: Runtime, c: TextConfig, ctx: Ctx) {
    super(rt);
    this.query = this.child('query', bertLinear(rt, c.hidden, c.hidden, ctx));
    this.key = this.child('key', bertLinear(rt, c.hidden, c.hidden, ctx));
    this.value = this.child('value', bertLinear(rt, c.hidden, c.hidden, ctx));
  }
}

class DenseLN extends Module {
  readonly dense: InitLinear;
  readonly LayerNorm: LayerNorm;
  constructor(rt: Runtime, inF: number, c: TextConfig, ctx: Ctx) {
    super(rt);
    this.dense = this.child('dense', bertLinear(rt, inF, c.hidden, ctx));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(rt, c.hidden, c.eps));
  }
  /** LayerNorm(dense(x) + residual) (post-LN). */
  forward(x: Tensor, residual: Tensor): Tensor { return this.LayerNorm.forward(add(this.dense.forward(x), residual)); }
}

class Attention extends Module {
  readonly self: SelfAttention;
  readonly output: DenseLN;
  constructor(rt: Runtime, c: TextConfig, ctx: Ctx) {
    super(rt);
    this.self = this.child('self', new SelfAttention(rt, c, ctx));
    this.output = this.child('output', new DenseLN(rt, c.hidden, c, ctx));
  }
}

class Intermediate extends Module {
  readonly dense: InitLinear;
  constructor(rt: Runtime, c: TextConfig, ctx: Ctx) { super(rt); this.dense = this.child('dense', bertLinear(rt, c.hidden, c.intermediate, ctx)); }
}

/** Post-LN layer: x = LN(x + Wo attn(x)); x = LN(x + W2 gelu(W1 x)). */
export class TextLayer extends Module {
  readonly attention: Attention;
  readonly intermediate: Intermediate;
  readonly output: DenseLN;
  constructor(rt: Runtime, readonly c: TextConfig, ctx: Ctx) {
    super(rt);
    this.attention = this.child('attention', new Attention(rt, c, ctx));
    this.intermediate = this.child('intermediate', new Intermediate(rt, c, ctx));
    this.output = this.child('output', new DenseLN(rt, c.intermediate, c, ctx));
  }
  /** x [N, T, C]; keyMask [N, T] additive (0 real, -1e9 pad). */
  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    const [N, T, C] = x.shape;
    const H = this.c.heads, Dh = C / H;
    const sa = this.attention.self;
    const heads = (t: Tensor) => permute(t.reshape([N, T, H, Dh]), [0, 2, 1, 3]); // [N, H, T, Dh]
    const q = heads(sa.query.forward(x)), k = heads(sa.key.forward(x)), v = heads(sa.value.forward(x));
    const s = matmul(q, k, { transB: true, alpha: 1 / Math.sqrt(Dh) }); // [N, H, T, T]
    const p = keyMask ? softmax(s, keyMask, { ma: H * T, mb: N, mc: 1 }) : softmax(s);
    const ctxv = permute(matmul(p, v), [0, 2, 1, 3]).reshape([N, T, C]);
    const a = this.attention.output.forward(ctxv, x);
    return this.output.forward(gelu(this.intermediate.dense.forward(a)), a);
  }
}

class Encoder extends Module {
  readonly layer: ModuleList<TextLayer>;
  constructor(rt: Runtime, c: TextConfig, ctx: Ctx) {
    super(rt);
    this.layer = this.child('layer', new ModuleList(rt, Array.from({ length: c.layers }, () => new TextLayer(rt, c, ctx))));
  }
}

class Pooler extends Module {
  readonly dense: InitLinear;
  constructor(rt: Runtime, c: TextConfig, ctx: Ctx) { super(rt); this.dense = this.child('dense', bertLinear(rt, c.hidden, c.hidden, ctx)); }
}

/** A batch of token ids padded to its longest row. */
export interface TokenBatch {
  /** [N * T] row-major ids (pads past each row's length are ignored). */
  ids: Int32Array;
  /** Real length of each row (specials included), 1..T. */
  lengths: number[];
  /** T (columns of ids). */
  seqLen: number;
}

export interface TextOutput {
  /** tanh(W h_<s> + b) [N, hidden]: the text_branch_output FLAM uses. */
  pooled: Tensor;
  /** Final hidden states [N, T, hidden] (pad rows are meaningless). */
  hidden: Tensor;
  /** With `intermediates`: embeddings and encoder.layer.{n} outputs. */
  intermediates?: Map<string, Tensor>;
}

export class TextEncoder extends Module {
  readonly cfg: TextConfig;
  readonly embeddings: Embeddings;
  readonly encoder: Encoder;
  readonly pooler: Pooler;
  /** Longest sequence the position table allows (specials included). */
  readonly maxTokens: number;
  private warn: (m: string) => void;

  /**
   * @param cfg preset name or config.
   * @param opts seed of the random init (HF BERT init); init 'zeros' skips it; onWarning receives truncation warnings.
   */
  constructor(rt: Runtime, cfg: TextConfig | keyof typeof TEXT_PRESETS = 'roberta-base', opts: { seed?: number; init?: InitMode; onWarning?: (m: string) => void } = {}) {
    super(rt);
    const c = typeof cfg === 'string' ? TEXT_PRESETS[cfg] : cfg;
    if (!c) throw new Error(`text encoder: unknown preset ${JSON.stringify(cfg)} (known: ${Object.keys(TEXT_PRESETS).join(', ')})`);
    checkTextConfig(c);
    this.cfg = c;
    this.maxTokens = c.maxPositions - c.positionOffset;
    this.warn = opts.onWarning ?? ((m) => console.warn(m));
    const ctx: Ctx = { rng: initRng(opts.seed ?? 2), mode: opts.init ?? 'random' };
    this.embeddings = this.child('embeddings', new Embeddings(rt, c, ctx));
    this.encoder = this.child('encoder', new Encoder(rt, c, ctx));
    this.pooler = this.child('pooler', new Pooler(rt, c, ctx));
  }

  /** Tokenize (RoBERTa style, truncated to the position limit with the tokenizer's warning) and encode. */
  encodeTexts(texts: readonly string[], tok: BpeTokenizer, opts: { intermediates?: boolean } = {}): TextOutput {
    if (texts.length === 0) throw new Error('text encoder: empty list of texts');
    const b = tok.encodeBatch(texts, { maxLength: Math.min(tok.maxLength, this.maxTokens) });
    return this.forward({ ids: b.ids, lengths: b.lengths, seqLen: b.seqLen }, opts);
  }

  /**
   * Encode a padded batch. Rows longer than the position limit are truncated to it with a warning (their last
   * kept token is then not </s>: prefer encodeTexts, which truncates before </s>). Ids are checked against the
   * vocabulary before anything runs.
   */
  forward(batch: TokenBatch, opts: { intermediates?: boolean } = {}): TextOutput {
    const { ids, lengths } = batch;
    let T = batch.seqLen;
    const N = lengths.length;
    if (N === 0) throw new Error('text encoder: empty batch');
    if (ids.length !== N * T) throw new Error(`text encoder: ids hold ${ids.length} values, expected ${N} rows x ${T}`);
    for (let r = 0; r < N; r++) if (!Number.isInteger(lengths[r]) || lengths[r] < 1 || lengths[r] > T) throw new Error(`text encoder: row ${r} length ${lengths[r]} must be in 1..${T} (a row holds at least <s>)`);
    const V = this.cfg.vocabSize;
    for (let r = 0; r < N; r++) for (let t = 0; t < lengths[r]; t++) {
      const v = ids[r * T + t];
      if (!(v >= 0 && v < V)) throw new Error(`text encoder: token id ${v} (row ${r}, position ${t}) is outside the vocabulary of ${V}`);
    }
    let src = ids, lens = lengths;
    if (T > this.maxTokens) {
      const cut = lengths.filter((l) => l > this.maxTokens).length;
      if (cut) this.warn(`text encoder: ${cut} sequence(s) longer than the position limit of ${this.maxTokens} tokens were truncated`);
      const T2 = Math.min(this.maxTokens, Math.max(...lengths));
      src = new Int32Array(N * T2);
      for (let r = 0; r < N; r++) src.set(ids.subarray(r * T, r * T + T2), r * T2);
      lens = lengths.map((l) => Math.min(l, T2));
      T = T2;
    }
    const rt = this.rt;
    // pads: token id of row position 0 is a valid id (masked anyway); positions offset + t for real tokens,
    // offset - 1 (the padding row) for pads, as RoBERTa's create_position_ids_from_input_ids.
    const tokIds = new Int32Array(N * T), posIds = new Int32Array(N * T);
    const mask = new Float32Array(N * T);
    let padded = false;
    for (let r = 0; r < N; r++) for (let t = 0; t < T; t++) {
      const real = t < lens[r];
      tokIds[r * T + t] = real ? src[r * T + t] : this.cfg.padTokenId < V ? this.cfg.padTokenId : 0;
      posIds[r * T + t] = real ? this.cfg.positionOffset + t : this.cfg.positionOffset - 1;
      mask[r * T + t] = real ? 0 : -1e9;
      if (!real) padded = true;
    }
    const inter = opts.intermediates ? new Map<string, Tensor>() : undefined;
    let x = this.embeddings.forward(tensor(rt, tokIds, [N, T], 'i32'), tensor(rt, posIds, [N, T], 'i32'), tokIds);
    inter?.set('embeddings', x);
    const keyMask = padded ? tensor(rt, mask, [N, T]) : null;
    this.encoder.layer.items.forEach((l, n) => {
      x = l.forward(x, keyMask);
      inter?.set(`encoder.layer.${n}`, x);
    });
    const C = this.cfg.hidden;
    let first: Tensor;
    if (this.cfg.pooling === 'mean') {
      // [N, 1, T] weights 1/len on real tokens @ [N, T, C] -> mean of the real tokens' states
      const w = new Float32Array(N * T);
      for (let r = 0; r < N; r++) for (let t = 0; t < lens[r]; t++) w[r * T + t] = 1 / lens[r];
      first = matmul(tensor(rt, w, [N, 1, T]), x).reshape([N, C]);
    } else first = narrow(x, 1, 0, 1).reshape([N, C]);
    const pooled = tanh(this.pooler.dense.forward(first));
    return { pooled, hidden: x, intermediates: inter };
  }
}
