import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../../src/index.ts';
import { TextEncoder, TEXT_PRESETS, checkTextConfig, type TextConfig } from '../../src/model/text.ts';
import { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../../src/text/bpe.ts';
import { getTestDevice, t32, f32r } from '../util/gpu.ts';
import { assertClose, randn, TOL } from '../util/compare.ts';
import { officialKeys } from './_keys.ts';

const s = suite('text encoder');
const root = join(import.meta.dirname, '../..');
const tokP = BpeTokenizer.load(readFileSync(join(root, GPT2_TOKENIZER_FILES.vocab)), readFileSync(join(root, GPT2_TOKENIZER_FILES.merges)), { onWarning: () => {} });

// A narrow encoder over the GPT-2 ids with a short position table (10 tokens).
const NARROW: TextConfig = { ...TEXT_PRESETS.tiny, hidden: 16, heads: 2, intermediate: 32, layers: 2, maxPositions: 12 };

s('roberta-base: names and shapes equal the official text_branch keys', async () => {
  const rt = await getTestDevice();
  const m = new TextEncoder(rt, 'roberta-base', { init: 'zeros' });
  try {
    const want = officialKeys('text_branch.');
    const got = new Map([...m.stateDict()].map(([k, t]) => [k, t.shape.slice()]));
    assert.equal([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, shp] of want) assert.equal(got.get(k), shp, k);
    assert.is(m.parameters().reduce((a, p) => a + p.size, 0), 124_645_632);
  } finally { m.dispose(); }
});

s('padding to the longest row with a key mask gives each row the result it has alone', async () => {
  const rt = await getTestDevice();
  const tok = await tokP;
  const m = new TextEncoder(rt, NARROW, { seed: 5 });
  try {
    await F.noGrad(() => F.scope(async () => {
      const texts = ['a dog barks', '', 'thunder and heavy rain on a tin roof'];
      const batch = await m.encodeTexts(texts, tok).pooled.data();
      for (let i = 0; i < texts.length; i++) {
        const alone = await m.encodeTexts([texts[i]], tok).pooled.data();
        assertClose(`row ${i} batched vs alone`, batch.subarray(i * 16, (i + 1) * 16), alone, TOL.forward);
      }
    }));
  } finally { m.dispose(); }
});

s('empty string encodes as <s></s>; over-long input is truncated with a warning, never read out of bounds', async () => {
  const rt = await getTestDevice();
  const tok = await tokP;
  const warnings: string[] = [];
  const m = new TextEncoder(rt, NARROW, { seed: 6, onWarning: (w) => warnings.push(w) });
  try {
    assert.equal(tok.encode(''), [tok.bosId, tok.eosId]);
    await F.noGrad(() => F.scope(async () => {
      const long = 'one two three four five six seven eight nine ten eleven twelve';
      const tw: string[] = [];
      const b = tok.encodeBatch([long], { maxLength: m.maxTokens, onWarning: (w) => tw.push(w) });
      assert.is(b.seqLen, 10);
      assert.is(tw.length, 1);
      // a raw batch longer than the position table: truncated with the model's warning
      const ids = new Int32Array(14).fill(100);
      const o = m.forward({ ids, lengths: [14], seqLen: 14 });
      assert.equal(o.hidden.shape, [1, 10, 16]);
      assert.is(warnings.length, 1);
      assert.match(warnings[0], /longer than the position limit of 10 tokens were truncated/);
      assert.ok((await o.pooled.data()).every(Number.isFinite));
    }));
    assert.throws(() => m.forward({ ids: Int32Array.from([0, 50261]), lengths: [2], seqLen: 2 }), /token id 50261 \(row 0, position 1\) is outside the vocabulary of 50261/);
    assert.throws(() => m.forward({ ids: Int32Array.from([0, 1]), lengths: [3], seqLen: 2 }), /row 0 length 3 must be in 1\.\.2/);
    assert.throws(() => m.encodeTexts([], tok), /empty list of texts/);
  } finally { m.dispose(); }
});

s('backward: every parameter that the batch touches gets a gradient', async () => {
  const rt = await getTestDevice();
  const tok = await tokP;
  const m = new TextEncoder(rt, NARROW, { seed: 7 });
  try {
    await F.scope(async () => {
      const o = m.encodeTexts(['a cat', 'rain'], tok);
      F.backward(F.sumAll(F.mul(o.pooled, t32(rt, f32r(randn(32, 8)), [2, 16]))));
      assert.equal(m.namedParameters().filter(([, p]) => !p.grad).map(([k]) => k), []);
      const g = await m.embeddings.word_embeddings.p.weight.grad!.data();
      const catId = tok.encodeOrdinary(' cat')[0];
      assert.ok(g.subarray(catId * 16, catId * 16 + 16).some((v) => v !== 0));
      for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
    });
  } finally { m.dispose(); }
});

s('configs are validated with the rule they break', () => {
  assert.throws(() => checkTextConfig({ ...TEXT_PRESETS.tiny, heads: 3 }), /hidden 128 is not divisible by 3 heads/);
  assert.throws(() => checkTextConfig({ ...TEXT_PRESETS.tiny, maxPositions: 3 }), /leaves no room for <s> and <\/s>/);
});

s.run();
