// An inference API that mirrors openflam's OpenFLAM class (spec §11), on our engine, browser-safe:
//
//   openflam (Python)                               here (TypeScript)
//   OpenFLAM(model_name="v1-base")                  await OpenFLAM.load(rt, { weights, vocab, merges })
//   get_global_audio_features(x [B, 480000])        await getGlobalAudioFeatures(audio)      -> [B, J]
//   get_local_audio_features(x)                     await getLocalAudioFeatures(audio)       -> [B, 32, J]
//   get_text_features(list[str])                    await getTextFeatures(texts)             -> [N, J]
//   get_logit_scale()                               getLogitScale()                          -> exp(aed_logit_scale)
//   get_text_branch_output(list[str])               await getTextBranchOutput(texts)         -> [N, Ct]
//   get_per_text_logit_scale(u)                     await getPerTextLogitScale(u)            -> [N]  alpha
//   get_per_text_logit_bias(u)                      await getPerTextLogitBias(u)             -> [N]  beta
//   get_local_similarity(x, texts, method, cross)   await getLocalSimilarity(audio, texts, { method, crossProduct })
//
// without openflam's defects: one prompt gives [B, 1, 32] / [1] (never a 0-d squeeze), a similarity call encodes
// its texts once (t, alpha and beta come from one text-encoder pass), and audio is never stretched: each clip is
// zero-padded at the end or cut to exactly 480000 samples at 48 kHz (fitClips). Every getter returns plain host
// arrays ({ data: Float32Array, shape }); for GPU-resident tensors use `.model` (a Flam) directly.
//
// Models: a flam-webgpu model file or training checkpoint (flam train / flam export; the GPT-2 tokenizer files in
// weights/tokenizer and, for GloVe presets, weights/glove), or the official v1-base state_dict as `flam convert`
// writes it (or the .pth itself) with RoBERTa's vocab.json + merges.txt, which the user supplies.
import type { Runtime } from '../gpu/runtime.ts';
import { Tensor, scope, tensor, keep } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/tape.ts';
import { narrow, concat, full } from '../autograd/ops.ts';
import { parseSafetensorsHeader } from '../io/safetensors.ts';
import { CHECKPOINT_FORMAT } from '../train/checkpoint.ts';
import { flamFromFile, type Flam } from '../model/flam.ts';
import { flamFromOfficial, isOfficialLayout, type OfficialCheckReport } from '../model/official.ts';
import { flamgram, type MapMethod } from '../model/flamgram.ts';
import { BpeTokenizer } from '../text/bpe.ts';
import { resample } from '../audio/resample.ts';
import { FRAME_SECONDS, WINDOW_SAMPLES, WINDOW_SAMPLE_RATE } from '../audio/windows.ts';

/** A host array with its shape (row-major). */
export interface NdArray {
  data: Float32Array;
  shape: number[];
}

/**
 * Audio: one clip (a Float32Array), a list of clips, or an f32 Tensor [B, n] (or [n]) on the model's runtime.
 * 48 kHz mono unless `sampleRate` says otherwise (Float32Array input only; a Tensor must already be 48 kHz).
 */
export type AudioInput = Float32Array | readonly Float32Array[] | Tensor;

export interface AudioOptions {
  /** Sample rate of Float32Array clips (default 48000); other rates are resampled to 48 kHz first. */
  sampleRate?: number;
}

export interface OpenFLAMLoadOptions {
  /**
   * The model file's bytes: a flam-webgpu model/checkpoint (.safetensors from flam train or flam export), an
   * official OpenFLAM v1-base state_dict converted by `flam convert` (.safetensors), or the official .pth itself.
   */
  weights: Uint8Array;
  /** vocab.json (plain or gzip): RoBERTa's for the official model, GPT-2's (weights/tokenizer) for ours. */
  vocab?: Uint8Array | string;
  /** merges.txt (plain or gzip), the pair of `vocab`. */
  merges?: Uint8Array | string;
  /** A tokenizer instead of vocab + merges. */
  tokenizer?: BpeTokenizer;
  /** The GloVe table (weights/glove/gpt2-glove100.safetensors) for presets with GloVe-frozen word embeddings. */
  glove?: Uint8Array;
  /** Names the weights in error messages (e.g. the file name). */
  source?: string;
  /** Clips per GPU batch (default 4; memory grows linearly with it). */
  batchSize?: number;
  /** Official checkpoints: what a STFT weight mismatch does (default 'error'; see checkOfficialState). */
  stft?: 'error' | 'warn';
  /** Receives warnings (cut clips, truncated texts, checkpoint findings). Default console.warn. */
  onWarning?: (message: string) => void;
}

