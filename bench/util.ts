// Bench helpers: GPU timing (wall time to onSubmittedWorkDone after a flush), medians, JSON lines, a table.
import Benchmark from 'benchmark';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../src/gpu/runtime.ts';

export interface BenchResult { bench: string; variant: string; shape: string; device: string; median_ms: number; spread_ms: number; [k: string]: unknown }

const results: BenchResult[] = [];
export const RESULTS_FILE = join(import.meta.dirname, 'results', 'results.jsonl');

export function deviceString(rt: Runtime): string {
  const a = rt.adapter;
  return `${a.description || a.device} (${a.vendor}, ${a.architecture})`;
}

/**
 * Time `run` (records GPU work or does CPU work; may be async) with benchmark.js in deferred mode; each sample ends
 * after `sync()` resolves (GPU: onSubmittedWorkDone). Returns the median and spread (IQR) in ms.
 */
export function timeIt(run: () => unknown, sync: () => Promise<unknown>, opts: { minSamples?: number; maxTime?: number } = {}): Promise<{ median: number; spread: number; samples: number }> {
  return new Promise((resolve, reject) => {
    const b = new Benchmark({
      defer: true, minSamples: opts.minSamples ?? 5, maxTime: opts.maxTime ?? 2, initCount: 1,
      fn: (d: { resolve(): void }) => { Promise.resolve(run()).then(sync).then(() => d.resolve(), reject); },
      onComplete: () => {
        const s = (b.stats.sample as number[]).map((x) => x * 1000).sort((x, y) => x - y);
        const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
        resolve({ median: q(0.5), spread: q(0.75) - q(0.25), samples: s.length });
      },
      onError: (e: unknown) => reject((e as { target?: { error?: unknown } })?.target?.error ?? e),
    });
    b.run({ async: true });
  });
}

export function report(r: BenchResult): void {
  results.push(r);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  appendFileSync(RESULTS_FILE, JSON.stringify({ ...r, time: new Date().toISOString() }) + '\n');
}

export function printTable(title: string, rows: BenchResult[] = results, rateKeys: string[] = []): void {
  console.log(`\n## ${title}`);
  const keys = ['bench', 'variant', 'shape', 'median_ms', 'spread_ms', ...rateKeys];
  console.log('| ' + keys.join(' | ') + ' |');
  console.log('|' + keys.map(() => '---').join('|') + '|');
  for (const r of rows) console.log('| ' + keys.map((k) => { const v = r[k]; return typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)) : String(v ?? ''); }).join(' | ') + ' |');
}

export function allResults(): BenchResult[] { return results; }
