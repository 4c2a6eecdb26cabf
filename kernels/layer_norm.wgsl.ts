// Layer norm over the last axis (C), saving mean and rstd for backward.
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/**
 * y = (x - mean) * rstd * gamma + beta, rstd = 1/sqrt(var + eps) (biased variance), per row of C.
 * One invocation per row (two passes: mean, then centred variance). Saves mean[rows], rstd[rows].
 */
export const layerNorm = new KernelFamily<{}>('layer_norm', () => ({
  name: 'layer_norm',
  bindings: [{ name: 'x', access: 'read' }, { name: 'gamma', access: 'read' }, { name: 'beta', access: 'read' },
    { name: 'y', access: 'read_write' }, { name: 'mean', access: 'read_write' }, { name: 'rstd', access: 'read_write' }],
  params: [['rows', 'u32'], ['C', 'u32'], ['eps', 'f32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.rows) { return; }
  let base = r * p.C;
  var s = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { s = s + x[base + c]; }
  let mu = s / f32(p.C);
  var v = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { let d = x[base + c] - mu; v = v + d * d; }
  let rs = inverseSqrt(v / f32(p.C) + p.eps);
  for (var c = 0u; c < p.C; c = c + 1u) { y[base + c] = (x[base + c] - mu) * rs * gamma[c] + beta[c]; }
  mean[r] = mu;
  rstd[r] = rs;
}`,
}));

/**
 * dx = rstd * (g - mean(g) - n * mean(g * n)), g = dy * gamma, n = (x - mean) * rstd. One invocation per row.
 */
export const layerNormBackwardX = new KernelFamily<{}>('layer_norm_backward_x', () => ({
  name: 'layer_norm_backward_x',
  bindings: [{ name: 'x', access: 'read' }, { name: 'gamma', access: 'read' }, { name: 'mean', access: 'read' },
    { name: 'rstd', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dx', access: 'read_write' }],
  params: [['rows', 'u32'], ['C', 'u32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.rows) { return; }
  let base = r * p.C;
  let mu = mean[r];
  let rs = rstd[r];
  var sg = 0.0;
  var sgn = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) {
    let g = dy[base + c] * gamma[c];
    sg = sg + g;
    sgn = sgn + g * (x[base + c] - mu) * rs;
  }
  let invC = 1.0 / f32(p.C);
  for (var c = 0u; c < p.C; c = c + 1u) {
    let n = (x[base + c] - mu) * rs;
    dx[base + c] = rs * (dy[base + c] * gamma[c] - sg * invC - n * sgn * invC);
  }
}`,
}));

/**
 * Partial column sums for dgamma = sum_r dy*n and dbeta = sum_r dy over a chunk of rows:
 * part[ch, 0, c] = sum_{r in chunk} dy[r,c] * n[r,c]; part[ch, 1, c] = sum dy[r,c].
 * One invocation per (chunk, column); the launcher sums the chunks with reduce_sum.
 */
export const layerNormBackwardParams = new KernelFamily<{}>('layer_norm_backward_params', () => ({
  name: 'layer_norm_backward_params',
  bindings: [{ name: 'x', access: 'read' }, { name: 'mean', access: 'read' }, { name: 'rstd', access: 'read' },
    { name: 'dy', access: 'read' }, { name: 'part', access: 'read_write' }],
  params: [['rows', 'u32'], ['C', 'u32'], ['chunk', 'u32'], ['nchunks', 'u32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.nchunks * p.C) { return; }
  let ch = i / p.C;
  let c = i % p.C;
  let r0 = ch * p.chunk;
  let r1 = min(r0 + p.chunk, p.rows);
  var sdn = 0.0;
  var sd = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let d = dy[r * p.C + c];
    sdn = sdn + d * (x[r * p.C + c] - mean[r]) * rstd[r];
    sd = sd + d;
  }
  part[(ch * 2u) * p.C + c] = sdn;
  part[(ch * 2u + 1u) * p.C + c] = sd;
}`,
}));
