// Audio decoding for FLAM: bytes -> 48 kHz mono float32. Browser-safe (takes a Uint8Array, never touches files).
// The container is detected from magic bytes, never from the file name: RIFF/WAVE (our reader, src/audio/wav.ts),
// fLaC (@wasm-audio-decoders/flac), OggS (@wasm-audio-decoders/ogg-vorbis; Vorbis only), MPEG audio with or
// without an ID3v2 tag (mpg123-decoder). Channels are averaged to mono, any sample rate is resampled to 48 kHz with
// src/audio/resample.ts. Every error names the source and the problem: empty, truncated, corrupt, unsupported
// encoding, NaN/Inf samples, zero length, absurd sample rate.
import { readWav, mixToMono, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE } from './wav.ts';
import { resample } from './resample.ts';

export type AudioContainer = 'wav' | 'flac' | 'ogg' | 'mp3';

export interface DecodedAudio {
  /** Mono samples at `sampleRate` (48000 unless decodeAudio was asked to keep the original rate). */
  samples: Float32Array;
  sampleRate: number;
  /** What the file held before mixing / resampling. */
  source: { container: AudioContainer; sampleRate: number; channels: number; frames: number };
}

export class AudioDecodeError extends Error {
  constructor(readonly source: string, readonly problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'AudioDecodeError';
  }
}

function ascii(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && at + i < b.length; i++) s += String.fromCharCode(b[at + i]);
  return s;
}

/** Container from magic bytes, or null when none is recognised. */
export function sniffContainer(b: Uint8Array): AudioContainer | null {
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE') return 'wav';
  if (ascii(b, 0, 4) === 'RF64' || ascii(b, 0, 4) === 'RIFX') return 'wav'; // rejected by the reader with a reason
  if (ascii(b, 0, 4) === 'fLaC') return 'flac';
  if (ascii(b, 0, 4) === 'OggS') return 'ogg';
  if (ascii(b, 0, 3) === 'ID3') return 'mp3';
  // MPEG audio frame sync: 11 set bits, layer != 0 (reserved), bitrate index != 15
  if (b.length >= 4 && b[0] === 0xff && (b[1] & 0xe0) === 0xe0 && (b[1] & 0x06) !== 0 && (b[2] & 0xf0) !== 0xf0) return 'mp3';
  return null;
}

function describeUnknown(b: Uint8Array): string {
  const head = ascii(b, 0, 4);
  if (ascii(b, 4, 4) === 'ftyp') return 'unsupported encoding: MP4/M4A (AAC/ALAC) is not supported; convert to WAV, FLAC, Ogg Vorbis or MP3';
  if (head === 'FORM') return 'unsupported encoding: AIFF is not supported; convert to WAV or FLAC';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'unsupported encoding: WebM/Matroska is not supported';
  if (b[0] === 0xff && (b[1] & 0xf6) === 0xf0) return 'unsupported encoding: AAC (ADTS) is not supported';
  const hex = Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return `unrecognised or corrupt audio data: no WAV, FLAC, Ogg or MP3 signature (first bytes ${hex})`;
}

interface Decoded { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number; errors: { message: string }[] }

/** Decodes compressed audio with the wasm decoders (loaded on first use). */
async function decodeCompressed(kind: 'flac' | 'ogg' | 'mp3', bytes: Uint8Array): Promise<Decoded> {
  if (kind === 'flac') {
    const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
    const d = new FLACDecoder();
    await d.ready;
    try { return await d.decodeFile(bytes); } finally { d.free(); }
  }
  if (kind === 'ogg') {
    const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
    const d = new OggVorbisDecoder();
    await d.ready;
    try { return await d.decodeFile(bytes); } finally { d.free(); }
  }
  const { MPEGDecoder } = await import('mpg123-decoder');
  const d = new MPEGDecoder();
  await d.ready;
  try { return d.decode(bytes); } finally { d.free(); }
}

/**
 * Frames the header promises, where it says: FLAC STREAMINFO's total samples (36 bits; 0 = unknown), or an MP3
 * Xing/Info tag's frame count (x samples per frame). Null when unknown.
 */
