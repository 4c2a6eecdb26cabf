// Batches for the trainer (spec §7, §8.3): the SED batch (A clips, K = 5A text slots, audio/text masks, compact
// labels) and the global batch (G clips, one caption each). Browser-safe: clips come from a ClipProvider (a built
// dataset read from disk by src/cli/data/dataset.ts, or the simulator on the fly via simulatedProvider).
//
// Order: an endless stream of (epoch, position); position p of epoch e is clip perm_e[p], perm_e a permutation
// seeded by hashSeed(seed, 'epoch', e) (identity without shuffle). Batches may straddle epochs.
// State = { epoch, position, rng }: the next clip to use and the loader's Rng state (used by the global batch's
// caption choice). `new XLoader(provider, { ...opts, state })` continues with exactly the batches the saved loader
// would have produced next; prefetched batches never leak into the state (the state is the one after the last
// batch *returned* by next()).
//
// Non-blocking: next() keeps `prefetch` batches in flight. Batch n+1 is assembled (its clips requested from the
// provider, in parallel) as soon as batch n is assembled, while the caller runs its GPU step on batch n; clip
// requests that a batch did not use stay cached for the next one.
//
// SED batch filling (FLAM's rule, spec §7.2): clips are taken in stream order; a clip needs one text slot per
// caption of its events that is not already in the batch. If a clip's new captions do not fit in the free text
// slots, the batch ends there (remaining audio slots masked; the clip starts the next batch); if the audio slots fill
// first, the remaining text slots are masked. A single clip with more distinct captions than K keeps its first K (in
// event order) - only possible for K < 10.
//
// Identical captions in one batch: a caption string gets exactly ONE text slot per batch, however many events (of
// one or several clips) carry it, so the same text is never both a positive and a negative. The positives of slot
// k are computed for every clip of the batch:
//   positives 'label' (default): clip i is positive for slot k when it has an event of slot k's CLASS (whatever
//     its phrasing): two phrasings of one class describe the same sound, so "dog barking" must not be a negative
//     for a clip whose event was captioned "a dog barks"; frames = OR of the masks of those events.
//   positives 'caption': clip i is positive for slot k when it has an event with exactly slot k's caption.
// Compact labels (spec §8.1): one (audio index, text index, u32 frame mask) per positive pair, sorted by text then
// audio; every other (i, k) pair of valid slots is negative on all 32 frames.

import { hashSeed, permutation, Rng } from './rng.ts';
import { CLIP_SAMPLES, FRAMES, simulateClip, type SimOptions, type SourcePool } from './simulate.ts';
import type { Split } from './classes.ts';

export interface LoaderEvent { label: string; caption: string; mask: number }
/** One 10 s clip with its events and clip-level caption. */
export interface ClipItem { audio: Float32Array; events: LoaderEvent[]; caption: string }
/** Random access to a dataset of clips. `get` may be async (file reads) or compute on the spot. */
export interface ClipProvider { readonly size: number; get(index: number): Promise<ClipItem> | ClipItem }

export interface LoaderState { epoch: number; position: number; rng: number }

export interface LoaderOptions {
  /** Clips per batch (A for the SED batch, G for the global batch). */
  clips: number;
  seed: number;
  shuffle?: boolean;
  /** Batches assembled ahead of the one being consumed (default 2). */
  prefetch?: number;
  /** Resume from this state (from `state()` of an earlier loader with the same provider and options). */
  state?: LoaderState;
  /** Samples per clip (default 480 000). */
  clipSamples?: number;
}

export interface SedLoaderOptions extends LoaderOptions {
  /** Text slots per audio slot (N = 5 in the paper): K = textsPerClip * clips. */
  textsPerClip?: number;
  positives?: 'label' | 'caption';
}

export interface SedBatch {
  A: number;
  K: number;
  L: number;
  /** [A * clipSamples], zeros in masked slots. */
  audio: Float32Array;
  audioMask: Uint8Array;
  /** Dataset index per audio slot, -1 when masked. */
  clipIndex: Int32Array;
  /** [K] caption per text slot, '' when masked. */
  texts: string[];
  textMask: Uint8Array;
  /** [K] class label per text slot ('' when masked). */
  textLabels: string[];
  /** Compact labels: positive pairs (audio slot, text slot, u32 frame mask, bit l = frame l). */
  positives: { audio: Uint32Array; text: Uint32Array; frames: Uint32Array };
  /** Loader state after this batch. */
  state: LoaderState;
}

export interface GlobalBatch {
  G: number;
  audio: Float32Array;
  /** [G] one caption per clip. */
  captions: string[];
  clipIndex: Int32Array;
  /** [G] index of the first clip in the batch with the identical caption (itself when unique): pairs (i, j) with
   * captionGroup[i] === captionGroup[j], i != j, are not negatives for the contrastive loss. */
  captionGroup: Int32Array;
  state: LoaderState;
}

