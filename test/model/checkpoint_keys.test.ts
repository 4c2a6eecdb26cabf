import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertValidStateDict, countElements, formatStateDictReport, validateStateDict, V1_BASE_KEYS, type KeySpec, type StateDictEntryInfo,
} from '../../src/model/checkpoint_keys.ts';

const s = suite('checkpoint_keys');

/**
 * The v1-base layout rebuilt from the rules in spec §12 (tables 12.1-12.3), independently of the TSV the table is
 * generated from: both must agree key for key.
 */
function layoutFromSpecRules(): Map<string, { shape: number[]; int: boolean }> {
  const m = new Map<string, { shape: number[]; int: boolean }>();
  const add = (k: string, shape: number[], int = false) => m.set(k, { shape, int });
  add('logit_scale_a', []); add('aed_logit_scale', []);
  const mlp = (p: string, dims: [number, number][]) => dims.forEach(([o, i], j) => { add(`${p}.${2 * j}.weight`, [o, i]); add(`${p}.${2 * j}.bias`, [o]); });
  mlp('audio_projection', [[512, 1024], [512, 512]]);
  mlp('text_projection', [[512, 768], [512, 512]]);
  mlp('fc_per_text_logit_scale', [[768, 768], [1, 768]]);
  mlp('fc_per_text_logit_bias', [[768, 768], [1, 768]]);
  const a = 'audio_branch';
  add(`${a}.spectrogram_extractor.stft.conv_real.weight`, [513, 1, 1024]);
  add(`${a}.spectrogram_extractor.stft.conv_imag.weight`, [513, 1, 1024]);
  add(`${a}.logmel_extractor.melW`, [513, 64]);
  for (const n of ['weight', 'bias', 'running_mean', 'running_var']) add(`${a}.bn0.${n}`, [64]);
  add(`${a}.bn0.num_batches_tracked`, [], true);
  add(`${a}.patch_embed.proj.weight`, [128, 1, 4, 4]); add(`${a}.patch_embed.proj.bias`, [128]);
  add(`${a}.patch_embed.norm.weight`, [128]); add(`${a}.patch_embed.norm.bias`, [128]);
  const stages = [[128, 4, 2, 64], [256, 8, 2, 16], [512, 16, 12, 4], [1024, 32, 2, 0]];
  stages.forEach(([C, H, blocks, nW], st) => {
    for (let b = 0; b < blocks; b++) {
      const p = `${a}.layers.${st}.blocks.${b}`;
      add(`${p}.norm1.weight`, [C]); add(`${p}.norm1.bias`, [C]);
      add(`${p}.attn.relative_position_bias_table`, [225, H]);
      add(`${p}.attn.relative_position_index`, [64, 64], true);
      add(`${p}.attn.qkv.weight`, [3 * C, C]); add(`${p}.attn.qkv.bias`, [3 * C]);
      add(`${p}.attn.proj.weight`, [C, C]); add(`${p}.attn.proj.bias`, [C]);
      add(`${p}.norm2.weight`, [C]); add(`${p}.norm2.bias`, [C]);
      add(`${p}.mlp.fc1.weight`, [4 * C, C]); add(`${p}.mlp.fc1.bias`, [4 * C]);
      add(`${p}.mlp.fc2.weight`, [C, 4 * C]); add(`${p}.mlp.fc2.bias`, [C]);
      if (b % 2 === 1 && st < 3) add(`${p}.attn_mask`, [nW, 64, 64]);
    }
    if (st < 3) {
      add(`${a}.layers.${st}.downsample.norm.weight`, [4 * C]); add(`${a}.layers.${st}.downsample.norm.bias`, [4 * C]);
      add(`${a}.layers.${st}.downsample.reduction.weight`, [2 * C, 4 * C]);
    }
  });
  add(`${a}.norm.weight`, [1024]); add(`${a}.norm.bias`, [1024]);
  const t = 'text_branch';
  add(`${t}.embeddings.word_embeddings.weight`, [50265, 768]);
  add(`${t}.embeddings.position_embeddings.weight`, [514, 768]);
  add(`${t}.embeddings.token_type_embeddings.weight`, [1, 768]);
  add(`${t}.embeddings.LayerNorm.weight`, [768]); add(`${t}.embeddings.LayerNorm.bias`, [768]);
  for (let n = 0; n < 12; n++) {
    const p = `${t}.encoder.layer.${n}`;
    for (const q of ['query', 'key', 'value']) { add(`${p}.attention.self.${q}.weight`, [768, 768]); add(`${p}.attention.self.${q}.bias`, [768]); }
    add(`${p}.attention.output.dense.weight`, [768, 768]); add(`${p}.attention.output.dense.bias`, [768]);
    add(`${p}.attention.output.LayerNorm.weight`, [768]); add(`${p}.attention.output.LayerNorm.bias`, [768]);
    add(`${p}.intermediate.dense.weight`, [3072, 768]); add(`${p}.intermediate.dense.bias`, [3072]);
    add(`${p}.output.dense.weight`, [768, 3072]); add(`${p}.output.dense.bias`, [768]);
    add(`${p}.output.LayerNorm.weight`, [768]); add(`${p}.output.LayerNorm.bias`, [768]);
  }
  add(`${t}.pooler.dense.weight`, [768, 768]); add(`${t}.pooler.dense.bias`, [768]);
  return m;
}

