// Node-only file helpers for the CLI. Atomic writes: a reader (or a crash) sees either the old file or the complete
// new one, never a torn file — write a temporary file in the same directory, fsync it, rename it over the target,
// then fsync the directory so the rename itself is durable.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** fsync a directory so a rename inside it survives a crash. Platforms that cannot open directories (Windows) skip it. */
function fsyncDirSync(dir: string): void {
  let fd: number;
  try { fd = openSync(dir, 'r'); } catch (e) {
    if (process.platform === 'win32') return;
    throw e;
  }
  try { fsyncSync(fd); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e; // file systems without directory fsync
  } finally { closeSync(fd); }
}

/** Atomically replace (or create) `path` with `bytes`. The directory must exist. */
export async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await fh.sync();
    } finally { await fh.close(); }
    await rename(tmp, path);
    renamed = true;
    fsyncDirSync(dirname(path));
  } catch (e) {
    if (!renamed) await unlink(tmp).catch(() => {});
    throw new Error(`atomicWrite ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Synchronous {@link atomicWrite}. */
export function atomicWriteSync(path: string, bytes: Uint8Array): void {
  const tmp = tempPathFor(path);
  let renamed = false;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally { closeSync(fd); }
    renameSync(tmp, path);
    renamed = true;
    fsyncDirSync(dirname(path));
  } catch (e) {
    if (!renamed) { try { unlinkSync(tmp); } catch { /* already gone */ } }
    throw new Error(`atomicWrite ${path}: ${(e as Error).message}`, { cause: e });
  }
}
