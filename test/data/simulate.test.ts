// Simulator invariants on the synthetic source set (no Debian packages needed): overlap <= 3, loudness offsets in
// 6..30 dB over the reference, labels = audible extent (known for synthetic sources), determinism for a seed, and
// the open-vocabulary split (held-out classes, phrasings and source instances).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loudnessDb, windowLevels } from '../../src/data/activity.ts';
import { phrasingsFor, type Split } from '../../src/data/classes.ts';
import { clipRecord, clipRows, CLIP_SAMPLES, FRAME_SAMPLES, makePool, maxOverlapOf, simulateClip, assignSourceSplits, type SimClip } from '../../src/data/simulate.ts';
import { syntheticSources, SYNTH_CLASSES } from '../../src/data/synthetic.ts';
import { parseEventTable, formatEventTable } from '../../src/eval/tsv.ts';

const s = suite('data simulate');
const sources = syntheticSources(7, 5);
const pool = makePool(sources, SYNTH_CLASSES);
const byId = new Map(sources.map((x) => [x.id, x]));
const cls = new Map(SYNTH_CLASSES.map((c) => [c.label, c]));

const clips: Record<Split, SimClip[]> = { train: [], validation: [], test: [] };
for (const split of ['train', 'validation', 'test'] as const) {
  for (let i = 0; i < (split === 'train' ? 14 : 6); i++) clips[split].push(simulateClip(pool, split, 1000 + i, { keepTracks: true }));
}
const all = [...clips.train, ...clips.validation, ...clips.test];

s('clips: 480000 finite samples, peak <= -1 dBFS, 1..10 events, at most 3 overlapping, no same-class overlap', () => {
  let maxSeen = 0, counts = new Set<number>();
  for (const c of all) {
    assert.is(c.audio.length, CLIP_SAMPLES);
    let peak = 0;
    for (const v of c.audio) { assert.ok(Number.isFinite(v)); peak = Math.max(peak, Math.abs(v)); }
    assert.ok(peak <= 10 ** (-1 / 20) + 1e-6, `peak ${peak}`);
    assert.ok(c.events.length >= 1 && c.events.length <= 10);
    counts.add(c.events.length);
    const m = maxOverlapOf(c.events);
    assert.ok(m <= 3, `overlap ${m}`);
    maxSeen = Math.max(maxSeen, m);
    for (const a of c.events) for (const b of c.events) {
      if (a !== b && a.label === b.label) assert.ok(a.end <= b.start || b.end <= a.start, `same-class overlap ${a.label}`);
    }
    for (const e of c.events) assert.ok(e.start >= 0 && e.end <= CLIP_SAMPLES && e.end > e.start);
  }
  assert.ok(maxSeen === 3, 'some clip reaches 3 overlapping events (the constraint is exercised)');
  assert.ok(counts.size >= 4, 'event counts vary');
});

s('loudness: offsets drawn in [6, 30] dB; each single event track measures R + offset (+-1 dB)', () => {
  let checked = 0;
  for (const c of all) {
    for (const e of c.events) {
      assert.ok(e.offsetDb >= 6 && e.offsetDb <= 30, `${e.offsetDb}`);
      if (e.pattern !== 'single') continue;
      const l = loudnessDb(windowLevels(e.track!));
      assert.ok(Math.abs(l - (c.refDb + e.offsetDb)) < 1, `${e.source}: loudness ${l.toFixed(2)} vs R + offset ${(c.refDb + e.offsetDb).toFixed(2)}`);
      checked++;
    }
  }
  assert.ok(checked > 30);
});

s('the mixture is the sum of the event tracks and the bed; a noise bed sits at the reference level R', () => {
  let beds = 0;
  for (const c of clips.train) {
    const rest = Float64Array.from(c.audio);
    for (const e of c.events) for (let i = 0; i < e.track!.length; i++) rest[e.start + i] -= e.track![i];
    if (!c.background) { for (const v of rest) assert.ok(Math.abs(v) < 1e-6); continue; }
    if (c.background.kind !== 'noise') continue;
    const l = loudnessDb(windowLevels(rest));
    assert.ok(Math.abs(l - c.refDb) < 1.5, `bed ${l.toFixed(2)} vs R ${c.refDb.toFixed(2)}`);
    beds++;
  }
  assert.ok(beds >= 2);
});

