// flam serve's server (no browser): the built bundle and pages, config.json, the model and example routes, files
// under weights/ only (no traversal, no dot files), GET/HEAD only, and clear start-up errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type DemoServer } from '../../src/cli/commands/serve.ts';
import { ROOT } from '../../src/cli/model.ts';
import { rejects } from '../util/compare.ts';

const s = suite('serve');

/** A raw request (the path is sent as written, no URL normalisation). */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts) }));
    });
    req.on('error', fail);
    req.end();
  });
}

let tmp = '', srv: DemoServer | null = null;
const model = () => join(tmp, 'my model.safetensors');

s.before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flam-serve-'));
  writeFileSync(model(), Buffer.from('model bytes'));
  writeFileSync(join(tmp, 'clip.wav'), Buffer.from('RIFF....WAVE'));
  srv = await startServer({ port: 0, model: model(), example: join(tmp, 'clip.wav') });
});

s('serves the demo, the bundle without node:* imports, the kernels example and config.json', async () => {
  const p = srv!.port;
  const home = await get(p, '/');
  assert.is(home.status, 200);
  assert.match(home.type, /text\/html/);
  assert.match(home.body.toString(), /src="demo\.js"/);
  const flam = await get(p, '/flam.js');
  assert.is(flam.status, 200);
  assert.match(flam.type, /text\/javascript/);
  assert.not.match(flam.body.toString(), /from\s*["']node:/);
  assert.match(flam.body.toString(), /FlamStream/);
  const demo = (await get(p, '/demo.js')).body.toString();
  assert.match(demo, /from\s*["']\.\/flam\.js["']/, 'the demo imports the engine from ./flam.js (one copy)');
  assert.is((await get(p, '/examples/kernels.html')).status, 200);
  assert.is((await get(p, '/kernels.js')).status, 200);
  const cfg = JSON.parse((await get(p, '/config.json')).body.toString());
  assert.equal(cfg, {
    model: 'model/my%20model.safetensors', modelName: 'my model.safetensors', vocab: 'weights/tokenizer/vocab.json.gz',
    merges: 'weights/tokenizer/merges.txt.gz', glove: 'weights/glove/gpt2-glove100.safetensors', example: 'example/clip.wav', exampleName: 'clip.wav',
  });
  assert.is((await get(p, '/model/my%20model.safetensors')).body.toString(), 'model bytes');
  const ex = await get(p, '/example/clip.wav');
  assert.is(ex.type, 'audio/wav');
  const vocab = await get(p, '/weights/tokenizer/vocab.json.gz');
  assert.equal(vocab.body, readFileSync(join(ROOT, 'weights/tokenizer/vocab.json.gz')));
  const head = await get(p, '/flam.js', 'HEAD');
  assert.is(head.status, 200); assert.is(head.body.length, 0);
});

s('only files under weights/: traversal, dot files, directories, other methods and unknown paths are refused', async () => {
  const p = srv!.port;
  for (const path of ['/weights/../package.json', '/weights/%2e%2e/package.json', '/weights/..%2fpackage.json', '/weights/tokenizer/../../package.json',
    '/weights/.git', '/weights/glove', '/weights//glove/README.md', '/package.json', '/src/web/demo/demo.ts', '/model/other.safetensors', '/nope']) {
    const r = await get(p, path);
    assert.is(r.status, 404, `${path} -> ${r.status}`);
  }
  assert.is((await get(p, '/%E0%A4%A')).status, 400);
  assert.is((await get(p, '/', 'POST')).status, 405);
});

s('start-up errors name the problem: missing model, missing example, port in use', async () => {
  await rejects(() => startServer({ port: 0, model: join(tmp, 'nope.safetensors') }), /model file .*nope\.safetensors does not exist/);
  await rejects(() => startServer({ port: 0, model: model(), example: join(tmp, 'nope.flac') }), /example clip .*nope\.flac does not exist/);
  await rejects(() => startServer({ port: srv!.port, model: model(), example: null }), new RegExp(`port ${srv!.port} on 127\\.0\\.0\\.1 is in use`));
});

s.after(async () => {
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

s.run();
