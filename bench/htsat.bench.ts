// HTSAT bench: fused vs unfused window attention at the v1-base stage shapes, HTSAT forward clips/s (v1-base and
// tiny, batch 1, random weights), and peers in the same run on the same weights and input: PyTorch CPU (Debian's
// torch via /usr/bin/python3, the reference of test/fixtures/encoders/make_fixtures.py), that model exported to ONNX
// and run by onnxruntime-node (CPU) and by onnxruntime-web's WebGPU EP on dawn.node (the same adapter as ours).
// Our output is compared with PyTorch's on the same weights (a full-size parity check of v1-base).
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import type { Runtime } from '../src/gpu/runtime.ts';
import { scope, tensor } from '../src/tensor/tensor.ts';
import { noGrad, backward } from '../src/autograd/tape.ts';
import { full } from '../src/autograd/ops.ts';
import { windowAttention, windowAttentionUnfused, relPosIndex } from '../src/autograd/window_attention.ts';
import { chooseWindowAttention } from '../src/ops/window_attention.ts';
import { Htsat, HTSAT_PRESETS, shiftMaskCPU } from '../src/model/htsat.ts';
import { encodeSafetensors } from '../src/io/safetensors.ts';
import { decodeNpy } from '../src/io/npy.ts';
import { timeIt, report, deviceString, type BenchResult } from './util.ts';
import { windowAttentionRef } from '../test/ref/window_attention.ts';

import { mulberry32 } from '../src/util/rng.ts';

const root = join(import.meta.dirname, '..');

function rand(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** Validate the fused kernel against the float64 reference before timing (masked, T = 64, D = 32). */
async function validate(rt: Runtime): Promise<void> {
  const Bw = 4, T = 64, H = 2, D = 32, nW = 2;
  const rel = relPosIndex(rt, 8);
  const q = rand(Bw * T * 3 * H * D, 1), tb = rand(225 * H, 2, 0.5), mk = shiftMaskCPU(16, 8, 4).subarray(0, nW * T * T);
  const ref = windowAttentionRef(Float64Array.from(q), Float64Array.from(tb), rel.cpu, Float64Array.from(mk), { Bw, T, H, D, L: 225, nW, scale: 1 / Math.sqrt(D) }).out;
  for (const fn of [windowAttention, windowAttentionUnfused]) {
    const got = await noGrad(() => scope(async () => fn(tensor(rt, q, [Bw, T, 3 * H * D]), tensor(rt, tb, [225, H]), rel, { heads: H, mask: tensor(rt, mk, [nW, T, T]) }).data()));
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]));
    if (!(err < 1e-4)) throw new Error(`bench: ${fn.name} fails validation (max err ${err})`);
  }
  rel.dispose();
}

/** Window attention alone at the v1-base stage shapes (batch 1): fused (chosen design, register design) vs unfused. */
async function benchAttention(rt: Runtime, device: string, quick: boolean): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const stages = HTSAT_PRESETS['v1-base'].numHeads.map((H, s) => ({ s, H, Bw: 64 / 4 ** s, shifted: s < 3 }));
  const rel = relPosIndex(rt, 8);
  for (const st of quick ? stages.slice(0, 1) : stages) {
    const T = 64, D = 32, C = st.H * D;
    const qkv = tensor(rt, rand(st.Bw * T * 3 * C, 3 + st.s), [st.Bw, T, 3 * C]);
    const table = tensor(rt, rand(225 * st.H, 4, 0.5), [225, st.H]);
    const mask = st.shifted ? tensor(rt, shiftMaskCPU(8 * Math.sqrt(st.Bw), 8, 4), [st.Bw, T, T]) : null;
    qkv.requiresGrad = true; table.requiresGrad = true;
    const fl = 4 * st.Bw * st.H * T * T * D; // QK^T and PV
    const variants: [string, typeof windowAttention, 'sg' | 'rb' | undefined][] = [
      [`fused (${chooseWindowAttention(rt, T)})`, windowAttention, undefined],
      ...(chooseWindowAttention(rt, T) === 'sg' ? [['fused (rb)', windowAttention, 'rb'] as [string, typeof windowAttention, 'rb']] : []),
      ['unfused (matmul+softmax+matmul)', windowAttentionUnfused, undefined],
    ];
    const res: Record<string, number> = {};
    for (const [variant, fn, design] of variants) {
      for (const mode of ['forward', 'forward+backward'] as const) {
        const run = () => scope(() => {
          if (mode === 'forward') { noGrad(() => fn(qkv, table, rel, { heads: st.H, mask, design })); return; }
          const y = fn(qkv, table, rel, { heads: st.H, mask, design });
          backward(y, full(rt, y.shape, 1));
          qkv.grad?.dispose(); qkv.grad = null; table.grad?.dispose(); table.grad = null;
        });
        const t = await timeIt(run, () => rt.sync(), { minSamples: 5, maxTime: 1.5 });
        res[`${variant} ${mode}`] = t.median;
        const r: BenchResult = { bench: 'window_attention', variant: `${variant} ${mode}`, shape: `stage ${st.s + 1}: Bw ${st.Bw} T ${T} H ${st.H} D ${D}${mask ? ' masked' : ''}`, device, median_ms: t.median, spread_ms: t.spread, gflops: (mode === 'forward' ? fl : 3 * fl) / t.median / 1e6 };
        report(r); out.push(r);
      }
    }
    for (const mode of ['forward', 'forward+backward']) {
      const f = res[`${variants[0][0]} ${mode}`], u = res[`unfused (matmul+softmax+matmul) ${mode}`];
      console.log(`window attention stage ${st.s + 1} ${mode}: fused ${f.toFixed(2)} ms, unfused ${u.toFixed(2)} ms -> fused is ${(u / f).toFixed(2)}x faster`);
    }
    qkv.dispose(); table.dispose(); mask?.dispose();
  }
  rel.dispose();
  return out;
}

