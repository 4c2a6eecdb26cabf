// float64 references of the Swin window partition / merge, written as torch does it: torch.roll, then a
// view + permute (independent of the kernel's direct index formula).
import { permuteRef, type Arr } from './ops.ts';

/** torch.roll(x, (k, k), dims=(1, 2)) of x [B, H, W, C]: out[b, i, j] = x[b, (i - k) mod H, (j - k) mod W]. */
export function rollRef(x: Arr, B: number, H: number, W: number, C: number, k: number): Arr {
  const y = new Float64Array(x.length);
  const mod = (a: number, n: number) => ((a % n) + n) % n;
  for (let b = 0; b < B; b++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let c = 0; c < C; c++) {
    y[((b * H + i) * W + j) * C + c] = x[((b * H + mod(i - k, H)) * W + mod(j - k, W)) * C + c];
  }
  return y;
}

/** roll by -shift, then [B, H/ws, ws, W/ws, ws, C] -> [B, H/ws, W/ws, ws, ws, C]. */
export function windowPartitionRef(x: Arr, B: number, H: number, W: number, C: number, ws: number, shift: number): Arr {
  return permuteRef(rollRef(x, B, H, W, C, -shift), [B, H / ws, ws, W / ws, ws, C], [0, 1, 3, 2, 4, 5]);
}

/** The inverse: un-permute the windows, then roll by +shift. */
export function windowMergeRef(win: Arr, B: number, H: number, W: number, C: number, ws: number, shift: number): Arr {
  return rollRef(permuteRef(win, [B, H / ws, W / ws, ws, ws, C], [0, 1, 3, 2, 4, 5]), B, H, W, C, shift);
}
