// Browser smoke test: a subset of the kernel tests, from the same sources as Node (src/, kernels/, test/ref,
// test/util/compare), run on the page's WebGPU. Bundled by test/gpu/browser.test.ts; results in window.__flam.
import { browserRuntime } from '../../src/gpu/browser.ts';
import * as F from '../../src/index.ts';
import { assertClose, randn, TOL } from '../util/compare.ts';
import { matmulRef, matmulBackRef, softmaxRef, layerNormRef, layerNormBackRef, unaryRef } from '../ref/ops.ts';

const f32r = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a as ArrayLike<number>));

async function run(): Promise<{ name: string; ok: boolean; msg?: string }[]> {
  const rt = await browserRuntime();
  const out: { name: string; ok: boolean; msg?: string }[] = [];
  const check = async (name: string, fn: () => Promise<void>) => {
    try { await F.scope(fn); out.push({ name, ok: true }); } catch (e) { out.push({ name, ok: false, msg: String((e as Error).message) }); }
  };
  out.push({ name: `adapter ${rt.adapter.description || rt.adapter.device} (cpu=${rt.adapter.isCPU})`, ok: true });
  for (const design of ['naive', 'rb', 'tiled'] as F.MatmulDesign[]) {
    await check(`matmul ${design} forward+backward 65x63x64`, async () => {
      const M = 65, N = 63, K = 64;
      const a = f32r(randn(M * K, 1)), b = f32r(randn(K * N, 2)), dy = f32r(randn(M * N, 3));
      const A = F.tensor(rt, Float32Array.from(a), [M, K]), B = F.tensor(rt, Float32Array.from(b), [K, N]);
      A.requiresGrad = true; B.requiresGrad = true;
      const o = { batch: 1, M, N, K, transA: false, transB: false, bShared: false, alpha: 1 };
      const y = F.matmul(A, B, { design });
      assertClose('forward', await y.data(), matmulRef(a, b, o), { atol: 1e-4, rtol: 1e-4 });
      F.backward(y, F.tensor(rt, Float32Array.from(dy), [M, N]));
      const [da, db] = matmulBackRef(a, b, o, dy);
      assertClose('dA', await A.grad!.data(), da, { atol: 1e-4, rtol: 1e-3 });
      assertClose('dB', await B.grad!.data(), db, { atol: 1e-4, rtol: 1e-3 });
    });
  }
  await check('softmax 64x65', async () => {
    const x = f32r(randn(64 * 65, 4, -4, 4));
    assertClose('softmax', await F.softmax(F.tensor(rt, Float32Array.from(x), [64, 65])).data(), softmaxRef(x, 64, 65), TOL.forward);
  });
  await check('layer_norm 63x768 forward+backward', async () => {
    const rows = 63, C = 768;
    const x = f32r(randn(rows * C, 5)), g = f32r(randn(C, 6, 0.5, 1.5)), b = f32r(randn(C, 7)), dy = f32r(randn(rows * C, 8));
    const X = F.tensor(rt, Float32Array.from(x), [rows, C]); X.requiresGrad = true;
    const G = F.tensor(rt, Float32Array.from(g), [C]); G.requiresGrad = true;
    const y = F.layerNorm(X, G, F.tensor(rt, Float32Array.from(b), [C]));
    assertClose('y', await y.data(), layerNormRef(x, g, b, rows, C, 1e-5).y, TOL.forward);
    F.backward(y, F.tensor(rt, Float32Array.from(dy), [rows, C]));
    const [dx, dg] = layerNormBackRef(x, g, rows, C, 1e-5, dy);
    assertClose('dx', await X.grad!.data(), dx, TOL.grad);
    assertClose('dgamma', await G.grad!.data(), dg, TOL.reduce(rows));
  });
  await check('gelu forward+backward 1025', async () => {
    const x = f32r(randn(1025, 9, -4, 4)), dy = f32r(randn(1025, 10));
    const X = F.tensor(rt, Float32Array.from(x), [1025]); X.requiresGrad = true;
    const y = F.gelu(X);
    assertClose('gelu', await y.data(), x.map((v) => unaryRef.gelu.f(v, 1, 0)), TOL.forward);
    F.backward(y, F.tensor(rt, Float32Array.from(dy), [1025]));
    assertClose('gelu grad', await X.grad!.data(), x.map((v, i) => dy[i] * unaryRef.gelu.d(v, 1, 0)), TOL.grad);
  });
  return out;
}

(globalThis as any).__flam = run().catch((e) => [{ name: 'runtime', ok: false, msg: String(e?.message ?? e) }]);
