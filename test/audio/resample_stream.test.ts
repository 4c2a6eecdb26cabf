// Incremental resampling (StreamResampler): a signal pushed in chunks of any size gives exactly resample() of the
// whole signal, on the identity, exact polyphase and interpolated paths; output is released with a bounded delay.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamResampler, resample } from '../../src/audio/resample.ts';
import { randn } from '../util/compare.ts';

const s = suite('resample_stream');

/** Deterministic chunk sizes in [1, max]. */
function chunkSizes(total: number, max: number, seed: number): number[] {
  const out: number[] = [];
  let x = seed >>> 0, left = total;
  while (left > 0) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const n = Math.min(left, 1 + (x % max));
    out.push(n); left -= n;
  }
  return out;
}

function pushAll(r: StreamResampler, x: Float32Array, sizes: number[]): Float32Array {
  const parts: Float32Array[] = [];
  let at = 0;
  for (const n of sizes) { parts.push(r.push(x.subarray(at, at + n))); at += n; }
  parts.push(r.end());
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

for (const rate of [48000, 44100, 16000, 22050, 8000, 44100.5]) {
  s(`chunks of any size equal resample() of the whole signal bit for bit (${rate} Hz -> 48 kHz)`, () => {
    const n = Math.round(rate * 0.37) + 3;
    const x = Float32Array.from(randn(n, Math.round(rate)));
    const ref = resample(x, rate, 48000);
    for (const [max, seed] of [[1, 1], [7, 2], [480, 3], [5000, 4], [n, 5]] as const) {
      const r = new StreamResampler(rate, 48000);
      const got = pushAll(r, x, chunkSizes(n, max, seed));
      assert.is(got.length, ref.length, `length (chunks <= ${max})`);
      let bad = -1;
      for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) { bad = i; break; }
      assert.is(bad, -1, `first mismatch at ${bad} (chunks <= ${max}): ${got[bad]} vs ${ref[bad]}`);
    }
    const kind = new StreamResampler(rate).r.kind;
    assert.is(kind, rate === 48000 ? 'identity' : Number.isInteger(rate) ? 'polyphase' : 'interpolated');
  });
}

s('releases output with a delay of at most the filter half-width (plus one sample)', () => {
  for (const rate of [44100, 16000]) {
    const r = new StreamResampler(rate, 48000);
    const x = new Float32Array(rate); // 1 s
    let out = 0;
    for (let i = 0; i < x.length; i += 441) {
      out += r.push(x.subarray(i, i + 441)).length;
      const inSec = Math.min(x.length, i + 441) / rate, outSec = out / 48000;
      const delay = inSec - outSec;
      assert.ok(delay <= (r.r.halfWidth + 2) / rate + 1 / 48000, `${rate} Hz: output lags input by ${(delay * 1000).toFixed(2)} ms, half-width ${(r.r.halfWidth / rate * 1000).toFixed(2)} ms`);
      assert.ok(delay >= 0, 'output ahead of input');
    }
  }
});

s('push after end() is an error; end() twice returns nothing', () => {
  const r = new StreamResampler(44100);
  r.push(new Float32Array(1000));
  assert.ok(r.end().length > 0);
  assert.is(r.end().length, 0);
  assert.throws(() => r.push(new Float32Array(1)), /after end/);
});

s.run();
