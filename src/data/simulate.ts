// Mixture simulator: 10 s clips at 48 kHz with frame labels and one caption per event (spec §9.3).
// Browser-safe (pure functions on arrays); src/cli/data/dataset.ts writes the results to WAV/TSV/JSON.
//
// One clip, given a source pool, a split and a seed (every draw from one Rng(seed), so a clip is a pure function of
// (pool, split, seed, options)):
//  1. Reference level R ~ U(refDb) (default U(-50, -40) dB, A-weighted, see src/data/activity.ts). With probability
//     `backgroundProb` a bed is laid at loudness R: coloured noise (white/pink/brown, slowly modulated) with
//     probability `noiseBackgroundProb`, else a background-class source of the split, looped with 0.5 s crossfades.
//  2. N ~ U{minEvents..maxEvents} (1..10) events. Each: a class uniformly among the event classes that have
//     sources in the split, a source of that class uniformly; pattern: 10 % split into 2-3 fragments (cut points
//     uniform, gaps U(0.1, 1) s), 10 % repeated 2-3 times (gaps U(0.1, 1) s), else the source once.
//  3. Placement: onset uniform over [0, 10 s - length]; rejected (up to 50 tries, then the event is dropped) when
//     more than `maxOverlap` (3) event extents would cover one instant, or when it would overlap an event of the
//     same class (DCASE tables forbid overlapping same-label events).
//  4. Loudness offset O ~ U(6, 30) dB: the event's gain makes its loudness (A-weighted RMS over its windows within
//     40 dB of its loudest 10 ms window) equal R + O. THE REFERENCE IS R, the bed's loudness (also drawn when no
//     bed is laid), so "offset" = event-to-background ratio. 10 ms raised-cosine fades on every segment.
//  5. Mix; if the peak exceeds `peakDb` (-1 dBFS) everything (bed and events) is scaled down by the same factor,
//     which keeps every offset; R and the levels reported are after that scaling.
//  6. Labels (step 7 of §9.3): each event's own track, A-weighted, in 10 ms windows on the clip's grid; windows at
//     or above (its loudest window + floorDb), floorDb = -70 dB, are active; runs closer than 50 ms merged. The
//     active intervals are the event's DCASE rows; frame l (l = 0..31, [0.3125 l, 0.3125 (l+1)) s) is set in the
//     u32 mask when an active interval overlaps it.
//  7. Caption: one phrasing of the event's class allowed in the split (src/data/classes.ts phrasingsFor); the clip
//     caption (for the global batch) joins the captions of the up to 3 loudest distinct classes, in onset order.

import { activeIntervals, frameMask, loudnessDb, windowLevels, DEFAULT_FLOOR_DB, SILENCE_DB } from './activity.ts';
import { phrasingsFor, type ClassDef, type Novelty, type Split } from './classes.ts';
import { hashSeed, Rng } from './rng.ts';

export const CLIP_SECONDS = 10;
export const SAMPLE_RATE = 48000;
export const CLIP_SAMPLES = CLIP_SECONDS * SAMPLE_RATE;
export const FRAMES = 32;
/** Samples per label frame: 0.3125 s. */
export const FRAME_SAMPLES = CLIP_SAMPLES / FRAMES;

/** One source sound: mono, 48 kHz. */
export interface PoolSource {
  id: string;
  label: string;
  audio: Float32Array;
  /** Loudness (dB, see activity.ts); computed by makePool when absent. */
  loudnessDb?: number;
}

type MeasuredSource = PoolSource & { loudnessDb: number; split: Split };

interface SplitSet {
  /** Event classes with at least one source in the split, sorted. */
  eventClasses: string[];
  byClass: Map<string, MeasuredSource[]>;
  backgrounds: MeasuredSource[];
}

/** Sources grouped by split and class, with loudness. Build with {@link makePool}. */
export interface SourcePool {
  classes: Map<string, ClassDef>;
  sources: MeasuredSource[];
  byId: Map<string, MeasuredSource>;
  splits: Record<Split, SplitSet>;
}

/** Fractions of each seen class's sources reserved for validation and test. */
export interface SourceSplitOptions { validation?: number; test?: number }

