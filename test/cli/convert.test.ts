import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONVERTED_FORMAT, convertPth, run } from '../../src/cli/commands/convert.ts';
import { decodeSafetensors, type SafetensorsArchive } from '../../src/io/safetensors.ts';
import type { KeySpec } from '../../src/model/checkpoint_keys.ts';
import { assertClose, TOL } from '../util/compare.ts';

const s = suite('convert');
const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'pth');
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8'));
let dir = '';
s.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'flam-convert-')); });
s.after.each(() => { rmSync(dir, { recursive: true, force: true }); });

function flam(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src', 'cli', 'flam.mjs'), 'convert', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** The command in this process (no spawn): resolves, or rejects with the message main.ts would print. */
async function runQuiet(...args: string[]): Promise<{ error: string | null; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [], stderr: string[] = [];
  const { log, error } = console;
  console.log = (m: string) => { stdout.push(String(m)); };
  console.error = (m: string) => { stderr.push(String(m)); };
  try { await run(args); return { error: null, stdout, stderr }; } catch (e) { return { error: (e as Error).message, stdout, stderr }; }
  finally { console.log = log; console.error = error; }
}
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const num = (v: number | string) => (typeof v === 'number' ? v : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));

interface Expect { dtype: string; shape: number[]; values?: (number | string)[]; head?: (number | string)[]; sum?: number }

/** Each converted tensor holds torch's values: floats as F32 (f64 rounded to f32), int64 as I64, others as saved. */
function checkConverted(st: SafetensorsArchive, want: Record<string, Expect>, skip: string[] = []): void {
  const dtypeOut: Record<string, string> = { float32: 'F32', float16: 'F32', bfloat16: 'F32', float64: 'F32', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL' };
  for (const [k, e] of Object.entries(want)) {
    if (skip.includes(k)) { assert.not.ok(st.has(k), `${k} is dropped`); continue; }
    const t = st.get(k);
    assert.is(t.dtype, dtypeOut[e.dtype], `${k}: dtype`);
    assert.equal([...t.shape], e.shape, `${k}: shape`);
    const vals = e.values ?? e.head!;
    if (t.dtype === 'I64') assert.equal([...t.bigint64()].slice(0, vals.length).map(String), vals, `${k}: int64 values`);
    else {
      const ref = vals.map((v) => (t.dtype === 'F32' ? Math.fround(num(v)) : num(v)));
      assertClose(k, Array.from(t.float64()).slice(0, ref.length), ref, TOL.exact);
    }
  }
}

s('flam convert refuses a state_dict that does not match v1-base, naming what is wrong, and writes nothing', () => {
  const out = join(dir, 'x.safetensors');
  const r = flam(join(fixtures, 'v1like.pth'), '-o', out);
  assert.is(r.code, 1, r.stderr);
  for (const needle of ['v1like.pth: state_dict does not match the layout (500 keys expected, 12 found): 490 missing, 1 unexpected, 1 with the wrong shape',
    'audio_branch.bn0.weight: [63], expected [64]', 'extra.weight', 'audio_branch.spectrogram_extractor.stft.conv_real.weight [513, 1, 1024]',
    'nothing written; pass --no-strict']) {
    assert.ok(r.stderr.includes(needle), `stderr lacks ${JSON.stringify(needle)}:\n${r.stderr}`);
  }
  assert.not.ok(existsSync(out));
  assert.equal(readdirSync(dir), [], 'no temporary files left');
});

s('flam convert --no-strict converts with warnings; the file reads back with torch\'s values and provenance metadata', () => {
  const src = join(fixtures, 'v1like.pth');
  const out = join(dir, 'x.safetensors');
  const r = flam(src, '-o', out, '--no-strict');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*state_dict does not match the layout/);
  assert.match(r.stdout, /^wrote .*x\.safetensors: 11 tensors/);
  const st = decodeSafetensors(new Uint8Array(readFileSync(out)), out);
  checkConverted(st, expected.v1like, ['text_branch.embeddings.position_ids']);
  assert.is(st.get('audio_branch.bn0.num_batches_tracked').bigint64()[0], 12345n);
  assert.is(st.metadata.format, CONVERTED_FORMAT);
  assert.is(st.metadata.source_file, 'v1like.pth');
  assert.is(st.metadata.source_sha256, sha(src));
  assert.is(st.metadata.source_bytes, String(readFileSync(src).length));
  assert.match(st.metadata.validation, /^not strict: 490 missing, 1 unexpected, 1 wrong shape, 0 wrong dtype$/);
  assert.is(st.metadata.dropped_keys, 'text_branch.embeddings.position_ids');
});

