import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import {
  sedLoss, sedLossNaive, sedTargets, priorLoss, clipLoss, flamLoss, checkFinite, flamLossChecked, labelsFromOwners,
  type SedTiles, type SedDesign,
} from '../../src/autograd/sim_loss.ts';
import { packSedLabels, sedChunkRows, type SedLabels } from '../../src/ops/sim_loss.ts';
import type { SedBatch } from '../../src/data/loader.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, TOL, randn, rng, rejects } from '../util/compare.ts';
import { finiteDiff, type Arr } from '../ref/ops.ts';
import { sedLossRef, priorLossRef, clipLossRef, type RefLabels } from '../ref/sim_loss.ts';

const s = suite('sim_loss');

// ---------------------------------------------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------------------------------------------

interface Case { A: number; L: number; K: number; D: number; a: Arr; t: Arr; alpha: Arr; beta: Arr; lb: RefLabels }

/** Unit-norm rows (like the model's embeddings), rounded to f32. */
function unitRows(n: number, D: number, seed: number): Arr {
  const x = randn(n * D, seed);
  for (let r = 0; r < n; r++) {
    let s2 = 0; for (let d = 0; d < D; d++) s2 += x[r * D + d] ** 2;
    for (let d = 0; d < D; d++) x[r * D + d] /= Math.sqrt(s2);
  }
  return f32r(x);
}

/**
 * A batch with every label situation: texts owned by one audio with random frame masks, all-negative texts, texts
 * positive in several audios, a duplicated pair (masks OR-ed), empty masks; optional masked audio/text slots.
 * alpha ~ [4, 12], beta ~ [-4, 1] so that sigmoid(h) - q spans (-1, 1).
 */
function makeCase(seed: number, A: number, L: number, K: number, D: number, masked = false): Case {
  const r = rng(seed);
  const full = L === 32 ? 0xffffffff : (1 << L) - 1;
  const positives: [number, number, number][] = [];
  for (let k = 0; k < K; k++) {
    const kind = k % 5;
    const m = () => (Math.floor(r() * 2 ** 32) & full) >>> 0;
    if (kind === 0 || kind === 1) positives.push([Math.floor(r() * A), k, m()]);
    else if (kind === 2) { for (let i = 0; i < A; i += 2) positives.push([i, k, m()]); }   // several audios
    else if (kind === 3 && k % 2 === 1) { const i = Math.floor(r() * A); positives.push([i, k, m()], [i, k, m()]); } // duplicate
    // kind 4 (and even kind 3): all negative
  }
  positives.push([A - 1, K - 1, full]);   // a fully positive pair
  const lb: RefLabels = { A, K, L, positives };
  if (masked) {
    lb.audioMask = Array.from({ length: A }, (_, i) => (A > 1 && i === 1 ? 0 : 1));
    lb.textMask = Array.from({ length: K }, (_, k) => (k % 7 === 3 ? 0 : 1));
  }
  return {
    A, L, K, D, lb,
    a: unitRows(A * L, D, seed * 10 + 1), t: unitRows(K, D, seed * 10 + 2),
    alpha: f32r(randn(K, seed * 10 + 3, 4, 12)), beta: f32r(randn(K, seed * 10 + 4, -4, 1)),
  };
}

const scaleArr = (x: Arr, g: number) => x.map((v) => v * g);

