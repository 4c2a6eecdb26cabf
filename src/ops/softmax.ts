import { softmax, softmaxBackward } from '../../kernels/softmax.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding } from './common.ts';

/** Mask row mapping m(r) = ((r / ma) % mb) * mc + r % mc (see kernels/softmax.wgsl.ts). */
export interface MaskMap { ma: number; mb: number; mc: number }

export function softmaxOp(rt: Runtime, x: Binding, y: Binding, rows: number, N: number, mask?: { buf: Binding; map: MaskMap }): void {
  if (rows * N === 0) return;
  checkBinding(rt, 'softmax', 'x', rows * N);
  if (mask) rt.dispatch(softmax.get({ masked: true }), [x, mask.buf, y], { rows, N, ...mask.map }, groups(rows, 64));
  else rt.dispatch(softmax.get({ masked: false }), [x, y], { rows, N, ma: 1, mb: 1, mc: 1 }, groups(rows, 64));
}

export function softmaxBackwardOp(rt: Runtime, y: Binding, dy: Binding, dx: Binding, rows: number, N: number): void {
  if (rows * N === 0) return;
  rt.dispatch(softmaxBackward.get({}), [y, dy, dx], { rows, N }, groups(rows, 64));
}
