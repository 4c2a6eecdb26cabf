// `flam data build`: the source library (cached) and N simulated mixtures split into train / validation / test.
//
// Layout of --out DIR:
//   DIR/sources/                   the source library cache (manifest.json + wav/), unless --library names another
//   DIR/<split>/audio/<split>_NNNNNN.wav   10 s, 48 kHz, mono (PCM 16 by default, --format float32)
//   DIR/<split>/labels.tsv         DCASE: filename, onset, offset, event_label (one row per active interval)
//   DIR/<split>/meta.tsv           DCASE metadata: filename, duration
//   DIR/<split>/captions.json      per clip: caption, events (label, caption, novelty, source, extent, offset_db,
//                                  intervals, u32 frame mask), background, reference level
//   DIR/dataset.json               build parameters, counts, classes with their seen / held-out phrasings, split rule
// Clip i of a split is simulateClip(pool, split, hashSeed(seed, split, i)): independent of N and of the other splits.

import { mkdirSync, readFileSync, readdirSync, existsSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readWav, writeWav } from '../../audio/wav.ts';
import { CLASSES, heldOutPhrasings, SPLITS, type ClassDef, type Split } from '../../data/classes.ts';
import { clipSeed, type ClipItem, type ClipProvider } from '../../data/loader.ts';
import { clipRecord, clipRows, CLIP_SAMPLES, CLIP_SECONDS, DEFAULT_SIM, FRAMES, FRAME_SAMPLES, makePool, SAMPLE_RATE, simulateClip, type PoolSource, type SimOptions } from '../../data/simulate.ts';
import { formatEventTable, formatMetaTable } from '../../eval/tsv.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { buildLibrary, loadLibrary, type LibraryOptions } from './library.ts';
import { SimWorkers, type PoolSpec, type SimResult } from './parallel.ts';
import { syntheticSources, SYNTH_CLASSES } from '../../data/synthetic.ts';
import { availableParallelism } from 'node:os';

export const DATASET_VERSION = 1;

export interface DatasetOptions {
  out: string;
  clips: number;
  seed: number;
  /** Library cache directory (default <out>/sources). */
  library?: string;
  /** Library plan options (seed, packages, per-class counts...). */
  libraryOptions?: Omit<LibraryOptions, 'dir' | 'log'>;
  /** Instead of building a library: these sources and classes (tests, benchmarks; simulated in this thread). */
  sources?: { sources: PoolSource[]; classes: readonly ClassDef[]; description: string };
  /** Instead of building a library: the synthetic source set (src/data/synthetic.ts). */
  synthetic?: { seed: number; perClass: number };
  /** Worker threads simulating clips (default min(2, available cores); 1 = in this thread). */
  workers?: number;
  /** Fractions of the clips in validation and test (default 0.1 each). */
  fractions?: { validation: number; test: number };
  format?: 'pcm16' | 'float32';
  sim?: Partial<SimOptions>;
  log?: (msg: string) => void;
}

export interface DatasetSummary {
  out: string;
  counts: Record<Split, number>;
  seconds: { library: number; simulate: number; total: number };
  clipsPerSecond: number;
}

/** Clip counts per split: round(f N) validation and test clips (test first gets what remains), the rest train. */
export function splitCounts(n: number, f = { validation: 0.1, test: 0.1 }): Record<Split, number> {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`--clips must be a non-negative integer (got ${n})`);
  const test = Math.min(n, Math.round(f.test * n));
  const validation = Math.min(n - test, Math.round(f.validation * n));
  return { train: n - test - validation, validation, test };
}

export const clipName = (split: Split, i: number) => `${split}_${String(i).padStart(6, '0')}.wav`;

/**
 * Writes a clip atomically (temporary file + rename, so a reader never sees a torn WAV) but without fsync: a
 * corpus is regenerated rather than recovered, and an fsync per 1 MB clip costs more than simulating it. The
 * index files (labels.tsv, meta.tsv, captions.json, dataset.json) are written with fsync after the clips, and a
 * split without captions.json is not readable (datasetProvider), so an interrupted build is never mistaken for a
 * complete one.
 */
