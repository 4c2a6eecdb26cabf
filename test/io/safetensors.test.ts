import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DTYPE_SIZE, decodeSafetensors, encodeSafetensors, parseSafetensorsHeader, type SafetensorsDType, type TensorSpec,
} from '../../src/io/safetensors.ts';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../src/io/half.ts';
import { throwsWith, assertClose, rng, TOL } from '../util/compare.ts';

const s = suite('safetensors');
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'io');
const enc = new TextEncoder();

/** Builds a file by hand: u64-LE header length, the given header text space-padded to 8, then `data`. */
function handFile(header: string, data: Uint8Array, pad = true): Uint8Array {
  const h = enc.encode(header);
  const n = pad ? Math.ceil(h.length / 8) * 8 : h.length;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(h, 8);
  out.fill(0x20, 8 + h.length, 8 + n);
  out.set(data, 8 + n);
  return out;
}


function handBuilt(): Uint8Array {
  const data = new Uint8Array(16 + 16 + 4);
  const dv = new DataView(data.buffer);
  [1.5, -2, 0.25, 1e-3].forEach((v, i) => dv.setFloat32(4 * i, v, true));
  dv.setBigInt64(16, -3n, true);
  dv.setBigInt64(24, 1n << 40n, true);
  dv.setUint16(32, 0x3c00, true); // F16 1.0
  dv.setUint16(34, 0xc000, true); // F16 -2.0
  const header = '{"__metadata__":{"format":"pt","k":"v"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},'
    + '"n":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},"h":{"dtype":"F16","shape":[2],"data_offsets":[32,36]}}';
  return handFile(header, data);
}

s('hand-built file decodes field by field', () => {
  const a = decodeSafetensors(handBuilt(), 'hand.safetensors');
  assert.equal(a.metadata, { format: 'pt', k: 'v' });
  assert.equal(a.names, ['w', 'n', 'h']);
  const w = a.get('w');
  assert.is(w.dtype, 'F32');
  assert.equal([...w.shape], [2, 2]);
  assert.is(w.size, 4);
  assertClose('w', w.float32(), [1.5, -2, 0.25, Math.fround(1e-3)], TOL.exact);
  assert.equal([...a.get('n').bigint64()], [-3n, 1n << 40n]);
  assertClose('n as f32', a.get('n').float32(), [-3, 2 ** 40], TOL.exact);
  throwsWith(() => a.get('n').int32(), /hand\.safetensors: tensor "n".*1099511627776 does not fit in int32/, 'int32 overflow');
  assertClose('h', a.get('h').float32(), [1, -2], TOL.exact);
  throwsWith(() => a.get('missing'), /hand\.safetensors: no tensor named "missing"/, 'missing');
  assert.ok(a.has('h') && !a.has('x'));
});

s('encoder output checked field by field', () => {
  const file = encodeSafetensors({
    'b': { dtype: 'F32', shape: [3], data: [1, 2, 3] },
    'a': { dtype: 'I64', shape: [1], data: [-7] },
    'c': { dtype: 'U8', shape: [2, 1], data: [9, 255] },
  }, { format: 'pt' });
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  assert.is(n % 8, 0, 'header padded to 8 bytes');
  const text = new TextDecoder().decode(file.subarray(8, 8 + n));
  assert.ok(/^\{.*\} *$/.test(text), 'JSON then spaces');
  const h = JSON.parse(text);
  assert.equal(h.__metadata__, { format: 'pt' });
  // Order: 8-byte dtypes first, then 4, then 1.
  assert.equal(h.a, { dtype: 'I64', shape: [1], data_offsets: [0, 8] });
  assert.equal(h.b, { dtype: 'F32', shape: [3], data_offsets: [8, 20] });
  assert.equal(h.c, { dtype: 'U8', shape: [2, 1], data_offsets: [20, 22] });
  assert.is(file.length, 8 + n + 22);
  const d = 8 + n;
  assert.is(dv.getBigInt64(d, true), -7n);
  assert.equal([dv.getFloat32(d + 8, true), dv.getFloat32(d + 12, true), dv.getFloat32(d + 16, true)], [1, 2, 3]);
  assert.equal([file[d + 20], file[d + 21]], [9, 255]);
  // Without metadata there is no __metadata__ key.
  const bare = decodeSafetensors(encodeSafetensors({ x: { dtype: 'F32', shape: [], data: [1] } }));
  assert.equal(bare.metadata, {});
});

