// L_SED loss + backward: the chunked designs ('rowtile' = the default, 'fused' = the two-pass kernels of spec §8.1)
// against the naive path that materialises [A*L, K], at (A, K) = (64, 320), (256, 1280), (1024, 5120), D = 512,
// L = 32, K = 5A texts each positive in one clip. Records median wall time to onSubmittedWorkDone and the pool's
// high-water mark (peak_bytes: live bytes at rt.pool.resetPeak(), i.e. the inputs, plus everything the step
// allocates; extra_bytes = peak_bytes - live bytes at the reset). Where the naive path exceeds a device limit it is
// refused before submit; its peak is then computed from the tile count measured at the sizes where it runs.
import type { Runtime } from '../src/gpu/runtime.ts';
import { sizeClass } from '../src/gpu/pool.ts';
import { Tensor, tensor, scope } from '../src/tensor/tensor.ts';
import { backward } from '../src/autograd/tape.ts';
import { sedLoss, sedLossNaive, sedTargets, labelsFromOwners, type SedDesign, type SedTargets } from '../src/autograd/sim_loss.ts';
import { report, deviceString, type BenchResult } from './util.ts';
import { sedLossRef } from '../test/ref/sim_loss.ts';

import { mulberry32 as rng } from '../src/util/rng.ts';

const SIZES: [number, number][] = [[64, 320], [256, 1280], [1024, 5120]];
const L = 32, D = 512;


/** Unit-norm random rows. */
function unitRows(n: number, seed: number): Float32Array {
  const r = rng(seed), x = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    let s2 = 0;
    for (let d = 0; d < D; d++) { const v = r() - 0.5; x[i * D + d] = v; s2 += v * v; }
    const inv = 1 / Math.sqrt(s2);
    for (let d = 0; d < D; d++) x[i * D + d] *= inv;
  }
  return x;
}

interface Problem { A: number; K: number; a: Tensor; t: Tensor; alpha: Tensor; beta: Tensor; targets: SedTargets; host?: { a: Float32Array; t: Float32Array; alpha: Float32Array; beta: Float32Array; positives: [number, number, number][] } }

function problem(rt: Runtime, A: number, K: number, keepHost = false): Problem {
  const r = rng(A * 7919 + K);
  const owner = Array.from({ length: K }, (_, k) => Math.floor((k * A) / K));
  const frames = Array.from({ length: K }, () => { const on = Math.floor(r() * 32), len = 1 + Math.floor(r() * 16); let m = 0; for (let l = on; l < Math.min(32, on + len); l++) m |= 1 << l; return m >>> 0; });
  const lb = labelsFromOwners(A, owner, frames, L);
  const ha = unitRows(A * L, A + 1), ht = unitRows(K, K + 2);
  const halpha = Float32Array.from({ length: K }, () => 5 + 10 * r()), hbeta = Float32Array.from({ length: K }, () => -10 + 4 * r());
  const a = tensor(rt, ha, [A, L, D]), t = tensor(rt, ht, [K, D]), alpha = tensor(rt, halpha, [K]), beta = tensor(rt, hbeta, [K]);
  a.requiresGrad = t.requiresGrad = alpha.requiresGrad = true;
  return { A, K, a, t, alpha, beta, targets: sedTargets(rt, lb), host: keepHost ? { a: ha, t: ht, alpha: halpha, beta: hbeta, positives: lb.positives as [number, number, number][] } : undefined };
}

function dispose(p: Problem): void { for (const x of [p.a, p.t, p.alpha, p.beta]) { x.grad?.dispose(); x.dispose(); } p.targets.dispose(); }

type Variant = { name: 'chunked' | 'naive'; design?: SedDesign };

/** One loss + backward; the gradients are dropped afterwards. */
function step(p: Problem, v: Variant): void {
  scope(() => {
    const l = v.name === 'naive' ? sedLossNaive(p.a, p.t, p.alpha, p.beta, p.targets, { weight: 200 }) : sedLoss(p.a, p.t, p.alpha, p.beta, p.targets, { weight: 200, design: v.design });
    backward(l);
  });
  for (const x of [p.a, p.t, p.alpha]) { x.grad?.dispose(); x.grad = null; }
}

/** Every variant against the float64 reference once (loss and gradients) before timing. */
async function validate(rt: Runtime): Promise<void> {
  const p = problem(rt, 3, 15, true);
  const h = p.host!;
  const ref = sedLossRef(Float64Array.from(h.a), Float64Array.from(h.t), Float64Array.from(h.alpha), Float64Array.from(h.beta), { A: 3, K: 15, L, positives: h.positives }, D, 200);
  for (const v of [{ name: 'chunked', design: 'rowtile' }, { name: 'chunked', design: 'fused' }, { name: 'naive' }] as Variant[]) {
    const got = await scope(async () => {
      const l = v.name === 'naive' ? sedLossNaive(p.a, p.t, p.alpha, p.beta, p.targets, { weight: 200 }) : sedLoss(p.a, p.t, p.alpha, p.beta, p.targets, { weight: 200, design: v.design });
      backward(l);
      return [await l.data(), await p.a.grad!.data(), await p.t.grad!.data(), await p.alpha.grad!.data()];
    });
    for (const x of [p.a, p.t, p.alpha]) { x.grad?.dispose(); x.grad = null; }
    const refs = [[ref.loss], ref.da, ref.dt, ref.dalpha];
    got.forEach((g, j) => {
      let err = 0, mag = 0;
      for (let i = 0; i < g.length; i++) { err = Math.max(err, Math.abs(g[i] - refs[j][i])); mag = Math.max(mag, Math.abs(refs[j][i])); }
      if (err > 1e-4 * Math.max(1, mag)) throw new Error(`bench: sim_loss ${v.name}${v.design ? ` (${v.design})` : ''} fails validation (output ${j}: max err ${err}, max |ref| ${mag})`);
    });
  }
  dispose(p);
}

