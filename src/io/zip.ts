// Minimal ZIP reader for the archives torch.save writes (PKWARE APPNOTE 6.3: end-of-central-directory record, its
// ZIP64 variant, central directory file headers, local file headers). Browser-safe: works on a Uint8Array.
//
// Why not fflate's unzipSync: it copies every entry it returns (`new Uint8Array(data.subarray(...))`), and a
// PyTorch checkpoint is one big file of stored (uncompressed) tensor records, so unzipSync would hold the archive
// twice. Here a stored entry is a zero-copy view into the archive; deflated entries (torch never writes them, but
// re-zipped checkpoints may have them) are inflated with fflate's inflateSync, whose errors are wrapped with the
// source and the entry name. Entries are located through the central directory, read lazily, and their CRC-32 is
// checked on first read (a flipped bit in a weight is reported, not converted).

import { inflateSync } from 'fflate';

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the local file header in the archive. */
  localHeaderOffset: number;
}

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), slice-by-8 tables: about 1 GB/s in V8, so checking a
// 0.8 GB checkpoint costs about a second.
let CRC_TABLES: Int32Array | null = null;
function crcTables(): Int32Array {
  if (CRC_TABLES) return CRC_TABLES;
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) { c = t[c & 0xff] ^ (c >>> 8); t[k * 256 + n] = c; }
  }
  CRC_TABLES = t;
  return t;
}

/** CRC-32 of `data` (as an unsigned 32-bit number); `crc` continues a previous call. */
export function crc32(data: Uint8Array, crc = 0): number {
  const t = crcTables();
  let c = ~crc;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  for (; i < end8; i += 8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)]
      ^ t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^ t[256 + data[i + 6]] ^ t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** A parsed archive. `read(name)` returns an entry's bytes (a view for stored entries). */
