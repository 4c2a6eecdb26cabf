// The demo page (src/web/demo/index.html, served by `flam serve`): load the shipped model with WebGPU, take audio
// from a dropped/picked file, the example clip or the microphone (streamed through FlamStream), and show the
// log-mel, one heat-map band per prompt and the event list. State for tests and curious users: window.__demo.
import {
  browserRuntime, loadFlamFromUrls, decodeAudio, detect, FlamStream, resample, viridis, FRAME_SECONDS,
  type Runtime, type Flam, type BpeTokenizer, type DetectedPromptEvent, type StreamScores,
} from '../index.ts';
import { drawSpectrogram, drawHeatmap, drawAxis, ROW_HEIGHT } from './draw.ts';

interface DemoConfig {
  model: string; modelName?: string; vocab?: string; merges?: string; glove?: string | null;
  example?: string | null; exampleName?: string | null;
}

/** Used when the server has no /config.json (static hosting of dist/web next to a weights/ folder). */
const DEFAULT_CONFIG: DemoConfig = { model: 'weights/flam-tiny.safetensors', example: 'weights/example.flac', exampleName: 'example.flac' };
const MAX_RECORD_SECONDS = 600;

type Status = 'loading' | 'ready' | 'decoding' | 'running' | 'recording' | 'finishing' | 'done' | 'error' | 'no-webgpu';

interface DemoResult {
  mode: 'file' | 'stream';
  source: string;
  prompts: string[];
  duration: number;
  frameHop: number;
  scores: number[][];
  events: DetectedPromptEvent[];
  ms: number;
}

interface DemoState {
  status: Status;
  message: string;
  error: string | null;
  adapter: string | null;
  config: DemoConfig | null;
  result: DemoResult | null;
  /** Record mode: one entry per emission of the stream. */
  live: { startFrame: number; frames: number; latency: number; computeMs: number; dropped: number }[];
  timings: Record<string, number>;
}

const demo: DemoState = { status: 'loading', message: '', error: null, adapter: null, config: null, result: null, live: [], timings: {} };
(globalThis as any).__demo = demo;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  status: $('status'), gpuError: $('gpu-error'), drop: $('drop'), file: $<HTMLInputElement>('file'),
  example: $<HTMLButtonElement>('example'), record: $<HTMLButtonElement>('record'), hop: $<HTMLSelectElement>('hop'),
  audioInfo: $('audio-info'), prompts: $<HTMLTextAreaElement>('prompts'), run: $<HTMLButtonElement>('run'),
  threshold: $<HTMLInputElement>('threshold'), promptError: $('prompt-error'), results: $('results'),
  spec: $<HTMLCanvasElement>('spec'), heatmap: $<HTMLCanvasElement>('heatmap'), axis: $<HTMLCanvasElement>('axis'),
  labels: $('labels'), events: $('events'), legend: $<HTMLCanvasElement>('legend'), footer: $('footer'),
};

let rt: Runtime | null = null;
let model: Flam | null = null;
let tok: BpeTokenizer | null = null;
let audio: { samples: Float32Array; name: string } | null = null;
let recording: { stop: () => Promise<void> } | null = null;

function setStatus(s: Status, message: string): void {
  demo.status = s; demo.message = message;
  ui.status.dataset.state = s;
  ui.status.textContent = message;
  const idle = s === 'ready' || s === 'done' || s === 'error';
  const ok = model !== null;
  ui.run.disabled = !(ok && idle && audio);
  ui.example.disabled = !(ok && idle) || !demo.config?.example;
  ui.record.disabled = !(ok && (idle || s === 'recording'));
  ui.file.disabled = !(ok && idle);
}

function fail(e: unknown): void {
  const msg = (e as Error)?.message ?? String(e);
  demo.error = msg;
  console.error(e);
  setStatus('error', `Error: ${msg}`);
}

