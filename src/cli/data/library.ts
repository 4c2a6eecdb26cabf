// The source library cache: renders the plan of src/data/sources.ts into `<dir>/wav/<id>.wav` (48 kHz mono PCM 16)
// and records every source in `<dir>/manifest.json`:
//   { version, seed, plan_sha256, packages: {name: {version, licence, kind}}, sources: [{ id, file, label, kind,
//     package, licence, params, sample_rate, samples, duration, sha256, loudness_db }] }
// Deterministic for a seed (same plan, same renderers -> same bytes). Cached: a source whose entry in the existing
// manifest has the same parameters and whose file still has the recorded sha256 is not rendered again.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeWav, readWav } from '../../audio/wav.ts';
import { loudnessDb, windowLevels } from '../../data/activity.ts';
import { planLibrary, packageOf, LIBRARY_SAMPLE_RATE, PACKAGES, type PlanOptions, type SourceSpec } from '../../data/sources.ts';
import type { PoolSource } from '../../data/simulate.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { checkPackages, closeDecoders, debianVersion, ensureWesnothSounds, GmRenderer, listSounds, renderSpeech, renderWesnoth } from './render.ts';

export const MANIFEST_VERSION = 1;

export interface ManifestEntry {
  id: string;
  file: string;
  label: string;
  kind: SourceSpec['kind'];
  package: string;
  licence: string;
  params: Record<string, unknown>;
  sample_rate: number;
  samples: number;
  duration: number;
  sha256: string;
  loudness_db: number;
}

export interface Manifest {
  version: number;
  seed: number;
  plan_sha256: string;
  packages: Record<string, { version: string; licence: string; kind: string }>;
  sources: ManifestEntry[];
}

