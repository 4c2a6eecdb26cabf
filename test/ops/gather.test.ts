import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, TOL, randn, rng } from '../util/compare.ts';
import { gatherRef, scatterAddRef, finiteDiff } from '../ref/ops.ts';

const s = suite('gather');

s('reference scatter-add vs finite differences', () => {
  const idx = [2, 0, 2, 1];
  const table = randn(3 * 2, 1);
  const dy = randn(4 * 2, 2);
  const [fd] = finiteDiff(([t]) => gatherRef(t, idx, 2), [table], dy);
  assertClose('scatter-add', scatterAddRef(dy, idx, 3, 2), fd, TOL.fd);
});

for (const [V, C, n] of [[1, 1, 1], [3, 3, 5], [50, 63, 64], [64, 65, 200], [1025, 8, 3], [7, 768, 65], [65600, 1, 2000]]) {
  s(`embedding V=${V} C=${C} n=${n}: gather and both scatter-add plans`, async () => {
    const rt = await getTestDevice();
    const r = rng(V + C + n);
    const idx = Array.from({ length: n }, () => Math.floor(r() * V));
    const table = f32r(randn(V * C, V));
    const dy = f32r(randn(n * C, C));
    for (const cpuIdx of [true, false]) {
      await F.scope(async () => {
        const tt = t32(rt, table, [V, C], true);
        const it = F.tensor(rt, Uint32Array.from(idx), [n], 'u32');
        // cpuIdx = false: indices produced on the GPU (no CPU copy) -> the scan plan
        const idxT = cpuIdx ? it : F.slice(F.concat([it, it], 0), [0], [n]);
        const y = F.embedding(tt, idxT);
        assertClose('gather', await y.data(), gatherRef(table, idx, C), TOL.exact);
        F.backward(y, t32(rt, dy, [n, C]));
        assertClose(`scatter-add (${cpuIdx ? 'csr' : 'scan'})`, await tt.grad!.data(), scatterAddRef(dy, idx, V, C), TOL.reduce(n));
      });
    }
  });
}

s('bad input: out-of-range and float indices', async () => {
  const rt = await getTestDevice();
  const t = F.zeros(rt, [4, 2]);
  assert.throws(() => F.embedding(t, F.tensor(rt, [1, 4], [2], 'i32')), /embedding: index 4 at position 1 is outside the table's 4 rows/);
  assert.throws(() => F.embedding(t, F.tensor(rt, [1, 2], [2])), /indices must be i32 or u32/);
});

s.run();
