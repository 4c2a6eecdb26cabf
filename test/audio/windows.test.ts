import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FRAME_SECONDS, WINDOW_SAMPLES, cutWindows, frameInterval } from '../../src/audio/windows.ts';
import { randn } from '../util/compare.ts';

const s = suite('windows');

function checkWindow(w: ReturnType<typeof cutWindows>[number], src: ArrayLike<number>, startSample: number) {
  assert.is(w.samples.length, WINDOW_SAMPLES);
  assert.is(w.startSample, startSample);
  assert.is(w.start, startSample / 48000);
  const valid = Math.min(WINDOW_SAMPLES, src.length - startSample);
  assert.is(w.validSamples, valid);
  for (let i = 0; i < WINDOW_SAMPLES; i++) {
    const want = i < valid ? Math.fround(src[startSample + i]) : 0;
    if (w.samples[i] !== want) assert.unreachable(`window at ${startSample}: [${i}] = ${w.samples[i]}, want ${want}`);
  }
}

s('short audio is zero-padded to 480000 samples, never stretched', () => {
  const x = randn(1000, 1);
  const ws = cutWindows(x);
  assert.is(ws.length, 1);
  checkWindow(ws[0], x, 0);
  assert.is(ws[0].start, 0);
});

s('exactly 480000 samples: one window; one more sample: a second, padded window at 10 s', () => {
  const x = randn(WINDOW_SAMPLES + 1, 2);
  const one = cutWindows(x.subarray(0, WINDOW_SAMPLES));
  assert.is(one.length, 1);
  assert.is(one[0].validSamples, WINDOW_SAMPLES);
  const two = cutWindows(x);
  assert.is(two.length, 2);
  checkWindow(two[0], x, 0);
  checkWindow(two[1], x, WINDOW_SAMPLES);
  assert.is(two[1].start, 10);
  assert.is(two[1].validSamples, 1);
});

s('overlapping hop: windows every 5 s until one reaches the end', () => {
  const x = randn(1_500_000, 3);
  const ws = cutWindows(x, { hop: 240000 });
  // starts 0, 240k, ..., 1.2M: 1.2M + 480k >= 1.5M ends the cut
  assert.equal(ws.map((w) => w.start), [0, 5, 10, 15, 20, 25]);
  ws.forEach((w, i) => { assert.is(w.index, i); checkWindow(w, x, i * 240000); });
  // A window that ends exactly at the end of the audio is the last one (no all-padding tail window).
  const y = randn(720000, 6);
  const wy = cutWindows(y, { hop: 240000 });
  assert.equal(wy.map((w) => w.validSamples), [480000, 480000]);
  wy.forEach((w, i) => checkWindow(w, y, i * 240000));
});

s('hop larger than the window skips audio; custom window length and sample rate', () => {
  const x = randn(1000, 4);
  const ws = cutWindows(x, { windowSamples: 100, hop: 300, sampleRate: 100 });
  assert.equal(ws.map((w) => w.startSample), [0, 300, 600, 900]);
  assert.equal(ws.map((w) => w.start), [0, 3, 6, 9]);
  assert.is(ws[3].validSamples, 100);
  const ws2 = cutWindows(randn(950, 5), { windowSamples: 100, hop: 300 });
  assert.equal(ws2.map((w) => w.validSamples), [100, 100, 100, 50]);
});

s('zero-length audio and bad hops are errors naming the source', () => {
  assert.throws(() => cutWindows(new Float32Array(0), { name: 'clip.wav' }), /^clip\.wav: zero-length audio/);
  assert.throws(() => cutWindows(new Float32Array(5), { hop: 0 }), /hop 0/);
  assert.throws(() => cutWindows(new Float32Array(5), { hop: 2.5 }), /hop 2\.5/);
});

s('frameInterval: frame l of a window starting at s covers [s + 0.3125 l, s + 0.3125 (l + 1))', () => {
  assert.is(FRAME_SECONDS, 0.3125);
  assert.equal(frameInterval(0, 0), [0, 0.3125]);
  assert.equal(frameInterval(12.5, 3), [12.5 + 0.9375, 12.5 + 1.25]);
  // 32 frames tile the 10 s window exactly, each ending where the next begins.
  for (let l = 0; l < 31; l++) assert.is(frameInterval(20, l)[1], frameInterval(20, l + 1)[0]);
  assert.is(frameInterval(20, 31)[1], 30);
  const ws = cutWindows(new Float32Array(600000), { hop: 240000 });
  assert.equal(frameInterval(ws[1].start, 2), [5.625, 5.9375]);
});

s.run();
