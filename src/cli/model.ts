// Node-side model loading shared by the CLI commands: the default shipped model, the tokenizer, the GloVe table.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Runtime } from '../gpu/runtime.ts';
import { flamFromFile, type Flam } from '../model/flam.ts';
import { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../text/bpe.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The model `flam detect` uses when --model is not given. */
export const DEFAULT_MODEL = join(ROOT, 'weights', 'flam-tiny.safetensors');

export function loadTokenizer(): Promise<BpeTokenizer> {
  return BpeTokenizer.load(readFileSync(join(ROOT, GPT2_TOKENIZER_FILES.vocab)), readFileSync(join(ROOT, GPT2_TOKENIZER_FILES.merges)));
}

export function gloveBytes(): Uint8Array { return readFileSync(join(ROOT, 'weights/glove/gpt2-glove100.safetensors')); }

/** Load a model file or training checkpoint (checksum verified; errors name the file). */
export async function loadModel(rt: Runtime, path = DEFAULT_MODEL): Promise<Flam> {
  if (!existsSync(path)) throw new Error(path === DEFAULT_MODEL ? `the default model ${path} is missing (reinstall, or pass --model FILE)` : `model file ${path} does not exist`);
  const bytes = readFileSync(path);
  if (bytes.length < 16) throw new Error(`${path}: ${bytes.length} bytes is not a model file (expected a flam-webgpu safetensors model or checkpoint)`);
  return flamFromFile(rt, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, gloveBytes());
}
