import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mixToMono, readWav, writeWav, type WavSampleFormat } from '../../src/audio/wav.ts';
import { rng } from '../util/compare.ts';
import { fixtureBytes } from './_fixtures.ts';

const s = suite('wav');

// --- A WAV byte builder independent of writeWav, for hand-made and malformed files ---------------------------

function ascii(str: string): number[] { return [...str].map((c) => c.charCodeAt(0)); }
function u16(v: number): number[] { return [v & 0xff, (v >> 8) & 0xff]; }
function u32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }
function chunk(id: string, body: number[], declared = body.length, pad = true): number[] {
  return [...ascii(id), ...u32(declared), ...body, ...(pad && body.length & 1 ? [0] : [])];
}
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
function fmtBody(o: { tag: number; ch: number; rate: number; bits: number; align?: number; ext?: number; guidTail?: number[] }): number[] {
  const align = o.align ?? o.ch * Math.ceil(o.bits / 8);
  const base = [...u16(o.ext !== undefined ? 0xfffe : o.tag), ...u16(o.ch), ...u32(o.rate), ...u32(o.rate * align), ...u16(align), ...u16(o.bits)];
  if (o.ext === undefined) return base;
  return [...base, ...u16(22), ...u16(o.bits), ...u32(0), ...u16(o.ext), ...(o.guidTail ?? GUID_TAIL)];
}
function riff(...chunks: number[][]): Uint8Array {
  const body = [...ascii('WAVE'), ...chunks.flat()];
  return new Uint8Array([...ascii('RIFF'), ...u32(body.length), ...body]);
}
const pcm16 = (vals: number[]) => vals.flatMap((v) => u16(v & 0xffff));
const f32 = (vals: number[]) => { const b = new Uint8Array(new Float32Array(vals).buffer); return [...b]; };
const f64 = (vals: number[]) => { const b = new Uint8Array(new Float64Array(vals).buffer); return [...b]; };

function throwsWith(fn: () => unknown, re: RegExp, name = 'x.wav') {
  try { fn(); } catch (e) {
    const msg = (e as Error).message;
    assert.ok(msg.startsWith(`${name}: `), `message should name the source: ${msg}`);
    assert.match(msg, re);
    return;
  }
  assert.unreachable(`expected an error matching ${re}`);
}

// --- Round trips ------------------------------------------------------------------------------------------------

/** Random samples exactly representable in the format, so the round trip must be bit-exact. */
function exactSamples(format: WavSampleFormat, n: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  const bits = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32 }[format as 'pcm8'];
  for (let i = 0; i < n; i++) {
    if (bits) {
      const full = 2 ** (bits - 1);
      // pcm32 codes need > 24 bits of mantissa: keep them on the float32 grid (multiples of 2^-23 below 1).
      const k = Math.floor(r() * 2 * full) - full;
      x[i] = bits === 32 ? Math.fround(k / full) : k / full;
      if (bits === 32 && x[i] >= 1) x[i] = -1;
    } else x[i] = (r() * 2 - 1) * (i % 7 === 0 ? 3 : 1); // floats may exceed +-1
  }
  x[0] = bits ? -1 : 0; // the most negative code / exact zero
  return x;
}

for (const format of ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'] as WavSampleFormat[]) {
  for (const extensible of [false, true]) {
    s(`round trip ${format}${extensible ? ' extensible' : ''} (1, 2, 3, 6 channels)`, () => {
      for (const C of [1, 2, 3, 6]) {
        const n = 257; // odd, so 8-bit mono data needs a pad byte
        const chans = Array.from({ length: C }, (_, c) => exactSamples(format, n, 10 * C + c));
        const bytes = writeWav(C === 1 ? chans[0] : chans, 22050, { format, extensible });
        const got = readWav(bytes, 'rt.wav');
        assert.is(got.sampleRate, 22050);
        assert.is(got.channels, C);
        assert.is(got.info.extensible, extensible);
        assert.is(got.info.formatTag, format.startsWith('float') ? 3 : 1);
        assert.is(got.info.frames, n);
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < n; i++) if (got.samples[c][i] !== chans[c][i]) assert.unreachable(`${format} ch${c}[${i}]: ${got.samples[c][i]} != ${chans[c][i]}`);
        }
      }
    });
  }
}