/**
 * Split of source instances (never of mixtures): the sources of a held-out class are test-only; the n sources of
 * any other class are ordered by hashSeed('source-split', id) and the first round(test n) go to test, the next
 * round(validation n) to validation, the rest (always >= 1) to train. Depends only on the source ids, so a source
 * is in the same split in every build and for every mixture seed.
 */
export function assignSourceSplits(sources: readonly { id: string; label: string }[], classes: Map<string, ClassDef>, opts: SourceSplitOptions = {}): Map<string, Split> {
  const fv = opts.validation ?? 0.1, ft = opts.test ?? 0.1;
  const byClass = new Map<string, string[]>();
  for (const s of sources) {
    if (!classes.has(s.label)) throw new Error(`source '${s.id}' has unknown class '${s.label}'`);
    let l = byClass.get(s.label);
    if (!l) byClass.set(s.label, (l = []));
    l.push(s.id);
  }
  const out = new Map<string, Split>();
  for (const [label, ids] of byClass) {
    if (classes.get(label)!.heldOut) { for (const id of ids) out.set(id, 'test'); continue; }
    const order = [...ids].sort((a, b) => hashSeed('source-split', a) - hashSeed('source-split', b) || (a < b ? -1 : 1));
    const n = order.length;
    let nt = Math.round(ft * n), nv = Math.round(fv * n);
    while (nt + nv > n - 1 && (nt > 0 || nv > 0)) { if (nv >= nt && nv > 0) nv--; else nt--; }
    order.forEach((id, i) => out.set(id, i < nt ? 'test' : i < nt + nv ? 'validation' : 'train'));
  }
  return out;
}

/** Groups sources by split and class and measures loudness where missing. Silent sources are rejected. */
export function makePool(sources: readonly PoolSource[], classes: readonly ClassDef[], opts: SourceSplitOptions = {}): SourcePool {
  const cmap = new Map(classes.map((c) => [c.label, c]));
  const split = assignSourceSplits(sources, cmap, opts);
  const pool: SourcePool = {
    classes: cmap, sources: [], byId: new Map(),
    splits: { train: emptySet(), validation: emptySet(), test: emptySet() },
  };
  const seen = new Set<string>();
  for (const s of sources) {
    if (seen.has(s.id)) throw new Error(`source id '${s.id}' appears twice`);
    seen.add(s.id);
    const loud = s.loudnessDb ?? loudnessDb(windowLevels(s.audio));
    if (!(loud > SILENCE_DB)) throw new Error(`source '${s.id}' is silent`);
    if (s.audio.length === 0) throw new Error(`source '${s.id}' is empty`);
    const sp = split.get(s.id)!;
    const full = { ...s, loudnessDb: loud, split: sp };
    pool.sources.push(full);
    pool.byId.set(full.id, full);
    const set = pool.splits[sp];
    if (cmap.get(s.label)!.role === 'background') set.backgrounds.push(full);
    else {
      let l = set.byClass.get(s.label);
      if (!l) set.byClass.set(s.label, (l = []));
      l.push(full);
    }
  }
  for (const sp of ['train', 'validation', 'test'] as const) pool.splits[sp].eventClasses = [...pool.splits[sp].byClass.keys()].sort();
  return pool;
}

function emptySet(): SplitSet { return { eventClasses: [], byClass: new Map(), backgrounds: [] }; }

/** Simulator options (defaults in {@link DEFAULT_SIM}). */
export interface SimOptions {
  minEvents: number;
  maxEvents: number;
  maxOverlap: number;
  /** Event loudness offset range relative to the reference level R (dB). */
  offsetDb: [number, number];
  /** Range of the reference (background) loudness R (dB, A-weighted). */
  refDb: [number, number];
  backgroundProb: number;
  /** Probability that a bed is coloured noise rather than a background source (1 when the split has none). */
  noiseBackgroundProb: number;
  fadeS: number;
  fragmentProb: number;
  repeatProb: number;
  floorDb: number;
  mergeGapS: number;
  /** Largest peak of the mixture (dBFS) before it is scaled down. */
  peakDb: number;
  /** Keep each event's track (samples [start, end)) in the result (tests, analysis). */
  keepTracks: boolean;
}

