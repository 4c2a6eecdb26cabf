// Fetching the model files in a browser (or any fetch-capable runtime): the model, the tokenizer and the GloVe
// table, with progress and errors that name the URL. Browser-safe.
import type { Runtime } from '../gpu/runtime.ts';
import { flamFromFile, type Flam } from '../model/flam.ts';
import { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../text/bpe.ts';

/** Where the model files live (relative URLs resolve against the page). */
export interface ModelUrls {
  /** A flam-webgpu model file (e.g. weights/flam-tiny.safetensors). */
  model: string;
  /** Default weights/tokenizer/vocab.json.gz. */
  vocab?: string;
  /** Default weights/tokenizer/merges.txt.gz. */
  merges?: string;
  /** GloVe table for models with GloVe-frozen word embeddings (the tiny model); default weights/glove/gpt2-glove100.safetensors; null: none. */
  glove?: string | null;
}

export const DEFAULT_GLOVE_URL = 'weights/glove/gpt2-glove100.safetensors';

/** GET a URL as bytes; `onProgress(loaded, total)` as it arrives (total 0 when unknown). */
export async function fetchBytes(url: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
  let res: Response;
  try { res = await fetch(url); } catch (e) { throw new Error(`${url}: cannot fetch (${(e as Error).message})`); }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const total = Number(res.headers.get('content-length') ?? 0);
  if (!res.body || !onProgress) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value); loaded += value.length;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Fetch and load a model and its tokenizer onto `rt`. */
export async function loadFlamFromUrls(rt: Runtime, urls: ModelUrls, onProgress?: (what: string, loaded: number, total: number) => void): Promise<{ model: Flam; tok: BpeTokenizer }> {
  const p = (what: string) => (onProgress ? (l: number, t: number) => onProgress(what, l, t) : undefined);
  const gloveUrl = urls.glove === undefined ? DEFAULT_GLOVE_URL : urls.glove;
  const [m, v, g, gl] = await Promise.all([
    fetchBytes(urls.model, p('model')),
    fetchBytes(urls.vocab ?? GPT2_TOKENIZER_FILES.vocab, p('vocab')),
    fetchBytes(urls.merges ?? GPT2_TOKENIZER_FILES.merges, p('merges')),
    gloveUrl ? fetchBytes(gloveUrl, p('glove')) : Promise.resolve(undefined),
  ]);
  const tok = await BpeTokenizer.load(v, g, { source: urls.vocab ?? GPT2_TOKENIZER_FILES.vocab });
  const model = await flamFromFile(rt, m, urls.model, gl);
  return { model, tok };
}
