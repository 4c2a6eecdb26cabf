// A restricted pickle virtual machine (protocols 0-5), written from the opcode documentation in CPython's
// Lib/pickletools.py. It builds plain data (None, bool, int, float, str, bytes, tuple, list, dict, set) and NEVER
// calls anything itself: every GLOBAL / STACK_GLOBAL / INST goes through the caller's `findGlobal`, which returns an
// inert value or a JS implementation of an allow-listed callable, or throws. The default refuses every global, so
// a pickle that names os.system or builtins.eval is rejected with an error that names it before anything is built.
//
// Python values in JS: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
// str -> string, bytes/bytearray -> Uint8Array, list -> JS array, tuple -> PyTuple, dict -> PyDict, set/frozenset ->
// PySet, persistent ids -> whatever `persistentLoad` returns, globals/call results -> whatever `findGlobal` returns.

/** A Python tuple (kept apart from lists so callers can tell them apart). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict (or an allow-listed dict subclass such as collections.OrderedDict), insertion-ordered. */
export class PyDict {
  readonly map = new Map<unknown, PyValue>();
  /** Attributes set by BUILD (e.g. a state_dict's `_metadata`). */
  readonly attrs = new Map<string, PyValue>();
  constructor(readonly className = 'dict') {}
}

/** A Python set or frozenset. */
export class PySet {
  readonly items: PyValue[] = [];
  constructor(readonly frozen = false) {}
}

/**
 * An allow-listed global. `call` (optional) implements calling it (REDUCE, NEWOBJ, INST/OBJ); `build` (optional)
 * implements BUILD on objects it created. A global without `call` is an inert value (e.g. a dtype or storage tag).
 */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call?: (args: PyValue[], kwargs?: PyDict) => PyValue,
  ) {}
  get qualifiedName(): string { return `${this.module}.${this.name}`; }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PySet | PyGlobal | object;

export interface UnpickleOptions {
  /** Resolves (module, name) to a value; throw to refuse. Default: refuse every global. */
  findGlobal?: (module: string, name: string) => PyValue;
  /** Resolves a persistent id (PERSID / BINPERSID). Default: refuse. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Applies BUILD state to `obj` for objects other than PyDict. Default: refuse. */
  build?: (obj: PyValue, state: PyValue) => PyValue;
  /** Prefix for error messages (file name). */
  source?: string;
}

/** The error thrown for a global that is not on the allow-list. */
export function refuseGlobal(module: string, name: string, hint = ''): never {
  throw new Error(`pickle references the global ${module}.${name}, which is not on the allow-list; refusing to load${hint}`);
}

const MARK = Symbol('mark');

/** A short type name of a value, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.className;
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (typeof v === 'object' && v && 'pyType' in v) return String((v as { pyType: unknown }).pyType);
  return typeof v;
}

/** The key under which a Python value is stored in a PyDict / PySet map (primitives by value, objects by identity). */
function dictKey(k: PyValue): unknown {
  if (typeof k === 'number' && Number.isInteger(k)) return k;
  if (typeof k === 'bigint') return Number.isSafeInteger(Number(k)) && BigInt(Number(k)) === k ? Number(k) : k;
  if (k === true) return 1; // Python: True == 1 hashes alike
  if (k === false) return 0;
  return k;
}

/**
 * A plain JS rendering of a Python value (for metadata and diagnostics): dicts with string keys become objects
 * (other keys are stringified), tuples and sets arrays, everything else as is. Cycles become null.
 */
export function pyToJs(v: PyValue, seen = new Set<unknown>()): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (seen.has(v)) return null;
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => pyToJs(x, seen));
    if (v instanceof PyTuple) return v.items.map((x) => pyToJs(x, seen));
    if (v instanceof PySet) return v.items.map((x) => pyToJs(x, seen));
    if (v instanceof PyDict) {
      const o: Record<string, unknown> = {};
      // defineProperty: a key such as "__proto__" becomes an own property, never the object's prototype.
      for (const [k, x] of v.map) Object.defineProperty(o, String(k), { value: pyToJs(x as PyValue, seen), enumerable: true, writable: true, configurable: true });
      return o;
    }
    if (v instanceof PyGlobal) return v.qualifiedName;
    return v;
  } finally { seen.delete(v); }
}

