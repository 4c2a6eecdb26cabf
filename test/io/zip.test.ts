import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deflateSync, zipSync } from 'fflate';
import { crc32, ZipArchive } from '../../src/io/zip.ts';
import { throwsWith } from '../util/compare.ts';

const s = suite('zip');
const enc = new TextEncoder();


/**
 * A one-entry archive written by hand with every ZIP64 field (APPNOTE 4.3.14-4.3.16, 4.5.3): the central directory
 * stores 0xFFFFFFFF for the sizes and the offset and the real values in the 0x0001 extra field; a ZIP64 end record
 * and its locator precede the classic end record. Optionally deflated.
 */
function zip64(name: string, data: Uint8Array, deflate = false): Uint8Array {
  const body = deflate ? deflateSync(data) : data;
  const nm = enc.encode(name);
  const out: number[] = [];
  const u16 = (v: number) => out.push(v & 255, (v >>> 8) & 255);
  const u32 = (v: number) => { u16(v & 0xffff); u16(v >>> 16); };
  const u64 = (v: number) => { u32(v); u32(0); };
  const crc = crc32(data);
  // local header (with the padding byte 0x7 that some writers use, to check the extra length is honoured)
  u32(0x04034b50); u16(45); u16(0); u16(deflate ? 8 : 0); u16(0); u16(0); u32(crc); u32(body.length); u32(data.length);
  u16(nm.length); u16(3); out.push(...nm, 7, 7, 7); out.push(...body);
  const cd = out.length;
  u32(0x02014b50); u16(45); u16(45); u16(0); u16(deflate ? 8 : 0); u16(0); u16(0); u32(crc); u32(0xffffffff); u32(0xffffffff);
  u16(nm.length); u16(28); u16(0); u16(0); u16(0); u32(0); u32(0xffffffff); out.push(...nm);
  u16(0x0001); u16(24); u64(data.length); u64(body.length); u64(0);
  const cdSize = out.length - cd;
  const z = out.length;
  u32(0x06064b50); u64(44); u16(45); u16(45); u32(0); u32(0); u64(1); u64(1); u64(cdSize); u64(cd);
  u32(0x07064b50); u32(0); u64(z); u32(1);
  u32(0x06054b50); u16(0); u16(0); u16(0xffff); u16(0xffff); u32(0xffffffff); u32(0xffffffff); u16(0);
  return Uint8Array.from(out);
}

s('crc32 matches the standard check value and continues across calls', () => {
  assert.is(crc32(enc.encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
  const big = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
  assert.is(crc32(big.subarray(300), crc32(big.subarray(0, 300))), crc32(big), 'incremental');
});

s('ZIP64 fields (sizes and offset in the extra field, ZIP64 end record), stored and deflated', () => {
  const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 251);
  for (const deflate of [false, true]) {
    const z = ZipArchive.open(zip64('arc/data/0', data, deflate), 'z64.zip');
    assert.equal(z.names, ['arc/data/0']);
    const e = z.entries.get('arc/data/0')!;
    assert.is(e.size, 5000);
    assert.is(e.method, deflate ? 8 : 0);
    assert.equal(z.read('arc/data/0'), data);
  }
});

s('stored entries are views of the archive; deflated ones are inflated; CRC errors are reported', () => {
  const a = enc.encode('hello world '.repeat(50));
  const zs = zipSync({ 'x/a': a }, { level: 0 });
  const z = ZipArchive.open(zs, 'stored.zip');
  const got = z.read('x/a');
  assert.ok(got.buffer === zs.buffer, 'zero-copy');
  assert.equal(got, a);
  const zd = zipSync({ 'x/a': a }, { level: 6 });
  assert.ok(zd.length < zs.length, 'the fixture is compressed');
  assert.equal(ZipArchive.open(zd).read('x/a'), a);
  const bad = zs.slice();
  bad[bad.indexOf(0x68 /* h */, 30)] ^= 0x20;
  throwsWith(() => ZipArchive.open(bad, 'bad.zip').read('x/a'), /^bad\.zip: ZIP entry "x\/a": CRC-32 mismatch/, 'crc');
  assert.is(ZipArchive.open(bad, 'bad.zip', { verifyCrc: false }).read('x/a')[0], 0x48);
  // A damaged deflate stream: fflate's error is wrapped with the file and entry.
  const dd = zd.slice();
  const start = 30 + 3;
  for (let i = start; i < start + 20; i++) dd[i] ^= 0xff;
  throwsWith(() => ZipArchive.open(dd, 'dd.zip').read('x/a'), /^dd\.zip: ZIP entry "x\/a": (cannot inflate|CRC-32 mismatch|inflated to)/, 'inflate');
  throwsWith(() => z.read('x/b'), /^stored\.zip: ZIP entry "x\/b": not found/, 'missing entry');
  throwsWith(() => ZipArchive.open(new Uint8Array(10), 'tiny'), /^tiny: not a ZIP archive \(10 bytes, too short\)/, 'tiny');
  throwsWith(() => ZipArchive.open(zs.subarray(0, zs.length - 5), 'cut.zip'), /^cut\.zip: truncated ZIP archive/, 'cut');
});

s.run();
