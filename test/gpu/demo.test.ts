// The browser demo end to end in headless Chromium (Debian's /usr/bin/chromium via playwright-core, SwiftShader
// WebGPU): `flam serve`'s server (built bundle, model, tokenizer, GloVe, example clip) and the page running the
// model. Checks: the example clip and a picked file are detected (one heat-map band per prompt, scores in [0, 1],
// the event list equals the events of the page's scores), the heat map's pixels are the viridis colours of the
// scores (screenshot), the spectrogram is drawn, the fake microphone streams through FlamStream in record mode,
// a bad file gets a clear error, a browser without WebGPU gets a clear message, and the kernels example (mel
// frontend and chunked loss on the page's own GPUDevice) matches the float64 references.
//
// Model: weights/flam-tiny.safetensors (or FLAM_DEMO_MODEL) when it exists, with weights/example.flac: then the
// page must also find the phone ringing where it rings and no dog; else a random-initialised tiny model written to
// a temporary file and a synthetic clip (structure checks only).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getTestDevice } from '../util/gpu.ts';
import { assertClose } from '../util/compare.ts';
import { sedLossRef } from '../ref/sim_loss.ts';
import { createFlam } from '../../src/model/flam.ts';
import { encodeCheckpoint } from '../../src/train/checkpoint.ts';
import { writeWav } from '../../src/audio/wav.ts';
import { logMel } from '../../src/audio/mel_ref.ts';
import { decodePng } from '../../src/io/png.ts';
import { viridis } from '../../src/viz/colormap.ts';
import { extractEvents } from '../../src/model/flamgram.ts';
import { startServer, DEFAULT_EXAMPLE, type DemoServer } from '../../src/cli/commands/serve.ts';
import { DEFAULT_MODEL } from '../../src/cli/model.ts';
import { ROW_HEIGHT, ROW_GAP, frameCenterX } from '../../src/web/demo/draw.ts';
import { exampleWave, exampleLossInputs } from '../../src/web/examples/inputs.ts';

const s = suite('demo');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = resolve(import.meta.dirname, '..', '..');
// FLAM_DEMO_MODEL=FILE runs the shipped-model checks with another model file (e.g. a candidate before it ships)
const MODEL = process.env.FLAM_DEMO_MODEL ?? (existsSync(DEFAULT_MODEL) ? DEFAULT_MODEL : null);
const SHIPPED = MODEL !== null && existsSync(DEFAULT_EXAMPLE);
// the prompts of the set-up's main job (src/cli/setup.mjs); the example holds a synth pad, a phone ringing at
// 3.06-5.72 s, a choir and gunshots, and no dog
const PROMPTS = ['a phone ringing', 'a choir singing', 'gunshots', 'a dog barking'];

interface DemoResult { mode: string; source: string; prompts: string[]; duration: number; frameHop: number; scores: number[][]; events: { prompt: string; onset: number; offset: number; score: number }[]; ms: number }

let tmp = '';
let server: DemoServer | null = null;
let browser: any = null;
let page: any = null;
const logs: string[] = [];
let micWav = '';

/** A test clip: tone bursts, a noise burst and a click train over 10 s (48 kHz unless told). */
function testClip(seconds: number, rate = 48000): Float32Array {
  const n = Math.round(seconds * rate), x = new Float32Array(n);
  let r = 99;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    x[i] = (t % 4 < 1.5 ? 0.3 * Math.sin(2 * Math.PI * 880 * t) : 0) + (t % 5 > 3 && t % 5 < 3.8 ? 0.15 * (r / 2 ** 32 - 0.5) : 0) + (i % Math.round(rate / 8) === 0 ? 0.8 : 0);
  }
  return x;
}

async function randomModelFile(path: string): Promise<void> {
  const rt = await getTestDevice();
  const model = createFlam(rt, 'tiny', { glove: readFileSync(join(root, 'weights/glove/gpt2-glove100.safetensors')) });
  model.bn0.setStats({ mean: new Array(64).fill(-40), var: new Array(64).fill(400) });
  writeFileSync(path, await encodeCheckpoint(model.storedState(), null, { step: 0, state: {}, config: { model: 'tiny', flam: model.cfg, note: 'random weights for the demo test' } }));
  model.dispose();
}