function writeClip(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** Builds the dataset; returns counts and timings. */
export async function buildDataset(o: DatasetOptions): Promise<DatasetSummary> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  let sources: PoolSource[], classes: readonly ClassDef[], libDesc: Record<string, unknown>;
  let spec: PoolSpec | null = null;
  if (o.sources) {
    ({ sources, classes } = o.sources);
    libDesc = { description: o.sources.description, sources: sources.length };
  } else if (o.synthetic) {
    sources = syntheticSources(o.synthetic.seed, o.synthetic.perClass);
    classes = SYNTH_CLASSES;
    spec = { kind: 'synthetic', ...o.synthetic };
    libDesc = { description: 'synthetic', ...o.synthetic, sources: sources.length };
  } else {
    const dir = o.library ?? join(o.out, 'sources');
    const m = await buildLibrary({ ...(o.libraryOptions ?? {}), dir, log });
    sources = loadLibrary(dir).sources;
    classes = CLASSES;
    libDesc = { dir, seed: m.seed, plan_sha256: m.plan_sha256, packages: m.packages, sources: m.sources.length };
    spec = { kind: 'library', dir };
  }
  const tLib = performance.now();
  const pool = makePool(sources, classes);
  const counts = splitCounts(o.clips, o.fractions);
  const format = o.format ?? 'pcm16';
  const sim = { ...DEFAULT_SIM, ...(o.sim ?? {}) };
  const total = o.clips;
  let done = 0, lastLog = performance.now();
  const tSim0 = performance.now();
  const nw = spec ? Math.max(1, Math.floor(o.workers ?? Math.min(2, availableParallelism()))) : 1;
  const workers = nw > 1 && total > 0 ? new SimWorkers(nw, spec!, sim) : null;
  try {
    if (workers) await workers.started();
    for (const split of SPLITS) {
      const n = counts[split];
      const dir = join(o.out, split);
      mkdirSync(join(dir, 'audio'), { recursive: true });
      rmSync(join(dir, 'captions.json'), { force: true }); // the split is unreadable until its clips are all written
      const rows: ReturnType<typeof clipRows> = [];
      const records: ReturnType<typeof clipRecord>[] = [];
      // Up to 2 clips per worker in flight; results are written in clip order.
      const inflight: Promise<SimResult>[] = [];
      const request = (i: number): Promise<SimResult> => {
        const name = clipName(split, i), seed = clipSeed(o.seed, split, i);
        if (workers) return workers.run(split, seed, name);
        const clip = simulateClip(pool, split, seed, sim);
        return Promise.resolve({ audio: clip.audio, record: clipRecord(name, clip), rows: clipRows(name, clip) });
      };
      let issued = 0;
      for (let i = 0; i < n; i++) {
        while (issued < n && issued < i + 2 * nw) {
          const p = request(issued++);
          p.catch(() => {}); // a failure is reported by the await below; later ones must not be unhandled
          inflight.push(p);
        }
        const r = await inflight.shift()!;
        writeClip(join(dir, 'audio', r.record.file), writeWav(r.audio, SAMPLE_RATE, { format }));
        rows.push(...r.rows);
        records.push(r.record);
        done++;
        const now = performance.now();
        if (now - lastLog > 2000 || done === total) {
          lastLog = now;
          log(`${split} ${i + 1}/${n}  (all: ${done}/${total}, ${(done / ((now - tSim0) / 1000)).toFixed(1)} clips/s, ${nw} worker${nw > 1 ? 's' : ''})`);
        }
      }
      // Clips of an earlier, larger build of this split are removed.
      for (const f of readdirSync(join(dir, 'audio'))) {
        const m = new RegExp(`^${split}_(\\d{6})\\.wav$`).exec(f);
        if (m && Number(m[1]) >= n) rmSync(join(dir, 'audio', f));
      }
      const enc = (s: string) => new TextEncoder().encode(s);
      atomicWriteSync(join(dir, 'labels.tsv'), enc(formatEventTable(rows)));
      atomicWriteSync(join(dir, 'meta.tsv'), enc(formatMetaTable(records.map((r) => ({ filename: r.file, duration: CLIP_SECONDS })))));
      atomicWriteSync(join(dir, 'captions.json'), enc(JSON.stringify({
        version: DATASET_VERSION, split, sample_rate: SAMPLE_RATE, duration: CLIP_SECONDS, frames: FRAMES, frame_hop: FRAME_SAMPLES / SAMPLE_RATE,
        mask_bits: 'bit l (value 1 << l) of mask = frame l, covering [0.3125 l, 0.3125 (l + 1)) s',
        files: records,
      }) + '\n'));
    }
  } finally {
    await workers?.close();
  }
  const tEnd = performance.now();
  const simSeconds = (tEnd - tSim0) / 1000;
  const summary: DatasetSummary = {
    out: o.out, counts,
    seconds: { library: +((tLib - t0) / 1000).toFixed(3), simulate: +simSeconds.toFixed(3), total: +((tEnd - t0) / 1000).toFixed(3) },
    clipsPerSecond: total > 0 ? +(total / simSeconds).toFixed(3) : 0,
  };
  const classInfo = classes.map((c) => {
    const h = c.role === 'event' && !c.heldOut ? heldOutPhrasings(c.captions.length) : 0;
    return {
      label: c.label, group: c.group, role: c.role, held_out: !!c.heldOut,
      captions_seen: c.heldOut ? [] : c.captions.slice(0, c.captions.length - h),
      captions_test_only: c.heldOut ? c.captions : c.captions.slice(c.captions.length - h),
      sources: Object.fromEntries(SPLITS.map((s) => [s, pool.sources.filter((x) => x.label === c.label && x.split === s).length])),
    };
  });
  atomicWriteSync(join(o.out, 'dataset.json'), new TextEncoder().encode(JSON.stringify({
    version: DATASET_VERSION, seed: o.seed, clips: total, counts, format, workers: nw, sample_rate: SAMPLE_RATE, duration: CLIP_SECONDS,
    frames: FRAMES, frame_hop: FRAME_SAMPLES / SAMPLE_RATE, simulator: sim, library: libDesc,
    split_rule: 'held-out classes: test only; held-out phrasings (last max(1, floor(n/4)) of each class): test only; ' +
      'sources split per class by hash of id (10 % validation, 10 % test, rest train; held-out classes all test); ' +
      'clip i of split s = simulateClip(pool, s, hashSeed(seed, s, i))',
    classes: classInfo, timing: summary.seconds, clips_per_second: summary.clipsPerSecond,
  }, null, 1) + '\n'));
  return summary;
}

