import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BpeTokenizer, GPT2_TOKENIZER_FILES, SPECIAL_TOKENS } from '../../src/text/bpe.ts';
import { gunzip } from '../../src/io/gzip.ts';
import { sha256Hex } from '../../src/io/checksum.ts';
import { throwsWith } from '../util/compare.ts';

const s = suite('bpe');
const root = join(import.meta.dirname, '..', '..');
const fixture: { generator: string; cases: { text: string; ids: number[] }[] } =
  JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'text', 'gpt2_bpe_cases.json'), 'utf8'));

let tok: BpeTokenizer;
let warnings: string[] = [];
// The plain GPT-2 files, for the synchronous constructor.
let vocabText = '', mergesText = '';


s.before(async () => {
  const vocab = new Uint8Array(readFileSync(join(root, GPT2_TOKENIZER_FILES.vocab)));
  const merges = new Uint8Array(readFileSync(join(root, GPT2_TOKENIZER_FILES.merges)));
  tok = await BpeTokenizer.load(vocab, merges, { source: 'gpt2', onWarning: (m) => warnings.push(m) });
  vocabText = new TextDecoder().decode(await gunzip(vocab));
  mergesText = new TextDecoder().decode(await gunzip(merges));
});
s.before.each(() => { warnings = []; });

s('shipped files unpack to the upstream GPT-2 files', async () => {
  const vocab = await gunzip(new Uint8Array(readFileSync(join(root, GPT2_TOKENIZER_FILES.vocab))));
  const merges = await gunzip(new Uint8Array(readFileSync(join(root, GPT2_TOKENIZER_FILES.merges))));
  assert.is(sha256Hex(vocab), '196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783', 'encoder.json sha256 (see weights/tokenizer/LICENSE)');
  assert.is(sha256Hex(merges), '1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5', 'vocab.bpe sha256');
  assert.is(tok.numMerges, 50000);
  // Specials appended after GPT-2's 50257 entries, in the documented order.
  assert.equal([tok.bosId, tok.padId, tok.eosId, tok.unkId], [50257, 50258, 50259, 50260]);
  assert.is(tok.vocabSize, 50261);
  assert.equal(SPECIAL_TOKENS.map((t) => tok.tokenToId(t)), [50257, 50258, 50259, 50260]);
  assert.is(tok.tokenToId('<|endoftext|>'), 50256);
  assert.is(tok.idToToken(50259), '</s>');
});

s(`matches gpt-3-encoder on ${fixture.cases.length} strings`, () => {
  assert.ok(fixture.cases.length >= 300, 'fixture has a few hundred cases');
  const bad: string[] = [];
  for (const c of fixture.cases) {
    const got = tok.encodeOrdinary(c.text);
    if (JSON.stringify(got) !== JSON.stringify(c.ids)) bad.push(`${JSON.stringify(c.text)}: got [${got}] want [${c.ids}]`);
  }
  assert.is(bad.length, 0, `${bad.length} mismatches:\n${bad.slice(0, 5).join('\n')}`);
  // Same again through the cache, and with a tiny cache that is cleared constantly.
  const small = new BpeTokenizer(vocabText, mergesText, { cacheSize: 2 });
  for (const c of fixture.cases.slice(0, 120)) {
    assert.equal(tok.encodeOrdinary(c.text), c.ids, `cached ${JSON.stringify(c.text)}`);
    assert.equal(small.encodeOrdinary(c.text), c.ids, `small cache ${JSON.stringify(c.text)}`);
  }
});

s('decode inverts encode (lone surrogates become U+FFFD)', () => {
  for (const c of fixture.cases) {
    const want = c.text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
    assert.is(tok.decode(c.ids), want, JSON.stringify(c.text));
    assert.is(tok.decode(tok.encode(c.text, { maxLength: 10000 }), { skipSpecialTokens: true }), want);
  }
  assert.is(tok.decode(tok.encode('hi')), '<s>hi</s>');
  assert.equal(tok.tokenize(' dog barking'), ['Ġdog', 'Ġbarking']);
  assert.equal(tok.pretokenize("I'm  here\n"), ['I', "'m", ' ', ' here', '\n']);
  throwsWith(() => tok.decode([5, 999999]), /id 999999 \(position 1\) is not in the vocabulary/, 'bad id');
});