function declaredFrames(kind: AudioContainer, b: Uint8Array): number | null {
  if (kind === 'flac') {
    if (b.length < 26 || (b[4] & 0x7f) !== 0) return null; // first metadata block must be STREAMINFO
    const total = (b[21] & 0x0f) * 2 ** 32 + ((b[22] << 24) >>> 0) + (b[23] << 16) + (b[24] << 8) + b[25];
    return total > 0 ? total : null;
  }
  if (kind === 'mp3') {
    let at = 0;
    if (ascii(b, 0, 3) === 'ID3' && b.length > 10) at = 10 + ((b[6] & 0x7f) << 21 | (b[7] & 0x7f) << 14 | (b[8] & 0x7f) << 7 | (b[9] & 0x7f));
    if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return null;
    const version = (b[at + 1] >> 3) & 3, layer = (b[at + 1] >> 1) & 3; // version 3 = MPEG-1; layer 1 = Layer III
    const perFrame = layer === 1 ? (version === 3 ? 1152 : 576) : layer === 2 ? 1152 : 384;
    for (let i = at + 4; i < Math.min(b.length - 12, at + 200); i++) {
      const tag = ascii(b, i, 4);
      if ((tag === 'Xing' || tag === 'Info') && (b[i + 7] & 1)) {
        const frames = ((b[i + 8] << 24) >>> 0) + (b[i + 9] << 16) + (b[i + 10] << 8) + b[i + 11];
        return frames > 0 ? frames * perFrame - 2 * perFrame : null; // encoder delay and padding trimmed by the decoder
      }
    }
  }
  return null;
}

export interface DecodeOptions {
  /** Output sample rate (default 48000, FLAM's); 0 keeps the file's rate. */
  sampleRate?: number;
}

/**
 * Decodes WAV / FLAC / Ogg Vorbis / MP3 bytes to mono float32 at 48 kHz. `name` (a path or label) starts every
 * error message.
 */
export async function decodeAudio(bytes: Uint8Array, name = '<audio>', opts: DecodeOptions = {}): Promise<DecodedAudio> {
  const fail = (problem: string): never => { throw new AudioDecodeError(name, problem); };
  if (!(bytes instanceof Uint8Array)) fail('expected the file contents as a Uint8Array');
  if (bytes.length === 0) fail('empty file (0 bytes)');
  if (bytes.length < 12) fail(`truncated: only ${bytes.length} bytes, too short for any audio header`);
  const container = sniffContainer(bytes) ?? fail(describeUnknown(bytes));
  let channels: Float32Array[], rate: number;
  if (container === 'wav') {
    let w;
    try { w = readWav(bytes, name); } catch (e) { throw new AudioDecodeError(name, String((e as Error).message).replace(`${name}: `, '')); }
    channels = w.samples; rate = w.sampleRate;
  } else {
    let d: Decoded;
    try { d = await decodeCompressed(container, bytes); } catch (e) {
      return fail(`corrupt ${container.toUpperCase()} data: the decoder failed (${(e as Error).message ?? e})`);
    }
    const errs = d.errors ?? [];
    if (d.samplesDecoded === 0 || d.channelData.length === 0) {
      fail(errs.length ? `corrupt or truncated ${container.toUpperCase()} data: ${errs[0].message}` : `zero-length audio: no samples decoded (the ${container.toUpperCase()} stream is empty, truncated or corrupt)`);
    }
    if (errs.length > 0) fail(`corrupt ${container.toUpperCase()} data: ${errs.length} frame error(s), first: ${errs[0].message}`);
    const declared = declaredFrames(container, bytes);
    if (declared !== null && d.samplesDecoded < 0.98 * declared - 2304) {
      fail(`truncated or corrupt ${container.toUpperCase()} data: the header declares ${declared} frames but only ${d.samplesDecoded} decoded`);
    }
    channels = d.channelData.map((c) => c.subarray(0, d.samplesDecoded));
    rate = d.sampleRate;
  }
  if (!(rate >= MIN_SAMPLE_RATE && rate <= MAX_SAMPLE_RATE) || !Number.isFinite(rate)) fail(`absurd sample rate ${rate} Hz (expected ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE})`);
  if (rate < 1000) fail(`absurd sample rate ${rate} Hz: below 1 kHz is not audio FLAM can use`);
  const frames = channels.length ? channels[0].length : 0;
  if (frames === 0) fail('zero-length audio: no samples');
  for (let c = 0; c < channels.length; c++) {
    const ch = channels[c];
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i])) fail(`${Number.isNaN(ch[i]) ? 'NaN' : 'infinite'} sample at frame ${i} of channel ${c} (${(i / rate).toFixed(3)} s)`);
    }
  }
  const mono = mixToMono({ samples: channels });
  const out = opts.sampleRate ?? 48000;
  const samples = out === 0 || out === rate ? mono : resample(mono, rate, out);
  return { samples, sampleRate: out === 0 ? rate : out, source: { container, sampleRate: rate, channels: channels.length, frames } };
}
