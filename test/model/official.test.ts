// The official OpenFLAM v1-base checkpoint: loading (src/model/official.ts) and PyTorch parity.
//
// Parity fixtures: test/fixtures/v1base/make_fixtures.py (a plain-torch v1-base written from the spec, float64, with
// closed-form hashed weights). This test regenerates the same 0.79 GB official-layout checkpoint in TypeScript bit for
// bit (test/model/_v1base.ts; its sha256 is checked against info.json), loads it through OpenFLAM.load ->
// flamFromOfficial, runs two clips (10 s, and 3 s padded by the API) and three prompts, and compares with the
// committed float64 reference: global, local and text embedding cosines >= 0.9999, maps max |diff| <= 1e-4.
// With FLAM_V1BASE_FILE=/tmp/flam-v1base-random.pth (written by the script; not committed) the .pth is converted
// with flam convert's code instead (or FLAM_V1BASE_FILE names a .safetensors the flam convert CLI wrote from it),
// every converted tensor is checked against the generator, and the converted file is what gets loaded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy } from '../../src/io/npy.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { OpenFLAM } from '../../src/api/openflam.ts';
import { checkOfficialState, flamFromOfficial, readOfficialStateDict, robertaTokenizer, ROBERTA_FILES_HELP, type OfficialTensor } from '../../src/model/official.ts';
import { flamgram } from '../../src/model/flamgram.ts';
import { tensor, scope } from '../../src/tensor/tensor.ts';
import { noGrad } from '../../src/autograd/tape.ts';
import { GPT2_TOKENIZER_FILES } from '../../src/text/bpe.ts';
import { getTestDevice } from '../util/gpu.ts';
import { rejects } from '../util/compare.ts';
import { generateV1BaseCheckpoint, clipSignals, stftWeights, type GeneratedCheckpoint } from './_v1base.ts';

const s = suite('official v1-base checkpoint');
const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'test', 'fixtures', 'v1base');
const info = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8'));
const tokens = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')) as { prompts: string[]; ids: number[][] };
const roberta = { vocab: readFileSync(join(dir, 'vocab.json')), merges: readFileSync(join(dir, 'merges.txt')) };
const ref = (n: string) => decodeNpy(readFileSync(join(dir, `ref_${n}.npy`)));

let gen: GeneratedCheckpoint | null = null;
const checkpoint = () => (gen ??= generateV1BaseCheckpoint());
/** The generated checkpoint as a state dict (views, no copy), with some entries replaced or removed. */
function edited(changes: Record<string, OfficialTensor | null>): Map<string, OfficialTensor> {
  const sd = readOfficialStateDict(checkpoint().bytes, 'generated');
  for (const [k, v] of Object.entries(changes)) { if (v) sd.set(k, v); else sd.delete(k); }
  return sd;
}
/** A small safetensors file with official-style keys (enough for the checks that run before the layout check). */
const tinyOfficial = () => encodeSafetensors({ 'audio_branch.norm.weight': { dtype: 'F32', shape: [4], data: new Float32Array(4) } });

/** Smallest row cosine between a [rows, D] result and the reference, and the max abs difference. */
function rowCosine(got: Float32Array, want: Float32Array, D: number): { cos: number; maxDiff: number } {
  let cos = Infinity, maxDiff = 0;
  for (let r = 0; r < want.length / D; r++) {
    let d = 0, a = 0, b = 0;
    for (let j = r * D; j < (r + 1) * D; j++) { d += got[j] * want[j]; a += got[j] ** 2; b += want[j] ** 2; maxDiff = Math.max(maxDiff, Math.abs(got[j] - want[j])); }
    cos = Math.min(cos, d / Math.sqrt(a * b));
  }
  return { cos, maxDiff };
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < b.length; i++) m = Math.max(m, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i])); return m; };

s('the TypeScript generator reproduces the Python weights bit for bit (sha256 of every hashed entry)', () => {
  const g = checkpoint();
  console.log(`generated ${(g.bytes.length / 1e6).toFixed(1)} MB official-layout checkpoint in ${(g.ms / 1000).toFixed(2)} s`);
  assert.is(g.digest, info.hashed_sha256);
});

