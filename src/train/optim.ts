// AdamW on the GPU (kernels/adamw.wgsl.ts): one dispatch per parameter, decoupled weight decay, optional
// global-norm gradient clipping folded into the same kernel as a gradient scale.
import { Tensor, keep } from '../tensor/tensor.ts';
import { full, mul, sumAll, concat } from '../autograd/ops.ts';
import { noGrad } from '../autograd/tape.ts';
import { adamwOp, type AdamWHyper } from '../ops/adamw.ts';

export interface AdamWOptions { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }

export class AdamW {
  readonly h: AdamWHyper;
  step = 0;
  readonly m: Tensor[];
  readonly v: Tensor[];
  constructor(readonly params: Tensor[], o: AdamWOptions = {}) {
    this.h = { lr: o.lr ?? 1e-3, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0.01 };
    for (const p of params) if (p.dtype !== 'f32') throw new Error(`AdamW: parameter ${p} is not f32`);
    this.m = params.map((p) => keep(full(p.rt, p.shape, 0)));
    this.v = params.map((p) => keep(full(p.rt, p.shape, 0)));
  }

  /**
   * Apply one update with the parameters' current .grad (params without a grad are skipped), learning rate
   * `lr` (defaults to the constructor's) and gradient scale `gscale` (e.g. from clipping). Records only GPU work:
   * no await, no submit.
   */
  update(lr = this.h.lr, gscale = 1): void {
    this.step++;
    const h = { ...this.h, lr };
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      adamwOp(p.rt, p.binding('AdamW'), p.grad.binding('AdamW'), this.m[i].binding(), this.v[i].binding(), p.size, h, this.step, gscale);
    });
  }

  zeroGrad(): void { for (const p of this.params) if (p.grad) { p.grad.dispose(); p.grad = null; } }

  dispose(): void { for (const t of [...this.m, ...this.v]) t.dispose(); }
}

/** Squared global L2 norm of the gradients as a [1] tensor (read it back to clip: scale = min(1, c / norm)). */
export function gradNormSquared(params: Tensor[]): Tensor {
  return noGrad(() => {
    const parts = params.filter((p) => p.grad).map((p) => { const g = p.grad!.reshape([p.size]); return sumAll(mul(g, g)); });
    if (parts.length === 0) throw new Error('gradNormSquared: no parameter has a gradient');
    return parts.length === 1 ? parts[0] : sumAll(concat(parts, 0));
  });
}
