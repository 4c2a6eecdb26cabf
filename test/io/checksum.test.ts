import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { Sha256, sha256, sha256Hex, toHex } from '../../src/io/checksum.ts';
import { rng } from '../util/compare.ts';

const s = suite('checksum');
const utf8 = (t: string) => new TextEncoder().encode(t);

// FIPS 180-2 / NIST CSRC example vectors.
const VECTORS: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1'],
];

s('FIPS 180 vectors', () => {
  for (const [msg, hex] of VECTORS) assert.is(sha256Hex(utf8(msg)), hex, JSON.stringify(msg));
});

s('one million "a" (FIPS long vector), fed in uneven pieces', () => {
  const data = new Uint8Array(1_000_000).fill(0x61);
  assert.is(sha256Hex(data), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  const h = new Sha256();
  let pos = 0, step = 1;
  while (pos < data.length) { const end = Math.min(data.length, pos + step); h.update(data.subarray(pos, end)); pos = end; step = (step * 7 + 3) % 1000 + 1; }
  assert.is(toHex(h.digest()), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

s('random buffers of every length around block boundaries match node:crypto', () => {
  const r = rng(1234);
  const lengths = [1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65537];
  for (let i = 0; i < 40; i++) lengths.push(Math.floor(r() * 5000));
  for (const n of lengths) {
    const buf = new Uint8Array(n);
    for (let i = 0; i < n; i++) buf[i] = Math.floor(r() * 256);
    const want = createHash('sha256').update(buf).digest('hex');
    assert.is(sha256Hex(buf), want, `length ${n}`);
    // A view with a non-zero byteOffset into a larger buffer hashes only its own bytes.
    const big = new Uint8Array(n + 17); big.set(buf, 9);
    assert.is(toHex(sha256(big.subarray(9, 9 + n))), want, `subarray length ${n}`);
    // Split at a random point.
    const cut = Math.floor(r() * (n + 1));
    assert.is(toHex(new Sha256().update(buf.subarray(0, cut)).update(buf.subarray(cut)).digest()), want, `split ${n}@${cut}`);
  }
});

s('a single flipped bit changes the digest', () => {
  const buf = new Uint8Array(300).map((_, i) => i * 31);
  const a = sha256Hex(buf);
  buf[150] ^= 4;
  assert.is.not(sha256Hex(buf), a);
});

s('misuse is reported', () => {
  const h = new Sha256();
  h.digest();
  assert.throws(() => h.digest(), /twice/);
  assert.throws(() => h.update(new Uint8Array(1)), /after digest/);
});

s.run();
