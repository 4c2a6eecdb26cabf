// GB/s of the remaining engine kernels on transformer-sized shapes (one run, same device): reductions, softmax,
// layer norm forward/backward, gather/scatter-add, strided copy (transpose), AdamW. Each is validated once against
// the float64 reference before timing.
import type { Runtime } from '../src/gpu/runtime.ts';
import { reduceOp } from '../src/ops/reduce.ts';
import { softmaxOp, softmaxBackwardOp } from '../src/ops/softmax.ts';
import { layerNormOp, layerNormBackwardOp } from '../src/ops/layer_norm.ts';
import { gatherOp, scatterAddOp, scatterPlan } from '../src/ops/gather.ts';
import { stridedGatherOp } from '../src/ops/copy.ts';
import { adamwOp } from '../src/ops/adamw.ts';
import { timeIt, report, deviceString, type BenchResult } from './util.ts';
import { reduceRef, softmaxRef, layerNormRef } from '../test/ref/ops.ts';

async function check(rt: Runtime, name: string, got: GPUBuffer, n: number, ref: Float64Array, tol = 1e-3): Promise<void> {
  const g = new Float32Array(await rt.read(got, 0, n * 4));
  let err = 0; for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(g[i] - ref[i]));
  if (!(err <= tol)) throw new Error(`bench ${name}: fails validation (max err ${err})`);
}

export async function benchKernels(rt: Runtime): Promise<BenchResult[]> {
  const device = deviceString(rt);
  const out: BenchResult[] = [];
  const R = 4096, C = 768, n = R * C;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
  const bx = rt.alloc(n * 4), by = rt.alloc(n * 4), bz = rt.alloc(n * 4), bm = rt.alloc(R * 4), bs = rt.alloc(R * 4);
  const g = rt.alloc(C * 4), b = rt.alloc(C * 4), dg = rt.alloc(C * 4), db = rt.alloc(C * 4);
  rt.upload(bx, x); rt.upload(by, x); rt.upload(g, new Float32Array(C).fill(1)); rt.upload(b, new Float32Array(C));
  const xd = Float64Array.from(x);
  // validation on the timed shapes
  reduceOp(rt, 'sum', bx, bz, R, C, 1); await check(rt, 'reduce_sum', bz, R, reduceRef('sum', xd, [R, C], 1), 1e-3);
  softmaxOp(rt, bx, bz, R, C); await check(rt, 'softmax', bz, n, softmaxRef(xd, R, C), 1e-5);
  layerNormOp(rt, bx, g, b, bz, bm, bs, R, C, 1e-5); await check(rt, 'layer_norm', bz, n, layerNormRef(xd, new Float64Array(C).fill(1), new Float64Array(C), R, C, 1e-5).y, 1e-4);
  const V = 8192, ntok = 4096;
  const idx = Uint32Array.from({ length: ntok }, (_, i) => (i * 2654435761) % V);
  const bidx = rt.alloc(ntok * 4); rt.upload(bidx, idx);
  const plan = scatterPlan(idx, V);
  const brs = rt.alloc((V + 1) * 4), bpos = rt.alloc(ntok * 4);
  rt.upload(brs, plan.rowStart); rt.upload(bpos, plan.pos);
  const table = rt.alloc(V * C * 4);
  const cases: [string, () => void, number][] = [
    ['reduce_sum [4096,768] over 768', () => reduceOp(rt, 'sum', bx, bz, R, C, 1), 4 * n],
    ['reduce_sum [4096,768] over 4096', () => reduceOp(rt, 'sum', bx, bz, 1, R, C), 4 * n],
    ['softmax [4096,768]', () => softmaxOp(rt, bx, bz, R, C), 8 * n],
    ['softmax_backward [4096,768]', () => softmaxBackwardOp(rt, bx, by, bz, R, C), 12 * n],
    ['layer_norm [4096,768]', () => layerNormOp(rt, bx, g, b, bz, bm, bs, R, C, 1e-5), 8 * n],
    ['layer_norm backward (dx, dgamma, dbeta)', () => layerNormBackwardOp(rt, bx, g, bm, bs, by, bz, dg, db, R, C), 16 * n],
    ['gather 4096 rows of [8192,768]', () => gatherOp(rt, table, bidx, bz, ntok, C, V), 8 * ntok * C],
    ['scatter-add (csr) into [8192,768]', () => scatterAddOp(rt, by, table, ntok, C, V, { rowStart: brs, pos: bpos }), 4 * (ntok + V) * C],
    ['transpose [4096,768]', () => stridedGatherOp(rt, bx, bz, [C, R], [1, C]), 8 * n],
    ['adamw 3.1M params', () => adamwOp(rt, bz, bx, by, table, n, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, 1), 28 * n],
  ];
  for (const [variant, fn, bytes] of cases) {
    const t = await timeIt(fn, () => rt.sync(), { minSamples: 3, maxTime: 1 });
    const r: BenchResult = { bench: 'kernels', variant, shape: variant.replace(/^[^[]*/, ''), device, median_ms: t.median, spread_ms: t.spread, gbps: bytes / t.median / 1e6 };
    report(r); out.push(r);
  }
  for (const buf of [bx, by, bz, bm, bs, g, b, dg, db, bidx, brs, bpos, table]) rt.release(buf);
  return out;
}
