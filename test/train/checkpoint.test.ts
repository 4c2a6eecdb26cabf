import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../src/index.ts';
import { Linear } from '../../src/nn/module.ts';
import { Rng } from '../../src/util/rng.ts';
import { lrAt } from '../../src/train/schedule.ts';
import { encodeCheckpoint, decodeCheckpoint, restoreOptimizer } from '../../src/train/checkpoint.ts';
import { getTestDevice } from '../util/gpu.ts';

const s = suite('checkpoint');

/** A tiny model and a training step whose inputs come from the RNG (so resume must restore it). */
async function makeRun(rt: F.Runtime) {
  const l1 = new Linear(rt, 8, 16, { rng: () => 0.3 }), l2 = new Linear(rt, 16, 4);
  const params: [string, F.Tensor][] = [...l1.namedParameters('l1.'), ...l2.namedParameters('l2.')];
  const opt = new F.AdamW(params.map(([, t]) => t), { lr: 1e-2, weightDecay: 0.01 });
  const rng = new Rng(1234);
  const step = async (t: number): Promise<number> => F.scope(async () => {
    const x = F.tensor(rt, Float32Array.from({ length: 4 * 8 }, () => rng.normal()), [4, 8]);
    const y = F.tensor(rt, Float32Array.from({ length: 4 * 4 }, () => rng.normal()), [4, 4]);
    const loss = F.meanAll(F.square(F.sub(l2.forward(F.gelu(l1.forward(x))), y)));
    F.backward(loss);
    opt.update(lrAt({ lr: 1e-2, warmup: 2, total: 10 }, t));
    opt.zeroGrad();
    return (await loss.data())[0];
  });
  return { l1, l2, params, opt, rng, step, dispose: () => { l1.dispose(); l2.dispose(); opt.dispose(); } };
}

s('resume continues exactly: the next step loss equals the uninterrupted run', async () => {
  const rt = await getTestDevice();
  const a = await makeRun(rt);
  const lossesA: number[] = [];
  for (let t = 1; t <= 4; t++) lossesA.push(await a.step(t));
  a.dispose();

  const b = await makeRun(rt);
  await b.step(1); await b.step(2);
  const bytes = await encodeCheckpoint(b.params, b.opt, { step: 2, state: { rng: b.rng.state }, config: { name: 'tiny' } });
  b.dispose();

  const c = await makeRun(rt);
  const ck = decodeCheckpoint(bytes, 'test.ckpt');
  assert.is(ck.step, 2);
  assert.equal(ck.config, { name: 'tiny' });
  // restore weights, moments, rng
  const values = new Map(ck.model);
  c.l1.loadStateDict(new Map([...values].filter(([k]) => k.startsWith('l1.')).map(([k, v]) => [k.slice(3), v])));
  c.l2.loadStateDict(new Map([...values].filter(([k]) => k.startsWith('l2.')).map(([k, v]) => [k.slice(3), v])));
  restoreOptimizer(c.opt, c.params, ck);
  c.rng.state = ck.state.rng as number;
  const l3 = await c.step(3), l4 = await c.step(4);
  assert.is(l3, lossesA[2], `step 3: resumed ${l3} vs uninterrupted ${lossesA[2]}`);
  assert.is(l4, lossesA[3]);
  c.dispose();
});

s('a corrupted checkpoint fails its checksum and is not loaded; a foreign file is named', async () => {
  const rt = await getTestDevice();
  const r = await makeRun(rt);
  const bytes = await encodeCheckpoint(r.params, r.opt, { step: 0, state: {}, config: {} });
  r.dispose();
  const bad = bytes.slice();
  bad[bad.length - 3] ^= 0x40;
  assert.throws(() => decodeCheckpoint(bad, 'run/ckpt.safetensors'), /run\/ckpt.safetensors: checksum mismatch .* was not loaded/);
  const { encodeSafetensors } = await import('../../src/io/safetensors.ts');
  assert.throws(() => decodeCheckpoint(encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), 'x.safetensors'), /x.safetensors: not a flam-webgpu checkpoint/);
});

s('strict state_dict loading names missing, unexpected and mis-shaped keys', async () => {
  const rt = await getTestDevice();
  const l = new Linear(rt, 3, 2);
  assert.throws(() => l.loadStateDict(new Map([['weight', { shape: [2, 4], data: new Float32Array(8) }], ['extra', { shape: [1], data: new Float32Array(1) }]])),
    /missing keys: bias \| unexpected keys: extra \| shape mismatches: weight: expected \[2,3\], got \[2,4\]/);
  l.dispose();
});

s('schedule: linear warm-up then cosine to minLr', () => {
  const c = { lr: 1, warmup: 10, total: 110, minLr: 0.1 };
  assert.is(lrAt(c, 5), 0.5);
  assert.is(lrAt(c, 10), 1);
  assert.ok(Math.abs(lrAt(c, 60) - 0.55) < 1e-12);
  assert.ok(Math.abs(lrAt(c, 110) - 0.1) < 1e-12);
});

s.run();
