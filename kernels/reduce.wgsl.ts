// Reductions along one axis. The input is viewed as [outer, R, inner]; out is [outer, inner].
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

export type ReduceOp = 'sum' | 'max';

/**
 * out[o, j] = sum_r x[o, r, j]  (or max, also writing the first argmax index to idx).
 * One invocation per output element, looping over R (no workgroup memory: fast on CPU adapters; the launcher
 * splits a long R into chunks first so a GPU still gets enough invocations).
 * Saves for backward (max): argmax indices.
 */
export const reduce = new KernelFamily<{ op: ReduceOp }>('reduce', ({ op }) => ({
  name: `reduce_${op}`,
  bindings: op === 'max'
    ? [{ name: 'x', access: 'read' }, { name: 'out', access: 'read_write' }, { name: 'idx', access: 'read_write', type: 'u32' }]
    : [{ name: 'x', access: 'read' }, { name: 'out', access: 'read_write' }],
  params: [['outer', 'u32'], ['R', 'u32'], ['inner', 'u32'], ['scale', 'f32'], ['chunk', 'u32'], ['chunks', 'u32']],
  workgroup: [64],
  body: wgsl`
// sum: out[o, ch, j] = scale * sum_{r in chunk ch} x[o, r, j] (chunks = 1: a plain reduction over R).
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
#if ${op === 'sum'}
  if (i >= p.outer * p.chunks * p.inner) { return; }
  let j = i % p.inner;
  let ch = (i / p.inner) % p.chunks;
  let o = i / (p.inner * p.chunks);
  let base = o * p.R * p.inner + j;
  var acc = 0.0;
  let r1 = min(p.R, (ch + 1u) * p.chunk);
  for (var r = ch * p.chunk; r < r1; r = r + 1u) { acc = acc + x[base + r * p.inner]; }
  out[i] = acc * p.scale;
#else
  if (i >= p.outer * p.inner) { return; }
  let o = i / p.inner;
  let j = i % p.inner;
  let base = o * p.R * p.inner + j;
  var best = x[base];
  var bi = 0u;
  for (var r = 1u; r < p.R; r = r + 1u) {
    let v = x[base + r * p.inner];
    if (v > best || (v != v && best == best)) { best = v; bi = r; }
  }
  out[i] = best;
  idx[i] = bi;
#endif
}`,
}));

/** dx[o, r, j] = dy[o, j] if r == idx[o, j] else 0 (backward of max). One invocation per input element. */
export const maxBackward = new KernelFamily<{}>('reduce_max_backward', () => ({
  name: 'reduce_max_backward',
  bindings: [{ name: 'dy', access: 'read' }, { name: 'idx', access: 'read', type: 'u32' }, { name: 'dx', access: 'read_write' }],
  params: [['outer', 'u32'], ['R', 'u32'], ['inner', 'u32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.outer * p.R * p.inner) { return; }
  let j = i % p.inner;
  let r = (i / p.inner) % p.R;
  let o = i / (p.inner * p.R);
  let k = o * p.inner + j;
  dx[i] = select(0.0, dy[k], idx[k] == r);
}`,
}));
