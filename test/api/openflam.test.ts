// The openflam-style API (src/api/openflam.ts) on a small model: a randomly initialised 'tiny-noglove' FLAM saved
// as our model file in the test (no committed weights), with the shipped GPT-2 tokenizer files. aed_logit_scale is
// set to 0.5 so that a map ignoring exp(aed) fails. The v1-base official path and its PyTorch parity are in
// test/model/official.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenFLAM, fitClips, type NdArray } from '../../src/api/openflam.ts';
import * as API from '../../src/index.ts';
import { createFlam } from '../../src/model/flam.ts';
import { setValues } from '../../src/model/layers.ts';
import { encodeCheckpoint } from '../../src/train/checkpoint.ts';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import { GPT2_TOKENIZER_FILES } from '../../src/text/bpe.ts';
import { resample } from '../../src/audio/resample.ts';
import { tensor } from '../../src/tensor/tensor.ts';
import type { Runtime } from '../../src/gpu/runtime.ts';
import { getTestDevice } from '../util/gpu.ts';
import { rejects, rng } from '../util/compare.ts';

const s = suite('OpenFLAM API');
const root = join(import.meta.dirname, '..', '..');
const gpt2 = { vocab: readFileSync(join(root, GPT2_TOKENIZER_FILES.vocab)), merges: readFileSync(join(root, GPT2_TOKENIZER_FILES.merges)) };
const AED = 0.5;
const W = 480000;

let weights: Uint8Array | null = null;
let api: OpenFLAM | null = null;
const warnings: string[] = [];

/** Our model file of a random tiny-noglove FLAM with aed_logit_scale = 0.5. */
async function modelFile(rt: Runtime): Promise<Uint8Array> {
  if (weights) return weights;
  const m = createFlam(rt, 'tiny-noglove');
  setValues(m.heads.aedLogitScale, new Float32Array([AED]));
  m.bn0.setStats({ mean: new Float32Array(64).fill(-40), var: new Float32Array(64).fill(400) });
  weights = await encodeCheckpoint(m.storedState(), null, { step: 0, state: {}, config: { model: 'tiny-noglove' } });
  m.dispose();
  return weights;
}
async function getApi(): Promise<OpenFLAM> {
  const rt = await getTestDevice();
  api ??= await OpenFLAM.load(rt, { weights: await modelFile(rt), ...gpt2, source: 'tiny.safetensors', batchSize: 2, onWarning: (m) => warnings.push(m) });
  return api;
}

/** A clip of `n` samples: noise plus a tone burst (seeded). */
function clip(n: number, seed: number): Float32Array {
  const r = rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.05 * (2 * r() - 1) + (i > n / 3 && i < n / 2 ? 0.3 * Math.sin(i * (0.05 + 0.01 * seed)) : 0);
  return x;
}
const padTo = (x: Float32Array, n = W) => { const p = new Float32Array(n); p.set(x.subarray(0, n)); return p; };
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < b.length; i++) m = Math.max(m, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i])); return m; };
const sameArray = (a: NdArray, b: NdArray, what: string) => { assert.equal(a.shape, b.shape, `${what}: shape`); assert.is(maxAbs(a.data, b.data), 0, `${what}: values`); };

/** Float64 reference of the maps from the API's own features, alpha and beta (spec §6; scale = exp(aed) alpha). */
function refMap(local: NdArray, t: NdArray, alpha: NdArray, beta: NdArray, method: 'unbiased' | 'approximate'): Float64Array {
  const [B, L, D] = local.shape, N = t.shape[0];
  const out = new Float64Array(B * N * L);
  const logsig = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) {
    let c = 0, na = 0, nt = 0;
    for (let d = 0; d < D; d++) { const a = local.data[(b * L + l) * D + d], y = t.data[n * D + d]; c += a * y; na += a * a; nt += y * y; }
    const cos = c / Math.sqrt(na * nt), sc = Math.exp(AED) * alpha.data[n], h = sc * cos + beta.data[n];
    out[(b * N + n) * L + l] = method === 'approximate' ? 1 / (1 + Math.exp(-sc * cos))
      : Math.exp(logsig(h) - Math.max(logsig(h), logsig(beta.data[n])) - Math.log1p(Math.exp(-Math.abs(logsig(h) - logsig(beta.data[n])))));
  }
  return out;
}

