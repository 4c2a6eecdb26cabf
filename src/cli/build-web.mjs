#!/usr/bin/env node
// `npm run build:web`: bundles the browser build into dist/web (flam.js, demo.js, kernels.js, pages); see
// src/cli/webbuild.ts. Options: --outdir DIR (default dist/web), --minify.
import { register } from 'tsx/esm/api';
register();
const { buildWeb } = await import('./webbuild.ts');
const { join, resolve } = await import('node:path');
const ROOT = resolve(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const i = args.indexOf('--outdir');
const outdir = i >= 0 && args[i + 1] ? resolve(args[i + 1]) : join(ROOT, 'dist', 'web');
try {
  const t0 = Date.now();
  const files = await buildWeb({ outdir, minify: args.includes('--minify') });
  const kib = (n) => (n / 1024).toFixed(0);
  for (const [p, b] of files) if (!p.endsWith('.map')) console.log(`  ${p.padEnd(40)} ${kib(b.length).padStart(6)} KiB`);
  console.log(`web build: ${files.size} files in ${outdir} (${Date.now() - t0} ms)`);
} catch (e) {
  console.error(`build:web: ${e.message}`);
  process.exit(1);
}
