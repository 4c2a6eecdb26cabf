import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { loadPth, readPth, type PthTensor } from '../../src/io/pth.ts';
import { crc32, ZipArchive } from '../../src/io/zip.ts';
import { validateStateDict } from '../../src/model/checkpoint_keys.ts';
import { throwsWith, assertClose, TOL } from '../util/compare.ts';

const s = suite('pth');
const dir = join(import.meta.dirname, '..', 'fixtures', 'pth');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const load = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

interface Expect { dtype: string; shape: number[]; parameter: boolean; values?: (number | string)[]; head?: (number | string)[]; sum?: number; wsum?: number }

/** Expected values as numbers (ints come as strings, non-finite floats as their repr). */
const num = (v: number | string) => (typeof v === 'number' ? v : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : Number(v));

/** Checks one decoded tensor against what torch reported when it saved it. */
function checkTensor(label: string, t: PthTensor, e: Expect): void {
  assert.is(t.dtype, e.dtype, `${label}: dtype`);
  assert.equal(t.shape, e.shape, `${label}: shape`);
  assert.is(t.parameter, e.parameter, `${label}: parameter flag`);
  const want = { float32: Float32Array, float16: Float32Array, bfloat16: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array }[t.dtype];
  assert.ok(t.data instanceof want, `${label}: data is a ${want.name}`);
  const n = e.shape.reduce((a, b) => a * b, 1);
  assert.is(t.data.length, n, `${label}: element count`);
  if (t.data instanceof BigInt64Array) {
    // Exact 64-bit integers: compare as strings.
    const got = [...t.data].map(String);
    if (e.values) assert.equal(got, e.values, `${label}: int64 values`);
    else {
      assert.equal(got.slice(0, 16), e.head, `${label}: head`);
      let sum = 0, wsum = 0;
      t.data.forEach((v, i) => { sum += Number(v); wsum += i * Number(v); });
      assert.is(sum, e.sum, `${label}: sum`);
      assert.is(wsum, e.wsum, `${label}: weighted sum`);
    }
    return;
  }
  const got = Array.from(t.data as ArrayLike<number>);
  if (e.values) { assertClose(label, got, e.values.map(num), TOL.exact); return; }
  assertClose(`${label} head`, got.slice(0, 16), e.head!.map(num), TOL.exact);
  let sum = 0, wsum = 0;
  got.forEach((v, i) => { sum += v; wsum += i * v; });
  assertClose(`${label} sum`, [sum], [e.sum!], { atol: 1e-9 * n, rtol: 1e-12 });
  assertClose(`${label} weighted sum`, [wsum], [e.wsum!], { atol: 1e-9 * n * n, rtol: 1e-12 });
}

function checkAll(file: string, want: Record<string, Expect>): void {
  const got = readPth(load(file), { source: file });
  assert.equal([...got.keys()], Object.keys(want), `${file}: keys in saved order`);
  for (const [k, e] of Object.entries(want)) checkTensor(`${file} "${k}"`, got.get(k)!, e);
}


s('every dtype, transposed and expanded views, shared storages, Parameters (protocol 2, as torch.save writes)', () => {
  checkAll('dtypes.pth', expected.dtypes);
});

s('the same state_dict pickled with protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE)', () => {
  checkAll('dtypes_p4.pth', expected.dtypes);
});

s('the same archive re-zipped with deflate', () => {
  const z = ZipArchive.open(load('dtypes_deflate.pth'), 'dtypes_deflate.pth');
  assert.ok([...z.entries.values()].some((e) => e.method === 8), 'fixture has deflated entries');
  checkAll('dtypes_deflate.pth', expected.dtypes);
});

s('a big-endian archive (byteorder record "big") is byte-swapped', () => {
  const c = loadPth(load('dtypes_bigendian.pth'), { source: 'dtypes_bigendian.pth' });
  assert.is(c.byteorder, 'big');
  checkAll('dtypes_bigendian.pth', expected.dtypes);
});