s('load: our model file with the GPT-2 tokenizer; exported from the package index; scales read from the file', async () => {
  const a = await getApi();
  assert.is(API.OpenFLAM, OpenFLAM);
  assert.is(a.kind, 'flam-webgpu');
  assert.is(a.jointDim, 128); assert.is(a.frames, 32); assert.is(a.textBranchDim, 128);
  assert.ok(Math.abs(a.getLogitScale() - Math.exp(AED)) < 1e-6, `getLogitScale() ${a.getLogitScale()} = exp(aed_logit_scale)`);
  assert.ok(Math.abs(a.getClipLogitScale() - 1 / 0.07) < 1e-3, 'exp(logit_scale_a) = 1/0.07 at init');
});

s('audio features: shapes, unit vectors, batches of any size equal one clip at a time; Tensor input equals arrays', async () => {
  const a = await getApi();
  const clips = [0, 1, 2].map((i) => clip(W, i + 1));
  const { global, local } = await a.getAudioFeatures(clips);   // batchSize 2: batches [0, 1] and [2]
  assert.equal(global.shape, [3, 128]); assert.equal(local.shape, [3, 32, 128]);
  for (let r = 0; r < 3 * 33; r++) {
    const v = r < 3 ? global.data.subarray(r * 128, (r + 1) * 128) : local.data.subarray((r - 3) * 128, (r - 2) * 128);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, `row ${r} is a unit vector`);
  }
  const one = await a.getGlobalAudioFeatures(clips[2]);
  assert.equal(one.shape, [1, 128]);
  assert.ok(maxAbs(one.data, global.data.subarray(256)) < 1e-6, 'clip 2 alone equals clip 2 in a batch');
  const rt = await getTestDevice();
  const flat = new Float32Array(3 * W); clips.forEach((c, i) => flat.set(c, i * W));
  const x = tensor(rt, flat, [3, W]);
  try { sameArray(await a.getLocalAudioFeatures(x), local, 'Tensor [3, 480000] input'); } finally { x.dispose(); }
});

s('the clip rule: shorter clips are zero-padded at the end, longer ones cut to the first 10 s (with a warning), never stretched', async () => {
  const a = await getApi();
  const short = clip(3 * 48000, 4), long = clip(12 * 48000, 5);
  warnings.length = 0;
  const got = await a.getLocalAudioFeatures([short, long]);
  const want = await a.getLocalAudioFeatures([padTo(short), long.slice(0, W)]);
  sameArray(got, want, 'padded/cut clips');
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /clip 1 \(12\.00 s\) cut to the first 10 s/);
  // A stretched clip (what a bicubic resize of the short clip's mel would approximate) is something else.
  const stretched = new Float32Array(W); for (let i = 0; i < W; i++) stretched[i] = short[Math.floor((i * short.length) / W)];
  assert.ok(maxAbs((await a.getLocalAudioFeatures(stretched)).data, want.data.subarray(0, 32 * 128)) > 1e-2, 'padding differs from stretching');
  // The same rule on the GPU for a Tensor [B, n].
  const rt = await getTestDevice();
  for (const n of [3 * 48000, 12 * 48000]) {
    const src = n < W ? short : long;
    const x = tensor(rt, src.slice(0, n), [1, n]);
    try {
      const viaTensor = await a.getLocalAudioFeatures(x);
      const viaArray = await a.getLocalAudioFeatures(padTo(src));
      assert.ok(maxAbs(viaTensor.data, viaArray.data) < 1e-6, `Tensor [1, ${n}]`);
      assert.is(x.disposed, false, 'the caller\'s tensor is left alone');
    } finally { x.dispose(); }
  }
  // Another sample rate is resampled to 48 kHz first.
  const c24 = clip(240000, 6);
  sameArray(await a.getGlobalAudioFeatures(c24, { sampleRate: 24000 }), await a.getGlobalAudioFeatures(resample(c24, 24000, 48000)), 'sampleRate 24000');
});