/** Dense labels q[A, K, L] (Uint8) of a SED batch, for references and tests. */
export function denseLabels(b: SedBatch): Uint8Array {
  const q = new Uint8Array(b.A * b.K * b.L);
  const p = b.positives;
  for (let j = 0; j < p.audio.length; j++) {
    for (let l = 0; l < b.L; l++) if ((p.frames[j] >>> l) & 1) q[(p.audio[j] * b.K + p.text[j]) * b.L + l] = 1;
  }
  return q;
}

abstract class StreamLoader<B extends { state: LoaderState }> {
  protected readonly provider: ClipProvider;
  protected readonly n: number;
  protected readonly seed: number;
  protected readonly shuffle: boolean;
  protected readonly clipSamples: number;
  private readonly prefetch: number;
  private readonly perms = new Map<number, Uint32Array>();
  private readonly items = new Map<string, Promise<ClipItem>>();
  private readonly queue: Promise<B>[] = [];
  private tail: Promise<LoaderState>;
  private current: LoaderState;

  constructor(provider: ClipProvider, opts: LoaderOptions) {
    if (!(provider.size > 0)) throw new Error('loader: the dataset is empty');
    if (!(Number.isInteger(opts.clips) && opts.clips > 0)) throw new Error(`loader: clips per batch must be a positive integer (got ${opts.clips})`);
    this.provider = provider;
    this.n = opts.clips;
    this.seed = opts.seed;
    this.shuffle = opts.shuffle ?? true;
    this.prefetch = Math.max(0, opts.prefetch ?? 2);
    this.clipSamples = opts.clipSamples ?? CLIP_SAMPLES;
    const s = opts.state ?? { epoch: 0, position: 0, rng: hashSeed(opts.seed, 'loader-rng') };
    if (!(Number.isInteger(s.epoch) && s.epoch >= 0 && Number.isInteger(s.position) && s.position >= 0 && s.position < provider.size)) {
      throw new Error(`loader: bad state ${JSON.stringify(s)} for a dataset of ${provider.size} clips`);
    }
    this.current = { ...s };
    this.tail = Promise.resolve({ ...s });
  }

  /** State after the last batch returned by next() (save it with a checkpoint). */
  state(): LoaderState { return { ...this.current }; }

  /** The next batch; keeps `prefetch` more in flight. */
  async next(): Promise<B> {
    while (this.queue.length < this.prefetch + 1) this.schedule();
    const b = await this.queue.shift()!;
    this.current = { ...b.state };
    this.schedule();
    return b;
  }

  private schedule(): void {
    const p = this.tail.then((st) => this.assemble(st));
    p.catch(() => {}); // surfaced by next(); avoids an unhandled rejection for a prefetched batch
    this.tail = p.then((b) => b.state);
    this.tail.catch(() => {});
    this.queue.push(p);
  }

  protected abstract assemble(st: LoaderState): Promise<B>;

  /** Dataset index at stream position (epoch, position). */
  protected indexAt(epoch: number, position: number): number {
    if (!this.shuffle) return position;
    let p = this.perms.get(epoch);
    if (!p) {
      p = permutation(this.provider.size, hashSeed(this.seed, 'epoch', epoch));
      this.perms.set(epoch, p);
      for (const e of this.perms.keys()) if (e < epoch - 1) this.perms.delete(e);
    }
    return p[position];
  }

  protected advance(c: { epoch: number; position: number }): void {
    c.position++;
    if (c.position >= this.provider.size) { c.position = 0; c.epoch++; }
  }

  /** The clip at a stream position (requests are cached until used). */
  protected item(epoch: number, position: number): Promise<ClipItem> {
    const key = `${epoch}:${position}`;
    let p = this.items.get(key);
    if (!p) {
      const idx = this.indexAt(epoch, position);
      p = Promise.resolve().then(() => this.provider.get(idx)).then((it) => {
        if (it.audio.length !== this.clipSamples) throw new Error(`loader: clip ${idx} has ${it.audio.length} samples, expected ${this.clipSamples}`);
        return it;
      });
      p.catch(() => {});
      this.items.set(key, p);
    }
    return p;
  }

  /** Requests the next `count` stream positions from `from` (prefetch) and returns them in order. */
  protected lookahead(from: { epoch: number; position: number }, count: number): { epoch: number; position: number; item: Promise<ClipItem> }[] {
    const c = { epoch: from.epoch, position: from.position };
    const out: { epoch: number; position: number; item: Promise<ClipItem> }[] = [];
    for (let i = 0; i < count; i++) { out.push({ ...c, item: this.item(c.epoch, c.position) }); this.advance(c); }
    return out;
  }

  protected forget(epoch: number, position: number): void { this.items.delete(`${epoch}:${position}`); }
}

/** SED batches: A clips, K = textsPerClip * A text slots, compact labels (see the file header). */
export class SedLoader extends StreamLoader<SedBatch> {
  readonly A: number;
  readonly K: number;
  private readonly policy: 'label' | 'caption';

  constructor(provider: ClipProvider, opts: SedLoaderOptions) {
    super(provider, opts);
    this.A = opts.clips;
    this.K = (opts.textsPerClip ?? 5) * opts.clips;
    if (!(this.K >= 1)) throw new Error(`SedLoader: textsPerClip must be >= 1`);
    this.policy = opts.positives ?? 'label';
  }

