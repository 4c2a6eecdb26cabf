import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getTestDevice } from '../util/gpu.ts';
import { KernelFamily, ENTRY, compileSpec, paramLayout } from '../../src/gpu/kernel.ts';
import { sizeClass } from '../../src/gpu/pool.ts';
import { runtimeFromGPU } from '../../src/gpu/runtime.ts';
import { unary } from '../../kernels/elementwise.wgsl.ts';
import * as F from '../../src/index.ts';
import { rejects } from "../util/compare.ts";

const s = suite('runtime');

s('pipeline cache keys are computed from the generated source, so variants never collide', async () => {
  const a = unary.get({ op: 'exp' }), b = unary.get({ op: 'log' }), a2 = unary.get({ op: 'exp' });
  assert.is(a, a2);
  assert.is.not(a.key, b.key);
  assert.ok(a.source.includes('exp(x)'));
  const rt = await getTestDevice();
  const p0 = rt.stats.pipelines;
  const x = F.tensor(rt, [1, 2], [2]);
  F.exp(x).dispose(); F.exp(x).dispose();
  assert.ok(rt.stats.pipelines - p0 <= 1, 'second call reuses the pipeline');
  x.dispose();
});

s('param layout follows WGSL uniform rules', () => {
  const l = paramLayout([['n', 'u32'], ['eps', 'f32'], ['shape', 'u32x4[2]'], ['k', 'u32']]);
  assert.equal(l.offsets.get('shape')!.offset, 16);
  assert.equal(l.offsets.get('k')!.offset, 48);
  assert.is(l.size, 64);
  const src = compileSpec({ name: 't', bindings: [{ name: 'x', access: 'read' }], params: [['n', 'u32']], workgroup: [8], body: `${ENTRY} {}` });
  assert.ok(src.includes('@group(0) @binding(1) var<uniform> p: Params;'));
});

s('size classes waste at most 12.5% above 1 MiB', () => {
  for (const b of [1, 17, 1000, 1 << 20, (1 << 20) + 1, 3_000_000, 123_456_789]) {
    const c = sizeClass(b);
    assert.ok(c >= b);
    if (b > 1 << 20) assert.ok(c <= b * 1.125 + 16, `${b} -> ${c}`);
  }
});

s('grids over 65535 workgroups are folded into more dimensions', async () => {
  const rt = await getTestDevice();
  const lim = rt.limits.maxComputeWorkgroupsPerDimension;
  for (const n of [1, lim, lim + 1, lim * 3 + 7]) {
    const [x, y, z] = rt.foldGrid(n, 't');
    assert.ok(x <= lim && y <= lim && z <= lim && x * y * z >= n, `${n} -> ${x},${y},${z}`);
  }
});

s('a kernel with a WGSL error is reported on the next flush instead of a silent wrong answer', async () => {
  const rt = await getTestDevice();
  const bad = new KernelFamily<{}>('bad', () => ({ name: 'bad', bindings: [{ name: 'out', access: 'read_write' }], params: [['n', 'u32']], workgroup: [1], body: `${ENTRY} { out[0] = undefined_symbol; }` }));
  const buf = rt.alloc(16);
  const orig = console.error; console.error = () => {};
  try {
    rt.dispatch(bad.get({}), [buf], { n: 1 }, 1);
    await rejects(async () => { await rt.read(buf, 0, 4); }, /WebGPU error/);
  } finally { console.error = orig; rt.release(buf); rt.flush(); }
});

s('uploads stay in program order after recorded but unsubmitted kernels (no extra submit)', async () => {
  const rt = await getTestDevice();
  await rt.sync();
  const t = F.full(rt, [4], 7);               // a fill kernel, recorded only
  const s0 = rt.stats.submits;
  rt.upload(t.storage.buffer, new Float32Array([1, 2, 3, 4]));   // must land after the fill
  assert.is(rt.stats.submits, s0, 'no submit for the upload');
  assert.equal([...(await t.data())], [1, 2, 3, 4]);
  t.dispose();
});

s('no adapter and no navigator.gpu give errors naming the fix', async () => {
  await rejects(() => runtimeFromGPU(undefined), /WebGPU is not available here/);
  const fakeGpu = { requestAdapter: async () => null } as unknown as GPU;
  await rejects(() => runtimeFromGPU(fakeGpu), /No WebGPU adapter found.*npm run setup/);
});

s('device loss rejects pending and later readbacks instead of hanging', async () => {
  const { nodeRuntime } = await import('../../src/gpu/node.ts');
  const rt2 = await nodeRuntime();
  const x = F.tensor(rt2, [1, 2, 3, 4], [4]);
  const y = F.exp(x);
  rt2.device.destroy();
  await rejects(async () => { await y.data(); }, /device lost|destroyed|WebGPU/i);
  assert.throws(() => F.exp(x), /device lost/i);
});

s.run();