s('RoBERTa-style encode: specials, empty string, truncation at 77 with a warning', () => {
  assert.equal(tok.encode(''), [50257, 50259], 'empty string is <s></s>');
  assert.equal(tok.encode('dog barking'), [50257, 9703, 48961, 50259]);
  assert.equal(warnings, []);
  // Special strings in the text are ordinary text, not control tokens.
  assert.equal(tok.encode('<s>').slice(1, -1), tok.encodeOrdinary('<s>'));
  assert.ok(!tok.encode('<s></s><pad>').slice(1, -1).some((id) => id >= 50257));
  // 75 BPE tokens fit exactly; 76 do not.
  const words75 = Array.from({ length: 75 }, (_, i) => (i === 0 ? 'dog' : ' dog')).join('');
  assert.is(tok.encodeOrdinary(words75).length, 75);
  const e75 = tok.encode(words75);
  assert.is(e75.length, 77);
  assert.equal(warnings, []);
  const long = words75 + ' cat barks loudly';
  const e = tok.encode(long);
  assert.is(e.length, 77);
  assert.equal(e.slice(1, 76), tok.encodeOrdinary(long).slice(0, 75));
  assert.is(e[0], tok.bosId);
  assert.is(e[76], tok.eosId);
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /longer than 77 tokens/);
  // A much longer input: still 77, one warning per call, per-call override of the callback and the length.
  const huge = 'word '.repeat(20000);
  assert.is(tok.encode(huge).length, 77);
  const mine: string[] = [];
  assert.is(tok.encode(huge, { maxLength: 10, onWarning: (m) => mine.push(m) }).length, 10);
  assert.is(mine.length, 1);
  assert.is(warnings.length, 2);
  assert.equal(tok.encode('dog', { maxLength: 2 }), [50257, 50259]);
  throwsWith(() => tok.encode('dog', { maxLength: 1 }), /maxLength must be an integer >= 2/, 'maxLength 1');
  throwsWith(() => tok.encode(undefined as unknown as string), /expected a string, got undefined/, 'not a string');
});

s('encodeBatch pads to the longest text, not to 77', () => {
  const b = tok.encodeBatch(['dog barking', '', 'a car horn honks twice']);
  const rows = [tok.encode('dog barking'), tok.encode(''), tok.encode('a car horn honks twice')];
  const T = Math.max(...rows.map((r) => r.length));
  assert.is(b.seqLen, T);
  assert.equal(b.lengths, rows.map((r) => r.length));
  for (let r = 0; r < 3; r++) {
    for (let t = 0; t < T; t++) {
      assert.is(b.ids[r * T + t], t < rows[r].length ? rows[r][t] : tok.padId, `ids[${r},${t}]`);
      assert.is(b.attentionMask[r * T + t], t < rows[r].length ? 1 : 0, `mask[${r},${t}]`);
    }
  }
});

/** A RoBERTa-layout toy vocabulary (specials at 0..3) over the byte alphabet of "abc Ġ" with hand-picked merges. */
function toy(merges: string, extra: Record<string, number> = {}) {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, c: 6, 'Ġ': 7, ab: 8, bc: 9, abc: 10, aa: 11, 'Ġa': 12, ...extra };
  return new BpeTokenizer(JSON.stringify(vocab), merges, { onWarning: () => {} });
}