function showNoWebGPU(reason: string): void {
  ui.gpuError.hidden = false;
  ui.gpuError.innerHTML = '';
  const h = document.createElement('h2');
  h.textContent = 'WebGPU is not available in this browser';
  const p = document.createElement('p');
  p.textContent = `${reason} The model runs on the GPU through WebGPU, so it cannot run here. Use a browser with WebGPU ` +
    '(Chrome or Edge 113 or later, Safari 26, or Firefox 141 on Windows); on Linux start Chromium with ' +
    '--enable-unsafe-webgpu. The page must come from https:// or http://localhost.';
  ui.gpuError.append(h, p);
  demo.error = reason;
  setStatus('no-webgpu', 'WebGPU is not available: the demo cannot run in this browser.');
  for (const b of [ui.run, ui.example, ui.record]) b.disabled = true;
  ui.file.disabled = true;
}

function parsePrompts(): string[] | null {
  const seen = new Set<string>();
  const prompts = ui.prompts.value.split('\n').map((l) => l.trim()).filter((l) => l && !seen.has(l) && seen.add(l));
  ui.promptError.textContent = prompts.length ? '' : 'Type at least one prompt (one per line).';
  return prompts.length ? prompts : null;
}

function threshold(): number {
  const t = Number(ui.threshold.value);
  return Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0.5;
}

// ---- rendering -------------------------------------------------------------------------------------------------

function renderLabels(prompts: string[]): void {
  ui.labels.innerHTML = '';
  for (const p of prompts) {
    const d = document.createElement('div');
    d.textContent = p; d.title = p;
    d.style.height = `${ROW_HEIGHT}px`;
    ui.labels.append(d);
  }
}

function renderEvents(events: DetectedPromptEvent[]): void {
  ui.events.innerHTML = '';
  if (events.length === 0) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = `No events above the threshold ${threshold()}.`;
    ui.events.append(li);
    return;
  }
  for (const e of events) {
    const li = document.createElement('li');
    li.className = 'event';
    li.dataset.prompt = e.prompt;
    li.dataset.onset = String(e.onset); li.dataset.offset = String(e.offset); li.dataset.score = String(e.score);
    const t = document.createElement('span');
    t.className = 't';
    t.textContent = `${e.onset.toFixed(2)}–${e.offset.toFixed(2)} s`;
    li.append(t, ` ${e.prompt} `);
    const sc = document.createElement('small');
    sc.textContent = `(peak ${e.score.toFixed(2)})`;
    li.append(sc);
    ui.events.append(li);
  }
}

function renderLegend(): void {
  const c = ui.legend, ctx = c.getContext('2d')!;
  const img = ctx.createImageData(c.width, c.height);
  for (let x = 0; x < c.width; x++) {
    const [r, g, b] = viridis(x / (c.width - 1));
    for (let y = 0; y < c.height; y++) { const o = (y * c.width + x) * 4; img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255; }
  }
  ctx.putImageData(img, 0, 0);
}

// ---- audio input -----------------------------------------------------------------------------------------------

async function loadAudio(bytes: Uint8Array, name: string): Promise<void> {
  setStatus('decoding', `Decoding ${name}…`);
  const t0 = performance.now();
  const d = await decodeAudio(bytes, name);
  demo.timings.decodeMs = performance.now() - t0;
  audio = { samples: d.samples, name };
  const src = d.source;
  ui.audioInfo.textContent = `${name}: ${(d.samples.length / 48000).toFixed(2)} s, ${src.container.toUpperCase()} ${src.sampleRate} Hz, ${src.channels} channel${src.channels === 1 ? '' : 's'}`;
  await runDetect();
}

async function loadFile(f: File): Promise<void> {
  try { await loadAudio(new Uint8Array(await f.arrayBuffer()), f.name); } catch (e) { fail(e); }
}

