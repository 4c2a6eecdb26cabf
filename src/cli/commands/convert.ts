// flam convert: turn the official OpenFLAM checkpoint (a torch.save'd state_dict, e.g. open_flam_oct17.pth) into
// safetensors. Every key, shape and dtype class is checked against the v1-base layout (spec §12); by default any
// mismatch stops the conversion with a report (nothing is written), --no-strict converts anyway with warnings.
// Floating-point tensors are written as F32 (f16/bf16 widened exactly, f64 rounded), int64 buffers
// (relative_position_index, num_batches_tracked) as I64, other integer and bool tensors in their own dtype.
//
// Memory: the .pth is read once; float32 tensors are zero-copy views into it; the output is built in one buffer and
// written atomically. Peak is about two copies of the checkpoint (0.8 GB file -> about 1.6 GB).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPth, type PthTensor } from '../../io/pth.ts';
import { encodeSafetensors, type TensorSpec } from '../../io/safetensors.ts';
import { formatStateDictReport, validateStateDict, type KeySpec, type StateDictReport } from '../../model/checkpoint_keys.ts';
import { atomicWriteSync } from '../fsutil.ts';

export const summary = 'convert an OpenFLAM .pth state_dict (e.g. open_flam_oct17.pth) to safetensors, checking every key and shape';

/** Value of the `format` metadata of converted files. */
export const CONVERTED_FORMAT = 'flam-openflam-state-dict/1';

const USAGE = `usage: flam convert INPUT.pth [-o OUTPUT.safetensors] [--no-strict] [--no-crc] [--quiet]
  ${summary}.
  -o, --output FILE  where to write (default: INPUT with the extension .safetensors)
  --no-strict        convert even when keys are missing or unexpected or shapes differ from v1-base (warns)
  --no-crc           skip the CRC-32 check of the archive records
  --quiet            no progress output`;

interface Args { input: string; output: string; strict: boolean; crc: boolean; quiet: boolean }

function parseArgs(args: string[]): Args | null {
  let input: string | undefined, output: string | undefined;
  let strict = true, crc = true, quiet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return null;
    else if (a === '-o' || a === '--output') {
      output = args[++i];
      if (output === undefined || output.startsWith('-')) throw new Error(`${a} needs a file name\n${USAGE}`);
    } else if (a.startsWith('--output=')) output = a.slice('--output='.length);
    else if (a === '--no-strict') strict = false;
    else if (a === '--strict') strict = true;
    else if (a === '--no-crc') crc = false;
    else if (a === '--quiet' || a === '-q') quiet = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else if (input === undefined) input = a;
    else throw new Error(`unexpected argument ${JSON.stringify(a)} (one input file)\n${USAGE}`);
  }
  if (input === undefined) throw new Error(`no input file\n${USAGE}`);
  output ??= input.replace(/\.(pth|pt|bin|ckpt)$/i, '') + '.safetensors';
  return { input, output, strict, crc, quiet };
}

const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

/** The safetensors spec for one tensor: F32 for every float type, the integer dtypes as they are. */
function toSpec(name: string, t: PthTensor, warn: (m: string) => void): TensorSpec {
  switch (t.dtype) {
    case 'float32': case 'float16': case 'bfloat16':
      return { dtype: 'F32', shape: t.shape, data: t.data as Float32Array };
    case 'float64': {
      const src = t.data as Float64Array;
      const out = Float32Array.from(src);
      let overflow = 0;
      for (let i = 0; i < src.length; i++) if (Number.isFinite(src[i]) && !Number.isFinite(out[i])) overflow++;
      if (overflow) warn(`"${name}": ${overflow} float64 values exceed the float32 range and became infinite`);
      return { dtype: 'F32', shape: t.shape, data: out };
    }
    case 'int64': return { dtype: 'I64', shape: t.shape, data: t.data as BigInt64Array };
    case 'int32': return { dtype: 'I32', shape: t.shape, data: t.data as Int32Array };
    case 'int16': return { dtype: 'I16', shape: t.shape, data: t.data as Int16Array };
    case 'int8': return { dtype: 'I8', shape: t.shape, data: t.data as Int8Array };
    case 'uint8': return { dtype: 'U8', shape: t.shape, data: t.data as Uint8Array };
    case 'bool': return { dtype: 'BOOL', shape: t.shape, raw: t.data as Uint8Array };
  }
}

