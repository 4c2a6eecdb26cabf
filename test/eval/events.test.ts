// Collar-based event F1 and segment-based F1 (sed_eval definitions) on hand-computed cases.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Event } from '../../src/eval/tsv.ts';
import { eventBasedF1, maxBipartiteMatching, segmentBasedF1 } from '../../src/eval/events.ts';
import { assertClose, type Tol } from '../util/compare.ts';

const s = suite('event and segment F1');
/** Ratios of small integers. */
const EXACT: Tol = { atol: 1e-12, rtol: 1e-12 };
const close = (name: string, got: number, want: number) => assertClose(name, [got], [want], EXACT);
const ev = (filename: string, onset: number, offset: number, label: string): Event => ({ filename, onset, offset, label });

// Reference: dog [1,3], dog [5,6], cat [2,4] in a.wav.
const ref = [ev('a.wav', 1, 3, 'dog'), ev('a.wav', 5, 6, 'dog'), ev('a.wav', 2, 4, 'cat')];
const est = [
  ev('a.wav', 1.1, 2.8, 'dog'),  // onset off by 0.1 <= 0.2, offset by 0.2 <= max(0.2, 0.2*2 = 0.4): match
  ev('a.wav', 5.3, 6, 'dog'),    // onset off by 0.3 > 0.2: no match
  ev('a.wav', 2.05, 4.5, 'cat'), // offset off by 0.5 > 0.4: no match
  ev('a.wav', 2.1, 4.3, 'cat'),  // onset 0.1, offset 0.3 <= 0.4: match
  ev('a.wav', 0, 1, 'bird'),     // no bird reference
];

s('collar-based event F1: per class, micro, macro', () => {
  const r = eventBasedF1(ref, est);
  assert.equal(r.classes, ['bird', 'cat', 'dog']);
  assert.equal([r.perClass.dog.nRef, r.perClass.dog.nSys, r.perClass.dog.nTp], [2, 2, 1]);
  assert.equal([r.perClass.cat.nRef, r.perClass.cat.nSys, r.perClass.cat.nTp], [1, 2, 1]);
  close('dog F', r.perClass.dog.f1, 0.5);
  close('cat F', r.perClass.cat.f1, 2 / 3);            // P 1/2, R 1
  close('bird P', r.perClass.bird.precision, 0);
  assert.ok(Number.isNaN(r.perClass.bird.recall) && Number.isNaN(r.perClass.bird.f1), 'bird: no reference, R and F undefined');
  // micro: tp 2, ref 3, sys 5 -> F = 2*2/(3+5).
  close('micro F', r.micro.f1, 0.5);
  close('micro P', r.micro.precision, 0.4);
  close('micro R', r.micro.recall, 2 / 3);
  // macro: mean of defined F (dog .5, cat 2/3) = 7/12; P mean(0, 1/2, 1/2) = 1/3; R mean(1/2, 1) = 3/4.
  close('macro F', r.macro.f1, 7 / 12);
  close('macro P', r.macro.precision, 1 / 3);
  close('macro R', r.macro.recall, 0.75);
});

s('collar options: sed_eval default 50% offset collar, onset only, offset only', () => {
  // cat [2.05, 4.5]: offset off by 0.5 <= max(0.2, 0.5*2) with percentageOfLength 0.5 -> both cat estimates match
  // the single reference, but one-to-one: still 1 TP.
  const r = eventBasedF1(ref, est, { percentageOfLength: 0.5 });
  assert.is(r.perClass.cat.nTp, 1);
  // dog [5.3, 6]: onset-free matching makes it a hit.
  assert.is(eventBasedF1(ref, est, { evaluateOnset: false }).perClass.dog.nTp, 2);
  // offset-free: cat [2.05,4.5] and [2.1,4.3] both pass the onset, one TP.
  assert.is(eventBasedF1(ref, est, { evaluateOffset: false }).perClass.cat.nTp, 1);
  // a 0.4 s onset collar makes dog [5.3, 6] a hit too.
  assert.is(eventBasedF1(ref, est, { tCollar: 0.4 }).perClass.dog.nTp, 2);
});

