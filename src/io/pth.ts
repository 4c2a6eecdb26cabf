// PyTorch checkpoint (.pth / .pt) reader for state_dicts saved by torch.save (zip format, torch >= 1.6).
// Browser-safe: takes the file's bytes.
//
// Layout (torch/serialization.py, "zipfile" format): a ZIP archive whose entries share one top-level folder
// <archive>/ (the file's stem, or "archive"): <archive>/data.pkl is a pickle of the object; each tensor storage is a
// separate stored record <archive>/data/<key>, referenced from the pickle by a persistent id
// ('storage', <storage type global e.g. torch.FloatStorage>, <key>, <location e.g. 'cpu'>, <numel>);
// <archive>/version holds the format version; torch >= 2.1 adds <archive>/byteorder ('little' | 'big').
// A tensor is rebuilt by torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]), so views (transposes, slices, several tensors on one storage) come out as torch
// saw them; nn.Parameter wraps that in torch._utils._rebuild_parameter(tensor, requires_grad, backward_hooks).
//
// Safety: the pickle runs in our own VM (./pickle.ts) with an allow-list of globals (below); nothing is executed.
// Anything else (os.system, builtins.eval, a pickled nn.Module class) stops the load with an error naming it.
//
// Decoded values: float32 -> Float32Array (a zero-copy view of the archive when contiguous and aligned),
// float16/bfloat16 -> Float32Array (converted), float64 -> Float64Array, int64 -> BigInt64Array, int32 ->
// Int32Array, int16 -> Int16Array, int8 -> Int8Array, uint8 -> Uint8Array, bool -> Uint8Array of 0/1.

import { bf16ToF32Array, f16ToF32Array } from './half.ts';
import { PyDict, PyGlobal, PyTuple, pyToJs, pyTypeName, refuseGlobal, unpickle, type PyValue } from './pickle.ts';
import { ZipArchive } from './zip.ts';

/** Tensor element types a .pth may hold that this reader decodes (torch dtype names). */
export type TorchDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type PthData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** One tensor of a state_dict. `dtype` is the dtype stored in the file; `data` is row-major (see the header). */
export interface PthTensor {
  dtype: TorchDType;
  shape: number[];
  data: PthData;
  /** True when the value was saved as an nn.Parameter. */
  parameter: boolean;
}

/** A decoded checkpoint: the tensors plus what the archive says about itself. */
export interface PthCheckpoint {
  tensors: Map<string, PthTensor>;
  /** The folder every entry lives in ("archive", or the saved file's stem). */
  archiveName: string;
  /** Contents of <archive>/version (e.g. "3"), or null when absent. */
  version: string | null;
  byteorder: 'little' | 'big';
  /** The state_dict's `_metadata` attribute (per-module versions) as plain JS, or null. */
  metadata: unknown;
  /** Number of distinct storages referenced. */
  storages: number;
  /** Bytes of all storages referenced. */
  storageBytes: number;
}

export interface ReadPthOptions {
  /** Name used in every error message (the file name). */
  source?: string;
  /** Check each record's CRC-32 (default true). */
  verifyCrc?: boolean;
  /** Called after each tensor is decoded (for progress output on large files). */
  onProgress?: (done: number, total: number, bytesDone: number, bytesTotal: number) => void;
}

const ELEMENT_SIZE: Record<TorchDType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** Storage classes (torch.<Name>Storage): dtype, or a name for dtypes this reader refuses. */
const STORAGE_TYPES: Record<string, TorchDType | { unsupported: string }> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', UntypedStorage: 'uint8',
  ComplexFloatStorage: { unsupported: 'complex64' }, ComplexDoubleStorage: { unsupported: 'complex128' },
  QInt8Storage: { unsupported: 'qint8' }, QUInt8Storage: { unsupported: 'quint8' }, QInt32Storage: { unsupported: 'qint32' },
  QUInt4x2Storage: { unsupported: 'quint4x2' }, QUInt2x4Storage: { unsupported: 'quint2x4' },
};

