// Swin window partition with cyclic shift, and its inverse (window merge with the reverse shift), as gathers of
// C-channel rows (vec4 copies when C % 4 == 0).
//
// Legend: B images, H x W token map, C channels, ws window side, s shift (0 <= s < min(H, W)), nWh = H/ws,
// nWw = W/ws, T = ws*ws tokens per window.
//   partition: out[b, wh, ww, ih, iw, :] = x[b, (wh*ws + ih + s) % H, (ww*ws + iw + s) % W, :]
//              (torch.roll(x, (-s, -s), (1, 2)) then the row-major partition into [B*nW, T, C])
//   merge:     out[b, h, w, :] = win[b, wh, ww, ih, iw, :] with wh*ws + ih = (h - s) mod H, ww*ws + iw = (w - s) mod W
//              (window reverse then torch.roll(., (s, s)))
// Both are permutations of rows, so each one's backward is the other (no reduction, exact).
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

/** One invocation per (output row, vec4 of channels) (or per element when C % 4 != 0). */
export const windowPartition = new KernelFamily<{ dir: 'partition' | 'merge'; vec: boolean }>('window_partition', ({ dir, vec }) => ({
  name: `window_${dir}${vec ? '_vec4' : ''}`,
  bindings: [
    { name: 'x', access: 'read', type: vec ? 'vec4<f32>' : 'f32' },
    { name: 'out', access: 'read_write', type: vec ? 'vec4<f32>' : 'f32' },
  ],
  // Cv: channels per row in binding elements (C/4 with vec); n = B*H*W*Cv
  params: [['n', 'u32'], ['H', 'u32'], ['W', 'u32'], ['Cv', 'u32'], ['ws', 'u32'], ['shift', 'u32']],
  workgroup: [64],
  body: `
// ${dir === 'partition' ? 'out[b, wh, ww, ih, iw, :] = x[b, (wh ws + ih + s) % H, (ww ws + iw + s) % W, :]' : 'out[b, h, w, :] = win[b, (h - s) mod H as (wh, ih), (w - s) mod W as (ww, iw), :]'}
// One invocation per (output row, channel element).
${ENTRY} {
  let g = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (g >= p.n) { return; }
  let c = g % p.Cv;
  let row = g / p.Cv;
  let HW = p.H * p.W;
  let b = row / HW;
  let r = row % HW;
  let nWw = p.W / p.ws;
  let T = p.ws * p.ws;
${dir === 'partition' ? `
  // r = window index * T + token in window
  let w = r / T;
  let t = r % T;
  let h = ((w / nWw) * p.ws + t / p.ws + p.shift) % p.H;
  let x0 = ((w % nWw) * p.ws + t % p.ws + p.shift) % p.W;
  out[g] = x[((b * HW) + h * p.W + x0) * p.Cv + c];` : `
  // r = h * W + w on the map
  let hh = (r / p.W + p.H - p.shift) % p.H;
  let ww = (r % p.W + p.W - p.shift) % p.W;
  let src = ((hh / p.ws) * nWw + ww / p.ws) * T + (hh % p.ws) * p.ws + ww % p.ws;
  out[g] = x[((b * HW) + src) * p.Cv + c];`}
}`,
}));