/** A shape-only state_dict with every v1-base key (no tensor data: the real one is 0.8 GB). */
function fullShapes(): Map<string, StateDictEntryInfo> {
  return new Map(V1_BASE_KEYS.map((k) => [k.key, { shape: [...k.shape], dtype: k.dtype === 'int64' ? 'int64' : 'float32' }]));
}

s('the generated table agrees key for key with the layout rebuilt from the spec §12 rules', () => {
  const rules = layoutFromSpecRules();
  assert.is(V1_BASE_KEYS.length, 500);
  assert.is(rules.size, 500);
  assert.is(new Set(V1_BASE_KEYS.map((k) => k.key)).size, 500, 'keys are unique');
  for (const k of V1_BASE_KEYS) {
    const r = rules.get(k.key);
    assert.ok(r, `table key ${k.key} is not in the §12 rules`);
    assert.equal([...k.shape], r!.shape, `${k.key}: shape`);
    assert.is(k.dtype, r!.int ? 'int64' : 'float', `${k.key}: dtype class`);
  }
});

s('parameter counts match spec §12.4', () => {
  assert.is(countElements(), 196_180_060);
  const group = (prefix: string) => countElements(V1_BASE_KEYS.filter((k) => k.key.startsWith(prefix)));
  assert.is(group('audio_branch.layers.0.'), 530_440);
  assert.is(group('audio_branch.layers.1.'), 2_109_456);
  assert.is(group('audio_branch.layers.2.'), 39_973_056);
  assert.is(group('audio_branch.layers.3.'), 25_206_848);
  assert.is(group('text_branch.'), 124_645_632);
  assert.is(group('audio_projection.'), 787_456);
  assert.is(group('text_projection.'), 656_384);
  assert.is(group('fc_per_text_logit_scale.'), 591_361);
  assert.is(group('audio_branch.spectrogram_extractor.') + group('audio_branch.logmel_extractor.'), 1_083_456);
  assert.is(V1_BASE_KEYS.filter((k) => k.dtype === 'int64').length, 19);
});

s('the generated table is in sync with the TSV it is generated from (when the shared docs are present)', () => {
  const tsv = join(import.meta.dirname, '..', '..', '..', 'shared', 'docs', 'flam-state-dict-keys.tsv');
  if (!existsSync(tsv)) { console.log(`  (skipped: ${tsv} not present; regenerate with node test/fixtures/pth/make_keys.mjs)`); return; }
  const rows = readFileSync(tsv, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split('\t'));
  assert.equal(V1_BASE_KEYS.map((k) => k.key), rows.map((r) => r[0]), 'same keys in the same order (rerun make_keys.mjs)');
  rows.forEach((r, i) => assert.equal([...V1_BASE_KEYS[i].shape], JSON.parse(r[1]), `${r[0]} shape`));
});

