// safetensors reader and writer (format: 8-byte little-endian u64 N, N bytes of UTF-8 JSON header, then the raw
// little-endian tensor bytes). Header: {"__metadata__": {str: str}?, name: {"dtype", "shape", "data_offsets":
// [begin, end]}...}, offsets relative to the start of the data section. Like the reference writer we pad the header
// with spaces so that the data section starts on an 8-byte boundary, and we order tensors by element size
// (descending) then name, so every tensor is naturally aligned inside the file.
//
// Validation follows the reference reader: the tensors must tile the data section exactly (no overlap, no gap, no
// trailing bytes) and each tensor's byte span must equal prod(shape) * sizeof(dtype). Every error names the source
// (file name or label) and the problem. Reading is zero-copy where the host buffer alignment allows.

import { bf16ToF32Array, f16ToF32Array, f32ToBf16Array, f32ToF16Array } from './half.ts';

/** dtypes this module reads and writes. F16 and BF16 decode to float32. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** Bytes per element of each supported dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** dtypes defined by the safetensors format that this module does not decode. */
const KNOWN_UNSUPPORTED = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type TypedArray =
  | Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array
  | BigInt64Array | BigUint64Array;

type Ctor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (length: number): T; readonly BYTES_PER_ELEMENT: number };

/** A typed view of `bytes` (no copy) when its byteOffset is aligned for `C`, else an aligned copy. */
function typedView<T>(C: Ctor<T>, bytes: Uint8Array): T {
  const n = bytes.byteLength / C.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % C.BYTES_PER_ELEMENT === 0) return new C(bytes.buffer, bytes.byteOffset, n);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new C(copy.buffer, 0, n);
}

function fmtShape(shape: readonly number[]): string { return `[${shape.join(', ')}]`; }

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** One tensor of a decoded file. `bytes` is a view into the source buffer (no copy). */
export class SafetensorsTensor {
  constructor(
    readonly name: string,
    readonly dtype: SafetensorsDType,
    readonly shape: readonly number[],
    /** Raw little-endian bytes, a view into the decoded buffer. */
    readonly bytes: Uint8Array,
    /** Where the tensor came from, for error messages. */
    readonly source: string,
  ) {}

  /** Number of elements (1 for a scalar). */
  get size(): number { return numel(this.shape); }

  private fail(msg: string): never { throw new Error(`${this.source}: tensor "${this.name}" (${this.dtype} ${fmtShape(this.shape)}): ${msg}`); }

  /**
   * The values in their natural array type: F64 -> Float64Array, F32 -> Float32Array, F16/BF16 -> Float32Array
   * (decoded), I64 -> BigInt64Array, U64 -> BigUint64Array, I32/I16/I8/U32/U16/U8 -> the matching typed array,
   * BOOL -> Uint8Array of 0/1. Views share memory with the decoded buffer where alignment allows.
   */
  data(): TypedArray {
    const b = this.bytes;
    switch (this.dtype) {
      case 'F64': return typedView(Float64Array, b);
      case 'F32': return typedView(Float32Array, b);
      case 'F16': return f16ToF32Array(typedView(Uint16Array, b));
      case 'BF16': return bf16ToF32Array(typedView(Uint16Array, b));
      case 'I64': return typedView(BigInt64Array, b);
      case 'U64': return typedView(BigUint64Array, b);
      case 'I32': return typedView(Int32Array, b);
      case 'U32': return typedView(Uint32Array, b);
      case 'I16': return typedView(Int16Array, b);
      case 'U16': return typedView(Uint16Array, b);
      case 'I8': return typedView(Int8Array, b);
      case 'U8': return b;
      case 'BOOL': {
        for (let i = 0; i < b.length; i++) if (b[i] > 1) this.fail(`element ${i} has byte value ${b[i]}; BOOL bytes must be 0 or 1`);
        return b;
      }
    }
  }

