// AdamW with decoupled weight decay, in place on (param, m, v).
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/**
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * (m / bc1 / (sqrt(v / bc2) + eps) + wd * p),
 * bc1 = 1 - b1^t, bc2 = 1 - b2^t (passed in), g = grad * gscale (global-norm clipping factor).
 * One invocation per element.
 */
export const adamw = new KernelFamily<{}>('adamw', () => ({
  name: 'adamw',
  bindings: [{ name: 'param', access: 'read_write' }, { name: 'grad', access: 'read' }, { name: 'm', access: 'read_write' }, { name: 'v', access: 'read_write' }],
  params: [['n', 'u32'], ['lr', 'f32'], ['b1', 'f32'], ['b2', 'f32'], ['eps', 'f32'], ['wd', 'f32'], ['bc1', 'f32'], ['bc2', 'f32'], ['gscale', 'f32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
  let g = grad[i] * p.gscale;
  let mi = p.b1 * m[i] + (1.0 - p.b1) * g;
  let vi = p.b2 * v[i] + (1.0 - p.b2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let w = param[i];
  param[i] = w - p.lr * ((mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps) + p.wd * w);
}`,
}));
