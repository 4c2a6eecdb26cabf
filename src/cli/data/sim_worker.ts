// Worker-thread side of SimWorkers (src/cli/data/parallel.ts): loads the source pool once, then simulates the clips
// it is sent and posts back the audio (transferred) with the clip's DCASE rows and JSON record.
import { parentPort, workerData } from 'node:worker_threads';
import { CLASSES, type Split } from '../../data/classes.ts';
import { clipRecord, clipRows, makePool, simulateClip, type SimOptions } from '../../data/simulate.ts';
import { syntheticSources, SYNTH_CLASSES } from '../../data/synthetic.ts';
import { loadLibrary } from './library.ts';
import type { PoolSpec } from './parallel.ts';

const { pool: spec, sim } = workerData as { pool: PoolSpec; sim: Partial<SimOptions> };
const pool = spec.kind === 'library'
  ? makePool(loadLibrary(spec.dir).sources, CLASSES)
  : makePool(syntheticSources(spec.seed, spec.perClass), SYNTH_CLASSES);

parentPort!.on('message', (job: { id: number; split: Split; seed: number; name: string }) => {
  try {
    const c = simulateClip(pool, job.split, job.seed, sim);
    parentPort!.postMessage({ id: job.id, audio: c.audio, record: clipRecord(job.name, c), rows: clipRows(job.name, c) }, [c.audio.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
