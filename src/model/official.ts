// Loading the official OpenFLAM v1-base checkpoint (spec §12) into our Flam: the state_dict `flam convert` writes as
// safetensors (or the .pth itself, read by src/io/pth.ts), with RoBERTa's tokenizer files that the user supplies.
//
// Key mapping (every name is the official one; 496 of the 500 entries are our modules' own state_dict keys):
//   audio_branch.spectrogram_extractor.stft.conv_{real,imag}.weight  frozen STFT as a DFT convolution; our frontend
//       uses an FFT, so these are checked against w[n] cos(2 pi k n / 1024) and -w[n] sin(...) (periodic Hann) and
//       not loaded (a mismatch is an error, or a warning with stft: 'warn')
//   audio_branch.logmel_extractor.melW [513, 64]   the frontend's filterbank (used as it is)
//   audio_branch.bn0.{weight, bias, running_mean, running_var}   the frontend's BatchNorm (eval statistics);
//       bn0.num_batches_tracked is checked (an integer scalar) and ignored
//   audio_branch.**.relative_position_index, audio_branch.**.attn_mask   buffers our modules compute; checked equal
//       (an error names the key), not loaded
//   audio_branch.* (HTSAT), text_branch.* (RoBERTa-base), audio_projection.*, text_projection.*,
//   fc_per_text_logit_{scale,bias}.*, logit_scale_a, aed_logit_scale   loaded as they are; aed_logit_scale is the
//       global frame-logit scale: h = exp(aed) * alpha * <a, t> + beta (FlamHeads.frameScale)
// Strict: missing, unexpected (except RoBERTa's old position_ids/token_type_ids buffers), mis-shaped or wrongly typed
// entries stop the load with a report naming them (checkpoint_keys.ts); so do NaN/Inf weights and a non-positive
// running variance. Everything is checked before the model is built. Browser-safe.
import type { Runtime } from '../gpu/runtime.ts';
import { decodeSafetensors, type TypedArray } from '../io/safetensors.ts';
import { loadPth } from '../io/pth.ts';
import { V1_BASE_KEYS, validateStateDict, formatStateDictReport, type StateDictReport } from './checkpoint_keys.ts';
import { Flam, FLAM_PRESETS } from './flam.ts';
import { HTSAT_PRESETS, planHtsat, shiftMaskCPU } from './htsat.ts';
import { relativePositionIndexCPU } from '../ops/window_attention.ts';
import { hannPeriodic, slaneyMelFilterbank, FLAM_FRONTEND } from '../audio/mel_ref.ts';
import { BpeTokenizer } from '../text/bpe.ts';

/** One entry of an official state_dict: a safetensors tensor or a .pth tensor. */
export interface OfficialTensor {
  /** A safetensors (F32, I64, ...) or torch (float32, int64, ...) dtype name. */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Row-major values (floats decoded to Float32Array or Float64Array; int64 as BigInt64Array). */
  readonly data: TypedArray;
}

export type OfficialStateDict = ReadonlyMap<string, OfficialTensor>;

/** RoBERTa's tokenizer: the files (vocab.json and merges.txt, plain or gzip) or a tokenizer built from them. */
export type RobertaTokenizerSource = BpeTokenizer | { vocab?: Uint8Array | string; merges?: Uint8Array | string } | undefined;

export const ROBERTA_FILES_HELP = 'pass the vocab.json and merges.txt of roberta-base (https://huggingface.co/roberta-base/tree/main: '
  + 'the official model uses RoBERTa\'s own byte-level BPE; these files are not shipped with flam-webgpu)';

const STFT_KEYS = ['audio_branch.spectrogram_extractor.stft.conv_real.weight', 'audio_branch.spectrogram_extractor.stft.conv_imag.weight'] as const;
const MEL_KEY = 'audio_branch.logmel_extractor.melW';
const BN = 'audio_branch.bn0.';
/** Largest |conv weight - periodic-Hann DFT| accepted (f32 storage rounds by <= 6e-8; a symmetric Hann differs by ~3e-3). */
export const STFT_TOLERANCE = 1e-5;

/**
 * Read an official state_dict from file bytes: safetensors (what `flam convert` writes) or a torch.save zip (.pth,
 * read without executing anything). Tensors are views into `bytes` where possible.
 */
