// WAV (RIFF/WAVE, little-endian) reader and writer. Browser-safe: takes and returns bytes, never touches files.
//
// Reader: PCM 8-bit (unsigned) / 16 / 24 / 32-bit (signed), IEEE float 32 / 64, WAVE_FORMAT_EXTENSIBLE with the
// PCM or IEEE-float subformat GUID, any channel count. Integer samples map to [-1, 1) by dividing by the full
// scale of their container (2^(bits-1); 8-bit: (b - 128) / 128), so a 20-bit sample left-justified in a 24-bit
// container reads at the right level. Chunks are walked robustly: odd-sized chunks are padded to even length
// (with a fallback for writers that forget the pad byte), unknown chunks (LIST, fact, JUNK, bext, ...) are skipped,
// and a data chunk whose size is 0 or 0xFFFFFFFF (a stream whose writer never patched the header) runs to EOF.
// Every error names the source (`name`) and the problem.
//
// Writer: PCM 8/16/24/32 and float 32/64, plain or WAVE_FORMAT_EXTENSIBLE, any channel count.

/** Decoded audio: one Float32Array per channel, all the same length. */
export interface WavAudio {
  sampleRate: number;
  channels: number;
  samples: Float32Array[];
}

/** What the fmt chunk said, for callers that want to report it. */
export interface WavInfo {
  /** 1 = PCM, 3 = IEEE float (after resolving WAVE_FORMAT_EXTENSIBLE to its subformat). */
  formatTag: number;
  extensible: boolean;
  bitsPerSample: number;
  /** Valid bits per sample (extensible only; equals bitsPerSample otherwise). */
  validBits: number;
  blockAlign: number;
  /** Frames read. */
  frames: number;
  /** True when the data chunk size was 0 / 0xFFFFFFFF and the data was read until the end of input. */
  streaming: boolean;
}

export class WavError extends Error {
  constructor(name: string, problem: string) {
    super(`${name}: ${problem}`);
    this.name = 'WavError';
  }
}

/** Lowest and highest sample rate the reader accepts (anything else is treated as a corrupt header). */
export const MIN_SAMPLE_RATE = 1;
export const MAX_SAMPLE_RATE = 1_000_000;

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID built from a WAVE format tag (00000000-0000-0010-8000-00aa00389b71). */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM', 0x0006: 'A-law', 0x0007: 'mu-law', 0x0011: 'IMA ADPCM', 0x0031: 'GSM 6.10',
  0x0050: 'MPEG', 0x0055: 'MPEG layer 3', 0x00ff: 'AAC', 0x1610: 'HE-AAC', 0xf1ac: 'FLAC',
};

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

function printable(s: string): string {
  return JSON.stringify(s);
}

/** A plausible chunk id: four printable ASCII characters (space allowed, as in 'fmt '). */
function looksLikeFourcc(b: Uint8Array, at: number): boolean {
  if (at + 4 > b.length) return false;
  for (let i = 0; i < 4; i++) if (b[at + i] < 0x20 || b[at + i] > 0x7e) return false;
  return true;
}

function tagName(tag: number): string {
  const hex = '0x' + tag.toString(16).padStart(4, '0');
  return KNOWN_TAGS[tag] ? `${hex} (${KNOWN_TAGS[tag]})` : hex;
}