/** Set `d[k] = v` on a PyDict. */
export function dictSet(d: PyDict, k: PyValue, v: PyValue): void {
  d.map.set(typeof k === 'string' ? k : dictKey(k), v);
}

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Little-endian two's-complement integer of `b` (LONG1 / LONG4 payload). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return normInt(v);
}

function normInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Python raw-unicode-escape decoding (UNICODE opcode): only \uXXXX and \UXXXXXXXX are escapes. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a: string | undefined, b: string | undefined) => String.fromCodePoint(parseInt((a ?? b)!, 16)));
}

/** Decode a Python 2 string literal as written by the STRING opcode ('...' or "..." with backslash escapes). */
function pyStringLiteral(s: string, fail: (m: string) => never): string {
  if (s.length < 2 || (s[0] !== "'" && s[0] !== '"') || s[s.length - 1] !== s[0]) fail(`STRING argument ${JSON.stringify(s)} is not quoted`);
  const body = s.slice(1, -1);
  const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') { out += c; continue; }
    const d = body[++i];
    if (d === undefined) fail('STRING ends with a backslash');
    if (d in simple) { out += simple[d]; continue; }
    if (d === 'x') { out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; continue; }
    if (d >= '0' && d <= '7') {
      let j = i; let oct = '';
      while (j < body.length && oct.length < 3 && body[j] >= '0' && body[j] <= '7') oct += body[j++];
      out += String.fromCharCode(parseInt(oct, 8)); i = j - 1; continue;
    }
    out += '\\' + d;
  }
  return out;
}

/**
 * Run the pickle in `data` and return the object it builds. Throws (naming `opts.source`, the byte offset and the
 * opcode) on truncated or malformed pickles, on unknown opcodes and on any global `findGlobal` refuses.
 */
