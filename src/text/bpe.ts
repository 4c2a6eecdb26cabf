// Byte-level BPE tokenizer (the GPT-2 / RoBERTa algorithm), loading vocab.json + merges.txt.
//
//   text -> pre-tokens by the GPT-2 regex -> each pre-token's UTF-8 bytes mapped to printable characters
//   (bytes_to_unicode) -> repeatedly merge the adjacent pair with the lowest merge rank (all non-overlapping
//   occurrences, left to right) until no ranked pair is left -> vocab ids.
//
// RoBERTa-style encode: <s> + tokens + </s>, truncated to maxLength (77 by default, specials included) with a
// warning; the empty string is <s></s>. Specials are looked up in the vocab (RoBERTa's own vocab.json has
// <s>=0, <pad>=1, </s>=2, <unk>=3). GPT-2's vocab (shipped in weights/tokenizer/, 50257 entries, ids 0..50256) has
// none of them, so by default the missing ones are appended in the order <s>, <pad>, </s>, <unk> after the largest
// id: for GPT-2 that is <s>=50257, <pad>=50258, </s>=50259, <unk>=50260 and a vocab size of 50261, which is what
// our own models use.
//
// Special-token strings inside the input text ("<s>", ...) are encoded as ordinary text, never as control tokens
// (HF's RobertaTokenizer would map them to the special ids).

import { gunzip, isGzip } from '../io/gzip.ts';

/** The four specials, in the order they are appended to a vocab that lacks them. */
export const SPECIAL_TOKENS = ['<s>', '<pad>', '</s>', '<unk>'] as const;

/** The default maximum sequence length, specials included (FLAM's context_length). */
export const DEFAULT_MAX_LENGTH = 77;

/** Paths of the shipped GPT-2 tokenizer files, relative to the package root (gzip-compressed). */
export const GPT2_TOKENIZER_FILES = { vocab: 'weights/tokenizer/vocab.json.gz', merges: 'weights/tokenizer/merges.txt.gz' } as const;

/** GPT-2's pre-tokenisation pattern. */
const PRETOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeOptions {
  /** Append <s>, <pad>, </s>, <unk> (those missing) after the largest vocab id. Default true. */
  addMissingSpecials?: boolean;
  /** Default maximum length for encode(), specials included. Default 77. */
  maxLength?: number;
  /** Called when encode() truncates. Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Pre-token cache entries kept before the cache is cleared. Default 20000. */
  cacheSize?: number;
  /** Names the vocab and merges in errors. */
  source?: string;
}

export interface EncodeOptions {
  /** Maximum length including <s> and </s> (>= 2). Defaults to the tokenizer's maxLength. */
  maxLength?: number;
  /** Overrides the tokenizer's warning callback for this call. */
  onWarning?: (message: string) => void;
}

export interface EncodedBatch {
  /** [N, T] row-major, padded with <pad> to the longest sequence T. */
  ids: Int32Array;
  /** [N, T], 1 for real tokens, 0 for padding. */
  attentionMask: Uint8Array;
  /** Real length of each row (specials included). */
  lengths: number[];
  /** T. */
  seqLen: number;
}

/** GPT-2's reversible byte -> printable character map (and its inverse). */
function bytesToUnicode(): { enc: string[]; dec: Map<number, number> } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const enc: string[] = new Array(256);
  const dec = new Map<number, number>();
  for (let i = 0; i < 256; i++) { enc[bs[i]] = String.fromCharCode(cs[i]); dec.set(cs[i], bs[i]); }
  return { enc, dec };
}

const BYTES = bytesToUnicode();
const utf8 = new TextEncoder();

function toText(x: string | Uint8Array, what: string): string {
  if (typeof x === 'string') return x;
  try { return new TextDecoder('utf-8', { fatal: true }).decode(x); }
  catch { throw new Error(`${what}: not valid UTF-8`); }
}

export class BpeTokenizer {
  private readonly encoder: Map<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, number[]>();
  private readonly cacheSize: number;
  private readonly onWarning: (message: string) => void;
  /** Default maximum length of encode(), specials included. */
  readonly maxLength: number;
  readonly bosId: number;
  readonly padId: number;
  readonly eosId: number;
  readonly unkId: number;
  /** Largest id + 1 (the embedding table size a model needs). */
  readonly vocabSize: number;
  /** Number of merges loaded. */
  readonly numMerges: number;