export const DEFAULT_SIM: Readonly<SimOptions> = Object.freeze({
  minEvents: 1, maxEvents: 10, maxOverlap: 3, offsetDb: [6, 30] as [number, number], refDb: [-50, -40] as [number, number],
  backgroundProb: 0.8, noiseBackgroundProb: 0.5, fadeS: 0.01, fragmentProb: 0.1, repeatProb: 0.1,
  floorDb: DEFAULT_FLOOR_DB, mergeGapS: 0.05, peakDb: -1, keepTracks: false,
});

/** A piece of a source placed in an event: source samples [from, to) at event-relative sample `at`. */
export interface Segment { from: number; to: number; at: number }

export interface SimEvent {
  label: string;
  caption: string;
  novelty: Novelty;
  source: string;
  pattern: 'single' | 'fragments' | 'repeat';
  segments: Segment[];
  /** Extent in clip samples, [start, end). */
  start: number;
  end: number;
  /** Loudness offset over the reference R (dB), the drawn value. */
  offsetDb: number;
  /** Linear gain applied to the source samples (after the peak scaling). */
  gain: number;
  /** Active intervals in clip samples, [a, b). */
  intervals: [number, number][];
  /** Bit l = frame l active. */
  mask: number;
  /** The event's own samples over [start, end) (only with keepTracks). */
  track?: Float32Array;
}

export interface Background { kind: 'noise' | 'source'; color?: 'white' | 'pink' | 'brown'; source?: string; label?: string; loudnessDb: number }

export interface SimClip {
  split: Split;
  seed: number;
  audio: Float32Array;
  /** Reference loudness R after the peak scaling (dB). */
  refDb: number;
  /** Peak scaling applied (dB, <= 0). */
  scaleDb: number;
  background: Background | null;
  /** Events by onset (start). */
  events: SimEvent[];
  /** Clip-level caption for the global batch. */
  caption: string;
}

const dbToLin = (db: number) => Math.pow(10, db / 20);

