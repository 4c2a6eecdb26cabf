// flam export: a model file (weights + bn0 statistics + configuration, checksummed) from a training checkpoint.
import { readFileSync } from 'node:fs';
import { nodeRuntime } from '../../gpu/node.ts';
import { encodeCheckpoint, decodeCheckpoint } from '../../train/checkpoint.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { loadModel } from '../model.ts';
import { parseArgs } from '../argv.ts';

export const summary = 'model file from a training checkpoint: flam export CKPT -o MODEL (drops the optimizer state)';

export async function run(args: string[]): Promise<void> {
  const a = parseArgs('flam export', args, { o: { type: 'string' }, help: { type: 'flag' } });
  if (a.help || a._.length !== 1 || !a.o) { console.log(`flam export CKPT -o MODEL\n  ${summary}`); if (!a.help) throw new Error('need one checkpoint and -o MODEL'); return; }
  const src = a._[0];
  const ck = decodeCheckpoint(readFileSync(src), src);
  const rt = await nodeRuntime();
  const model = await loadModel(rt, src);
  const cfg = ck.config as { model?: string };
  const bytes = await encodeCheckpoint(model.storedState(), null, { step: ck.step, state: {}, config: { model: cfg.model ?? model.cfg.name, flam: model.cfg, trainConfig: ck.config } });
  atomicWriteSync(a.o as string, bytes);
  console.log(`wrote ${a.o} (${(bytes.length / 2 ** 20).toFixed(2)} MiB, step ${ck.step}, ${model.storedState().length} tensors)`);
}
