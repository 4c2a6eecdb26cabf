// State_dict layout checks against a model's key table (spec §12; the v1-base table is generated into
// ./checkpoint_keys_v1_base.ts by test/fixtures/pth/make_keys.mjs). The validator needs only each entry's shape (and
// optionally its dtype), so it runs on a .pth's tensors, a safetensors header, or a shape-only map.

import { V1_BASE_KEYS, type KeySpec } from './checkpoint_keys_v1_base.ts';

export { V1_BASE_KEYS, type KeySpec };

/** What the validator needs to know about one entry. `dtype` is a torch name (float32, int64) or a safetensors one (F32, I64). */
export interface StateDictEntryInfo {
  readonly shape: readonly number[];
  readonly dtype?: string;
}

/**
 * Keys that older library versions saved but the model does not use: RoBERTa's `position_ids` / `token_type_ids`
 * buffers were persistent before transformers 4.31. They are reported as ignored, not as errors.
 */
export const V1_BASE_IGNORABLE: ReadonlyMap<string, string> = new Map([
  ['text_branch.embeddings.position_ids', 'RoBERTa position_ids buffer (persistent before transformers 4.31; recomputed by the model)'],
  ['text_branch.embeddings.token_type_ids', 'RoBERTa token_type_ids buffer (persistent before transformers 4.31; all zeros)'],
]);

export interface ShapeMismatch { key: string; expected: readonly number[]; got: readonly number[] }
export interface DTypeMismatch { key: string; expected: KeySpec['dtype']; got: string }

/** The outcome of {@link validateStateDict}. `ok` is true when nothing is missing, unexpected or mis-shaped. */
export interface StateDictReport {
  ok: boolean;
  /** Number of keys the layout expects, and number of entries given. */
  expected: number;
  found: number;
  missing: KeySpec[];
  unexpected: string[];
  /** Known, harmless extra keys (see {@link V1_BASE_IGNORABLE}); not errors. */
  ignored: string[];
  wrongShape: ShapeMismatch[];
  wrongDType: DTypeMismatch[];
  /** Hints about the likely cause (a `module.` prefix from DataParallel, a different model size...). */
  hints: string[];
}

export interface ValidateOptions {
  /** The layout to check against (default: v1-base). */
  keys?: readonly KeySpec[];
  /** Extra keys that are tolerated and reported as ignored (default: {@link V1_BASE_IGNORABLE} for v1-base). */
  ignorable?: ReadonlyMap<string, string>;
}

const FLOAT_DTYPES = new Set(['float32', 'float64', 'float16', 'bfloat16', 'F32', 'F64', 'F16', 'BF16']);
const INT_DTYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64']);

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function entriesOf(sd: ReadonlyMap<string, StateDictEntryInfo> | Readonly<Record<string, StateDictEntryInfo>>): [string, StateDictEntryInfo][] {
  return sd instanceof Map ? [...sd.entries()] : Object.entries(sd as Record<string, StateDictEntryInfo>);
}

/** Check every key, shape and dtype class of `sd` against a layout (default v1-base, spec §12). Never throws. */
export function validateStateDict(
  sd: ReadonlyMap<string, StateDictEntryInfo> | Readonly<Record<string, StateDictEntryInfo>>,
  opts: ValidateOptions = {},
): StateDictReport {
  const keys = opts.keys ?? V1_BASE_KEYS;
  const ignorable = opts.ignorable ?? (keys === V1_BASE_KEYS ? V1_BASE_IGNORABLE : new Map<string, string>());
  const spec = new Map(keys.map((k) => [k.key, k]));
  const given = entriesOf(sd);
  const have = new Map(given);
  const r: StateDictReport = {
    ok: false, expected: keys.length, found: given.length, missing: [], unexpected: [], ignored: [], wrongShape: [], wrongDType: [], hints: [],
  };
  for (const k of keys) if (!have.has(k.key)) r.missing.push(k);
  for (const [key, info] of given) {
    const s = spec.get(key);
    if (!s) { (ignorable.has(key) ? r.ignored : r.unexpected).push(key); continue; }
    if (!sameShape(info.shape, s.shape)) r.wrongShape.push({ key, expected: s.shape, got: [...info.shape] });
    if (info.dtype !== undefined) {
      const ok = s.dtype === 'float' ? FLOAT_DTYPES.has(info.dtype) : INT_DTYPES.has(info.dtype);
      if (!ok) r.wrongDType.push({ key, expected: s.dtype, got: info.dtype });
    }
  }
  r.ok = r.missing.length === 0 && r.unexpected.length === 0 && r.wrongShape.length === 0 && r.wrongDType.length === 0;

  // Hints for the usual causes.
  if (r.unexpected.length > 0) {
    for (const prefix of ['module.', 'model.', 'flam.', 'state_dict.']) {
      const stripped = r.unexpected.filter((k) => k.startsWith(prefix) && spec.has(k.slice(prefix.length)));
      if (stripped.length > r.unexpected.length / 2) {
        r.hints.push(`${stripped.length} unexpected keys are expected keys with a "${prefix}" prefix (saved from a wrapped model, e.g. DataParallel); strip the prefix`);
      }
    }
  }
  const embed = r.wrongShape.find((m) => m.key === 'audio_branch.norm.weight' || m.key === 'text_branch.embeddings.word_embeddings.weight');
  if (embed) r.hints.push(`"${embed.key}" is [${embed.got.join(', ')}], expected [${embed.expected.join(', ')}]: this is probably a different model size or variant, not v1-base`);
  if (r.found > 0 && r.missing.length === r.expected) r.hints.push('none of the expected keys is present: this is not an OpenFLAM v1-base checkpoint');
  return r;
}