/** Simulates one clip of `split` from `seed` (see the file header for the procedure). */
export function simulateClip(pool: SourcePool, split: Split, seed: number, options: Partial<SimOptions> = {}): SimClip {
  const o: SimOptions = { ...DEFAULT_SIM, ...options };
  if (!(o.minEvents >= 1 && o.maxEvents >= o.minEvents)) throw new Error(`simulate: bad event count range ${o.minEvents}..${o.maxEvents}`);
  if (!(o.offsetDb[1] >= o.offsetDb[0])) throw new Error(`simulate: bad offset range ${o.offsetDb}`);
  const set = pool.splits[split];
  if (set.eventClasses.length === 0) throw new Error(`simulate: the source pool has no event sources in split '${split}'`);
  const r = new Rng(seed);
  const N = CLIP_SAMPLES, sr = SAMPLE_RATE;
  let ref = r.uniform(o.refDb[0], o.refDb[1]);

  // 1. background bed (its loudness measured on its first 2 s: noise is stationary up to the slow modulation, a
  //    looped source bed carries the loudness of its source)
  const acc = new Float64Array(N);
  let background: Background | null = null;
  if (r.float() < o.backgroundProb) {
    const useNoise = set.backgrounds.length === 0 || r.float() < o.noiseBackgroundProb;
    let bed: Float64Array, l: number;
    if (useNoise) {
      const color = r.pick(['white', 'pink', 'brown'] as const);
      bed = colouredNoise(r, N, color);
      background = { kind: 'noise', color, loudnessDb: ref };
      l = loudnessDb(windowLevels(bed.subarray(0, 2 * sr)));
    } else {
      const src = r.pick(set.backgrounds);
      bed = loopTo(src.audio, N, r.int(0, src.audio.length - 1), Math.round(0.5 * sr));
      background = { kind: 'source', source: src.id, label: src.label, loudnessDb: ref };
      l = src.loudnessDb;
    }
    if (l > SILENCE_DB) scaleInto(acc, bed, dbToLin(ref - l));
  }

  // 2-4. events
  const n = r.int(o.minEvents, o.maxEvents);
  const placed: SimEvent[] = [];
  const fade = Math.max(1, Math.round(o.fadeS * sr));
  for (let k = 0; k < n; k++) {
    const label = r.pick(set.eventClasses);
    const src = r.pick(set.byClass.get(label)!);
    const cls = pool.classes.get(label)!;
    const { captions, novelty } = phrasingsFor(cls, split);
    const caption = r.pick(captions);
    const offsetDb = r.uniform(o.offsetDb[0], o.offsetDb[1]);
    let { pattern, segments } = makeSegments(r, src.audio.length, o, sr);
    let len = segments[segments.length - 1].at + segments[segments.length - 1].to - segments[segments.length - 1].from;
    if (len > N) { // too long for the clip: the source once, or a random N-sample cut of it
      const from = src.audio.length > N ? r.int(0, src.audio.length - N) : 0;
      const to = Math.min(src.audio.length, from + N);
      pattern = 'single'; segments = [{ from, to, at: 0 }]; len = to - from;
    }
    let start = -1;
    for (let t = 0; t < 50; t++) {
      const s = r.int(0, N - len);
      if (fits(placed, s, s + len, label, o.maxOverlap)) { start = s; break; }
    }
    if (start < 0) continue;
    placed.push({ label, caption, novelty, source: src.id, pattern, segments, start, end: start + len, offsetDb, gain: dbToLin(ref + offsetDb - src.loudnessDb), intervals: [], mask: 0 });
  }
  // The first event always fits (nothing is placed yet), so at least one event is placed.
  if (placed.length === 0) throw new Error('simulate: internal error: no event placed');
  placed.sort((a, b) => a.start - b.start || (a.label < b.label ? -1 : 1));

  // Render tracks and mix.
  const tracks: Float32Array[] = [];
  const srcById = pool.byId;
  const ramp = fadeRamp(fade);
  for (const e of placed) {
    const src = srcById.get(e.source)!;
    const tr = new Float32Array(e.end - e.start);
    for (const seg of e.segments) addSegment(tr, seg, src.audio, e.gain, ramp);
    tracks.push(tr);
    addInto(acc, e.start, tr);
  }

  // 5. peak scaling
  const peak = peakAbs(acc);
  const limit = dbToLin(o.peakDb);
  const scale = peak > limit ? limit / peak : 1;
  const audio = toFloat32(acc, scale);
  if (scale !== 1) {
    ref += 20 * Math.log10(scale);
    if (background) background.loudnessDb = ref;
    for (let k = 0; k < placed.length; k++) {
      placed[k].gain *= scale;
      scaleInPlace(tracks[k], scale);
    }
  }

  // 6. labels from each event's own track
  for (let k = 0; k < placed.length; k++) {
    const e = placed[k];
    const lv = windowLevels(tracks[k], { gridOffset: e.start, sampleRate: sr });
    e.intervals = activeIntervals(lv, { floorDb: o.floorDb, mergeGapS: o.mergeGapS, sampleRate: sr });
    e.mask = frameMask(e.intervals, FRAME_SAMPLES, FRAMES);
    if (o.keepTracks) e.track = tracks[k];
  }
  return { split, seed, audio, refDb: ref, scaleDb: 20 * Math.log10(scale), background, events: placed, caption: clipCaption(placed) };
}

/** Raised-cosine fade-in gains w[i] = 0.5 - 0.5 cos(pi (i + 0.5) / f), i < f (the fade-out is its mirror). */
function fadeRamp(f: number): Float32Array {
  const w = new Float32Array(f);
  for (let i = 0; i < f; i++) w[i] = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / f);
  return w;
}

/** tr[seg.at + i] += src[seg.from + i] * gain * fade(i), with the ramp (shortened to half the segment) at both ends. */
function addSegment(tr: Float32Array, seg: Segment, src: Float32Array, gain: number, ramp: Float32Array): void {
  const L = seg.to - seg.from;
  const f = Math.min(ramp.length, Math.floor(L / 2));
  const short = f < ramp.length ? fadeRamp(f) : ramp;
  const a = seg.at, b = seg.from;
  for (let i = 0; i < f; i++) tr[a + i] += src[b + i] * gain * short[i];
  for (let i = f; i < L - f; i++) tr[a + i] += src[b + i] * gain;
  for (let i = L - f; i < L; i++) tr[a + i] += src[b + i] * gain * short[L - 1 - i];
}

function scaleInto(out: Float64Array, x: Float64Array, g: number): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * g;
}

function toFloat32(x: Float64Array, g: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] * g;
  return y;
}

function scaleInPlace(x: Float32Array, g: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= g;
}

function addInto(acc: Float64Array, at: number, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) acc[at + i] += x[i];
}

