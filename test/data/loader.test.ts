// Loader: SED batch filling and compact labels, identical captions, global batch, deterministic order, exact
// resume from a saved state, prefetch while the consumer works, and the simulator as a provider.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { denseLabels, GlobalLoader, SedLoader, simulatedProvider, clipSeed, type ClipItem, type ClipProvider, type SedBatch } from '../../src/data/loader.ts';
import { makePool, simulateClip } from '../../src/data/simulate.ts';
import { syntheticSources, SYNTH_CLASSES } from '../../src/data/synthetic.ts';

const s = suite('data loader');
const S = 8; // samples per clip in the handmade provider

/** Clip i: audio filled with i; events from the table (label, caption, mask). */
function provider(table: [string, string, number][][], log?: number[]): ClipProvider {
  return {
    size: table.length,
    async get(i: number): Promise<ClipItem> {
      log?.push(i);
      await new Promise((r) => setTimeout(r, 1));
      return { audio: new Float32Array(S).fill(i), caption: `clip ${i}`, events: table[i].map(([label, caption, mask]) => ({ label, caption, mask })) };
    },
  };
}

const T: [string, string, number][][] = [
  [['dog', 'a dog barks', 0b0011], ['car', 'a car passes', 0b1100]], // 0
  [['dog', 'a dog barks', 0b110000]], // 1: same caption as clip 0
  [['dog', 'barking dog', 0b1], ['bird', 'birds sing', 0b10], ['rain', 'rain falls', 0b100]], // 2: dog with another phrasing
  [['car', 'a car passes', 1 << 31]], // 3
  [['bell', 'a bell rings', 1], ['horn', 'a horn honks', 2], ['cat', 'a cat meows', 4], ['cow', 'a cow moos', 8], ['owl', 'an owl hoots', 16]], // 4
];

s('SED batch: text slots per distinct caption, text-full ends the batch, compact labels with the label policy', async () => {
  const l = new SedLoader(provider(T), { clips: 3, textsPerClip: 2, seed: 0, shuffle: false, clipSamples: S }); // K = 6
  const b = await l.next();
  // clip 0: 2 texts; clip 1: 'a dog barks' already there; clip 2: 3 new texts -> 5 <= 6; audio slots full (3).
  assert.equal([...b.clipIndex], [0, 1, 2]);
  assert.equal([...b.audioMask], [1, 1, 1]);
  assert.equal(b.texts, ['a dog barks', 'a car passes', 'barking dog', 'birds sing', 'rain falls', '']);
  assert.equal([...b.textMask], [1, 1, 1, 1, 1, 0]);
  assert.equal(b.audio[S * 2], 2);
  const pos = [...b.positives.text].map((k, j) => [k, b.positives.audio[j], b.positives.frames[j]]);
  // 'a dog barks' (slot 0, class dog): clips 0, 1 and 2 (clip 2's dog has another phrasing) are positive.
  assert.equal(pos, [
    [0, 0, 0b0011], [0, 1, 0b110000], [0, 2, 0b1],
    [1, 0, 0b1100],
    [2, 0, 0b0011], [2, 1, 0b110000], [2, 2, 0b1],
    [3, 2, 0b10], [4, 2, 0b100],
  ]);
  // Second batch: clip 3 (1 new text), then clip 4 needs 5 more: 1 + 5 = 6 fits; audio slot 3 masked.
  const b2 = await l.next();
  assert.equal([...b2.clipIndex], [3, 4, -1]);
  assert.equal([...b2.audioMask], [1, 1, 0]);
  assert.equal([...b2.textMask], [1, 1, 1, 1, 1, 1]);
  assert.is(b2.audio[S * 2], 0);
  assert.equal(b2.state, { epoch: 1, position: 0, rng: b2.state.rng });
});

