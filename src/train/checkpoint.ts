// Training checkpoints as safetensors: model weights, AdamW moments, step, RNG and data-loader state, the config,
// and a sha256 of the data section in the metadata. Encoding/decoding works on bytes (browser-safe); the CLI writes
// files atomically (src/cli/fsutil.ts). A checkpoint whose checksum fails is never loaded.
import { encodeSafetensors, decodeSafetensors, type TensorSpec } from '../io/safetensors.ts';
import { sha256Hex } from '../io/checksum.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { AdamW } from './optim.ts';

export const CHECKPOINT_FORMAT = 'flam-webgpu-checkpoint/1';
const PLACEHOLDER = '0'.repeat(64);

export interface CheckpointState {
  step: number;
  /** Any JSON-serialisable training state: RNG states, data-loader position, best metric... */
  state: Record<string, unknown>;
  config: unknown;
}

/** Read tensors back from the GPU and encode a checkpoint (one readback per tensor, all after one flush). */
export async function encodeCheckpoint(params: [string, Tensor][], opt: AdamW | null, s: CheckpointState): Promise<Uint8Array> {
  const tensors: Record<string, TensorSpec> = {};
  const reads: Promise<void>[] = [];
  const add = (name: string, t: Tensor) => reads.push(t.data().then((d) => { tensors[name] = { dtype: 'F32', shape: [...t.shape], data: d as Float32Array }; }));
  for (const [k, t] of params) add(`model/${k}`, t);
  if (opt) {
    const idx = new Map(opt.params.map((p, i) => [p, i]));
    for (const [k, t] of params) {
      const i = idx.get(t);
      if (i === undefined) continue;
      add(`optim/m/${k}`, opt.m[i]);
      add(`optim/v/${k}`, opt.v[i]);
    }
  }
  await Promise.all(reads);
  const meta: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    step: String(s.step),
    optimizer_step: String(opt?.step ?? 0),
    state: JSON.stringify(s.state),
    config: JSON.stringify(s.config),
    sha256: PLACEHOLDER,
  };
  const bytes = encodeSafetensors(tensors, meta);
  // Patch the checksum of the data section into the header (same length as the placeholder).
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const digest = sha256Hex(bytes.subarray(8 + n));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const at = header.indexOf(PLACEHOLDER);
  if (at < 0) throw new Error('encodeCheckpoint: checksum placeholder not found');
  bytes.set(new TextEncoder().encode(digest), 8 + at);
  return bytes;
}

export interface DecodedCheckpoint {
  step: number;
  optimizerStep: number;
  state: Record<string, unknown>;
  config: unknown;
  model: Map<string, { shape: number[]; data: Float32Array }>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/** Decode and verify a checkpoint (format, checksum). Errors name the source and the problem. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): DecodedCheckpoint {
  const a = decodeSafetensors(bytes, source);
  const md = a.metadata;
  if (md.format !== CHECKPOINT_FORMAT) throw new Error(`${source}: not a flam-webgpu checkpoint (format ${JSON.stringify(md.format)}, expected ${CHECKPOINT_FORMAT})`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const digest = sha256Hex(bytes.subarray(8 + n));
  if (digest !== md.sha256) throw new Error(`${source}: checksum mismatch (header says ${md.sha256}, data hashes to ${digest}); the file is corrupted and was not loaded`);
  const model = new Map<string, { shape: number[]; data: Float32Array }>();
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const name of a.names) {
    const t = a.get(name);
    if (name.startsWith('model/')) model.set(name.slice(6), { shape: [...t.shape], data: t.float32() });
    else if (name.startsWith('optim/m/')) m.set(name.slice(8), t.float32());
    else if (name.startsWith('optim/v/')) v.set(name.slice(8), t.float32());
  }
  return { step: Number(md.step), optimizerStep: Number(md.optimizer_step), state: JSON.parse(md.state), config: JSON.parse(md.config), model, m, v };
}

/** Restore AdamW moments and step from a decoded checkpoint (strict: every parameter must have both moments). */
export function restoreOptimizer(opt: AdamW, params: [string, Tensor][], ck: DecodedCheckpoint): void {
  const idx = new Map(opt.params.map((p, i) => [p, i]));
  for (const [k, t] of params) {
    const i = idx.get(t);
    if (i === undefined) continue;
    const m = ck.m.get(k), v = ck.v.get(k);
    if (!m || !v) throw new Error(`restoreOptimizer: checkpoint lacks optimizer moments for ${k}`);
    if (m.length !== t.size || v.length !== t.size) throw new Error(`restoreOptimizer: moments of ${k} have ${m.length} values, parameter has ${t.size}`);
    t.rt.upload(opt.m[i].storage.buffer, m);
    t.rt.upload(opt.v[i].storage.buffer, v);
  }
  opt.step = ck.optimizerStep;
}