  protected async assemble(st: LoaderState): Promise<SedBatch> {
    const { A, K } = this;
    const S = this.clipSamples;
    const cands = this.lookahead(st, A);
    const audio = new Float32Array(A * S);
    const audioMask = new Uint8Array(A), clipIndex = new Int32Array(A).fill(-1);
    const texts: string[] = new Array(K).fill(''), textLabels: string[] = new Array(K).fill('');
    const textMask = new Uint8Array(K);
    const slotOf = new Map<string, number>();
    const clips: ClipItem[] = [];
    const cur = { epoch: st.epoch, position: st.position };
    for (const c of cands) {
      const it = await c.item;
      const fresh: LoaderEvent[] = [];
      for (const e of it.events) if (!slotOf.has(e.caption) && !fresh.some((f) => f.caption === e.caption)) fresh.push(e);
      let take = fresh;
      if (slotOf.size + fresh.length > K) {
        if (clips.length > 0) break; // text slots full: the clip opens the next batch
        take = fresh.slice(0, K - slotOf.size);
      }
      const i = clips.length;
      clips.push(it);
      audio.set(it.audio, i * S);
      audioMask[i] = 1;
      clipIndex[i] = this.indexAt(c.epoch, c.position);
      for (const e of take) {
        const k = slotOf.size;
        slotOf.set(e.caption, k);
        texts[k] = e.caption; textLabels[k] = e.label; textMask[k] = 1;
      }
      this.forget(c.epoch, c.position);
      this.advance(cur);
    }
    // Positives: every (clip, slot) pair whose clip has a matching event.
    const pa: number[] = [], pt: number[] = [], pf: number[] = [];
    for (let k = 0; k < slotOf.size; k++) {
      for (let i = 0; i < clips.length; i++) {
        let m = 0;
        for (const e of clips[i].events) {
          if (this.policy === 'label' ? e.label === textLabels[k] : e.caption === texts[k]) m |= e.mask;
        }
        if (m !== 0) { pa.push(i); pt.push(k); pf.push(m >>> 0); }
      }
    }
    return {
      A, K, L: FRAMES, audio, audioMask, clipIndex, texts, textMask, textLabels,
      positives: { audio: Uint32Array.from(pa), text: Uint32Array.from(pt), frames: Uint32Array.from(pf) },
      state: { epoch: cur.epoch, position: cur.position, rng: st.rng },
    };
  }
}

export interface GlobalLoaderOptions extends LoaderOptions {
  /** 'clip' (default): the clip caption; 'event': the caption of one of its events, drawn with the loader's Rng. */
  caption?: 'clip' | 'event';
}

/** Global (contrastive) batches: G clips and one caption each. */
export class GlobalLoader extends StreamLoader<GlobalBatch> {
  private readonly mode: 'clip' | 'event';
  constructor(provider: ClipProvider, opts: GlobalLoaderOptions) {
    super(provider, opts);
    this.mode = opts.caption ?? 'clip';
  }

  protected async assemble(st: LoaderState): Promise<GlobalBatch> {
    const G = this.n, S = this.clipSamples;
    const cands = this.lookahead(st, G);
    const audio = new Float32Array(G * S);
    const captions: string[] = [];
    const clipIndex = new Int32Array(G), captionGroup = new Int32Array(G);
    const rng = new Rng(st.rng);
    const first = new Map<string, number>();
    const cur = { epoch: st.epoch, position: st.position };
    for (let i = 0; i < G; i++) {
      const c = cands[i];
      const it = await c.item;
      audio.set(it.audio, i * S);
      clipIndex[i] = this.indexAt(c.epoch, c.position);
      const cap = this.mode === 'event' && it.events.length > 0 ? rng.pick(it.events).caption : it.caption;
      captions.push(cap);
      if (!first.has(cap)) first.set(cap, i);
      captionGroup[i] = first.get(cap)!;
      this.forget(c.epoch, c.position);
      this.advance(cur);
    }
    return { G, audio, captions, clipIndex, captionGroup, state: { epoch: cur.epoch, position: cur.position, rng: rng.state } };
  }
}

/**
 * A provider that simulates clip i of a split on request: simulateClip(pool, split, hashSeed(seed, split, i)), the
 * same clip `flam data build` writes as file i of that split for the same seed and options.
 */
export function simulatedProvider(pool: SourcePool, split: Split, size: number, seed: number, sim: Partial<SimOptions> = {}): ClipProvider {
  return {
    size,
    get(i: number): ClipItem {
      if (!(Number.isInteger(i) && i >= 0 && i < size)) throw new Error(`simulatedProvider: index ${i} outside 0..${size - 1}`);
      const c = simulateClip(pool, split, clipSeed(seed, split, i), sim);
      return { audio: c.audio, caption: c.caption, events: c.events.map((e) => ({ label: e.label, caption: e.caption, mask: e.mask })) };
    },
  };
}

/** Seed of clip i of a split in a build with seed `seed`. */
export function clipSeed(seed: number, split: Split, i: number): number { return hashSeed(seed, split, i); }
