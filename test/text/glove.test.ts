import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadGlove, gloveVector, gloveEmbeddingInit } from '../../src/text/glove.ts';
import { BpeTokenizer, GPT2_TOKENIZER_FILES } from '../../src/text/bpe.ts';
import { rng } from '../util/compare.ts';

const s = suite('glove');
const root = resolve(import.meta.dirname, '..', '..');

s('the shipped GloVe table aligns with GPT-2 tokens and keeps semantic neighbours', async () => {
  const g = loadGlove(readFileSync(resolve(root, 'weights/glove/gpt2-glove100.safetensors')), 'gpt2-glove100');
  const tok = await BpeTokenizer.load(readFileSync(resolve(root, GPT2_TOKENIZER_FILES.vocab)), readFileSync(resolve(root, GPT2_TOKENIZER_FILES.merges)));
  assert.is(g.dims, 100);
  assert.ok(g.ids.length > 30000, `${g.ids.length} tokens covered`);
  const vec = (w: string) => { const ids = tok.encodeOrdinary(' ' + w); assert.is(ids.length, 1, `'${w}' is one token`); const v = gloveVector(g, ids[0]); assert.ok(v, `no vector for ${w}`); return v!; };
  const cos = (a: Float32Array, b: Float32Array) => { let ab = 0, aa = 0, bb = 0; for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; } return ab / Math.sqrt(aa * bb); };
  assert.ok(cos(vec('dog'), vec('cat')) > cos(vec('dog'), vec('piano')) + 0.2, 'dog~cat closer than dog~piano');
  assert.ok(cos(vec('guitar'), vec('piano')) > cos(vec('guitar'), vec('rain')) + 0.2, 'guitar~piano closer than guitar~rain');
  const { table, covered } = gloveEmbeddingInit(g, 50261, 64, 0.02, rng(1));
  assert.is(covered, g.ids.length);
  const id = tok.encodeOrdinary(' dog')[0];
  let sd = 0; for (let d = 0; d < 64; d++) sd += table[id * 64 + d] ** 2;
  assert.ok(Math.sqrt(sd / 64) > 0.005 && Math.sqrt(sd / 64) < 0.08, 'rescaled to about the requested std');
});

s.run();