export interface LocalSimilarityOptions extends AudioOptions {
  /** 'unbiased' (default; spec §6.1: sigma(h) / (sigma(h) + sigma(beta))) or 'approximate' (§6.2: sigma(s alpha cos)). */
  method?: MapMethod;
  /**
   * true: every clip against every text -> [B, N, 32]. false (openflam's default): clip i with text i -> [B, 32],
   * which needs B == N.
   */
  crossProduct?: boolean;
  /** 3-tap temporal median as in the official example (scipy median_filter size (1, 3)); default false. */
  median?: boolean;
}

/** Everything one text-encoder pass gives. */
export interface TextOutputs {
  /** Unit text embeddings t [N, J]. */
  features: NdArray;
  /** The text branch's pooled output u [N, Ct] (RoBERTa's pooler_output for v1-base). */
  branchOutput: NdArray;
  /** alpha = exp(MLP(u)) [N] (without the global factor exp(aed_logit_scale)). */
  logitScale: NdArray;
  /** beta = MLP(u) [N]. */
  logitBias: NdArray;
}

const read = async (t: Tensor, shape: number[]): Promise<NdArray> => ({ data: (await t.data()) as Float32Array, shape });

/**
 * The clip rule: each clip becomes exactly 480000 samples at 48 kHz. Clips at another `sampleRate` are resampled;
 * shorter clips are zero-padded at the end; longer ones keep their first 480000 samples (10 s; `onCut` is told
 * which). Never stretched. Empty clips and NaN/Inf samples are errors. Tensors [B, n] (or [n]) are padded or cut
 * on the GPU (their samples are not checked for NaN): the input itself comes back when it is already [B, 480000],
 * otherwise a new tensor that the caller disposes.
 */
export function fitClips(audio: AudioInput, o: AudioOptions & { onCut?: (message: string) => void } = {}): Float32Array[] | Tensor {
  return fitOwned(audio, o).clips;
}