/** Parses a WAV file. `name` (a path or label) is put in front of every error message. */
export function readWav(bytes: Uint8Array, name = '<wav>'): WavAudio & { info: WavInfo } {
  const fail = (problem: string): never => { throw new WavError(name, problem); };
  const n = bytes.length;
  if (n === 0) fail('empty input (0 bytes)');
  if (n < 12) fail(`truncated header: ${n} bytes, a RIFF/WAVE header needs at least 12`);
  const riff = fourcc(bytes, 0);
  if (riff === 'RIFX') fail('big-endian RIFX WAV is not supported (only little-endian RIFF)');
  if (riff === 'RF64' || riff === 'BW64') fail(`${riff} (64-bit WAV) is not supported`);
  if (riff !== 'RIFF') fail(`not a RIFF/WAVE file (starts with ${printable(riff)})`);
  const form = fourcc(bytes, 8);
  if (form !== 'WAVE') fail(`not a RIFF/WAVE file (RIFF form type ${printable(form)})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let fmt: { tag: number; extensible: boolean; channels: number; rate: number; blockAlign: number; bits: number; validBits: number } | null = null;
  let data: { start: number; end: number; streaming: boolean } | null = null;
  let pos = 12;
  while (pos + 8 <= n) {
    const id = fourcc(bytes, pos);
    const size = dv.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'data') {
      if (size === 0 || size === 0xffffffff) { data = { start: body, end: n, streaming: true }; break; }
      if (body + size > n) fail(`truncated data: the data chunk declares ${size} bytes but only ${n - body} are present`);
      data = { start: body, end: body + size, streaming: false };
    } else if (id === 'fmt ') {
      if (size < 16) fail(`truncated header: fmt chunk is ${size} bytes, need at least 16`);
      if (body + size > n) fail(`truncated header: fmt chunk declares ${size} bytes but only ${n - body} are present`);
      fmt = parseFmt(dv, bytes, body, size, fail);
    } else if (body + size > n) {
      // A truncated trailing chunk after the data (e.g. a cut-off LIST) is harmless; before it, the file is cut.
      if (data) break;
      fail(`truncated file: chunk ${printable(id)} declares ${size} bytes but only ${n - body} are present, and no data chunk was found`);
    }
    let next = body + size;
    if (size & 1) {
      // RIFF pads odd chunks to even length. Some writers forget the pad byte, so the unpadded position is taken
      // when it holds a plausible chunk id and the padded one does not.
      if (looksLikeFourcc(bytes, next + 1) || !looksLikeFourcc(bytes, next)) next += 1;
    }
    pos = next;
  }
  if (!fmt) fail(data ? "no 'fmt ' chunk before the end of the file" : "truncated header: no 'fmt ' chunk found");
  if (!data) fail("truncated file: no 'data' chunk found");
  const f = fmt!, d = data!;

  let bytesLen = d.end - d.start;
  if (bytesLen % f.blockAlign !== 0) {
    if (d.streaming) bytesLen -= bytesLen % f.blockAlign; // a stream cut mid-frame: drop the partial frame
    else fail(`truncated data: data chunk size ${bytesLen} is not a multiple of the frame size ${f.blockAlign}`);
  }
  const frames = bytesLen / f.blockAlign;
  if (frames === 0) fail('zero-length audio: the data chunk holds no samples');

  const bps = f.blockAlign / f.channels;
  const samples: Float32Array[] = [];
  for (let c = 0; c < f.channels; c++) samples.push(new Float32Array(frames));
  for (let c = 0; c < f.channels; c++) {
    const out = samples[c];
    let p = d.start + c * bps;
    const step = f.blockAlign;
    if (f.tag === WAVE_FORMAT_PCM) {
      if (bps === 1) for (let i = 0; i < frames; i++, p += step) out[i] = (bytes[p] - 128) / 128;
      else if (bps === 2) for (let i = 0; i < frames; i++, p += step) out[i] = dv.getInt16(p, true) / 32768;
      else if (bps === 3) {
        for (let i = 0; i < frames; i++, p += step) {
          const v = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16);
          out[i] = ((v << 8) >> 8) / 8388608;
        }
      } else for (let i = 0; i < frames; i++, p += step) out[i] = dv.getInt32(p, true) / 2147483648;
    } else {
      const f64 = bps === 8;
      for (let i = 0; i < frames; i++, p += step) {
        const v = f64 ? dv.getFloat64(p, true) : dv.getFloat32(p, true);
        out[i] = v;
        if (!Number.isFinite(out[i])) {
          const what = Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `${v} (overflows float32)` : `${v}`;
          fail(`${what} sample at frame ${i} (t = ${(i / f.rate).toFixed(6)} s) of channel ${c}`);
        }
      }
    }
  }
  return {
    sampleRate: f.rate, channels: f.channels, samples,
    info: { formatTag: f.tag, extensible: f.extensible, bitsPerSample: f.bits, validBits: f.validBits, blockAlign: f.blockAlign, frames, streaming: d.streaming },
  };
}

function parseFmt(dv: DataView, bytes: Uint8Array, at: number, size: number, fail: (p: string) => never) {
  let tag = dv.getUint16(at, true);
  const channels = dv.getUint16(at + 2, true);
  const rate = dv.getUint32(at + 4, true);
  const blockAlign = dv.getUint16(at + 12, true);
  const bits = dv.getUint16(at + 14, true);
  let validBits = bits;
  let extensible = false;
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    extensible = true;
    if (size < 40) fail(`truncated header: WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, need 40`);
    const cbSize = dv.getUint16(at + 16, true);
    if (cbSize < 22) fail(`corrupt header: WAVE_FORMAT_EXTENSIBLE with cbSize ${cbSize} (need 22)`);
    validBits = dv.getUint16(at + 18, true);
    const sub = dv.getUint16(at + 24, true);
    for (let i = 0; i < 14; i++) {
      if (bytes[at + 26 + i] !== GUID_TAIL[i]) fail('unsupported WAVE_FORMAT_EXTENSIBLE subformat GUID (not a WAVE format tag GUID)');
    }
    tag = sub;
    if (validBits === 0) validBits = bits;
    if (validBits > bits) fail(`corrupt header: ${validBits} valid bits in a ${bits}-bit container`);
  }
  if (tag !== WAVE_FORMAT_PCM && tag !== WAVE_FORMAT_IEEE_FLOAT) {
    fail(`unsupported format tag ${tagName(tag)}${extensible ? ' (extensible subformat)' : ''}: only PCM (1) and IEEE float (3) are read`);
  }
  if (channels === 0) fail('zero channels in the fmt chunk');
  if (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) fail(`absurd sample rate ${rate} Hz (accepted: ${MIN_SAMPLE_RATE} Hz to ${MAX_SAMPLE_RATE} Hz)`);
  const kind = tag === WAVE_FORMAT_PCM ? 'PCM' : 'IEEE float';
  const okBits = tag === WAVE_FORMAT_PCM ? [8, 16, 24, 32] : [32, 64];
  // Non-extensible PCM may declare e.g. 12 or 20 bits in a 16/24-bit container (left-justified); extensible
  // declares the container in bitsPerSample and the precision in validBits.
  const container = tag === WAVE_FORMAT_PCM ? Math.ceil(bits / 8) * 8 : bits;
  if (bits === 0 || !okBits.includes(container)) {
    fail(`unsupported bit depth: ${bits}-bit ${kind} (supported: ${okBits.join('/')}-bit)`);
  }
  const expectAlign = channels * (container / 8);
  if (blockAlign !== expectAlign) {
    fail(`corrupt header: block align ${blockAlign} does not match ${channels} channel(s) x ${container / 8} bytes`);
  }
  return { tag, extensible, channels, rate, blockAlign, bits: container, validBits: extensible ? validBits : bits };
}

/** Mean over channels (computed in float64), as one Float32Array. A mono input is copied. */
export function mixToMono(audio: { samples: ArrayLike<number>[] }): Float32Array {
  const ch = audio.samples;
  if (ch.length === 0) throw new Error('mixToMono: no channels');
  const n = ch[0].length;
  for (const c of ch) if (c.length !== n) throw new Error(`mixToMono: channel lengths differ (${n} vs ${c.length})`);
  const out = new Float32Array(n);
  const k = ch.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += ch[c][i];
    out[i] = s / k;
  }
  return out;
}

export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export interface WavWriteOptions {
  /** Sample encoding; default 'pcm16'. */
  format?: WavSampleFormat;
  /** Write WAVE_FORMAT_EXTENSIBLE (fmt chunk of 40 bytes with a subformat GUID); default false. */
  extensible?: boolean;
  /** Speaker mask for extensible files; default: the first `channels` standard positions (0 when > 18). */
  channelMask?: number;
}

const FORMAT_BITS: Record<WavSampleFormat, number> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 };

/**
 * Encodes audio as a WAV file. `audio` is one channel (an array of samples) or a list of equally long channels.
 * PCM quantises round(x * 2^(bits-1)) (halves away from zero) clamped to the integer range (x = 1.0 saturates
 * to the largest code);
 * a sample that is an exact multiple of 2^-(bits-1) in [-1, 1) therefore round-trips exactly.
 * Non-finite samples are rejected.
 */
export function writeWav(audio: ArrayLike<number> | ArrayLike<number>[], sampleRate: number, opts: WavWriteOptions = {}): Uint8Array {
  const chans: ArrayLike<number>[] = isChannelList(audio) ? audio : [audio];
  const format = opts.format ?? 'pcm16';
  const bits = FORMAT_BITS[format];
  if (!bits) throw new Error(`writeWav: unknown format ${String(format)}`);
  const isFloat = format.startsWith('float');
  const C = chans.length;
  if (C === 0 || C > 65535) throw new Error(`writeWav: channel count ${C} out of range 1..65535`);
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new Error(`writeWav: sample rate ${sampleRate} must be an integer in ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE}`);
  }
  const frames = chans[0].length;
  for (const c of chans) if (c.length !== frames) throw new Error(`writeWav: channel lengths differ (${frames} vs ${c.length})`);
  const bps = bits / 8;
  const blockAlign = C * bps;
  const dataBytes = frames * blockAlign;
  if (dataBytes > 0xfffffff0 - 100) throw new Error(`writeWav: ${dataBytes} bytes of audio exceed the 4 GiB RIFF limit`);
  const ext = opts.extensible ?? false;
  const fmtSize = ext ? 40 : isFloat ? 18 : 16; // non-PCM fmt chunks carry cbSize (0 here)
  const factSize = isFloat ? 12 : 0; // fact chunk: required by the spec for non-PCM data
  const total = 12 + 8 + fmtSize + factSize + 8 + dataBytes + (dataBytes & 1);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const ascii = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF'); dv.setUint32(4, total - 8, true); ascii(8, 'WAVE');
  let p = 12;
  ascii(p, 'fmt '); dv.setUint32(p + 4, fmtSize, true); p += 8;
  const tag = isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  dv.setUint16(p, ext ? WAVE_FORMAT_EXTENSIBLE : tag, true);
  dv.setUint16(p + 2, C, true);
  dv.setUint32(p + 4, sampleRate, true);
  dv.setUint32(p + 8, sampleRate * blockAlign, true);
  dv.setUint16(p + 12, blockAlign, true);
  dv.setUint16(p + 14, bits, true);
  if (ext) {
    dv.setUint16(p + 16, 22, true);
    dv.setUint16(p + 18, bits, true);
    const mask = opts.channelMask ?? (C <= 18 ? (2 ** C - 1) >>> 0 : 0);
    dv.setUint32(p + 20, mask >>> 0, true);
    dv.setUint16(p + 24, tag, true);
    for (let i = 0; i < 14; i++) out[p + 26 + i] = GUID_TAIL[i];
  } else if (isFloat) dv.setUint16(p + 16, 0, true);
  p += fmtSize;
  if (isFloat) { ascii(p, 'fact'); dv.setUint32(p + 4, 4, true); dv.setUint32(p + 8, frames, true); p += 12; }
  ascii(p, 'data'); dv.setUint32(p + 4, dataBytes, true); p += 8;
  const full = 2 ** (bits - 1);
  for (let c = 0; c < C; c++) {
    const x = chans[c];
    let q = p + c * bps;
    for (let i = 0; i < frames; i++, q += blockAlign) {
      const v = x[i];
      if (!Number.isFinite(v)) throw new Error(`writeWav: non-finite sample ${v} at frame ${i} of channel ${c}`);
      if (format === 'float32') { dv.setFloat32(q, v, true); continue; }
      if (format === 'float64') { dv.setFloat64(q, v, true); continue; }
      const a = Math.round(Math.abs(v) * full); // half away from zero: symmetric around 0
      const k = Math.min(full - 1, Math.max(-full, v < 0 ? -a : a));
      if (bits === 8) out[q] = k + 128;
      else if (bits === 16) dv.setInt16(q, k, true);
      else if (bits === 24) { out[q] = k & 0xff; out[q + 1] = (k >> 8) & 0xff; out[q + 2] = (k >> 16) & 0xff; }
      else dv.setInt32(q, k, true);
    }
  }
  return out;
}

function isChannelList(a: ArrayLike<number> | ArrayLike<number>[]): a is ArrayLike<number>[] {
  return Array.isArray(a) && (a.length === 0 || typeof a[0] !== 'number');
}
