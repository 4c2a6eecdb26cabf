// Softmax over the last axis with an optional additive mask, and its backward.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/**
 * y[r, :] = softmax(x[r, :] + mask[m(r), :]) over N columns, m(r) = ((r / ma) % mb) * mc + r % mc
 * (covers a mask per row block, e.g. Swin's [nW, 64, 64] shift masks on [B*nW, H, 64, 64] scores, or a
 * key-padding mask [B, N] on [B, H, T, N]). One invocation per row, three passes over the row (max, sum, write).
 */
export const softmax = new KernelFamily<{ masked: boolean }>('softmax', ({ masked }) => ({
  name: masked ? 'softmax_masked' : 'softmax',
  bindings: masked
    ? [{ name: 'x', access: 'read' }, { name: 'mask', access: 'read' }, { name: 'y', access: 'read_write' }]
    : [{ name: 'x', access: 'read' }, { name: 'y', access: 'read_write' }],
  params: [['rows', 'u32'], ['N', 'u32'], ['ma', 'u32'], ['mb', 'u32'], ['mc', 'u32']],
  workgroup: [64],
  body: wgsl`
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.rows) { return; }
  let base = r * p.N;
#if ${masked}
  let mbase = (((r / p.ma) % p.mb) * p.mc + r % p.mc) * p.N;
#endif
  var m = -3.0e38;
  for (var c = 0u; c < p.N; c = c + 1u) {
#if ${masked}
    m = max(m, x[base + c] + mask[mbase + c]);
#else
    m = max(m, x[base + c]);
#endif
  }
  var s = 0.0;
  for (var c = 0u; c < p.N; c = c + 1u) {
#if ${masked}
    let e = exp(x[base + c] + mask[mbase + c] - m);
#else
    let e = exp(x[base + c] - m);
#endif
    y[base + c] = e;
    s = s + e;
  }
  let inv = 1.0 / s;
  for (var c = 0u; c < p.N; c = c + 1u) { y[base + c] = y[base + c] * inv; }
}`,
}));

/** dx = y * (dy - sum(dy * y)) per row (the mask gets no gradient). One invocation per row. */
export const softmaxBackward = new KernelFamily<{}>('softmax_backward', () => ({
  name: 'softmax_backward',
  bindings: [{ name: 'y', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dx', access: 'read_write' }],
  params: [['rows', 'u32'], ['N', 'u32']],
  workgroup: [64],
  body: `
${ENTRY} {
  let r = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (r >= p.rows) { return; }
  let base = r * p.N;
  var s = 0.0;
  for (var c = 0u; c < p.N; c = c + 1u) { s = s + dy[base + c] * y[base + c]; }
  for (var c = 0u; c < p.N; c = c + 1u) { dx[base + c] = y[base + c] * (dy[base + c] - s); }
}`,
}));
