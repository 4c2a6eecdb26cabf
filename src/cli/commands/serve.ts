// flam serve: the browser demo on http://127.0.0.1:PORT. Builds the web bundle in memory on start (esbuild,
// src/cli/webbuild.ts) and serves the page, the bundle, the model, the tokenizer and GloVe files from weights/,
// and the example clip. Only GET/HEAD, only known paths and files under weights/; binds to 127.0.0.1 (a secure
// context for WebGPU without TLS).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, join, resolve, sep } from 'node:path';
import { parseArgs } from '../argv.ts';
import { ROOT, DEFAULT_MODEL } from '../model.ts';
import { buildWeb, type WebFiles } from '../webbuild.ts';
import { GPT2_TOKENIZER_FILES } from '../../text/bpe.ts';

export const summary = 'serve the browser demo (WebGPU): flam serve [--port P] [--model FILE] [--example AUDIO]';

const HELP = `flam serve [--port P] [--model FILE] [--example AUDIO]

  Builds the browser bundle and serves the demo page on http://127.0.0.1:P/ (default port 8765): drop or record
  audio, type prompts, see the log-mel, the per-prompt heat map and the events, computed in the browser with WebGPU.
  The kernels example (the mel frontend and the chunked loss on the page's own GPUDevice) is at /examples/kernels.html.

options:
  --port P        port on 127.0.0.1 (default 8765; 0 picks a free one)
  --model FILE    model file the page loads (default ${DEFAULT_MODEL})
  --example AUDIO the clip behind "Load the example" (default weights/example.flac when present)`;

export const DEFAULT_EXAMPLE = join(ROOT, 'weights', 'example.flac');
const GLOVE = 'weights/glove/gpt2-glove100.safetensors';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
  '.json': 'application/json', '.gz': 'application/gzip', '.safetensors': 'application/octet-stream',
  '.wav': 'audio/wav', '.flac': 'audio/flac', '.ogg': 'audio/ogg', '.mp3': 'audio/mpeg', '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ServeOptions {
  port?: number;
  model?: string;
  /** The example clip; default weights/example.flac when it exists, else none. */
  example?: string | null;
  /** A prebuilt bundle (tests reuse one); default: build now. */
  files?: WebFiles;
}

export interface DemoServer { url: string; port: number; server: Server; close(): Promise<void> }

/** Start the demo server; resolves once it listens. */
export async function startServer(o: ServeOptions = {}): Promise<DemoServer> {
  const model = resolve(o.model ?? DEFAULT_MODEL);
  if (!existsSync(model)) {
    throw new Error(o.model ? `model file ${model} does not exist` : `the default model ${model} is missing (train and export one, or pass --model FILE)`);
  }
  let example: string | null = null;
  if (o.example) {
    example = resolve(o.example);
    if (!existsSync(example)) throw new Error(`example clip ${example} does not exist`);
  } else if (o.example === undefined && existsSync(DEFAULT_EXAMPLE)) example = DEFAULT_EXAMPLE;
  const files = o.files ?? await buildWeb();
  const modelUrl = `model/${encodeURIComponent(basename(model))}`;
  const exampleUrl = example ? `example/${encodeURIComponent(basename(example))}` : null;
  const config = {
    model: modelUrl, modelName: basename(model), vocab: GPT2_TOKENIZER_FILES.vocab, merges: GPT2_TOKENIZER_FILES.merges,
    glove: GLOVE, example: exampleUrl, exampleName: example ? basename(example) : null,
  };
  const weightsDir = realpathSync(join(ROOT, 'weights'));

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: Uint8Array | string, type: string) => {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
  const sendFile = (req: IncomingMessage, res: ServerResponse, path: string) => {
    let bytes: Buffer;
    try { bytes = readFileSync(path); } catch { return send(req, res, 404, 'not found\n', 'text/plain'); }
    send(req, res, 200, bytes, TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
  };

  const server = createServer((req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.setHeader('allow', 'GET, HEAD'); return send(req, res, 405, 'method not allowed\n', 'text/plain'); }
      let path: string;
      try { path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname); } catch { return send(req, res, 400, 'bad request\n', 'text/plain'); }
      if (path === '/') path = '/index.html';
      const rel = path.slice(1);
      if (rel === 'config.json') return send(req, res, 200, JSON.stringify(config), TYPES['.json']);
      const built = files.get(rel);
      if (built) return send(req, res, 200, built, TYPES[extname(rel)] ?? 'application/octet-stream');
      if (rel === decodeURIComponent(modelUrl)) return sendFile(req, res, model);
      if (example && exampleUrl && rel === decodeURIComponent(exampleUrl)) return sendFile(req, res, example);
      if (rel.startsWith('weights/')) {
        // only regular files inside weights/ (no traversal, no symlinks out, no dot files)
        if (rel.split('/').some((p) => p === '' || p.startsWith('.'))) return send(req, res, 404, 'not found\n', 'text/plain');
        let real: string;
        try { real = realpathSync(join(ROOT, rel)); } catch { return send(req, res, 404, 'not found\n', 'text/plain'); }
        if (!real.startsWith(weightsDir + sep) || !statSync(real).isFile()) return send(req, res, 404, 'not found\n', 'text/plain');
        return sendFile(req, res, real);
      }
      send(req, res, 404, 'not found\n', 'text/plain');
    } catch (e) {
      send(req, res, 500, `internal error: ${(e as Error).message}\n`, 'text/plain');
    }
  });
  const port = o.port ?? 8765;
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new Error(e.code === 'EADDRINUSE' ? `port ${port} on 127.0.0.1 is in use (pass --port P, or --port 0 for a free one)` : `cannot listen on 127.0.0.1:${port}: ${e.message}`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}/`, port: actual, server,
    close: () => new Promise<void>((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

export async function run(args: string[]): Promise<void> {
  const a = parseArgs('flam serve', args, { port: { type: 'number' }, model: { type: 'string' }, example: { type: 'string' }, help: { type: 'flag' } });
  if (a.help) { console.log(HELP); return; }
  if (a._.length) throw new Error(`unexpected argument '${a._[0]}' (flam serve --help)`);
  const port = a.port as number | undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new Error(`--port ${port} must be an integer in 0..65535`);
  const t0 = Date.now();
  const s = await startServer({ port, model: a.model as string | undefined, example: a.example as string | undefined });
  console.log(`flam serve: bundle built in ${Date.now() - t0} ms`);
  console.log(`demo     ${s.url}`);
  console.log(`example  ${s.url}examples/kernels.html`);
  console.log('Open it in a browser with WebGPU (Chrome/Edge 113+). Ctrl-C stops the server.');
  await new Promise<void>((done) => {
    const stop = () => { console.log('\nflam serve: stopping'); void s.close().then(done); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
