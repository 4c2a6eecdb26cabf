import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, type NpyData } from '../../src/io/npy.ts';
import { throwsWith, assertClose, randn, TOL } from '../util/compare.ts';

const s = suite('npy');
const dir = join(import.meta.dirname, '..', 'fixtures', 'io', 'npy');
const load = (name: string) => new Uint8Array(readFileSync(join(dir, name)));


function headerOf(b: Uint8Array): { version: number; text: string; dataStart: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = b[6];
  const len = version === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = version === 1 ? 10 : 12;
  return { version, text: String.fromCharCode(...b.subarray(start, start + len)), dataStart: start + len };
}

s('writer output: magic, v1.0 header dict, 64-byte alignment, C-order little-endian data', () => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const b = encodeNpy(data, [2, 3]);
  assert.equal([...b.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const h = headerOf(b);
  assert.is(h.dataStart % 64, 0);
  assert.ok(h.text.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), h.text);
  assert.ok(h.text.endsWith('\n'));
  const dv = new DataView(b.buffer);
  assert.equal([0, 1, 2, 3, 4, 5].map((i) => dv.getFloat32(h.dataStart + 4 * i, true)), [1, 2, 3, 4, 5, 6]);
  assert.ok(headerOf(encodeNpy(Float32Array.from([7]))).text.includes("'shape': (1,)"), '1-D tuple has a trailing comma');
  assert.ok(headerOf(encodeNpy(Float32Array.from([7]), [])).text.includes("'shape': ()"), '0-D');
});

s('round trip of every writable type and shape', () => {
  const base = randn(24, 5, -1000, 1000);
  const ints = Array.from(base, Math.round);
  const cases: [NpyData, string][] = [
    [Float32Array.from(base), '<f4'], [Float64Array.from(base), '<f8'], [Int32Array.from(ints), '<i4'],
    [Uint32Array.from(ints.map(Math.abs)), '<u4'], [BigInt64Array.from(ints.map((v) => BigInt(v) * 10000000000n)), '<i8'],
    [BigUint64Array.from(ints.map((v) => BigInt(Math.abs(v)))), '<u8'], [Int16Array.from(ints), '<i2'],
    [Uint16Array.from(ints.map(Math.abs)), '<u2'], [Int8Array.from(ints.map((v) => v % 128)), '|i1'], [Uint8Array.from(ints.map((v) => Math.abs(v) % 256)), '|u1'],
  ];
  for (const [data, descr] of cases) {
    for (const shape of [[24], [2, 3, 4], [4, 6], [1, 24, 1]]) {
      const a = decodeNpy(encodeNpy(data, shape), descr);
      assert.is(a.descr, descr);
      assert.equal(a.shape, shape);
      assert.is(a.data.constructor, data.constructor, descr);
      assert.equal([...a.data as ArrayLike<number | bigint> as number[]], [...data as ArrayLike<number | bigint> as number[]], `${descr} ${shape}`);
    }
  }
  const empty = decodeNpy(encodeNpy(new Float32Array(0), [0, 3]));
  assert.equal(empty.shape, [0, 3]);
  assert.is(empty.data.length, 0);
  throwsWith(() => encodeNpy(new Float32Array(5), [2, 3]), /shape \[2, 3\] holds 6 elements but the data has 5/, 'shape mismatch');
});

s('a header too large for v1.0 switches to v2.0', () => {
  const shape = Array.from({ length: 25000 }, () => 1); // 25000-dimensional array of one element: header > 65535 bytes
  const b = encodeNpy(Float64Array.from([3.5]), shape);
  const h = headerOf(b);
  assert.is(h.version, 2);
  assert.is(h.dataStart % 64, 0);
  const a = decodeNpy(b);
  assert.is(a.shape.length, 25000);
  assert.equal([...a.data as Float64Array], [3.5]);
});

s('numpy-written fixtures decode exactly', () => {
  const want = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  for (const [name, w] of Object.entries<any>(want)) {
    const a = decodeNpy(load(`${name}.npy`), `${name}.npy`);
    assert.is(a.descr, w.descr, name);
    assert.equal(a.shape, w.shape, name);
    if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array || /[iu]/.test(a.dtype)) {
      assert.equal([...(a.data as ArrayLike<number | bigint> as number[])].map(String), w.values, name);
    } else if (a.dtype === 'b1') {
      assert.equal([...(a.data as Uint8Array)], w.values, name);
    } else {
      assertClose(name, a.data as ArrayLike<number>, (w.values as string[]).map(Number), TOL.exact);
    }
  }
  // Our writer and numpy agree byte for byte on a simple array (header dict, padding and data).
  const f4 = decodeNpy(load('f4_2d.npy'));
  assert.equal([...encodeNpy(f4.data, f4.shape)], [...load('f4_2d.npy')]);
});

s('bad files get clear errors naming the source', () => {
  throwsWith(() => decodeNpy(load('bad_fortran.npy'), 'bad_fortran.npy'), /^bad_fortran\.npy: .*Fortran-order \(column-major\) arrays are not supported/, 'fortran');
  throwsWith(() => decodeNpy(load('bad_structured.npy'), 's.npy'), /s\.npy: .*structured dtype/, 'structured');
  throwsWith(() => decodeNpy(load('bad_complex.npy'), 'c.npy'), /c\.npy: .*dtype '<c8' is not supported/, 'complex');
  const good = load('f4_2d.npy');
  throwsWith(() => decodeNpy(good.subarray(0, good.length - 4), 't.npy'), /t\.npy: .*data is 44 bytes but '<f4' shape \(3, 4\) needs 48 \(truncated\?\)/, 'truncated data');
  throwsWith(() => decodeNpy(good.subarray(0, 40), 't.npy'), /header length \d+ runs past the end of the file/, 'truncated header');
  const extra = new Uint8Array(good.length + 4); extra.set(good);
  throwsWith(() => decodeNpy(extra, 'x.npy'), /4 unexpected trailing bytes/, 'trailing');
  throwsWith(() => decodeNpy(new TextEncoder().encode('PK\x03\x04 not npy at all'), 'z.npy'), /z\.npy: .*magic/, 'magic');
  const v9 = good.slice(); v9[6] = 9;
  throwsWith(() => decodeNpy(v9, 'v.npy'), /unsupported format version 9\.0/, 'version');
  const mangled = good.slice(); mangled[10] = 0x3f; // '?' instead of the dict's '{'
  throwsWith(() => decodeNpy(mangled, 'm.npy'), /m\.npy: invalid \.npy file: bad header/, 'mangled header');
});

s.run();
