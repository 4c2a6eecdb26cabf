// Launchers of the row-wise L2 normalisation (kernels/l2_normalize.wgsl.ts).
import { l2Normalize, l2NormalizeBackward } from '../../kernels/l2_normalize.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding } from './common.ts';

export function l2NormalizeOp(rt: Runtime, x: Binding, y: Binding, d: Binding, rows: number, C: number, eps: number): void {
  if (rows * C === 0) return;
  checkBinding(rt, 'l2_normalize', 'x', rows * C);
  rt.dispatch(l2Normalize.get({}), [x, y, d], { rows, C, eps }, groups(rows, 64));
}

export function l2NormalizeBackwardOp(rt: Runtime, x: Binding, d: Binding, dy: Binding, dx: Binding, rows: number, C: number, eps: number): void {
  if (rows * C === 0) return;
  rt.dispatch(l2NormalizeBackward.get({}), [x, d, dy, dx], { rows, C, eps }, groups(rows, 64));
}