export interface ConvertOptions {
  /** File name for messages and metadata. */
  source: string;
  /** Refuse (throw with the report) when the state_dict does not match the layout. */
  strict: boolean;
  /** sha256 hex of the source file (recorded in the metadata). */
  sha256: string;
  verifyCrc?: boolean;
  /** Layout to validate against (default v1-base) and its name for the metadata. */
  keys?: readonly KeySpec[];
  layout?: string;
  log?: (m: string) => void;
  warn?: (m: string) => void;
}

export interface ConvertResult {
  /** The safetensors file. */
  output: Uint8Array;
  report: StateDictReport;
  tensors: number;
  elements: number;
}

/** Convert the bytes of a .pth state_dict into safetensors bytes (validation as in the header). */
export function convertPth(bytes: Uint8Array, o: ConvertOptions): ConvertResult {
  const log = o.log ?? (() => {});
  const warn = o.warn ?? log;
  // Progress in 10% steps for files over 64 MB.
  let nextTick = 0.1;
  const big = bytes.length > 64e6;
  const ck = loadPth(bytes, {
    source: o.source,
    verifyCrc: o.verifyCrc,
    onProgress: (done, total, bytesDone, bytesTotal) => {
      const f = bytesTotal > 0 ? bytesDone / bytesTotal : done / total;
      if (big && f >= nextTick) { log(`decoded ${done}/${total} tensors (${Math.floor(f * 100)}%, ${mb(bytesDone)})`); while (nextTick <= f) nextTick += 0.1; }
    },
  });
  log(`${ck.tensors.size} tensors in ${ck.storages} storages (${mb(ck.storageBytes)}), archive "${ck.archiveName}", format version ${ck.version ?? '?'}, ${ck.byteorder}-endian`);

  const report = validateStateDict(ck.tensors, o.keys ? { keys: o.keys } : {});
  const text = formatStateDictReport(report, { source: o.source });
  if (!report.ok) {
    if (o.strict) throw new Error(`${text}\nnothing written; pass --no-strict to convert anyway`);
    warn(`${text}\nconverting anyway (--no-strict)`);
  } else log(text);

  const ignored = new Set(report.ignored);
  const specs: [string, TensorSpec][] = [];
  let elements = 0;
  for (const [k, t] of ck.tensors) {
    if (ignored.has(k)) continue;
    specs.push([k, toSpec(k, t, warn)]);
    elements += t.data.length;
  }
  const layout = o.layout ?? 'openflam-v1-base';
  const validation = report.ok
    ? `${layout}: all keys and shapes match`
    : `not strict: ${report.missing.length} missing, ${report.unexpected.length} unexpected, ${report.wrongShape.length} wrong shape, ${report.wrongDType.length} wrong dtype`;
  const meta: Record<string, string> = {
    format: CONVERTED_FORMAT,
    layout,
    validation,
    source_file: o.source.split(/[\\/]/).pop()!,
    source_sha256: o.sha256,
    source_bytes: String(bytes.length),
    source_format: `torch.save zip, version ${ck.version ?? 'unknown'}, ${ck.byteorder}-endian`,
    converted_by: 'flam convert',
  };
  if (report.ignored.length) meta.dropped_keys = report.ignored.join(',');
  log(`encoding ${specs.length} tensors`);
  return { output: encodeSafetensors(specs, meta), report, tensors: specs.length, elements };
}

export async function run(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  if (!a) { console.log(USAGE); return; }
  const log = (m: string) => { if (!a.quiet) console.error(`[convert] ${m}`); };
  const warn = (m: string) => console.error(`[convert] warning: ${m}`);
  if (resolve(a.input) === resolve(a.output)) throw new Error(`the output ${a.output} would overwrite the input`);

  let size: number;
  try { size = statSync(a.input).size; } catch (e) { throw new Error(`${a.input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  log(`reading ${a.input} (${mb(size)})`);
  const buf = readFileSync(a.input);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const r = convertPth(bytes, { source: a.input, strict: a.strict, sha256, verifyCrc: a.crc, log, warn });
  atomicWriteSync(a.output, r.output);
  console.log(`wrote ${a.output}: ${r.tensors} tensors, ${r.elements} values, ${mb(r.output.length)}${r.report.ok ? '' : ' (layout mismatches: see warnings)'}`);
}