export function readOfficialStateDict(bytes: Uint8Array, source = 'OpenFLAM checkpoint'): Map<string, OfficialTensor> {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return new Map([...loadPth(bytes, { source }).tensors].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: t.data }]));
  }
  const a = decodeSafetensors(bytes, source);
  const out = new Map<string, OfficialTensor>();
  for (const name of a.names) { const t = a.get(name); out.set(name, { dtype: t.dtype, shape: t.shape, data: t.data() }); }
  return out;
}

/** True when the keys look like an OpenFLAM state_dict (audio_branch.* / text_branch.*, possibly wrapped: module.audio_branch...). */
export function isOfficialLayout(keys: Iterable<string>): boolean {
  for (const k of keys) if (/(^|\.)(audio_branch|text_branch)\./.test(k)) return true;
  return false;
}

const isFloatArray = (d: TypedArray): d is Float32Array | Float64Array => d instanceof Float32Array || d instanceof Float64Array;

/** float32 values of an entry (a view when already float32). */
function floatValues(sd: OfficialStateDict, key: string, source: string): Float32Array {
  const t = sd.get(key);
  if (!t) throw new Error(`${source}: missing "${key}"`);
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new Error(`${source}: "${key}" holds ${t.dtype} values, expected floating point`);
}

function numbers(t: OfficialTensor): ArrayLike<number> {
  const d = t.data;
  return d instanceof BigInt64Array || d instanceof BigUint64Array ? Array.from(d, Number) : (d as ArrayLike<number>);
}

export interface OfficialCheckReport {
  layout: StateDictReport;
  /** Max |conv weight - periodic-Hann DFT| over both STFT convolutions. */
  stftMaxAbsDiff: number;
  /** Max |melW - float64 Slaney filterbank| (information only: the checkpoint's melW is used as it is). */
  melMaxAbsDiffFromSlaney: number;
  /** aed_logit_scale and logit_scale_a as stored. */
  aedLogitScale: number;
  logitScaleA: number;
  warnings: string[];
}

export interface OfficialCheckOptions {
  /** Names the checkpoint in messages. */
  source?: string;
  /** What a STFT weight mismatch does: 'error' (default) or 'warn' (the FFT frontend is used regardless). */
  stft?: 'error' | 'warn';
}

/**
 * Every check of an official state_dict, without building a model: layout (keys, shapes, dtypes), finite weights,
 * STFT conv weights vs the periodic-Hann DFT, relative_position_index and attn_mask vs what the model computes,
 * bn0 running_var > -eps. Throws an Error naming the checkpoint and the key.
 */
