// Loudness, activity and frame masks (src/data/activity.ts) on signals whose answers are known.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { activeIntervals, AWeighting, frameMask, loudnessDb, windowLevels } from '../../src/data/activity.ts';

const s = suite('data activity');
const SR = 48000;

function sine(f: number, n: number, amp = 1): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * f * i) / SR);
  return x;
}

/** Steady-state gain (dB) of the A filter at f: RMS of the output's second half over the input's. */
function gainDb(w: AWeighting, f: number): number {
  const x = sine(f, SR);
  const y = w.apply(x);
  let a = 0, b = 0;
  for (let i = SR / 2; i < SR; i++) { a += y[i] * y[i]; b += x[i] * x[i]; }
  return 10 * Math.log10(a / b);
}

s('A-weighting matches IEC 61672 within the bilinear-transform error', () => {
  const w = new AWeighting(SR);
  // IEC 61672-1 nominal values (dB); the bilinear transform (no pre-warping) at 48 kHz is exact at 1 kHz by
  // construction and falls below the analog curve towards Nyquist (-1.2 dB at 10 kHz: the 12.2 kHz poles are
  // warped), which is immaterial for activity labels.
  const want: [number, number, number][] = [[100, -19.1, 0.1], [1000, 0, 0.01], [4000, 1.0, 0.3], [10000, -2.5, 1.5]];
  for (const [f, db, tol] of want) {
    const g = gainDb(w, f);
    assert.ok(Math.abs(g - db) <= tol, `${f} Hz: ${g.toFixed(3)} dB, IEC ${db} dB`);
  }
});

s('loudness of a 1 kHz sine of amplitude a is 20 log10(a / sqrt 2), independent of silent padding', () => {
  const x = new Float64Array(SR * 2);
  x.set(sine(1000, SR, 0.1), SR / 2);
  const l = loudnessDb(windowLevels(x));
  assert.ok(Math.abs(l - 20 * Math.log10(0.1 / Math.SQRT2)) < 0.05, `${l}`);
  const y = sine(1000, SR, 0.1);
  assert.ok(Math.abs(loudnessDb(windowLevels(y)) - l) < 0.05);
});

s('active intervals follow the audible extent (floor relative to the loudest window), merge short gaps', () => {
  const x = new Float64Array(SR);
  x.set(sine(1000, 9600, 0.5), 4800); // 0.1 s .. 0.3 s
  x.set(sine(1000, 4800, 0.5), 16800); // 0.35 s .. 0.45 s: 50 ms gap -> separate
  x.set(sine(1000, 4800, 0.5), 22080); // 0.46 .. 0.56: 10 ms gap -> merged with the previous
  x.set(sine(1000, 4800, 0.5e-4), 38400); // 0.8 .. 0.9 at -80 dB: below the -70 dB floor
  const iv = activeIntervals(windowLevels(x), { floorDb: -70 });
  assert.equal(iv, [[4800, 14400], [16800, 26880]]);
  // With a -90 dB floor the quiet tone counts.
  assert.is(activeIntervals(windowLevels(x), { floorDb: -90 }).length, 3);
  // Grid offset: the same sound placed at absolute sample 1000 reports absolute samples, clipped to its range.
  const iv2 = activeIntervals(windowLevels(x.subarray(4800, 14400), { gridOffset: 1000 }), {});
  assert.equal(iv2, [[1000, 10600]]);
  assert.equal(activeIntervals(windowLevels(new Float64Array(1000))), []);
});

s('frame mask: bit l set iff an interval overlaps [15000 l, 15000 (l+1))', () => {
  assert.is(frameMask([[0, 1]], 15000), 1);
  assert.is(frameMask([[14999, 15001]], 15000), 0b11);
  assert.is(frameMask([[15000, 30000]], 15000), 0b10);
  assert.is(frameMask([[0, 480000]], 15000), 0xffffffff);
  assert.is(frameMask([[465000, 480000]], 15000), 0x80000000);
  assert.is(frameMask([[100, 100], [30000, 45001]], 15000), 0b1100);
});

s.run();
