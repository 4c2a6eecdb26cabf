// Elementwise GB/s and dispatch overhead per kernel.
import type { Runtime } from '../src/gpu/runtime.ts';
import { binaryOp, unaryOp } from '../src/ops/elementwise.ts';
import { timeIt, report, deviceString, type BenchResult } from './util.ts';

export async function benchElementwise(rt: Runtime): Promise<BenchResult[]> {
  const device = deviceString(rt);
  const out: BenchResult[] = [];
  const n = 1 << 24;
  const a = rt.alloc(n * 4), b = rt.alloc(n * 4), c = rt.alloc(n * 4);
  rt.upload(a, new Float32Array(n).fill(1)); rt.upload(b, new Float32Array(n).fill(2));
  for (const [variant, fn, bytes] of [
    ['add (vec4, same shape)', () => binaryOp(rt, 'add', a, [n], b, [n], c), 12 * n],
    ['add (strided broadcast [4096,4096]+[4096])', () => binaryOp(rt, 'add', a, [4096, 4096], b, [4096], c), 8 * n + 4 * 4096],
    ['gelu', () => unaryOp(rt, 'gelu', a, c, n), 8 * n],
  ] as [string, () => void, number][]) {
    const t = await timeIt(fn, () => rt.sync(), { minSamples: 3, maxTime: 1 });
    const r: BenchResult = { bench: 'elementwise', variant, shape: `${n}`, device, median_ms: t.median, spread_ms: t.spread, gbps: bytes / t.median / 1e6 };
    report(r); out.push(r);
  }
  // Dispatch overhead: 200 tiny dispatches in one flush vs one.
  const k = 200;
  const t1 = await timeIt(() => unaryOp(rt, 'neg', a, c, 64), () => rt.sync(), { minSamples: 5, maxTime: 1 });
  const tk = await timeIt(() => { for (let i = 0; i < k; i++) unaryOp(rt, 'neg', a, c, 64); }, () => rt.sync(), { minSamples: 5, maxTime: 1 });
  const r: BenchResult = { bench: 'dispatch', variant: 'per-dispatch overhead (200 in one flush)', shape: '64', device, median_ms: (tk.median - t1.median) / (k - 1), spread_ms: tk.spread / k, us_per_dispatch: ((tk.median - t1.median) / (k - 1)) * 1000 };
  report(r); out.push(r);
  rt.release(a); rt.release(b); rt.release(c);
  return out;
}
