import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { windowAttention, windowAttentionUnfused, relPosIndex } from '../../src/autograd/window_attention.ts';
import { relativePositionIndexCPU } from '../../src/ops/window_attention.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { assertClose, randn, TOL } from '../util/compare.ts';
import { windowAttentionRef, windowAttentionBackRef, type WADims } from '../ref/window_attention.ts';

const s = suite('window_attention');

/** A Swin-like shift mask: 0 where two tokens share a (pseudo) region label, else -100. */
function maskData(nW: number, T: number, seed: number): Float64Array {
  const lab = Array.from(randn(nW * T, seed, 0, 3), Math.floor);
  const m = new Float64Array(nW * T * T);
  for (let w = 0; w < nW; w++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m[(w * T + i) * T + j] = lab[w * T + i] === lab[w * T + j] ? 0 : -100;
  return m;
}

s('relative position index: Swin formula, range and symmetry', () => {
  const idx = relativePositionIndexCPU(8);
  assert.is(idx.length, 64 * 64);
  assert.is(idx[0], 7 * 15 + 7); // i = j: centre of the 15x15 table
  assert.is(idx[0 * 64 + 63], 0); // i = (0,0), j = (7,7): offset (-7,-7)
  assert.is(idx[63 * 64 + 0], 224); // offset (+7,+7)
  assert.is(idx[1 * 64 + 8], (0 - 1 + 7) * 15 + (1 - 0 + 7)); // i = (0,1), j = (1,0)
  assert.ok(idx.every((v) => v >= 0 && v < 225));
});

s('reference backward vs finite differences (with mask)', () => {
  const d: WADims = { Bw: 2, T: 4, H: 2, D: 3, L: 5, nW: 2, scale: 0.7 };
  const index = Array.from(randn(16, 5, 0, 5), Math.floor);
  // a soft mask keeps the masked terms visible to finite differences
  const mask = maskData(2, 4, 6).map((v) => v / 50);
  checkRefBackward('window_attention', [[2 * 4 * 3 * 2 * 3], [5 * 2]],
    ([q, t]) => windowAttentionRef(q, t, index, mask, d).out,
    ([q, t], dy) => windowAttentionBackRef(q, t, index, mask, d, dy), 3);
});

// design: the subgroup kernel where the adapter has 8-lane subgroups and T % 8 == 0 (lavapipe), else the register
// design; 'rb' forces the register design.
const CASES: { Bw: number; ws: number; H: number; D: number; nW: number; masked: boolean; RB?: number; design?: 'rb' }[] = [
  { Bw: 1, ws: 8, H: 4, D: 32, nW: 1, masked: false },
  { Bw: 8, ws: 8, H: 2, D: 32, nW: 4, masked: true },
  { Bw: 3, ws: 4, H: 3, D: 8, nW: 3, masked: true },
  { Bw: 2, ws: 7, H: 2, D: 32, nW: 2, masked: true }, // T = 49: register design
  { Bw: 5, ws: 2, H: 1, D: 4, nW: 1, masked: false },
  { Bw: 4, ws: 8, H: 2, D: 16, nW: 2, masked: true, design: 'rb', RB: 1 },
  { Bw: 3, ws: 3, H: 2, D: 4, nW: 3, masked: true, design: 'rb', RB: 2 }, // T = 9: a partial last row block
];

for (const c of CASES) {
  const T = c.ws * c.ws, L = (2 * c.ws - 1) ** 2;
  s(`fused forward and backward vs float64 reference: Bw ${c.Bw}, T ${T}, H ${c.H}, D ${c.D}${c.masked ? `, mask nW ${c.nW}` : ''}${c.design ? `, design ${c.design} RB ${c.RB}` : ''}`, async () => {
    const rt = await getTestDevice();
    const rel = relPosIndex(rt, c.ws);
    const mask = c.masked ? maskData(c.nW, T, c.Bw + T) : null;
    const d: WADims = { Bw: c.Bw, T, H: c.H, D: c.D, L, nW: c.nW, scale: 1 / Math.sqrt(c.D) };
    try {
      await checkOp(rt, {
        name: `window_attention T${T} D${c.D}`, seed: c.Bw * 31 + T,
        inputs: [{ shape: [c.Bw, T, 3 * c.H * c.D], lo: -1.5, hi: 1.5 }, { shape: [L, c.H] }],
        gpu: ([qkv, table]) => windowAttention(qkv, table, rel, { heads: c.H, mask: mask ? t32(rt, mask, [c.nW, T, T]) : null, RB: c.RB, design: c.design }),
        ref: ([qkv, table]) => windowAttentionRef(qkv, table, rel.cpu, mask, d).out,
        refBack: ([qkv, table], dy) => windowAttentionBackRef(qkv, table, rel.cpu, mask, d, dy),
      });
    } finally { rel.dispose(); }
  });
}

s('saved probabilities: forward under noGrad (no P) equals the recording forward', async () => {
  const rt = await getTestDevice();
  const rel = relPosIndex(rt, 8);
  await F.scope(async () => {
    const qkv = t32(rt, f32r(randn(2 * 64 * 96, 11)), [2, 64, 96], true);
    const table = t32(rt, f32r(randn(225, 12)), [225, 1]);
    const a = await windowAttention(qkv, table, rel, { heads: 1 }).data();
    const b = await F.noGrad(() => windowAttention(qkv, table, rel, { heads: 1 })).data();
    assertClose('noGrad vs grad forward', b, a, TOL.exact);
  });
  rel.dispose();
});

s('fused and unfused (matmul + softmax + matmul) paths agree, forward and gradients', async () => {
  const rt = await getTestDevice();
  const rel = relPosIndex(rt, 8);
  const Bw = 4, H = 2, D = 32, T = 64, nW = 2;
  const mask = maskData(nW, T, 3);
  const qkvData = f32r(randn(Bw * T * 3 * H * D, 21, -1.5, 1.5)), tableData = f32r(randn(225 * H, 22));
  const dy = f32r(randn(Bw * T * H * D, 23));
  const run = async (fn: typeof windowAttention) => F.scope(async () => {
    const qkv = t32(rt, qkvData, [Bw, T, 3 * H * D], true), table = t32(rt, tableData, [225, H], true);
    const y = fn(qkv, table, rel, { heads: H, mask: t32(rt, mask, [nW, T, T]) });
    F.backward(y, t32(rt, dy, [Bw, T, H * D]));
    const r = [await y.data(), await qkv.grad!.data(), await table.grad!.data()];
    qkv.grad!.dispose(); table.grad!.dispose();
    return r;
  });
  const [yf, gqf, gtf] = await run(windowAttention);
  const [yu, gqu, gtu] = await run(windowAttentionUnfused);
  assertClose('fused vs unfused forward', yf, yu, TOL.forward);
  assertClose('fused vs unfused dqkv', gqf, gqu, TOL.grad);
  // dtable sums 2 heads x 4 windows x up to 64 pairs of f32 terms in two different orders
  assertClose('fused vs unfused dtable', gtf, gtu, TOL.reduce(Bw * T * T / 8));
  rel.dispose();
});

s('bad input: shapes are rejected before any dispatch, naming the op and the rule', async () => {
  const rt = await getTestDevice();
  const rel = relPosIndex(rt, 4);
  F.scope(() => {
    const z = (shape: number[]) => F.zeros(rt, shape);
    const [q18, q24, q9, q3, t1, t2, t3, m2, m8] = [z([2, 16, 18]), z([2, 16, 24]), z([2, 9, 24]), z([3, 16, 24]), z([49, 1]), z([49, 2]), z([49, 3]), z([2, 16, 16]), z([2, 16, 8])];
    const d0 = rt.stats.dispatches;
    assert.throws(() => windowAttention(q18, t1, rel, { heads: 1 }), /window_attention: head dim D = 6 must be a multiple of 4/);
    assert.throws(() => windowAttention(q24, t3, rel, { heads: 2 }), /window_attention: bias table \[49, 3\] must be \[49, 2\]/);
    assert.throws(() => windowAttention(q24, t2, rel, { heads: 3 }), /last dim must be 3 \* heads \* head_dim with heads = 3/);
    assert.throws(() => windowAttention(q9, t2, rel, { heads: 2 }), /9 tokens per window but the relative position index is for 16/);
    assert.throws(() => windowAttention(q3, t2, rel, { heads: 2, mask: m2 }), /3 windows are not a multiple of the mask's 2 windows per image/);
    assert.throws(() => windowAttention(q24, t2, rel, { heads: 2, mask: m8 }), /mask \[2, 16, 8\] must be \[nW, 16, 16\]/);
    assert.is(rt.stats.dispatches, d0, 'nothing was dispatched');
  });
  rel.dispose();
});

s.run();
