// float64 reference of the row-wise L2 normalisation (torch F.normalize(x, dim=-1, eps)).
import type { Arr } from './ops.ts';

export function l2NormalizeRef(x: Arr, rows: number, C: number, eps: number): Arr {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[r * C + c] ** 2;
    const d = Math.max(Math.sqrt(s), eps);
    for (let c = 0; c < C; c++) y[r * C + c] = x[r * C + c] / d;
  }
  return y;
}

/** dx = (dy - y (y . dy)) / ||x|| where ||x|| > eps, else dy / eps. */
export function l2NormalizeBackRef(x: Arr, rows: number, C: number, eps: number, dy: Arr): Arr {
  const dx = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[r * C + c] ** 2;
    const n = Math.sqrt(s);
    if (n > eps) {
      let yd = 0;
      for (let c = 0; c < C; c++) yd += (x[r * C + c] / n) * dy[r * C + c];
      for (let c = 0; c < C; c++) dx[r * C + c] = (dy[r * C + c] - (x[r * C + c] / n) * yd) / n;
    } else for (let c = 0; c < C; c++) dx[r * C + c] = dy[r * C + c] / eps;
  }
  return dx;
}