/** Random values exactly representable in `dtype`, plus the value list the decoder must return. */
function sample(dtype: SafetensorsDType, n: number, seed: number): { data: TensorSpec['data']; want: number[] | bigint[] } {
  const r = rng(seed);
  const ints = (lo: number, hi: number) => Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
  switch (dtype) {
    case 'F64': { const v = Array.from({ length: n }, () => (r() - 0.5) * 1e6); return { data: Float64Array.from(v), want: v }; }
    case 'F32': { const v = Float32Array.from({ length: n }, () => (r() - 0.5) * 100); return { data: v, want: [...v] }; }
    case 'F16': { const v = ints(-2048, 2048).map((x) => x / 64); return { data: v, want: v }; }
    case 'BF16': { const v = ints(-255, 255).map((x) => x * 2 ** (Math.floor(r() * 20) - 10)); return { data: Float32Array.from(v), want: v }; }
    case 'I64': { const v = Array.from({ length: n }, () => BigInt(ints(-1e9, 1e9)[0]) * 3000000007n); return { data: BigInt64Array.from(v), want: v }; }
    case 'U64': { const v = Array.from({ length: n }, () => BigInt(ints(0, 1e9)[0]) * 18000000007n); return { data: BigUint64Array.from(v), want: v }; }
    case 'I32': { const v = ints(-2147483648, 2147483647); return { data: Int32Array.from(v), want: v }; }
    case 'U32': { const v = ints(0, 4294967295); return { data: v, want: v }; }
    case 'I16': { const v = ints(-32768, 32767); return { data: v, want: v }; }
    case 'U16': { const v = ints(0, 65535); return { data: Uint16Array.from(v), want: v }; }
    case 'I8': { const v = ints(-128, 127); return { data: Int8Array.from(v), want: v }; }
    case 'U8': { const v = ints(0, 255); return { data: Uint8Array.from(v), want: v }; }
    case 'BOOL': { const v = ints(0, 1); return { data: v.map((x) => x === 1), want: v }; }
  }
}

s('round trip of every dtype, every shape kind, with metadata', () => {
  const dtypes = Object.keys(DTYPE_SIZE) as SafetensorsDType[];
  const shapes: number[][] = [[], [1], [7], [3, 5], [2, 3, 4], [0, 3], [65]];
  const specs: Record<string, TensorSpec> = {};
  const wants: Record<string, number[] | bigint[]> = {};
  let seed = 1;
  for (const dt of dtypes) for (const sh of shapes) {
    const n = sh.reduce((a, b) => a * b, 1);
    const { data, want } = sample(dt, n, seed++);
    const name = `t.${dt}.${sh.join('x') || 'scalar'}`;
    specs[name] = { dtype: dt, shape: sh, data };
    wants[name] = want;
  }
  specs['0'] = { dtype: 'F32', shape: [1], data: [42] }; // integer-like name
  wants['0'] = [42];
  const meta = { format: 'pt', 'ünïcode key': 'välue ✓', empty: '' };
  const file = encodeSafetensors(specs, meta);
  const a = decodeSafetensors(file, 'roundtrip');
  assert.equal(a.metadata, meta);
  assert.is(a.tensors.size, Object.keys(specs).length);
  for (const [name, spec] of Object.entries(specs)) {
    const t = a.get(name);
    assert.is(t.dtype, spec.dtype, name);
    assert.equal([...t.shape], [...spec.shape], name);
    assert.is(t.bytes.length, t.size * DTYPE_SIZE[spec.dtype], name);
    const got = t.data();
    const want = wants[name];
    if (typeof want[0] === 'bigint') assert.equal([...(got as BigInt64Array)], want, name);
    else assertClose(name, got as ArrayLike<number>, want as number[], TOL.exact);
    // Every tensor starts naturally aligned in the file.
    assert.is((t.bytes.byteOffset) % DTYPE_SIZE[spec.dtype], 0, `${name} aligned`);
  }
  // Checked conversions.
  assertClose('U16 -> int32', a.get('t.U16.7').int32(), wants['t.U16.7'] as number[], TOL.exact);
  assertClose('I8 -> f64', a.get('t.I8.3x5').float64(), wants['t.I8.3x5'] as number[], TOL.exact);
  throwsWith(() => a.get('t.F32.7').int32(), /floating-point tensor/, 'float to int32');
  throwsWith(() => a.get('t.U64.7').float32(), /not exactly representable/, 'u64 to f32');
});