s('archive facts, _metadata, and zero-copy float32 views', () => {
  const bytes = load('dtypes.pth');
  const c = loadPth(bytes, { source: 'dtypes.pth' });
  assert.is(c.archiveName, 'dtypes');
  assert.is(c.version, '3');
  assert.is(c.byteorder, 'little');
  assert.equal(c.metadata, expected.dtypes_metadata);
  // shared_a / shared_b / expanded views: fewer storages than tensors.
  assert.ok(c.storages < c.tensors.size, `${c.storages} storages for ${c.tensors.size} tensors`);
  const f32 = c.tensors.get('f32')!.data;
  assert.ok(f32.buffer === bytes.buffer, 'a contiguous float32 tensor is a view into the archive bytes');
  const tr = c.tensors.get('transposed')!.data;
  assert.ok(tr.buffer !== bytes.buffer, 'a non-contiguous tensor is gathered into its own array');
  const progress: number[] = [];
  loadPth(bytes, { onProgress: (done, total) => { progress.push(done); assert.is(total, c.tensors.size); } });
  assert.equal(progress, Array.from({ length: c.tensors.size }, (_, i) => i + 1));
});

s('the v1-base-like fixture goes through the validator: wrong shape, unexpected and ignorable keys found', () => {
  const sd = readPth(load('v1like.pth'), { source: 'v1like.pth' });
  for (const [k, e] of Object.entries(expected.v1like as Record<string, Expect>)) checkTensor(`v1like "${k}"`, sd.get(k)!, e);
  const r = validateStateDict(sd);
  assert.not.ok(r.ok);
  assert.equal(r.wrongShape, [{ key: 'audio_branch.bn0.weight', expected: [64], got: [63] }]);
  assert.equal(r.unexpected, ['extra.weight']);
  assert.equal(r.ignored, ['text_branch.embeddings.position_ids']);
  assert.is(r.missing.length, 500 - 10);
  assert.equal(r.wrongDType, []);
});

