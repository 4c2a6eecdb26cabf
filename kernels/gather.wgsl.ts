// Embedding gather and its scatter-add backward (deterministic, no float atomics).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/** out[i, c] = table[idx[i], c] for i < n, c < C; out-of-range indices give 0. One invocation per element. */
export const gather = new KernelFamily<{}>('gather', () => ({
  name: 'gather',
  bindings: [{ name: 'table', access: 'read' }, { name: 'idx', access: 'read', type: 'u32' }, { name: 'out', access: 'read_write' }],
  params: [['n', 'u32'], ['C', 'u32'], ['V', 'u32']],
  workgroup: [256],
  body: `
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n * p.C) { return; }
  let r = idx[i / p.C];
  out[i] = select(0.0, table[min(r, p.V - 1u) * p.C + i % p.C], r < p.V);
}`,
}));

/**
 * dTable[v, c] = sum over i with idx[i] == v of dy[i, c].
 * 'csr': rows listed in a plan built from the indices: rowStart[V+1] (prefix counts) and pos[n] (the positions i
 *        sorted by row): one invocation per (v, c), O(count) work. Deterministic order.
 * 'scan': no plan; one invocation per (v, c) scans all n indices (O(V n C)): fallback for GPU-only indices.
 */
export const scatterAdd = new KernelFamily<{ mode: 'csr' | 'scan' }>('gather_backward', ({ mode }) => ({
  name: `gather_backward_${mode}`,
  bindings: mode === 'csr'
    ? [{ name: 'dy', access: 'read' }, { name: 'rowStart', access: 'read', type: 'u32' }, { name: 'pos', access: 'read', type: 'u32' }, { name: 'dt', access: 'read_write' }]
    : [{ name: 'dy', access: 'read' }, { name: 'idx', access: 'read', type: 'u32' }, { name: 'dt', access: 'read_write' }],
  params: [['n', 'u32'], ['C', 'u32'], ['V', 'u32']],
  workgroup: [256],
  body: wgsl`
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.V * p.C) { return; }
  let v = i / p.C;
  let c = i % p.C;
  var acc = 0.0;
#if ${mode === 'csr'}
  for (var q = rowStart[v]; q < rowStart[v + 1u]; q = q + 1u) { acc = acc + dy[pos[q] * p.C + c]; }
#else
  for (var q = 0u; q < p.n; q = q + 1u) { if (idx[q] == v) { acc = acc + dy[q * p.C + c]; } }
#endif
  dt[i] = acc;
}`,
}));