s('reading is zero-copy when aligned and correct when not', () => {
  const file = encodeSafetensors({ w: { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] }, i: { dtype: 'I64', shape: [2], data: [5n, -6n] } });
  const a = decodeSafetensors(file);
  const w = a.get('w').float32();
  assert.is(w.buffer, file.buffer, 'F32 view shares the file buffer');
  assert.is(a.get('i').bigint64().buffer, file.buffer, 'I64 view shares the file buffer');
  // Shift the whole file by 1 byte: views are impossible, copies must give the same values.
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  const b = decodeSafetensors(shifted.subarray(1));
  const w2 = b.get('w').float32();
  assert.is.not(w2.buffer, shifted.buffer);
  assertClose('shifted', w2, [1, 2, 3, 4], TOL.exact);
  assert.equal([...b.get('i').bigint64()], [5n, -6n]);
  // A view sees writes to the file buffer (proves no copy was made).
  new DataView(file.buffer).setFloat32(a.get('w').bytes.byteOffset, 9, true);
  assert.is(w[0], 9);
});

s('fixture written by Python (json.dumps spacing, insertion order, unaligned I64)', () => {
  const file = new Uint8Array(readFileSync(join(fixtures, 'python_written.safetensors')));
  const want = JSON.parse(readFileSync(join(fixtures, 'python_written.safetensors.json'), 'utf8'));
  const a = decodeSafetensors(file, 'python_written.safetensors');
  assert.equal(a.metadata, want.metadata);
  assert.equal(a.names, want.order, 'file order');
  for (const [name, w] of Object.entries<any>(want.tensors)) {
    const t = a.get(name);
    assert.is(t.dtype, w.dtype, name);
    assert.equal([...t.shape], w.shape, name);
    if (w.dtype === 'I64' || w.dtype === 'U64' || w.dtype === 'I32' || w.dtype === 'U32' || w.dtype === 'U8') {
      assert.equal([...t.bigint64()].map(String), w.values, name);
    } else if (w.dtype === 'BOOL') {
      assert.equal([...(t.data() as Uint8Array)], w.values, name);
    } else {
      const got = w.dtype === 'F64' ? t.float64() : t.float32();
      assertClose(name, got, (w.values as string[]).map(Number), TOL.exact);
    }
  }
});

