// Canvas drawing of the demo: the log-mel spectrogram (magma), one heat-map band per prompt (viridis, one colour
// per 0.3125 s frame, exact colours: no smoothing), and a time axis. Pure functions of the data.
import { viridis, magma } from '../index.ts';

/** Heat-map geometry shared with the page's labels and with the test's pixel checks. */
export const ROW_HEIGHT = 24;
export const ROW_GAP = 2;
export const PLOT_WIDTH = 800;
export const SPEC_HEIGHT = 128;

function context(c: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  if (c.width !== width) c.width = width;
  if (c.height !== height) c.height = height;
  c.style.width = `${width}px`; c.style.height = `${height}px`;
  const ctx = c.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  return ctx;
}

/**
 * Spectrogram of log-mel frames [frames][bins] (10 ms hop), `span` seconds across the canvas (frames past the
 * data are left white). Colours: magma over [max - 80 dB, max].
 */
export function drawSpectrogram(c: HTMLCanvasElement, mel: Float32Array, frames: number, bins: number, span: number): void {
  const W = PLOT_WIDTH, H = SPEC_HEIGHT;
  const ctx = context(c, W, H);
  const img = ctx.createImageData(W, H);
  img.data.fill(255);
  let mx = -Infinity;
  for (let i = 0; i < frames * bins; i++) if (mel[i] > mx) mx = mel[i];
  for (let x = 0; x < W; x++) {
    const t = Math.floor(((x + 0.5) / W) * span / 0.01);
    if (t >= frames) continue;
    for (let y = 0; y < H; y++) {
      const m = Math.min(bins - 1, Math.floor(((H - 1 - y) / H) * bins));
      const [r, g, b] = magma((mel[t * bins + m] - (mx - 80)) / 80);
      const o = (y * W + x) * 4;
      img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * Heat map: band p (ROW_HEIGHT px, the last ROW_GAP rows white) shows scores[p]; frame f (frameHop seconds)
 * covers x in [f, f + 1) * W * frameHop / span. Frames past a row's length (not scored yet) and NaN (dropped)
 * frames stay white.
 */
export function drawHeatmap(c: HTMLCanvasElement, scores: ArrayLike<number>[], frameHop: number, span: number): void {
  const W = PLOT_WIDTH, H = Math.max(1, scores.length) * ROW_HEIGHT;
  const ctx = context(c, W, H);
  const img = ctx.createImageData(W, H);
  img.data.fill(255);
  scores.forEach((row, p) => {
    for (let x = 0; x < W; x++) {
      const f = Math.floor(((x + 0.5) / W) * span / frameHop);
      if (f >= row.length || !Number.isFinite(row[f])) continue;
      const [r, g, b] = viridis(row[f]);
      for (let y = p * ROW_HEIGHT; y < (p + 1) * ROW_HEIGHT - ROW_GAP; y++) {
        const o = (y * W + x) * 4;
        img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b;
      }
    }
  });
  ctx.putImageData(img, 0, 0);
}

/** The x pixel at the centre of frame f's visible part (the last frame may run past `span`): for tests and overlays. */
export function frameCenterX(f: number, frameHop: number, span: number): number {
  const mid = (f * frameHop + Math.min((f + 1) * frameHop, span)) / 2;
  return Math.min(PLOT_WIDTH - 1, Math.floor((mid / span) * PLOT_WIDTH));
}

/** Time axis under the plots: a tick and a label every 1, 2, 5, 10, 30 or 60 s. */
export function drawAxis(c: HTMLCanvasElement, span: number): void {
  const W = PLOT_WIDTH, H = 22;
  const ctx = context(c, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#333'; ctx.strokeStyle = '#333';
  ctx.font = '11px system-ui, sans-serif';
  const step = [1, 2, 5, 10, 30, 60, 120, 300].find((s) => span / s <= 12) ?? 600;
  for (let s = 0; s <= span + 1e-9; s += step) {
    const x = Math.min(W - 1, Math.round((s / span) * W));
    ctx.fillRect(x, 0, 1, 5);
    const label = `${s} s`;
    const w = ctx.measureText(label).width;
    ctx.fillText(label, Math.max(0, Math.min(W - w, x - w / 2)), 17);
  }
}
