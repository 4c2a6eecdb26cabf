// The source library on a tiny real subset: one GM note phrase (FluidR3_GM via spessasynth_core), one drum render
// and one espeak-ng phrase. Needs the Debian packages fluid-soundfont-gm and espeak-ng: when they are missing this
// test FAILS with the install command (it is never skipped). Also: the missing-package error, determinism, the
// cache, and a small dataset build with `flam data build`'s writer on the synthetic sources.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLibrary, loadLibrary, type Manifest } from '../../src/cli/data/library.ts';
import { checkPackages, MissingPackageError } from '../../src/cli/data/render.ts';
import { buildDataset, datasetProvider } from '../../src/cli/data/dataset.ts';
import { readWav } from '../../src/audio/wav.ts';
import { syntheticSources, SYNTH_CLASSES } from '../../src/data/synthetic.ts';
import { clipSeed, SedLoader, simulatedProvider } from '../../src/data/loader.ts';
import { SimWorkers, workerProvider } from '../../src/cli/data/parallel.ts';
import { makePool, simulateClip } from '../../src/data/simulate.ts';
import { parseEventTable, parseMetaTable } from '../../src/eval/tsv.ts';

const s = suite('data library');
const tmp = mkdtempSync(join(tmpdir(), 'flam-lib-test-'));
const subset = { classes: ['piano', 'kick_drum', 'female_speech'], perClass: 1, perSpeechClass: 1, packages: ['gm', 'speech'] as ('gm' | 'speech')[] };

function withEnv<T>(k: string, v: string, fn: () => T): T {
  const old = process.env[k];
  process.env[k] = v;
  try { return fn(); } finally { if (old === undefined) delete process.env[k]; else process.env[k] = old; }
}

s('missing packages: an error naming each package and the install command', async () => {
  try { withEnv('FLAM_SF2', '/nonexistent/FluidR3_GM.sf2', () => withEnv('FLAM_ESPEAK', '/nonexistent/espeak-ng', () => checkPackages(['gm', 'speech']))); assert.unreachable(); } catch (e) {
    assert.instance(e, MissingPackageError);
    const m = (e as Error).message;
    assert.match(m, /fluid-soundfont-gm \(\/nonexistent\/FluidR3_GM\.sf2 not found\)/);
    assert.match(m, /espeak-ng \('\/nonexistent\/espeak-ng --version' failed/);
    assert.match(m, /apt-get install -y fluid-soundfont-gm espeak-ng/);
  }
  const prev = process.env.FLAM_SF2;
  process.env.FLAM_SF2 = '/nonexistent/x.sf2';
  try { await buildLibrary({ dir: join(tmp, 'never'), ...subset }); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /fluid-soundfont-gm.*apt-get install -y fluid-soundfont-gm espeak-ng/);
  } finally { if (prev === undefined) delete process.env.FLAM_SF2; else process.env.FLAM_SF2 = prev; }
  assert.not.ok(existsSync(join(tmp, 'never', 'manifest.json')));
});

let m1: Manifest;
s('real packages: renders GM, drum and espeak-ng sources with a manifest (package, licence, params, sha256)', async () => {
  // Fails (does not skip) without the packages: the message carries the install command.
  checkPackages(['gm', 'speech']);
  m1 = await buildLibrary({ dir: join(tmp, 'a'), seed: 1, ...subset });
  assert.equal(m1.sources.map((e) => e.id), ['gm-piano-000', 'drum-kick_drum-000', 'speech-female_speech-000']);
  const want: Record<string, [string, string]> = { gm: ['fluid-soundfont-gm', 'MIT'], drum: ['fluid-soundfont-gm', 'MIT'], speech: ['espeak-ng', 'GPL-3.0-or-later'] };
  for (const e of m1.sources) {
    assert.equal([e.package, e.licence], want[e.kind]);
    const bytes = readFileSync(join(tmp, 'a', e.file));
    assert.is(createHash('sha256').update(bytes).digest('hex'), e.sha256);
    const w = readWav(new Uint8Array(bytes), e.file);
    assert.is(w.sampleRate, 48000);
    assert.is(w.samples[0].length, e.samples);
    assert.ok(e.duration > 0.1 && e.duration <= 8, `${e.id}: ${e.duration} s`);
    let peak = 0;
    for (const v of w.samples[0]) peak = Math.max(peak, Math.abs(v));
    assert.ok(Math.abs(20 * Math.log10(peak) + 1) < 0.01, `${e.id}: peak ${peak}`);
    assert.ok(e.loudness_db < -3 && e.loudness_db > -60, `${e.id}: loudness ${e.loudness_db}`);
  }
  const sp = m1.sources[2].params as { voice: string; variant: string; text: string };
  assert.ok(sp.voice.startsWith('en') && sp.variant.startsWith('f') && sp.text.length > 5);
  assert.ok(m1.packages['fluid-soundfont-gm'] && m1.packages['espeak-ng'] && m1.packages.spessasynth_core);
});

s('deterministic for a seed (a second directory gets the same bytes) and cached (nothing re-rendered)', async () => {
  assert.ok(m1, 'previous test built the library');
  const m2 = await buildLibrary({ dir: join(tmp, 'b'), seed: 1, ...subset });
  assert.equal(m2.sources.map((e) => e.sha256), m1.sources.map((e) => e.sha256));
  const f = join(tmp, 'a', m1.sources[0].file);
  const mtime = statSync(f).mtimeMs;
  const logs: string[] = [];
  await buildLibrary({ dir: join(tmp, 'a'), seed: 1, ...subset, log: (x) => logs.push(x) });
  assert.is(statSync(f).mtimeMs, mtime);
  assert.match(logs.join('\n'), /0 rendered, 3 cached/);
  const lib = loadLibrary(join(tmp, 'a'), { verify: true });
  assert.is(lib.sources.length, 3);
  assert.is(lib.sources[2].label, 'female_speech');
});