/** Forward + backward of the fused (or naive) path with upstream gradient gUp; compares with the reference. */
async function checkSed(rt: F.Runtime, c: Case, o: { naive?: boolean; weight?: number; tiles?: SedTiles; design?: SedDesign; chunkRows?: number; gUp?: number; name: string }): Promise<void> {
  const weight = o.weight ?? 1, gUp = o.gUp ?? 1;
  const ref = sedLossRef(c.a, c.t, c.alpha, c.beta, c.lb, c.D, weight);
  await F.scope(async () => {
    const a = t32(rt, c.a, [c.A, c.L, c.D], true), t = t32(rt, c.t, [c.K, c.D], true);
    const al = t32(rt, c.alpha, [c.K], true), be = t32(rt, c.beta, [c.K], true);
    const tg = sedTargets(rt, c.lb);
    const loss = o.naive ? sedLossNaive(a, t, al, be, tg, { weight }) : sedLoss(a, t, al, be, tg, { weight, tiles: o.tiles, design: o.design, chunkRows: o.chunkRows });
    const nTerms = c.A * c.K * c.L;
    assertClose(`${o.name} loss`, await loss.data(), [ref.loss], TOL.reduce(nTerms));
    F.backward(loss, t32(rt, [gUp], [1]));
    // dL/da sums K terms, dL/dt and dL/dalpha sum A*L terms of size |w alpha| <= |weight| alpha / (L sum M)
    assertClose(`${o.name} dL/da`, await a.grad!.data(), scaleArr(ref.da, gUp), TOL.grad);
    assertClose(`${o.name} dL/dt`, await t.grad!.data(), scaleArr(ref.dt, gUp), TOL.grad);
    assertClose(`${o.name} dL/dalpha`, await al.grad!.data(), scaleArr(ref.dalpha, gUp), TOL.grad);
    assert.is(be.grad, null, `${o.name}: beta must get no gradient from L_SED (detached)`);
    tg.dispose();
    for (const x of [a, t, al]) x.grad?.dispose();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// references vs finite differences
// ---------------------------------------------------------------------------------------------------------------

s('reference backward of L_SED vs finite differences (masks, several positives, all-negative texts)', () => {
  const c = makeCase(3, 3, 4, 6, 5, true);
  const f = (xs: Arr[]) => new Float64Array([sedLossRef(xs[0], xs[1], xs[2], xs[3], c.lb, c.D, 7).loss]);
  const fd = finiteDiff(f, [c.a.slice(), c.t.slice(), c.alpha.slice(), c.beta.slice()], new Float64Array([1]));
  const r = sedLossRef(c.a, c.t, c.alpha, c.beta, c.lb, c.D, 7);
  assertClose('dL/da', r.da, fd[0], TOL.fd);
  assertClose('dL/dt', r.dt, fd[1], TOL.fd);
  assertClose('dL/dalpha', r.dalpha, fd[2], TOL.fd);
  assertClose('dL/dbeta (if it were not detached)', r.dbeta, fd[3], TOL.fd);
});

s('reference backward of the prior and CLIP losses vs finite differences', () => {
  const c = makeCase(4, 4, 3, 7, 4, true);
  const beta = f32r(randn(7, 11, -5, 2));
  const fp = (xs: Arr[]) => new Float64Array([priorLossRef(xs[0], c.lb, 3).loss]);
  assertClose('prior dbeta', priorLossRef(beta, c.lb, 3).dbeta, finiteDiff(fp, [beta.slice()], new Float64Array([1]))[0], TOL.fd);
  const N = 5, D = 4;
  const A = randn(N * D, 12), T = randn(N * D, 13);
  const fc = (xs: Arr[]) => new Float64Array([clipLossRef(xs[0], xs[1], xs[2][0], N, D, 2).loss]);
  const fd = finiteDiff(fc, [A.slice(), T.slice(), new Float64Array([1.3])], new Float64Array([1]));
  const r = clipLossRef(A, T, 1.3, N, D, 2);
  assertClose('clip dA', r.dA, fd[0], TOL.fd);
  assertClose('clip dT', r.dT, fd[1], TOL.fd);
  assertClose('clip dlogit_scale', [r.ds], fd[2], TOL.fd);
});

// ---------------------------------------------------------------------------------------------------------------
// fused kernels vs reference
// ---------------------------------------------------------------------------------------------------------------

const SHAPES: [number, number, number, number, boolean][] = [
  // A, L, K, D, masked
  [3, 32, 21, 12, true],     // K not a multiple of the text blocks (16 / 8); masks
  [4, 8, 33, 8, false],      // L = 8
  [2, 5, 7, 4, true],        // odd L: row tiles of 1
  [1, 32, 1, 4, false],      // one audio, one text
  [2, 32, 40, 512, false],   // the model's D
];
for (const [A, L, K, D, masked] of SHAPES) {
  for (const design of ['fused', 'rowtile'] as SedDesign[]) {
    s(`sed_loss ${design} A=${A} L=${L} K=${K} D=${D}${masked ? ' masked' : ''}: loss, dL/da, dL/dt, dL/dalpha vs float64`, async () => {
      const rt = await getTestDevice();
      const c = makeCase(A * 100 + K, A, L, K, D, masked);
      // weight L * sum M / 8 keeps every per-pair weight at 1/8, so the gradients are O(1) and the tolerance bites
      const nA = c.lb.audioMask ? c.lb.audioMask.filter(Boolean).length : A, nT = c.lb.textMask ? c.lb.textMask.filter(Boolean).length : K;
      // row-tile: the smallest aligned chunk, so that every case runs several chunks (U accumulated across them)
      const chunkRows = design === 'rowtile' ? sedChunkRows(rt, A * L, K, D, 1) : undefined;
      await checkSed(rt, c, { name: `${design} ${A}x${L}x${K}x${D}`, weight: L * nA * nT / 8, gUp: 1.7, design, chunkRows });
    });
  }
}

s('sed_loss fused: other register blocks and pass-2 audio splits give the same result', async () => {
  const rt = await getTestDevice();
  const c = makeCase(77, 9, 32, 26, 8, true);
  const w = 32 * 8 * 23 / 8;
  for (const tiles of [{ TR1: 4, NV1: 1, TR2: 4, NV2: 1, WG: 64 }, { TR1: 2, NV1: 1, TR2: 1, NV2: 2, WG: 8 }]) {
    await checkSed(rt, c, { name: `tiles ${JSON.stringify(tiles)}`, weight: w, tiles, design: 'fused', gUp: -0.6 });
  }
});

s('pass-2 splits: P = 1 and P = A agree with the reference', async () => {
  const rt = await getTestDevice();
  const c = makeCase(91, 5, 8, 12, 8, true);
  const { sedColsOp, chooseSedTiles } = await import('../../src/ops/sim_loss.ts');
  const ref = sedLossRef(c.a, c.t, c.alpha, c.beta, c.lb, c.D, 10);
  for (const P of [1, 2, 5]) {
    await F.scope(async () => {
      const tg = sedTargets(rt, c.lb);
      const a = t32(rt, c.a, [c.A * c.L, c.D]), t = t32(rt, c.t, [c.K, c.D]), al = t32(rt, c.alpha, [c.K]), be = t32(rt, c.beta, [c.K]);
      const dt = F.empty(rt, [c.K, c.D]), dal = F.empty(rt, [c.K]);
      const sc = 10 / (c.L * tg.packed.nValidPairs);
      sedColsOp(rt, a.binding(), t.binding(), al.binding(), be.binding(), tg.lab.binding(), tg.packed, t32(rt, [1], [1]).binding(), dt.binding(), dal.binding(), c.D, sc, chooseSedTiles(rt, c.L), P);
      assertClose(`dt P=${P}`, await dt.data(), ref.dt, TOL.grad);
      assertClose(`dalpha P=${P}`, await dal.data(), ref.dalpha, TOL.grad);
      tg.dispose();
    });
  }
});

s('sed_loss naive path vs float64, and both chunked designs vs naive on the GPU', async () => {
  const rt = await getTestDevice();
  const c = makeCase(5, 3, 32, 21, 12, true);
  const w = 32 * 2 * 18 / 8;
  await checkSed(rt, c, { name: 'naive', naive: true, weight: w, gUp: 1.7 });
  // chunked designs vs naive directly (same f32 inputs)
  await F.scope(async () => {
    const run = async (design: SedDesign | 'naive') => {
      const a = t32(rt, c.a, [c.A, c.L, c.D], true), t = t32(rt, c.t, [c.K, c.D], true), al = t32(rt, c.alpha, [c.K], true), be = t32(rt, c.beta, [c.K]);
      const tg = sedTargets(rt, c.lb);
      const loss = design === 'naive' ? sedLossNaive(a, t, al, be, tg, { weight: w }) : sedLoss(a, t, al, be, tg, { weight: w, design });
      F.backward(loss);
      const out = [await loss.data(), await a.grad!.data(), await t.grad!.data(), await al.grad!.data()];
      tg.dispose();
      return out;
    };
    const nv = await run('naive');
    for (const design of ['fused', 'rowtile'] as SedDesign[]) {
      const ch = await run(design);
      ['loss', 'da', 'dt', 'dalpha'].forEach((n, j) => assertClose(`${design} vs naive ${n}`, ch[j], nv[j], j === 0 ? TOL.reduce(c.A * c.K * c.L) : TOL.grad));
    }
  });
});

s('sed_loss: gradient check of the GPU loss (default design) against central differences of itself (f32, coarse)', async () => {
  // An end-to-end check without the reference: directional derivative along a random direction of t.
  const rt = await getTestDevice();
  const c = makeCase(8, 2, 8, 6, 8, false);
  const w = 8 * 2 * 6;
  const dir = f32r(randn(c.K * c.D, 99));
  const lossAt = async (tt: Arr) => F.scope(async () => {
    const tg = sedTargets(rt, c.lb);
    const l = F.noGrad(() => sedLoss(t32(rt, c.a, [c.A, c.L, c.D]), t32(rt, tt, [c.K, c.D]), t32(rt, c.alpha, [c.K]), t32(rt, c.beta, [c.K]), tg, { weight: w }));
    const v = (await l.data())[0];
    tg.dispose();
    return v;
  });
  const h = 1e-2;
  const fd = ((await lossAt(c.t.map((v, i) => v + h * dir[i]))) - (await lossAt(c.t.map((v, i) => v - h * dir[i])))) / (2 * h);
  const ref = sedLossRef(c.a, c.t, c.alpha, c.beta, c.lb, c.D, w);
  let an = 0; for (let i = 0; i < dir.length; i++) an += ref.dt[i] * dir[i];
  // f32 loss differences over h = 1e-2: the curvature term (h^2) and f32 rounding of the loss (~1e-6 relative) bound
  // the error at ~1e-3 relative here
  assertClose('directional derivative', [fd], [an], { atol: 1e-3, rtol: 2e-3 });
});

s('extreme logits (|h| ~ 1e3) stay finite in the loss and gradients (both designs)', async () => {
  const rt = await getTestDevice();
  const c = makeCase(12, 2, 8, 9, 4, false);
  c.alpha = c.alpha.map((v) => v * 150);
  c.beta = c.beta.map((v, k) => (k % 2 ? 300 : -300));
  for (const design of ['fused', 'rowtile'] as SedDesign[]) await checkSed(rt, c, { name: `extreme ${design}`, weight: 8 * 18 / 8, design });
});

// ---------------------------------------------------------------------------------------------------------------
// prior, CLIP, total
// ---------------------------------------------------------------------------------------------------------------

s('prior loss: forward and dL/dbeta vs float64 (masked texts and audios)', async () => {
  const rt = await getTestDevice();
  const c = makeCase(21, 5, 32, 17, 4, true);
  const ref = priorLossRef(c.beta, c.lb, 3);
  await F.scope(async () => {
    const be = t32(rt, c.beta, [c.K], true);
    const tg = sedTargets(rt, c.lb);
    const l = priorLoss(be, tg, { weight: 3 });
    assertClose('prior loss', await l.data(), [ref.loss], TOL.reduce(c.K));
    F.backward(l, t32(rt, [0.5], [1]));
    assertClose('prior dbeta', await be.grad!.data(), scaleArr(ref.dbeta, 0.5), TOL.grad);
    tg.dispose();
  });
});

for (const N of [1, 7, 70]) {
  s(`clip loss N=${N}: forward and gradients (audio, text, logit_scale) vs float64`, async () => {
    const rt = await getTestDevice();
    const D = 16;
    const A = unitRows(N, D, N + 1), T = unitRows(N, D, N + 2);
    const ls = Math.log(1 / 0.07);
    const ref = clipLossRef(A, T, Math.fround(ls), N, D, 2);
    await F.scope(async () => {
      const a = t32(rt, A, [N, D], true), t = t32(rt, T, [N, D], true), s0 = t32(rt, [ls], [1], true);
      const l = clipLoss(a, t, s0, { weight: 2 });
      assertClose('clip loss', await l.data(), [ref.loss], TOL.reduce(2 * N * N));
      F.backward(l, t32(rt, [1.5], [1]));
      assertClose('clip dA', await a.grad!.data(), scaleArr(ref.dA, 1.5), TOL.grad);
      assertClose('clip dT', await t.grad!.data(), scaleArr(ref.dT, 1.5), TOL.grad);
      assertClose('clip dlogit_scale', await s0.grad!.data(), [1.5 * ref.ds], TOL.grad);
    });
  });
}

s('clip loss stays finite with large logits (tau = 1000)', async () => {
  const rt = await getTestDevice();
  const N = 6, D = 8;
  const A = unitRows(N, D, 5), T = unitRows(N, D, 6);
  const ref = clipLossRef(A, T, Math.fround(Math.log(1000)), N, D);
  await F.scope(async () => {
    const a = t32(rt, A, [N, D], true), t = t32(rt, T, [N, D], true), s0 = t32(rt, [Math.log(1000)], [1], true);
    const l = clipLoss(a, t, s0);
    // logits up to 1000: the f32 products carry ~1000 * 2^-24 * sqrt(D) absolute error into the loss
    assertClose('clip loss tau 1000', await l.data(), [ref.loss], { atol: 1e-3, rtol: 1e-4 });
    F.backward(l);
    assertClose('clip dA tau 1000', await a.grad!.data(), ref.dA, { atol: 1e-2, rtol: 1e-3 });
  });
});

s('total loss L = 1 L_CLIP + 200 L_SED + 1 L_p; gradients reach a, t, alpha, beta (via L_p only), CLIP embeddings, logit_scale', async () => {
  const rt = await getTestDevice();
  const c = makeCase(31, 3, 32, 15, 8, true);
  const N = 4, D = 8;
  const CA = unitRows(N, D, 41), CT = unitRows(N, D, 42);
  const sed = sedLossRef(c.a, c.t, c.alpha, c.beta, c.lb, c.D, 200);
  const pr = priorLossRef(c.beta, c.lb, 1);
  const cl = clipLossRef(CA, CT, Math.fround(2.6593), N, D, 1);
  for (const naive of [false, true]) {
    await F.scope(async () => {
      const a = t32(rt, c.a, [c.A, c.L, c.D], true), t = t32(rt, c.t, [c.K, c.D], true);
      const al = t32(rt, c.alpha, [c.K], true), be = t32(rt, c.beta, [c.K], true);
      const ca = t32(rt, CA, [N, D], true), ct = t32(rt, CT, [N, D], true), ls = t32(rt, [2.6593], [1], true);
      const targets = sedTargets(rt, c.lb);
      const L = flamLoss({ sed: { a, t, alpha: al, beta: be, targets }, clip: { audio: ca, text: ct, logitScale: ls }, naive });
      const tag = naive ? 'naive' : 'fused';
      assertClose(`${tag} total`, await L.total.data(), [sed.loss + pr.loss + cl.loss], TOL.reduce(c.A * c.K * c.L));
      assertClose(`${tag} sed term`, await L.sed.data(), [sed.loss], TOL.reduce(c.A * c.K * c.L));
      F.backward(L.total);
      assertClose(`${tag} da`, await a.grad!.data(), sed.da, TOL.grad);
      assertClose(`${tag} dt`, await t.grad!.data(), sed.dt, TOL.grad);
      assertClose(`${tag} dalpha`, await al.grad!.data(), sed.dalpha, TOL.grad);
      assertClose(`${tag} dbeta = prior only`, await be.grad!.data(), pr.dbeta, TOL.grad);
      assertClose(`${tag} clip dA`, await ca.grad!.data(), cl.dA, TOL.grad);
      assertClose(`${tag} dlogit_scale`, await ls.grad!.data(), [cl.ds], TOL.grad);
      targets.dispose();
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// memory, leaks
// ---------------------------------------------------------------------------------------------------------------

for (const design of ['fused', 'rowtile'] as SedDesign[]) {
  s(`${design}: never allocates [A, K, L] (peak extra bytes < A*K*L*4 / 4); no leak after forward/backward`, async () => {
    const rt = await getTestDevice();
    const A = 16, L = 32, K = 400, D = 4;
    const c = makeCase(55, A, L, K, D, false);
    const a = t32(rt, c.a, [A, L, D], true), t = t32(rt, c.t, [K, D], true), al = t32(rt, c.alpha, [K], true), be = t32(rt, c.beta, [K], true);
    const tg = sedTargets(rt, c.lb);
    await rt.sync();
    const base = rt.pool.stats().liveBytes;
    rt.pool.resetPeak();
    await F.scope(async () => {
      const l = sedLoss(a, t, al, be, tg, { design, chunkRows: 64 });
      F.backward(l);
      await l.data();
    });
    const extra = rt.pool.stats().peakBytes - base;
    const akl = A * K * L * 4;
    assert.ok(extra < akl / 4, `${design}: extra peak ${extra} bytes is not < A*K*L*4 / 4 = ${akl / 4}`);
    for (const x of [a, t, al]) { x.grad!.dispose(); x.grad = null; }
    await rt.sync();
    assert.is(rt.pool.stats().liveBytes, base, 'live bytes return to the baseline');
    for (const x of [a, t, al, be]) x.dispose();
    tg.dispose();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// bad input
// ---------------------------------------------------------------------------------------------------------------

s('bad input: labels (frames beyond L, indices out of range, empty batch, masks) rejected before anything runs', () => {
  const base = { A: 2, K: 3, L: 32, positives: [[0, 1, 5]] as [number, number, number][] };
  assert.throws(() => packSedLabels({ ...base, L: 8, positives: [[0, 1, 0x100]] }), /sed_loss: positive #0 \(audio 0, text 1\): frame mask 0x100 sets frames beyond L = 8/);
  assert.throws(() => packSedLabels({ ...base, positives: [[2, 1, 1]] }), /sed_loss: positive #0: audio index 2 is outside \[0, 2\)/);
  assert.throws(() => packSedLabels({ ...base, positives: [[0, 1, 1], [1, -1, 1]] }), /sed_loss: positive #1: text index -1 is outside \[0, 3\)/);
  assert.throws(() => packSedLabels({ ...base, positives: [[0, 1, 2 ** 32]] }), /frame mask 4294967296 is not a u32/);
  assert.throws(() => packSedLabels({ ...base, A: 0 }), /sed_loss: empty batch: A = 0/);
  assert.throws(() => packSedLabels({ ...base, K: 0, positives: [] }), /sed_loss: empty batch: K = 0/);
  assert.throws(() => packSedLabels({ ...base, audioMask: [0, 0] }), /sed_loss: empty batch: no valid \(audio, text\) pair \(0 of 2 audio slots/);
  assert.throws(() => packSedLabels({ ...base, textMask: [1, 1] }), /textMask has 2 entries, expected 3/);
  assert.throws(() => packSedLabels({ ...base, L: 33 }), /L = 33 frames per clip is not supported/);
  // duplicates are merged (OR), owners helper
  const pk = packSedLabels({ ...base, positives: [[1, 2, 1], [1, 2, 4], [0, 0, 2]] });
  assert.equal([...pk.pairMask], [2, 5]);
  assert.equal([...pk.positiveFrames], [1, 0, 2]);
  const lo = labelsFromOwners(2, [1, -1, 0], [3, 0, 1]);
  assert.equal(lo.positives, [[1, 0, 3], [0, 2, 1]]);
  // the loaders' struct-of-arrays form (a SedBatch is a SedLabels) packs identically to the triples
  const soa = packSedLabels({ A: 2, K: 3, L: 32, positives: { audio: Uint32Array.of(1, 1, 0), text: Uint32Array.of(2, 2, 0), frames: Uint32Array.of(1, 4, 2) }, audioMask: Uint8Array.of(1, 1), textMask: Uint8Array.of(1, 0, 1) });
  const aos = packSedLabels({ A: 2, K: 3, L: 32, positives: [[1, 2, 1], [1, 2, 4], [0, 0, 2]], audioMask: [1, 1], textMask: [true, false, true] });
  assert.equal(Array.from(soa.lab), Array.from(aos.lab));
  assert.throws(() => packSedLabels({ A: 2, K: 3, positives: { audio: [0], text: [0, 1], frames: [1] } }), /audio, text and frames arrays differ in length/);
  const batchIsLabels = (b: SedBatch): SedLabels => b;   // compile-time check of the loader's batch type
  void batchIsLabels;
});

s('bad input: mismatched dims, wrong label shape, D not a multiple of 4, naive over the binding limit', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const tg = sedTargets(rt, { A: 2, K: 3, L: 4, positives: [[0, 1, 5]] });
    const a = F.zeros(rt, [2, 4, 8]), t = F.zeros(rt, [3, 8]), al = F.ones(rt, [3]), be = F.zeros(rt, [3]);
    assert.throws(() => sedLoss(a, F.zeros(rt, [3, 12]), al, be, tg), /sed_loss: embedding dims differ: audio a \[2, 4, 8\] has D = 8, text t \[3, 12\] has D = 12/);
    assert.throws(() => sedLoss(a, t, F.ones(rt, [4]), be, tg), /sed_loss: alpha \[4\] and beta \[3\] must have K = 3 elements/);
    assert.throws(() => sedLoss(F.zeros(rt, [2, 5, 8]), t, al, be, tg), /sed_loss: labels are for A = 2, K = 3, L = 4 but a \[2, 5, 8\]/);
    assert.throws(() => sedLoss(a.reshape([8, 8]), t, al, be, tg), /sed_loss: audio embeddings a must be \[A, L, D\], got \[8, 8\]/);
    assert.throws(() => sedLoss(F.zeros(rt, [0, 4, 8]), t, al, be, tg), /sed_loss: empty batch/);
    const tg6 = sedTargets(rt, { A: 2, K: 3, L: 4, positives: [] });
    assert.throws(() => sedLoss(F.zeros(rt, [2, 4, 6]), F.zeros(rt, [3, 6]), al, be, tg6), /sed_loss: embedding dim D = 6 must be a multiple of 4/);
    assert.throws(() => priorLoss(F.zeros(rt, [4]), tg), /prior_loss: beta \[4\] must have K = 3 elements/);
    assert.throws(() => clipLoss(F.zeros(rt, [3, 8]), F.zeros(rt, [3, 4]), F.zeros(rt, [1])), /clip_loss: embedding dims differ/);
    assert.throws(() => clipLoss(F.zeros(rt, [3, 8]), F.zeros(rt, [2, 8]), F.zeros(rt, [1])), /clip_loss: 3 audios but 2 captions/);
    assert.throws(() => clipLoss(F.zeros(rt, [0, 8]), F.zeros(rt, [0, 8]), F.zeros(rt, [1])), /clip_loss: empty batch/);
    // naive: [A*L, K] over maxStorageBufferBindingSize is refused before any allocation
    const lim = rt.limits.maxStorageBufferBindingSize;
    const K = Math.ceil(lim / (4 * 32 * 4)) + 1;
    const big = sedTargets(rt, { A: 4, K, L: 32, positives: [] });
    const ins = [F.zeros(rt, [4, 32, 4]), F.zeros(rt, [K, 4]), F.ones(rt, [K]), F.zeros(rt, [K])] as const;
    const before = rt.pool.stats().liveBytes;
    assert.throws(() => sedLossNaive(ins[0], ins[1], ins[2], ins[3], big),
      /sed_loss naive: the \[A\*L, K\] = \[128, \d+\] logit tensor needs \d+ bytes, over the device's maxStorageBufferBindingSize/);
    assert.is(rt.pool.stats().liveBytes, before, 'nothing was allocated before the refusal');
    // the chunked path runs the same problem
    const l = F.noGrad(() => sedLoss(ins[0], ins[1], ins[2], ins[3], big));
    assert.ok(Number.isFinite((await l.data())[0]));
    tg.dispose(); tg6.dispose(); big.dispose();
  });
});

s('bad input: NaN / Inf embeddings caught by the debug check before the loss runs', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const c = makeCase(61, 2, 8, 5, 4, false);
    const bad = Float32Array.from(c.t); bad[7] = NaN; bad[9] = Infinity;
    const tg = sedTargets(rt, c.lb);
    const a = t32(rt, c.a, [2, 8, 4]), t = t32(rt, bad, [5, 4]), al = t32(rt, c.alpha, [5]), be = t32(rt, c.beta, [5]);
    await rejects(() => checkFinite({ a, t }), /sim_loss: t \[5, 4\] contains 2 non-finite value\(s\)/);
    await checkFinite({ a, al, be });
    const submits = rt.stats.submits;
    await rejects(() => flamLossChecked({ sed: { a, t, alpha: al, beta: be, targets: tg } }), /flam_loss: sed text embeddings t \[5, 4\] contains 2 non-finite/);
    assert.ok(rt.stats.submits - submits <= 1, 'only the check was submitted');
    tg.dispose();
  });
});

s.run();