s('SED batch: caption policy, text-slot overflow masks audio slots, a single oversized clip is truncated', async () => {
  const l = new SedLoader(provider(T), { clips: 3, textsPerClip: 1, seed: 0, shuffle: false, clipSamples: S, positives: 'caption' }); // K = 3
  const b = await l.next();
  // clip 0 (2 texts) + clip 1 (0 new) = 2; clip 2 needs 3 more > 1 free -> batch ends, slot 2 masked.
  assert.equal([...b.clipIndex], [0, 1, -1]);
  assert.equal(b.texts, ['a dog barks', 'a car passes', '']);
  const pos = [...b.positives.text].map((k, j) => [k, b.positives.audio[j]]);
  assert.equal(pos, [[0, 0], [0, 1], [1, 0]]);
  const b2 = await l.next();
  // clip 2 fills all 3 text slots; clip 3 needs one more -> next batch.
  assert.equal([...b2.clipIndex], [2, -1, -1]);
  assert.equal(b2.texts, ['barking dog', 'birds sing', 'rain falls']);
  const b3 = await l.next();
  // clip 3 has 'a car passes' (1 text), clip 4 needs 5 -> ends; then clip 4 alone keeps its first 3 captions.
  assert.equal([...b3.clipIndex], [3, -1, -1]);
  const b4 = await l.next();
  assert.equal([...b4.clipIndex], [4, -1, -1]);
  assert.equal(b4.texts, ['a bell rings', 'a horn honks', 'a cat meows']);
  // Dense labels agree with the compact ones.
  const q = denseLabels(b);
  assert.is(q.length, 3 * 3 * 32);
  assert.is(q[(0 * 3 + 0) * 32 + 0], 1); assert.is(q[(0 * 3 + 0) * 32 + 2], 0);
  assert.is(q[(1 * 3 + 0) * 32 + 4], 1); assert.is(q[(1 * 3 + 1) * 32 + 4], 0);
});

async function take(l: { next(): Promise<SedBatch> }, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = await l.next();
    out.push(JSON.stringify([[...b.clipIndex], b.texts, [...b.positives.audio], [...b.positives.text], [...b.positives.frames]]));
  }
  return out;
}

s('deterministic order per seed, every clip once per epoch, exact resume from a saved state', async () => {
  const table = Array.from({ length: 11 }, (_, i) => [[`c${i % 4}`, `caption ${i % 6}`, 1 << (i % 32)] as [string, string, number]]);
  const opts = { clips: 3, seed: 5, clipSamples: S, prefetch: 3 };
  const a = await take(new SedLoader(provider(table), opts), 8);
  const b = await take(new SedLoader(provider(table), opts), 8);
  assert.equal(a, b);
  const c = await take(new SedLoader(provider(table), { ...opts, seed: 6 }), 8);
  assert.not.equal(a, c);
  // Epoch coverage: the first 11 clips taken are a permutation of 0..10.
  const l = new SedLoader(provider(table), opts);
  const seen: number[] = [];
  while (seen.length < 11) { const x = await l.next(); for (const i of x.clipIndex) if (i >= 0 && seen.length < 11) seen.push(i); }
  assert.equal([...seen].sort((x, y) => x - y), [...Array(11).keys()]);
  assert.not.equal(seen, [...Array(11).keys()], 'shuffled');
  // Resume: state after batch 3 (prefetch must not leak into it) continues with batches 4..8.
  const l1 = new SedLoader(provider(table), opts);
  await take(l1, 3);
  const st = l1.state();
  const rest = await take(new SedLoader(provider(table), { ...opts, state: st }), 5);
  assert.equal(rest, a.slice(3));
  assert.throws(() => new SedLoader(provider(table), { ...opts, state: { epoch: 0, position: 99, rng: 0 } }), /bad state/);
});

