// Minimal PNG encoder/decoder for RGBA8 images (browser-safe; zlib via fflate). Decoding supports what we encode
// (8-bit RGBA, non-interlaced, any filter type) so tests can read our figures back, and 8-bit RGB (what
// browser screenshots are), returned as RGBA with alpha 255.
import { zlibSync, unzlibSync } from 'fflate';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c >>> 0; }
  return t;
})();
function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIG = [137, 80, 78, 71, 13, 10, 26, 10];

/** Encode width x height RGBA8 pixels (row-major, 4 bytes per pixel) as PNG. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  if (rgba.length !== width * height * 4) throw new Error(`encodePng: ${rgba.length} bytes for ${width}x${height} RGBA (expected ${width * height * 4})`);
  const raw = new Uint8Array((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) { raw[y * (width * 4 + 1)] = 0; raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1); }
  const idat = zlibSync(raw, { level: 6 });
  const chunks: [string, Uint8Array][] = [['IHDR', ihdr(width, height)], ['IDAT', idat], ['IEND', new Uint8Array(0)]];
  const total = 8 + chunks.reduce((s, [, d]) => s + 12 + d.length, 0);
  const out = new Uint8Array(total);
  out.set(SIG, 0);
  const dv = new DataView(out.buffer);
  let p = 8;
  for (const [type, data] of chunks) {
    dv.setUint32(p, data.length);
    for (let i = 0; i < 4; i++) out[p + 4 + i] = type.charCodeAt(i);
    out.set(data, p + 8);
    dv.setUint32(p + 8 + data.length, crc32(out, p + 4, p + 8 + data.length));
    p += 12 + data.length;
  }
  return out;
}

function ihdr(w: number, h: number): Uint8Array {
  const b = new Uint8Array(13);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, w); dv.setUint32(4, h);
  b[8] = 8; b[9] = 6; b[10] = 0; b[11] = 0; b[12] = 0; // 8-bit RGBA, deflate, adaptive filter, no interlace
  return b;
}

/** Decode an 8-bit RGBA non-interlaced PNG (checks signature and CRCs). */
export function decodePng(png: Uint8Array, source = 'png'): { width: number; height: number; rgba: Uint8Array } {
  for (let i = 0; i < 8; i++) if (png[i] !== SIG[i]) throw new Error(`${source}: not a PNG`);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let p = 8, width = 0, height = 0, bpp = 4;
  const idat: Uint8Array[] = [];
  while (p + 12 <= png.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(png[p + 4], png[p + 5], png[p + 6], png[p + 7]);
    if (p + 12 + len > png.length) throw new Error(`${source}: truncated ${type} chunk`);
    if (crc32(png, p + 4, p + 8 + len) !== dv.getUint32(p + 8 + len)) throw new Error(`${source}: CRC mismatch in ${type}`);
    const data = png.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = dv.getUint32(p + 8); height = dv.getUint32(p + 12);
      if (data[8] !== 8 || (data[9] !== 6 && data[9] !== 2) || data[12] !== 0) throw new Error(`${source}: only 8-bit RGBA or RGB non-interlaced PNGs are supported`);
      bpp = data[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  const z = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
  let o = 0; for (const d of idat) { z.set(d, o); o += d.length; }
  const raw = unzlibSync(z);
  const stride = width * bpp;
  if (raw.length < (stride + 1) * height) throw new Error(`${source}: image data too short for ${width} x ${height}`);
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= bpp ? px[y * stride + x - bpp] : 0, b = y > 0 ? px[(y - 1) * stride + x] : 0, c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a; else if (f === 2) pred = b; else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) { const pp = a + b - c, pa = Math.abs(pp - a), pb = Math.abs(pp - b), pc = Math.abs(pp - c); pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      px[y * stride + x] = (v + pred) & 255;
    }
  }
  if (bpp === 4) return { width, height, rgba: px };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) { rgba[4 * i] = px[3 * i]; rgba[4 * i + 1] = px[3 * i + 1]; rgba[4 * i + 2] = px[3 * i + 2]; rgba[4 * i + 3] = 255; }
  return { width, height, rgba };
}