s('bad files: every error names the file and the problem', () => {
  const cases: [string, RegExp][] = [
    ['not_a_zip.pth', /^not_a_zip\.pth: not a ZIP archive/],
    ['truncated.pth', /^truncated\.pth: truncated ZIP archive/],
    ['legacy.pth', /^legacy\.pth: this is a legacy \(pre-1\.6, non-zip\) torch\.save file/],
    ['no_data_pkl.pth', /^no_data_pkl\.pth: not a PyTorch checkpoint: the ZIP archive has no <archive>\/data\.pkl/],
    ['list.pth', /^list\.pth: not a state_dict: top-level object is a list/],
    ['tensor.pth', /^tensor\.pth: not a state_dict: top-level object is a single tensor/],
    ['training_checkpoint.pth', /^training_checkpoint\.pth: not a state_dict: 2 of 2 entries are not tensors: "state_dict" \(dict\), "epoch" \(int\); .*under "state_dict"/],
    ['module.pth', /^module\.pth: .*global torch\.nn\.modules\.linear\.Linear, which is not on the allow-list; refusing to load \(the file looks like a whole pickled model/],
    ['evil_system.pth', /^evil_system\.pth: evil_system\/data\.pkl: pickle references the global posix\.system, which is not on the allow-list; refusing to load/],
    ['evil_eval_p4.pth', /^evil_eval_p4\.pth: .*pickle references the global builtins\.eval, which is not on the allow-list/],
    ['missing_storage.pth', /^missing_storage\.pth: storage record small\/data\/1 is missing from the archive/],
    ['short_storage.pth', /^short_storage\.pth: storage record small\/data\/1 holds 100 bytes, but the pickle declares 64 float32 elements \(256 bytes\)/],
    ['complex.pth', /^complex\.pth: storage 0 has dtype complex64 \(torch\.ComplexFloatStorage\), which is not supported/],
    ['bitflip.pth', /^bitflip\.pth: ZIP entry "small\/data\/1": CRC-32 mismatch/],
  ];
  for (const [file, re] of cases) throwsWith(() => readPth(load(file), { source: file }), re, file);
  // The same archive without its flipped bit reads fine, and with the CRC check off the flipped value comes through.
  checkAll('small.pth', expected.small);
  const b = readPth(load('bitflip.pth'), { verifyCrc: false }).get('b')!.data as Float32Array;
  assert.is(b[9], 9);
  assert.ok(b[10] !== 10, 'the flipped element differs');
  // Every truncation point of a real archive is an error, never a wrong answer.
  const full = load('small.pth');
  for (let cut = 0; cut < full.length; cut += 37) throwsWith(() => readPth(full.subarray(0, cut), { source: 'cut.pth' }), /^cut\.pth: (not a ZIP archive|truncated ZIP archive)/, `cut at ${cut}`);
});

// Archives built here with fflate, around hand-written pickles, for cases torch never writes.
const enc = new TextEncoder();
function pickleOf(parts: (string | number | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') out.push(...enc.encode(p));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}
const str = (x: string) => ['X', [x.length, 0, 0, 0], x] as const;
/** {'w': _rebuild_tensor_v2(storage('0', <type>, numel), offset, size, stride, False, OrderedDict())} */
function tensorPickle(opts: { type?: string; numel: number; offset: number; size: number[]; stride: number[]; key?: string; global?: string; paramState?: 'empty' | 'attrs' }): Uint8Array {
  const tuple = (xs: number[]) => ['(', ...xs.flatMap((x) => ['J', [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, (x >>> 24) & 255]]), 't'];
  // Optionally wrapped as _rebuild_parameter_with_state(tensor, True, OrderedDict(), state) (torch 2.x subclass path).
  const pre = opts.paramState ? ['ctorch._utils\n_rebuild_parameter_with_state\n('] : [];
  const post = opts.paramState ? [0x88, 'ccollections\nOrderedDict\n)R', opts.paramState === 'empty' ? '}' : '}X\x01\x00\x00\x00aK\x01s', 'tR'] : [];
  return pickleOf([0x80, 2, '}', ...str(opts.key ?? 'w'), ...pre, `c${opts.global ?? 'torch._utils\n_rebuild_tensor_v2'}\n`, '((',
    ...str('storage'), `ctorch\n${opts.type ?? 'FloatStorage'}\n`, ...str('0'), ...str('cpu'), 'J', [opts.numel, 0, 0, 0], 'tQ',
    'J', [opts.offset, 0, 0, 0], ...tuple(opts.size), ...tuple(opts.stride), 0x89, 'ccollections\nOrderedDict\n)R', 'tR', ...post, 's.'].flat());
}
function archive(pkl: Uint8Array, storage: Uint8Array, extra: Record<string, Uint8Array> = {}): Uint8Array {
  return zipSync({ 'arc/data.pkl': pkl, 'arc/data/0': storage, 'arc/version': enc.encode('3\n'), ...extra }, { level: 0 });
}
const f32bytes = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

s('hand-built archives: size/stride bounds, unaligned records, refused globals', () => {
  const data = f32bytes([10, 11, 12, 13, 14, 15]);
  // Reads element offset + sum((size-1)*stride) = 1 + 1*2 + 1*1 = 4 < 6: fine; values by stride.
  const ok = readPth(archive(tensorPickle({ numel: 6, offset: 1, size: [2, 2], stride: [2, 1] }), data), { source: 'ok.pth' });
  assertClose('strided', ok.get('w')!.data as Float32Array, [11, 12, 13, 14], TOL.exact);
  // offset 3 + 1*2 + 1*1 = 6 >= 6: out of bounds.
  throwsWith(() => readPth(archive(tensorPickle({ numel: 6, offset: 3, size: [2, 2], stride: [2, 1] }), data), { source: 'oob.pth' }),
    /^oob\.pth: .*storage 0 is too small: 6 float32 elements, but a tensor with storage_offset 3, size \[2, 2\] and stride \[2, 1\] reads element 6/, 'out of bounds');
  throwsWith(() => readPth(archive(tensorPickle({ numel: 2, offset: 0, size: [3], stride: [2] }), data), { source: 'oob2.pth' }), /storage 0 is too small/, 'stride out of bounds');
  throwsWith(() => readPth(archive(tensorPickle({ numel: 6, offset: 0, size: [2, 3], stride: [3] }), data), { source: 'dims.pth' }), /size has 2 dimensions but stride has 1/, 'rank mismatch');
  // The v1 rebuild function and other torch internals are not on the allow-list.
  throwsWith(() => readPth(archive(tensorPickle({ numel: 6, offset: 0, size: [6], stride: [1], global: 'torch._utils\n_rebuild_tensor' }), data), { source: 'v1.pth' }),
    /global torch\._utils\._rebuild_tensor, which is not on the allow-list/, '_rebuild_tensor');
  throwsWith(() => readPth(archive(tensorPickle({ numel: 6, offset: 0, size: [6], stride: [1], type: 'FancyStorage' }), data), { source: 't.pth' }),
    /global torch\.FancyStorage, which is not on the allow-list/, 'unknown storage class');
  // A record that starts at an odd offset inside the archive is copied into aligned memory, not misread.
  const pkl = tensorPickle({ numel: 6, offset: 0, size: [6], stride: [1] });
  let odd: Uint8Array | null = null;
  for (let pad = 1; pad <= 4 && !odd; pad++) {
    const a = zipSync({ 'arc/data.pkl': pkl, 'arc/x': new Uint8Array(pad), 'arc/data/0': data }, { level: 0 });
    if (ZipArchive.open(a).read('arc/data/0').byteOffset % 4 !== 0) odd = a;
  }
  assert.ok(odd, 'built an archive whose float32 record is not 4-byte aligned');
  const z = ZipArchive.open(odd!);
  assert.is(crc32(z.read('arc/data/0')), z.entries.get('arc/data/0')!.crc32);
  const w = readPth(odd!).get('w')!.data as Float32Array;
  assert.is(w.byteOffset % 4, 0);
  assertClose('unaligned', w, [10, 11, 12, 13, 14, 15], TOL.exact);
  // nn.Parameter through _rebuild_parameter_with_state: accepted with empty state, refused with Python attributes.
  const p = readPth(archive(tensorPickle({ numel: 6, offset: 0, size: [3], stride: [2], paramState: 'empty' }), data)).get('w')!;
  assert.ok(p.parameter);
  assertClose('param with state', p.data as Float32Array, [10, 12, 14], TOL.exact);
  throwsWith(() => readPth(archive(tensorPickle({ numel: 6, offset: 0, size: [3], stride: [2], paramState: 'attrs' }), data), { source: 'ps.pth' }),
    /^ps\.pth: .*_rebuild_parameter_with_state: parameters with extra Python state/, 'parameter state');
  // bool bytes other than 0/1 are corrupt.
  throwsWith(() => readPth(archive(tensorPickle({ numel: 2, offset: 0, size: [2], stride: [1], type: 'BoolStorage' }), Uint8Array.of(1, 7)), { source: 'b.pth' }), /bool element 1 has byte value 7/, 'bool');
  // Two data.pkl records, or a bad byteorder record.
  throwsWith(() => readPth(zipSync({ 'a/data.pkl': new Uint8Array(1), 'b/data.pkl': new Uint8Array(1) }, { level: 0 }), { source: 'two.pth' }), /several data\.pkl records/, 'two pickles');
  throwsWith(() => readPth(archive(tensorPickle({ numel: 6, offset: 0, size: [6], stride: [1] }), data, { 'arc/byteorder': enc.encode('middle') }), { source: 'bo.pth' }), /byteorder record says "middle"/, 'byteorder');
});

s.run();
