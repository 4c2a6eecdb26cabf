// Differentiable L2 normalisation over the last axis: y = x / max(||x||, eps) (torch F.normalize, eps 1e-12).
// Backward: dx = (dy - y (y . dy)) / ||x|| where ||x|| > eps, else dy / eps.
import { Tensor, empty } from '../tensor/tensor.ts';
import { record, needsGrad } from './tape.ts';
import { rows2d } from './ops.ts';
import { l2NormalizeOp, l2NormalizeBackwardOp } from '../ops/l2_normalize.ts';

export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  x.check('l2_normalize');
  if (x.dtype !== 'f32') throw new Error(`l2_normalize: expected f32, got ${x.dtype}`);
  if (x.rank === 0) throw new Error('l2_normalize: needs at least one axis');
  const [rows, C] = rows2d(x);
  const rt = x.rt;
  const y = empty(rt, x.shape, 'f32', 'l2_normalize');
  const d = empty(rt, [rows], 'f32', 'l2-norm');
  l2NormalizeOp(rt, x.binding(), y.binding(), d.binding(), rows, C, eps);
  if (needsGrad(x)) {
    record(y, 'l2_normalize', [x], (g, [xs, ds]) => {
      const dx = empty(rt, xs.shape, 'f32', 'l2_normalize-grad');
      l2NormalizeBackwardOp(rt, xs.binding(), ds.binding(), g.binding(), dx.binding(), rows, C, eps);
      return [dx];
    }, [x, d]);
  }
  d.dispose();
  return y;
}