s('F16 and BF16 conversions match a brute-force nearest-value reference', () => {
  // Reference F16: all finite positive patterns, sorted by value; nearest with ties to even mantissa.
  const pos: { v: number; h: number }[] = [];
  for (let h = 0; h < 0x7c00; h++) pos.push({ v: f16BitsToF32(h), h });
  for (let i = 1; i < pos.length; i++) assert.ok(pos[i].v > pos[i - 1].v, 'F16 decode monotone');
  assertClose('F16 decode spot values', [0x3c00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xc000].map(f16BitsToF32),
    [1, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, -2], TOL.exact);
  const refF16 = (x: number): number => {
    const ax = Math.abs(Math.fround(x));
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    const maxHalf = 65504 + 16; // halfway to the next (infinite) step
    if (ax >= maxHalf) return sign | 0x7c00;
    let lo = 0, hi = pos.length - 1;
    while (hi - lo > 1) { const m = (lo + hi) >> 1; if (pos[m].v <= ax) lo = m; else hi = m; }
    const dl = ax - pos[lo].v, dh = pos[hi].v - ax;
    const pick = dl < dh ? lo : dh < dl ? hi : (pos[lo].h & 1 ? hi : lo);
    return sign | pos[pick].h;
  };
  const r = rng(99);
  const xs: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
  for (let i = 0; i < 20000; i++) xs.push((r() - 0.5) * 2 ** (Math.floor(r() * 44) - 28));
  for (let i = 0; i < 2000; i++) { const h = Math.floor(r() * 0x7c00); xs.push((f16BitsToF32(h) + f16BitsToF32(h + 1)) / 2); } // exact ties
  for (const x of xs) assert.is(f32ToF16Bits(x), refF16(x), `f16(${x})`);
  assert.is(f32ToF16Bits(Infinity), 0x7c00);
  assert.is(f32ToF16Bits(-Infinity), 0xfc00);
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  // BF16: the candidates are the truncation and the next step up.
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < 20000; i++) {
    f[0] = (r() - 0.5) * 2 ** (Math.floor(r() * 80) - 40);
    const x = f[0];
    const t = u[0] >>> 16;
    const a = bf16BitsToF32(t), b = bf16BitsToF32(t + 1);
    const da = Math.abs(x - a), db = Math.abs(b - x);
    const want = da < db ? t : db < da ? t + 1 : (t & 1 ? t + 1 : t);
    assert.is(f32ToBf16Bits(x), want, `bf16(${x})`);
  }
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.is(bf16BitsToF32(f32ToBf16Bits(Infinity)), Infinity);
  // Through the file: F16 and BF16 tensors written from floats decode to the rounded values.
  const vals = [0.1, -3.14159, 70000, 1e-8];
  const a = decodeSafetensors(encodeSafetensors({ h: { dtype: 'F16', shape: [4], data: vals }, b: { dtype: 'BF16', shape: [4], data: vals } }));
  assertClose('f16 file', a.get('h').float32(), vals.map((v) => f16BitsToF32(refF16(v))), TOL.exact);
  assertClose('bf16 file', a.get('b').float32(), [0.10009765625, -3.140625, 70144, 1.0011717677116394e-8], TOL.exact);
});

s('corrupt or invalid files get named errors', () => {
  const good = handBuilt();
  const src = 'bad.safetensors';
  const dec = (b: Uint8Array) => () => decodeSafetensors(b, src);
  const f32 = (entries: string, dataLen: number) => handFile(`{${entries}}`, new Uint8Array(dataLen));
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', good.subarray(0, 5), /bad\.safetensors: .*5 bytes is too short/],
    ['header past end', good.subarray(0, 20), /bad\.safetensors: .*header length \d+ runs past the end of the file \(20 bytes; truncated\?\)/],
    ['absurd header length', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /exceeds the 100000000-byte limit/],
    ['not JSON', handFile('{"w": {"dtype": "F32",', new Uint8Array(0)), /bad\.safetensors: .*header is not valid JSON/],
    ['not an object', handFile('[1, 2]', new Uint8Array(0)), /does not start with '\{'/],
    ['bad UTF-8', (() => { const b = handFile('{"\u00e9":1}', new Uint8Array(0)); b[11] = 0xff; return b; })(), /not valid UTF-8/],
    ['entry not an object', f32('"w":3', 0), /tensor "w": entry is not an object/],
    ['unknown dtype', f32('"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}', 4), /tensor "w": unknown dtype "F17"/],
    ['unsupported dtype', f32('"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}', 4), /tensor "w": dtype F8_E4M3 is not supported/],
    ['missing dtype', f32('"w":{"shape":[1],"data_offsets":[0,4]}', 4), /tensor "w": missing "dtype"/],
    ['negative shape', f32('"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}', 4), /"shape" must be an array of non-negative integers/],
    ['fractional shape', f32('"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}', 4), /"shape" must be/],
    ['offsets not a pair', f32('"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}', 4), /"data_offsets" must be \[begin, end\]/],
    ['reversed offsets', f32('"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}', 4), /data_offsets \[4, 0\] end before they begin/],
    ['size mismatch', f32('"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}', 12), /tensor "w": data_offsets \[0, 12\] span 12 bytes but F32 \[2, 2\] needs 16/],
    ['overlap', f32('"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}', 12), /tensor "b": data_offsets \[4, 12\] overlap tensor "a"/],
    ['gap', f32('"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}', 12), /gap of 4 bytes before tensor "b"/],
    ['out of range', f32('"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}', 8), /tensor "a": data_offsets \[0, 16\] run past the end of the data section \(8 bytes; truncated\?\)/],
    ['trailing bytes', f32('"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}', 12), /8 trailing bytes after the last tensor/],
    ['metadata not strings', f32('"__metadata__":{"step":3}', 0), /"__metadata__" value for "step" is 3, expected a string/],
    ['metadata not object', f32('"__metadata__":"x"', 0), /"__metadata__" is not an object/],
    ['truncated real file', good.subarray(0, good.length - 3), /tensor "h": data_offsets \[32, 36\] run past the end of the data section \(33 bytes/],
  ];
  for (const [label, bytes, re] of cases) throwsWith(dec(bytes), re, label);
  // The source name prefixes every error.
  throwsWith(dec(good.subarray(0, 20)), /^bad\.safetensors: /, 'source prefix');
  // BOOL bytes other than 0/1 are rejected when read.
  const boolFile = handFile('{"f":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}', Uint8Array.from([0, 1, 2]));
  throwsWith(() => decodeSafetensors(boolFile, 'b.st').get('f').data(), /b\.st: tensor "f".*element 2 has byte value 2/, 'bool');
  // Header-only validation of a large file from its prefix.
  const h = parseSafetensorsHeader(good.subarray(0, 8 + Number(new DataView(good.buffer).getBigUint64(0, true))), 'prefix', good.length);
  assert.equal(h.entries.map((e) => [e.name, e.begin, e.end]), [['w', 0, 16], ['n', 16, 32], ['h', 32, 36]]);
  throwsWith(() => parseSafetensorsHeader(good, 'prefix', good.length - 1), /run past the end of the data section/, 'prefix truncated');
});

