// Node-side renderers of the source library plan (src/data/sources.ts): GM programs and drum kits from
// FluidR3_GM.sf2 with npm spessasynth_core, speech with espeak-ng, and the recorded effects of wesnoth-1.16-data.
// Every renderer returns mono float32 at 48 kHz, trimmed (digital near-silence at the ends), cut to
// MAX_SOURCE_SECONDS with a 10 ms fade-out, and peak-normalised to -1 dBFS.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, mkdirSync, mkdtempSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SoundBankLoader, SpessaSynthProcessor } from 'spessasynth_core';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { readWav, mixToMono } from '../../audio/wav.ts';
import { resample } from '../../audio/resample.ts';
import { LIBRARY_SAMPLE_RATE, MAX_SOURCE_SECONDS, PACKAGES, type DrumSpec, type GmSpec, type SpeechSpec, type WesnothSpec } from '../../data/sources.ts';

export const DEFAULT_SF2 = '/usr/share/sounds/sf2/FluidR3_GM.sf2';
export const INSTALL_COMMAND = 'apt-get install -y fluid-soundfont-gm espeak-ng';
const SR = LIBRARY_SAMPLE_RATE;

/** A source package that is not installed: names the package and the command that installs it. */
export class MissingPackageError extends Error {
  readonly packages: string[];
  constructor(problems: { package: string; what: string }[]) {
    super(`missing Debian package${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `${p.package} (${p.what})`).join('; ')}; ` +
      `install with: ${INSTALL_COMMAND}`);
    this.name = 'MissingPackageError';
    this.packages = problems.map((p) => p.package);
  }
}

/** Path of the espeak-ng binary (FLAM_ESPEAK overrides, for tests), 'espeak-ng' by default. */
export function espeakBinary(): string { return process.env.FLAM_ESPEAK || 'espeak-ng'; }
/** Path of FluidR3_GM.sf2 (FLAM_SF2 overrides, for tests). */
export function sf2Path(): string { return process.env.FLAM_SF2 || DEFAULT_SF2; }

/**
 * Checks that the packages a plan needs are installed; throws a {@link MissingPackageError} listing every missing
 * one. `need`: 'gm' (fluid-soundfont-gm: the sf2 file), 'speech' (espeak-ng: the binary runs).
 */
export function checkPackages(need: readonly ('gm' | 'speech')[]): void {
  const problems: { package: string; what: string }[] = [];
  if (need.includes('gm') && !existsSync(sf2Path())) problems.push({ package: PACKAGES.gm.package, what: `${sf2Path()} not found` });
  if (need.includes('speech')) {
    const r = spawnSync(espeakBinary(), ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) problems.push({ package: PACKAGES.speech.package, what: `'${espeakBinary()} --version' failed: ${r.error ? r.error.message : `exit ${r.status}`}` });
  }
  if (problems.length) throw new MissingPackageError(problems);
}

/** Installed version of a Debian package, or null. */
export function debianVersion(pkg: string): string | null {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** Trim near-silent ends (|x| < peak * 10^(-90/20)), cut to the length limit with a 10 ms fade-out, normalise the
 * peak to -1 dBFS. Throws on a silent render. */
export function finishSource(x: Float32Array, id: string): Float32Array {
  let peak = 0;
  for (let i = 0; i < x.length; i++) { const a = Math.abs(x[i]); if (a > peak) peak = a; }
  if (!(peak > 0)) throw new Error(`source '${id}' rendered silent`);
  const thr = peak * 10 ** (-90 / 20);
  let a = 0, b = x.length;
  while (a < b && Math.abs(x[a]) < thr) a++;
  while (b > a && Math.abs(x[b - 1]) < thr) b--;
  const max = MAX_SOURCE_SECONDS * SR;
  const cut = b - a > max;
  if (cut) b = a + max;
  const y = x.slice(a, b);
  if (cut) {
    const f = Math.round(0.01 * SR);
    for (let i = 0; i < f; i++) y[y.length - 1 - i] *= 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / f);
  }
  let p2 = 0;
  for (let i = 0; i < y.length; i++) p2 = Math.max(p2, Math.abs(y[i]));
  const g = 10 ** (-1 / 20) / p2;
  for (let i = 0; i < y.length; i++) y[i] *= g;
  return y;
}

// --- GM / drums --------------------------------------------------------------------------------------------------