async function runDetect(): Promise<void> {
  if (!model || !tok || !audio || !rt) return;
  const prompts = parsePrompts();
  if (!prompts) { setStatus('ready', 'Waiting for prompts.'); return; }
  const t0 = performance.now();
  setStatus('running', `Detecting ${prompts.length} prompt${prompts.length === 1 ? '' : 's'} in ${audio.name}…`);
  try {
    const r = await detect(model, tok, audio.samples, prompts, {
      batch: rt.adapter.isCPU ? 1 : 4, withLogmel: true, threshold: threshold(),
      onProgress: (d, n) => setStatus('running', `Detecting in ${audio!.name}: window ${d} of ${n}…`),
    });
    const ms = performance.now() - t0;
    const span = Math.max(r.duration, 1e-3);
    ui.results.hidden = false;
    renderLabels(prompts);
    drawSpectrogram(ui.spec, r.logmel!.data, r.logmel!.frames, 64, span);
    drawHeatmap(ui.heatmap, r.scores, r.frameHop, span);
    drawAxis(ui.axis, span);
    renderEvents(r.events);
    demo.result = { mode: 'file', source: audio.name, prompts, duration: r.duration, frameHop: r.frameHop, scores: r.scores.map((s) => Array.from(s)), events: r.events, ms };
    demo.timings.detectMs = ms;
    setStatus('done', `${audio.name}: ${r.events.length} event${r.events.length === 1 ? '' : 's'} for ${prompts.length} prompt${prompts.length === 1 ? '' : 's'} (${r.duration.toFixed(1)} s of audio in ${(ms / 1000).toFixed(2)} s).`);
  } catch (e) { fail(e); }
}

// ---- microphone ------------------------------------------------------------------------------------------------

const TAP_WORKLET = `
class FlamTap extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(2048); this.n = 0; }
  process(inputs) {
    const ch = inputs[0];
    if (!ch || ch.length === 0) return true;
    const len = ch[0].length;
    for (let i = 0; i < len; i++) {
      let v = 0;
      for (let c = 0; c < ch.length; c++) v += ch[c][i];
      this.buf[this.n++] = v / ch.length;
      if (this.n === this.buf.length) { this.port.postMessage(this.buf, [this.buf.buffer]); this.buf = new Float32Array(2048); this.n = 0; }
    }
    return true;
  }
}
registerProcessor('flam-tap', FlamTap);`;

/** Microphone -> mono Float32Array chunks (AudioWorklet; ScriptProcessor where there is none). */
async function openMicrophone(onChunk: (x: Float32Array, rate: number) => void): Promise<{ stop: () => Promise<void>; rate: number }> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no microphone access (navigator.mediaDevices is missing; the page must come from https or localhost)');
  let media: MediaStream;
  try {
    media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  } catch (e) {
    throw new Error(`no microphone: ${(e as Error).name === 'NotAllowedError' ? 'permission was denied' : (e as Error).message}`);
  }
  const ctx = new AudioContext();
  const src = ctx.createMediaStreamSource(media);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  mute.connect(ctx.destination);
  let node: AudioNode;
  if (ctx.audioWorklet) {
    const url = URL.createObjectURL(new Blob([TAP_WORKLET], { type: 'text/javascript' }));
    await ctx.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const w = new AudioWorkletNode(ctx, 'flam-tap', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
    w.port.onmessage = (ev) => onChunk(ev.data as Float32Array, ctx.sampleRate);
    node = w;
  } else {
    const sp = ctx.createScriptProcessor(2048, 1, 1);
    sp.onaudioprocess = (ev) => onChunk(ev.inputBuffer.getChannelData(0).slice(), ctx.sampleRate);
    node = sp;
  }
  src.connect(node);
  node.connect(mute);
  if (ctx.state === 'suspended') await ctx.resume();
  return {
    rate: ctx.sampleRate,
    stop: async () => {
      src.disconnect(); node.disconnect();
      for (const t of media.getTracks()) t.stop();
      await ctx.close();
    },
  };
}