export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly checked = new Set<string>();

  private constructor(readonly bytes: Uint8Array, readonly source: string, entries: ZipEntry[], readonly verifyCrc: boolean) {
    this.entries = new Map(entries.map((e) => [e.name, e]));
  }

  /** Entry names in central-directory order. */
  get names(): string[] { return [...this.entries.keys()]; }

  has(name: string): boolean { return this.entries.has(name); }

  /**
   * Parse the central directory of `bytes`. Throws an error naming `source` when the data is not a ZIP archive,
   * is truncated, or its directory is inconsistent. `verifyCrc` (default true) checks each entry's CRC-32 on read.
   */
  static open(bytes: Uint8Array, source = 'zip data', opts: { verifyCrc?: boolean } = {}): ZipArchive {
    const fail = (msg: string): never => { throw new Error(`${source}: ${msg}`); };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    const u32 = (o: number) => dv.getUint32(o, true);
    const u16 = (o: number) => dv.getUint16(o, true);
    const u64 = (o: number, what: string): number => {
      const v = dv.getBigUint64(o, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is too large`);
      return Number(v);
    };
    const looksZip = n >= 4 && u32(0) === SIG_LOCAL;
    if (n < 22) fail(looksZip ? `truncated ZIP archive (${n} bytes)` : `not a ZIP archive (${n} bytes, too short)`);

    // The EOCD record is the last 22 bytes plus an optional comment of up to 65535 bytes.
    let eocd = -1;
    for (let o = n - 22; o >= Math.max(0, n - 22 - 65535); o--) {
      if (u32(o) === SIG_EOCD && o + 22 + u16(o + 20) === n) { eocd = o; break; }
    }
    if (eocd < 0) {
      fail(looksZip
        ? 'truncated ZIP archive: the end-of-central-directory record is missing (the file was cut short while copying or downloading?)'
        : `not a ZIP archive (first bytes ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}; no end-of-central-directory record)`);
    }
    let count = u16(eocd + 10);
    let cdSize = u32(eocd + 12);
    let cdOffset = u32(eocd + 16);
    if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) fail('multi-disk (split) ZIP archives are not supported');
    const loc = eocd - 20;
    if (loc >= 0 && u32(loc) === SIG_EOCD64_LOCATOR) {
      const z = u64(loc + 8, 'ZIP64 record offset');
      if (z + 56 > n || u32(z) !== SIG_EOCD64) fail('corrupt ZIP64 end-of-central-directory record');
      count = u64(z + 32, 'entry count');
      cdSize = u64(z + 40, 'central directory size');
      cdOffset = u64(z + 48, 'central directory offset');
    }
    if (cdOffset + cdSize > n) fail(`truncated or corrupt ZIP archive: the central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file (${n} bytes)`);

    const entries: ZipEntry[] = [];
    const dec = new TextDecoder();
    let o = cdOffset;
    for (let i = 0; i < count; i++) {
      if (o + 46 > n || u32(o) !== SIG_CENTRAL) fail(`corrupt ZIP central directory: entry ${i} of ${count} is missing at offset ${o}`);
      const flags = u16(o + 8);
      const method = u16(o + 10);
      const crc = u32(o + 16);
      let compressedSize = u32(o + 20);
      let size = u32(o + 24);
      const nameLen = u16(o + 28), extraLen = u16(o + 30), commentLen = u16(o + 32);
      let localHeaderOffset = u32(o + 42);
      if (o + 46 + nameLen + extraLen + commentLen > n) fail(`corrupt ZIP central directory: entry ${i} runs past the end of the file`);
      const name = dec.decode(bytes.subarray(o + 46, o + 46 + nameLen));
      // ZIP64 extended information: 8-byte values for the fields stored as 0xFFFFFFFF, in this order.
      let e = o + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = u16(e), len = u16(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          const take = (what: string): number => {
            if (p + 8 > e + 4 + len) fail(`corrupt ZIP64 extra field for entry "${name}"`);
            const v = u64(p, what); p += 8; return v;
          };
          if (size === 0xffffffff) size = take('size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('offset');
        }
        e += 4 + len;
      }
      if (flags & 1) fail(`entry "${name}" is encrypted; encrypted archives are not supported`);
      entries.push({ name, method, compressedSize, size, crc32: crc, localHeaderOffset });
      o += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(bytes, source, entries, opts.verifyCrc ?? true);
  }

  /** The bytes of entry `name`: a view into the archive for stored entries, a new array for deflated ones. */
  read(name: string): Uint8Array {
    const fail = (msg: string): never => { throw new Error(`${this.source}: ZIP entry "${name}": ${msg}`); };
    const e = this.entries.get(name);
    if (!e) return fail('not found in the archive');
    const b = this.bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const o = e.localHeaderOffset;
    if (o + 30 > b.length || dv.getUint32(o, true) !== SIG_LOCAL) fail(`local header missing at offset ${o} (corrupt or truncated archive)`);
    const start = o + 30 + dv.getUint16(o + 26, true) + dv.getUint16(o + 28, true);
    const end = start + e.compressedSize;
    if (end > b.length) fail(`data (${e.compressedSize} bytes at ${start}) runs past the end of the file (${b.length} bytes; truncated?)`);
    const raw = b.subarray(start, end);
    let out: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) fail(`stored entry has compressed size ${e.compressedSize} but size ${e.size}`);
      out = raw;
    } else if (e.method === 8) {
      try { out = inflateSync(raw, { out: new Uint8Array(e.size) }); }
      catch (err) { return fail(`cannot inflate (${(err as Error).message}); the archive is corrupt or truncated`); }
      if (out.length !== e.size) fail(`inflated to ${out.length} bytes, the directory says ${e.size}`);
    } else {
      return fail(`compression method ${e.method} is not supported (only stored and deflate)`);
    }
    // A CRC of 0 on a non-empty entry means "not recorded" (writers that skip checksums), not a mismatch.
    if (this.verifyCrc && !this.checked.has(name) && !(e.crc32 === 0 && out.length > 0)) {
      const c = crc32(out);
      if (c !== e.crc32) fail(`CRC-32 mismatch (stored ${e.crc32.toString(16).padStart(8, '0')}, computed ${c.toString(16).padStart(8, '0')}): the file is corrupt`);
      this.checked.add(name);
    }
    return out;
  }
}