/** Mark the page's status so a following waitStatus sees the next state, not the previous run's. */
const resetStatus = (p: any) => p.evaluate(() => { (globalThis as any).__demo.status = 'test-waiting'; });

async function waitStatus(p: any, want: string[], timeout = 60000): Promise<string> {
  await p.waitForFunction((w: string[]) => w.includes((globalThis as any).__demo?.status), want, { timeout }).catch(async () => {
    const st = await p.evaluate(() => ({ status: (globalThis as any).__demo?.status, message: (globalThis as any).__demo?.message }));
    throw new Error(`page status ${JSON.stringify(st)}, wanted ${want.join('|')}; page logs:\n${logs.slice(-20).join('\n')}`);
  });
  return p.evaluate(() => (globalThis as any).__demo.status);
}

async function setup(): Promise<void> {
  if (page) return;
  if (!existsSync(CHROMIUM)) throw new Error(`the demo test needs Chromium at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (Debian) or set CHROMIUM_PATH`);
  tmp = mkdtempSync(join(tmpdir(), 'flam-demo-'));
  let model = MODEL ?? DEFAULT_MODEL, example = DEFAULT_EXAMPLE;
  micWav = join(tmp, 'mic.wav');
  writeFileSync(micWav, writeWav(testClip(10), 48000));
  if (!SHIPPED) {
    model = join(tmp, 'random-tiny.safetensors');
    await randomModelFile(model);
    example = join(tmp, 'example.wav');
    writeFileSync(example, writeWav(testClip(10), 48000));
  }
  server = await startServer({ port: 0, model, example });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--enable-features=Vulkan', '--use-angle=swiftshader',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${micWav}`,
      '--autoplay-policy=no-user-gesture-required'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  await ctx.grantPermissions(['microphone'], { origin: server.url.replace(/\/$/, '') }).catch(() => {});
  page = await ctx.newPage();
  page.on('console', (m: any) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e: Error) => logs.push(`[pageerror] ${e.message}`));
}

const result = (): Promise<DemoResult> => page.evaluate(() => (globalThis as any).__demo.result);

/** Structural checks shared by every detection. */
function checkResult(r: DemoResult, prompts: string[], duration: number): void {
  assert.equal(r.prompts, prompts);
  assert.ok(Math.abs(r.duration - duration) < 1e-3, `duration ${r.duration} vs ${duration}`);
  assert.is(r.scores.length, prompts.length, 'one score row per prompt');
  const T = Math.ceil(duration / 0.3125 - 1e-9);
  for (const row of r.scores) {
    assert.is(row.length, T, 'frames per row');
    for (const v of row) assert.ok(v >= 0 && v <= 1, `score ${v} outside [0, 1]`);
  }
  // the event list is exactly the thresholded (median-filtered) score rows
  const want = r.scores.flatMap((row, p) => extractEvents(row, { threshold: 0.5 }).map((e) => [prompts[p], e.onset, Math.min(e.offset, r.duration)]));
  assert.equal(r.events.map((e) => [e.prompt, e.onset, e.offset]).sort(), want.sort(), 'events = events of the scores');
}

