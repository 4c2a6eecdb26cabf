// decodeAudio: WAV / FLAC / Ogg Vorbis / MP3 detected by magic bytes, mixed to mono, resampled to 48 kHz; errors
// that name the file and the problem. Fixtures: test/fixtures/decode/make.sh (sox + lame, < 100 KB each).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeAudio, sniffContainer } from '../../src/audio/decode.ts';
import { readWav, mixToMono, writeWav } from '../../src/audio/wav.ts';
import { resample } from '../../src/audio/resample.ts';

const s = suite('decode');
const DIR = join(import.meta.dirname, '..', 'fixtures', 'decode');
const bytes = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));

/** Reference: the WAV source mixed to mono and resampled to 48 kHz by our resampler. */
const REF = resample(mixToMono(readWav(bytes('tone44k_stereo.wav'))), 44100, 48000);

function snrDb(got: Float32Array, ref: Float32Array, from = 2000, to = 22000): number {
  let e = 0, p = 0;
  for (let i = from; i < to; i++) { e += (got[i] - ref[i]) ** 2; p += ref[i] ** 2; }
  return 10 * Math.log10(p / e);
}

/** Best SNR over small alignment shifts (lossy codecs add delay). */
function bestSnr(got: Float32Array, ref: Float32Array): number {
  let best = -Infinity;
  for (let d = -3000; d <= 3000; d++) {
    const g = got.subarray(Math.max(0, d)), r = ref.subarray(Math.max(0, -d));
    if (g.length < 22000 || r.length < 22000) continue;
    best = Math.max(best, snrDb(g, r));
  }
  return best;
}

s('magic bytes decide the container, not the name', () => {
  assert.is(sniffContainer(bytes('tone44k_stereo.wav')), 'wav');
  assert.is(sniffContainer(bytes('tone44k_stereo.flac')), 'flac');
  assert.is(sniffContainer(bytes('tone44k_stereo.ogg')), 'ogg');
  assert.is(sniffContainer(bytes('tone44k_stereo.mp3')), 'mp3');
  assert.is(sniffContainer(new Uint8Array(16)), null);
});

s('WAV and FLAC (lossless) decode to the same 48 kHz mono samples', async () => {
  const w = await decodeAudio(bytes('tone44k_stereo.wav'), 'a.wav');
  const f = await decodeAudio(bytes('tone44k_stereo.flac'), 'a.mp3'); // misleading name: content decides
  assert.equal(w.source, { container: 'wav', sampleRate: 44100, channels: 2, frames: 22050 });
  assert.equal(f.source, { container: 'flac', sampleRate: 44100, channels: 2, frames: 22050 });
  assert.is(w.sampleRate, 48000);
  assert.is(w.samples.length, 24000);
  // the FLAC decoder scales 16-bit samples by 1/32767 where our WAV reader uses 1/32768 (3e-5 relative)
  for (let i = 0; i < REF.length; i++) {
    if (w.samples[i] !== REF[i] || Math.abs(f.samples[i] - REF[i]) > 4e-5 * Math.abs(REF[i]) + 1e-7) assert.unreachable(`sample ${i}: ${w.samples[i]} / ${f.samples[i]} vs ${REF[i]}`);
  }
});

s('22.05 kHz mono FLAC is resampled to 48 kHz', async () => {
  const d = await decodeAudio(bytes('tone22k_mono.flac'), 'b.flac');
  assert.equal(d.source, { container: 'flac', sampleRate: 22050, channels: 1, frames: 11025 });
  assert.is(d.samples.length, 24000);
  // sox's 44.1 -> 22.05 kHz conversion vs our direct path: in-band tones agree to well over 40 dB
  assert.ok(bestSnr(d.samples, REF) > 40, `SNR ${bestSnr(d.samples, REF)}`);
});

s('Ogg Vorbis and MP3 (lossy) decode close to the source', async () => {
  const o = await decodeAudio(bytes('tone44k_stereo.ogg'), 'c.ogg');
  const m = await decodeAudio(bytes('tone44k_stereo.mp3'), 'd.mp3');
  assert.is(o.source.container, 'ogg'); assert.is(o.source.channels, 2); assert.is(o.source.sampleRate, 44100);
  assert.is(m.source.container, 'mp3'); assert.is(m.source.channels, 2);
  assert.is(o.sampleRate, 48000); assert.is(m.sampleRate, 48000);
  for (const [n, d] of [['ogg', o], ['mp3', m]] as const) {
    const snr = bestSnr(d.samples, REF);
    assert.ok(snr > 20, `${n}: SNR ${snr.toFixed(1)} dB against the source`);
    assert.ok(Math.abs(d.samples.length - 24000) < 3000, `${n}: ${d.samples.length} samples`);
  }
});

