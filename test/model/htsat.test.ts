import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { Htsat, planHtsat, shiftMaskCPU, unfoldFrames, dropPath, HTSAT_PRESETS, type HtsatConfig } from '../../src/model/htsat.ts';
import { initRng } from '../../src/nn/module.ts';
import { ParamHolder } from '../../src/model/layers.ts';
import { relativePositionIndexCPU } from '../../src/ops/window_attention.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, randn, TOL } from '../util/compare.ts';
import { windowPartitionRef } from '../ref/window_partition.ts';
import { officialKeys } from './_keys.ts';

const s = suite('htsat');

const SMALL: HtsatConfig = { imgSize: 64, patchSize: 4, embedDim: 8, depths: [2, 1], numHeads: [2, 4], windowSize: 8, mlpRatio: 4, freqRatio: 4, dropPathRate: 0.2, eps: 1e-5 };

s('v1-base: names and shapes equal the official audio_branch keys (frontend keys belong to the frontend)', async () => {
  const rt = await getTestDevice();
  const m = new Htsat(rt, 'v1-base', { init: 'zeros' });
  try {
    const want = officialKeys('audio_branch.');
    for (const k of [...want.keys()]) if (/^(spectrogram_extractor|logmel_extractor|bn0)\./.test(k)) want.delete(k);
    const got = new Map([...m.stateDict()].map(([k, t]) => [k, t.shape.slice()]));
    assert.equal([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, shp] of want) assert.equal(got.get(k), shp, k);
    // buffers are not trainable; the spec's parameter count of the HTSAT trunk
    const bufs = new Set(m.namedBuffers().map(([k]) => k));
    assert.ok(bufs.has('layers.0.blocks.0.attn.relative_position_index') && bufs.has('layers.2.blocks.11.attn_mask'));
    assert.not.ok(bufs.has('layers.3.blocks.1.attn_mask'));
    assert.is(m.numParameters(), 67_824_280);
    // buffer values: the fixed index and the stage-1 shift mask
    const sd = m.stateDict();
    assert.equal(Array.from(await sd.get('layers.0.blocks.0.attn.relative_position_index')!.data()), Array.from(relativePositionIndexCPU(8)));
    assert.equal(Array.from(await sd.get('layers.0.blocks.1.attn_mask')!.data()), Array.from(shiftMaskCPU(64, 8, 4)));
  } finally { m.dispose(); }
});

s('stage plan of v1-base (§3 stage table) and presets are valid', () => {
  const p = planHtsat(HTSAT_PRESETS['v1-base']);
  assert.equal(p.stages.map((st) => [st.res, st.dim, st.heads, st.depth, st.nW, st.ws, st.shift]), [[64, 128, 4, 2, 64, 8, 4], [32, 256, 8, 2, 16, 8, 4], [16, 512, 16, 12, 4, 8, 4], [8, 1024, 32, 2, 1, 8, 0]]);
  assert.is(p.frames, 32);
  assert.is(p.numFeatures, 1024);
  for (const k of ['tiny', 'small'] as const) assert.is(planHtsat(HTSAT_PRESETS[k]).frames, 32);
});

s('configs that do not divide are rejected with the rule they break', () => {
  const base = HTSAT_PRESETS['v1-base'];
  const cases: [Partial<HtsatConfig>, RegExp][] = [
    [{ imgSize: 250 }, /image side 250 is not a multiple of the patch size 4/],
    [{ imgSize: 248 }, /the 62x62 patch map cannot be halved 3 times by the patch merges \(its side must be a multiple of 8\)/],
    [{ windowSize: 12 }, /stage 0: the 64x64 map is not divisible into 12x12 windows/],
    [{ numHeads: [3, 8, 16, 32] }, /stage 0: 128 channels are not divisible by 3 heads/],
    [{ numHeads: [4, 8, 16, 512] }, /stage 3: head dim 2 must be a multiple of 4/],
    [{ embedDim: 24, numHeads: [4, 8, 16, 32] }, /stage 0: head dim 6 must be a multiple of 4/],
    [{ depths: [2, 2, 12] }, /depths \[2,2,12\] and numHeads \[4,8,16,32\] must be non-empty and of equal length/],
    [{ freqRatio: 3 }, /the final 8x8 map cannot be unfolded into 3 time chunks/],
    [{ depths: [2, 0, 12, 2] }, /every depth must be a positive integer/],
  ];
  for (const [patch, re] of cases) {
    assert.throws(() => planHtsat({ ...base, ...patch }), (e: Error) => re.test(e.message), `${JSON.stringify(patch)} -> ${re}`);
  }
});

s('shift mask: region labelling rule (§3.1) of a 16x16 map, window 8, shift 4', () => {
  const R = 16, ws = 8, sh = 4, T = 64;
  const m = shiftMaskCPU(R, ws, sh);
  // torch's construction: label the map by region slices, partition the labels into windows, compare labels
  const region = (x: number) => (x < R - ws ? 0 : x < R - sh ? 1 : 2);
  const lab = Float64Array.from({ length: R * R }, (_, i) => region(Math.floor(i / R)) * 3 + region(i % R));
  const win = windowPartitionRef(lab, 1, R, R, 1, ws, 0);
  for (let w = 0; w < 4; w++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    assert.is(m[(w * T + i) * T + j], win[w * T + i] === win[w * T + j] ? 0 : -100);
  }
  assert.ok(m.subarray(0, T * T).every((v) => v === 0)); // top-left window: one region
  assert.is(m[(3 * T + 0) * T + 4], -100); // bottom-right window: (0,0) vs (0,4) are in different column regions
  assert.is(m[(3 * T + 0) * T + 9], 0); // (0,0) vs (1,1): same region
});