s('v1-base parity with the PyTorch reference: embeddings cosine >= 0.9999, maps within 1e-4', async () => {
  const rt = await getTestDevice();
  let bytes = checkpoint().bytes, source = 'generated v1-base checkpoint';
  const pth = process.env.FLAM_V1BASE_FILE;
  if (pth) {
    // The script's .pth converted here with flam convert's code (or a file the flam convert CLI already wrote): the
    // converted tensors must equal the generator's.
    const { convertPth } = await import('../../src/cli/commands/convert.ts');
    const raw = new Uint8Array(readFileSync(pth));
    const conv = raw[0] === 0x50 && raw[1] === 0x4b ? convertPth(raw, { source: pth, strict: true, sha256: '-' }) : { output: raw };
    const a = decodeSafetensors(conv.output, 'converted'), b = decodeSafetensors(bytes, 'generated');
    assert.is(a.names.length, 500);
    for (const k of b.names) {
      const x = a.get(k), y = b.get(k);
      assert.is(x.dtype, y.dtype, k);
      const tol = k.includes('spectrogram_extractor') || k.endsWith('melW') ? 1e-7 : 0; // trig in numpy vs JS: <= 1 ulp
      const d = x.dtype === 'I64' ? (x.bigint64().every((v, i) => v === y.bigint64()[i]) ? 0 : 1) : maxAbs(x.float32(), y.float32());
      assert.ok(d <= tol, `${k}: converted .pth differs from the generator by ${d}`);
    }
    console.log(`FLAM_V1BASE_FILE: ${pth}${raw === conv.output ? '' : ' converted by flam convert'}; all 500 tensors equal the generator's`);
    bytes = conv.output; source = pth;
  }
  const warnings: string[] = [];
  const api = await OpenFLAM.load(rt, { weights: bytes, ...roberta, source, onWarning: (m) => warnings.push(m) });
  try {
    assert.is(api.kind, 'official');
    assert.ok(Math.abs(api.getLogitScale() - Math.exp(info.aed_logit_scale)) < 1e-6, 'getLogitScale() = exp(aed_logit_scale)');
    assert.ok(Math.abs(api.getClipLogitScale() - Math.exp(info.logit_scale_a)) < 1e-5, 'getClipLogitScale() = exp(logit_scale_a)');
    console.log(`STFT conv weights vs periodic-Hann DFT: max |diff| ${api.report!.stftMaxAbsDiff.toExponential(2)}; melW vs float64 Slaney: ${api.report!.melMaxAbsDiffFromSlaney.toExponential(2)}`);
    tokens.prompts.forEach((p, i) => assert.equal(api.tokenizer.encode(p), tokens.ids[i], `BPE ids of ${JSON.stringify(p)} (python's)`));

    const clips = clipSignals();
    assert.equal(clips.map((c) => c.length), info.clip_lengths);
    const t0 = performance.now();
    const audio = await api.getAudioFeatures(clips);
    const t1 = performance.now();
    const text = await api.getTextOutputs(tokens.prompts);
    const t2 = performance.now();
    console.log(`audio (2 clips) ${((t1 - t0) / 1000).toFixed(2)} s, text (3 prompts) ${((t2 - t1) / 1000).toFixed(2)} s`);
    assert.ok(warnings.some((w) => /clip 1/.test(w)) === false, 'the 3 s clip is padded, not cut');

    const failures: string[] = [];
    const cosCheck = (name: string, got: Float32Array, D: number) => {
      const r = rowCosine(got, ref(name).data as Float32Array, D);
      const ok = r.cos >= 0.9999;
      console.log(`${ok ? 'OK' : 'FAIL'} ${name}: min cosine ${r.cos.toFixed(9)} (1 - cos = ${(1 - r.cos).toExponential(2)}), maxdiff ${r.maxDiff.toExponential(2)}`);
      if (!ok) failures.push(`${name}: cosine ${r.cos} < 0.9999`);
    };
    const absCheck = (name: string, got: ArrayLike<number>, bound: number, shape: number[], want = ref(name)) => {
      assert.equal(shape, want.shape, `${name} shape`);
      const d = maxAbs(got, want.data as Float32Array);
      const ok = d <= bound;
      console.log(`${ok ? 'OK' : 'FAIL'} ${name}: maxdiff ${d.toExponential(2)} (bound ${bound})`);
      if (!ok) failures.push(`${name}: max abs diff ${d} > ${bound}`);
    };
    assert.equal(audio.global.shape, [2, 512]); assert.equal(audio.local.shape, [2, 32, 512]); assert.equal(text.features.shape, [3, 512]);
    cosCheck('global', audio.global.data, 512);
    cosCheck('local', audio.local.data, 512);
    cosCheck('text', text.features.data, 512);
    cosCheck('text_branch', text.branchOutput.data, 768);
    absCheck('alpha', text.logitScale.data, 1e-4 * 16, text.logitScale.shape);  // alpha ~ 11-15: relative 1e-4
    absCheck('beta', text.logitBias.data, 1e-4, text.logitBias.shape);
    // The maps from these features, as getLocalSimilarity computes them (h = exp(aed) alpha cos + beta; another audio
    // pass would only repeat the encoder: test/api/openflam.test.ts checks getLocalSimilarity against its features).
    const sc = api.getLogitScale();
    for (const method of ['unbiased', 'approximate'] as const) {
      const map = await scope(() => noGrad(() => flamgram(tensor(rt, audio.local.data, [2, 32, 512]), tensor(rt, text.features.data, [3, 512]),
        tensor(rt, text.logitScale.data.map((a) => a * sc), [3]), tensor(rt, text.logitBias.data, [3]), { method })).data());
      absCheck(method, map, 1e-4, [2, 3, 32]);
    }
    if (failures.length) throw new Error(`v1-base differs from the PyTorch reference:\n${failures.join('\n')}`);
  } finally { api.dispose(); }
});