/** torch.<dtype> globals, inert values (they may appear as arguments). */
const DTYPE_GLOBALS: Record<string, TorchDType | string> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool', complex64: 'complex64', complex128: 'complex128',
};

/** The storage-class tag a persistent id carries. */
class StorageType extends PyGlobal {
  constructor(name: string, readonly dtype: TorchDType | { unsupported: string }) { super('torch', name); }
}

/** A torch.dtype global such as torch.float32 (an inert value). */
class DTypeValue extends PyGlobal {
  constructor(name: string, readonly dtype: string) { super('torch', name); }
}

/** One storage record, typed. */
interface Storage {
  pyType: 'torch storage';
  key: string;
  dtype: TorchDType;
  numel: number;
  /** The record's bytes (little-endian; byte-swapped copy when the archive is big-endian). */
  bytes: Uint8Array;
}

/** A rebuilt tensor before decoding (decoded once the whole pickle has been validated). */
class PendingTensor {
  readonly pyType = 'torch.Tensor';
  parameter = false;
  constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

function isInt(v: PyValue): v is number { return typeof v === 'number' && Number.isSafeInteger(v); }

function intTuple(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new Error(`${what} is a ${pyTypeName(v)}, expected a tuple of integers`);
  const items = v instanceof PyTuple ? v.items : v as PyValue[];
  return items.map((x, i) => {
    if (!isInt(x) || x < 0) throw new Error(`${what}[${i}] is ${String(x)}, expected a non-negative integer`);
    return x;
  });
}

/** An empty-ish argument: None, an empty dict/OrderedDict (backward hooks, state) or an empty tuple. */
function isEmpty(v: PyValue): boolean {
  return v === null || (v instanceof PyDict && v.map.size === 0 && v.attrs.size === 0) || (v instanceof PyTuple && v.items.length === 0);
}

/** The modules whose globals mean "this pickle holds a whole model object, not a state_dict". */
function moduleHint(module: string): string {
  if (module.startsWith('torch.nn.') || module === '__main__' || module.startsWith('openflam') || module.startsWith('transformers')) {
    return ' (the file looks like a whole pickled model, torch.save(model), not a state_dict: re-save it with torch.save(model.state_dict(), path))';
  }
  return '';
}

function swapBytes(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i + size <= src.length; i += size) for (let j = 0; j < size; j++) out[i + j] = src[i + size - 1 - j];
  return out;
}

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): PthData; new (length: number): PthData; readonly BYTES_PER_ELEMENT: number };

/** The array type holding one stored element (half types as raw 16-bit patterns). */
function rawCtor(dtype: TorchDType): Ctor {
  switch (dtype) {
    case 'float32': return Float32Array;
    case 'float64': return Float64Array;
    case 'float16': case 'bfloat16': return Uint16Array as unknown as Ctor;
    case 'int64': return BigInt64Array;
    case 'int32': return Int32Array;
    case 'int16': return Int16Array;
    case 'int8': return Int8Array;
    case 'uint8': case 'bool': return Uint8Array;
  }
}

/** Elements [first, first + count) of a storage as a typed array: a view when aligned, else an aligned copy. */
function rawElements(s: Storage, first: number, count: number): PthData {
  const C = rawCtor(s.dtype);
  const size = C.BYTES_PER_ELEMENT;
  const b = s.bytes.subarray(first * size, (first + count) * size);
  if (b.byteOffset % size === 0) return new C(b.buffer, b.byteOffset, count);
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new C(copy.buffer, 0, count);
}