s('labels follow the audible extent, not the file extent (synthetic sources: silence before and after)', () => {
  let n = 0;
  for (const c of all) {
    for (const e of c.events) {
      if (e.pattern !== 'single') continue;
      const src = byId.get(e.source)!;
      const seg = e.segments[0];
      const a = e.start + src.leadSamples - seg.from, b = a + src.soundSamples;
      assert.is(e.intervals.length, 1, `${e.source} ${JSON.stringify(e.intervals)}`);
      const [x, y] = e.intervals[0];
      assert.ok(Math.abs(x - a) <= 480 && Math.abs(y - b) <= 480, `${e.source}: active [${x}, ${y}) vs sound [${a}, ${b}), file [${e.start}, ${e.end})`);
      assert.ok(x > e.start, 'leading silence is not labelled');
      // Frame mask: frames overlapping the known sound, up to frames within 10 ms of its ends.
      for (let l = 0; l < 32; l++) {
        const f0 = l * FRAME_SAMPLES, f1 = f0 + FRAME_SAMPLES;
        const want = a < f1 && b > f0;
        const near = Math.abs(a - f1) <= 480 || Math.abs(b - f0) <= 480;
        if (!near) assert.is(((e.mask >>> l) & 1) === 1, want, `${e.source} frame ${l}`);
      }
      n++;
    }
    // Repeated / fragmented events have one interval per piece (gaps >= 0.1 s).
    for (const e of c.events) if (e.pattern !== 'single') assert.ok(e.intervals.length >= 2, `${e.pattern}: ${JSON.stringify(e.intervals)}`);
  }
  assert.ok(n > 30);
});

s('DCASE rows and JSON record agree; the table parses with no overlapping same-label rows', () => {
  for (const c of all) {
    const rows = clipRows('x.wav', c);
    const t = parseEventTable(formatEventTable(rows), 'x.tsv', { meta: new Map([['x.wav', 10]]) });
    assert.is(t.events.length, c.events.reduce((k, e) => k + e.intervals.length, 0));
    const rec = clipRecord('x.wav', c);
    assert.is(rec.events.length, c.events.length);
    for (const [i, e] of rec.events.entries()) {
      assert.is(e.mask, c.events[i].mask >>> 0);
      assert.ok(e.mask > 0, 'every event has an active frame');
    }
    assert.ok(c.caption.length > 0);
  }
});

s('deterministic for a seed; different seeds differ', () => {
  const a = simulateClip(pool, 'train', 42), b = simulateClip(pool, 'train', 42), d = simulateClip(pool, 'train', 43);
  assert.equal(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer)), true);
  assert.equal(clipRecord('x', a), clipRecord('x', b));
  assert.not.equal(JSON.stringify(clipRecord('x', a)), JSON.stringify(clipRecord('x', d)));
});

s('splits: held-out class only in test, held-out phrasings never outside test, source instances disjoint', () => {
  const split = assignSourceSplits(sources, cls);
  const srcSplits: Record<Split, Set<string>> = { train: new Set(), validation: new Set(), test: new Set() };
  let heldOutClassSeen = 0, phrasingNovel = 0;
  for (const sp of ['train', 'validation', 'test'] as const) {
    for (const c of clips[sp]) {
      for (const e of c.events) {
        srcSplits[sp].add(e.source);
        assert.is(split.get(e.source), sp, `${e.source} used in ${sp}`);
        const k = cls.get(e.label)!;
        if (sp !== 'test') {
          assert.not.ok(k.heldOut, `held-out class ${e.label} in ${sp}`);
          assert.ok(phrasingsFor(k, 'train').captions.includes(e.caption));
          assert.is(e.novelty, 'seen');
        } else if (k.heldOut) { heldOutClassSeen++; assert.is(e.novelty, 'class'); }
        else { phrasingNovel++; assert.is(e.novelty, 'phrasing'); assert.not.ok(phrasingsFor(k, 'train').captions.includes(e.caption)); }
      }
    }
  }
  for (const x of srcSplits.train) assert.not.ok(srcSplits.test.has(x) || srcSplits.validation.has(x));
  assert.ok(heldOutClassSeen > 0 && phrasingNovel > 0);
  // Every seen class keeps >= 1 training source; held-out classes have none.
  for (const c of SYNTH_CLASSES) {
    const n = sources.filter((x) => x.label === c.label && split.get(x.id) === 'train').length;
    if (c.heldOut) assert.is(n, 0); else assert.ok(n >= 1, c.label);
  }
});

s('bad options and empty pools are errors', () => {
  assert.throws(() => simulateClip(pool, 'train', 1, { minEvents: 0 }), /event count/);
  const only = makePool(sources.filter((x) => x.label === 'warble'), SYNTH_CLASSES);
  assert.throws(() => simulateClip(only, 'train', 1), /no event sources in split 'train'/);
  assert.throws(() => makePool([{ id: 'z', label: 'beep', audio: new Float32Array(100) }], SYNTH_CLASSES), /silent/);
  assert.throws(() => makePool([{ id: 'z', label: 'nope', audio: new Float32Array(100).fill(0.1) }], SYNTH_CLASSES), /unknown class/);
});

s.run();