s('PCM quantisation: rounding and saturation', () => {
  const x = [1, -1, 0.5, -1.5, 2, 1 / 65536, -1 / 65536, 3 / 65536, 0.9 / 32768, -1.2 / 32768];
  const y = readWav(writeWav(x, 8000, { format: 'pcm16' })).samples[0];
  assert.equal(Array.from(y), [32767 / 32768, -1, 0.5, -1, 32767 / 32768, 1 / 32768, -1 / 32768, 2 / 32768, 1 / 32768, -1 / 32768]);
  const y8 = readWav(writeWav([1, -1, 0.25], 8000, { format: 'pcm8' })).samples[0];
  assert.equal(Array.from(y8), [127 / 128, -1, 0.25]);
});

// --- Hand-made files: sample decoding anchored to known bytes -------------------------------------------------

s('decodes known bytes for every encoding', () => {
  const cases: [string, number, number[], number[]][] = [
    ['pcm8', 8, [0, 128, 255, 64], [-1, 0, 127 / 128, -0.5]],
    ['pcm16', 16, pcm16([-32768, 0, 32767, 16384]), [-1, 0, 32767 / 32768, 0.5]],
    ['pcm24', 24, [0x00, 0x00, 0x80, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00, 0x40], [-1, (2 ** 23 - 1) / 2 ** 23, -1 / 2 ** 23, 0.5]],
    ['pcm32', 32, [...u32(0x80000000), ...u32(0x40000000), ...u32(0xffffff00), ...u32(0)], [-1, 0.5, -256 / 2 ** 31, 0]],
    ['float32', 32, f32([0.25, -3.5, 1e-20, 0]), [0.25, -3.5, Math.fround(1e-20), 0]],
    ['float64', 64, f64([0.25, -3.5, 0.1, 0]), [0.25, -3.5, Math.fround(0.1), 0]],
  ];
  for (const [label, bits, data, want] of cases) {
    const tag = label.startsWith('float') ? 3 : 1;
    for (const ext of [undefined, tag]) {
      const got = readWav(riff(chunk('fmt ', fmtBody({ tag, ch: 1, rate: 16000, bits, ext })), chunk('data', data)), label);
      assert.equal(Array.from(got.samples[0]), want, `${label}${ext ? ' extensible' : ''}`);
    }
  }
});

s('interleaved channels are split in order', () => {
  const got = readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 3, rate: 8000, bits: 16 })), chunk('data', pcm16([1, 2, 3, 4, 5, 6]))));
  assert.equal(got.samples.map((c) => Array.from(c, (v) => v * 32768)), [[1, 4], [2, 5], [3, 6]]);
});

s('non-extensible 12-bit PCM in a 16-bit container is read at full scale', () => {
  const got = readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 12, align: 2 })), chunk('data', pcm16([-32768, 16384]))));
  assert.equal(Array.from(got.samples[0]), [-1, 0.5]);
});

s('files written by other encoders: Python wave (PCM16) and sox (24-bit WAVE_FORMAT_EXTENSIBLE, 3 ch)', () => {
  const py = readWav(fixtureBytes('mel_stereo44k.wav'), 'mel_stereo44k.wav');
  assert.is(py.sampleRate, 44100); assert.is(py.channels, 2); assert.is(py.info.frames, 44100); assert.is(py.info.extensible, false);
  const sx = readWav(fixtureBytes('rs_sox48k_16000.wav'), 'rs_sox48k_16000.wav');
  assert.is(sx.sampleRate, 48000); assert.is(sx.channels, 3); assert.is(sx.info.extensible, true); assert.is(sx.info.bitsPerSample, 24);
  assert.is(sx.info.frames, 12000);
  let peak = 0;
  for (const c of sx.samples) for (const v of c) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak > 0.3 && peak < 0.7, `peak ${peak}`); // the signals were made with peaks near 0.5
});

// --- Chunk walking ----------------------------------------------------------------------------------------------

s('skips LIST/fact/JUNK chunks, odd sizes with pad bytes, before and after fmt', () => {
  const list = chunk('LIST', [...ascii('INFO'), ...ascii('ISFT'), ...u32(3), 0x61, 0x62, 0x00]); // odd body: padded
  const junk = chunk('JUNK', [1, 2, 3, 4, 5]); // odd
  const got = readWav(riff(list, chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 16 })), junk,
    chunk('fact', u32(2)), chunk('data', pcm16([100, -100])), list));
  assert.equal(Array.from(got.samples[0], (v) => v * 32768), [100, -100]);
});