s('an official checkpoint without RoBERTa\'s vocab.json + merges.txt: a message that says which files to supply', async () => {
  const rt = await getTestDevice();
  const bytes = tinyOfficial();
  for (const files of [{}, { vocab: roberta.vocab }, { merges: roberta.merges }]) {
    await rejects(() => OpenFLAM.load(rt, { weights: bytes, source: 'open_flam.safetensors', ...files }), /open_flam\.safetensors: the official OpenFLAM v1-base model needs RoBERTa's tokenizer, but (no tokenizer files were given|vocab\.json is missing|merges\.txt is missing): pass the vocab\.json and merges\.txt of roberta-base/);
  }
  await rejects(() => flamFromOfficial(rt, bytes, undefined), new RegExp(ROBERTA_FILES_HELP.slice(0, 40).replace(/[.()]/g, '\\$&')));
  // The shipped GPT-2 files are not RoBERTa's: their specials are appended after id 50256.
  const gpt2 = { vocab: readFileSync(join(root, GPT2_TOKENIZER_FILES.vocab)), merges: readFileSync(join(root, GPT2_TOKENIZER_FILES.merges)) };
  await rejects(() => robertaTokenizer(gpt2, 'x.pth'), /x\.pth: the tokenizer is not RoBERTa's: its specials are <s>=50257, <pad>=50258, <\/s>=50259, <unk>=50260, RoBERTa's are <s>=0/);
});

s('wrong shapes, missing and unexpected keys are named (strict layout)', () => {
  const sd = edited({
    'audio_branch.bn0.weight': { dtype: 'F32', shape: [63], data: new Float32Array(63) },
    'text_branch.pooler.dense.weight': { dtype: 'F32', shape: [768, 767], data: new Float32Array(768 * 767) },
    'fc_per_text_logit_bias.2.bias': null,
    'extra.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) },
    'audio_branch.layers.0.blocks.0.attn.relative_position_index': { dtype: 'F32', shape: [64, 64], data: new Float32Array(4096) },
  });
  let msg = '';
  try { checkOfficialState(sd, { source: 'bad.safetensors' }); } catch (e) { msg = (e as Error).message; }
  for (const needle of ['bad.safetensors: state_dict does not match the layout (500 keys expected, 500 found): 1 missing, 1 unexpected, 2 with the wrong shape, 1 with the wrong dtype',
    'fc_per_text_logit_bias.2.bias [1]', 'extra.weight', 'audio_branch.bn0.weight: [63], expected [64]', 'text_branch.pooler.dense.weight: [768, 767], expected [768, 768]',
    'audio_branch.layers.0.blocks.0.attn.relative_position_index: F32, expected an integer dtype']) {
    assert.ok(msg.includes(needle), `message lacks ${JSON.stringify(needle)}:\n${msg}`);
  }
});

s('computed buffers that differ from ours, non-finite weights and a non-positive running_var are named', () => {
  const cases: [string, OfficialTensor, RegExp][] = [];
  const idx = 'audio_branch.layers.2.blocks.5.attn.relative_position_index';
  const rel = new BigInt64Array(readOfficialStateDict(checkpoint().bytes).get(idx)!.data as BigInt64Array); rel[70] += 1n;
  cases.push([idx, { dtype: 'I64', shape: [64, 64], data: rel }, /"audio_branch\.layers\.2\.blocks\.5\.attn\.relative_position_index" differs from the relative position index of an 8x8 window at \[1, 6\]/]);
  const mk = 'audio_branch.layers.1.blocks.1.attn_mask';
  const mask = new Float32Array(readOfficialStateDict(checkpoint().bytes).get(mk)!.data as Float32Array); mask[16 * 64 * 64 - 1] = -100 - mask[16 * 64 * 64 - 1];
  cases.push([mk, { dtype: 'F32', shape: [16, 64, 64], data: mask }, /"audio_branch\.layers\.1\.blocks\.1\.attn_mask" differs from the shifted-window mask of a 32x32 map \(window 8, shift 4\) at \[15, 63, 63\]/]);
  const nan = new Float32Array(1024); nan[3] = NaN;
  cases.push(['audio_branch.norm.bias', { dtype: 'F32', shape: [1024], data: nan }, /"audio_branch\.norm\.bias" holds a non-finite value \(NaN at element 3\)/]);
  const v = new Float32Array(64).fill(1); v[9] = -1;
  cases.push(['audio_branch.bn0.running_var', { dtype: 'F32', shape: [64], data: v }, /"audio_branch\.bn0\.running_var"\[9\] = -1/]);
  for (const [k, t, re] of cases) assert.throws(() => checkOfficialState(edited({ [k]: t }), { source: 'c.pth' }), (e: Error) => re.test(e.message) && e.message.startsWith('c.pth: '), k);
});

s('STFT conv weights that are not the periodic-Hann DFT: an error naming the key, or a warning with stft: "warn"', () => {
  const sym = (n: number) => { const w = new Float64Array(n); for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)); return w; };
  const key = 'audio_branch.spectrogram_extractor.stft.conv_real.weight';
  const sd = edited({ [key]: { dtype: 'F32', shape: [513, 1, 1024], data: stftWeights('real', sym) } });
  assert.throws(() => checkOfficialState(sd), (e: Error) => e.message.includes(`"${key}" is not the periodic-Hann DFT`) && e.message.includes("stft: 'warn'"));
  const r = checkOfficialState(sd, { stft: 'warn' });
  assert.is(r.warnings.length, 1);
  assert.ok(r.stftMaxAbsDiff > 1e-3 && r.stftMaxAbsDiff < 1e-2, `symmetric vs periodic Hann differ by ${r.stftMaxAbsDiff}`);
  assert.ok(checkOfficialState(edited({})).stftMaxAbsDiff < 1e-7, 'the generated weights pass');
});

s('inputs that are not an OpenFLAM state_dict: a .pth with the wrong layout, our own model files, junk', async () => {
  const rt = await getTestDevice();
  // A torch.save'd state_dict (read directly, no conversion) with 12 of the 500 keys.
  await rejects(() => flamFromOfficial(rt, new Uint8Array(readFileSync(join(root, 'test/fixtures/pth/v1like.pth'))), roberta, { source: 'v1like.pth' }),
    /v1like\.pth: state_dict does not match the layout \(500 keys expected, 12 found\): 490 missing, 1 unexpected, 1 with the wrong shape/);
  const ours = encodeSafetensors({ 'model/audio_branch.norm.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
  await rejects(() => flamFromOfficial(rt, ours, roberta, { source: 'ckpt.safetensors' }), /ckpt\.safetensors: not an OpenFLAM state_dict \(no audio_branch\.\* or text_branch\.\* keys; found 1 entries, e\.g\. "model\/audio_branch\.norm\.weight"\)/);
  await rejects(() => flamFromOfficial(rt, new Uint8Array(100), roberta, { source: 'junk.bin' }), /junk\.bin: invalid safetensors file/);
});

s.run();
