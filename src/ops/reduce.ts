// Reduction launchers: sum/mean/max along one axis of a contiguous tensor viewed as [outer, R, inner].
import { reduce, maxBackward, type ReduceOp } from '../../kernels/reduce.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding } from './common.ts';

const SPLIT_R = 1024;

/**
 * out[o, j] = scale * sum_r x[o, r, j] (or max, with the argmax written to idx). A long R with few outputs is
 * summed in two stages (partials over chunks of 1024, then over the partials) so GPUs get enough invocations.
 */
export function reduceOp(rt: Runtime, op: ReduceOp, x: Binding, out: Binding, outer: number, R: number, inner: number, scale = 1, idx?: Binding): void {
  const nOut = outer * inner;
  if (nOut === 0) return;
  checkBinding(rt, `reduce_${op}`, 'x', outer * R * inner);
  if (op === 'max') {
    if (!idx) throw new Error('reduce_max: an index buffer is required');
    rt.dispatch(reduce.get({ op }), [x, out, idx], { outer, R, inner, scale, chunk: R, chunks: 1 }, groups(nOut, 64));
    return;
  }
  if (R > 2 * SPLIT_R && nOut < 4096) {
    const chunks = Math.ceil(R / SPLIT_R);
    const part = rt.alloc(nOut * chunks * 4, 'reduce-partials');
    rt.dispatch(reduce.get({ op }), [x, part], { outer, R, inner, scale: 1, chunk: SPLIT_R, chunks }, groups(nOut * chunks, 64));
    rt.dispatch(reduce.get({ op }), [part, out], { outer, R: chunks, inner, scale, chunk: chunks, chunks: 1 }, groups(nOut, 64));
    rt.release(part);
    return;
  }
  rt.dispatch(reduce.get({ op }), [x, out], { outer, R, inner, scale, chunk: R, chunks: 1 }, groups(nOut, 64));
}

export function maxBackwardOp(rt: Runtime, dy: Binding, idx: Binding, dx: Binding, outer: number, R: number, inner: number): void {
  const n = outer * R * inner;
  if (n === 0) return;
  rt.dispatch(maxBackward.get({}), [dy, idx, dx], { outer, R, inner }, groups(n, 256));
}