s('every dtype, view and shared storage converts (f64 rounded to F32, ints kept, bool as BOOL)', async () => {
  const out = join(dir, 'd.safetensors');
  const r = await runQuiet(join(fixtures, 'dtypes.pth'), `--output=${out}`, '--no-strict', '--quiet');
  assert.is(r.error, null);
  assert.not.ok(r.stderr.some((l) => l.startsWith('[convert] reading')), '--quiet hides progress');
  checkConverted(decodeSafetensors(new Uint8Array(readFileSync(out))), expected.dtypes);
});

s('hostile, damaged and non-state_dict inputs fail with the reason; no output file', async () => {
  // One real process: the exit code and the message main.ts prints.
  const out = join(dir, 'y.safetensors');
  const r = flam(join(fixtures, 'evil_system.pth'), '-o', out, '--no-strict');
  assert.is(r.code, 1);
  assert.match(r.stderr, /^flam convert: .*evil_system\.pth: .*pickle references the global posix\.system, which is not on the allow-list; refusing to load/m);
  assert.not.ok(existsSync(out));
  const cases: [string, RegExp][] = [
    ['evil_eval_p4.pth', /evil_eval_p4\.pth: .*global builtins\.eval, which is not on the allow-list/],
    ['truncated.pth', /truncated\.pth: truncated ZIP archive/],
    ['list.pth', /list\.pth: not a state_dict: top-level object is a list/],
    ['missing.pth', /missing\.pth: cannot read \(ENOENT\)/],
  ];
  for (const [file, re] of cases) {
    const q = await runQuiet(join(fixtures, file), '-o', out, '--no-strict');
    assert.ok(q.error && re.test(q.error), `${file}: ${q.error}`);
    assert.not.ok(existsSync(out), `${file}: no output`);
  }
  assert.equal(readdirSync(dir), [], 'no temporary files left');
  assert.match((await runQuiet('--bogus')).error ?? '', /unknown option --bogus\nusage: flam convert/);
  assert.match((await runQuiet(join(fixtures, 'small.pth'), '-o', join(fixtures, 'small.pth'))).error ?? '', /would overwrite the input/);
});

s('strict conversion succeeds when the layout matches (core function with a small layout)', () => {
  const src = join(fixtures, 'small.pth');
  const keys: KeySpec[] = [
    { key: 'a', shape: [2, 3], kind: 'param', dtype: 'float' },
    { key: 'b', shape: [64], kind: 'buffer', dtype: 'float' },
  ];
  const logs: string[] = [];
  const r = convertPth(new Uint8Array(readFileSync(src)), { source: src, strict: true, sha256: 'x'.repeat(64), keys, layout: 'test-small', log: (m) => logs.push(m) });
  assert.ok(r.report.ok);
  assert.ok(logs.some((l) => l.includes('state_dict matches the layout: 2 keys')), logs.join('\n'));
  const st = decodeSafetensors(r.output);
  assert.is(st.metadata.validation, 'test-small: all keys and shapes match');
  checkConverted(st, expected.small);
  // The same file against the v1-base layout is refused in strict mode.
  let msg = '';
  try { convertPth(new Uint8Array(readFileSync(src)), { source: src, strict: true, sha256: '' }); } catch (e) { msg = (e as Error).message; }
  assert.match(msg, /state_dict does not match the layout \(500 keys expected, 2 found\): 500 missing, 2 unexpected/);
});

s.run();
