// The browser build: esbuild bundles src/web/index.ts into flam.js (the embeddable ES module; the audio decoders
// are split into chunks loaded on first use), and the demo page and the kernels example into demo.js and
// kernels.js, which import ./flam.js (one copy of the engine). Plus the pages. Used by `npm run build:web`
// (src/cli/build-web.mjs, writes dist/web) and by `flam serve` (builds in memory on start).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface WebBuildOptions {
  /** Write the files here (the directory is replaced; it must be empty or a previous web build). */
  outdir?: string;
  minify?: boolean;
}

/** The built files by URL path relative to the site root ('flam.js', 'index.html', 'examples/kernels.html', ...). */
export type WebFiles = Map<string, Uint8Array>;

const ROOT = resolve(import.meta.dirname, '..', '..');
const MARKER = '.flam-web-build';
const WEB = join(ROOT, 'src', 'web');

/** Pages copied as they are: site path -> source file. */
export const WEB_PAGES: Record<string, string> = {
  'index.html': join(WEB, 'demo', 'index.html'),
  'examples/kernels.html': join(WEB, 'examples', 'kernels.html'),
};

export async function buildWeb(o: WebBuildOptions = {}): Promise<WebFiles> {
  let esbuild: typeof import('esbuild');
  try { esbuild = await import('esbuild'); } catch {
    throw new Error('the web build needs esbuild (a dev dependency): run `npm run setup` or `npm install`');
  }
  const entry = join(WEB, 'index.ts');
  // demo and examples import the engine from ../index.ts: point that at the separate ./flam.js module
  const shareEngine = {
    name: 'flam-external-engine',
    setup(b: any) {
      b.onResolve({ filter: /(^|\/)index\.ts$/ }, (args: { path: string; resolveDir: string; importer: string }) => {
        const target = resolve(args.resolveDir, args.path);
        if (target === entry && args.importer !== '' && resolve(args.importer) !== entry) {
          return { path: './flam.js', external: true };
        }
        return undefined;
      });
    },
  };
  const outRoot = join(ROOT, 'dist', 'web');
  const r = await esbuild.build({
    entryPoints: { flam: entry, demo: join(WEB, 'demo', 'demo.ts'), kernels: join(WEB, 'examples', 'kernels.ts') },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', splitting: true, write: false,
    outdir: outRoot, minify: !!o.minify, sourcemap: 'linked', logLevel: 'silent', plugins: [shareEngine],
    legalComments: 'inline', charset: 'utf8',
  }).catch((e: Error) => { throw new Error(`web build failed: ${e.message}`); });
  const files: WebFiles = new Map();
  for (const f of r.outputFiles) {
    const path = relative(outRoot, f.path).split('\\').join('/');
    if (path.endsWith('.js') && /\bfrom\s*["']node:|\bimport\(\s*["']node:|require\(\s*["']node:/.test(f.text)) {
      throw new Error(`web build: ${path} imports a node:* module (the browser bundle must not)`);
    }
    files.set(path, f.contents);
  }
  for (const name of ['flam.js', 'demo.js', 'kernels.js']) if (!files.has(name)) throw new Error(`web build: ${name} was not produced`);
  for (const [path, src] of Object.entries(WEB_PAGES)) files.set(path, readFileSync(src));
  if (o.outdir) writeOut(o.outdir, files);
  return files;
}

function writeOut(outdir: string, files: WebFiles): void {
  if (existsSync(outdir)) {
    const entries = readdirSync(outdir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new Error(`${outdir} exists and is not a previous web build (no ${MARKER}); refusing to replace it`);
    }
    rmSync(outdir, { recursive: true, force: true });
  }
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, MARKER), 'built by src/cli/webbuild.ts; replaced on every build\n');
  for (const [path, bytes] of files) {
    const p = join(outdir, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, bytes);
  }
}