async function startRecording(): Promise<void> {
  if (!model || !tok) return;
  const prompts = parsePrompts();
  if (!prompts) return;
  const hopSeconds = Number(ui.hop.value) || 2.5;
  const chunks: Float32Array[] = [];
  let rate = 48000, live: { scores: number[][]; mel: Float32Array[]; melFrames: number } = { scores: prompts.map(() => []), mel: [], melFrames: 0 };
  demo.live = [];
  demo.result = null;
  let stopping: Promise<void> | null = null;
  const t0 = performance.now();
  const redraw = () => {
    const received = stream.receivedSeconds;
    const span = Math.max(10, Math.ceil(received / 5) * 5);
    const mel = new Float32Array(live.melFrames * 64);
    let o = 0;
    for (const m of live.mel) { mel.set(m, o); o += m.length; }
    drawSpectrogram(ui.spec, mel, live.melFrames, 64, span);
    drawHeatmap(ui.heatmap, live.scores, FRAME_SECONDS, span);
    drawAxis(ui.axis, span);
  };
  const stream = new FlamStream(model, tok, prompts, {
    hopSeconds, withLogmel: true,
    onScores: (e: StreamScores) => {
      for (let p = 0; p < prompts.length; p++) {
        for (let f = live.scores[p].length; f < e.startFrame; f++) live.scores[p].push(NaN); // dropped frames
        live.scores[p].push(...e.scores[p]);
      }
      if (e.logmel) {
        // keep the spectrogram aligned with the timeline: pad dropped spans with silence
        const want = Math.round(e.startTime / 0.01);
        if (want > live.melFrames) { live.mel.push(new Float32Array((want - live.melFrames) * 64).fill(-100)); live.melFrames = want; }
        live.mel.push(e.logmel.data); live.melFrames += e.logmel.frames;
      }
      demo.live.push({ startFrame: e.startFrame, frames: e.frames, latency: e.latency, computeMs: e.computeMs, dropped: e.dropped });
      redraw();
      setStatus('recording', `Recording: ${stream.receivedSeconds.toFixed(1)} s heard, scored up to ${((e.startFrame + e.frames) * FRAME_SECONDS).toFixed(2)} s (window ${e.computeMs.toFixed(0)} ms${e.dropped ? `, ${e.dropped} frames skipped: the GPU is slower than real time` : ''}). Click Stop to finish.`);
    },
    onError: (e) => fail(e),
  });
  let mic: Awaited<ReturnType<typeof openMicrophone>>;
  let stopFn: (() => Promise<void>) | null = null;
  try {
    mic = await openMicrophone((x, r) => {
      if (stopping) return;
      rate = r;
      chunks.push(x);
      try { stream.push(x, r); } catch (e) { void stopFn?.(); fail(e); }
      if (stream.receivedSeconds >= MAX_RECORD_SECONDS) void stopFn?.();
    });
  } catch (e) {
    await stream.dispose();
    fail(e);
    return;
  }
  ui.results.hidden = false;
  renderLabels(prompts);
  ui.events.innerHTML = '';
  ui.record.textContent = '■ Stop';
  ui.record.classList.add('recording');
  setStatus('recording', `Recording from the microphone (${mic.rate} Hz); scores every ${stream.hopSeconds} s. Click Stop to finish.`);
  const stop = () => stopping ??= (async () => {
    recording = null;
    ui.record.textContent = '● Record';
    ui.record.classList.remove('recording');
    await mic.stop();
    setStatus('finishing', 'Scoring the last frames…');
    try {
      await stream.flush();
      redraw();
      const r = stream.result();
      const events = stream.events({ threshold: threshold(), median: true });
      renderEvents(events);
      const n = chunks.reduce((s, c) => s + c.length, 0);
      const all = new Float32Array(n);
      let o = 0;
      for (const c of chunks) { all.set(c, o); o += c.length; }
      audio = { samples: rate === 48000 ? all : resample(all, rate, 48000), name: 'recording' };
      ui.audioInfo.textContent = `recording: ${(n / rate).toFixed(2)} s at ${rate} Hz (Detect re-runs it offline)`;
      demo.result = { mode: 'stream', source: 'microphone', prompts, duration: r.duration, frameHop: r.frameHop, scores: r.scores.map((s) => Array.from(s)), events, ms: performance.now() - t0 };
      setStatus('done', `Recording: ${r.duration.toFixed(1)} s, ${events.length} event${events.length === 1 ? '' : 's'}.`);
    } catch (e) { fail(e); } finally { await stream.dispose(); }
  })();
  stopFn = stop;
  recording = { stop };
}