s('frame unfold (§3.2): frame l = 8 c + q averages the two frequency rows 2c, 2c+1 of column q', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const R = 8, C = 2;
    const tok = Float64Array.from({ length: R * R * C }, (_, i) => { const t = Math.floor(i / C); return Math.floor(t / R) * 100 + (t % R) + (i % C) * 0.5; });
    const fr = await unfoldFrames(t32(rt, tok, [1, R * R, C]), 4, R).data();
    for (let c = 0; c < 4; c++) for (let q = 0; q < R; q++) for (let ch = 0; ch < C; ch++) {
      assert.is(fr[(8 * c + q) * C + ch], ((2 * c) * 100 + (2 * c + 1) * 100) / 2 + q + ch * 0.5);
    }
  });
});

s('forward: shapes, global = mean of the frames, deterministic init from the seed', async () => {
  const rt = await getTestDevice();
  const m = new Htsat(rt, SMALL, { seed: 3 }), m2 = new Htsat(rt, SMALL, { seed: 3 });
  try {
    await F.noGrad(() => F.scope(async () => {
      const img = t32(rt, f32r(randn(2 * 64 * 64, 5, -3, 3)), [2, 1, 64, 64]);
      const o = m.forward(img, { intermediates: true });
      assert.equal(o.frames.shape, [2, 32, 16]);
      assert.equal(o.global.shape, [2, 16]);
      assert.equal([...o.intermediates!.keys()], ['patch_embed', 'layers.0.blocks.0', 'layers.0.blocks.1', 'layers.0.downsample', 'layers.1.blocks.0', 'norm']);
      const fr = await o.frames.data(), gl = await o.global.data();
      const meanFr = new Float64Array(2 * 16);
      for (let b = 0; b < 2; b++) for (let l = 0; l < 32; l++) for (let c = 0; c < 16; c++) meanFr[b * 16 + c] += fr[(b * 32 + l) * 16 + c] / 32;
      assertClose('global vs mean of frames', gl, meanFr, TOL.forward);
      assertClose('same seed, same output', await m2.forward(img).frames.data(), fr, TOL.exact);
    }));
    assert.throws(() => m.forward(F.zeros(rt, [1, 1, 32, 32])), /HTSAT: input must be an f32 image \[B, 1, 64, 64\]/);
  } finally { m.dispose(); m2.dispose(); }
});

s('attachFrontend: the frontend modules join the state_dict under their own names (mounted as audio_branch)', async () => {
  const rt = await getTestDevice();
  const m = new Htsat(rt, SMALL, { init: 'zeros' });
  try {
    m.attachFrontend({ bn0: new ParamHolder(rt, { weight: { data: new Float32Array(64), shape: [64] } }) });
    assert.ok(m.stateDict().has('bn0.weight'));
    assert.throws(() => m.attachFrontend({ norm: new ParamHolder(rt, {}) }), /'norm' is an encoder module name/);
  } finally { m.dispose(); }
});

s('DropPath: per-sample, scaled by 1/keep, seeded; identity in eval mode', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const B = 64, x = F.full(rt, [B, 3, 2], 1);
    const y = await dropPath(x, 0.25, true, initRng(9)).data();
    const y2 = await dropPath(x, 0.25, true, initRng(9)).data();
    assert.equal(Array.from(y), Array.from(y2));
    let kept = 0;
    for (let b = 0; b < B; b++) {
      const v = y[b * 6];
      assert.ok(v === 0 || Math.abs(v - 1 / 0.75) < 1e-6, `sample ${b}: ${v}`);
      for (let k = 1; k < 6; k++) assert.is(y[b * 6 + k], v); // one decision per sample
      if (v) kept++;
    }
    assert.ok(kept > 32 && kept < 62, `kept ${kept} of 64 at keep 0.75`);
    assert.is(dropPath(x, 0.25, false, initRng(9)), x);
  });
});

s('training forward/backward: every parameter gets a gradient; DropPath reseeding reproduces the step', async () => {
  const rt = await getTestDevice();
  const m = new Htsat(rt, SMALL, { seed: 4 });
  m.train();
  try {
    const img = t32(rt, f32r(randn(2 * 64 * 64, 6, -3, 3)), [2, 1, 64, 64]);
    const w = t32(rt, f32r(randn(2 * 32 * 16, 7)), [2, 32, 16]);
    const step = async () => F.scope(async () => {
      const o = m.forward(img);
      F.backward(F.sumAll(F.mul(o.frames, w)));
      const g = await m.layers.items[0].blocks.items[1].attn.table.grad!.data();
      const missing = m.namedParameters().filter(([, p]) => !p.grad).map(([k]) => k);
      for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
      return { g: Array.from(g), missing };
    });
    m.setDropPathSeed(11);
    const a = await step();
    m.setDropPathSeed(11);
    const b = await step();
    assert.equal(a.missing, []);
    assert.equal(a.g, b.g);
    img.dispose(); w.dispose();
  } finally { m.dispose(); }
});

s.run();
