// Mel frontend throughput, clips/s on a batch of 16 ten-second clips, all in one run on this machine:
//   gpu fused       melFrontend log-mel (FFT + sparse mel + log in one kernel) from a GPU tensor [16, 480000]
//   gpu fused+up    the same including the upload of the Float32Arrays
//   gpu matmul      power spectrum kernel, P @ melW with the matmul launcher, mel_db
//   gpu image       log-mel + BatchNorm + resize + fold (the encoder input)
//   js cpu          src/audio/mel_cpu.ts (fft.js real FFT, same framing and sparse mel), single thread
//   torchaudio      MelSpectrogram + log10 in /usr/bin/python3 with torch.set_num_threads(2)
// Ratios against the JS CPU path and torchaudio are printed; targets (issue 3, lavapipe): >= 3x JS, within 2x of
// torchaudio.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Runtime } from '../src/gpu/runtime.ts';
import { MelFrontend } from '../src/audio/frontend.ts';
import { MelCpu } from '../src/audio/mel_cpu.ts';
import { logMel } from '../src/audio/mel_ref.ts';
import { tensor } from '../src/tensor/tensor.ts';
import { timeIt, report, deviceString, type BenchResult } from './util.ts';

const B = 16, N = 480000;

export async function benchMel(rt: Runtime, quick = false): Promise<BenchResult[]> {
  const device = deviceString(rt), shape = `${B}x${N}`;
  const waves = Array.from({ length: B }, (_, b) => {
    const x = new Float32Array(N);
    let s = 1 + b;
    for (let i = 0; i < N; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = 0.3 * Math.sin(2 * Math.PI * 440 * (1 + b / 8) * i / 48000) + 0.05 * (s / 2 ** 32 - 0.5); }
    return x;
  });
  const fe = new MelFrontend(rt);
  const cpu = new MelCpu();
  // validate once against the float64 reference (clip 0)
  {
    const r = fe.run([waves[0]], { output: 'logmel' });
    const got = await r.logmel!.data(); r.logmel!.dispose();
    const ref = logMel(waves[0]), c = cpu.run(waves[0]);
    let eg = 0, ec = 0;
    for (let i = 0; i < ref.length; i++) { if (ref[i] > -60) { eg = Math.max(eg, Math.abs(got[i] - ref[i])); ec = Math.max(ec, Math.abs(c[i] - ref[i])); } }
    if (eg > 1e-3 || ec > 1e-3) throw new Error(`bench mel: validation failed (gpu ${eg} dB, cpu ${ec} dB)`);
  }
  const out: BenchResult[] = [];
  const add = (variant: string, t: { median: number; spread: number }, extra: Record<string, unknown> = {}) => {
    const r: BenchResult = { bench: 'mel', variant, shape, device, median_ms: t.median, spread_ms: t.spread, clips_per_s: B / (t.median / 1000), ...extra };
    report(r); out.push(r);
  };
  const opts = { minSamples: quick ? 3 : 5, maxTime: quick ? 2 : 4 };
  const flat = new Float32Array(B * N); waves.forEach((w, b) => flat.set(w, b * N));
  const wt = tensor(rt, flat, [B, N]);
  const gpu = async (variant: string, f: () => { logmel?: { dispose(): void }; image?: { dispose(): void } }) => {
    let last: ReturnType<typeof f> | null = null;
    const t = await timeIt(() => { if (last) { last.logmel?.dispose(); last.image?.dispose(); } last = f(); }, () => rt.sync(), opts);
    if (last) { (last as any).logmel?.dispose(); (last as any).image?.dispose(); }
    add(variant, t);
  };
  await gpu('gpu fused', () => fe.run(wt, { output: 'logmel' }));
  await gpu('gpu fused+upload', () => fe.run(waves, { output: 'logmel' }));
  await gpu('gpu matmul', () => fe.run(wt, { output: 'logmel', mel: 'matmul' }));
  await gpu('gpu image', () => fe.run(wt, { output: 'image' }));
  wt.dispose(); fe.dispose();
  const tc = await timeIt(() => { for (const w of waves) cpu.run(w); }, async () => {}, { minSamples: 3, maxTime: quick ? 2 : 4 });
  add('js cpu (fft.js)', tc);
  const py = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'mel_torchaudio.py'), String(B), quick ? '3' : '7', '2'], { encoding: 'utf8', timeout: 600_000 });
  if (py.status === 0) {
    const j = JSON.parse(py.stdout.trim().split('\n').pop()!);
    add('torchaudio (2 threads)', { median: j.median_ms, spread: j.spread_ms }, { peer: `torch ${j.torch} torchaudio ${j.torchaudio}` });
  } else console.error(`torchaudio peer unavailable: ${(py.stderr || py.error?.message || '').trim().split('\n').pop()}`);
  return out;
}

/** Prints the ratios the targets are stated in. */
export function melRatios(rows: BenchResult[]): void {
  const get = (v: string) => rows.find((r) => r.variant === v);
  const js = get('js cpu (fft.js)'), ta = get('torchaudio (2 threads)');
  for (const v of ['gpu fused', 'gpu fused+upload', 'gpu matmul', 'gpu image']) {
    const g = get(v);
    if (!g) continue;
    const parts = [`${v}: ${(g.clips_per_s as number).toFixed(1)} clips/s`];
    if (js) parts.push(`${(js.median_ms / g.median_ms).toFixed(2)}x the JS CPU path (target >= 3)`);
    if (ta) parts.push(`${(ta.median_ms / g.median_ms).toFixed(2)}x torchaudio's speed (target >= 0.5)`);
    console.log(parts.join(', '));
  }
}