  /** Build from the text of vocab.json and merges.txt (strings or UTF-8 bytes; not gzip: see {@link load}). */
  constructor(vocabJson: string | Uint8Array, mergesTxt: string | Uint8Array, opts: BpeOptions = {}) {
    const src = opts.source ?? 'tokenizer';
    const vocabText = toText(vocabJson, `${src} vocab.json`);
    let raw: unknown;
    try { raw = JSON.parse(vocabText); } catch (e) { throw new Error(`${src} vocab.json: not valid JSON (${(e as Error).message})`); }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${src} vocab.json: expected an object mapping tokens to ids`);
    this.encoder = new Map();
    this.decoder = new Map();
    let maxId = -1;
    for (const [tok, id] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new Error(`${src} vocab.json: id of ${JSON.stringify(tok)} is ${JSON.stringify(id)}, expected a non-negative integer`);
      const prev = this.decoder.get(id);
      if (prev !== undefined) throw new Error(`${src} vocab.json: id ${id} is used by both ${JSON.stringify(prev)} and ${JSON.stringify(tok)}`);
      this.encoder.set(tok, id);
      this.decoder.set(id, tok);
      if (id > maxId) maxId = id;
    }
    if (this.encoder.size === 0) throw new Error(`${src} vocab.json: empty vocabulary`);
    const addMissing = opts.addMissingSpecials ?? true;
    for (const sp of SPECIAL_TOKENS) {
      if (this.encoder.has(sp)) continue;
      if (!addMissing) throw new Error(`${src} vocab.json: special token ${sp} is missing (set addMissingSpecials to append it)`);
      maxId++;
      this.encoder.set(sp, maxId);
      this.decoder.set(maxId, sp);
    }
    this.bosId = this.encoder.get('<s>')!;
    this.padId = this.encoder.get('<pad>')!;
    this.eosId = this.encoder.get('</s>')!;
    this.unkId = this.encoder.get('<unk>')!;
    this.vocabSize = maxId + 1;

    // merges.txt: an optional "#version" line, then one "left right" pair per line, best (rank 0) first.
    // As in the reference loaders, a pair listed twice keeps its later rank.
    const mergesText = toText(mergesTxt, `${src} merges.txt`);
    this.ranks = new Map();
    const lines = mergesText.split('\n');
    let rank = 0;
    for (let ln = 0; ln < lines.length; ln++) {
      const line = lines[ln].replace(/\r$/, '');
      if (line.trim() === '' || (ln === 0 && line.startsWith('#version'))) continue;
      const parts = line.trim().split(/\s+/);
      if (parts.length !== 2) throw new Error(`${src} merges.txt line ${ln + 1}: expected two space-separated symbols, got ${JSON.stringify(line)}`);
      this.ranks.set(parts[0] + ' ' + parts[1], rank++);
    }
    this.numMerges = rank;
    this.maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2) throw new Error(`${src}: maxLength must be an integer >= 2 (room for <s> and </s>), got ${this.maxLength}`);
    this.onWarning = opts.onWarning ?? ((m) => console.warn(m));
    this.cacheSize = opts.cacheSize ?? 20000;
  }

  /**
   * Build from file bytes that may be gzip-compressed (detected by the magic), e.g. the shipped
   * weights/tokenizer/vocab.json.gz and merges.txt.gz. Asynchronous because decompression is.
   */
  static async load(vocab: Uint8Array | string, merges: Uint8Array | string, opts: BpeOptions = {}): Promise<BpeTokenizer> {
    const src = opts.source ?? 'tokenizer';
    const un = async (b: Uint8Array | string, what: string) => (typeof b !== 'string' && isGzip(b) ? gunzip(b, `${src} ${what}`) : b);
    return new BpeTokenizer(await un(vocab, 'vocab.json'), await un(merges, 'merges.txt'), opts);
  }

  /** The id of `token` (a vocab string), or undefined. */
  tokenToId(token: string): number | undefined { return this.encoder.get(token); }

  /** The vocab string of `id`, or undefined. */
  idToToken(id: number): string | undefined { return this.decoder.get(id); }

  /** BPE of one byte-mapped pre-token, as symbol strings. */
  private bpe(word: string): string[] {
    let syms = Array.from(word);
    while (syms.length > 1) {
      let best = Infinity, bi = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(syms[i] + ' ' + syms[i + 1]);
        if (r !== undefined && r < best) { best = r; bi = i; }
      }
      if (bi < 0) break;
      const first = syms[bi], second = syms[bi + 1];
      const next: string[] = syms.slice(0, bi);
      for (let i = bi; i < syms.length;) {
        if (i + 1 < syms.length && syms[i] === first && syms[i + 1] === second) { next.push(first + second); i += 2; }
        else { next.push(syms[i]); i++; }
      }
      syms = next;
    }
    return syms;
  }

  /** ids of one pre-token (cached). */
  private pretokenIds(pre: string): number[] {
    const hit = this.cache.get(pre);
    if (hit) return hit;
    const bytes = utf8.encode(pre);
    let mapped = '';
    for (let i = 0; i < bytes.length; i++) mapped += BYTES.enc[bytes[i]];
    const ids = this.bpe(mapped).map((t) => this.encoder.get(t) ?? this.unkId);
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(pre, ids);
    return ids;
  }

  /** The pre-tokens of `text` (GPT-2 regex). */
  pretokenize(text: string): string[] {
    return Array.from(text.matchAll(PRETOKEN), (m) => m[0]);
  }

  /** BPE token strings of `text`, without specials. */
  tokenize(text: string): string[] {
    return this.encodeOrdinary(text).map((id) => this.decoder.get(id)!);
  }

  /**
   * ids of `text` without specials and without truncation (GPT-2 style). With `limit`, stops once `limit` ids
   * were produced (the result then has exactly `limit` ids, and `truncated` tells whether more existed).
   */
  encodeOrdinary(text: string): number[];
  encodeOrdinary(text: string, limit: number): { ids: number[]; truncated: boolean };
  encodeOrdinary(text: string, limit?: number): number[] | { ids: number[]; truncated: boolean } {
    if (typeof text !== 'string') throw new Error(`tokenizer: expected a string, got ${text === null ? 'null' : typeof text}`);
    const out: number[] = [];
    const lim = limit ?? Infinity;
    let truncated = false;
    for (const m of text.matchAll(PRETOKEN)) {
      if (out.length >= lim) { truncated = true; break; }
      for (const id of this.pretokenIds(m[0])) {
        if (out.length >= lim) { truncated = true; break; }
        out.push(id);
      }
    }
    return limit === undefined ? out : { ids: out, truncated };
  }

  /**
   * RoBERTa-style ids: <s> + tokens + </s>, at most maxLength ids (specials included); longer inputs keep their
   * first maxLength - 2 tokens and trigger a warning. The empty string gives [<s>, </s>].
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const max = opts.maxLength ?? this.maxLength;
    if (!Number.isInteger(max) || max < 2) throw new Error(`tokenizer: maxLength must be an integer >= 2 (room for <s> and </s>), got ${max}`);
    const { ids, truncated } = this.encodeOrdinary(text, max - 2);
    if (truncated) {
      const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
      (opts.onWarning ?? this.onWarning)(`tokenizer: text ${JSON.stringify(shown)} is longer than ${max} tokens (including <s> and </s>); truncated to the first ${max - 2} tokens`);
    }
    return [this.bosId, ...ids, this.eosId];
  }

  /** Encode several texts and pad them with <pad> to the longest one (not to maxLength). */
  encodeBatch(texts: readonly string[], opts: EncodeOptions = {}): EncodedBatch {
    const seqs = texts.map((t) => this.encode(t, opts));
    const T = seqs.reduce((m, s) => Math.max(m, s.length), 0);
    const ids = new Int32Array(seqs.length * T).fill(this.padId);
    const attentionMask = new Uint8Array(seqs.length * T);
    seqs.forEach((s, r) => { ids.set(s, r * T); attentionMask.fill(1, r * T, r * T + s.length); });
    return { ids, attentionMask, lengths: seqs.map((s) => s.length), seqLen: T };
  }

  /**
   * Text of `ids`. Invalid UTF-8 (a multi-byte character cut by truncation) becomes U+FFFD. With
   * skipSpecialTokens, <s>, <pad>, </s> and <unk> are dropped; otherwise they appear as their strings.
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    const specials = new Set<number>([this.bosId, this.padId, this.eosId, this.unkId]);
    const bytes: number[] = [];
    let out = '';
    const td = new TextDecoder('utf-8');
    const flush = () => { if (bytes.length) { out += td.decode(Uint8Array.from(bytes)); bytes.length = 0; } };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const tok = this.decoder.get(id);
      if (tok === undefined) throw new Error(`tokenizer: id ${id} (position ${i}) is not in the vocabulary (size ${this.vocabSize})`);
      if (specials.has(id)) {
        if (opts.skipSpecialTokens) continue;
        flush();
        out += tok;
        continue;
      }
      for (const ch of tok) {
        const b = BYTES.dec.get(ch.codePointAt(0)!);
        if (b === undefined) { flush(); out += ch; } // a vocab entry outside the byte alphabet (e.g. an added token)
        else bytes.push(b);
      }
    }
    flush();
    return out;
  }
}