/** Parsed sound fonts by path: parsing the 148 MB FluidR3_GM takes ~2 s; a process parses it once. */
const banks = new Map<string, ReturnType<typeof SoundBankLoader.fromArrayBuffer>>();

/** FluidR3_GM loaded into a spessasynth_core processor (dry: reverb and chorus off); a fresh processor per open(). */
export class GmRenderer {
  private constructor(private readonly synth: SpessaSynthProcessor) {}

  /** Loads the sound font (~2 s); throws a MissingPackageError when fluid-soundfont-gm is not installed. */
  static async open(path = sf2Path()): Promise<GmRenderer> {
    if (!existsSync(path)) throw new MissingPackageError([{ package: PACKAGES.gm.package, what: `${path} not found` }]);
    let bank = banks.get(path);
    if (!bank) {
      const buf = readFileSync(path);
      bank = SoundBankLoader.fromArrayBuffer(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
      banks.set(path, bank);
    }
    const synth = new SpessaSynthProcessor(SR, { effectsEnabled: false, eventsEnabled: false, maxBufferSize: 128 });
    synth.soundBankManager.addSoundBank(bank, 'fluidr3');
    await synth.processorInitialized;
    return new GmRenderer(synth);
  }

  /**
   * Renders one GM (channel 0: bank select MSB, program change) or drum (channel 9: kit by program change) spec.
   * Note on/off at their exact sample; rendering continues after the last note-off until every voice has ended
   * (plus 50 ms) or MAX_SOURCE_SECONDS + 1 s have been rendered.
   */
  render(spec: GmSpec | DrumSpec): Float32Array {
    const s = this.synth;
    s.stopAllChannels(true);
    s.reset();
    const ch = spec.kind === 'drum' ? 9 : 0;
    if (spec.kind === 'gm') { s.controllerChange(0, 0, spec.bankMSB); s.programChange(0, spec.program); }
    else s.programChange(9, spec.kit);
    const ev: { t: number; on: boolean; key: number; vel: number }[] = [];
    for (const n of spec.notes) {
      ev.push({ t: Math.round(n.at * SR), on: true, key: n.key, vel: n.velocity });
      ev.push({ t: Math.round((n.at + n.duration) * SR), on: false, key: n.key, vel: 0 });
    }
    ev.sort((a, b) => a.t - b.t || (a.on === b.on ? 0 : a.on ? 1 : -1));
    const limit = (MAX_SOURCE_SECONDS + 1) * SR;
    const L = new Float32Array(limit), R = new Float32Array(limit);
    let pos = 0, e = 0, quiet = -1;
    while (pos < limit) {
      while (e < ev.length && ev[e].t <= pos) {
        const x = ev[e++];
        if (x.on) s.noteOn(ch, x.key, x.vel); else s.noteOff(ch, x.key);
      }
      const next = e < ev.length ? ev[e].t : limit;
      const n = Math.min(128, next - pos, limit - pos);
      s.process(L, R, pos, n);
      pos += n;
      if (e === ev.length && s.voiceCount === 0) {
        if (quiet < 0) quiet = pos;
        if (pos - quiet >= 0.05 * SR) break;
      }
    }
    const mono = new Float32Array(pos);
    for (let i = 0; i < pos; i++) mono[i] = 0.5 * (L[i] + R[i]);
    return finishSource(mono, spec.id);
  }
}

// --- espeak-ng ---------------------------------------------------------------------------------------------------

/**
 * Runs `espeak-ng -v VOICE[+VARIANT] -s SPEED -p PITCH -w TMP.wav TEXT` (a file: with --stdout espeak-ng leaves the
 * WAV sizes unpatched), resamples 22.05 kHz -> 48 kHz.
 */
export async function renderSpeech(spec: SpeechSpec): Promise<Float32Array> {
  const voice = spec.variant ? `${spec.voice}+${spec.variant}` : spec.voice;
  const dir = mkdtempSync(join(tmpdir(), 'flam-espeak-'));
  const out = join(dir, 'speech.wav');
  const args = ['-v', voice, '-s', String(spec.speed), '-p', String(spec.pitch), '-w', out, spec.text];
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(espeakBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
      const err: Buffer[] = [];
      p.stderr.on('data', (b: Buffer) => err.push(b));
      p.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') reject(new MissingPackageError([{ package: PACKAGES.speech.package, what: `${espeakBinary()} not found` }]));
        else reject(e);
      });
      p.on('close', (code) => {
        if (code !== 0) reject(new Error(`espeak-ng ${args.join(' ')} failed (exit ${code}): ${Buffer.concat(err).toString().trim()}`));
        else resolve();
      });
    });
    const w = readWav(new Uint8Array(readFileSync(out)), `espeak-ng -v ${voice}`);
    const mono = mixToMono(w);
    return finishSource(w.sampleRate === SR ? mono : resample(mono, w.sampleRate, SR), spec.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- wesnoth ---------------------------------------------------------------------------------------------------

export const WESNOTH_SOUNDS_IN_PACKAGE = './usr/share/games/wesnoth/1.16/data/core/sounds';
const WESNOTH_INSTALLED = '/usr/share/games/wesnoth/1.16/data/core/sounds';

/** Every .ogg/.wav below dir, as paths relative to it, sorted. */
export function listSounds(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ogg|wav)$/i.test(n)) out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The wesnoth sounds folder: the installed package's when wesnoth-1.16-data is installed, else `<cache>/wesnoth/
 * sounds`, extracted once from `apt-get download wesnoth-1.16-data` (146 MB download; only data/core/sounds, 8 MB,
 * is kept). Returns the folder and the package version.
 */
export function ensureWesnothSounds(cache: string, log: (m: string) => void = () => {}): { dir: string; version: string } {
  const pkg = PACKAGES.wesnoth.package;
  if (existsSync(WESNOTH_INSTALLED)) return { dir: WESNOTH_INSTALLED, version: debianVersion(pkg) ?? 'installed' };
  const base = join(cache, 'wesnoth');
  const dir = join(base, 'sounds');
  const stamp = join(base, 'VERSION');
  if (existsSync(stamp) && existsSync(dir)) return { dir, version: readFileSync(stamp, 'utf8').trim() };
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `.download-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    log(`downloading ${pkg} (about 146 MB) with apt-get download ...`);
    const dl = spawnSync('apt-get', ['download', pkg], { cwd: tmp, encoding: 'utf8' });
    if (dl.error || dl.status !== 0) {
      throw new Error(`'apt-get download ${pkg}' failed (${dl.error ? dl.error.message : (dl.stderr || '').trim() || `exit ${dl.status}`}); ` +
        `run 'apt-get update' first, or install it with 'apt-get install -y ${pkg}', or build without it (--no-wesnoth)`);
    }
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb file`);
    const ver = spawnSync('dpkg-deb', ['-f', deb, 'Version'], { cwd: tmp, encoding: 'utf8' });
    const x = spawnSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x "$2"`, 'sh', deb, WESNOTH_SOUNDS_IN_PACKAGE], { cwd: tmp, encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`extracting ${WESNOTH_SOUNDS_IN_PACKAGE} from ${deb} failed: ${(x.stderr || '').trim()}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, WESNOTH_SOUNDS_IN_PACKAGE), dir);
    const version = (ver.stdout || '').trim() || 'unknown';
    writeFileSync(stamp, version + '\n');
    return { dir, version };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let ogg: OggVorbisDecoder | null = null;

/** Decodes one wesnoth file (OGG Vorbis or WAV), mono, 48 kHz. */
export async function renderWesnoth(spec: WesnothSpec, soundsDir: string): Promise<Float32Array> {
  const path = join(soundsDir, spec.path);
  const bytes = new Uint8Array(readFileSync(path));
  let mono: Float32Array, rate: number;
  if (/\.ogg$/i.test(spec.path)) {
    if (!ogg) { ogg = new OggVorbisDecoder(); await ogg.ready; }
    const d = await ogg.decodeFile(bytes);
    await ogg.reset();
    if (d.errors.length) throw new Error(`${path}: ${d.errors.length} OGG decode errors (${d.errors[0].message})`);
    if (d.samplesDecoded === 0) throw new Error(`${path}: no samples decoded`);
    mono = mixToMono({ samples: d.channelData.map((c) => c.subarray(0, d.samplesDecoded)) });
    rate = d.sampleRate;
  } else {
    const w = readWav(bytes, path);
    mono = mixToMono(w);
    rate = w.sampleRate;
  }
  return finishSource(rate === SR ? mono : resample(mono, rate, SR), spec.id);
}

/** Frees the OGG decoder (call when a build is done). */
export function closeDecoders(): void { ogg?.free(); ogg = null; }