s('dataset build: WAVs, DCASE tables, captions.json with masks; the provider reads back the simulated clips', async () => {
  const out = join(tmp, 'ds');
  const sources = syntheticSources(2, 5); // 5 per class: 1 validation, 1 test, 3 train (src/data/simulate.ts assignSourceSplits)
  const sum = await buildDataset({ out, clips: 10, seed: 4, sources: { sources, classes: SYNTH_CLASSES, description: 'synthetic' }, format: 'float32' });
  assert.equal(sum.counts, { train: 8, validation: 1, test: 1 });
  const meta = parseMetaTable(readFileSync(join(out, 'train', 'meta.tsv'), 'utf8'), 'meta.tsv');
  assert.is(meta.length, 8);
  const t = parseEventTable(readFileSync(join(out, 'train', 'labels.tsv'), 'utf8'), 'labels.tsv', { meta });
  const caps = JSON.parse(readFileSync(join(out, 'train', 'captions.json'), 'utf8'));
  assert.is(caps.files.length, 8);
  assert.is(t.events.length, caps.files.reduce((k: number, f: { events: { intervals: unknown[] }[] }) => k + f.events.reduce((j, e) => j + e.intervals.length, 0), 0));
  const pool = makePool(sources, SYNTH_CLASSES);
  const p = datasetProvider(out, 'train');
  const it = await p.get(3);
  const ref = simulateClip(pool, 'train', clipSeed(4, 'train', 3));
  assert.ok(Buffer.from(it.audio.buffer, it.audio.byteOffset, it.audio.byteLength).equals(Buffer.from(ref.audio.buffer)), 'float32 WAV round-trips the simulated clip');
  assert.equal(it.events.map((e) => e.mask), ref.events.map((e) => e.mask >>> 0));
  const ds = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
  assert.ok(ds.classes.find((c: { label: string; held_out: boolean }) => c.label === 'warble').held_out);
  assert.match(ds.split_rule, /held-out classes: test only/);
  // A smaller rebuild in the same directory removes the clips it no longer lists.
  await buildDataset({ out, clips: 5, seed: 4, sources: { sources, classes: SYNTH_CLASSES, description: 'synthetic' } });
  assert.ok(existsSync(join(out, 'train', 'audio', 'train_000002.wav')));
  assert.not.ok(existsSync(join(out, 'train', 'audio', 'train_000007.wav')));
  assert.is(parseMetaTable(readFileSync(join(out, 'train', 'meta.tsv'), 'utf8'), 'meta.tsv').length, 3);
});

s('dataset build with 2 worker threads writes the same clips as 1 thread', async () => {
  const one = join(tmp, 'w1'), two = join(tmp, 'w2');
  await buildDataset({ out: one, clips: 6, seed: 8, synthetic: { seed: 2, perClass: 5 }, workers: 1 });
  await buildDataset({ out: two, clips: 6, seed: 8, synthetic: { seed: 2, perClass: 5 }, workers: 2 });
  for (const f of ['train/labels.tsv', 'train/captions.json', 'test/labels.tsv', 'train/audio/train_000003.wav']) {
    assert.ok(readFileSync(join(one, f)).equals(readFileSync(join(two, f))), f);
  }
  assert.is(JSON.parse(readFileSync(join(two, 'dataset.json'), 'utf8')).workers, 2);
});

s('worker provider: the loader gets the same batches as from the in-thread simulator', async () => {
  const spec = { kind: 'synthetic' as const, seed: 2, perClass: 5 };
  const pool = makePool(syntheticSources(2, 5), SYNTH_CLASSES);
  const w = new SimWorkers(1, spec);
  try {
    const a = new SedLoader(workerProvider(w, 'train', 7, 3), { clips: 2, seed: 1, prefetch: 2 });
    const b = new SedLoader(simulatedProvider(pool, 'train', 7, 3), { clips: 2, seed: 1, prefetch: 2 });
    for (let k = 0; k < 3; k++) {
      const x = await a.next(), y = await b.next();
      assert.equal([...x.clipIndex], [...y.clipIndex]);
      assert.equal(x.texts, y.texts);
      assert.equal([...x.positives.frames], [...y.positives.frames]);
      assert.ok(Buffer.from(x.audio.buffer).equals(Buffer.from(y.audio.buffer)));
    }
  } finally { await w.close(); }
});

s('flam data: argument errors name the option', async () => {
  const { run } = await import('../../src/cli/commands/data.ts');
  const err = async (args: string[], re: RegExp) => { try { await run(args); assert.unreachable(); } catch (e) { assert.match((e as Error).message, re); } };
  await err(['build', '--clips', '3', '--seed', '1'], /--out DIR is required/);
  await err(['build', '--out', join(tmp, 'x'), '--seed', '1'], /--clips N/);
  await err(['build', '--out', join(tmp, 'x'), '--clips', 'many', '--seed', '1'], /--clips must be a number/);
  await err(['build', '--out', join(tmp, 'x'), '--clips', '3', '--seed', '1', '--format', 'mp3'], /--format must be pcm16 or float32/);
  await err(['frobnicate'], /unknown subcommand 'frobnicate'/);
});

s('cleanup', () => { rmSync(tmp, { recursive: true, force: true }); });

s.run();
