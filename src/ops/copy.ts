import { strided } from '../../kernels/copy.wgsl.ts';
import { type Runtime, type Binding, groups, fail } from './common.ts';

/** out (contiguous, `shape`) = x read at off + sum c_d * st[d]. */
export function stridedGatherOp(rt: Runtime, x: Binding, out: Binding, shape: readonly number[], st: readonly number[], off = 0): void {
  let n = 1; for (const d of shape) n *= d;
  if (n === 0) return;
  if (shape.length > 8) fail('strided copy', `rank ${shape.length} > 8`);
  rt.dispatch(strided.get({ dir: 'gather' }), [x, out], { n, rank: shape.length, off, shape, st }, groups(n, 256));
}

/** out written at off + sum c_d * st[d] from x (contiguous, `shape`). */
export function stridedScatterOp(rt: Runtime, x: Binding, out: Binding, shape: readonly number[], st: readonly number[], off = 0): void {
  let n = 1; for (const d of shape) n *= d;
  if (n === 0) return;
  if (shape.length > 8) fail('strided copy', `rank ${shape.length} > 8`);
  rt.dispatch(strided.get({ dir: 'scatter' }), [x, out], { n, rank: shape.length, off, shape, st }, groups(n, 256));
}