/** Decode a rebuilt tensor into a row-major typed array. */
function decodeTensor(t: PendingTensor): PthData {
  const { storage: s, offset, shape, stride } = t;
  let n = 1;
  for (const d of shape) n *= d;
  let contiguous = true;
  for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= shape[i];
  }
  let raw: PthData;
  if (n === 0) raw = new (rawCtor(s.dtype))(0);
  else if (contiguous) raw = rawElements(s, offset, n);
  else {
    // Strided gather: walk the output in row-major order with an odometer over the dimensions.
    let span = 0;
    for (let i = 0; i < shape.length; i++) span += (shape[i] - 1) * stride[i];
    const src = rawElements(s, offset, span + 1) as unknown as ArrayLike<number | bigint>;
    const out = new (rawCtor(s.dtype))(n) as unknown as { [i: number]: number | bigint };
    const nd = shape.length;
    const idx = new Array<number>(nd).fill(0);
    let p = 0;
    for (let i = 0; i < n; i++) {
      out[i] = src[p];
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) { p += stride[d]; break; }
        p -= (shape[d] - 1) * stride[d];
        idx[d] = 0;
      }
    }
    raw = out as unknown as PthData;
  }
  if (s.dtype === 'bool') {
    const b = raw as Uint8Array;
    for (let i = 0; i < b.length; i++) if (b[i] > 1) throw new Error(`bool element ${i} has byte value ${b[i]}, expected 0 or 1`);
  }
  if (s.dtype === 'float16') return f16ToF32Array(raw as unknown as Uint16Array);
  if (s.dtype === 'bfloat16') return bf16ToF32Array(raw as unknown as Uint16Array);
  return raw;
}

/** Largest tensor this reader materialises (elements): 2^31, i.e. 8 GiB of float32. */
const MAX_ELEMENTS = 2 ** 31;

/**
 * Read a torch.save'd state_dict. Throws an Error naming `opts.source` when the data is not a ZIP archive or is
 * truncated, has no data.pkl, the pickle references a global outside the allow-list, the top-level object is not a
 * dict of tensors, a storage record is missing or too small for a tensor's size/stride, or a dtype is unsupported.
 */