s('merge order on hand-computed examples (RoBERTa vocab layout, specials found in the vocab)', () => {
  const t = toy('#version: 0.2\na b\nb c\nab c\na a\n');
  assert.equal([t.bosId, t.padId, t.eosId, t.unkId, t.vocabSize], [0, 1, 2, 3, 13]);
  // "abc": (a,b) rank 0 beats (b,c) rank 1 -> [ab, c] -> (ab,c) rank 2 -> [abc].
  assert.equal(t.tokenize('abc'), ['abc']);
  // "bc" alone merges by rank 1.
  assert.equal(t.tokenize('bcb'), ['bc', 'b']);
  // Equal pairs merge left to right without overlap: aaa -> [aa, a].
  assert.equal(t.tokenize('aaa'), ['aa', 'a']);
  // Reversing the rank order changes the result: (b,c) first -> [a, bc], and no (a,bc) merge.
  const r = toy('b c\na b\nab c\n');
  assert.equal(r.tokenize('abc'), ['a', 'bc']);
  // A leading space is the byte-mapped 'Ġ'; with no (Ġ, a) merge it stays separate.
  assert.equal(t.encode(' a'), [0, 7, 4, 2]);
  // A symbol missing from the vocab maps to <unk>.
  assert.equal(t.encode('d'), [0, 3, 2]);
  // No version line and CRLF line ends are accepted.
  assert.equal(toy('a b\r\nab c\r\n').tokenize('abc'), ['abc']);
  assert.is(t.decode([0, 10, 7, 4, 2, 1], { skipSpecialTokens: true }), 'abc a');
});

s('bad tokenizer files get named errors', async () => {
  const v = JSON.stringify({ a: 0, b: 1 });
  const cases: [string, () => unknown, RegExp][] = [
    ['vocab JSON', () => new BpeTokenizer('{"a":', 'a b', { source: 'my' }), /my vocab\.json: not valid JSON/],
    ['vocab array', () => new BpeTokenizer('[1,2]', 'a b'), /vocab\.json: expected an object/],
    ['vocab id', () => new BpeTokenizer('{"a":-1}', ''), /id of "a" is -1/],
    ['duplicate id', () => new BpeTokenizer('{"a":0,"b":0}', ''), /id 0 is used by both "a" and "b"/],
    ['empty vocab', () => new BpeTokenizer('{}', ''), /empty vocabulary/],
    ['merges line', () => new BpeTokenizer(v, '#version: 0.2\na b\na b c\n', { source: 'my' }), /my merges\.txt line 3: expected two space-separated symbols/],
    ['specials required', () => new BpeTokenizer(v, '', { addMissingSpecials: false }), /special token <s> is missing/],
    ['bad UTF-8', () => new BpeTokenizer(Uint8Array.from([0x7b, 0xff, 0x7d]), ''), /vocab\.json: not valid UTF-8/],
    ['maxLength', () => new BpeTokenizer(v, '', { maxLength: 1 }), /maxLength must be an integer >= 2/],
  ];
  for (const [label, fn, re] of cases) throwsWith(fn, re, label);
  // Missing specials are appended after the largest id (ids need not be dense).
  const sparse = new BpeTokenizer(JSON.stringify({ a: 0, b: 7, '</s>': 3 }), '');
  assert.equal([sparse.bosId, sparse.padId, sparse.eosId, sparse.unkId, sparse.vocabSize], [8, 9, 3, 10, 11]);
  // Corrupt gzip input to load().
  const gz = gzipSync(Buffer.from(v));
  const cut = new Uint8Array(gz.subarray(0, gz.length - 6));
  try { await BpeTokenizer.load(cut, 'a b', { source: 'mine' }); assert.unreachable('no error'); }
  catch (e) { assert.match((e as Error).message, /mine vocab\.json: corrupt or truncated gzip data/); }
  // load() also accepts plain (uncompressed) bytes and strings.
  const plain = await BpeTokenizer.load(new TextEncoder().encode(v), 'a b');
  assert.equal(plain.tokenize('ab'), ['<unk>']); // "a b" merges to "ab", which the vocab lacks
});

s.run();