function list<T>(items: T[], show: (x: T) => string, max: number): string {
  const lines = items.slice(0, max).map((x) => `    ${show(x)}`);
  if (items.length > max) lines.push(`    ... and ${items.length - max} more`);
  return lines.join('\n');
}

/** A human-readable report: a summary line, then each problem class with up to `maxList` examples. */
export function formatStateDictReport(r: StateDictReport, opts: { source?: string; maxList?: number } = {}): string {
  const max = opts.maxList ?? 20;
  const who = opts.source ? `${opts.source}: ` : '';
  const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
  const out: string[] = [];
  if (r.ok) out.push(`${who}state_dict matches the layout: ${r.expected} keys, every shape as expected`);
  else {
    out.push(`${who}state_dict does not match the layout (${r.expected} keys expected, ${r.found} found): ${r.missing.length} missing, ${r.unexpected.length} unexpected, ${r.wrongShape.length} with the wrong shape, ${r.wrongDType.length} with the wrong dtype`);
  }
  if (r.missing.length) out.push(`  missing keys (${r.missing.length}):\n${list(r.missing, (k) => `${k.key} ${fmt(k.shape)}`, max)}`);
  if (r.unexpected.length) out.push(`  unexpected keys (${r.unexpected.length}):\n${list(r.unexpected, (k) => k, max)}`);
  if (r.wrongShape.length) out.push(`  wrong shapes (${r.wrongShape.length}):\n${list(r.wrongShape, (m) => `${m.key}: ${fmt(m.got)}, expected ${fmt(m.expected)}`, max)}`);
  if (r.wrongDType.length) out.push(`  wrong dtypes (${r.wrongDType.length}):\n${list(r.wrongDType, (m) => `${m.key}: ${m.got}, expected ${m.expected === 'float' ? 'a floating-point dtype' : 'an integer dtype (int64)'}`, max)}`);
  if (r.ignored.length) out.push(`  ignored keys (${r.ignored.length}; harmless, not converted):\n${list(r.ignored, (k) => k, max)}`);
  for (const h of r.hints) out.push(`  hint: ${h}`);
  return out.join('\n');
}

/** Throws an Error carrying the formatted report when `sd` does not match the layout. */
export function assertValidStateDict(
  sd: ReadonlyMap<string, StateDictEntryInfo> | Readonly<Record<string, StateDictEntryInfo>>,
  opts: ValidateOptions & { source?: string } = {},
): StateDictReport {
  const r = validateStateDict(sd, opts);
  if (!r.ok) throw new Error(formatStateDictReport(r, { source: opts.source }));
  return r;
}

/** Number of elements of the entries of a layout of the given kind (default: parameters only). */
export function countElements(keys: readonly KeySpec[] = V1_BASE_KEYS, kind: KeySpec['kind'] | 'all' = 'param'): number {
  let n = 0;
  for (const k of keys) if (kind === 'all' || k.kind === kind) n += k.shape.reduce((a, b) => a * b, 1);
  return n;
}