/** A built split read from disk: captions.json for the labels, the WAV of clip i read on request. */
export function datasetProvider(dir: string, split: Split): ClipProvider {
  const capPath = join(dir, split, 'captions.json');
  if (!existsSync(capPath)) throw new Error(`${capPath} not found: build the dataset with 'flam data build --out ${dir}'`);
  const meta = JSON.parse(readFileSync(capPath, 'utf8')) as { files: { file: string; caption: string; events: { label: string; caption: string; mask: number }[] }[] };
  const files = meta.files;
  return {
    size: files.length,
    async get(i: number): Promise<ClipItem> {
      const f = files[i];
      if (!f) throw new Error(`${capPath}: no clip ${i} (${files.length} clips)`);
      const path = join(dir, split, 'audio', f.file);
      const bytes = await readFile(path);
      const w = readWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
      if (w.sampleRate !== SAMPLE_RATE || w.samples[0].length !== CLIP_SAMPLES) {
        throw new Error(`${path}: ${w.samples[0].length} samples at ${w.sampleRate} Hz, expected ${CLIP_SAMPLES} at ${SAMPLE_RATE}`);
      }
      return { audio: w.samples[0], caption: f.caption, events: f.events.map((e) => ({ label: e.label, caption: e.caption, mask: e.mask >>> 0 })) };
    },
  };
}