/** fitClips, telling whether the result is a new tensor (which the caller disposes) or the input itself. */
function fitOwned(audio: AudioInput, o: AudioOptions & { onCut?: (message: string) => void }): { clips: Float32Array[] | Tensor; owned: boolean } {
  const W = WINDOW_SAMPLES, sr = o.sampleRate ?? WINDOW_SAMPLE_RATE;
  if (!(sr > 0) || !Number.isFinite(sr)) throw new Error(`audio: sample rate ${sr} must be a positive number`);
  if (audio instanceof Tensor) {
    audio.check('audio');
    if (sr !== WINDOW_SAMPLE_RATE) throw new Error(`audio: a Tensor must already be at ${WINDOW_SAMPLE_RATE} Hz (got sampleRate ${sr}); resample Float32Array clips instead`);
    if (audio.dtype !== 'f32' || (audio.rank !== 1 && audio.rank !== 2)) throw new Error(`audio: a Tensor must be f32 [B, samples] or [samples], got ${audio.dtype} [${audio.shape.join(', ')}]`);
    const x = audio.rank === 1 ? audio.reshape([1, audio.shape[0]]) : audio;
    const [B, n] = x.shape;
    const view = x !== audio;
    const done = (r: Tensor) => { if (view && r !== x) x.dispose(); return { clips: r, owned: r !== audio }; };
    if (B === 0 || n === 0) { if (view) x.dispose(); throw new Error(`audio: Tensor [${audio.shape.join(', ')}] holds no samples`); }
    if (n === W) return done(x);
    if (n > W) { o.onCut?.(`audio: clips of ${n} samples (${(n / WINDOW_SAMPLE_RATE).toFixed(2)} s) were cut to their first ${W} samples (10 s); cut long audio into windows (cutWindows) to score all of it`); return done(noGrad(() => narrow(x, 1, 0, W))); }
    return done(noGrad(() => scope(() => concat([x, full(x.rt, [B, W - n], 0)], 1))));
  }
  const clips: readonly Float32Array[] = audio instanceof Float32Array ? [audio] : audio;
  if (!Array.isArray(clips) || clips.length === 0) throw new Error('audio: no clips given (pass a Float32Array, a non-empty array of them, or a Tensor [B, samples])');
  const cut: string[] = [];
  const out = clips.map((c, b) => {
    if (!(c instanceof Float32Array)) throw new Error(`audio: clip ${b} is ${c === null ? 'null' : typeof c === 'object' ? c.constructor?.name : typeof c}, expected a Float32Array`);
    if (c.length === 0) throw new Error(`audio: clip ${b} is empty (0 samples)`);
    for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) throw new Error(`audio: clip ${b} holds ${c[i]} at sample ${i}; samples must be finite`);
    const x = sr === WINDOW_SAMPLE_RATE ? c : resample(c, sr, WINDOW_SAMPLE_RATE);
    if (x.length === W) return x;
    if (x.length > W) { cut.push(`clip ${b} (${(x.length / WINDOW_SAMPLE_RATE).toFixed(2)} s)`); return x.slice(0, W); }
    const p = new Float32Array(W);
    p.set(x);
    return p;
  });
  if (cut.length) o.onCut?.(`audio: ${cut.join(', ')} cut to the first 10 s (${W} samples at 48 kHz); cut long audio into windows (cutWindows) to score all of it`);
  return { clips: out, owned: false };
}

function checkTexts(texts: string | readonly string[]): string[] {
  const list = typeof texts === 'string' ? [texts] : texts;
  if (!Array.isArray(list) || list.length === 0) throw new Error('texts: no text given (pass a string or a non-empty array of strings)');
  list.forEach((t, i) => { if (typeof t !== 'string') throw new Error(`texts: entry ${i} is ${t === null ? 'null' : typeof t}, expected a string`); });
  return list.slice();
}

/** The openflam-style model. Create with {@link OpenFLAM.load}; dispose() frees its GPU memory. */
export class OpenFLAM {
  /** Sample rate the model takes. */
  static readonly SAMPLE_RATE = WINDOW_SAMPLE_RATE;
  /** Samples per clip (10 s). */
  static readonly CLIP_SAMPLES = WINDOW_SAMPLES;
  /** Seconds per frame of the local features and maps (10 s / 32). */
  static readonly FRAME_SECONDS = FRAME_SECONDS;

  private readonly warn: (m: string) => void;
  private readonly batch: number;

  private constructor(
    /** The underlying model (GPU tensors; eval mode). */
    readonly model: Flam,
    readonly tokenizer: BpeTokenizer,
    /** 'official' (an OpenFLAM state_dict) or 'flam-webgpu' (our model file). */
    readonly kind: 'official' | 'flam-webgpu',
    private readonly aedScale: number,
    private readonly clipScale: number,
    o: { batchSize?: number; onWarning?: (m: string) => void },
    /** Checks of an official checkpoint (null for our model files). */
    readonly report: OfficialCheckReport | null,
  ) {
    this.warn = o.onWarning ?? ((m) => console.warn(m));
    this.batch = o.batchSize ?? 4;
  }

