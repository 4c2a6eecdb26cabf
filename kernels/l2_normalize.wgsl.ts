// Row-wise L2 normalisation (torch.nn.functional.normalize(x, dim=-1)) and its backward.
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/**
 * y[r, :] = x[r, :] / d[r], d[r] = max(||x[r, :]||_2, eps), rows x C. One invocation per row (two passes).
 * Saves d[r] for backward.
 */
export const l2Normalize = new KernelFamily<{}>('l2_normalize', () => ({
  name: 'l2_normalize',
  bindings: [{ name: 'x', access: 'read' }, { name: 'y', access: 'read_write' }, { name: 'd', access: 'read_write' }],
  params: [['rows', 'u32'], ['C', 'u32'], ['eps', 'f32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.rows) { return; }
  let base = r * p.C;
  var s = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { let v = x[base + c]; s = s + v * v; }
  let dn = max(sqrt(s), p.eps);
  let inv = 1.0 / dn;
  for (var c = 0u; c < p.C; c = c + 1u) { y[base + c] = x[base + c] * inv; }
  d[r] = dn;
}`,
}));

/**
 * Backward (derived): where ||x|| > eps, y = x / ||x|| and dx = (dy - y (y . dy)) / ||x||; where the norm is clamped
 * (d = eps is a constant) dx = dy / eps. One invocation per row; reads x (y = x / d is recomputed) and the saved d.
 */
export const l2NormalizeBackward = new KernelFamily<{}>('l2_normalize_backward', () => ({
  name: 'l2_normalize_backward',
  bindings: [{ name: 'x', access: 'read' }, { name: 'd', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dx', access: 'read_write' }],
  params: [['rows', 'u32'], ['C', 'u32'], ['eps', 'f32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.rows) { return; }
  let base = r * p.C;
  let dn = d[r];
  let inv = 1.0 / dn;
  var yd = 0.0;
  if (dn > p.eps) { for (var c = 0u; c < p.C; c = c + 1u) { yd = yd + x[base + c] * inv * dy[base + c]; } }
  for (var c = 0u; c < p.C; c = c + 1u) { dx[base + c] = (dy[base + c] - x[base + c] * inv * yd) * inv; }
}`,
}));
