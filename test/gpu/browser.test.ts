// Runs test/browser/smoke.ts in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) with
// WebGPU: the same engine sources as Node, bundled by esbuild and served from 127.0.0.1.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { existsSync } from "node:fs";
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const s = suite('browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

s('kernel smoke tests pass in headless Chromium WebGPU (same sources as Node)', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`browser test needs Chromium at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (Debian) or set CHROMIUM_PATH`);
  const root = resolve(import.meta.dirname, '..', '..');
  const bundle = await build({ entryPoints: [join(root, 'test/browser/smoke.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
  const js = bundle.outputFiles[0].text;
  assert.not.match(js, /from\s*["']node:/, 'engine bundle imports node:*');
  const html = `<!doctype html><meta charset="utf-8"><title>flam-webgpu smoke</title><script type="module" src="/smoke.js"></script>`;
  const server = createServer((req, res) => {
    if (req.url === '/smoke.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(js); }
    else { res.writeHead(200, { 'content-type': 'text/html' }); res.end(html); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-features=Vulkan', '--use-angle=swiftshader'],
  });
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as any).__flam !== undefined, undefined, { timeout: 60000 });
    const results = await page.evaluate(() => (globalThis as any).__flam) as { name: string; ok: boolean; msg?: string }[];
    console.log('\n' + results.map((r) => `  browser: ${r.ok ? 'OK  ' : 'FAIL'} ${r.name}${r.msg ? ': ' + r.msg : ''}`).join('\n'));
    const bad = results.filter((r) => !r.ok);
    assert.ok(results.length > 3, `too few results; page logs: ${logs.join('\n')}`);
    assert.is(bad.length, 0, bad.map((r) => `${r.name}: ${r.msg}`).join('\n'));
  } finally {
    await browser.close();
    server.close();
  }
});

s.run();
