// `npm run bench [-- NAME...]`: runs the named benches (default: all), prints tables, appends JSON lines to
// bench/results/results.jsonl ({bench, variant, shape, device, median_ms, ...rate}).
import { nodeRuntime } from '../src/gpu/node.ts';
import { tuneMatmul } from '../src/ops/matmul.ts';
import { benchMatmul } from './matmul.bench.ts';
import { benchElementwise } from './elementwise.bench.ts';
import { benchKernels } from './kernels.bench.ts';
import { benchMel, melRatios } from './mel.bench.ts';
import { benchData } from './data.bench.ts';
import { benchHtsat } from './htsat.bench.ts';
import { benchSimLoss } from './sim_loss.bench.ts';
import { benchTrain, trainRatio, TRAIN_KEYS } from './train.bench.ts';
import { printTable, deviceString, RESULTS_FILE } from './util.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const want = (n: string) => names.length === 0 || names.includes(n);

const rt = await nodeRuntime();
console.log(`device: ${deviceString(rt)}`);
const tune = await tuneMatmul(rt);
console.log(`matmul design chosen from measurements: ${rt.choices.matmul} (ms at 1024x256x256: ${Object.entries(tune).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`);

if (want('matmul')) {
  const rows = await benchMatmul(rt, quick);
  printTable('matmul', rows, ['gflops']);
  for (const shape of new Set(rows.map((r) => r.shape))) {
    const tf = rows.find((r) => r.shape === shape && r.variant === 'tfjs-webgpu');
    const best = rows.filter((r) => r.shape === shape && r.variant !== 'tfjs-webgpu').sort((a, b) => a.median_ms - b.median_ms)[0];
    if (tf && best) console.log(`${shape}: best (${best.variant}) / tfjs-webgpu = ${(tf.median_ms / best.median_ms).toFixed(2)}x`);
  }
}
if (want('elementwise')) printTable('elementwise and dispatch', await benchElementwise(rt), ['gbps', 'us_per_dispatch']);
if (want('kernels')) printTable('reductions, softmax, layer norm, gather/scatter, transpose, AdamW', await benchKernels(rt), ['gbps']);
if (want('data')) printTable('data (simulator throughput, CPU)', await benchData(quick), ['clips_per_s']);
if (want('htsat')) printTable('htsat (window attention; HTSAT forward, batch 1, random weights; peers on the same weights)', await benchHtsat(rt, quick, !args.includes('--no-peers')), ['clips_per_s', 'gflops', 'ours_speedup', 'max_abs_diff_vs_ours']);
if (want('sim_loss')) printTable('sim_loss (L_SED loss + backward: chunked vs naive [A*L, K])', await benchSimLoss(rt, quick), ['A', 'K', 'design', 'peak_bytes', 'extra_bytes', 'gflops']);
if (want('mel')) { const rows = await benchMel(rt, quick); printTable('mel frontend (16 x 10 s clips)', rows, ['clips_per_s']); melRatios(rows); }
if (want('train')) { const rows = await benchTrain(rt, quick); printTable('train (one FLAM training step, tiny preset, A = 8 clips, K = 40 texts: ours vs the PyTorch CPU reference on the same weights and batches)', rows, TRAIN_KEYS); trainRatio(rows); }
console.log(`\nJSON lines appended to ${RESULTS_FILE}`);
process.exit(0);