s('getLocalSimilarity: unbiased and approximate maps = the float64 formula on the API\'s features, with exp(aed) alpha; texts encoded once', async () => {
  const a = await getApi();
  const clips = [clip(W, 7), clip(W, 8), clip(W, 9)];
  const texts = ['a dog barking', 'rain on a tin roof', 'female speaker'];
  const local = await a.getLocalAudioFeatures(clips);
  const text = await a.getTextOutputs(texts);
  let calls = 0;
  const enc = a.model.text_branch.encodeTexts.bind(a.model.text_branch);
  a.model.text_branch.encodeTexts = (...args) => { calls++; return enc(...args); };
  try {
    for (const method of ['unbiased', 'approximate'] as const) {
      calls = 0;
      const m = await a.getLocalSimilarity(clips, texts, { method, crossProduct: true });
      assert.is(calls, 1, `${method}: one text-encoder pass for the whole call (3 clips in 2 batches)`);
      assert.equal(m.shape, [3, 3, 32]);
      const d = maxAbs(m.data, refMap(local, text.features, text.logitScale, text.logitBias, method));
      console.log(`${d <= 2e-6 ? 'OK' : 'FAIL'} ${method} map vs float64 formula: maxdiff ${d.toExponential(2)}`);
      assert.ok(d <= 2e-6, `${method}: max diff ${d}`);
      // Paired mode: clip i with text i = the diagonal of the cross product.
      const p = await a.getLocalSimilarity(clips, texts, { method });
      assert.equal(p.shape, [3, 32]);
      for (let i = 0; i < 3; i++) assert.ok(maxAbs(p.data.subarray(i * 32, (i + 1) * 32), m.data.subarray((i * 3 + i) * 32, (i * 3 + i + 1) * 32)) < 1e-6, `paired row ${i}`);
    }
    const med = await a.getLocalSimilarity(clips, texts, { crossProduct: true, median: true });
    const raw = await a.getLocalSimilarity(clips, texts, { crossProduct: true });
    assert.ok(maxAbs(med.data, API.medianFilter3(raw.data, 9, 32)) < 1e-7, 'median: 3-tap temporal median of the map');
  } finally { a.model.text_branch.encodeTexts = enc; }
});

s('one prompt works everywhere (no 0-d squeeze): [1, J], [1], [B, 1, 32], paired [1, 32]', async () => {
  const a = await getApi();
  const t = await a.getTextOutputs('dog');
  assert.equal(t.features.shape, [1, 128]); assert.equal(t.branchOutput.shape, [1, 128]);
  assert.equal(t.logitScale.shape, [1]); assert.equal(t.logitBias.shape, [1]);
  sameArray(await a.getTextFeatures(['dog']), t.features, 'string vs [string]');
  const u = await a.getTextBranchOutput('dog');
  const alpha = await a.getPerTextLogitScale(u), beta = await a.getPerTextLogitBias(u.data);
  assert.equal(alpha.shape, [1]); assert.equal(beta.shape, [1]);
  assert.ok(Math.abs(alpha.data[0] - t.logitScale.data[0]) < 1e-5 * alpha.data[0] && Math.abs(beta.data[0] - t.logitBias.data[0]) < 1e-5);
  assert.ok(alpha.data[0] > 5 && alpha.data[0] < 20 && beta.data[0] < -5, `alpha ${alpha.data[0]} ~ 10 and beta ${beta.data[0]} ~ -8 at init`);
  const c = clip(W, 10);
  assert.equal((await a.getLocalSimilarity([c, c], 'dog', { crossProduct: true })).shape, [2, 1, 32]);
  const p = await a.getLocalSimilarity(c, ['dog']);
  assert.equal(p.shape, [1, 32]);
  for (const v of p.data) assert.ok(v > 0 && v < 1);
  // getPerTextLogitScale on several rows = the text outputs' alpha.
  const three = await a.getTextOutputs(['dog', 'cat', 'a car horn']);
  assert.ok(maxAbs((await a.getPerTextLogitScale(three.branchOutput)).data, three.logitScale.data) < 1e-4);
  assert.ok(maxAbs((await a.getPerTextLogitBias(three.branchOutput)).data, three.logitBias.data) < 1e-5);
});

