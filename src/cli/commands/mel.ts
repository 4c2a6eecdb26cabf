// flam mel <audio> -o out.npy: the FLAM frontend of an audio file on the GPU.
//   default   log-mel before BatchNorm, float32 .npy [windows, 1001, 64] (dB, 10 log10(max(mel, 1e-10)))
//   --image   the encoder's input instead, float32 .npy [windows, 256, 256] (BatchNorm, bicubic resize 1001 -> 1024,
//             fold); BatchNorm is the identity unless --bn FILE.safetensors gives bn0's eval statistics
//             (tensors running_mean, running_var, weight, bias [64], with or without a prefix ending in "bn0.")
// The file is decoded (WAV/FLAC/Ogg Vorbis/MP3 by content), mixed to mono, resampled to 48 kHz and cut into 10 s
// windows (src/audio/windows.ts; --hop S seconds between window starts, default 10; the last window is zero-padded).
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from '../argv.ts';
import { atomicWrite } from '../fsutil.ts';
import { decodeAudio } from '../../audio/decode.ts';
import { cutWindows } from '../../audio/windows.ts';
import { MelFrontend } from '../../audio/frontend.ts';
import type { BatchNormStats } from '../../audio/mel_ref.ts';
import { encodeNpy } from '../../io/npy.ts';
import { decodeSafetensors } from '../../io/safetensors.ts';
import { nodeRuntime } from '../../gpu/node.ts';

export const summary = 'log-mel (or --image: the encoder input) of an audio file as float32 .npy, per 10 s window';

const USAGE = `flam mel <audio> -o OUT.npy [--image] [--bn BN.safetensors] [--hop SECONDS] [--batch N]
  ${summary}
  <audio>        WAV, FLAC, Ogg Vorbis or MP3 (detected from the content), any rate and channel count
  -o, --out      output .npy: [windows, 1001, 64] log-mel in dB before BatchNorm (default), or with --image
                 [windows, 256, 256] (BatchNorm, bicubic time resize 1001 -> 1024, fold into 256 x 256)
  --bn FILE      bn0 eval statistics for --image (safetensors: running_mean, running_var, weight, bias, each [64],
                 optionally under a prefix such as audio_branch.bn0.); default identity
  --hop S        seconds between window starts (default 10; < 10 overlaps)
  --batch N      windows per GPU batch (default 16)`;

/** bn0 statistics from a safetensors file: the four tensors, found by suffix (any prefix). */
export function readBatchNorm(path: string): BatchNormStats {
  const ar = decodeSafetensors(new Uint8Array(readFileSync(path)), path);
  const find = (key: string) => {
    const hits = ar.names.filter((n) => n === key || n.endsWith(`.${key}`));
    const bn0 = hits.filter((n) => n === key || n.endsWith(`bn0.${key}`));
    const pick = bn0.length === 1 ? bn0 : hits;
    if (pick.length !== 1) throw new Error(`${path}: ${pick.length ? `several tensors end in "${key}" (${pick.join(', ')})` : `no tensor named "${key}" or "*.${key}"`}; want bn0's running_mean, running_var, weight, bias`);
    const t = ar.get(pick[0]);
    if (t.size !== 64) throw new Error(`${path}: "${pick[0]}" has shape [${t.shape.join(', ')}], want [64]`);
    return Array.from(t.data() as ArrayLike<number>, Number);
  };
  return { mean: find('running_mean'), var: find('running_var'), weight: find('weight'), bias: find('bias') };
}

export async function run(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) { console.log(USAGE); return; }
  const args = parseArgs('flam mel', argv.map((a) => (a === '-o' ? '--out' : a)), {
    out: { type: 'string' }, image: { type: 'flag' }, bn: { type: 'string' }, hop: { type: 'number' }, batch: { type: 'number' },
  });
  if (args._.length !== 1) throw new Error(`expected exactly one audio file, got ${args._.length}\n${USAGE}`);
  const input = args._[0];
  const out = args.out as string | undefined;
  if (!out) throw new Error(`missing -o OUT.npy\n${USAGE}`);
  const hopS = (args.hop as number | undefined) ?? 10;
  if (!(hopS > 0) || !Number.isInteger(Math.round(hopS * 48000)) || Math.round(hopS * 48000) < 1) throw new Error(`--hop ${hopS}: must be a positive number of seconds`);
  const batch = (args.batch as number | undefined) ?? 16;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch ${batch}: must be a positive integer`);
  if (args.bn && !args.image) throw new Error('--bn only applies to --image (the log-mel is written before BatchNorm)');
  try { if (!statSync(dirname(resolve(out))).isDirectory()) throw new Error(); } catch { throw new Error(`output directory ${dirname(resolve(out))} does not exist`); }
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(input)); } catch (e) { throw new Error(`${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  const bn = args.bn ? readBatchNorm(args.bn as string) : undefined;

  const audio = await decodeAudio(bytes, input);
  const windows = cutWindows(audio.samples, { hop: Math.round(hopS * 48000), name: input });
  const rt = await nodeRuntime();
  const fe = new MelFrontend(rt);
  const per = args.image ? 256 * 256 : 1001 * 64;
  const result = new Float32Array(windows.length * per);
  for (let i = 0; i < windows.length; i += batch) {
    const chunk = windows.slice(i, i + batch).map((w) => w.samples);
    const r = fe.run(chunk, { output: args.image ? 'image' : 'logmel', bn });
    const t = (args.image ? r.image : r.logmel)!;
    result.set(await t.data(), i * per);
    t.dispose();
  }
  fe.dispose();
  const shape = args.image ? [windows.length, 256, 256] : [windows.length, 1001, 64];
  await atomicWrite(out, encodeNpy(result, shape));
  const src = audio.source;
  console.error(`${input}: ${src.container}, ${src.channels} ch, ${src.sampleRate} Hz, ${(src.frames / src.sampleRate).toFixed(2)} s -> ${windows.length} window(s) (hop ${hopS} s) -> ${out} float32 [${shape.join(', ')}]`);
}