function peakAbs(x: Float64Array): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) { const a = x[i] < 0 ? -x[i] : x[i]; if (a > p) p = a; }
  return p;
}

function makeSegments(r: Rng, n: number, o: SimOptions, sr: number): { pattern: SimEvent['pattern']; segments: Segment[] } {
  const u = r.float();
  const minPiece = Math.round(0.1 * sr);
  if (u < o.fragmentProb && n >= 2 * minPiece) {
    // 2 or 3 pieces, each at least 0.1 s: cut points drawn until they are 0.1 s apart (3 pieces fall back to 2).
    let cuts: number[] = [];
    const k = n >= 3 * minPiece ? r.int(2, 3) : 2;
    for (let t = 0; t < 10 && cuts.length !== k - 1; t++) {
      const c = Array.from({ length: k - 1 }, () => r.int(minPiece, n - minPiece)).sort((a, b) => a - b);
      if (c.every((x, i) => i === 0 || x - c[i - 1] >= minPiece)) cuts = c;
    }
    if (cuts.length === 0) cuts = [r.int(minPiece, n - minPiece)];
    const bounds = [0, ...cuts, n];
    const segs: Segment[] = [];
    let at = 0;
    for (let i = 0; i + 1 < bounds.length; i++) {
      segs.push({ from: bounds[i], to: bounds[i + 1], at });
      at += bounds[i + 1] - bounds[i] + Math.round(r.uniform(0.1, 1) * sr);
    }
    return { pattern: 'fragments', segments: segs };
  }
  if (u < o.fragmentProb + o.repeatProb) {
    const k = r.int(2, 3);
    const segs: Segment[] = [];
    let at = 0;
    for (let i = 0; i < k; i++) { segs.push({ from: 0, to: n, at }); at += n + Math.round(r.uniform(0.1, 1) * sr); }
    if (segs[k - 1].at + n <= CLIP_SAMPLES) return { pattern: 'repeat', segments: segs };
  }
  return { pattern: 'single', segments: [{ from: 0, to: n, at: 0 }] };
}

/** Whether [s, e) can be added: no same-label overlap, and at most maxOverlap extents at any instant. */
function fits(placed: readonly SimEvent[], s: number, e: number, label: string, maxOverlap: number): boolean {
  const over = placed.filter((p) => p.start < e && s < p.end);
  if (over.some((p) => p.label === label)) return false;
  if (over.length < maxOverlap) return true;
  // Sweep the overlapping extents (clipped to [s, e)) for their largest depth.
  const pts: [number, number][] = [];
  for (const p of over) { pts.push([Math.max(s, p.start), 1]); pts.push([Math.min(e, p.end), -1]); }
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // ends before starts at the same sample ([a, b) intervals)
  let d = 0, m = 0;
  for (const [, v] of pts) { d += v; if (d > m) m = d; }
  return m + 1 <= maxOverlap;
}

/** The largest number of event extents covering one sample. */
export function maxOverlapOf(events: readonly { start: number; end: number }[]): number {
  const pts: [number, number][] = [];
  for (const p of events) { pts.push([p.start, 1]); pts.push([p.end, -1]); }
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let d = 0, m = 0;
  for (const [, v] of pts) { d += v; if (d > m) m = d; }
  return m;
}

/**
 * Coloured noise (arbitrary level; the caller sets its loudness) with a slow (0.05-0.3 Hz) amplitude modulation of
 * depth up to 30 %. White = uniform noise; pink = Paul Kellet's filter (-3 dB/octave within 0.5 dB above ~10 Hz);
 * brown = leaky integrator (-6 dB/octave above ~40 Hz).
 */
export function colouredNoise(r: Rng, n: number, color: 'white' | 'pink' | 'brown'): Float64Array {
  const out = new Float64Array(n);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, br = 0;
  const fm = r.uniform(0.05, 0.3), ph = r.uniform(0, 2 * Math.PI), depth = r.uniform(0, 0.3);
  const c = color === 'white' ? 0 : color === 'pink' ? 1 : 2;
  const dw = (2 * Math.PI * fm) / SAMPLE_RATE;
  for (let i = 0; i < n; i++) {
    const w = r.float() * 2 - 1;
    let v: number;
    if (c === 0) v = w;
    else if (c === 1) {
      b0 = 0.99886 * b0 + w * 0.0555179; b1 = 0.99332 * b1 + w * 0.0750759; b2 = 0.969 * b2 + w * 0.153852;
      b3 = 0.8665 * b3 + w * 0.3104856; b4 = 0.55 * b4 + w * 0.5329522; b5 = -0.7616 * b5 - w * 0.016898;
      v = (b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362) * 0.11; b6 = w * 0.115926;
    } else { br = 0.995 * br + w * 0.1; v = br; }
    out[i] = v * (1 + depth * Math.sin(dw * i + ph));
  }
  return out;
}