async function timeSteps(rt: Runtime, p: Problem, v: Variant, samples: number): Promise<{ median: number; spread: number }> {
  const ts: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    step(p, v);
    await rt.sync();
    ts.push(performance.now() - t0);
  }
  ts.sort((x, y) => x - y);
  const q = (f: number) => ts[Math.min(ts.length - 1, Math.floor(f * (ts.length - 1) + 0.5))];
  return { median: q(0.5), spread: q(0.75) - q(0.25) };
}

export async function benchSimLoss(rt: Runtime, quick = false): Promise<BenchResult[]> {
  const device = deviceString(rt);
  const out: BenchResult[] = [];
  await validate(rt);
  const sizes = quick ? SIZES.slice(0, 2) : SIZES;
  /** naive: [A*L, K] tiles live at the peak, measured where it runs (used to compute the refused sizes' peak) */
  let naiveTiles: number | null = null, naiveOther = 0;
  for (const [A, K] of sizes) {
    const p = problem(rt, A, K);
    const big = A * K >= 1024 * 5120;
    const variants: Variant[] = [{ name: 'chunked', design: 'rowtile' }, { name: 'chunked', design: 'fused' }, { name: 'naive' }];
    for (const v of variants) {
      // the fused design needs ~3 min per step at the largest size on a 2-core CPU adapter: bounded out
      if (v.design === 'fused' && big && rt.adapter.isCPU) continue;
      const label = `${v.name}${v.design ? ` (${v.design})` : ''}`;
      await rt.sync();
      const base = rt.pool.stats().liveBytes;
      rt.pool.resetPeak();
      const r: BenchResult = { bench: 'sim_loss', variant: v.name, design: v.design ?? 'naive', shape: `A${A}xK${K}xL${L}xD${D}`, A, K, device, median_ms: NaN, spread_ms: NaN, peak_bytes: NaN, extra_bytes: NaN };
      let t0 = performance.now();
      try {
        step(p, v);                 // warm-up (pipelines) and the peak measurement
        await rt.sync();
      } catch (e) {
        const msg = (e as Error).message;
        if (v.name !== 'naive' || !/maxStorageBufferBindingSize/.test(msg)) throw e;
        r.refused = msg;
        if (naiveTiles !== null) {
          const tile = sizeClass(A * L * K * 4);
          r.extra_bytes = naiveTiles * tile + naiveOther * (A * L * D + K * D) * 4;
          r.peak_bytes = base + (r.extra_bytes as number);
          r.peak_computed = true;
        }
        console.log(`sim_loss ${label} A=${A} K=${K}: refused before submit (${msg}); computed peak ${(r.peak_bytes as number / 2 ** 20).toFixed(0)} MiB`);
        report(r); out.push(r);
        continue;
      }
      const warm = performance.now() - t0;
      r.peak_bytes = rt.pool.stats().peakBytes;
      r.extra_bytes = (r.peak_bytes as number) - base;
      if (v.name === 'naive') {
        // extra = tiles * sizeClass([A*L, K]) + other, other ~ c * (A*L*D + K*D) * 4 (the gradients of a and t)
        const tile = sizeClass(A * L * K * 4);
        const tiles = Math.floor((r.extra_bytes as number) / tile);
        naiveTiles = tiles;
        naiveOther = ((r.extra_bytes as number) - tiles * tile) / ((A * L * D + K * D) * 4);
        r.naive_tiles = tiles;
      }
      const samples = quick ? 1 : warm > 20000 ? 1 : warm > 3000 ? 2 : 4;
      t0 = performance.now();
      const t = await timeSteps(rt, p, v, samples);
      r.median_ms = t.median; r.spread_ms = t.spread; r.samples = samples;
      // work: S, dL/da and dL/dt products, 2*A*L*K*D flops each
      r.gflops = (3 * 2 * A * L * K * D) / t.median / 1e6;
      console.log(`sim_loss ${label} A=${A} K=${K}: ${t.median.toFixed(0)} ms (${samples} samples), peak ${((r.peak_bytes as number) / 2 ** 20).toFixed(1)} MiB, extra ${((r.extra_bytes as number) / 2 ** 20).toFixed(1)} MiB`);
      report(r); out.push(r);
    }
    dispose(p);
  }
  // the figures to quote: ratios against the naive path at each size
  for (const [A, K] of sizes) {
    const nv = out.find((r) => r.A === A && r.K === K && r.variant === 'naive');
    for (const c of out.filter((r) => r.A === A && r.K === K && r.variant === 'chunked')) {
      if (!nv) continue;
      const time = Number.isFinite(nv.median_ms) ? `time ${(c.median_ms / nv.median_ms).toFixed(2)}x naive` : 'naive refused';
      console.log(`A=${A} K=${K} chunked (${c.design}): ${time}; peak bytes 1/${((nv.peak_bytes as number) / (c.peak_bytes as number)).toFixed(1)} of naive${nv.peak_computed ? ' (computed)' : ''}, extra bytes 1/${((nv.extra_bytes as number) / (c.extra_bytes as number)).toFixed(1)}`);
    }
  }
  return out;
}