s('sampleRate: 0 keeps the file rate', async () => {
  const d = await decodeAudio(bytes('tone44k_stereo.flac'), 'e.flac', { sampleRate: 0 });
  assert.is(d.sampleRate, 44100);
  assert.is(d.samples.length, 22050);
});

/** A float32 WAV of 4 samples whose sample i is patched to v after writing (writeWav refuses non-finite input). */
function floatWavWith(i: number, v: number): Uint8Array {
  const w = writeWav([0, 0.5, 0.25, 0.1], 48000, { format: 'float32' });
  const at = w.length - 16 + 4 * i;
  new DataView(w.buffer, w.byteOffset).setFloat32(at, v, true);
  return w;
}

s('bad input: errors name the file and the problem', async () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty.wav', new Uint8Array(0), /^empty\.wav: empty file \(0 bytes\)$/],
    ['tiny.flac', new Uint8Array([0x66, 0x4c, 0x61, 0x43]), /^tiny\.flac: truncated: only 4 bytes/],
    ['text.mp3', new TextEncoder().encode('this is not audio at all, just text'), /^text\.mp3: unrecognised or corrupt audio data: no WAV, FLAC, Ogg or MP3 signature/],
    ['song.m4a', Uint8Array.from([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x4d, 0x34, 0x41, 0x20, 0, 0, 0, 0]), /^song\.m4a: unsupported encoding: MP4\/M4A/],
    ['cut.wav', bytes('tone44k_stereo.wav').subarray(0, 30000), /^cut\.wav: truncated data: the data chunk declares 88200 bytes but only/],
    ['cut.flac', bytes('tone44k_stereo.flac').subarray(0, 5000), /^cut\.flac: truncated or corrupt FLAC data: the header declares 22050 frames but only \d+ decoded/],
    ['cut.mp3', bytes('tone44k_stereo.mp3').subarray(0, 2000), /^cut\.mp3: truncated or corrupt MP3 data/],
    ['cut.ogg', bytes('tone44k_stereo.ogg').subarray(0, 2000), /^cut\.ogg: zero-length audio: no samples decoded \(the OGG stream is empty, truncated or corrupt\)/],
    ['nan.wav', floatWavWith(2, NaN), /^nan\.wav: NaN sample at frame 2/],
    ['inf.wav', floatWavWith(1, Infinity), /^inf\.wav: .*(infinite|Inf).* at frame 1/i],
    ['empty-data.wav', writeWav([new Float32Array(0)], 48000), /^empty-data\.wav: zero-length audio/],
    ['slow.wav', writeWav([0, 0.1, 0.2], 10), /^slow\.wav: absurd sample rate 10 Hz/],
  ];
  for (const [name, b, re] of cases) {
    try { await decodeAudio(b, name); } catch (e) {
      if (!re.test((e as Error).message)) assert.unreachable(`${name}: message "${(e as Error).message}" does not match ${re}`);
      continue;
    }
    assert.unreachable(`${name}: decoded without an error`);
  }
  // a corrupted FLAC body (bytes flipped after the header)
  const c = bytes('tone44k_stereo.flac').slice();
  for (let i = 200; i < c.length; i += 7) c[i] ^= 0x5a;
  try { await decodeAudio(c, 'flip.flac'); assert.unreachable('flip.flac decoded'); } catch (e) { assert.match((e as Error).message, /^flip\.flac: (zero-length audio|truncated or corrupt|corrupt)/); }
  // an absurd rate in a WAV header is rejected by the reader with the file name
  const w = writeWav([0, 0.1], 48000); new DataView(w.buffer).setUint32(24, 5_000_000, true); new DataView(w.buffer).setUint32(28, 10_000_000, true);
  try { await decodeAudio(w, 'fast.wav'); assert.unreachable('fast.wav decoded'); } catch (e) { assert.match((e as Error).message, /^fast\.wav: .*sample rate/); }
});

s.run();