  /**
   * Load a model (see {@link OpenFLAMLoadOptions.weights} for the accepted files). The official model needs RoBERTa's
   * vocab.json + merges.txt; our models need the GPT-2 files of weights/tokenizer (and weights/glove for GloVe
   * presets). Errors name the file and what is missing.
   */
  static async load(rt: Runtime, o: OpenFLAMLoadOptions): Promise<OpenFLAM> {
    const source = o.source ?? 'weights';
    const b = o.weights;
    if (!(b instanceof Uint8Array)) throw new Error(`${source}: weights must be the file's bytes (a Uint8Array), got ${b === null ? 'null' : typeof b}`);
    if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new Error(`batchSize ${o.batchSize} must be a positive integer`);
    const tokSrc = o.tokenizer ?? (o.vocab !== undefined || o.merges !== undefined ? { vocab: o.vocab, merges: o.merges } : undefined);
    const zip = b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
    let official = zip;
    let format: string | undefined;
    if (!zip) {
      let names: string[];
      try {
        const h = parseSafetensorsHeader(b, source);
        names = h.entries.map((e) => e.name);
        format = h.metadata.format;
      } catch (e) {
        throw new Error(`${source}: not a model file (expected a flam-webgpu model .safetensors, an OpenFLAM state_dict converted by flam convert, or the official .pth): ${(e as Error).message}`);
      }
      if (format !== CHECKPOINT_FORMAT) {
        if (!isOfficialLayout(names)) throw new Error(`${source}: neither a flam-webgpu model file (format ${JSON.stringify(format ?? null)}, expected ${CHECKPOINT_FORMAT}) nor an OpenFLAM state_dict (no audio_branch.* / text_branch.* tensors)`);
        official = true;
      }
    }
    if (official) {
      const r = await flamFromOfficial(rt, b, tokSrc, { source, stft: o.stft, onWarning: o.onWarning });
      return new OpenFLAM(r.model, r.tokenizer, 'official', r.logitScale, r.clipLogitScale, o, r.report);
    }
    const model = await flamFromFile(rt, b, source, o.glove);
    try {
      const c = model.cfg.text;
      let tok: BpeTokenizer;
      if (tokSrc instanceof BpeTokenizer) tok = tokSrc;
      else {
        if (!tokSrc || tokSrc.vocab === undefined || tokSrc.merges === undefined) {
          throw new Error(`${source}: the '${model.cfg.name}' model needs its tokenizer: pass vocab and merges (the GPT-2 byte-level BPE files shipped as weights/tokenizer/vocab.json.gz and merges.txt.gz)`);
        }
        tok = await BpeTokenizer.load(tokSrc.vocab, tokSrc.merges, { source: 'tokenizer' });
      }
      if (tok.vocabSize !== c.vocabSize || tok.padId !== c.padTokenId) {
        throw new Error(`${source}: the tokenizer does not fit the '${model.cfg.name}' model: it has ${tok.vocabSize} ids with <pad> = ${tok.padId}, the model's table has ${c.vocabSize} rows with <pad> = ${c.padTokenId} (use the GPT-2 files of weights/tokenizer)`);
      }
      const [aed, lsa] = await Promise.all([model.heads.aedLogitScale.data(), model.heads.logitScaleA.data()]);
      model.eval();
      return new OpenFLAM(model, tok, 'flam-webgpu', Math.exp(aed[0]), Math.exp(lsa[0]), o, null);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Joint embedding width J (512 for v1-base). */
  get jointDim(): number { return this.model.cfg.jointDim; }
  /** Width Ct of the text branch output (768 for v1-base). */
  get textBranchDim(): number { return this.model.cfg.text.hidden; }
  /** Frames per clip L (32). */
  get frames(): number { return this.model.audio_branch.plan.frames; }

  /** exp(aed_logit_scale): the global frame-logit scale multiplying alpha in the maps (openflam's get_logit_scale; 1 for v1-base). */
  getLogitScale(): number { return this.aedScale; }

  /** exp(logit_scale_a): the CLIP temperature for global audio-text similarities (tau ~ 14.3 at init). */
  getClipLogitScale(): number { return this.clipScale; }

  /** Both audio embeddings in one encoder pass: global [B, J] and local [B, L, J], unit vectors. */
  async getAudioFeatures(audio: AudioInput, o: AudioOptions = {}): Promise<{ global: NdArray; local: NdArray }> {
    const { clips, owned } = fitOwned(audio, { ...o, onCut: this.warn });
    const B = clips instanceof Tensor ? clips.shape[0] : clips.length;
    const J = this.jointDim, L = this.frames;
    const g = new Float32Array(B * J), l = new Float32Array(B * L * J);
    try {
      for (let b0 = 0; b0 < B; b0 += this.batch) {
        const n = Math.min(this.batch, B - b0);
        const e = noGrad(() => scope(() => {
          const part = clips instanceof Tensor ? narrow(clips, 0, b0, n) : clips.slice(b0, b0 + n);
          const a = this.embedAudio(part);
          return { local: keep(a.local), global: keep(a.global) };
        }));
        try {
          const [lv, gv] = await Promise.all([e.local.data(), e.global.data()]);
          l.set(lv as Float32Array, b0 * L * J); g.set(gv as Float32Array, b0 * J);
        } finally { e.local.dispose(); e.global.dispose(); }
      }
    } finally { if (owned) (clips as Tensor).dispose(); }
    return { global: { data: g, shape: [B, J] }, local: { data: l, shape: [B, L, J] } };
  }

  /** Frontend (waves -> image, bn0 eval statistics) and encoder of fitted clips (records GPU work; no gradients). */
  private embedAudio(waves: Float32Array[] | Tensor): { local: Tensor; global: Tensor } {
    const image = this.model.frontend.run(waves, { output: 'image', bn: this.model.bn0.stats! }).image!;
    return this.model.audioEmbeddings(image);
  }

  /** Unit global audio embeddings [B, J] of clips (see fitClips for the 480000-sample rule). */
  async getGlobalAudioFeatures(audio: AudioInput, o: AudioOptions = {}): Promise<NdArray> { return (await this.getAudioFeatures(audio, o)).global; }

  /** Unit local (frame) audio embeddings [B, L = 32, J]; frame l covers [0.3125 l, 0.3125 (l + 1)) s. */
  async getLocalAudioFeatures(audio: AudioInput, o: AudioOptions = {}): Promise<NdArray> { return (await this.getAudioFeatures(audio, o)).local; }

  /** GPU text outputs of one encoder pass (kept: the caller disposes them). */
  private encode(texts: readonly string[]): { t: Tensor; u: Tensor; alpha: Tensor; beta: Tensor } {
    return noGrad(() => scope(() => {
      const e = this.model.textEmbeddings(texts, this.tokenizer);
      return { t: keep(e.t), u: keep(e.u), alpha: keep(e.alpha), beta: keep(e.beta) };
    }));
  }

  /** Features, branch output, alpha and beta of texts from ONE text-encoder pass. */
  async getTextOutputs(texts: string | readonly string[]): Promise<TextOutputs> {
    const list = checkTexts(texts);
    const N = list.length, J = this.jointDim, C = this.textBranchDim;
    const e = this.encode(list);
    try {
      const [features, branchOutput, logitScale, logitBias] = await Promise.all([read(e.t, [N, J]), read(e.u, [N, C]), read(e.alpha, [N]), read(e.beta, [N])]);
      return { features, branchOutput, logitScale, logitBias };
    } finally { for (const t of Object.values(e)) t.dispose(); }
  }

  /** Unit text embeddings [N, J]; a single string gives [1, J]. */
  async getTextFeatures(texts: string | readonly string[]): Promise<NdArray> { return (await this.getTextOutputs(texts)).features; }

  /** The text branch's pooled output u [N, Ct] (input of the per-text heads). */
  async getTextBranchOutput(texts: string | readonly string[]): Promise<NdArray> { return (await this.getTextOutputs(texts)).branchOutput; }

  private async head(u: NdArray | Float32Array, which: 'alpha' | 'beta'): Promise<NdArray> {
    const C = this.textBranchDim;
    const data = u instanceof Float32Array ? u : u?.data;
    if (!(data instanceof Float32Array)) throw new Error(`${which}: u must be a Float32Array or { data: Float32Array, shape: [N, ${C}] } (getTextBranchOutput's result)`);
    if (!(u instanceof Float32Array) && (u.shape.length !== 2 || u.shape[1] !== C || u.shape[0] * C !== data.length)) throw new Error(`${which}: u has shape [${u.shape.join(', ')}] and ${data.length} values, expected [N, ${C}]`);
    if (data.length === 0 || data.length % C !== 0) throw new Error(`${which}: u holds ${data.length} values, not a positive multiple of ${C} (rows of the text branch output)`);
    const N = data.length / C;
    const out = noGrad(() => scope(() => {
      const ut = tensor(this.model.rt, data, [N, C]);
      return keep(which === 'alpha' ? this.model.heads.alpha(ut) : this.model.heads.beta(ut));
    }));
    try { return await read(out, [N]); } finally { out.dispose(); }
  }

  /** alpha = exp(MLP(u)) [N] from the text branch output u [N, Ct] (the maps use alpha * getLogitScale()). */
  getPerTextLogitScale(u: NdArray | Float32Array): Promise<NdArray> { return this.head(u, 'alpha'); }

  /** beta = MLP(u) [N] from the text branch output u [N, Ct]. */
  getPerTextLogitBias(u: NdArray | Float32Array): Promise<NdArray> { return this.head(u, 'beta'); }

  /**
   * Frame-wise audio-text similarity in (0, 1) (the "flamgram"): h = exp(aed) alpha_k <a_l, t_k> + beta_k,
   * unbiased s = sigma(h) / (sigma(h) + sigma(beta_k)), approximate s = sigma(exp(aed) alpha_k <a_l, t_k>).
   * crossProduct: [B, N, L]; otherwise clip i with text i: [B, L] (B == N). The texts are encoded once.
   */
  async getLocalSimilarity(audio: AudioInput, texts: string | readonly string[], o: LocalSimilarityOptions = {}): Promise<NdArray> {
    const list = checkTexts(texts);
    const method = o.method ?? 'unbiased';
    if (method !== 'unbiased' && method !== 'approximate') throw new Error(`getLocalSimilarity: method ${JSON.stringify(method)} must be 'unbiased' or 'approximate'`);
    const cross = o.crossProduct ?? false;
    const N = list.length, L = this.frames;
    const { clips, owned } = fitOwned(audio, { sampleRate: o.sampleRate, onCut: this.warn });
    const B = clips instanceof Tensor ? clips.shape[0] : clips.length;
    if (!cross && B !== N) {
      if (owned) (clips as Tensor).dispose();
      throw new Error(`getLocalSimilarity: without crossProduct clip i is paired with text i, so the counts must match (got ${B} clips and ${N} texts); pass crossProduct: true to score every clip against every text`);
    }
    const out = new Float32Array(cross ? B * N * L : B * L);
    let e: ReturnType<OpenFLAM['encode']>, scale: Tensor;
    try {
      e = this.encode(list);
      scale = noGrad(() => scope(() => keep(this.model.heads.frameScale(e.alpha))));
    } catch (err) { if (owned) (clips as Tensor).dispose(); throw err; }
    try {
      for (let b0 = 0; b0 < B; b0 += this.batch) {
        const n = Math.min(this.batch, B - b0);
        const map = noGrad(() => scope(() => {
          const part = clips instanceof Tensor ? narrow(clips, 0, b0, n) : clips.slice(b0, b0 + n);
          const a = this.embedAudio(part);
          const pick = (x: Tensor) => (cross ? x : narrow(x, 0, b0, n));
          return keep(flamgram(a.local, pick(e.t), pick(scale), pick(e.beta), { method, cross, median: !!o.median }));
        }));
        try { out.set((await map.data()) as Float32Array, b0 * (cross ? N * L : L)); } finally { map.dispose(); }
      }
    } finally {
      for (const t of Object.values(e)) t.dispose();
      scale.dispose();
      if (owned) (clips as Tensor).dispose();
    }
    return { data: out, shape: cross ? [B, N, L] : [B, L] };
  }

  /** Free the model's GPU memory. */
  dispose(): void { this.model.dispose(); }
}
