import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PyDict, PyGlobal, PySet, PyTuple, pyToJs, unpickle, type PyValue } from '../../src/io/pickle.ts';
import { throwsWith } from '../util/compare.ts';

const s = suite('pickle');
const dir = join(import.meta.dirname, '..', 'fixtures', 'pth');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));

/** Concatenate opcodes: strings are latin1 bytes, numbers single bytes. */
function pk(...parts: (string | number | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}
const u32le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const u64le = (n: number) => [...u32le(n), 0, 0, 0, 0];


/** Our VM's value in the tagged form make_fixtures.py writes (see tag() there). */
function tag(v: PyValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') return v;
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (v instanceof PyTuple) return { tuple: v.items.map(tag) };
  if (Array.isArray(v)) return v.map(tag);
  if (v instanceof PyDict) return { dict: [...v.map].map(([k, x]) => [tag(k as PyValue), tag(x)]) };
  if (v instanceof PySet) return { [v.frozen ? 'frozenset' : 'set']: (v.items as number[]).slice().sort((a, b) => a - b) };
  throw new Error(`unexpected value ${String(v)}`);
}

/** Expected tagged values: Python floats come as {float: repr}; compare numerically (NaN/inf/-0 included). */
function untagFloats(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(untagFloats);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('float' in o) {
      const r = o.float as string;
      return r === 'inf' ? Infinity : r === '-inf' ? -Infinity : r === 'nan' ? NaN : Number(r);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, untagFloats(x)]));
  }
  return v;
}

for (const [file, variant] of Object.entries(expected.pickles as Record<string, string>)) {
  s(`${file}: every opcode of its protocol decodes to the values Python pickled`, () => {
    const got = unpickle(new Uint8Array(readFileSync(join(dir, file))), { source: file });
    const want = untagFloats(expected.pickle_values[variant]);
    assert.equal(tag(got), want);
    // -0.0 survives (uvu's equal would accept +0 for -0).
    const floats = ((got as PyDict).map.get('floats') as number[]);
    assert.ok(Object.is(floats[1], -0), 'float -0.0 decodes with its sign');
    // Memoised objects keep their identity: the same list twice is one JS array.
    const shared = (got as PyDict).map.get('shared') as PyValue[][];
    assert.ok(shared[0] === shared[1], `${file}: memo GET returns the same object`);
  });
}

s('every global is refused by default, named in the error, and nothing after it runs', () => {
  // GLOBAL 'posix system', then REDUCE with ('echo',): the error comes at GLOBAL, before REDUCE.
  const evil = pk(0x80, 2, 'cposix\nsystem\n', 'X', ...u32le(4), 'echo', 0x85, 'R.');
  throwsWith(() => unpickle(evil, { source: 'evil.pkl' }), /^evil\.pkl: pickle references the global posix\.system, which is not on the allow-list; refusing to load/, 'GLOBAL');
  // STACK_GLOBAL (protocol 4) naming builtins.eval.
  const evil4 = pk(0x80, 4, 0x8c, 8, 'builtins', 0x94, 0x8c, 4, 'eval', 0x94, 0x93, 0x8c, 3, '1+1', 0x85, 'R.');
  throwsWith(() => unpickle(evil4), /global builtins\.eval, which is not on the allow-list/, 'STACK_GLOBAL');
  // INST (protocol 0) naming os.system.
  const inst = pk('(S\'echo\'\nios\nsystem\n.');
  throwsWith(() => unpickle(inst), /global os\.system, which is not on the allow-list/, 'INST');
});

s('allow-listed callables are called only through findGlobal, with the pickled arguments', () => {
  const calls: PyValue[][] = [];
  const findGlobal = (m: string, n: string): PyValue => {
    if (m === 'lib' && n === 'f') return new PyGlobal(m, n, (args) => { calls.push(args); return 'made'; });
    if (m === 'lib' && n === 'inert') return new PyGlobal(m, n);
    throw new Error(`refused ${m}.${n}`);
  };
  // REDUCE lib.f(1, 'a'), NEWOBJ lib.f(2), OBJ lib.f(3), INST lib.f(4): four calls in order.
  const p = pk(0x80, 2, '(clib\nf\nK', 1, 'X', ...u32le(1), 'a', 0x86, 'R',
    'clib\nf\nK', 2, 0x85, 0x81, '(clib\nf\nK', 3, 'o', '(K', 4, 'ilib\nf\n', 't.');
  const got = unpickle(p, { findGlobal }) as PyTuple;
  assert.equal(got.items, ['made', 'made', 'made', 'made']);
  assert.equal(calls, [[1, 'a'], [2], [3], [4]]);
  // An inert global is a value, not a callable.
  throwsWith(() => unpickle(pk(0x80, 2, 'clib\ninert\n)R.'), { findGlobal }), /lib\.inert is not callable/, 'inert global');
  // Calling something that is not a global at all.
  throwsWith(() => unpickle(pk(0x80, 2, 'K', 1, ')R.'), { findGlobal }), /cannot call a int/, 'call an int');
});

