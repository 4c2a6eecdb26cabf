// FlamStream (src/infer/stream.ts) on the Node device with a random-initialised tiny model: frame timestamps are
// continuous, latency is bounded by the hop (plus the chunk that crossed it), each emission equals detect() on
// the window's audio, a 10 s hop reproduces detect() on the whole file, resampling in chunks changes nothing,
// a stream that falls behind drops old frames instead of queueing, and bad input gets clear errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getTestDevice } from '../util/gpu.ts';
import { rejects } from '../util/compare.ts';
import { createFlam, type Flam } from '../../src/model/flam.ts';
import { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../../src/text/bpe.ts';
import { detect } from '../../src/infer/detect.ts';
import { FlamStream, type StreamScores } from '../../src/infer/stream.ts';
import { resample } from '../../src/audio/resample.ts';
import { tuneMatmul } from '../../src/ops/matmul.ts';

const s = suite('stream');
const root = resolve(import.meta.dirname, '..', '..');
const PROMPTS = ['a telephone ringing', 'gunshot', 'choir singing'];
const SR = 48000, FRAME = 15000;

let model: Flam | null = null;
let tok: BpeTokenizer | null = null;
async function setup(): Promise<{ model: Flam; tok: BpeTokenizer }> {
  if (!model) {
    const rt = await getTestDevice();
    if (!rt.choices.matmul) await tuneMatmul(rt);
    model = createFlam(rt, 'tiny', { glove: readFileSync(join(root, 'weights/glove/gpt2-glove100.safetensors')) });
    model.bn0.setStats({ mean: new Array(64).fill(-40), var: new Array(64).fill(400) });
    model.eval();
    tok = await BpeTokenizer.load(readFileSync(join(root, GPT2_TOKENIZER_FILES.vocab)), readFileSync(join(root, GPT2_TOKENIZER_FILES.merges)));
  }
  return { model, tok: tok! };
}

/** Deterministic test audio: tone bursts, noise bursts and silence at changing levels. */
function signal(seconds: number, rate = SR): Float32Array {
  const n = Math.round(seconds * rate);
  const x = new Float32Array(n);
  let r = 12345;
  const rnd = () => { r = (Math.imul(r, 1103515245) + 12345) >>> 0; return r / 2 ** 32 - 0.5; };
  for (let i = 0; i < n; i++) {
    const t = i / rate, seg = Math.floor(t / 1.7) % 4;
    const env = 0.5 + 0.5 * Math.sin(t * 2.3);
    x[i] = seg === 0 ? 0.3 * env * Math.sin(2 * Math.PI * (440 + 30 * seg) * t)
      : seg === 1 ? 0.2 * env * rnd()
      : seg === 2 ? 0.25 * Math.sin(2 * Math.PI * 1200 * t) * (Math.sin(2 * Math.PI * 4 * t) > 0 ? 1 : 0)
      : 0.001 * rnd();
  }
  return x;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Push `x` in chunks of `chunk` samples; after each push optionally wait until scoring caught up. */
async function run(stream: FlamStream, x: Float32Array, rate: number, chunk: number, realTime: boolean): Promise<void> {
  for (let i = 0; i < x.length; i += chunk) {
    stream.push(x.subarray(i, Math.min(x.length, i + chunk)), rate);
    if (realTime) await stream.idle();
  }
  await stream.flush();
}

s('hop 2.5 s in 0.15 s chunks: continuous frames, latency <= one chunk, each emission equals detect() on its window', async () => {
  const { model, tok } = await setup();
  const x = signal(25);
  const chunk = Math.round(0.15 * SR);
  const got: (StreamScores & { pushed: number })[] = [];
  const stream = new FlamStream(model, tok, PROMPTS, { hopSeconds: 2.5, onScores: (e) => got.push({ ...e, pushed: stream.receivedSeconds }) });
  assert.is(stream.hopSeconds, 2.5);
  await run(stream, x, SR, chunk, true);
  const T = Math.ceil(x.length / FRAME);
  assert.is(stream.emittedFrames, T, 'every frame emitted');
  assert.is(stream.droppedFrames, 0);
  let next = 0, worstLatency = 0, worstFrameDelay = 0;
  for (const e of got) {
    assert.is(e.startFrame, next, 'frames continue where the previous emission ended');
    assert.is(e.dropped, 0);
    assert.ok(e.frames > 0 && e.scores.length === PROMPTS.length && e.scores.every((r) => r.length === e.frames));
    assert.ok(Math.abs(e.startTime - e.startFrame * 0.3125) < 1e-12);
    next = e.startFrame + e.frames;
    worstLatency = Math.max(worstLatency, e.latency);
    // every frame of the emission had its audio complete at most hop + chunk before it was emitted
    worstFrameDelay = Math.max(worstFrameDelay, e.pushed - e.startFrame * 0.3125 - 0.3125);
    for (const r of e.scores) for (const v of r) assert.ok(v > 0 && v < 1, `score ${v} outside (0, 1)`);
  }
  assert.is(next, T);
  assert.ok(worstLatency <= chunk / SR + 1e-9, `latency ${worstLatency} s exceeds one chunk`);
  assert.ok(worstFrameDelay <= 2.5 + chunk / SR + 1e-9, `a frame waited ${worstFrameDelay} s (bound: hop + chunk = ${2.5 + chunk / SR})`);
  // each emission equals detect() on exactly the audio of its window (zero-padded while under 10 s)
  let worst = 0;
  for (const e of got) {
    const end = (e.startFrame + e.frames) * FRAME, ws = Math.round(e.windowStart * SR);
    const ref = await detect(model, tok, x.slice(ws, Math.min(end, x.length)), PROMPTS, { hop: 10, median: false, batch: 1 });
    const f0 = e.startFrame - ws / FRAME;
    e.scores.forEach((row, p) => { worst = Math.max(worst, maxDiff(row, ref.scores[p].subarray(f0, f0 + e.frames))); });
  }
  assert.ok(worst <= 1e-6, `stream vs detect() on the same windows: max abs diff ${worst}`);
  // and against detect() on the whole file (50 % overlapping windows, averaged): close, not equal (different context)
  const full = await detect(model, tok, x, PROMPTS, { hop: 5, median: false });
  const res = stream.result();
  let sum = 0, n = 0, mx = 0;
  res.scores.forEach((row, p) => { for (let f = 0; f < T; f++) { const d = Math.abs(row[f] - full.scores[p][f]); sum += d; n++; mx = Math.max(mx, d); } });
  console.log(`  stream (hop 2.5 s) vs detect (hop 5 s, whole file): mean abs diff ${(sum / n).toFixed(4)}, max ${mx.toFixed(4)}; emission compute ${got.map((e) => e.computeMs.toFixed(0)).join(' ')} ms`);
  assert.ok(sum / n < 0.05, `stream scores far from detect() on the whole file: mean abs diff ${sum / n}`);
  await stream.dispose();
});

s('hop 10 s reproduces detect() (hop 10 s, no median) on the whole file exactly', async () => {
  const { model, tok } = await setup();
  const x = signal(20);
  const stream = new FlamStream(model, tok, PROMPTS, { hopSeconds: 10 });
  await run(stream, x, SR, 9600, false);
  const ref = await detect(model, tok, x, PROMPTS, { hop: 10, median: false, batch: 1 });
  const r = stream.result();
  assert.is(r.scores[0].length, 64);
  r.scores.forEach((row, p) => assert.ok(maxDiff(row, ref.scores[p]) <= 1e-6, `prompt ${p}: max diff ${maxDiff(row, ref.scores[p])}`));
  const ev = stream.events({ threshold: 0.5 });
  const refEv = ref.events;
  assert.equal(ev.map((e) => [e.prompt, e.onset, e.offset]), refEv.map((e) => [e.prompt, e.onset, e.offset]));
  await stream.dispose();
});

s('44.1 kHz chunks of random sizes score exactly like the same audio resampled at once; flush scores the tail', async () => {
  const { model, tok } = await setup();
  const x44 = signal(12.2, 44100);
  const a = new FlamStream(model, tok, PROMPTS, { hopSeconds: 5 });
  let i = 0, k = 7;
  while (i < x44.length) { k = (k * 48271) % 2147483647; const n = 1 + (k % 6000); a.push(x44.subarray(i, i + n), 44100); i += n; }
  const finals: boolean[] = [];
  const b = new FlamStream(model, tok, PROMPTS, { hopSeconds: 5, onScores: (e) => finals.push(e.final) });
  b.push(resample(x44, 44100, 48000), 48000);
  await Promise.all([a.flush(), b.flush()]);
  const ra = a.result(), rb = b.result();
  assert.is(ra.scores[0].length, Math.ceil(12.2 / 0.3125));
  assert.is(ra.duration, rb.duration);
  ra.scores.forEach((row, p) => assert.is(maxDiff(row, rb.scores[p]), 0, `prompt ${p}`));
  assert.ok(finals[finals.length - 1], 'the last emission is flush()\'s');
  await a.dispose(); await b.dispose();
});

s('falling behind: the queue holds one window, old frames are reported as dropped, timestamps stay ordered', async () => {
  const { model, tok } = await setup();
  const x = signal(40);
  const got: StreamScores[] = [];
  const stream = new FlamStream(model, tok, PROMPTS, { hopSeconds: 2.5, onScores: (e) => got.push(e) });
  await run(stream, x, SR, 24000, false); // 40 s pushed before the first window finished scoring
  assert.ok(got.length <= 3, `${got.length} emissions: windows were queued instead of replaced`);
  assert.is(stream.emittedFrames, 128);
  assert.ok(stream.droppedFrames > 0 && stream.droppedFrames <= 128 - 32, `dropped ${stream.droppedFrames}`);
  let next = 0;
  for (const e of got) { assert.is(e.startFrame, next + e.dropped); next = e.startFrame + e.frames; }
  const r = stream.result();
  const nan = Array.from(r.scores[0]).filter((v) => Number.isNaN(v)).length;
  assert.is(nan, stream.droppedFrames, 'dropped frames hold NaN in result()');
  // the newest 10 s were scored
  assert.ok(got[got.length - 1].windowStart === 30);
  await stream.dispose();
});

s('bad input: no prompts, NaN samples, a changed sample rate, push after flush, bad hop', async () => {
  const { model, tok } = await setup();
  assert.throws(() => new FlamStream(model, tok, []), /no prompts/);
  assert.throws(() => new FlamStream(model, tok, ['ok', '  ']), /prompt 2 is empty/);
  assert.throws(() => new FlamStream(model, tok, ['x'], { hopSeconds: 0 }), /hopSeconds/);
  const st = new FlamStream(model, tok, ['dog']);
  st.push(new Float32Array(100), 16000);
  assert.throws(() => st.push(Float32Array.of(0, NaN), 16000), /NaN or Inf/);
  assert.throws(() => st.push(new Float32Array(10), 44100), /sample rate changed from 16000 Hz to 44100 Hz/);
  await st.flush();
  assert.is(st.emittedFrames, 1);
  assert.throws(() => st.push(new Float32Array(10), 16000), /flushed/);
  await st.dispose();
  assert.throws(() => st.push(new Float32Array(10), 16000), /disposed/);
  await rejects(() => st.flush(), /disposed/);
});

s.run();