interface PeerResult { preset: string; torch_median_ms: number; torch_spread_ms: number; threads: number; torch: string; blas: string; onnx: string; frames: string; error?: string }

/** PyTorch CPU on our weights: writes them as safetensors, runs make_fixtures.py --bench-onnx (exports ONNX too). */
function runTorch(dir: string, threads: number): PeerResult[] {
  const r = spawnSync('/usr/bin/python3', [join(root, 'test/fixtures/encoders/make_fixtures.py'), '--bench-onnx', dir, String(threads)], { encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) throw new Error(`PyTorch peer failed: ${r.error?.message ?? r.stderr.split('\n').slice(-5).join(' | ')}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as PeerResult);
}

async function ortNode(path: string, input: Float32Array, threads: number): Promise<{ median: number; spread: number; frames: ArrayLike<number> } | string> {
  try {
    const ort = await import('onnxruntime-node');
    const sess = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const feed = { image: new ort.Tensor('float32', input, [1, 1, 256, 256]) };
    let frames: ArrayLike<number> = new Float32Array(0);
    const t = await timeIt(async () => { const o = await sess.run(feed); frames = o.frames.data as Float32Array; }, async () => {}, { minSamples: 3, maxTime: 2 });
    await sess.release();
    return { ...t, frames };
  } catch (e) { return `onnxruntime-node unavailable: ${(e as Error).message}`; }
}

let ortWebReady: Promise<any> | null = null;
async function ortWeb(path: string, input: Float32Array): Promise<{ median: number; spread: number; frames: ArrayLike<number> } | string> {
  try {
    if (!ortWebReady) ortWebReady = (async () => {
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      (globalThis as any).navigator ??= {};
      (globalThis as any).navigator.gpu = create([]);
      // platform.md: dawn.node rejects writeBuffer from SharedArrayBuffer views; copy those first.
      const proto = (globalThis as any).GPUQueue.prototype;
      if (!proto.__flamPatched) {
        const wb = proto.writeBuffer;
        proto.writeBuffer = function (buf: GPUBuffer, off: number, data: any, dOff?: number, size?: number) {
          if (data && data.buffer instanceof SharedArrayBuffer) {
            const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
            return wb.call(this, buf, off, bytes, dOff !== undefined ? dOff * (data.BYTES_PER_ELEMENT ?? 1) : undefined, size !== undefined ? size * (data.BYTES_PER_ELEMENT ?? 1) : undefined);
          }
          if (data instanceof SharedArrayBuffer) return wb.call(this, buf, off, new Uint8Array(data).slice(), dOff, size);
          return wb.call(this, buf, off, data, dOff, size);
        };
        proto.__flamPatched = true;
      }
      const ort = await import('onnxruntime-web/webgpu');
      ort.env.wasm.numThreads = 1;
      return ort;
    })();
    const ort = await ortWebReady;
    const sess = await ort.InferenceSession.create(readFileSync(path), { executionProviders: ['webgpu'] });
    const feed = { image: new ort.Tensor('float32', input, [1, 1, 256, 256]) };
    let frames: ArrayLike<number> = new Float32Array(0);
    const t = await timeIt(async () => { const o = await sess.run(feed); frames = o.frames.data as Float32Array; }, async () => {}, { minSamples: 3, maxTime: 2 });
    await sess.release();
    return { ...t, frames };
  } catch (e) { return `onnxruntime-web WebGPU unavailable: ${(e as Error).message}`; }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

/** The bench entry: everything in one run (pass peers = false to skip PyTorch/ONNX). */
export async function benchHtsat(rt: Runtime, quick = false, peers = true): Promise<BenchResult[]> {
  const device = deviceString(rt);
  await validate(rt);
  const out = await benchAttention(rt, device, quick);
  const dir = join(tmpdir(), 'flam-htsat-bench');
  mkdirSync(dir, { recursive: true });
  const input = rand(256 * 256, 5, 3);
  writeFileSync(join(dir, 'input.bin'), Buffer.from(input.buffer));
  const ours: Record<string, { median: number; frames: Float32Array }> = {};
  for (const preset of (quick ? ['tiny'] : ['tiny', 'v1-base']) as ('tiny' | 'v1-base')[]) {
    const m = new Htsat(rt, preset, { seed: 7 });
    const img = tensor(rt, input, [1, 1, 256, 256]);
    const fl = 2 * htsatMacs(m);
    for (const impl of ['fused', 'unfused'] as const) {
      m.setAttention(impl);
      const t = await timeIt(() => noGrad(() => scope(() => { m.forward(img); })), () => rt.sync(), { minSamples: preset === 'v1-base' ? 3 : 5, maxTime: preset === 'v1-base' ? 10 : 3 });
      const r: BenchResult = { bench: 'htsat', variant: `ours, ${impl} window attention`, shape: `${preset} batch 1`, device, median_ms: t.median, spread_ms: t.spread, clips_per_s: 1000 / t.median, gflops: fl / t.median / 1e6 };
      report(r); out.push(r);
      if (impl === 'fused') ours[preset] = { median: t.median, frames: (await noGrad(() => scope(async () => m.forward(img).frames.data()))) as Float32Array };
    }
    if (peers) {
      // the same weights for the peers: state_dict as safetensors (buffers included) + the config
      const sd = m.stateDict();
      const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      for (const [k, t] of sd) tensors[k] = { dtype: 'F32', shape: t.shape.slice(), data: (await t.data()) as Float32Array };
      writeFileSync(join(dir, `htsat-${preset}.safetensors`), encodeSafetensors(tensors));
      writeFileSync(join(dir, `htsat-${preset}.json`), JSON.stringify({ ...HTSAT_PRESETS[preset], dropPathRate: 0 }));
    }
    img.dispose(); m.dispose();
  }
  if (!peers) return out;
  const threads = cpus().length;
  let torch: PeerResult[] = [];
  try { torch = runTorch(dir, threads); } catch (e) { console.error((e as Error).message); }
  for (const p of torch) {
    const mine = ours[p.preset];
    if (!mine) continue;
    const add = (variant: string, median: number, spread: number, frames: ArrayLike<number> | null) => {
      const r: BenchResult = { bench: 'htsat', variant, shape: `${p.preset} batch 1`, device: variant.includes('WebGPU') ? device : `CPU x${threads}`, median_ms: median, spread_ms: spread, clips_per_s: 1000 / median, ours_speedup: median / mine.median, max_abs_diff_vs_ours: frames ? maxDiff(frames, mine.frames) : undefined };
      report(r); out.push(r);
    };
    const tf = existsSync(p.frames) ? decodeNpy(readFileSync(p.frames)).data as Float32Array : null;
    add(`PyTorch ${p.torch} CPU (${p.threads} threads, BLAS ${p.blas})`, p.torch_median_ms, p.torch_spread_ms, tf);
    const on = await ortNode(p.onnx, input, threads);
    if (typeof on === 'string') console.error(on); else add('onnxruntime-node CPU', on.median, on.spread, on.frames);
    const ow = await ortWeb(p.onnx, input);
    if (typeof ow === 'string') console.error(ow); else add('onnxruntime-web WebGPU (dawn.node)', ow.median, ow.spread, ow.frames);
  }
  return out;
}

/** Multiply-accumulates of one HTSAT forward (matmuls and attention; elementwise work not counted). */
export function htsatMacs(m: Htsat): number {
  const { cfg, stages } = m.plan;
  let macs = (cfg.imgSize / cfg.patchSize) ** 2 * cfg.patchSize ** 2 * cfg.embedDim;
  for (const st of stages) {
    const N = st.res * st.res, C = st.dim, T = st.ws * st.ws;
    macs += st.depth * (N * C * 3 * C + N * C * C + 2 * N * C * Math.round(C * cfg.mlpRatio) + 2 * N * T * C);
    if (st.downsample) macs += (N / 4) * 4 * C * 2 * C;
  }
  return macs;
}
