import { adamw } from '../../kernels/adamw.wgsl.ts';
import { type Runtime, type Binding, groups } from './common.ts';

export interface AdamWHyper { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }

/** One AdamW step (t = 1-based step number) on n elements, in place. gscale multiplies the gradient. */
export function adamwOp(rt: Runtime, param: Binding, grad: Binding, m: Binding, v: Binding, n: number, h: AdamWHyper, t: number, gscale = 1): void {
  if (n === 0) return;
  rt.dispatch(adamw.get({}), [param, grad, m, v], {
    n, lr: h.lr, b1: h.beta1, b2: h.beta2, eps: h.eps, wd: h.weightDecay,
    bc1: 1 - Math.pow(h.beta1, t), bc2: 1 - Math.pow(h.beta2, t), gscale,
  }, groups(n, 256));
}