export function checkOfficialState(sd: OfficialStateDict, o: OfficialCheckOptions = {}): OfficialCheckReport {
  const source = o.source ?? 'OpenFLAM checkpoint';
  const layout = validateStateDict(sd);
  if (!layout.ok) {
    let text = formatStateDictReport(layout, { source });
    if ([...sd.keys()].some((k) => k.startsWith('model/'))) text += '\n  hint: the keys start with "model/": this is a flam-webgpu model file or training checkpoint; load it with flamFromFile (or OpenFLAM.load)';
    throw new Error(text);
  }
  const warnings: string[] = [];
  const spec = new Map(V1_BASE_KEYS.map((k) => [k.key, k]));
  for (const [key, t] of sd) {
    if (!spec.has(key) || spec.get(key)!.dtype !== 'float') continue;
    if (!isFloatArray(t.data)) throw new Error(`${source}: "${key}" holds ${t.dtype} values, expected floating point`);
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) throw new Error(`${source}: "${key}" holds a non-finite value (${d[i]} at element ${i}); the checkpoint is corrupted`);
    }
  }

  // STFT: conv_real[k, 0, n] = w[n] cos(2 pi k n / N), conv_imag[k, 0, n] = -w[n] sin(2 pi k n / N).
  const N = FLAM_FRONTEND.nFft, F = FLAM_FRONTEND.bins;
  const w = hannPeriodic(N);
  const cos = new Float64Array(N), sin = new Float64Array(N);
  for (let j = 0; j < N; j++) { cos[j] = Math.cos((2 * Math.PI * j) / N); sin[j] = Math.sin((2 * Math.PI * j) / N); }
  let stftMax = 0;
  for (const key of STFT_KEYS) {
    const d = sd.get(key)!.data as Float32Array | Float64Array;
    const imag = key.includes('conv_imag');
    let worst = 0, at = [0, 0];
    for (let k = 0; k < F; k++) for (let n = 0; n < N; n++) {
      const j = (k * n) % N;
      const want = imag ? -w[n] * sin[j] : w[n] * cos[j];
      const e = Math.abs(d[k * N + n] - want);
      if (e > worst) { worst = e; at = [k, n]; }
    }
    stftMax = Math.max(stftMax, worst);
    if (worst > STFT_TOLERANCE) {
      const msg = `${source}: "${key}" is not the periodic-Hann DFT that this engine computes with an FFT (max abs difference ${worst.toExponential(3)} at [${at[0]}, 0, ${at[1]}], tolerance ${STFT_TOLERANCE}; expected ${imag ? '-' : ''}w[n]·${imag ? 'sin' : 'cos'}(2πkn/1024) with w[n] = 0.5 - 0.5·cos(2πn/1024)): the spectrogram would differ from the checkpoint's`;
      if ((o.stft ?? 'error') === 'error') throw new Error(`${msg} (pass stft: 'warn' to load it anyway)`);
      warnings.push(msg);
    }
  }

  // Buffers the model computes itself.
  const rel = relativePositionIndexCPU(8, 8);
  const plan = planHtsat(HTSAT_PRESETS['v1-base']);
  for (const [key, t] of sd) {
    if (key.endsWith('relative_position_index')) {
      const d = numbers(t);
      for (let i = 0; i < rel.length; i++) {
        if (d[i] !== rel[i]) throw new Error(`${source}: "${key}" differs from the relative position index of an 8x8 window at [${Math.floor(i / 64)}, ${i % 64}] (file ${d[i]}, expected ${rel[i]}: (h_i - h_j + 7) * 15 + (w_i - w_j + 7))`);
      }
    } else if (key.endsWith('.attn_mask')) {
      const m = /^audio_branch\.layers\.(\d+)\.blocks\.\d+\.attn_mask$/.exec(key)!;
      const st = plan.stages[Number(m[1])];
      const want = shiftMaskCPU(st.res, st.ws, st.shift);
      const d = t.data as Float32Array | Float64Array;
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(d[i] - want[i]) <= 1e-6)) {
          const T = st.ws * st.ws;
          throw new Error(`${source}: "${key}" differs from the shifted-window mask of a ${st.res}x${st.res} map (window ${st.ws}, shift ${st.shift}) at [${Math.floor(i / (T * T))}, ${Math.floor(i / T) % T}, ${i % T}] (file ${d[i]}, expected ${want[i]})`);
        }
      }
    }
  }
  const v = sd.get(`${BN}running_var`)!.data as Float32Array | Float64Array;
  for (let m = 0; m < v.length; m++) if (!(v[m] + FLAM_FRONTEND.bnEps > 0)) throw new Error(`${source}: "${BN}running_var"[${m}] = ${v[m]}: the variance plus eps must be positive`);

  const mel = sd.get(MEL_KEY)!.data as Float32Array | Float64Array;
  const ref = slaneyMelFilterbank();
  let melMax = 0;
  for (let i = 0; i < ref.length; i++) melMax = Math.max(melMax, Math.abs(mel[i] - ref[i]));
  const scalar = (k: string) => Number((sd.get(k)!.data as Float32Array)[0]);
  return { layout, stftMaxAbsDiff: stftMax, melMaxAbsDiffFromSlaney: melMax, aedLogitScale: scalar('aed_logit_scale'), logitScaleA: scalar('logit_scale_a'), warnings };
}

/**
 * RoBERTa's tokenizer from the user's files, checked: the specials must have RoBERTa's ids (<s> 0, <pad> 1, </s> 2,
 * <unk> 3) and every id must fit the 50265-row embedding table. Errors say which files to supply.
 */
