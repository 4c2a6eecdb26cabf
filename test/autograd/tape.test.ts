import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, TOL, randn } from '../util/compare.ts';
import { adamwRef } from '../ref/ops.ts';

const s = suite('autograd');

s('gradient accumulation across two uses and two backward calls; broadcast reduction', async () => {
  const rt = await getTestDevice();
  await F.scope(async () => {
    const x = t32(rt, [1, 2, 3], [3], true);
    const b = t32(rt, [10], [1], true);
    // y = sum(x*x + x*b) -> dx = 2x + b, db = sum(x)
    const y = F.sumAll(F.add(F.mul(x, x), F.mul(x, b)));
    F.backward(y);
    assertClose('dx', await x.grad!.data(), [12, 14, 16], TOL.grad);
    assertClose('db', await b.grad!.data(), [6], TOL.grad);
    const y2 = F.sumAll(F.mul(x, b));
    F.backward(y2);
    assertClose('dx accumulated', await x.grad!.data(), [22, 24, 26], TOL.grad);
  });
});

s('noGrad records nothing; backward on a non-grad tensor is a clear error', async () => {
  const rt = await getTestDevice();
  const x = t32(rt, [1, 2], [2], true);
  const y = F.noGrad(() => F.exp(x));
  assert.is(y.node, null);
  assert.is(y.requiresGrad, false);
  assert.throws(() => F.backward(y), /does not require grad/);
  const z = F.exp(x);
  assert.throws(() => F.backward(z), /is not a scalar/);
  x.dispose(); y.dispose(); z.dispose();
});

s('async noGrad regions that overlap or end out of order never leave recording off', async () => {
  let release!: () => void;
  const slow = F.noGrad(() => new Promise<void>((r) => { release = r; }));
  const fast = F.noGrad(async () => { assert.is(F.isGradEnabled(), false); });
  await fast;
  assert.is(F.isGradEnabled(), false, 'still inside the slow region');
  release();
  await slow;
  assert.is(F.isGradEnabled(), true);
  await F.noGrad(async () => { throw new Error('x'); }).catch(() => {});
  assert.is(F.isGradEnabled(), true, 'a rejected region leaves too');
});

s('no leak: pool live bytes return to baseline after repeated forward/backward', async () => {
  const rt = await getTestDevice();
  const W = t32(rt, f32r(randn(32 * 16, 3)), [32, 16], true);
  const g = t32(rt, f32r(randn(32, 4, 0.5, 1.5)), [32], true), bb = t32(rt, f32r(randn(32, 5)), [32], true);
  await rt.sync();
  const base = rt.pool.stats().liveBytes;
  for (let it = 0; it < 5; it++) {
    await F.scope(async () => {
      const x = t32(rt, f32r(randn(8 * 16, it)), [8, 16]);
      const h = F.layerNorm(F.gelu(F.linear(x, W)), g, bb);
      const loss = F.meanAll(F.softmax(F.mul(h, h)));
      F.backward(loss);
      await loss.data();
      for (const p of [W, g, bb]) { p.grad!.dispose(); p.grad = null; }
    });
  }
  await rt.sync();
  assert.is(rt.pool.stats().liveBytes, base, `live bytes ${rt.pool.stats().liveBytes} != baseline ${base}`);
  W.dispose(); g.dispose(); bb.dispose();
});

s('a released buffer is reused only after the submit that last used it', async () => {
  const rt = await getTestDevice();
  await rt.sync();
  const a = rt.alloc(4096);
  rt.release(a);
  const b = rt.alloc(4096);
  assert.is.not(a, b, 'reused before submit');
  rt.flush();
  const c = rt.alloc(4096);
  assert.ok(c === a || c === b || rt.pool.stats().freeBuffers >= 0);
  assert.is(c, a, 'after submit the parked buffer is reused');
  rt.release(b); rt.release(c);
});

s('AdamW kernel matches the float64 reference over several steps (with clipping scale)', async () => {
  const rt = await getTestDevice();
  for (const n of [1, 3, 65, 1025]) {
    const p0 = f32r(randn(n, n)), grads = [0, 1, 2].map((k) => f32r(randn(n, n * 10 + k)));
    const h = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    const P = t32(rt, p0, [n]);
    const opt = new F.AdamW([P], h);
    const pr = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
    for (let t = 0; t < 3; t++) {
      P.grad = F.keep(t32(rt, grads[t], [n]));
      opt.update(h.lr, 0.5);
      opt.zeroGrad();
      adamwRef(pr, grads[t].map((x) => x * 0.5), m, v, h, t + 1);
    }
    assertClose(`adamw n=${n}`, await P.data(), pr, { atol: 1e-6, rtol: 1e-5 });
    opt.dispose(); P.dispose();
  }
});

s('forward + backward + AdamW step of a 2-layer MLP with 1M parameters is one submit', async () => {
  const rt = await getTestDevice();
  const D = 1024, H = 512; // 2 * 1024 * 512 + 512 + 1024 = 1,050,112 parameters
  const W1 = t32(rt, f32r(randn(H * D, 1, -0.03, 0.03)), [H, D], true), b1 = t32(rt, new Float64Array(H), [H], true);
  const W2 = t32(rt, f32r(randn(D * H, 2, -0.03, 0.03)), [D, H], true), b2 = t32(rt, new Float64Array(D), [D], true);
  const params = [W1, b1, W2, b2];
  const count = params.reduce((a, p) => a + p.size, 0);
  assert.ok(count >= 1_000_000, `MLP has ${count} parameters`);
  const opt = new F.AdamW(params, { lr: 1e-3 });
  const x = t32(rt, f32r(randn(16 * D, 3)), [16, D]);
  await rt.sync();
  const before = rt.stats.submits;
  let lossVal = 0;
  await F.scope(async () => {
    const y = F.linear(F.gelu(F.linear(x, W1, b1)), W2, b2);
    const loss = F.meanAll(F.square(F.sub(y, x)));
    F.backward(loss);
    opt.update();
    opt.zeroGrad();
    lossVal = (await loss.data())[0];
  });
  assert.is(rt.stats.submits - before, 1, 'one submit for forward + backward + AdamW + loss readback');
  assert.ok(Number.isFinite(lossVal));

  opt.dispose(); for (const p of params) p.dispose(); x.dispose();
});

s.run();
