// Matmul GFLOP/s: naive / register-blocked / workgroup-tiled designs, and tfjs-backend-webgpu's matMul on the same
// adapter in the same run (the peer: the ratio is the figure to quote).
import type { Runtime } from '../src/gpu/runtime.ts';
import { matmulOp, resolveDesign, type MatmulDesign, type RBBlock } from '../src/ops/matmul.ts';
import { timeIt, report, deviceString, type BenchResult } from './util.ts';
import { matmulRef } from '../test/ref/ops.ts';

const SHAPES: [number, number, number][] = [[512, 512, 512], [1024, 1024, 1024], [4096, 768, 768], [4096, 3072, 768]]; // M, N, K

export async function benchMatmul(rt: Runtime, quick = false): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const device = deviceString(rt);
  await validate(rt);
  const shapes = quick ? SHAPES.slice(0, 2) : SHAPES;
  for (const [M, N, K] of shapes) {
    const A = rt.alloc(M * K * 4), B = rt.alloc(K * N * 4), C = rt.alloc(M * N * 4);
    rt.upload(A, new Float32Array(M * K).fill(0.5)); rt.upload(B, new Float32Array(K * N).fill(0.25));
    const flop = 2 * M * N * K;
    const variants: [string, MatmulDesign, RBBlock | undefined][] = [['naive', 'naive', undefined], ['rb 4x4', 'rb', { TM: 4, NV: 1 }], ['rb 8x8', 'rb', { TM: 8, NV: 2 }],  ['tiled', 'tiled', undefined], ['sg (subgroup+texture)', 'sg', undefined]];
    for (const [variant, design, block] of variants) {
      if (design === 'naive' && M * N * K > 1024 ** 3 && rt.adapter.isCPU) continue; // minutes per call on a CPU
      if (design === 'sg' && resolveDesign(rt, { batch: 1, M, N, K, design }) !== 'sg') continue;
      const t = await timeIt(() => matmulOp(rt, A, B, C, { batch: 1, M, N, K, design, block }), () => rt.sync(), { minSamples: 3, maxTime: 1 });
      const r: BenchResult = { bench: 'matmul', variant, shape: `${M}x${N}x${K}`, device, median_ms: t.median, spread_ms: t.spread, gflops: flop / t.median / 1e6 };
      report(r); out.push(r);
    }
    rt.release(A); rt.release(B); rt.release(C);
    const tf = await tfjsMatmul(rt, M, N, K);
    if (tf) { const r: BenchResult = { bench: 'matmul', variant: 'tfjs-webgpu', shape: `${M}x${N}x${K}`, device, median_ms: tf.median, spread_ms: tf.spread, gflops: flop / tf.median / 1e6 }; report(r); out.push(r); }
  }
  return out;
}

/** Validate each design once against the float64 reference before timing. */
async function validate(rt: Runtime): Promise<void> {
  const M = 67, N = 45, K = 36;
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const ref = matmulRef(Float64Array.from(a), Float64Array.from(b), { batch: 1, M, N, K, transA: false, transB: false, bShared: false, alpha: 1 });
  for (const design of ['naive', 'rb', 'tiled', 'sg'] as MatmulDesign[]) {
    const A = rt.alloc(a.byteLength), B = rt.alloc(b.byteLength), C = rt.alloc(M * N * 4);
    rt.upload(A, a); rt.upload(B, b);
    matmulOp(rt, A, B, C, { batch: 1, M, N, K, design });
    const got = new Float32Array(await rt.read(C, 0, M * N * 4));
    let err = 0; for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]));
    if (err > 1e-3) throw new Error(`bench: matmul ${design} fails validation (max err ${err})`);
    rt.release(A); rt.release(B); rt.release(C);
  }
}

let tfReady: Promise<any> | null = null;
/** tfjs-backend-webgpu on dawn.node (platform.md: navigator.gpu = the same `create([])` GPU). */
async function tfjsMatmul(rt: Runtime, M: number, N: number, K: number): Promise<{ median: number; spread: number } | null> {
  try {
    if (!tfReady) tfReady = (async () => {
      const { create } = await import('webgpu');
      (globalThis as any).navigator = { gpu: create([]) };
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-webgpu');
      await tf.setBackend('webgpu'); await tf.ready();
      return tf;
    })();
    const tf = await tfReady;
    const a = tf.fill([M, K], 0.5), b = tf.fill([K, N], 0.25);
    let c: any = null;
    const t = await timeIt(() => { if (c) c.dispose(); c = tf.matMul(a, b); }, () => c.data(), { minSamples: 3, maxTime: 1 });
    c?.dispose(); a.dispose(); b.dispose();
    void rt;
    return t;
  } catch (e) {
    console.error(`tfjs-backend-webgpu peer unavailable: ${(e as Error).message}`);
    return null;
  }
}