export async function robertaTokenizer(src: RobertaTokenizerSource, source = 'OpenFLAM checkpoint'): Promise<BpeTokenizer> {
  let tok: BpeTokenizer;
  if (src instanceof BpeTokenizer) tok = src;
  else {
    if (!src || src.vocab === undefined || src.merges === undefined) {
      const which = !src || (src.vocab === undefined && src.merges === undefined) ? 'no tokenizer files were given' : `${src.vocab === undefined ? 'vocab.json' : 'merges.txt'} is missing`;
      throw new Error(`${source}: the official OpenFLAM v1-base model needs RoBERTa's tokenizer, but ${which}: ${ROBERTA_FILES_HELP}`);
    }
    tok = await BpeTokenizer.load(src.vocab, src.merges, { source: 'RoBERTa tokenizer' });
  }
  const ids = { '<s>': tok.bosId, '<pad>': tok.padId, '</s>': tok.eosId, '<unk>': tok.unkId };
  if (tok.bosId !== 0 || tok.padId !== 1 || tok.eosId !== 2 || tok.unkId !== 3) {
    throw new Error(`${source}: the tokenizer is not RoBERTa's: its specials are ${Object.entries(ids).map(([k, v]) => `${k}=${v}`).join(', ')}, RoBERTa's are <s>=0, <pad>=1, </s>=2, <unk>=3 (the GPT-2 files in weights/tokenizer belong to the small models); ${ROBERTA_FILES_HELP}`);
  }
  const V = FLAM_PRESETS['v1-base'].text.vocabSize;
  if (tok.vocabSize > V) throw new Error(`${source}: the tokenizer has ${tok.vocabSize} ids but the model's embedding table has ${V} rows; ${ROBERTA_FILES_HELP}`);
  return tok;
}

export interface OfficialFlam {
  /** The v1-base model (eval mode), the checkpoint's melW as its frontend filterbank, bn0 statistics loaded. */
  model: Flam;
  tokenizer: BpeTokenizer;
  /** exp(aed_logit_scale): the global frame-logit scale multiplying alpha (1 in the released checkpoint). */
  logitScale: number;
  /** exp(logit_scale_a): the CLIP temperature of the global similarity. */
  clipLogitScale: number;
  report: OfficialCheckReport;
}

export interface OfficialLoadOptions extends OfficialCheckOptions {
  /** Receives non-fatal findings (default console.warn). */
  onWarning?: (message: string) => void;
}

/**
 * A v1-base Flam from an official state_dict: `weights` is the safetensors `flam convert` wrote (or the .pth bytes,
 * or an already-read state_dict); `tokenizer` is RoBERTa's vocab.json + merges.txt (or a BpeTokenizer of them).
 * Order: the layout is recognised, the tokenizer checked, every entry checked (checkOfficialState), then the
 * model is built and filled. The returned model owns GPU memory: dispose() it.
 */
export async function flamFromOfficial(rt: Runtime, weights: Uint8Array | OfficialStateDict, tokenizer: RobertaTokenizerSource, o: OfficialLoadOptions = {}): Promise<OfficialFlam> {
  const source = o.source ?? 'OpenFLAM checkpoint';
  const sd = weights instanceof Uint8Array ? readOfficialStateDict(weights, source) : weights;
  if (!isOfficialLayout(sd.keys())) {
    const shown = [...sd.keys()].slice(0, 3).map((k) => JSON.stringify(k)).join(', ');
    throw new Error(`${source}: not an OpenFLAM state_dict (no audio_branch.* or text_branch.* keys; found ${sd.size} entries${shown ? `, e.g. ${shown}` : ''})`);
  }
  const tok = await robertaTokenizer(tokenizer, source);
  const report = checkOfficialState(sd, o);
  const warn = o.onWarning ?? ((m: string) => console.warn(m));
  for (const w of report.warnings) warn(w);
  const model = new Flam(rt, FLAM_PRESETS['v1-base'], { init: 'zeros', filterbank: floatValues(sd, MEL_KEY, source) });
  try {
    for (const [k, t] of model.stateDict()) {
      // Computed buffers (checked equal above) and bn0 (set with its CPU copy below) are not uploaded here.
      if (k.endsWith('relative_position_index') || k.endsWith('.attn_mask') || k.startsWith(BN)) continue;
      const v = floatValues(sd, k, source);
      if (v.length !== t.size) throw new Error(`${source}: "${k}" has ${v.length} values, the model expects ${t.size}`);
      t.rt.upload(t.storage.buffer, v, t.offset * 4);
    }
    const f = (k: string) => floatValues(sd, BN + k, source);
    model.bn0.setStats({ mean: f('running_mean'), var: f('running_var'), weight: f('weight'), bias: f('bias') });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return { model, tokenizer: tok, logitScale: Math.exp(report.aedLogitScale), clipLogitScale: Math.exp(report.logitScaleA), report };
}
