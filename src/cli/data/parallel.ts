// Simulation on several cores: worker threads that each hold the source pool and simulate clips on request.
// Clips are pure functions of (pool, split, seed, options), so the result does not depend on the worker count.
import { Worker } from 'node:worker_threads';
import type { Split } from '../../data/classes.ts';
import { clipSeed, type ClipItem, type ClipProvider } from '../../data/loader.ts';
import type { clipRecord, clipRows, SimOptions } from '../../data/simulate.ts';

/** How a worker gets its pool: a built library directory, or the synthetic set. */
export type PoolSpec = { kind: 'library'; dir: string } | { kind: 'synthetic'; seed: number; perClass: number };

export interface SimResult { audio: Float32Array; record: ReturnType<typeof clipRecord>; rows: ReturnType<typeof clipRows> }

export class SimWorkers {
  private readonly workers: Worker[] = [];
  private readonly ready: Promise<void>[] = [];
  private readonly pending = new Map<number, { resolve: (r: SimResult) => void; reject: (e: Error) => void }>();
  private readonly load: number[] = [];
  private nextId = 0;

  constructor(n: number, pool: PoolSpec, sim: Partial<SimOptions> = {}) {
    for (let w = 0; w < n; w++) {
      // A .mjs entry that registers tsx in the worker thread (loader hooks are per thread), then loads the .ts.
      const worker = new Worker(new URL('./sim_worker.mjs', import.meta.url), { workerData: { pool, sim } });
      this.load.push(0);
      this.ready.push(new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (m: { ready?: boolean; id?: number; error?: string } & Partial<SimResult>) => {
          if (m.ready) { resolve(); return; }
          const p = this.pending.get(m.id!);
          if (!p) return;
          this.pending.delete(m.id!);
          this.load[w]--;
          if (m.error) p.reject(new Error(m.error)); else p.resolve({ audio: m.audio!, record: m.record!, rows: m.rows! });
        });
      }));
      worker.on('error', (e) => { for (const p of this.pending.values()) p.reject(e); this.pending.clear(); });
      this.workers.push(worker);
    }
  }

  /** Resolves when every worker has loaded its pool. */
  async started(): Promise<void> { await Promise.all(this.ready); }

  /** Simulates one clip on the least-loaded worker. */
  run(split: Split, seed: number, name: string): Promise<SimResult> {
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[w]) w = i;
    const id = this.nextId++;
    this.load[w]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[w].postMessage({ id, split, seed, name });
    });
  }

  async close(): Promise<void> { await Promise.all(this.workers.map((w) => w.terminate())); }
}

/**
 * On-the-fly training data without blocking the trainer's thread: clip i of `split` is simulated by a worker thread
 * (the same clip as simulatedProvider / `flam data build` with this seed), so the loader's prefetch overlaps the
 * simulation with the GPU step. Close the workers when done.
 */
export function workerProvider(workers: SimWorkers, split: Split, size: number, seed: number): ClipProvider {
  return {
    size,
    async get(i: number): Promise<ClipItem> {
      if (!(Number.isInteger(i) && i >= 0 && i < size)) throw new Error(`workerProvider: index ${i} outside 0..${size - 1}`);
      const r = await workers.run(split, clipSeed(seed, split, i), `${split}_${i}`);
      return { audio: r.audio, caption: r.record.caption, events: r.record.events.map((e) => ({ label: e.label, caption: e.caption, mask: e.mask })) };
    },
  };
}