export interface LibraryOptions extends PlanOptions {
  /** Cache directory. */
  dir: string;
  /** Plan seed (default 0). */
  seed?: number;
  log?: (msg: string) => void;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const paramsOf = (s: SourceSpec): Record<string, unknown> => {
  const { id: _id, label: _label, kind: _kind, ...rest } = s;
  return rest;
};

/** Reads `<dir>/manifest.json`, or null when there is none. */
export function readManifest(dir: string): Manifest | null {
  const p = join(dir, 'manifest.json');
  if (!existsSync(p)) return null;
  const m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
  if (m.version !== MANIFEST_VERSION) throw new Error(`${p}: manifest version ${m.version}, expected ${MANIFEST_VERSION}`);
  return m;
}

/**
 * Builds (or completes) the library in opts.dir and returns its manifest. Missing Debian packages fail before any
 * rendering with an error naming them and the install command.
 */
export async function buildLibrary(opts: LibraryOptions): Promise<Manifest> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 0;
  const packages = opts.packages ?? ['gm', 'speech', 'wesnoth'];
  const need = packages.filter((p): p is 'gm' | 'speech' => p === 'gm' || p === 'speech');
  checkPackages(need);
  mkdirSync(join(opts.dir, 'wav'), { recursive: true });
  const pkgInfo: Manifest['packages'] = {};
  let wesnothDir = '';
  let wesnothFiles: string[] = [];
  if (packages.includes('gm')) {
    pkgInfo[PACKAGES.gm.package] = { version: debianVersion(PACKAGES.gm.package) ?? 'unknown', licence: PACKAGES.gm.licence, kind: 'debian' };
    let version = 'unknown';
    try { version = JSON.parse(readFileSync(new URL('../../../node_modules/spessasynth_core/package.json', import.meta.url), 'utf8')).version; } catch { /* not where expected */ }
    pkgInfo.spessasynth_core = { version, licence: 'Apache-2.0', kind: 'npm' };
  }
  if (packages.includes('speech')) pkgInfo[PACKAGES.speech.package] = { version: debianVersion(PACKAGES.speech.package) ?? 'unknown', licence: PACKAGES.speech.licence, kind: 'debian' };
  if (packages.includes('wesnoth')) {
    const w = ensureWesnothSounds(opts.dir, log);
    wesnothDir = w.dir;
    wesnothFiles = listSounds(w.dir);
    pkgInfo[PACKAGES.wesnoth.package] = { version: w.version, licence: PACKAGES.wesnoth.licence, kind: 'debian' };
  }
  const plan = planLibrary(seed, { ...opts, packages, wesnothFiles });
  const planSha = sha256(new TextEncoder().encode(JSON.stringify(plan)));
  const old = readManifest(opts.dir);
  const oldById = new Map((old?.sources ?? []).map((e) => [e.id, e]));
  const entries: ManifestEntry[] = [];
  let gm: GmRenderer | null = null;
  let rendered = 0, reused = 0;
  const t0 = Date.now();
  const writeManifest = () => {
    const m: Manifest = { version: MANIFEST_VERSION, seed, plan_sha256: planSha, packages: pkgInfo, sources: entries };
    atomicWriteSync(join(opts.dir, 'manifest.json'), new TextEncoder().encode(JSON.stringify(m, null, 1) + '\n'));
    return m;
  };
  try {
    for (let i = 0; i < plan.length; i++) {
      const spec = plan[i];
      const file = `wav/${spec.id}.wav`;
      const path = join(opts.dir, file);
      const params = paramsOf(spec);
      const prev = oldById.get(spec.id);
      if (prev && prev.label === spec.label && JSON.stringify(prev.params) === JSON.stringify(params) && existsSync(path) &&
          sha256(readFileSync(path)) === prev.sha256) {
        entries.push(prev); reused++;
        continue;
      }
      let audio: Float32Array;
      if (spec.kind === 'gm' || spec.kind === 'drum') audio = (gm ??= await GmRenderer.open()).render(spec);
      else if (spec.kind === 'speech') audio = await renderSpeech(spec);
      else audio = await renderWesnoth(spec, wesnothDir);
      const bytes = writeWav(audio, LIBRARY_SAMPLE_RATE, { format: 'pcm16' });
      atomicWriteSync(path, bytes);
      // Loudness of what was written (the quantised samples), so a reload measures the same value.
      const q = readWav(bytes, path).samples[0];
      const pk = packageOf(spec);
      entries.push({
        id: spec.id, file, label: spec.label, kind: spec.kind, package: pk.package, licence: pk.licence, params,
        sample_rate: LIBRARY_SAMPLE_RATE, samples: q.length, duration: +(q.length / LIBRARY_SAMPLE_RATE).toFixed(6),
        sha256: sha256(bytes), loudness_db: +loudnessDb(windowLevels(q)).toFixed(4),
      });
      rendered++;
      if (rendered % 50 === 0) {
        writeManifest();
        log(`library: ${i + 1}/${plan.length} sources (${rendered} rendered, ${reused} cached, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
  } finally {
    closeDecoders();
  }
  const m = writeManifest();
  // Files of sources that are no longer in the plan (an older plan or seed) are removed.
  const keep = new Set(entries.map((e) => e.file.slice('wav/'.length)));
  let removed = 0;
  for (const f of readdirSync(join(opts.dir, 'wav'))) {
    if (f.endsWith('.wav') && !keep.has(f)) { rmSync(join(opts.dir, 'wav', f)); removed++; }
  }
  if (removed) log(`library: removed ${removed} files of sources no longer planned`);
  log(`library: ${plan.length} sources in ${opts.dir} (${rendered} rendered, ${reused} cached) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return m;
}

/**
 * Loads every source of a built library into memory (48 kHz float32), checking each file's sha256 against the
 * manifest when `verify` is set.
 */
export function loadLibrary(dir: string, opts: { verify?: boolean } = {}): { manifest: Manifest; sources: PoolSource[] } {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no source library in ${dir} (manifest.json missing): build it with 'flam data build'`);
  const sources: PoolSource[] = manifest.sources.map((e) => {
    const path = join(dir, e.file);
    if (!existsSync(path)) throw new Error(`${path} (source '${e.id}' of ${join(dir, 'manifest.json')}) is missing: rebuild the library`);
    const bytes = readFileSync(path);
    if (opts.verify && sha256(bytes) !== e.sha256) throw new Error(`${path}: sha256 differs from the manifest: rebuild the library`);
    const w = readWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
    if (w.sampleRate !== LIBRARY_SAMPLE_RATE) throw new Error(`${path}: ${w.sampleRate} Hz, expected ${LIBRARY_SAMPLE_RATE}`);
    return { id: e.id, label: e.label, audio: w.samples[0], loudnessDb: e.loudness_db };
  });
  return { manifest, sources };
}