s('prefetch: clips of the next batches are requested before the consumer asks for them', async () => {
  const log: number[] = [];
  const table = Array.from({ length: 20 }, (_, i) => [[`c${i}`, `t${i}`, 1] as [string, string, number]]);
  const l = new SedLoader(provider(table, log), { clips: 2, seed: 0, shuffle: false, clipSamples: S, prefetch: 2 });
  await l.next();
  await new Promise((r) => setTimeout(r, 20)); // the consumer's "GPU step"
  assert.ok(log.length >= 6, `requested ${log.length} clips after one batch`);
  assert.equal(l.state().position, 2);
});

s('global batch: one caption per clip, identical captions grouped, resumable with the rng state', async () => {
  const table: [string, string, number][][] = Array.from({ length: 6 }, (_, i) => [['a', `x${i % 2}`, 1], ['b', `y${i}`, 2]]);
  const p: ClipProvider = { size: 6, get: (i) => ({ audio: new Float32Array(S).fill(i), caption: i < 3 ? 'same' : `clip ${i}`, events: table[i].map(([label, caption, mask]) => ({ label, caption, mask })) }) };
  const g = new GlobalLoader(p, { clips: 4, seed: 0, shuffle: false, clipSamples: S });
  const b = await g.next();
  assert.equal(b.captions, ['same', 'same', 'same', 'clip 3']);
  assert.equal([...b.captionGroup], [0, 0, 0, 3]);
  const ev = new GlobalLoader(p, { clips: 2, seed: 1, clipSamples: S, caption: 'event' });
  const e1 = await ev.next();
  const st = ev.state();
  const e2 = await ev.next();
  const again = await new GlobalLoader(p, { clips: 2, seed: 1, clipSamples: S, caption: 'event', state: st }).next();
  assert.equal(again.captions, e2.captions);
  assert.equal([...again.clipIndex], [...e2.clipIndex]);
  for (const [j, c] of e1.captions.entries()) assert.ok(table[e1.clipIndex[j]].some(([, cap]) => cap === c));
});

s('errors: wrong clip length and provider failures reach next()', async () => {
  const bad: ClipProvider = { size: 2, get: () => ({ audio: new Float32Array(5), caption: '', events: [] }) };
  try { await new SedLoader(bad, { clips: 1, seed: 0, clipSamples: S }).next(); assert.unreachable(); } catch (e) { assert.match(String(e), /5 samples, expected 8/); }
  const fail: ClipProvider = { size: 2, get: () => { throw new Error('disk gone'); } };
  try { await new GlobalLoader(fail, { clips: 1, seed: 0, clipSamples: S }).next(); assert.unreachable(); } catch (e) { assert.match(String(e), /disk gone/); }
});

s('simulated provider: clip i is simulateClip(seed of i); SED batches of real 10 s clips', async () => {
  const pool = makePool(syntheticSources(3, 3), SYNTH_CLASSES);
  const p = simulatedProvider(pool, 'train', 6, 9);
  const it = await p.get(4);
  const ref = simulateClip(pool, 'train', clipSeed(9, 'train', 4));
  assert.ok(Buffer.from(it.audio.buffer).equals(Buffer.from(ref.audio.buffer)));
  const l = new SedLoader(p, { clips: 2, seed: 0, prefetch: 1 });
  const b = await l.next();
  assert.is(b.audio.length, 2 * 480000);
  assert.is(b.K, 10);
  for (let j = 0; j < b.positives.audio.length; j++) assert.ok(b.positives.frames[j] !== 0);
  // Every event of every used clip is positive for its own caption's slot (when the caption got a slot).
  for (let i = 0; i < b.A; i++) {
    if (!b.audioMask[i]) continue;
    const item = await p.get(b.clipIndex[i]);
    for (const e of item.events) {
      const k = b.texts.indexOf(e.caption);
      if (k < 0) continue;
      const j = [...b.positives.audio].findIndex((a, jj) => a === i && b.positives.text[jj] === k);
      assert.ok(j >= 0 && (b.positives.frames[j] & e.mask) === e.mask);
    }
  }
});

s.run();
