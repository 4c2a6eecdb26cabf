// The detection figure (like the paper's): a log-mel spectrogram on top, one heat-map row per prompt below
// (frame scores in [0, 1], viridis), prompt labels on the left, a time axis in seconds. Returns RGBA pixels.
import { drawText, textWidth } from './font.ts';
import { viridis, magma } from './colormap.ts';

export interface FigureInput {
  /** Log-mel frames [T][M] row-major (dB), covering `duration` seconds. */
  mel: Float32Array; melFrames: number; melBins: number;
  /** One score row per prompt, each `scores[p].length` frames covering `duration`. */
  prompts: string[]; scores: ArrayLike<number>[];
  duration: number;
  /** Pixels per second of audio (default 80). */
  pxPerSecond?: number;
}

export function renderFigure(f: FigureInput): { width: number; height: number; rgba: Uint8Array } {
  if (f.prompts.length !== f.scores.length) throw new Error(`renderFigure: ${f.prompts.length} prompts but ${f.scores.length} score rows`);
  const pps = f.pxPerSecond ?? 80;
  const labelW = Math.min(260, Math.max(60, ...f.prompts.map((p) => textWidth(p, 2) + 12)));
  const plotW = Math.max(200, Math.round(f.duration * pps));
  const specH = 128, rowH = 28, axisH = 24, pad = 8;
  const width = labelW + plotW + pad, height = pad + specH + 4 + rowH * f.prompts.length + axisH;
  const img = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) { img[4 * i] = 255; img[4 * i + 1] = 255; img[4 * i + 2] = 255; img[4 * i + 3] = 255; }
  const put = (x: number, y: number, c: [number, number, number]) => { const o = (y * width + x) * 4; img[o] = c[0]; img[o + 1] = c[1]; img[o + 2] = c[2]; img[o + 3] = 255; };
  // spectrogram: dB range [max-80, max], low frequencies at the bottom
  let mx = -Infinity;
  for (const v of f.mel) if (v > mx) mx = v;
  for (let x = 0; x < plotW; x++) {
    const t = Math.min(f.melFrames - 1, Math.floor((x / plotW) * f.melFrames));
    for (let y = 0; y < specH; y++) {
      const m = Math.min(f.melBins - 1, Math.floor(((specH - 1 - y) / specH) * f.melBins));
      put(labelW + x, pad + y, magma((f.mel[t * f.melBins + m] - (mx - 80)) / 80));
    }
  }
  drawText(img, width, height, 'LOG-MEL', 6, pad + specH / 2 - 7, [40, 40, 40], 2);
  // heat-map rows
  const top = pad + specH + 4;
  f.prompts.forEach((p, r) => {
    const row = f.scores[r];
    const y0 = top + r * rowH;
    for (let x = 0; x < plotW; x++) {
      const i = Math.min(row.length - 1, Math.floor((x / plotW) * row.length));
      const c = viridis(row[i]);
      for (let y = 0; y < rowH - 2; y++) put(labelW + x, y0 + y, c);
    }
    const label = textWidth(p, 2) > labelW - 12 ? p.slice(0, Math.floor((labelW - 12) / 12) - 1) + '.' : p;
    drawText(img, width, height, label, 6, y0 + (rowH - 14) / 2, [20, 20, 20], 2);
  });
  // time axis: a tick and label every second (every 5 s past 20 s)
  const ay = top + rowH * f.prompts.length + 2;
  const step = f.duration > 20 ? 5 : 1;
  for (let s = 0; s <= f.duration + 1e-9; s += step) {
    const x = labelW + Math.min(plotW - 1, Math.round((s / f.duration) * plotW));
    for (let y = 0; y < 5; y++) put(x, ay + y, [0, 0, 0]);
    drawText(img, width, height, `${s}`, Math.max(labelW, x - 3), ay + 8, [0, 0, 0], 1);
  }
  return { width, height, rgba: img };
}
