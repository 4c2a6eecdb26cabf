// Launcher of the window partition / merge gathers (kernels/window_partition.wgsl.ts).
import { windowPartition } from '../../kernels/window_partition.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding, fail } from './common.ts';

export interface WindowPartitionArgs { B: number; H: number; W: number; C: number; ws: number; shift: number }

/** Checks the geometry; throws naming the rule that is broken. */
export function checkWindowGeometry(op: string, a: WindowPartitionArgs): void {
  const { B, H, W, C, ws, shift } = a;
  for (const [k, v] of Object.entries({ B, H, W, C, ws })) if (!Number.isInteger(v) || v < 1) fail(op, `${k} = ${v} must be a positive integer`);
  if (H % ws !== 0 || W % ws !== 0) fail(op, `the ${H}x${W} map is not divisible into ${ws}x${ws} windows (H and W must be multiples of the window size)`);
  if (!Number.isInteger(shift) || shift < 0 || shift >= ws) fail(op, `shift ${shift} must be an integer in [0, window size ${ws})`);
}

/** dir 'partition': x [B, H, W, C] -> out [B*nW, ws*ws, C] (rolled by -shift); 'merge': the inverse. */
export function windowPartitionOp(rt: Runtime, dir: 'partition' | 'merge', x: Binding, out: Binding, a: WindowPartitionArgs): void {
  checkWindowGeometry(`window_${dir}`, a);
  const { B, H, W, C, ws, shift } = a;
  checkBinding(rt, `window_${dir}`, `x [${B}, ${H}, ${W}, ${C}]`, B * H * W * C);
  const vec = C % 4 === 0;
  const Cv = vec ? C / 4 : C;
  const n = B * H * W * Cv;
  rt.dispatch(windowPartition.get({ dir, vec }), [x, out], { n, H, W, Cv, ws, shift }, groups(n, 64));
}
