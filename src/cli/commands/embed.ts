// flam embed: clip, frame and text embeddings as .npy.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRuntime } from '../../gpu/node.ts';
import { tuneMatmul } from '../../ops/matmul.ts';
import { decodeAudio } from '../../audio/decode.ts';
import { cutWindows } from '../../audio/windows.ts';
import { scope } from '../../tensor/tensor.ts';
import { noGrad } from '../../autograd/tape.ts';
import { encodeNpy } from '../../io/npy.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { loadModel, loadTokenizer } from '../model.ts';
import { parseArgs } from '../argv.ts';

export const summary = 'embeddings: flam embed AUDIO... [--prompt TEXT ...] -o DIR  (clip.npy, frames.npy, text.npy, index.json)';

export async function run(args: string[]): Promise<void> {
  const a = parseArgs('flam embed', args, { prompt: { type: 'list' }, model: { type: 'string' }, o: { type: 'string' }, out: { type: 'string' }, hop: { type: 'number' }, help: { type: 'flag' } });
  if (a.help) { console.log(`flam embed AUDIO... [--prompt TEXT ...] -o DIR [--model FILE] [--hop S]\n  ${summary}\n  Audio is cut into 10 s windows (hop default 10 s); clip.npy [windows, J] and frames.npy [windows, 32, J] are unit vectors; text.npy [prompts, J]; index.json maps windows to files and start times.`); return; }
  const out = (a.o ?? a.out) as string | undefined;
  if (!out) throw new Error('-o DIR is required');
  const prompts = (a.prompt as string[] | undefined) ?? [];
  prompts.forEach((p, i) => { if (!p.trim()) throw new Error(`prompt ${i + 1} is empty`); });
  if (a._.length === 0 && prompts.length === 0) throw new Error('nothing to embed: give audio files and/or --prompt texts');
  const rt = await nodeRuntime();
  await tuneMatmul(rt);
  const model = await loadModel(rt, a.model as string | undefined);
  const tok = await loadTokenizer();
  mkdirSync(out, { recursive: true });
  const clip: number[] = [], frames: number[] = [], index: { file: string; start: number }[] = [];
  let J = model.cfg.jointDim;
  for (const f of a._) {
    const bytes = readFileSync(f);
    const audio = await decodeAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), f);
    const wins = cutWindows(audio.samples, { hop: Math.round(((a.hop as number | undefined) ?? 10) * 48000), name: f });
    for (let i = 0; i < wins.length; i += 4) {
      const group = wins.slice(i, i + 4);
      const [g, l] = await scope(async () => noGrad(async () => {
        const e = model.audioEmbeddings(group.map((w) => w.samples));
        return [await e.global.data(), await e.local.data()];
      }));
      clip.push(...g); frames.push(...l);
      for (const w of group) index.push({ file: f, start: w.start });
      process.stderr.write(`\r${f}: window ${Math.min(i + 4, wins.length)}/${wins.length}`);
    }
    process.stderr.write('\n');
  }
  if (index.length) {
    atomicWriteSync(join(out, 'clip.npy'), encodeNpy(Float32Array.from(clip), [index.length, J]));
    atomicWriteSync(join(out, 'frames.npy'), encodeNpy(Float32Array.from(frames), [index.length, 32, J]));
  }
  if (prompts.length) {
    const t = await scope(async () => noGrad(() => model.textEmbeddings(prompts, tok).t.data()));
    J = t.length / prompts.length;
    atomicWriteSync(join(out, 'text.npy'), encodeNpy(Float32Array.from(t), [prompts.length, J]));
  }
  atomicWriteSync(join(out, 'index.json'), new TextEncoder().encode(JSON.stringify({ windows: index, prompts }, null, 1) + '\n'));
  console.log(`wrote ${out}: ${index.length} windows, ${prompts.length} prompts, dimension ${J}`);
}
