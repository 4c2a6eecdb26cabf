import { layerNorm, layerNormBackwardX, layerNormBackwardParams } from '../../kernels/layer_norm.wgsl.ts';
import { reduceOp } from './reduce.ts';
import { type Runtime, type Binding, groups, checkBinding } from './common.ts';

export function layerNormOp(rt: Runtime, x: Binding, gamma: Binding, beta: Binding, y: Binding, mean: Binding, rstd: Binding, rows: number, C: number, eps: number): void {
  if (rows * C === 0) return;
  checkBinding(rt, 'layer_norm', 'x', rows * C);
  rt.dispatch(layerNorm.get({}), [x, gamma, beta, y, mean, rstd], { rows, C, eps }, groups(rows, 64));
}

/** dx, and dgamma/dbeta (either may be omitted) from the saved mean/rstd. */
export function layerNormBackwardOp(rt: Runtime, x: Binding, gamma: Binding, mean: Binding, rstd: Binding, dy: Binding,
  dx: Binding | null, dgamma: Binding | null, dbeta: Binding | null, rows: number, C: number): void {
  if (rows * C === 0) return;
  if (dx) rt.dispatch(layerNormBackwardX.get({}), [x, gamma, mean, rstd, dy, dx], { rows, C }, groups(rows, 64));
  if (dgamma || dbeta) {
    const chunk = Math.max(16, Math.ceil(rows / Math.max(1, Math.ceil(16384 / C))));
    const nchunks = Math.ceil(rows / chunk);
    const part = rt.alloc(nchunks * 2 * C * 4, 'ln-partials');
    rt.dispatch(layerNormBackwardParams.get({}), [x, mean, rstd, dy, part], { rows, C, chunk, nchunks }, groups(nchunks * C, 64));
    // part is [nchunks, 2, C]: sum over chunks -> [2, C] = (dgamma, dbeta)
    const both = rt.alloc(2 * C * 4, 'ln-dparams');
    reduceOp(rt, 'sum', part, both, 1, nchunks, 2 * C);
    if (dgamma) rt.copy(both, 0, bufOf(dgamma), offOf(dgamma), C * 4);
    if (dbeta) rt.copy(both, C * 4, bufOf(dbeta), offOf(dbeta), C * 4);
    rt.release(part);
    rt.release(both);
  }
}

function bufOf(b: Binding): GPUBuffer { return (b as { buffer?: GPUBuffer }).buffer ?? (b as GPUBuffer); }
function offOf(b: Binding): number { return (b as { buffer?: GPUBuffer; offset?: number }).buffer ? ((b as { offset?: number }).offset ?? 0) : 0; }