export function unpickle(data: Uint8Array, opts: UnpickleOptions = {}): PyValue {
  const source = opts.source ?? 'pickle';
  const findGlobal = opts.findGlobal ?? ((m: string, n: string) => refuseGlobal(m, n));
  const persistentLoad = opts.persistentLoad ?? (() => { throw new Error('pickle uses persistent ids, which this reader does not resolve'); });
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: (PyValue | typeof MARK)[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let opPos = 0;
  let op = 0;

  const fail = (msg: string): never => {
    const name = OPNAMES[op] ?? `0x${op.toString(16)}`;
    throw new Error(`${source}: ${msg} (pickle byte ${opPos}, opcode ${name})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) fail(`truncated pickle: needs ${n} more bytes at byte ${pos}, has ${data.length - pos}`);
  };
  const bytesN = (n: number): Uint8Array => { need(n); const b = data.subarray(pos, pos + n); pos += n; return b; };
  const u8 = () => { need(1); return data[pos++]; };
  const u16 = () => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = () => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = () => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true); pos += 8;
    if (v > BigInt(data.length)) fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: missing newline');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8Str = (b: Uint8Array): string => {
    try { return utf8.decode(b); } catch { return fail('string is not valid UTF-8'); }
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail('stack underflow (corrupt pickle)');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail('stack underflow (corrupt pickle)');
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) return fail('no MARK on the stack (corrupt pickle)');
    const items = stack.splice(m) as PyValue[];
    return items;
  };
  const push = (v: PyValue) => { stack.push(v); };
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`memo key ${i} is not defined (corrupt pickle)`);
    return memo.get(i)!;
  };
  const call = (f: PyValue, args: PyValue[], kwargs?: PyDict): PyValue => {
    if (!(f instanceof PyGlobal)) return fail(`cannot call a ${pyTypeName(f)} (only allow-listed globals are callable)`);
    if (!f.call) return fail(`the global ${f.qualifiedName} is not callable here`);
    try { return f.call(args, kwargs); } catch (e) {
      const m = (e as Error).message;
      throw new Error(m.startsWith(source) ? m : `${source}: ${f.qualifiedName}: ${m}`, { cause: e });
    }
  };
  const global = (module: string, name: string): PyValue => {
    try { return findGlobal(module, name); } catch (e) {
      const m = (e as Error).message;
      throw new Error(m.startsWith(source) ? m : `${source}: ${m}`, { cause: e });
    }
  };
  const setItems = (d: PyValue, items: PyValue[]) => {
    if (!(d instanceof PyDict)) fail(`SETITEM(S) on a ${pyTypeName(d)}, expected a dict`);
    if (items.length % 2) fail('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) dictSet(d as PyDict, items[i], items[i + 1]);
  };
  const appendItems = (l: PyValue, items: PyValue[]) => {
    if (!Array.isArray(l)) fail(`APPEND(S) on a ${pyTypeName(l)}, expected a list`);
    for (const x of items) (l as PyValue[]).push(x);
  };
  const addItems = (s: PyValue, items: PyValue[]) => {
    if (!(s instanceof PySet) || s.frozen) fail(`ADDITEMS on a ${pyTypeName(s)}, expected a set`);
    for (const x of items) (s as PySet).items.push(x);
  };

  for (;;) {
    opPos = pos;
    if (pos >= data.length) { op = 0; fail('truncated pickle: no STOP opcode'); }
    op = data[pos++];
    switch (op) {
      case 0x80: { const p = u8(); if (p > 5) fail(`unsupported pickle protocol ${p}`); break; } // PROTO
      case 0x95: u64(); break; // FRAME: length prefix only; frames are contiguous in the data
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length !== 0 || marks.length !== 0) fail('stack not empty at STOP (corrupt pickle)');
        return v;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: if (marks.length && stack.length === marks[marks.length - 1]) popMark(); else pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP

      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x49: { // INT (text; "01"/"00" are True/False in protocol 0)
        const s = line();
        if (s === '01') push(true);
        else if (s === '00') push(false);
        else { if (!/^[+-]?\d+$/.test(s)) fail(`INT argument ${JSON.stringify(s)} is not an integer`); push(normInt(BigInt(s))); }
        break;
      }
      case 0x4c: { // LONG (text, optional trailing L)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`LONG argument ${JSON.stringify(s)} is not an integer`);
        push(normInt(BigInt(s)));
        break;
      }
      case 0x4a: push(i32()); break; // BININT
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x8a: push(decodeLong(bytesN(u8()))); break; // LONG1
      case 0x8b: { const n = i32(); if (n < 0) fail('negative LONG4 length'); push(decodeLong(bytesN(n))); break; } // LONG4
      case 0x46: { // FLOAT (text repr)
        const s = line().trim();
        const v = /^[+-]?inf$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : /^[+-]?nan$/i.test(s) ? NaN : Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`FLOAT argument ${JSON.stringify(s)} is not a number`);
        push(v);
        break;
      }
      case 0x47: { need(8); push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)

      case 0x53: push(pyStringLiteral(line(), fail)); break; // STRING
      case 0x54: { const n = i32(); if (n < 0) fail('negative BINSTRING length'); push(latin1.decode(bytesN(n))); break; } // BINSTRING
      case 0x55: push(latin1.decode(bytesN(u8()))); break; // SHORT_BINSTRING
      case 0x56: push(rawUnicodeEscape(line())); break; // UNICODE (raw-unicode-escape)
      case 0x58: push(utf8Str(bytesN(u32()))); break; // BINUNICODE
      case 0x8c: push(utf8Str(bytesN(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: push(utf8Str(bytesN(u64()))); break; // BINUNICODE8
      case 0x42: push(bytesN(u32()).slice()); break; // BINBYTES
      case 0x43: push(bytesN(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: push(bytesN(u64()).slice()); break; // BINBYTES8
      case 0x96: push(bytesN(u64()).slice()); break; // BYTEARRAY8

      case 0x29: push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: { const a = pop(); push(new PyTuple([a])); break; } // TUPLE1
      case 0x86: { const b = pop(), a = pop(); push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x6c: push(popMark()); break; // LIST
      case 0x61: { const x = pop(); appendItems(top(), [x]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); const d = new PyDict(); setItems(d, items); push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: push(new PySet()); break; // EMPTY_SET
      case 0x90: { const items = popMark(); addItems(top(), items); break; } // ADDITEMS
      case 0x91: { const s = new PySet(true); s.items.push(...popMark()); push(s); break; } // FROZENSET

      case 0x70: { const s = line(); if (!/^\d+$/.test(s)) fail(`PUT argument ${JSON.stringify(s)}`); memo.set(Number(s), top()); break; } // PUT
      case 0x71: { const i = u8(); memo.set(i, top()); break; } // BINPUT
      case 0x72: { const i = u32(); memo.set(i, top()); break; } // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: { const s = line(); if (!/^\d+$/.test(s)) fail(`GET argument ${JSON.stringify(s)}`); push(memoGet(Number(s))); break; } // GET
      case 0x68: push(memoGet(u8())); break; // BINGET
      case 0x6a: push(memoGet(u32())); break; // LONG_BINGET

      case 0x63: { const module = line(); const name = line(); push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x69: { // INST: module and name inline, args from the mark
        const module = line(); const name = line();
        const args = popMark();
        push(call(global(module, name), args));
        break;
      }
      case 0x6f: { const items = popMark(); if (!items.length) fail('OBJ without a class'); push(call(items[0], items.slice(1))); break; } // OBJ
      case 0x52: { // REDUCE
        const args = pop(), f = pop();
        if (!(args instanceof PyTuple)) fail(`REDUCE arguments are a ${pyTypeName(args)}, expected a tuple`);
        push(call(f, (args as PyTuple).items));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop(), cls = pop();
        if (!(args instanceof PyTuple)) fail(`NEWOBJ arguments are a ${pyTypeName(args)}, expected a tuple`);
        push(call(cls, (args as PyTuple).items));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(), args = pop(), cls = pop();
        if (!(args instanceof PyTuple) || !(kwargs instanceof PyDict)) fail('NEWOBJ_EX needs a tuple and a dict');
        push(call(cls, (args as PyTuple).items, kwargs as PyDict));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) {
          // Dict subclasses (OrderedDict) carry instance attributes: state is a dict, or (dict | None, slots dict).
          const parts = state instanceof PyTuple && state.items.length === 2 ? state.items : [state];
          for (const p of parts) {
            if (p === null) continue;
            if (!(p instanceof PyDict)) fail(`BUILD state for a ${obj.className} is a ${pyTypeName(p)}, expected a dict`);
            for (const [k, v] of (p as PyDict).map) {
              if (typeof k !== 'string') fail('BUILD attribute names must be strings');
              obj.attrs.set(k as string, v);
            }
          }
        } else if (opts.build) {
          stack[stack.length - 1] = opts.build(obj, state);
        } else {
          fail(`BUILD on a ${pyTypeName(obj)} is not supported`);
        }
        break;
      }
      case 0x50: push(persistentLoad(line())); break; // PERSID (text id)
      case 0x51: push(persistentLoad(pop())); break; // BINPERSID

      case 0x82: case 0x83: case 0x84: // EXT1/2/4: the copyreg extension registry names globals by number
        fail('extension-registry opcodes are not supported (they name globals outside the allow-list)');
        break;
      case 0x97: case 0x98: // NEXT_BUFFER / READONLY_BUFFER
        fail('out-of-band buffers (pickle protocol 5) are not supported');
        break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or corrupt)`);
    }
  }
}
