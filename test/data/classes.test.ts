// The caption table, the split rule for phrasings and classes, and the source library plan.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLASSES, classIndex, heldOutPhrasings, phrasingsFor, validateClasses, type ClassDef } from '../../src/data/classes.ts';
import { DRUM_RECIPES, GM_RECIPES, planLibrary, SPEECH_CLASSES, WESNOTH_RULES, wesnothLabel } from '../../src/data/sources.ts';
import { SYNTH_CLASSES } from '../../src/data/synthetic.ts';

const s = suite('data classes and plan');

s('the class table is valid: >= 4 phrasings, unique, held-out classes in every big group', () => {
  validateClasses(CLASSES);
  validateClasses(SYNTH_CLASSES);
  for (const c of CLASSES) assert.ok(c.captions.length >= 4, c.label);
  const held = CLASSES.filter((c) => c.heldOut);
  const events = CLASSES.filter((c) => c.role === 'event');
  assert.ok(held.length >= 6 && held.length <= 0.15 * events.length, `${held.length} held-out of ${events.length}`);
  for (const g of ['instrument', 'sfx', 'drum', 'speech', 'recorded']) assert.ok(held.some((c) => c.group === g), `held-out class in ${g}`);
});

s('validateClasses rejects bad tables (so the check above can fail)', () => {
  const ok: ClassDef = { label: 'a', group: 'sfx', role: 'event', captions: ['one two', 'three four', 'five six', 'seven eight'] };
  const held: ClassDef = { ...ok, label: 'h', heldOut: true, captions: ['h1 x', 'h2 x', 'h3 x', 'h4 x'] };
  validateClasses([ok, held]);
  assert.throws(() => validateClasses([{ ...ok, captions: ok.captions.slice(0, 3) }, held]), /phrasings/);
  assert.throws(() => validateClasses([ok, { ...held, captions: ['one two', 'h2 x', 'h3 x', 'h4 x'] }]), /used by 'a' and 'h'/);
  assert.throws(() => validateClasses([ok, { ...ok }, held]), /twice/);
  assert.throws(() => validateClasses([{ ...ok, label: 'Bad-Label' }, held]), /snake_case/);
  assert.throws(() => validateClasses([ok]), /no held-out/);
  assert.throws(() => validateClasses([{ ...ok, captions: ['One two', ...ok.captions.slice(1)] }, held]), /lower case/);
});

s('phrasing split: training sees the first n - max(1, floor(n/4)), test only the rest; held-out classes only in test', () => {
  assert.equal([4, 5, 7, 8, 12].map(heldOutPhrasings), [1, 1, 1, 2, 3]);
  for (const c of CLASSES.filter((x) => x.role === 'event')) {
    if (c.heldOut) {
      assert.throws(() => phrasingsFor(c, 'train'), /held out/);
      assert.throws(() => phrasingsFor(c, 'validation'), /held out/);
      assert.equal(phrasingsFor(c, 'test'), { captions: c.captions, novelty: 'class' });
      continue;
    }
    const tr = phrasingsFor(c, 'train'), va = phrasingsFor(c, 'validation'), te = phrasingsFor(c, 'test');
    assert.equal(tr, va);
    assert.is(tr.novelty, 'seen');
    assert.is(te.novelty, 'phrasing');
    assert.ok(tr.captions.length >= 3);
    assert.is(tr.captions.length + te.captions.length, c.captions.length);
    for (const p of te.captions) assert.not.ok(tr.captions.includes(p), `${c.label}: '${p}' in both`);
  }
});

s('every event class has sources in the plan (GM, drums, speech or a wesnoth rule); every planned label exists', () => {
  const idx = classIndex();
  const planned = new Set([...Object.keys(GM_RECIPES), ...Object.keys(DRUM_RECIPES), ...SPEECH_CLASSES, ...WESNOTH_RULES.map(([, l]) => l).filter(Boolean)]);
  for (const c of CLASSES) assert.ok(planned.has(c.label), `class '${c.label}' has no source recipe`);
  for (const l of planned) assert.ok(idx.has(l), `recipe label '${l}' is not a class`);
});

s('plan is deterministic for a seed, differs across seeds, ids unique, sizes as configured', () => {
  const files = ['wolf-growl-1.ogg', 'mace.ogg', 'mace.wav', 'ambient/night.ogg', 'ambient/wardrums.ogg', 'open-chest.wav'];
  const a = planLibrary(3, { wesnothFiles: files });
  const b = planLibrary(3, { wesnothFiles: files });
  const c = planLibrary(4, { wesnothFiles: files });
  assert.equal(a, b);
  assert.not.equal(JSON.stringify(a), JSON.stringify(c));
  assert.is(new Set(a.map((x) => x.id)).size, a.length);
  const n = (k: string) => a.filter((x) => x.kind === k).length;
  assert.is(n('gm'), (Object.keys(GM_RECIPES).length - 1) * 8 + 10); // seashore: 10
  assert.is(n('drum'), Object.keys(DRUM_RECIPES).length * 8);
  assert.is(n('speech'), SPEECH_CLASSES.length * 16);
  assert.equal(a.filter((x) => x.kind === 'wesnoth').map((x) => x.label), ['night_ambience', 'impact_hit', 'impact_hit', 'wolf_growl']);
  // A sub-plan keeps each source's parameters (own stream per id).
  const sub = planLibrary(3, { classes: ['violin'], packages: ['gm'] });
  assert.equal(sub, a.filter((x) => x.label === 'violin'));
  for (const x of a) if (x.kind === 'gm') for (const nt of x.notes) {
    const r = GM_RECIPES[x.label];
    assert.ok(nt.key >= r.keys[0] && nt.key <= r.keys[1] && nt.velocity >= 50 && nt.velocity <= 127, x.id);
  }
});

s('wesnoth file names map to classes', () => {
  assert.is(wesnothLabel('wolf-growl-3.ogg'), 'wolf_growl');
  assert.is(wesnothLabel('human-female-die-2.ogg'), 'woman_scream');
  assert.is(wesnothLabel('human-die-1.ogg'), 'man_scream');
  assert.is(wesnothLabel('sword-1.ogg'), 'sword_slash');
  assert.is(wesnothLabel('bow-miss.ogg'), 'whoosh');
  assert.is(wesnothLabel('horse-canter.wav'), 'horse_gallop');
  assert.is(wesnothLabel('ambient/birds2.ogg'), 'bird_tweet');
  assert.is(wesnothLabel('ambient/wardrums.ogg'), null);
  assert.is(wesnothLabel('open-chest.wav'), null);
});

s.run();
