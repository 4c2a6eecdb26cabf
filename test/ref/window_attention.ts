// float64 reference of the fused window attention (kernels/window_attention.wgsl.ts), forward and backward.
import type { Arr } from './ops.ts';

export interface WADims { Bw: number; T: number; H: number; D: number; L: number; nW: number; scale: number }

/** qkv [Bw, T, 3, H, D], table [L, H], index [T, T], mask [nW, T, T] | null -> out [Bw, T, H, D], P [Bw, H, T, T]. */
export function windowAttentionRef(qkv: Arr, table: Arr, index: ArrayLike<number>, mask: Arr | null, d: WADims): { out: Arr; P: Arr } {
  const { Bw, T, H, D, scale } = d;
  const C = H * D;
  const out = new Float64Array(Bw * T * C), P = new Float64Array(Bw * H * T * T);
  const qa = (b: number, t: number, part: number, h: number, e: number) => qkv[((b * T + t) * 3 + part) * C + h * D + e];
  const s = new Float64Array(T);
  for (let b = 0; b < Bw; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    let m = -Infinity;
    for (let j = 0; j < T; j++) {
      let acc = 0;
      for (let e = 0; e < D; e++) acc += qa(b, i, 0, h, e) * qa(b, j, 1, h, e);
      acc = acc * scale + table[index[i * T + j] * H + h] + (mask ? mask[((b % d.nW) * T + i) * T + j] : 0);
      s[j] = acc; m = Math.max(m, acc);
    }
    let z = 0;
    for (let j = 0; j < T; j++) { s[j] = Math.exp(s[j] - m); z += s[j]; }
    for (let j = 0; j < T; j++) {
      const p = s[j] / z;
      P[((b * H + h) * T + i) * T + j] = p;
      for (let e = 0; e < D; e++) out[(b * T + i) * C + h * D + e] += p * qa(b, j, 2, h, e);
    }
  }
  return { out, P };
}

/** Gradients [dqkv, dtable] of sum(out * dout). */
export function windowAttentionBackRef(qkv: Arr, table: Arr, index: ArrayLike<number>, mask: Arr | null, d: WADims, dout: Arr): [Arr, Arr] {
  const { Bw, T, H, D, L, scale } = d;
  const C = H * D;
  const { P } = windowAttentionRef(qkv, table, index, mask, d);
  const dq = new Float64Array(qkv.length), dt = new Float64Array(L * H);
  const qi = (b: number, t: number, part: number, h: number, e: number) => ((b * T + t) * 3 + part) * C + h * D + e;
  const dP = new Float64Array(T);
  for (let b = 0; b < Bw; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    let rs = 0;
    for (let j = 0; j < T; j++) {
      let x = 0;
      for (let e = 0; e < D; e++) x += dout[(b * T + i) * C + h * D + e] * qkv[qi(b, j, 2, h, e)];
      dP[j] = x;
      rs += P[((b * H + h) * T + i) * T + j] * x;
    }
    for (let j = 0; j < T; j++) {
      const p = P[((b * H + h) * T + i) * T + j];
      const ds = p * (dP[j] - rs);
      dt[index[i * T + j] * H + h] += ds;
      for (let e = 0; e < D; e++) {
        dq[qi(b, i, 0, h, e)] += scale * ds * qkv[qi(b, j, 1, h, e)];
        dq[qi(b, j, 1, h, e)] += scale * ds * qkv[qi(b, i, 0, h, e)];
        dq[qi(b, j, 2, h, e)] += p * dout[(b * T + i) * C + h * D + e];
      }
    }
  }
  return [dq, dt];
}