  /** Values as plain numbers; 64-bit integers must be exactly representable (|v| <= 2^53). */
  private numbers(): ArrayLike<number> {
    const d = this.data();
    if (!(d instanceof BigInt64Array || d instanceof BigUint64Array)) return d;
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > 9007199254740992n || v < -9007199254740992n) this.fail(`element ${i} = ${v} is not exactly representable as a number`);
      out[i] = Number(v);
    }
    return out;
  }

  /** Values as float32 (zero-copy for aligned F32). 64-bit integers must be exactly representable (|v| <= 2^53). */
  float32(): Float32Array {
    const d = this.numbers();
    return d instanceof Float32Array ? d : Float32Array.from(d);
  }

  /** Values as float64 (zero-copy for aligned F64). */
  float64(): Float64Array {
    const d = this.numbers();
    return d instanceof Float64Array && this.dtype === 'F64' ? d : Float64Array.from(d);
  }

  /** Integer values as Int32Array, checked: every value must be an integer in [-2^31, 2^31 - 1] (no silent wrap). */
  int32(): Int32Array {
    const d = this.data();
    if (d instanceof Int32Array) return d;
    const out = new Int32Array(d.length);
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (v > 2147483647n || v < -2147483648n) this.fail(`element ${i} = ${v} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    if (d instanceof Float32Array || d instanceof Float64Array) this.fail('is a floating-point tensor, expected integers');
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > 2147483647) this.fail(`element ${i} = ${v} does not fit in int32`);
      out[i] = v;
    }
    return out;
  }

  /** Integer values as BigInt64Array (I64 zero-copy; narrower integer dtypes widened). */
  bigint64(): BigInt64Array {
    const d = this.data();
    if (d instanceof BigInt64Array) return d;
    if (d instanceof Float32Array || d instanceof Float64Array) this.fail('is a floating-point tensor, expected integers');
    const out = new BigInt64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (typeof v === 'bigint' && v > 9223372036854775807n) this.fail(`element ${i} = ${v} does not fit in int64`);
      out[i] = BigInt(v);
    }
    return out;
  }
}

/** One header entry, validated. `begin`/`end` are byte offsets relative to the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** A parsed header: where the data section starts, the metadata and the tensor entries in file order. */
export interface SafetensorsHeader {
  /** N, the JSON header length in bytes (padding included). */
  headerLength: number;
  /** Byte offset of the data section in the file (8 + N). */
  dataStart: number;
  metadata: Record<string, string>;
  entries: SafetensorsEntry[];
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parse and validate the header. `bytes` must hold at least the first 8 + N bytes of the file; `fileLength` is the
 * total file length (defaults to bytes.length), used to check that the tensors tile the data section exactly, so a
 * large file's header can be checked from a prefix.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, source = 'safetensors buffer', fileLength = bytes.length): SafetensorsHeader {
  const fail = (msg: string): never => { throw new Error(`${source}: invalid safetensors file: ${msg}`); };
  if (!LITTLE_ENDIAN_HOST) fail('big-endian hosts are not supported');
  if (fileLength < 8 || bytes.length < 8) fail(`${Math.min(fileLength, bytes.length)} bytes is too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file, or corrupted)`);
  const n = Number(n64);
  if (8 + n > fileLength) fail(`header length ${n} runs past the end of the file (${fileLength} bytes; truncated?)`);
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the ${bytes.length} bytes given`);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  if (bytes[8] !== 0x7b /* { */) fail(`header does not start with '{' (byte 0x${bytes[8].toString(16).padStart(2, '0')})`);
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)); }
  catch { return fail('header is not valid UTF-8'); }
  let json: unknown;
  try { json = JSON.parse(text); }
  catch (e) { return fail(`header is not valid JSON (${(e as Error).message})`); }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('header JSON is not an object');

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) fail('"__metadata__" is not an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__" value for "${k}" is ${JSON.stringify(v)}, expected a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(`${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offs } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`${where}: missing "dtype"`);
    if (!(dtype as string in DTYPE_SIZE)) {
      if (KNOWN_UNSUPPORTED.has(dtype as string)) fail(`${where}: dtype ${dtype} is not supported (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
      fail(`${where}: unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) fail(`${where}: "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) fail(`${where}: "data_offsets" must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
    const [begin, end] = offs as number[];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    const dt = dtype as SafetensorsDType;
    const need = numel(shape as number[]) * DTYPE_SIZE[dt];
    if (!Number.isSafeInteger(need)) fail(`${where}: shape ${fmtShape(shape as number[])} is too large`);
    if (end - begin !== need) fail(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dt} ${fmtShape(shape as number[])} needs ${need}`);
    entries.push({ name, dtype: dt, shape: (shape as number[]).slice(), begin, end });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = fileLength - 8 - n;
  let prev = 0;
  let prevName = '';
  for (const e of entries) {
    if (e.end > dataLength) fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] run past the end of the data section (${dataLength} bytes; truncated?)`);
    if (e.begin < prev) fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${prevName}" (which ends at ${prev})`);
    if (e.begin > prev) fail(`gap of ${e.begin - prev} bytes before tensor "${e.name}" (data bytes ${prev}..${e.begin} belong to no tensor)`);
    prev = e.end;
    prevName = e.name;
  }
  if (prev !== dataLength) fail(`${dataLength - prev} trailing bytes after the last tensor (data section is ${dataLength} bytes, tensors cover ${prev})`);
  return { headerLength: n, dataStart: 8 + n, metadata, entries };
}

