// Strided copies: permute/transpose, slice (with step), broadcast-expand (stride 0), and the inverse scatter used
// by concat and slice backward. Rank <= 8, shapes and strides in u32x4[2] params, elements of 32 bits.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/**
 * 'gather' : out[i] = x[off + sum_d c_d * st[d]] with (c_d) the coordinates of i in `shape` (out contiguous).
 * 'scatter': out[off + sum_d c_d * st[d]] = x[i] with (c_d) the coordinates of i in `shape` (x contiguous).
 * One invocation per element of `shape`.
 */
export const strided = new KernelFamily<{ dir: 'gather' | 'scatter' }>('strided_copy', ({ dir }) => ({
  name: `strided_${dir}`,
  bindings: [{ name: 'x', access: 'read', type: 'u32' }, { name: 'out', access: 'read_write', type: 'u32' }],
  params: [['n', 'u32'], ['rank', 'u32'], ['off', 'u32'], ['shape', 'u32x4[2]'], ['st', 'u32x4[2]']],
  workgroup: [256],
  body: wgsl`
fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 { return v[d / 4u][d % 4u]; }
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
  var rem = i;
  var j = p.off;
  for (var d = i32(p.rank) - 1; d >= 0; d = d - 1) {
    let s = dim(p.shape, u32(d));
    j = j + (rem % s) * dim(p.st, u32(d));
    rem = rem / s;
  }
#if ${dir === 'gather'}
  out[i] = x[j];
#else
  out[j] = x[i];
#endif
}`,
}));
