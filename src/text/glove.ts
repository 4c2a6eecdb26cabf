// GloVe-initialised token embeddings for small text encoders (weights/glove/gpt2-glove100.safetensors, made once
// by `flam glove`). Rows of GPT-2 tokens whose text has a GloVe vector get it (dequantised, scaled to the target
// std, zero-padded or truncated to `dim`, plus small noise in the padded dims); other rows are random N(0, std).
import { decodeSafetensors } from '../io/safetensors.ts';

export interface GloveTable { dims: number; ids: Uint32Array; vectors: Float32Array; index: Map<number, number> }

export function loadGlove(bytes: Uint8Array, source = 'glove table'): GloveTable {
  const a = decodeSafetensors(bytes, source);
  const ids = a.get('ids').data() as Uint32Array;
  const q = a.get('q');
  const scale = a.get('scale').float32();
  const D = q.shape[1];
  const raw = new Int8Array(q.bytes.buffer, q.bytes.byteOffset, q.bytes.byteLength);
  const vectors = new Float32Array(ids.length * D);
  for (let i = 0; i < ids.length; i++) for (let d = 0; d < D; d++) vectors[i * D + d] = raw[i * D + d] * scale[i];
  return { dims: D, ids, vectors, index: new Map(Array.from(ids, (id, i) => [id, i])) };
}

/** The GloVe vector of a token id, or null. */
export function gloveVector(g: GloveTable, id: number): Float32Array | null {
  const i = g.index.get(id);
  return i === undefined ? null : g.vectors.subarray(i * g.dims, (i + 1) * g.dims);
}

/**
 * A [V, dim] embedding table: GloVe rows where available (rescaled so their per-element std is `std`), random
 * N(0, std) rows elsewhere (specials and tokens without a vector). Returns the table and the number of GloVe rows.
 */
export function gloveEmbeddingInit(g: GloveTable, V: number, dim: number, std: number, rand: () => number): { table: Float32Array; covered: number } {
  let ss = 0;
  for (const x of g.vectors) ss += x * x;
  const gstd = Math.sqrt(ss / g.vectors.length) || 1;
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-300))) * Math.cos(2 * Math.PI * rand());
  const table = new Float32Array(V * dim);
  let covered = 0;
  for (let v = 0; v < V; v++) {
    const gv = v < 50257 ? gloveVector(g, v) : null;
    if (gv) covered++;
    for (let d = 0; d < dim; d++) {
      table[v * dim + d] = gv && d < g.dims ? (gv[d] / gstd) * std : normal() * std * (gv ? 0.1 : 1);
    }
  }
  return { table, covered };
}
