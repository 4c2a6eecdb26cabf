import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { gunzip, isGzip } from '../../src/io/gzip.ts';
import { rng } from '../util/compare.ts';

const s = suite('gzip');

s('gunzip inverts node:zlib gzip for empty, small and large inputs', async () => {
  const r = rng(5);
  for (const n of [0, 1, 100, 70000, 1 << 20]) {
    // Compressible but not trivial: random bytes from a small alphabet.
    const data = Uint8Array.from({ length: n }, () => 97 + Math.floor(r() * 6));
    const gz = new Uint8Array(gzipSync(data));
    assert.ok(isGzip(gz));
    const back = await gunzip(gz);
    assert.is(back.length, n);
    assert.ok(back.every((v, i) => v === data[i]), `length ${n}`);
  }
});

s('non-gzip and corrupt input are rejected with the source named', async () => {
  assert.not.ok(isGzip(new TextEncoder().encode('{"a": 1}')));
  for (const [bytes, re] of [
    [new TextEncoder().encode('plain text'), /vocab\.json\.gz: not gzip data/],
    [new Uint8Array(gzipSync(Buffer.alloc(5000, 1))).subarray(0, 20), /vocab\.json\.gz: corrupt or truncated gzip data/],
  ] as [Uint8Array, RegExp][]) {
    try { await gunzip(bytes, 'vocab.json.gz'); assert.unreachable('no error'); }
    catch (e) { assert.match((e as Error).message, re); }
  }
  // A flipped byte in the deflate stream or the CRC is detected.
  const gz = new Uint8Array(gzipSync(Buffer.from('hello hello hello hello')));
  gz[gz.length - 6] ^= 0xff; // inside the CRC32 trailer
  try { await gunzip(gz, 'x.gz'); assert.unreachable('no error'); }
  catch (e) { assert.match((e as Error).message, /x\.gz: corrupt or truncated gzip data/); }
});

s.run();
