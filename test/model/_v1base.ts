// The v1-base parity checkpoint regenerated in TypeScript, bit for bit (test/fixtures/v1base/make_fixtures.py holds
// the formula and the PyTorch reference): every hashed entry is
//   s_key = lowbias32(fnv1a32(utf8(key)) ^ SEED), u_i = ((lowbias32((i + s_key) mod 2^32) >>> 8) - 2^23) / 2^23,
//   value_i = f32(base + amp * u_i)   (float64 arithmetic: one rounding for the product, one for the sum, one to f32)
// and the computed entries (STFT conv weights, melW, relative_position_index, attn_mask, num_batches_tracked,
// aed_logit_scale) are rebuilt from their definitions. The result is a safetensors file in the official layout, as
// `flam convert` writes it (F32, I64 for the integer buffers), built in one buffer without intermediate copies.
import { createHash } from 'node:crypto';
import { V1_BASE_KEYS } from '../../src/model/checkpoint_keys.ts';
import { slaneyMelFilterbank, hannPeriodic } from '../../src/audio/mel_ref.ts';
import { relativePositionIndexCPU } from '../../src/ops/window_attention.ts';
import { shiftMaskCPU, planHtsat, HTSAT_PRESETS } from '../../src/model/htsat.ts';

export const SEED = 20251127;
export const AED_LOGIT_SCALE = 0.25;
export const NUM_BATCHES_TRACKED = 12345n;
const CLIP = 480000;

export function lowbias32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16; x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15; x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** out[i] = f32(base + amp * u_i(key)). */
export function fillHashed(key: string, base: number, amp: number, out: Float32Array | Float64Array): void {
  const s = lowbias32((fnv1a32(key) ^ SEED) >>> 0);
  for (let i = 0; i < out.length; i++) {
    let x = (i + s) >>> 0;
    x ^= x >>> 16; x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15; x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    out[i] = base + amp * (((x >>> 8) - 8388608) / 8388608);
  }
}

/** u_i(key) in float64 (the clips' noise). */
export function hashUniform(key: string, n: number): Float64Array {
  const out = new Float64Array(n);
  fillHashed(key, 0, 1, out);
  return out;
}

/** (base, amp) of a hashed entry, as pattern() in make_fixtures.py. */
export function pattern(key: string, shape: readonly number[]): [number, number] {
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  if (key === 'logit_scale_a') return [Math.log(1 / 0.07), 0.1];
  if (key === 'fc_per_text_logit_scale.2.bias') return [Math.log(10), 0.1];
  if (key === 'fc_per_text_logit_bias.2.bias') return [-8, 0.5];
  if (key === 'audio_branch.bn0.running_mean') return [-30, 10];
  if (key === 'audio_branch.bn0.running_var') return [300, 100];
  if (key.endsWith('relative_position_bias_table')) return [0, 1];
  if (key.endsWith('_embeddings.weight')) return [0, 0.5];
  const norm = key.includes('LayerNorm') || key.includes('.norm') || key.startsWith('audio_branch.norm.') || key.includes('.bn0.');
  if (norm) return [leaf === 'weight' ? 1 : 0, 0.1];
  if (leaf === 'weight' && shape.length >= 2) return [0, Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1))];
  if (leaf === 'bias') return [0, 0.1];
  throw new Error(`no pattern for ${key} [${shape}]`);
}

/** The STFT conv weights [513, 1, 1024]: w[n] cos(2 pi k n / N) and -w[n] sin(...) (periodic Hann), float64 -> f32. */
export function stftWeights(kind: 'real' | 'imag', hann: (n: number) => Float64Array = hannPeriodic): Float32Array {
  const N = 1024, w = hann(N), out = new Float32Array(513 * N);
  for (let k = 0; k < 513; k++) for (let n = 0; n < N; n++) {
    const a = (2 * Math.PI * k * n) / N;
    out[k * N + n] = kind === 'real' ? w[n] * Math.cos(a) : -w[n] * Math.sin(a);
  }
  return out;
}

/** attn_mask of `audio_branch.layers.{s}.blocks.{b}.attn_mask` for v1-base. */
export function v1BaseMask(key: string): Float32Array {
  const m = /^audio_branch\.layers\.(\d+)\.blocks\.(\d+)\.attn_mask$/.exec(key);
  if (!m) throw new Error(`not an attn_mask key: ${key}`);
  const st = planHtsat(HTSAT_PRESETS['v1-base']).stages[Number(m[1])];
  return shiftMaskCPU(st.res, st.ws, st.shift);
}