s('odd-sized chunk without its pad byte (a common writer bug) is still followed', () => {
  const junk = chunk('JUNK', [1, 2, 3], 3, false);
  const got = readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 16 })), junk, chunk('data', pcm16([7, 8]))));
  assert.equal(Array.from(got.samples[0], (v) => v * 32768), [7, 8]);
});

s('8-bit mono data of odd length: pad byte after data is not read as a sample', () => {
  const got = readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 8 })), chunk('data', [128, 192, 64])));
  assert.equal(Array.from(got.samples[0]), [0, 0.5, -0.5]);
});

s('streaming data chunk (size 0 or 0xFFFFFFFF) runs to EOF; a partial last frame is dropped', () => {
  for (const declared of [0, 0xffffffff]) {
    const bytes = riff(chunk('fmt ', fmtBody({ tag: 1, ch: 2, rate: 8000, bits: 16 })), chunk('data', [...pcm16([1, 2, 3, 4, 5, 6]), 9], declared, false));
    const got = readWav(bytes);
    assert.ok(got.info.streaming);
    assert.equal(got.samples.map((c) => Array.from(c, (v) => v * 32768)), [[1, 3, 5], [2, 4, 6]]);
  }
});

s('trailing junk and a cut-off chunk after the data are ignored', () => {
  const fmt = chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 16 }));
  const a = riff(fmt, chunk('data', pcm16([5])), [1, 2, 3]);
  assert.equal(Array.from(readWav(a).samples[0], (v) => v * 32768), [5]);
  const b = riff(fmt, chunk('data', pcm16([5])), chunk('LIST', [1, 2, 3, 4], 100));
  assert.equal(Array.from(readWav(b).samples[0], (v) => v * 32768), [5]);
});

// --- Bad input --------------------------------------------------------------------------------------------------

const FMT16 = chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 16 }));

s('errors: empty, not RIFF/WAVE, RIFX/RF64', () => {
  throwsWith(() => readWav(new Uint8Array(0), 'x.wav'), /empty input/);
  throwsWith(() => readWav(new Uint8Array([...ascii('OggS'), ...new Array(40).fill(0)]), 'x.wav'), /not a RIFF\/WAVE file \(starts with "OggS"\)/);
  throwsWith(() => readWav(new Uint8Array([...ascii('RIFF'), ...u32(4), ...ascii('AVI ')]), 'x.wav'), /not a RIFF\/WAVE file \(RIFF form type "AVI "\)/);
  throwsWith(() => readWav(new Uint8Array([...ascii('RIFX'), ...u32(4), ...ascii('WAVE')]), 'x.wav'), /big-endian RIFX/);
  throwsWith(() => readWav(new Uint8Array([...ascii('RF64'), ...u32(4), ...ascii('WAVE')]), 'x.wav'), /RF64 .* not supported/);
});

s('errors: truncated header', () => {
  throwsWith(() => readWav(new Uint8Array(ascii('RIFF\0\0')), 'x.wav'), /truncated header: 6 bytes/);
  throwsWith(() => readWav(riff(), 'x.wav'), /truncated header: no 'fmt ' chunk/);
  const full = riff(FMT16, chunk('data', pcm16([1, 2])));
  throwsWith(() => readWav(full.subarray(0, 30), 'x.wav'), /truncated header: fmt chunk declares 16 bytes but only 10/);
  throwsWith(() => readWav(riff(chunk('fmt ', [1, 0, 1, 0])), 'x.wav'), /truncated header: fmt chunk is 4 bytes/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 16 }).concat(u16(0)).concat([1, 2]).slice(0, 16)).map((v, i) => (i === 8 ? 0xfe : i === 9 ? 0xff : v))), 'x.wav'),
    /truncated header: WAVE_FORMAT_EXTENSIBLE fmt chunk is 16 bytes/);
});

s('errors: truncated data, missing data chunk, bad frame size', () => {
  throwsWith(() => readWav(riff(FMT16, chunk('data', pcm16([1, 2, 3]), 1000)), 'x.wav'), /truncated data: the data chunk declares 1000 bytes but only 6 are present/);
  throwsWith(() => readWav(riff(FMT16), 'x.wav'), /no 'data' chunk/);
  throwsWith(() => readWav(riff(FMT16, chunk('data', [1, 2, 3])), 'x.wav'), /data chunk size 3 is not a multiple of the frame size 2/);
  throwsWith(() => readWav(riff(FMT16, chunk('LIST', [1, 2], 500)), 'x.wav'), /chunk "LIST" declares 500 bytes/);
});

