// Learning-rate schedule: linear warm-up to the peak, then cosine decay to `minLr` at `total` steps.

export interface ScheduleConfig { lr: number; warmup: number; total: number; minLr?: number }

/** Learning rate for 1-based step t. */
export function lrAt(c: ScheduleConfig, t: number): number {
  const minLr = c.minLr ?? 0;
  if (c.warmup > 0 && t <= c.warmup) return (c.lr * t) / c.warmup;
  const span = Math.max(1, c.total - c.warmup);
  const p = Math.min(1, Math.max(0, (t - c.warmup) / span));
  return minLr + 0.5 * (c.lr - minLr) * (1 + Math.cos(Math.PI * p));
}
