// Simulator throughput (clips/s of 10 s, 48 kHz mixtures), CPU only: in this thread, and on 2 worker threads (the 2
// cores of the project's machines), with the real source library when one is built (data/corpus/sources, or
// FLAM_DATA_LIBRARY=DIR) and always with the synthetic set. Run alone with `node --import tsx bench/data.bench.ts`
// (no GPU needed) or through `npm run bench -- data`. 1-thread rows: median / IQR of the per-clip time; 2-worker
// rows: wall time / clips with 2 clips in flight per worker (median_ms is that mean, spread_ms 0). The figures
// depend on what else the 2 cores run: quote them with the load.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CLASSES } from '../src/data/classes.ts';
import { makePool, simulateClip, type PoolSource } from '../src/data/simulate.ts';
import { syntheticSources, SYNTH_CLASSES } from '../src/data/synthetic.ts';
import { clipSeed } from '../src/data/loader.ts';
import { loadLibrary } from '../src/cli/data/library.ts';
import { SimWorkers, type PoolSpec } from '../src/cli/data/parallel.ts';
import { report, type BenchResult } from './util.ts';

const DEFAULT_LIBRARY = join(import.meta.dirname, '..', 'data', 'corpus', 'sources');

function cpuDevice(): string {
  const c = cpus();
  return `CPU ${c[0]?.model ?? 'unknown'} x${c.length}`;
}

function stats(ms: number[]): { median: number; spread: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), spread: q(0.75) - q(0.25) };
}

/** Benchmarks the simulator; returns the rows it reported. */
export async function benchData(quick = false): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const device = cpuDevice();
  const libDir = process.env.FLAM_DATA_LIBRARY ?? DEFAULT_LIBRARY;
  const pools: { name: string; spec: PoolSpec; sources: PoolSource[]; classes: typeof CLASSES }[] = [
    { name: 'synthetic', spec: { kind: 'synthetic', seed: 1, perClass: 6 }, sources: syntheticSources(1, 6), classes: SYNTH_CLASSES },
  ];
  if (existsSync(join(libDir, 'manifest.json'))) pools.unshift({ name: 'library', spec: { kind: 'library', dir: libDir }, sources: loadLibrary(libDir).sources, classes: CLASSES });
  else console.log(`(no source library at ${libDir}: 'flam data build --out data/corpus ...' builds one; measuring the synthetic set only)`);
  const n = quick ? 16 : 60;
  for (const p of pools) {
    const pool = makePool(p.sources, p.classes);
    // Validate once: a clip is deterministic and 10 s long.
    const a = simulateClip(pool, 'train', 1), b = simulateClip(pool, 'train', 1);
    if (a.audio.length !== 480000 || !Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))) throw new Error('simulator check failed');
    for (let i = 0; i < 5; i++) simulateClip(pool, 'train', 100 + i); // warm-up
    const per: number[] = [];
    let events = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      events += simulateClip(pool, 'train', clipSeed(7, 'train', i)).events.length;
      per.push(performance.now() - t);
    }
    const wall = performance.now() - t0;
    const st = stats(per);
    const r1: BenchResult = { bench: 'data', variant: `simulate-1-thread-${p.name}`, shape: '10s@48k', device, median_ms: st.median, spread_ms: st.spread, clips_per_s: (n * 1000) / wall, events_per_clip: events / n };
    report(r1); rows.push(r1);
    // Two worker threads, each with its own pool.
    const w = new SimWorkers(2, p.spec);
    await w.started();
    for (let i = 0; i < 4; i++) await Promise.all([w.run('train', 900 + 2 * i, 'x'), w.run('train', 901 + 2 * i, 'x')]);
    const m = 2 * n;
    const t1 = performance.now();
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < m; i++) inflight.push(w.run('train', clipSeed(7, 'train', i), 'x'));
    await Promise.all(inflight);
    const wall2 = performance.now() - t1;
    await w.close();
    const r2: BenchResult = { bench: 'data', variant: `simulate-2-workers-${p.name}`, shape: '10s@48k', device, median_ms: wall2 / m, spread_ms: 0, clips_per_s: (m * 1000) / wall2 };
    report(r2); rows.push(r2);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchData(process.argv.includes('--quick'));
  const { printTable } = await import('./util.ts');
  printTable('data (simulator throughput)', rows, ['clips_per_s']);
  process.exit(0);
}