s('errors: unsupported format tag (plain and extensible), unknown subformat GUID', () => {
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 0x55, ch: 1, rate: 8000, bits: 16 })), chunk('data', [0, 0])), 'x.wav'), /unsupported format tag 0x0055 \(MPEG layer 3\)/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 2, ch: 1, rate: 8000, bits: 16, ext: 2 })), chunk('data', [0, 0])), 'x.wav'), /unsupported format tag 0x0002 \(Microsoft ADPCM\) \(extensible subformat\)/);
  const badGuid = [...GUID_TAIL]; badGuid[5] = 0x11;
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 16, ext: 1, guidTail: badGuid })), chunk('data', [0, 0])), 'x.wav'), /subformat GUID/);
});

s('errors: unsupported bit depth, block align', () => {
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 40 })), chunk('data', [0, 0, 0, 0, 0])), 'x.wav'), /unsupported bit depth: 40-bit PCM/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 3, ch: 1, rate: 8000, bits: 16 })), chunk('data', [0, 0])), 'x.wav'), /unsupported bit depth: 16-bit IEEE float/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 8000, bits: 0, align: 1 })), chunk('data', [0, 0])), 'x.wav'), /unsupported bit depth: 0-bit PCM/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 2, rate: 8000, bits: 16, align: 2 })), chunk('data', [0, 0])), 'x.wav'), /block align 2 does not match 2 channel\(s\) x 2 bytes/);
});

s('errors: zero channels, absurd sample rates', () => {
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 0, rate: 8000, bits: 16, align: 0 })), chunk('data', [0, 0])), 'x.wav'), /zero channels/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 0, bits: 16 })), chunk('data', [0, 0])), 'x.wav'), /absurd sample rate 0 Hz/);
  throwsWith(() => readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 2_000_000, bits: 16 })), chunk('data', [0, 0])), 'x.wav'), /absurd sample rate 2000000 Hz/);
  // The limits themselves are accepted.
  assert.is(readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 1_000_000, bits: 16 })), chunk('data', [0, 0]))).sampleRate, 1_000_000);
  assert.is(readWav(riff(chunk('fmt ', fmtBody({ tag: 1, ch: 1, rate: 1, bits: 16 })), chunk('data', [0, 0]))).sampleRate, 1);
});

s('errors: NaN / Inf float samples, zero-length audio', () => {
  const fmtF32 = chunk('fmt ', fmtBody({ tag: 3, ch: 2, rate: 8000, bits: 32 }));
  throwsWith(() => readWav(riff(fmtF32, chunk('data', f32([0, 0, 0.5, 0.5, 0, 0, 0.1, NaN]))), 'x.wav'), /NaN sample at frame 3 \(t = 0\.000375 s\) of channel 1/);
  const fmtF64 = chunk('fmt ', fmtBody({ tag: 3, ch: 1, rate: 8000, bits: 64 }));
  throwsWith(() => readWav(riff(fmtF64, chunk('data', f64([0, -Infinity]))), 'x.wav'), /-Infinity sample at frame 1/);
  throwsWith(() => readWav(riff(fmtF64, chunk('data', f64([1e300]))), 'x.wav'), /1e\+300 \(overflows float32\) sample at frame 0/);
  throwsWith(() => readWav(riff(FMT16, chunk('data', [])), 'x.wav'), /zero-length audio/);
});

s('writer: float files carry cbSize and a fact chunk; bad arguments throw', () => {
  const b = writeWav([0.5, 0.25], 48000, { format: 'float32' });
  const dv = new DataView(b.buffer);
  assert.is(dv.getUint32(16, true), 18); // fmt size
  assert.is(String.fromCharCode(...b.subarray(38, 42)), 'fact');
  assert.throws(() => writeWav([0, NaN], 48000), /non-finite sample NaN at frame 1/);
  assert.throws(() => writeWav([[0, 1], [0]], 48000), /channel lengths differ/);
  assert.throws(() => writeWav([0], 0), /sample rate/);
  assert.throws(() => writeWav([0], 44100.5), /sample rate/);
});

s('mixToMono: mean over channels; mono is a copy', () => {
  const m = mixToMono({ samples: [new Float32Array([1, 0.5, -1]), new Float32Array([0, 0.5, 0]), new Float32Array([0.5, -1, 1])] });
  assert.equal(Array.from(m), [0.5, 0, 0].map(Math.fround));
  const one = new Float32Array([0.25]);
  const c = mixToMono({ samples: [one] });
  assert.equal(Array.from(c), [0.25]);
  assert.is.not(c, one);
});

s.run();