s('one-to-one matching is maximum, not greedy', () => {
  // r1 [0,2], r2 [0.3,2.5]; e1 [0.15,2.2] fits both, e2 [0,1.9] fits only r1 (onset 0.3 from r2).
  // Greedy (r1 takes e1 first) finds 1 pair; the maximum matching r1-e2, r2-e1 finds 2.
  const R = [ev('f', 0, 2, 'x'), ev('f', 0.3, 2.5, 'x')];
  const E = [ev('f', 0.15, 2.2, 'x'), ev('f', 0, 1.9, 'x')];
  assert.is(eventBasedF1(R, E).micro.nTp, 2);
  close('F', eventBasedF1(R, E).micro.f1, 1);
  const m = maxBipartiteMatching([[0, 1], [0], [2]], 3);
  assert.equal(Array.from(m), [1, 0, 2]);
});

s('events are matched within their own file only; files option restricts evaluation', () => {
  const R = [ev('a', 0, 1, 'x'), ev('b', 0, 1, 'x')];
  const E = [ev('b', 0, 1, 'x'), ev('c', 0, 1, 'x')];
  const r = eventBasedF1(R, E);
  assert.equal([r.micro.nRef, r.micro.nSys, r.micro.nTp], [2, 2, 1]);
  const only = eventBasedF1(R, E, { files: ['a', 'b'] });
  assert.equal([only.micro.nRef, only.micro.nSys, only.micro.nTp], [2, 1, 1]);
});

s('empty system output: zero_score (default) vs nan', () => {
  const R = [ev('a', 0, 1, 'x'), ev('a', 0, 1, 'y')];
  const E = [ev('a', 0, 1, 'x')];
  const z = eventBasedF1(R, E);
  close('y F zero', z.perClass.y.f1, 0);
  close('macro zero', z.macro.f1, 0.5);
  const n = eventBasedF1(R, E, { emptySystemOutput: 'nan' });
  assert.ok(Number.isNaN(n.perClass.y.f1));
  close('macro nan', n.macro.f1, 1);
  close('micro', n.micro.f1, 2 / 3);
});

s('segment-based F1 (1 s segments)', () => {
  // dog ref [0.5, 2.2] -> segments 0,1,2; est [1.5, 4] -> 1,2,3: tp 2, ref 3, sys 3.
  // cat ref [3, 4] -> segment 3; no cat estimate.
  const R = [ev('a', 0.5, 2.2, 'dog'), ev('a', 3, 4, 'cat')];
  const E = [ev('a', 1.5, 4, 'dog')];
  const r = segmentBasedF1(R, E);
  assert.equal([r.perClass.dog.nRef, r.perClass.dog.nSys, r.perClass.dog.nTp], [3, 3, 2]);
  close('dog F', r.perClass.dog.f1, 2 / 3);
  close('cat F', r.perClass.cat.f1, 0);
  // micro: ref 4, sys 3, tp 2 -> 4/7. macro: (2/3 + 0) / 2.
  close('micro', r.micro.f1, 4 / 7);
  close('macro', r.macro.f1, 1 / 3);
  // Evaluated length 3 s: segment 3 is cut; dog ref 0,1,2 / est 1,2; cat has no segment left.
  const c = segmentBasedF1(R, E, { durations: new Map([['a', 3]]) });
  assert.equal([c.micro.nRef, c.micro.nSys, c.micro.nTp], [3, 2, 2]);
  close('cut micro', c.micro.f1, 0.8);
  // 0.5 s segments: dog ref [0.5,2.2] -> 1..4 (4 segs), est [1.5,4] -> 3..7 (5): tp 3,4 = 2; cat [3,4] -> 6,7.
  const h = segmentBasedF1(R, E, { segment: 0.5 });
  assert.equal([h.perClass.dog.nRef, h.perClass.dog.nSys, h.perClass.dog.nTp], [4, 5, 2]);
  assert.equal([h.perClass.cat.nRef, h.perClass.cat.nSys, h.perClass.cat.nTp], [2, 0, 0]);
  assert.throws(() => segmentBasedF1(R, E, { segment: 0 }), /segment length/);
});

s.run();