/** The heat map's screenshot shows viridis(score) in every cell, white gaps, one band per prompt. */
async function checkHeatmap(r: DemoResult): Promise<void> {
  const el = page.locator('#heatmap');
  const png = decodePng(new Uint8Array(await el.screenshot()), 'heatmap screenshot');
  const P = r.prompts.length;
  // the element's box may sit at a fractional position: the screenshot then has one extra row/column of page
  // background; find the canvas's own first row and column
  const raw = (x: number, y: number) => Array.from(png.rgba.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
  const isWhite = (c: number[]) => c.every((v) => v > 250);
  const dx = isWhite(raw(0, 5)) ? 1 : 0;
  const dy = [0, 1].find((d) => Array.from({ length: P }, (_, p) => !isWhite(raw(400, p * ROW_HEIGHT + d)) && isWhite(raw(400, (p + 1) * ROW_HEIGHT - 1 + d))).every(Boolean));
  assert.ok(dy !== undefined, `no band layout of ${P} rows of ${ROW_HEIGHT} px (white ${ROW_GAP} px gaps) in the ${png.width}x${png.height} screenshot`);
  assert.ok(png.height - dy! >= ROW_HEIGHT * P && png.height - dy! <= ROW_HEIGHT * P + 1, `heat-map height ${png.height} for ${P} prompts`);
  const px = (x: number, y: number) => raw(x + dx, y + dy!);
  let worst = 0, cells = 0;
  r.scores.forEach((row, p) => row.forEach((v, f) => {
    const x = frameCenterX(f, r.frameHop, r.duration), y = p * ROW_HEIGHT + ((ROW_HEIGHT - ROW_GAP) >> 1);
    const got = px(x, y), want = viridis(v);
    worst = Math.max(worst, ...got.map((g, i) => Math.abs(g - want[i])));
    cells++;
  }));
  assert.ok(worst <= 3, `heat-map cell colours differ from viridis(score) by up to ${worst}`);
  assert.ok(cells >= r.prompts.length * 10);
  // not blank: every band pixel is a viridis colour, none white; the gap rows are white
  let white = 0, band = 0;
  for (let p = 0; p < r.prompts.length; p++) {
    for (let y = p * ROW_HEIGHT; y < (p + 1) * ROW_HEIGHT - ROW_GAP; y++) for (let x = 0; x < png.width - 1; x += 7) { band++; if (px(x, y).every((c) => c > 250)) white++; }
    assert.equal(px(400, (p + 1) * ROW_HEIGHT - 1), [255, 255, 255], 'gap row is white');
  }
  assert.is(white, 0, `${white} of ${band} sampled heat-map pixels are blank`);
}

async function checkSpectrogram(): Promise<void> {
  const png = decodePng(new Uint8Array(await page.locator('#spec').screenshot()), 'spectrogram screenshot');
  const colours = new Set<number>();
  let blank = 0, n = 0;
  for (let y = 0; y < png.height; y += 3) for (let x = 0; x < png.width; x += 5) {
    const o = (y * png.width + x) * 4;
    n++;
    if (png.rgba[o] > 250 && png.rgba[o + 1] > 250 && png.rgba[o + 2] > 250) blank++;
    colours.add((png.rgba[o] << 16) | (png.rgba[o + 1] << 8) | png.rgba[o + 2]);
  }
  assert.ok(blank < n * 0.05, `spectrogram mostly blank (${blank} of ${n})`);
  assert.ok(colours.size > 20, `spectrogram has only ${colours.size} colours`);
}

s('demo: loads the model with WebGPU and detects the example clip (heat map, spectrogram, events)', async () => {
  await setup();
  const t0 = Date.now();
  await page.goto(server!.url);
  assert.is(await waitStatus(page, ['ready', 'error', 'no-webgpu']), 'ready', `page did not get ready: ${logs.join('\n')}`);
  const tLoad = Date.now() - t0;
  await page.fill('#prompts', PROMPTS.join('\n') + '\n\n');
  await resetStatus(page);
  await page.click('#example');
  assert.is(await waitStatus(page, ['done', 'error'], 60000), 'done', logs.join('\n'));
  const r = await result();
  checkResult(r, PROMPTS, 10);
  assert.is(await page.locator('#labels div').count(), PROMPTS.length);
  assert.equal(await page.locator('#labels div').allTextContents(), PROMPTS);
  const items = await page.locator('#events li.event').evaluateAll((els: HTMLElement[]) => els.map((e) => ({ prompt: e.dataset.prompt, onset: Number(e.dataset.onset), offset: Number(e.dataset.offset) })));
  assert.equal(items, r.events.map((e) => ({ prompt: e.prompt, onset: e.onset, offset: e.offset })), 'the page lists the detected events');
  if (r.events.length === 0) assert.is(await page.locator('#events li.none').count(), 1);
  await checkHeatmap(r);
  await checkSpectrogram();
  const timings = await page.evaluate(() => (globalThis as any).__demo.timings);
  // the Detect button re-runs it (warm pipelines): same scores
  await resetStatus(page);
  await page.click('#run');
  assert.is(await waitStatus(page, ['done', 'error'], 60000), 'done', logs.join('\n'));
  const r2 = await result();
  assert.equal(r2.scores, r.scores, 'a second run gives the same scores');
  console.log(`  demo (${await page.evaluate(() => (globalThis as any).__demo.adapter)}): ready in ${tLoad} ms (model load ${timings.loadMs?.toFixed(0)} ms), 10 s clip x ${PROMPTS.length} prompts detected in ${r.ms.toFixed(0)} ms (first run) / ${r2.ms.toFixed(0)} ms (again); ${r.events.length} events${SHIPPED ? '' : ' (random model)'}`);
  if (SHIPPED) {
    // the shipped example: the ring is found where it is, no dog anywhere
    const ring = r.events.filter((e) => e.prompt === 'a phone ringing' && e.onset < 5.72 && e.offset > 3.06);
    assert.ok(ring.length > 0, `no 'a phone ringing' event over 3.06-5.72 s: ${JSON.stringify(r.events)}`);
    assert.is(r.events.filter((e) => e.prompt === 'a dog barking').length, 0, `'a dog barking' detected: ${JSON.stringify(r.events)}`);
  }
});

s('demo: a picked 44.1 kHz stereo file is decoded, resampled and detected; a non-audio file gets a clear error', async () => {
  await setup();
  const x = testClip(3.2, 44100);
  const right = x.map((v) => -0.5 * v);
  await page.fill('#prompts', 'whistle\nclicking');
  await resetStatus(page);
  await page.setInputFiles('#file', { name: 'picked.wav', mimeType: 'audio/wav', buffer: Buffer.from(writeWav([x, right], 44100)) });
  assert.is(await waitStatus(page, ['done', 'error'], 60000), 'done', logs.join('\n'));
  const r = await result();
  assert.is(r.source, 'picked.wav');
  checkResult(r, ['whistle', 'clicking'], 3.2);
  await checkHeatmap(r);
  assert.match(await page.locator('#audio-info').textContent(), /picked\.wav: 3\.20 s, WAV 44100 Hz, 2 channels/);
  await resetStatus(page);
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not audio at all') });
  assert.is(await waitStatus(page, ['error'], 20000), 'error');
  assert.match(await page.locator('#status').textContent(), /notes\.txt: unrecognised or corrupt audio data/);
});

s('demo record mode: the (fake) microphone streams through FlamStream; frames are continuous and scored', async () => {
  await setup();
  await page.fill('#prompts', 'beeping\nsilence');
  await page.selectOption('#hop', '2.5');
  const t0 = Date.now();
  await resetStatus(page);
  await page.click('#record');
  await waitStatus(page, ['recording', 'error'], 20000);
  await page.waitForFunction(() => (globalThis as any).__demo.live.length >= 2 || (globalThis as any).__demo.status === 'error', undefined, { timeout: 30000 });
  await resetStatus(page);
  await page.click('#record'); // stop
  assert.is(await waitStatus(page, ['done', 'error'], 30000), 'done', logs.join('\n'));
  const r = await result();
  const live = await page.evaluate(() => (globalThis as any).__demo.live) as { startFrame: number; frames: number; latency: number; computeMs: number; dropped: number }[];
  assert.is(r.mode, 'stream');
  assert.ok(r.duration > 4, `recorded ${r.duration} s`);
  let next = 0;
  for (const e of live) { assert.is(e.startFrame, next + e.dropped, 'frame timestamps continue'); next = e.startFrame + e.frames; }
  assert.is(next, Math.ceil(r.duration / 0.3125 - 1e-9), 'flush scored up to the last frame');
  for (const row of r.scores) { assert.is(row.length, next); for (const v of row) assert.ok(v === null || Number.isNaN(v) || (v >= 0 && v <= 1), `score ${v}`); }
  const dropped = live.reduce((a, e) => a + e.dropped, 0);
  console.log(`  record mode: ${r.duration.toFixed(2)} s in ${((Date.now() - t0) / 1000).toFixed(1)} s wall, ${live.length} emissions, window compute ${live.map((e) => e.computeMs.toFixed(0)).join('/')} ms, latency ${live.map((e) => e.latency.toFixed(2)).join('/')} s, ${dropped} frames dropped`);
  assert.ok(live.slice(0, -1).every((e) => e.latency < 2.5 + 3), 'latency stays within hop + a few seconds of compute');
});

s('a browser without WebGPU (or without an adapter) gets a clear message and disabled controls', async () => {
  await setup();
  // init scripts as source text (tsx would wrap a function with helpers the page does not have)
  for (const [stub, re] of [
    ["Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });", /navigator\.gpu is undefined/],
    ['if (navigator.gpu) navigator.gpu.requestAdapter = async () => null;', /no GPU adapter/],
  ] as const) {
    const p = await page.context().newPage();
    await p.addInitScript({ content: stub });
    await p.goto(server!.url);
    await waitStatus(p, ['no-webgpu', 'ready', 'error'], 30000);
    assert.is(await p.evaluate(() => (globalThis as any).__demo.status), 'no-webgpu');
    assert.ok(await p.locator('#gpu-error').isVisible(), 'the message is visible');
    const text = await p.locator('#gpu-error').textContent();
    assert.match(text, /WebGPU is not available in this browser/);
    assert.match(text, re);
    for (const id of ['#run', '#record', '#example']) assert.ok(await p.locator(id).isDisabled(), `${id} disabled`);
    await p.close();
  }
});

s('kernels example: mel frontend and chunked loss on the page\'s own GPUDevice match the float64 references', async () => {
  await setup();
  const p = await page.context().newPage();
  await p.goto(server!.url + 'examples/kernels.html');
  await p.waitForFunction(() => (globalThis as any).__example !== undefined, undefined, { timeout: 30000 });
  const r = await p.evaluate(() => (globalThis as any).__example) as { ok: boolean; error?: string; mel: number[]; melMs: number; loss: number; da: number[] };
  assert.ok(r.ok, r.error);
  // log-mel vs float64: within 1e-3 dB where the reference is within 60 dB of the peak, 0.05 dB within 90 dB
  const ref = logMel(exampleWave());
  assert.is(r.mel.length, ref.length);
  let peak = -Infinity;
  for (const v of ref) peak = Math.max(peak, v);
  let e60 = 0, e90 = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(r.mel[i] - ref[i]);
    if (ref[i] >= peak - 60) e60 = Math.max(e60, e);
    if (ref[i] >= peak - 90) e90 = Math.max(e90, e);
  }
  assert.ok(e60 <= 1e-3 && e90 <= 0.05, `log-mel error ${e60} dB (60 dB range), ${e90} dB (90 dB)`);
  const X = exampleLossInputs();
  const f64 = (a: Float32Array) => Float64Array.from(a);
  const lr = sedLossRef(f64(X.a), f64(X.t), f64(X.alpha), f64(X.beta), { A: X.A, K: X.K, L: X.L, positives: X.positives }, X.D);
  assert.ok(Math.abs(r.loss - lr.loss) <= 1e-5 + 1e-4 * Math.abs(lr.loss), `loss ${r.loss} vs ${lr.loss}`);
  assertClose('dL/da on app buffers', r.da, lr.da, { atol: 1e-6, rtol: 1e-3 });
  console.log(`  kernels example: log-mel of a 10 s clip in ${r.melMs.toFixed(0)} ms (err ${e60.toExponential(1)} dB), L_SED ${r.loss.toFixed(5)} (ref ${lr.loss.toFixed(5)})`);
  await p.close();
});

s.after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

s.run();