/** A decoded safetensors file. Tensors are views into the decoded buffer. */
export class SafetensorsArchive {
  /** Tensors in file (offset) order. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;

  constructor(readonly source: string, readonly metadata: Readonly<Record<string, string>>, tensors: SafetensorsTensor[]) {
    this.tensors = new Map(tensors.map((t) => [t.name, t]));
  }

  /** Tensor names in file order. */
  get names(): string[] { return [...this.tensors.keys()]; }

  has(name: string): boolean { return this.tensors.has(name); }

  /** The tensor called `name`; throws an error naming the source when it is absent. */
  get(name: string): SafetensorsTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.source}: no tensor named "${name}" (the file holds ${this.tensors.size} tensors)`);
    return t;
  }
}

/** Decode a whole safetensors file held in memory. `source` (a file name or label) prefixes every error. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors buffer'): SafetensorsArchive {
  const h = parseSafetensorsHeader(bytes, source);
  const tensors = h.entries.map((e) => new SafetensorsTensor(e.name, e.dtype, e.shape, bytes.subarray(h.dataStart + e.begin, h.dataStart + e.end), source));
  return new SafetensorsArchive(source, h.metadata, tensors);
}

/** Values accepted by the writer. See {@link TensorSpec}. */
export type TensorValues = TypedArray | readonly number[] | readonly bigint[] | readonly boolean[];

/**
 * A tensor to write. Give either `data` (converted to `dtype`, checked) or `raw` (little-endian bytes, written as
 * they are). Conversions: floats from any numeric array (F16/BF16 round to nearest even after rounding to float32;
 * a Uint16Array given for F16/BF16 is taken as bit patterns); integers must be exact and in range; I64/U64 take
 * bigint arrays or safe-integer numbers; BOOL takes booleans or 0/1.
 */
export interface TensorSpec {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data?: TensorValues;
  raw?: Uint8Array;
}

const INT_RANGE: Partial<Record<SafetensorsDType, [number, number]>> = {
  I32: [-2147483648, 2147483647], I16: [-32768, 32767], I8: [-128, 127],
  U32: [0, 4294967295], U16: [0, 65535], U8: [0, 255], BOOL: [0, 1],
};

function bytesOf(a: TypedArray): Uint8Array { return new Uint8Array(a.buffer, a.byteOffset, a.byteLength); }

/** Convert one tensor's values to its little-endian bytes, with range checks. */
function tensorBytes(name: string, t: TensorSpec, n: number): Uint8Array {
  const fail = (msg: string): never => { throw new Error(`encodeSafetensors: tensor "${name}" (${t.dtype} ${fmtShape(t.shape)}): ${msg}`); };
  const need = n * DTYPE_SIZE[t.dtype];
  if (t.raw !== undefined) {
    if (t.data !== undefined) fail('give either data or raw, not both');
    if (!(t.raw instanceof Uint8Array)) fail('raw must be a Uint8Array');
    if (t.raw.length !== need) fail(`raw has ${t.raw.length} bytes, expected ${need}`);
    return t.raw;
  }
  const d = t.data;
  if (d === undefined) return fail('has neither data nor raw');
  if (d.length !== n) fail(`data has ${d.length} elements, shape needs ${n}`);
  const isBig = d instanceof BigInt64Array || d instanceof BigUint64Array || (d.length > 0 && typeof d[0] === 'bigint');
  const num = (i: number): number => {
    const v = d[i];
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'bigint') {
      if (v > 9007199254740992n || v < -9007199254740992n) fail(`element ${i} = ${v} cannot be converted exactly`);
      return Number(v);
    }
    if (typeof v !== 'number') fail(`element ${i} is ${typeof v}, expected a number`);
    return v as number;
  };
  switch (t.dtype) {
    case 'F64': return bytesOf(d instanceof Float64Array ? d : Float64Array.from({ length: n }, (_, i) => num(i)));
    case 'F32': return bytesOf(d instanceof Float32Array ? d : Float32Array.from({ length: n }, (_, i) => num(i)));
    case 'F16':
    case 'BF16': {
      if (d instanceof Uint16Array) return bytesOf(d);
      const src = d instanceof Float32Array || d instanceof Float64Array ? d : Float64Array.from({ length: n }, (_, i) => num(i));
      return bytesOf(t.dtype === 'F16' ? f32ToF16Array(src) : f32ToBf16Array(src));
    }
    case 'I64':
    case 'U64': {
      const signed = t.dtype === 'I64';
      if (signed && d instanceof BigInt64Array) return bytesOf(d);
      if (!signed && d instanceof BigUint64Array) return bytesOf(d);
      const out = signed ? new BigInt64Array(n) : new BigUint64Array(n);
      const lo = signed ? -(2n ** 63n) : 0n, hi = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
      for (let i = 0; i < n; i++) {
        const v = d[i];
        let b: bigint;
        if (typeof v === 'bigint') b = v;
        else if (typeof v === 'boolean') b = v ? 1n : 0n;
        else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
        else return fail(`element ${i} = ${String(v)} is not an exact integer`);
        if (b < lo || b > hi) fail(`element ${i} = ${b} is out of range for ${t.dtype}`);
        out[i] = b;
      }
      return bytesOf(out);
    }
    default: {
      const C = { I32: Int32Array, I16: Int16Array, I8: Int8Array, U32: Uint32Array, U16: Uint16Array, U8: Uint8Array, BOOL: Uint8Array }[t.dtype];
      if (!isBig && d instanceof C && t.dtype !== 'BOOL') return bytesOf(d as TypedArray);
      const [lo, hi] = INT_RANGE[t.dtype]!;
      const out = new C(n);
      for (let i = 0; i < n; i++) {
        const v = num(i);
        if (!Number.isInteger(v) || v < lo || v > hi) fail(`element ${i} = ${v} is not an integer in [${lo}, ${hi}]`);
        out[i] = v;
      }
      return bytesOf(out);
    }
  }
}

/**
 * Encode tensors (a record or [name, spec] pairs) and optional string metadata into safetensors bytes. Tensors are
 * laid out by element size (descending) then name; the header is space-padded so data starts 8-byte aligned.
 */
export function encodeSafetensors(
  tensors: Record<string, TensorSpec> | Iterable<readonly [string, TensorSpec]>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) throw new Error('encodeSafetensors: big-endian hosts are not supported');
  const list: [string, TensorSpec][] = Symbol.iterator in tensors ? [...(tensors as Iterable<readonly [string, TensorSpec]>)].map(([k, v]) => [k, v]) : Object.entries(tensors as Record<string, TensorSpec>);
  const seen = new Set<string>();
  const prepared = list.map(([name, t]) => {
    const fail = (msg: string): never => { throw new Error(`encodeSafetensors: tensor "${name}": ${msg}`); };
    if (typeof name !== 'string' || name.length === 0) fail('tensor names must be non-empty strings');
    if (name === '__metadata__') fail('"__metadata__" is reserved');
    if (seen.has(name)) fail('duplicate name');
    seen.add(name);
    if (!t || !((t.dtype as string) in DTYPE_SIZE)) fail(`unknown dtype ${JSON.stringify(t?.dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) fail(`shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    const n = numel(t.shape);
    if (!Number.isSafeInteger(n * DTYPE_SIZE[t.dtype])) fail(`shape ${fmtShape(t.shape)} is too large`);
    return { name, spec: t, bytes: tensorBytes(name, t, n) };
  });
  prepared.sort((a, b) => DTYPE_SIZE[b.spec.dtype] - DTYPE_SIZE[a.spec.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Build the JSON by hand so integer-like tensor names keep their order (JS objects would reorder them).
  const parts: string[] = [];
  if (metadata !== undefined) {
    const m: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata value for "${k}" is ${typeof v}, expected a string`);
      m.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${m.join(',')}}`);
  }
  let off = 0;
  for (const p of prepared) {
    const end = off + p.bytes.length;
    parts.push(`${JSON.stringify(p.name)}:{"dtype":"${p.spec.dtype}","shape":[${p.spec.shape.join(',')}],"data_offsets":[${off},${end}]}`);
    off = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const p of prepared) { out.set(p.bytes, pos); pos += p.bytes.length; }
  return out;
}