s('a complete shape-only state_dict validates', () => {
  const r = validateStateDict(fullShapes());
  assert.ok(r.ok, formatStateDictReport(r));
  assert.is(r.found, 500);
  assert.match(formatStateDictReport(r, { source: 'm.pth' }), /^m\.pth: state_dict matches the layout: 500 keys/);
  assertValidStateDict(fullShapes());
  // Without dtypes (e.g. shapes from elsewhere) only keys and shapes are checked.
  const noDtype = new Map([...fullShapes()].map(([k, v]) => [k, { shape: v.shape }]));
  assert.ok(validateStateDict(noDtype).ok);
  // Plain objects work too; safetensors dtype names are understood.
  const obj = Object.fromEntries(V1_BASE_KEYS.map((k) => [k.key, { shape: k.shape, dtype: k.dtype === 'int64' ? 'I64' : 'F32' }]));
  assert.ok(validateStateDict(obj).ok);
});

s('missing, unexpected, mis-shaped and mis-typed keys are each named', () => {
  const sd = fullShapes();
  sd.delete('text_branch.pooler.dense.bias');
  sd.delete('audio_branch.layers.2.blocks.5.attn_mask');
  sd.set('audio_branch.layers.1.blocks.0.attn.qkv.weight', { shape: [768, 255], dtype: 'float32' });
  sd.set('audio_branch.bn0.num_batches_tracked', { shape: [], dtype: 'float32' });
  sd.set('text_branch.embeddings.position_ids', { shape: [1, 514], dtype: 'int64' });
  sd.set('something.else', { shape: [3], dtype: 'float32' });
  const r = validateStateDict(sd);
  assert.not.ok(r.ok);
  assert.equal(r.missing.map((k: KeySpec) => k.key), ['audio_branch.layers.2.blocks.5.attn_mask', 'text_branch.pooler.dense.bias']);
  assert.equal(r.unexpected, ['something.else']);
  assert.equal(r.ignored, ['text_branch.embeddings.position_ids']);
  assert.equal(r.wrongShape, [{ key: 'audio_branch.layers.1.blocks.0.attn.qkv.weight', expected: [768, 256], got: [768, 255] }]);
  assert.equal(r.wrongDType, [{ key: 'audio_branch.bn0.num_batches_tracked', expected: 'int64', got: 'float32' }]);
  const text = formatStateDictReport(r, { source: 'bad.pth' });
  for (const needle of ['bad.pth: state_dict does not match the layout (500 keys expected, 500 found): 2 missing, 1 unexpected, 1 with the wrong shape, 1 with the wrong dtype',
    'audio_branch.layers.2.blocks.5.attn_mask [4, 64, 64]', 'text_branch.pooler.dense.bias [768]', 'something.else',
    'audio_branch.layers.1.blocks.0.attn.qkv.weight: [768, 255], expected [768, 256]', 'audio_branch.bn0.num_batches_tracked: float32, expected an integer dtype (int64)',
    'ignored keys (1; harmless, not converted)']) {
    assert.ok(text.includes(needle), `report lacks ${JSON.stringify(needle)}:\n${text}`);
  }
  try { assertValidStateDict(sd, { source: 'bad.pth' }); assert.unreachable('assertValidStateDict did not throw'); }
  catch (e) { assert.is((e as Error).message, text); }
  // Only the ignorable key extra: still valid.
  const ok = fullShapes();
  ok.set('text_branch.embeddings.position_ids', { shape: [1, 514] });
  assert.ok(validateStateDict(ok).ok);
});

s('hints: a DataParallel "module." prefix, a different model size, an unrelated file', () => {
  const wrapped = new Map([...fullShapes()].map(([k, v]) => [`module.${k}`, v]));
  const r = validateStateDict(wrapped);
  assert.is(r.missing.length, 500);
  assert.is(r.unexpected.length, 500);
  assert.ok(r.hints.some((h) => h.includes('"module." prefix')), r.hints.join('; '));
  const long = formatStateDictReport(r);
  assert.ok(long.includes('... and 480 more'), 'long lists are cut at 20 examples');
  const small = fullShapes();
  small.set('audio_branch.norm.weight', { shape: [768], dtype: 'float32' });
  assert.ok(validateStateDict(small).hints.some((h) => h.includes('different model size')));
  const other = new Map([['fc.weight', { shape: [2, 2] }]]);
  assert.ok(validateStateDict(other).hints.some((h) => h.includes('not an OpenFLAM v1-base checkpoint')));
});

s.run();