s('bad input: clear errors naming what was expected', async () => {
  const a = await getApi();
  const c = clip(W, 11);
  await rejects(() => a.getTextFeatures([]), /texts: no text given/);
  await rejects(() => a.getTextFeatures(['ok', 3 as unknown as string]), /texts: entry 1 is number, expected a string/);
  await rejects(() => a.getLocalSimilarity([c, c], ['x', 'y', 'z']), /without crossProduct clip i is paired with text i, so the counts must match \(got 2 clips and 3 texts\)/);
  await rejects(() => a.getLocalSimilarity(c, ['x'], { method: 'exact' as 'unbiased' }), /method "exact" must be 'unbiased' or 'approximate'/);
  const bad = c.slice(); bad[1234] = NaN;
  await rejects(() => a.getGlobalAudioFeatures([c, bad]), /audio: clip 1 holds NaN at sample 1234/);
  await rejects(() => a.getGlobalAudioFeatures(new Float32Array(0)), /audio: clip 0 is empty/);
  await rejects(() => a.getGlobalAudioFeatures([]), /audio: no clips given/);
  await rejects(() => a.getPerTextLogitScale(new Float32Array(100)), /u holds 100 values, not a positive multiple of 128/);
  await rejects(() => a.getPerTextLogitBias({ data: new Float32Array(256), shape: [1, 256] }), /u has shape \[1, 256\] and 256 values, expected \[N, 128\]/);
  assert.throws(() => fitClips(c, { sampleRate: -1 }), /sample rate -1 must be a positive number/);
});

s('load errors: no tokenizer, a tokenizer that does not fit, GloVe presets without the table, junk', async () => {
  const rt = await getTestDevice();
  const file = await modelFile(rt);
  await rejects(() => OpenFLAM.load(rt, { weights: file, source: 'm.safetensors' }), /m\.safetensors: the 'tiny-noglove' model needs its tokenizer: pass vocab and merges \(the GPT-2 byte-level BPE files shipped as weights\/tokenizer/);
  const v1 = join(root, 'test/fixtures/v1base');
  await rejects(() => OpenFLAM.load(rt, { weights: file, vocab: readFileSync(join(v1, 'vocab.json')), merges: readFileSync(join(v1, 'merges.txt')), source: 'm.safetensors' }),
    /m\.safetensors: the tokenizer does not fit the 'tiny-noglove' model: it has \d+ ids with <pad> = 1, the model's table has 50261 rows with <pad> = 50258/);
  const m = createFlam(rt, 'tiny-noglove', { init: 'zeros' });
  const tinyCfg = await encodeCheckpoint(m.storedState(), null, { step: 0, state: {}, config: { model: 'tiny' } });
  m.dispose();
  await rejects(() => OpenFLAM.load(rt, { weights: tinyCfg, ...gpt2 }), /the 'glove-frozen' word embeddings need the GloVe table/);
  await rejects(() => OpenFLAM.load(rt, { weights: new TextEncoder().encode('hello world, not a model'), source: 'x.bin' }), /x\.bin: not a model file \(expected a flam-webgpu model \.safetensors, an OpenFLAM state_dict converted by flam convert, or the official \.pth\)/);
  await rejects(() => OpenFLAM.load(rt, { weights: encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: [1] } }), source: 'y.safetensors' }), /y\.safetensors: neither a flam-webgpu model file \(format null, expected flam-webgpu-checkpoint\/1\) nor an OpenFLAM state_dict/);
  await rejects(() => OpenFLAM.load(rt, { weights: file, ...gpt2, batchSize: 0 }), /batchSize 0 must be a positive integer/);
});

s('no GPU memory is left behind by the API calls', async () => {
  const rt = await getTestDevice();
  const a = await getApi();
  const c = [clip(W, 12), clip(100000, 13)];
  await a.getLocalSimilarity(c, ['x', 'y'], { crossProduct: true }); // warm up (pipelines, pools)
  await rt.sync();
  const before = rt.pool.stats().liveBytes;
  await a.getAudioFeatures(c);
  await a.getTextOutputs(['x', 'y']);
  await a.getLocalSimilarity(c, ['x', 'y']);
  await a.getPerTextLogitScale((await a.getTextBranchOutput('x')).data);
  const x = tensor(rt, new Float32Array(2 * 100000), [2, 100000]);
  await a.getLocalSimilarity(x, ['x'], { crossProduct: true });
  x.dispose();
  await rejects(() => a.getLocalSimilarity(c, []), /no text given/);
  await rt.sync();
  assert.is(rt.pool.stats().liveBytes, before, 'live GPU bytes back to the baseline');
  a.dispose(); api = null;
});

s.run();