// ---- start-up --------------------------------------------------------------------------------------------------

async function init(): Promise<void> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) { showNoWebGPU('This browser does not expose WebGPU (navigator.gpu is undefined).'); return; }
  let t0 = performance.now();
  try {
    rt = await browserRuntime();
  } catch (e) {
    const msg = (e as Error).message;
    if (/adapter/i.test(msg)) showNoWebGPU('WebGPU is present but found no GPU adapter (the GPU may be blocklisted or WebGPU disabled).');
    else showNoWebGPU(`WebGPU failed to start: ${msg}.`);
    return;
  }
  demo.adapter = `${rt.adapter.vendor} ${rt.adapter.architecture} ${rt.adapter.description}`.trim();
  demo.timings.deviceMs = performance.now() - t0;
  let cfg = DEFAULT_CONFIG;
  try {
    const r = await fetch('config.json');
    if (r.ok) cfg = { ...DEFAULT_CONFIG, ...(await r.json() as DemoConfig) };
  } catch { /* static hosting without config.json: defaults */ }
  demo.config = cfg;
  t0 = performance.now();
  const sizes: Record<string, [number, number]> = {};
  try {
    setStatus('loading', 'Loading the model…');
    ({ model, tok } = await loadFlamFromUrls(rt, { model: cfg.model, vocab: cfg.vocab, merges: cfg.merges, glove: cfg.glove }, (what, l, t) => {
      sizes[what] = [l, t];
      const [ml, mt] = sizes.model ?? [0, 0];
      setStatus('loading', `Loading the model… ${(ml / 2 ** 20).toFixed(1)}${mt ? ` of ${(mt / 2 ** 20).toFixed(1)}` : ''} MiB`);
    }));
  } catch (e) { fail(e); return; }
  demo.timings.loadMs = performance.now() - t0;
  ui.footer.textContent = `Model ${cfg.modelName ?? cfg.model} (${model.cfg.name}, ${(model.numParameters() / 1e6).toFixed(1)} M parameters) on ${demo.adapter || 'WebGPU'}${rt.adapter.isCPU ? ' (a software adapter: expect seconds per 10 s clip)' : ''}.`;
  ui.example.textContent = cfg.exampleName ? `Load the example (${cfg.exampleName})` : 'Load the example clip';
  setStatus('ready', 'Ready: drop an audio file, load the example or record.');
}

ui.file.addEventListener('change', () => { const f = ui.file.files?.[0]; if (f) void loadFile(f); ui.file.value = ''; });
ui.drop.addEventListener('dragover', (e) => { e.preventDefault(); ui.drop.classList.add('over'); });
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault(); ui.drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f && model && !ui.file.disabled) void loadFile(f);
});
ui.example.addEventListener('click', async () => {
  const url = demo.config?.example;
  if (!url) return;
  try {
    setStatus('decoding', 'Fetching the example…');
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    await loadAudio(new Uint8Array(await r.arrayBuffer()), demo.config?.exampleName ?? url.split('/').pop()!);
  } catch (e) { fail(e); }
});
ui.run.addEventListener('click', () => void runDetect());
ui.record.addEventListener('click', () => { if (recording) void recording.stop(); else void startRecording(); });
renderLegend();
void init();