s('protocol 4/5 opcodes written by hand: FRAME, BINUNICODE8, BINBYTES8, BYTEARRAY8, MEMOIZE', () => {
  const body = pk(0x8d, ...u64le(3), 'a\xc3\xa9', 0x94, 0x8e, ...u64le(2), 1, 2, 0x96, ...u64le(1), 9, 0x87,
    'B', ...u32le(3), 'xyz', 'h', 0, 0x87, '.');
  const p = pk(0x80, 5, 0x95, ...u64le(body.length), body);
  const got = unpickle(p) as PyTuple;
  // ((str, bytes8, bytearray8), binbytes, memo[0] = the str)
  const [inner, b3, memo] = got.items as [PyTuple, Uint8Array, string];
  assert.equal(inner.items[0], 'a\u00e9');
  assert.equal([...(inner.items[1] as Uint8Array)], [1, 2]);
  assert.equal([...(inner.items[2] as Uint8Array)], [9]);
  assert.equal(new TextDecoder().decode(b3), 'xyz');
  assert.is(memo, 'a\u00e9');
});

s('persistent ids go to persistentLoad; refused without one', () => {
  const p = pk(0x80, 2, 'X', ...u32le(3), 'pid', 'Q', 'Pabc\n', 0x86, '.');
  const got = unpickle(p, { persistentLoad: (pid) => `<${String(pid)}>` }) as PyTuple;
  assert.equal(got.items, ['<pid>', '<abc>']);
  throwsWith(() => unpickle(p), /persistent ids/, 'no resolver');
});

s('BUILD sets attributes on dicts (a state_dict\'s _metadata); on anything else it needs a handler', () => {
  const p = pk(0x80, 2, '}X', ...u32le(1), 'k', 'K', 1, 's}X', ...u32le(9), '_metadata', 'K', 7, 'sb.');
  const d = unpickle(p) as PyDict;
  assert.equal(pyToJs(d), { k: 1 });
  assert.is(d.attrs.get('_metadata'), 7);
  throwsWith(() => unpickle(pk(0x80, 2, ']}b.')), /BUILD on a list is not supported/, 'BUILD list');
});

s('truncated and malformed pickles fail with a located error, never a crash or a wrong value', () => {
  const full = new Uint8Array(readFileSync(join(dir, 'plain_p2.pkl')));
  let n = 0;
  for (let cut = 0; cut < full.length; cut += 13) {
    throwsWith(() => unpickle(full.subarray(0, cut), { source: 'cut.pkl' }), /^cut\.pkl: .*(truncated|underflow|MARK|STOP|stack).*\(pickle byte \d+, opcode \w+\)$/, `cut at ${cut}`);
    n++;
  }
  assert.ok(n > 100);
  throwsWith(() => unpickle(pk(0x80, 2, 0xff)), /unknown opcode 0xff/, 'unknown opcode');
  throwsWith(() => unpickle(pk(0x80, 6, 'N.')), /unsupported pickle protocol 6/, 'protocol 6');
  throwsWith(() => unpickle(pk(0x80, 2, 0x82, 1, '.')), /extension-registry/, 'EXT1');
  throwsWith(() => unpickle(pk(0x80, 5, 0x97, '.')), /out-of-band buffers/, 'NEXT_BUFFER');
  throwsWith(() => unpickle(pk(0x80, 2, 'h', 5, '.')), /memo key 5 is not defined/, 'memo');
  throwsWith(() => unpickle(pk(0x80, 2, 's.')), /stack underflow/, 'SETITEM on empty stack');
  throwsWith(() => unpickle(pk(0x80, 2, 'NN.')), /stack not empty at STOP/, 'leftover stack');
  throwsWith(() => unpickle(pk(0x80, 2, 'X', ...u32le(2), 0xff, 0xfe, '.')), /not valid UTF-8/, 'bad utf8');
  throwsWith(() => unpickle(pk(0x80, 2, 'X', ...u32le(1000), 'ab')), /truncated pickle: needs 1000 more bytes/, 'long length');
  throwsWith(() => unpickle(pk(0x80, 2, 'K', 0, 'K', 1, 'K', 2, 's.')), /SETITEM\(S\) on a int/, 'SETITEM on an int');
});

s.run();
