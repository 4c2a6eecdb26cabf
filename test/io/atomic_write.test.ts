import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite, atomicWriteSync } from '../../src/cli/fsutil.ts';

const s = suite('atomic_write');
let dir = '';
s.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'flam-atomic-')); });
s.after.each(() => { rmSync(dir, { recursive: true, force: true }); });

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) & 255);

s('creates and replaces files, leaving no temporary files', async () => {
  const p = join(dir, 'model.safetensors');
  await atomicWrite(p, bytes(100000, 1));
  assert.equal(new Uint8Array(readFileSync(p)), bytes(100000, 1));
  await atomicWrite(p, bytes(10, 2));
  assert.equal(new Uint8Array(readFileSync(p)), bytes(10, 2));
  atomicWriteSync(p, bytes(3, 3));
  assert.equal(new Uint8Array(readFileSync(p)), bytes(3, 3));
  atomicWriteSync(join(dir, 'empty'), new Uint8Array(0));
  assert.is(readFileSync(join(dir, 'empty')).length, 0);
  assert.equal(readdirSync(dir).sort(), ['empty', 'model.safetensors']);
});

s('writes only the view of a subarray', async () => {
  const big = bytes(64, 9);
  await atomicWrite(join(dir, 'v'), big.subarray(10, 20));
  assert.equal(new Uint8Array(readFileSync(join(dir, 'v'))), big.subarray(10, 20));
});

s('failures name the path, keep the old target and clean up the temporary file', async () => {
  const missing = join(dir, 'no-such-dir', 'x.bin');
  try { await atomicWrite(missing, bytes(5, 0)); assert.unreachable('no error'); }
  catch (e) { assert.match((e as Error).message, `atomicWrite ${missing}`); }
  // Renaming a file over a non-empty directory fails after the data was written: the temp file must be removed.
  const target = join(dir, 'occupied');
  mkdirSync(target);
  writeFileSync(join(target, 'keep'), 'old');
  for (const write of [() => atomicWrite(target, bytes(5, 0)), async () => atomicWriteSync(target, bytes(5, 0))]) {
    try { await write(); assert.unreachable('no error'); }
    catch (e) { assert.match((e as Error).message, `atomicWrite ${target}`); }
    assert.equal(readdirSync(dir), ['occupied'], 'no temporary file left behind');
    assert.is(readFileSync(join(target, 'keep'), 'utf8'), 'old');
  }
});

s.run();
