#!/usr/bin/env node
// One-command set-up: npm dependencies, then a WebGPU adapter. Only when dawn.node finds no adapter does it
// install the CPU Vulkan driver (Mesa lavapipe from bookworm-backports on Debian 12; the distribution's own Mesa
// elsewhere). On a machine whose GPU already gives an adapter nothing system-wide is touched. Idempotent.
// Plain ESM JavaScript on purpose: it must run before any dependency (tsx, typescript) is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Prompts of the main job (weights/example.flac holds a synth pad, a ringing phone, a choir and gunshots). */
const MAIN_PROMPTS = ['a phone ringing', 'a choir singing', 'gunshots', 'a dog barking'];
const log = (m) => console.log(`[setup] ${m}`);

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`setup: '${cmd} ${args.join(' ')}' failed with exit code ${r.status}`);
}

function npmDeps() {
  const lock = existsSync(join(root, 'package-lock.json'));
  // onnxruntime-node (a benchmark peer) would otherwise download CUDA binaries from outside the npm registry in its
  // postinstall; its CPU build ships in the package.
  run('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

/** Ask dawn.node for an adapter in a child process (a fresh process sees a newly installed driver). */
function probe() {
  const code = `
    import { create, globals } from 'webgpu';
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter();
    if (!a) { console.log('NONE'); process.exit(0); }
    const i = a.info ?? {};
    console.log('ADAPTER ' + JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback: a.isFallbackAdapter ?? i.isFallbackAdapter }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root, encoding: 'utf8', env: { XDG_RUNTIME_DIR: '/tmp', ...process.env }, timeout: 120000,
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('ADAPTER ') || l === 'NONE');
  if (!line || line === 'NONE') return null;
  return JSON.parse(line.slice(8));
}

function osRelease() {
  try {
    const t = readFileSync('/etc/os-release', 'utf8');
    return Object.fromEntries(t.split('\n').filter((l) => l.includes('=')).map((l) => {
      const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')];
    }));
  } catch { return {}; }
}

function asRoot(cmd, args) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) return run(cmd, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const sudo = spawnSync('sh', ['-c', 'command -v sudo'], { encoding: 'utf8' }).stdout.trim();
  if (!sudo) throw new Error(`setup: installing the CPU Vulkan driver needs root; run as root or install sudo (command: ${cmd} ${args.join(' ')})`);
  return run('sudo', ['DEBIAN_FRONTEND=noninteractive', cmd, ...args]);
}

function installLavapipe() {
  const osr = osRelease();
  if (!existsSync('/usr/bin/apt-get')) {
    throw new Error('setup: no WebGPU adapter and no apt-get; install a Vulkan driver (Mesa >= 24 lavapipe: mesa-vulkan-drivers) by hand');
  }
  if (osr.ID === 'debian' && osr.VERSION_CODENAME === 'bookworm') {
    // bookworm's Mesa 22.3 lavapipe lacks features Dawn requires; Mesa 25 comes from bookworm-backports.
    const src = '/etc/apt/sources.list.d/backports.sources';
    const have = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources', src]
      .some((f) => existsSync(f) && /bookworm-backports/.test(readFileSync(f, 'utf8')));
    if (!have) {
      const body = 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n' +
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
      log(`adding ${src}`);
      const tmp = '/tmp/flam-backports.sources';
      writeFileSync(tmp, body);
      asRoot('install', ['-m', '644', tmp, src]);
    }
    asRoot('apt-get', ['update']);
    asRoot('apt-get', ['install', '-y', '--no-install-recommends', '-t', 'bookworm-backports', 'mesa-vulkan-drivers', 'libvulkan1']);
  } else {
    asRoot('apt-get', ['update']);
    asRoot('apt-get', ['install', '-y', '--no-install-recommends', 'mesa-vulkan-drivers', 'libvulkan1']);
  }
}

function main() {
  const skipNpm = process.argv.includes('--no-npm');
  if (!skipNpm) npmDeps();
  let adapter = probe();
  if (!adapter) {
    log('no WebGPU adapter found: installing the CPU Vulkan driver (Mesa lavapipe)');
    installLavapipe();
    adapter = probe();
    if (!adapter) throw new Error('setup: still no WebGPU adapter after installing mesa-vulkan-drivers; check `vulkaninfo --summary`');
  } else {
    log('a WebGPU adapter is already available; nothing system-wide changed');
  }
  log(`adapter: ${adapter.description || adapter.device || '?'} (vendor ${adapter.vendor || '?'}, ${adapter.architecture || '?'}${adapter.fallback ? ', fallback' : ''})`);
  if (!process.argv.includes('--no-run')) {
    // The main job: the shipped model detects events in the bundled example clip (and draws example.png).
    const flam = join(root, 'src', 'cli', 'flam.mjs');
    if (existsSync(join(root, 'weights', 'flam-tiny.safetensors'))) {
      run(process.execPath, [flam, 'detect', join(root, 'weights', 'example.flac'), ...MAIN_PROMPTS.flatMap((p) => ['--prompt', p]), '--png', join(root, 'example.png')]);
    } else {
      run(process.execPath, [flam, 'info']);
    }
  }
}

try { main(); } catch (e) { console.error(String(e && e.message || e)); process.exit(1); }