s('encoder rejects bad input with named errors', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['length', () => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } }), /tensor "w" \(F32 \[2, 2\]\): data has 3 elements, shape needs 4/],
    ['int range', () => encodeSafetensors({ i: { dtype: 'U8', shape: [2], data: [1, 256] } }), /tensor "i".*element 1 = 256 is not an integer in \[0, 255\]/],
    ['fraction', () => encodeSafetensors({ i: { dtype: 'I32', shape: [1], data: [0.5] } }), /element 0 = 0.5 is not an integer/],
    ['i64 unsafe', () => encodeSafetensors({ i: { dtype: 'I64', shape: [1], data: [2 ** 60] } }), /not an exact integer/],
    ['i64 range', () => encodeSafetensors({ i: { dtype: 'I64', shape: [1], data: [2n ** 63n] } }), /out of range for I64/],
    ['dtype', () => encodeSafetensors({ x: { dtype: 'F8' as SafetensorsDType, shape: [1], data: [1] } }), /tensor "x": unknown dtype "F8"/],
    ['shape', () => encodeSafetensors({ x: { dtype: 'F32', shape: [-1], data: [] } }), /shape must be an array of non-negative integers/],
    ['reserved', () => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: [1] } }), /reserved/],
    ['duplicate', () => encodeSafetensors([['a', { dtype: 'F32', shape: [1], data: [1] }], ['a', { dtype: 'F32', shape: [1], data: [1] }]]), /tensor "a": duplicate name/],
    ['raw length', () => encodeSafetensors({ r: { dtype: 'F32', shape: [2], raw: new Uint8Array(7) } }), /raw has 7 bytes, expected 8/],
    ['no data', () => encodeSafetensors({ r: { dtype: 'F32', shape: [2] } }), /neither data nor raw/],
    ['metadata', () => encodeSafetensors({}, { a: 3 as unknown as string }), /metadata value for "a"/],
  ];
  for (const [label, fn, re] of cases) throwsWith(fn, re, label);
  // raw bytes pass through unchanged; an empty file (no tensors) is valid.
  const raw = Uint8Array.from([0, 0, 0x80, 0x3f]);
  assertClose('raw', decodeSafetensors(encodeSafetensors({ r: { dtype: 'F32', shape: [1], raw } })).get('r').float32(), [1], TOL.exact);
  assert.is(decodeSafetensors(encodeSafetensors({})).tensors.size, 0);
});

s.run();