export function loadPth(bytes: Uint8Array, opts: ReadPthOptions = {}): PthCheckpoint {
  const source = opts.source ?? '.pth data';
  const fail = (msg: string): never => { throw new Error(`${source}: ${msg}`); };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail('this is a legacy (pre-1.6, non-zip) torch.save file, which is not supported; re-save it with torch >= 1.6 (torch.save(torch.load(path), path))');
  }
  const zip = ZipArchive.open(bytes, source, { verifyCrc: opts.verifyCrc });
  const pkls = zip.names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length === 0) {
    const shown = zip.names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ');
    fail(`not a PyTorch checkpoint: the ZIP archive has no <archive>/data.pkl (entries: ${shown}${zip.names.length > 5 ? ', ...' : ''}${zip.names.length === 0 ? 'none' : ''})`);
  }
  if (pkls.length > 1) fail(`not a PyTorch checkpoint: several data.pkl records (${pkls.join(', ')})`);
  const archiveName = pkls[0].slice(0, -'/data.pkl'.length);
  const text = (name: string): string | null => zip.has(`${archiveName}/${name}`) ? new TextDecoder().decode(zip.read(`${archiveName}/${name}`)).trim() : null;
  const version = text('version') ?? text('.data/version');
  const bo = text('byteorder') ?? 'little';
  if (bo !== 'little' && bo !== 'big') fail(`byteorder record says ${JSON.stringify(bo)}, expected "little" or "big"`);
  const byteorder = bo as 'little' | 'big';

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      fail(`unsupported persistent id ${pid instanceof PyTuple ? `(${pid.items.map(pyTypeName).join(', ')})` : pyTypeName(pid)}; expected ('storage', type, key, location, numel)`);
    }
    const [, type, key, location, numel] = (pid as PyTuple).items;
    if (!(type instanceof StorageType)) return fail(`persistent id names storage type ${pyTypeName(type)}, expected a torch.*Storage class`);
    if (typeof key !== 'string') return fail(`persistent id key is a ${pyTypeName(key)}, expected a string`);
    if (typeof location !== 'string') return fail(`persistent id location is a ${pyTypeName(location)}, expected a string`);
    if (!isInt(numel) || numel < 0) return fail(`storage ${key}: numel is ${String(numel)}, expected a non-negative integer`);
    if (typeof type.dtype !== 'string') return fail(`storage ${key} has dtype ${type.dtype.unsupported} (torch.${type.name}), which is not supported (supported: ${Object.keys(ELEMENT_SIZE).join(', ')})`);
    const dtype = type.dtype;
    const seen = storages.get(key);
    if (seen) {
      if (seen.dtype !== dtype) fail(`storage ${key} is referenced as ${seen.dtype} and as ${dtype}`);
      return seen;
    }
    const record = `${archiveName}/data/${key}`;
    if (!zip.has(record)) fail(`storage record ${record} is missing from the archive (truncated or damaged checkpoint)`);
    let data = zip.read(record);
    const need = numel * ELEMENT_SIZE[dtype];
    if (data.length < need) fail(`storage record ${record} holds ${data.length} bytes, but the pickle declares ${numel} ${dtype} elements (${need} bytes)`);
    data = data.subarray(0, need);
    if (byteorder === 'big' && ELEMENT_SIZE[dtype] > 1) data = swapBytes(data, ELEMENT_SIZE[dtype]);
    const s: Storage = { pyType: 'torch storage', key, dtype, numel, bytes: data };
    storages.set(key, s);
    return s;
  };

  const rebuildTensor = (args: PyValue[]): PyValue => {
    if (args.length < 4 || args.length > 7) throw new Error(`expected 4 to 7 arguments, got ${args.length}`);
    const [storage, offset, size, stride] = args;
    if (!storage || typeof storage !== 'object' || (storage as Storage).pyType !== 'torch storage') throw new Error(`storage argument is a ${pyTypeName(storage)}`);
    const s = storage as Storage;
    if (!isInt(offset) || offset < 0) throw new Error(`storage_offset is ${String(offset)}, expected a non-negative integer`);
    const shape = intTuple(size, 'size');
    const strides = intTuple(stride, 'stride');
    if (shape.length !== strides.length) throw new Error(`size has ${shape.length} dimensions but stride has ${strides.length}`);
    let n = 1, span = 0;
    for (let i = 0; i < shape.length; i++) { n *= shape[i]; span += Math.max(shape[i] - 1, 0) * strides[i]; }
    if (n > MAX_ELEMENTS) throw new Error(`tensor of size [${shape.join(', ')}] has ${n} elements, more than the ${MAX_ELEMENTS} this reader accepts`);
    if (n > 0 && offset + span >= s.numel) {
      throw new Error(`storage ${s.key} is too small: ${s.numel} ${s.dtype} elements, but a tensor with storage_offset ${offset}, size [${shape.join(', ')}] and stride [${strides.join(', ')}] reads element ${offset + span}`);
    }
    return new PendingTensor(s, offset, shape, strides);
  };
  const rebuildParameter = (args: PyValue[], withState: boolean): PyValue => {
    const want = withState ? 4 : 3;
    if (args.length !== want) throw new Error(`expected ${want} arguments, got ${args.length}`);
    const t = args[0];
    if (!(t instanceof PendingTensor)) throw new Error(`data argument is a ${pyTypeName(t)}, expected a tensor`);
    if (withState && !isEmpty(args[3])) throw new Error('parameters with extra Python state (subclasses of nn.Parameter) are not supported');
    t.parameter = true;
    return t;
  };
  const orderedDict = (args: PyValue[]): PyValue => {
    const d = new PyDict('collections.OrderedDict');
    if (args.length > 1) throw new Error(`expected at most one argument, got ${args.length}`);
    if (args.length === 1 && args[0] !== null) {
      const a = args[0];
      const pairs = a instanceof PyTuple ? a.items : Array.isArray(a) ? a : null;
      if (a instanceof PyDict) for (const [k, v] of a.map) d.map.set(k, v);
      else if (pairs) {
        for (const p of pairs) {
          const kv = p instanceof PyTuple ? p.items : Array.isArray(p) ? p : null;
          if (!kv || kv.length !== 2) throw new Error('expected (key, value) pairs');
          d.map.set(kv[0], kv[1]);
        }
      } else throw new Error(`cannot build an OrderedDict from a ${pyTypeName(a)}`);
    }
    return d;
  };

  const findGlobal = (module: string, name: string): PyValue => {
    const q = `${module}.${name}`;
    switch (q) {
      case 'collections.OrderedDict': return new PyGlobal(module, name, orderedDict);
      case 'torch._utils._rebuild_tensor_v2': return new PyGlobal(module, name, rebuildTensor);
      case 'torch._utils._rebuild_parameter': return new PyGlobal(module, name, (a) => rebuildParameter(a, false));
      case 'torch._utils._rebuild_parameter_with_state': return new PyGlobal(module, name, (a) => rebuildParameter(a, true));
    }
    if ((module === 'torch' || module === 'torch.storage') && Object.hasOwn(STORAGE_TYPES, name)) return new StorageType(name, STORAGE_TYPES[name]);
    if (module === 'torch' && Object.hasOwn(DTYPE_GLOBALS, name)) return new DTypeValue(name, DTYPE_GLOBALS[name]);
    return refuseGlobal(module, name, moduleHint(module));
  };

  const obj = unpickle(zip.read(pkls[0]), { findGlobal, persistentLoad, source: `${source}: ${pkls[0]}` });

  // The object must be a state_dict: a dict (or OrderedDict) from string keys to tensors.
  if (!(obj instanceof PyDict)) {
    const what = obj instanceof PendingTensor ? 'a single tensor' : `a ${pyTypeName(obj)}`;
    fail(`not a state_dict: top-level object is ${what}; expected a dict of tensors (torch.save(model.state_dict(), path))`);
  }
  const d = obj as PyDict;
  const bad: string[] = [];
  const nested: string[] = [];
  for (const [k, v] of d.map) {
    if (typeof k !== 'string') bad.push(`key ${String(k)} (${pyTypeName(k as PyValue)})`);
    else if (!(v instanceof PendingTensor)) {
      bad.push(`${JSON.stringify(k)} (${pyTypeName(v)})`);
      if (v instanceof PyDict && [...v.map.values()].some((x) => x instanceof PendingTensor)) nested.push(k);
    }
  }
  if (bad.length > 0) {
    const hint = nested.length ? `; it looks like a training checkpoint: the weights may be the dict under ${nested.map((k) => JSON.stringify(k)).join(' or ')}` : '';
    fail(`not a state_dict: ${bad.length} of ${d.map.size} entries are not tensors: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''}${hint}`);
  }

  const tensors = new Map<string, PthTensor>();
  let storageBytes = 0;
  for (const s of storages.values()) storageBytes += s.bytes.length;
  let done = 0, bytesDone = 0;
  for (const [k, v] of d.map as Map<string, PendingTensor>) {
    let data: PthData;
    try { data = decodeTensor(v); } catch (e) { return fail(`tensor "${k}": ${(e as Error).message}`); }
    tensors.set(k, { dtype: v.storage.dtype, shape: v.shape, data, parameter: v.parameter });
    done++;
    bytesDone += data.length * ELEMENT_SIZE[v.storage.dtype];
    opts.onProgress?.(done, d.map.size, bytesDone, storageBytes);
  }
  const md = d.attrs.get('_metadata');
  return { tensors, archiveName, version, byteorder, metadata: md === undefined ? null : pyToJs(md), storages: storages.size, storageBytes };
}

/** The tensors of a torch.save'd state_dict (see {@link loadPth}). */
export function readPth(bytes: Uint8Array, opts: ReadPthOptions = {}): Map<string, PthTensor> {
  return loadPth(bytes, opts).tensors;
}