export interface GeneratedCheckpoint {
  /** safetensors bytes in the official layout. */
  bytes: Uint8Array;
  /** sha256 of the hashed entries (sorted keys, f32 little-endian), to compare with info.json. */
  digest: string;
  ms: number;
}

/** The whole official-layout checkpoint (~0.79 GB), in one buffer. */
export function generateV1BaseCheckpoint(): GeneratedCheckpoint {
  const t0 = performance.now();
  // I64 entries first so that every tensor is naturally aligned in the data section.
  const isInt = (k: string) => k.endsWith('relative_position_index') || k.endsWith('num_batches_tracked');
  const keys = [...V1_BASE_KEYS].sort((a, b) => Number(isInt(b.key)) - Number(isInt(a.key)));
  const header: Record<string, unknown> = { __metadata__: { format: 'flam-openflam-state-dict/1', layout: 'openflam-v1-base', generator: 'test/model/_v1base.ts' } };
  let off = 0;
  const spans = new Map<string, [number, number]>();
  for (const k of keys) {
    const n = k.shape.reduce((a, b) => a * b, 1) * (isInt(k.key) ? 8 : 4);
    header[k.key] = { dtype: isInt(k.key) ? 'I64' : 'F32', shape: k.shape, data_offsets: [off, off + n] };
    spans.set(k.key, [off, n]);
    off += n;
  }
  let h = JSON.stringify(header);
  h += ' '.repeat((8 - ((8 + h.length) % 8)) % 8);
  const hb = new TextEncoder().encode(h);
  const base = 8 + hb.length;
  const bytes = new Uint8Array(base + off);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(hb.length), true);
  bytes.set(hb, 8);
  const f32 = (k: string) => { const [o, n] = spans.get(k)!; return new Float32Array(bytes.buffer, base + o, n / 4); };
  const i64 = (k: string) => { const [o, n] = spans.get(k)!; return new BigInt64Array(bytes.buffer, base + o, n / 8); };
  const rel = relativePositionIndexCPU(8, 8);
  const mel = slaneyMelFilterbank();
  const digest = createHash('sha256');
  for (const { key, shape } of [...V1_BASE_KEYS].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (key.endsWith('relative_position_index')) { const d = i64(key); for (let i = 0; i < d.length; i++) d[i] = BigInt(rel[i]); }
    else if (key.endsWith('num_batches_tracked')) i64(key)[0] = NUM_BATCHES_TRACKED;
    else if (key.endsWith('attn_mask')) f32(key).set(v1BaseMask(key));
    else if (key === 'aed_logit_scale') f32(key)[0] = AED_LOGIT_SCALE;
    else if (key.endsWith('conv_real.weight')) f32(key).set(stftWeights('real'));
    else if (key.endsWith('conv_imag.weight')) f32(key).set(stftWeights('imag'));
    else if (key === 'audio_branch.logmel_extractor.melW') f32(key).set(mel);
    else {
      const d = f32(key);
      const [b, a] = pattern(key, shape);
      fillHashed(key, b, a, d);
      digest.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
  }
  return { bytes, digest: digest.digest('hex'), ms: performance.now() - t0 };
}

/** The two clips of make_fixtures.py's clip_signals(): 10 s and 3 s (float32). */
export function clipSignals(): Float32Array[] {
  const a = new Float32Array(CLIP);
  const n0 = hashUniform('clip0.noise', CLIP), burst = hashUniform('clip0.burst', CLIP);
  for (let n = 0; n < CLIP; n++) {
    let v = 0.02 * n0[n];
    if (n >= 48000 && n < 168000) v = v + 0.3 * (2.0 * ((n % 96) / 96.0) - 1.0);
    if (n >= 240000 && n < 297600) v = v + 0.4 * burst[n];
    if (n >= 336000 && n < 456000) v = v + (n % 40 < 20 ? 0.2 : -0.2);
    a[n] = v;
  }
  const M = 144000, b = new Float32Array(M), n1 = hashUniform('clip1.noise', M);
  for (let m = 0; m < M; m++) {
    let v = 0.1 * n1[m];
    if (m >= 48000) v = v + 0.25 * (2.0 * ((m % 60) / 60.0) - 1.0);
    b[m] = v;
  }
  return [a, b];
}
