import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice } from '../util/gpu.ts';
import { checkOp, checkRefBackward } from '../util/check.ts';
import { matmulRef, matmulBackRef, type MM } from '../ref/ops.ts';

const s = suite('matmul');

s('reference backward vs finite differences (all transpose combinations, shared B)', () => {
  for (const transA of [false, true]) for (const transB of [false, true]) for (const bShared of [false, true]) {
    const o: MM = { batch: 2, M: 3, N: 4, K: 5, transA, transB, bShared, alpha: 0.7 };
    const aS = [2, ...(transA ? [5, 3] : [3, 5])], bS = bShared ? (transB ? [4, 5] : [5, 4]) : [2, ...(transB ? [4, 5] : [5, 4])];
    checkRefBackward(`matmul tA=${transA} tB=${transB} shared=${bShared}`, [aS, bS, [4]], ([a, b, bias]) => matmulRef(a, b, o, bias), ([a, b], dy) => matmulBackRef(a, b, o, dy));
  }
});

const SHAPES: [number, number, number, number][] = [
  // batch, M, N, K
  [1, 1, 1, 1], [1, 3, 5, 7], [2, 12, 20, 8], [1, 4, 4, 4], [2, 63, 65, 64], [1, 64, 64, 64], [1, 65, 63, 65], [1, 768, 3, 8], [1, 5, 1025, 12], [3, 17, 768, 4],
];

for (const [design, block] of [['naive'], ['rb', { TM: 4, NV: 1 }], ['rb', { TM: 8, NV: 2 }], ['rb', { TM: 8, NV: 1 }], ['tiled'], ['sg']] as [F.MatmulDesign, F.RBBlock?][]) {
  s(`${design}${block ? ` ${block.TM}x${4 * block.NV}` : ''}: forward and backward over swept shapes, transposes, bias, shared B`, async () => {
    const rt = await getTestDevice();
    let seed = 1;
    for (const [batch, M, N, K] of SHAPES) for (const transA of [false, true]) for (const transB of [false, true]) {
      const bShared = (seed & 1) === 1, withBias = (seed & 2) === 2;
      const o: MM = { batch, M, N, K, transA, transB, bShared, alpha: seed % 3 === 0 ? 0.5 : 1 };
      const aS = [batch, ...(transA ? [K, M] : [M, K])];
      const bS = bShared ? (transB ? [N, K] : [K, N]) : [batch, ...(transB ? [N, K] : [K, N])];
      const inputs = [{ shape: aS }, { shape: bS }, ...(withBias ? [{ shape: [N] }] : [])];
      const tolK = { atol: 2e-6 * Math.sqrt(K) * 4 + 1e-5, rtol: 1e-4 };
      const tolG = { atol: 1e-5 * Math.sqrt(Math.max(M * batch, N, K)) * 4, rtol: 1e-3 };
      await checkOp(rt, {
        name: `${design} b${batch} M${M} N${N} K${K} tA${+transA} tB${+transB} shared${+bShared} bias${+withBias}`,
        inputs, seed: seed++,
        gpu: ([a, b, bias]) => F.matmul(a, b, { transA, transB, bias, alpha: o.alpha, design, block }),
        ref: ([a, b, bias]) => matmulRef(a, b, o, bias),
        refBack: ([a, b], dy) => { const [da, db, dbias] = matmulBackRef(a, b, o, dy); return withBias ? [da, db, dbias] : [da, db]; },
        fwdTol: tolK, gradTol: tolG,
      });
    }
  });
}

s('the subgroup/texture design runs (not a fallback) on adapters with 8-lane subgroups', async () => {
  const rt = await getTestDevice();
  const { resolveDesign, sgAvailable } = await import('../../src/ops/matmul.ts');
  if (rt.adapter.subgroupSize === 8) assert.ok(sgAvailable(rt), 'lavapipe-like adapter should offer the sg design');
  if (sgAvailable(rt)) assert.is(resolveDesign(rt, { batch: 2, M: 65, N: 63, K: 64, design: 'sg' }), 'sg');
  assert.is(resolveDesign(rt, { batch: 1, M: 4, N: 4, K: 4, design: 'rb' }), 'rb');
});

s('grid over 65535 workgroups (naive, folded)', async () => {
  const rt = await getTestDevice();
  // batch*M*N = 4.2M outputs -> 65.6k workgroups of 64
  const o: MM = { batch: 64, M: 256, N: 257, K: 3, transA: false, transB: false, bShared: true, alpha: 1 };
  await checkOp(rt, { name: 'naive big grid', inputs: [{ shape: [64, 256, 3] }, { shape: [3, 257] }], gpu: ([a, b]) => F.matmul(a, b, { design: 'naive' }), ref: ([a, b]) => matmulRef(a, b, o) });
});

s('bad input: inner dimension mismatch, bias shape, rank', async () => {
  const rt = await getTestDevice();
  const a = F.zeros(rt, [2, 3]), b = F.zeros(rt, [4, 5]), bias = F.zeros(rt, [4]);
  assert.throws(() => F.matmul(a, b), /matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\] \(K = 3 vs 4\)/);
  assert.throws(() => F.matmul(a, F.zeros(rt, [3, 5]), { bias }), /bias \[4\] must be \[5\]/);
  assert.throws(() => F.matmul(F.zeros(rt, [3]), b), /rank >= 2/);
  assert.throws(() => F.linear(a, b), /linear: input \[2, 3\] does not end in 5/);
});

s('bad input: a binding over the device limit is refused before submit', async () => {
  const rt = await getTestDevice();
  const lim = rt.limits.maxStorageBufferBindingSize;
  const M = Math.ceil(lim / 4 / 1024) + 1;
  const A = { buffer: rt.alloc(16) };
  assert.throws(() => F.matmulOp(rt, A, A, A, { batch: 1, M, N: 1, K: 1024 }), /matmul: A .* bytes, over the device's maxStorageBufferBindingSize/);
  rt.release(A.buffer);
});

s.run();
