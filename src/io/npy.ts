// NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0; C order only).
// File = "\x93NUMPY" + major + minor + header length (u16 LE in v1, u32 LE in v2/v3) + a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and ended by '\n' so the data
// starts on a 64-byte boundary, then the raw array bytes in C (row-major) order.

import { f16ToF32Array } from './half.ts';

/** Element types read. The writer produces the little-endian form of all but f2 and b1. */
export type NpyDType = 'f2' | 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';

export type NpyData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface NpyArray {
  /** The descr string found in the file, e.g. '<f4'. */
  descr: string;
  dtype: NpyDType;
  shape: number[];
  /** Values in C order. f2 decodes to Float32Array; b1 is a Uint8Array of 0/1. Zero-copy when aligned and LE. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyData; new (length: number): NpyData; readonly BYTES_PER_ELEMENT: number };
const CTORS: Record<Exclude<NpyDType, 'b1'>, Ctor> = {
  f2: Uint16Array, f4: Float32Array, f8: Float64Array, i1: Int8Array, i2: Int16Array, i4: Int32Array, i8: BigInt64Array,
  u1: Uint8Array, u2: Uint16Array, u4: Uint32Array, u8: BigUint64Array,
};
const ITEMSIZE: Record<NpyDType, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function descrOf(data: NpyData): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof BigUint64Array) return '<u8';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint8Array) return '|u1';
  throw new Error('encodeNpy: unsupported array type (expected a typed array)');
}

/**
 * Encode a typed array as .npy bytes with the given C-order shape (default: 1-D). The element type follows the
 * array class (Float32Array -> '<f4', Float64Array -> '<f8', Int32Array -> '<i4', Uint32Array -> '<u4',
 * BigInt64Array -> '<i8', ...). Version 1.0 unless the header needs more than 65535 bytes (then 2.0).
 */
export function encodeNpy(data: NpyData, shape: readonly number[] = [data.length]): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) throw new Error('encodeNpy: big-endian hosts are not supported');
  const descr = descrOf(data);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`encodeNpy: shape must be non-negative integers, got ${JSON.stringify(shape)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] holds ${n} elements but the data has ${data.length}`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  let version = 1;
  let lenBytes = 2;
  let total = Math.ceil((MAGIC.length + 2 + lenBytes + dict.length + 1) / ALIGN) * ALIGN;
  if (total - (MAGIC.length + 2 + lenBytes) > 0xffff) {
    version = 2; lenBytes = 4;
    total = Math.ceil((MAGIC.length + 2 + lenBytes + dict.length + 1) / ALIGN) * ALIGN;
  }
  const headerLen = total - (MAGIC.length + 2 + lenBytes);
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version; out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, headerLen, true); else dv.setUint32(8, headerLen, true);
  const h0 = MAGIC.length + 2 + lenBytes;
  for (let i = 0; i < dict.length; i++) out[h0 + i] = dict.charCodeAt(i);
  out.fill(0x20, h0 + dict.length, total - 1);
  out[total - 1] = 0x0a;
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

// A minimal parser for the Python literal in the header: dicts, tuples/lists, strings, ints, True/False/None.
type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

function parsePyLiteral(text: string, fail: (msg: string) => never): PyValue {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [k: string]: PyValue } = {};
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return obj; }
        const k = value();
        if (typeof k !== 'string') fail(`header dict key ${JSON.stringify(k)} is not a string`);
        ws();
        if (text[i] !== ':') fail(`expected ':' at header offset ${i}`);
        i++;
        obj[k as string] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail(`expected ',' or '}' at header offset ${i}`);
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const arr: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) { i++; return arr; }
        arr.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}' at header offset ${i}`);
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') { i++; }
        s += text[i++];
      }
      if (i >= text.length) fail('unterminated string in header');
      i++;
      return s;
    }
    const m = /^(-?\d+)L?|^(True|False|None)/.exec(text.slice(i));
    if (!m) fail(`unexpected ${JSON.stringify(text.slice(i, i + 10))} at header offset ${i}`);
    i += m![0].length;
    if (m![1] !== undefined) return Number(m![1]);
    return m![2] === 'True' ? true : m![2] === 'False' ? false : null;
  };
  const v = value();
  ws();
  if (i !== text.length) fail(`unexpected trailing text ${JSON.stringify(text.slice(i, i + 10))} in header`);
  return v;
}

/** Decode .npy bytes. `source` (a file name or label) prefixes every error. */
export function decodeNpy(bytes: Uint8Array, source = 'npy buffer'): NpyArray {
  const fail = (msg: string): never => { throw new Error(`${source}: invalid .npy file: ${msg}`); };
  if (!LITTLE_ENDIAN_HOST) fail('big-endian hosts are not supported');
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) fail('missing the \\x93NUMPY magic (not a .npy file)');
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3) fail(`unsupported format version ${major}.${minor}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail('truncated before the header length');
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes; truncated?)`);
  const hb = bytes.subarray(8 + lenBytes, dataStart);
  let text: string;
  if (major === 3) {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(hb); } catch { return fail('header is not valid UTF-8'); }
  } else {
    text = '';
    for (let k = 0; k < hb.length; k++) text += String.fromCharCode(hb[k]);
  }
  const dict = parsePyLiteral(text, (m) => fail(`bad header (${m})`));
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) return fail('header is not a dict');
  const keys = Object.keys(dict).sort().join(',');
  if (keys !== 'descr,fortran_order,shape') fail(`header keys are {${keys}}, expected descr, fortran_order, shape`);
  const { descr, fortran_order: fortran, shape } = dict as Record<string, PyValue>;
  if (typeof descr !== 'string') return fail(`structured dtype ${JSON.stringify(descr)} is not supported (only plain numeric arrays)`);
  if (typeof fortran !== 'boolean') fail(`fortran_order is ${JSON.stringify(fortran)}, expected True/False`);
  if (fortran) fail('Fortran-order (column-major) arrays are not supported; save a C-order copy, e.g. np.save(f, np.ascontiguousarray(a))');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) fail(`shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const dtype = (m ? m[2] + m[3] : '') as NpyDType;
  if (!m || !(dtype in ITEMSIZE)) fail(`dtype '${descr}' is not supported (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)`);
  const item = ITEMSIZE[dtype];
  const bigEndian = m![1] === '>' && item > 1;
  const dims = shape as number[];
  const n = dims.reduce((a, b) => a * b, 1);
  const nbytes = n * item;
  const have = bytes.length - dataStart;
  if (have < nbytes) fail(`data is ${have} bytes but '${descr}' shape (${dims.join(', ')}) needs ${nbytes} (truncated?)`);
  if (have > nbytes) fail(`${have - nbytes} unexpected trailing bytes after the array data`);
  let raw = bytes.subarray(dataStart, dataStart + nbytes);
  if (bigEndian || raw.byteOffset % item !== 0) {
    const copy = new Uint8Array(nbytes);
    if (bigEndian) { for (let e = 0; e < nbytes; e += item) for (let k = 0; k < item; k++) copy[e + k] = raw[e + item - 1 - k]; }
    else copy.set(raw);
    raw = copy;
  }
  let data: NpyData;
  if (dtype === 'b1') {
    for (let k = 0; k < raw.length; k++) if (raw[k] > 1) fail(`boolean element ${k} has byte value ${raw[k]}`);
    data = raw;
  } else {
    const view = new CTORS[dtype](raw.buffer, raw.byteOffset, n);
    data = dtype === 'f2' ? f16ToF32Array(view as Uint16Array) : view;
  }
  return { descr, dtype, shape: dims.slice(), data };
}
