// Test entry point: runs every test/**/*.test.ts with uvu in one process and ends with the closing line
// `N passed, N failed, N skipped` that CI reads. `npm test -- PATTERN...` runs only files whose path contains
// one of the patterns. GPU tests share one device (test/util/gpu.ts), so they run in this process, in order.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const testDir = join(root, 'test');
const patterns = process.argv.slice(2).filter((a) => !a.startsWith('-'));

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'browser' && name !== 'fixtures') out.push(...walk(p)); }
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = walk(testDir).filter((f) => patterns.length === 0 || patterns.some((p) => relative(root, f).includes(p)));
if (files.length === 0) {
  console.log(`no test files match ${patterns.join(' ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

(globalThis as any).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue: any[][] = (globalThis as any).UVU_QUEUE;
let idx = 0;
for (const f of files) {
  (globalThis as any).UVU_INDEX = idx++;
  queue.push([relative(root, f)]);
  await import(pathToFileURL(f).href);
}

// Wrap each queued suite runner to count tests: uvu's own summary has no `N passed, N failed` line.
let passed = 0, total = 0, skipped = 0;
for (const group of queue) {
  for (let i = 1; i < group.length; i++) {
    const run = group[i];
    group[i] = async () => {
      const r = await run();
      const [, ran, skip, max] = r;
      passed += ran; total += max; skipped += skip;
      return r;
    };
  }
}
const t0 = Date.now();
await uvu.exec(false);
const failed = total - passed;
console.log(`duration ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
await (await import('./util/gpu.ts')).closeTestDevice();
process.exit(failed > 0 || process.exitCode ? 1 : 0);
