// Example: flam-webgpu kernels on an application's own GPUDevice and GPUBuffers (no model). The page creates its
// device and buffers as any WebGPU app would, wraps them (runtimeFromDevice, wrapBuffer), runs
//   1. the FLAM mel frontend: wave buffer [1, 480000] -> log-mel [1001, 64] dB, copied into an app buffer;
//   2. the chunked frame-text loss L_SED on app buffers a [A, L, D], t [K, D], alpha [K], beta [K], with its
//      gradient dL/da copied into an app buffer,
// and draws the log-mel. Results go to window.__example (read by test/gpu/demo.test.ts).
import { runtimeFromDevice, wrapBuffer, copyToBuffer, melFrontend, sedLoss, sedTargets, backward, scope, magma } from '../index.ts';
import { exampleWave, exampleLossInputs } from './inputs.ts';

const out = document.getElementById('out')!;
const say = (m: string) => { out.textContent += m + '\n'; };

async function readBack(device: GPUDevice, buf: GPUBuffer): Promise<Float32Array> {
  await buf.mapAsync(GPUMapMode.READ);
  const x = new Float32Array(buf.getMappedRange().slice(0));
  buf.unmap();
  return x;
}

async function main() {
  const gpu = navigator.gpu;
  if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is undefined)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('WebGPU found no adapter');
  // --- the application's own device and buffers ---
  const device = await adapter.requestDevice({ label: 'app device' });
  const U = GPUBufferUsage;
  const wave = device.createBuffer({ label: 'app wave', size: 480000 * 4, usage: U.STORAGE | U.COPY_DST | U.COPY_SRC });
  device.queue.writeBuffer(wave, 0, exampleWave() as Float32Array<ArrayBuffer>);
  const melOut = device.createBuffer({ label: 'app log-mel', size: 1001 * 64 * 4, usage: U.COPY_DST | U.MAP_READ });

  // --- flam-webgpu on that device ---
  const rt = runtimeFromDevice(device, adapter.info);
  say(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim());
  let t0 = performance.now();
  scope(() => {
    const { logmel } = melFrontend(rt, wrapBuffer(rt, wave, [1, 480000]), { output: 'logmel' }); // [1, 1001, 64]
    copyToBuffer(logmel!, melOut);
  });
  rt.flush(); // submit our work before the app reads its buffer
  const mel = await readBack(device, melOut);
  const melMs = performance.now() - t0;
  say(`mel frontend: 10 s clip -> log-mel [1001, 64] in ${melMs.toFixed(1)} ms (incl. readback)`);
  draw(mel);

  // chunked frame-text loss on app buffers, with the gradient to the audio embeddings
  const X = exampleLossInputs();
  const mk = (data: Float32Array, label: string) => {
    const b = device.createBuffer({ label, size: data.byteLength, usage: U.STORAGE | U.COPY_DST | U.COPY_SRC });
    device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
    return b;
  };
  const aBuf = mk(X.a, 'app a'), tBuf = mk(X.t, 'app t'), alBuf = mk(X.alpha, 'app alpha'), beBuf = mk(X.beta, 'app beta');
  const daBuf = device.createBuffer({ label: 'app dL/da', size: X.a.byteLength, usage: U.COPY_DST | U.MAP_READ });
  t0 = performance.now();
  const targets = sedTargets(rt, { A: X.A, K: X.K, L: X.L, positives: X.positives });
  const loss = await scope(async () => {
    const a = wrapBuffer(rt, aBuf, [X.A, X.L, X.D]);
    a.requiresGrad = true;
    const l = sedLoss(a, wrapBuffer(rt, tBuf, [X.K, X.D]), wrapBuffer(rt, alBuf, [X.K]), wrapBuffer(rt, beBuf, [X.K]), targets);
    backward(l);
    copyToBuffer(a.grad!, daBuf);
    return (await l.data())[0];
  });
  targets.dispose();
  const da = await readBack(device, daBuf);
  say(`chunked L_SED on app buffers: loss ${loss.toFixed(6)}, |dL/da| ${Math.hypot(...da).toExponential(3)} (${(performance.now() - t0).toFixed(1)} ms)`);
  say(`engine buffers still pooled: ${rt.pool.stats().liveBuffers} live; the app's buffers are untouched by dispose`);
  return { ok: true, adapter: adapter.info.description || adapter.info.architecture, mel: Array.from(mel), melMs, loss, da: Array.from(da) };
}

function draw(mel: Float32Array) {
  const c = document.getElementById('mel') as HTMLCanvasElement;
  const T = 1001, M = 64;
  c.width = 500; c.height = 128;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(c.width, c.height);
  let mx = -Infinity;
  for (const v of mel) mx = Math.max(mx, v);
  for (let x = 0; x < c.width; x++) {
    const t = Math.floor((x / c.width) * T);
    for (let y = 0; y < c.height; y++) {
      const m = Math.floor(((c.height - 1 - y) / c.height) * M);
      const [r, g, b] = magma((mel[t * M + m] - (mx - 80)) / 80);
      const o = (y * c.width + x) * 4;
      img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

(globalThis as any).__example = main().catch((e) => {
  say(`error: ${(e as Error).message}`);
  return { ok: false, error: String((e as Error).message ?? e) };
});