/** Repeats x from `offset` to fill n samples, joining the loops with equal-power crossfades of `xf` samples. */
export function loopTo(x: Float32Array, n: number, offset: number, xf: number): Float64Array {
  const out = new Float64Array(n);
  const L = x.length;
  if (L === 0) return out;
  const c = Math.min(xf, Math.floor(L / 2));
  if (c === 0) { for (let i = 0; i < n; i++) out[i] = x[(offset + i) % L]; return out; }
  offset = Math.max(0, Math.min(offset, L - c - 1)); // every pass then adds at least one new sample
  if (L - offset >= n) { for (let i = 0; i < n; i++) out[i] = x[offset + i]; return out; }
  // Each loop contributes L - c new samples; the last c samples of a pass fade out while the next pass fades in.
  let pos = 0, srcStart = offset;
  while (pos < n) {
    for (let i = 0; srcStart + i < L && pos + i < n; i++) {
      const j = srcStart + i;
      let w = 1;
      if (pos > 0 && srcStart === 0 && i < c) w = Math.sin((Math.PI / 2) * (i + 0.5) / c); // fade in
      if (j >= L - c) w *= Math.cos((Math.PI / 2) * (j - (L - c) + 0.5) / c); // fade out
      out[pos + i] += x[j] * w;
    }
    pos += L - srcStart - c;
    srcStart = 0;
  }
  return out;
}

/** Clip caption: captions of the up to 3 loudest distinct classes, in onset order, as "a, b and c". */
export function clipCaption(events: readonly SimEvent[]): string {
  const best = new Map<string, SimEvent>();
  for (const e of events) { const b = best.get(e.label); if (!b || e.offsetDb > b.offsetDb) best.set(e.label, e); }
  const top = [...best.values()].sort((a, b) => b.offsetDb - a.offsetDb).slice(0, 3).sort((a, b) => a.start - b.start);
  const c = top.map((e) => e.caption);
  return c.length <= 1 ? (c[0] ?? '') : `${c.slice(0, -1).join(', ')} and ${c[c.length - 1]}`;
}

/** DCASE rows of a clip: one per active interval, by onset; times in seconds (6 decimals). */
export function clipRows(filename: string, clip: SimClip): { filename: string; onset: number; offset: number; label: string }[] {
  const rows: { filename: string; onset: number; offset: number; label: string }[] = [];
  for (const e of clip.events) for (const [a, b] of e.intervals) rows.push({ filename, onset: +(a / SAMPLE_RATE).toFixed(6), offset: +(b / SAMPLE_RATE).toFixed(6), label: e.label });
  rows.sort((x, y) => x.onset - y.onset || x.offset - y.offset || (x.label < y.label ? -1 : 1));
  return rows;
}

/** The JSON record of a clip in captions.json (see src/cli/data/dataset.ts). */
export function clipRecord(filename: string, clip: SimClip) {
  const s = (x: number) => +(x / SAMPLE_RATE).toFixed(6);
  return {
    file: filename, duration: CLIP_SECONDS, seed: clip.seed, caption: clip.caption,
    ref_db: +clip.refDb.toFixed(3), scale_db: +clip.scaleDb.toFixed(3),
    background: clip.background && { ...clip.background, loudnessDb: undefined, loudness_db: +clip.background.loudnessDb.toFixed(3) },
    events: clip.events.map((e) => ({
      label: e.label, caption: e.caption, novelty: e.novelty, source: e.source, pattern: e.pattern,
      start: s(e.start), end: s(e.end), offset_db: +e.offsetDb.toFixed(3),
      intervals: e.intervals.map(([a, b]) => [s(a), s(b)]),
      mask: e.mask >>> 0,
    })),
  };
}
