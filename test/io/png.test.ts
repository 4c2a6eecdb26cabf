import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { zlibSync } from 'fflate';
import { encodePng, decodePng } from '../../src/io/png.ts';
import { renderFigure } from '../../src/viz/figure.ts';
import { glyph } from '../../src/viz/font.ts';

const s = suite('png');

s('PNG round trip is exact and CRCs are checked', () => {
  const w = 7, h = 5;
  const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37) & 255);
  const png = encodePng(w, h, rgba);
  const back = decodePng(png);
  assert.is(back.width, w); assert.is(back.height, h);
  assert.equal([...back.rgba], [...rgba]);
  const bad = png.slice(); bad[40] ^= 1;
  assert.throws(() => decodePng(bad, 'bad.png'), /bad.png: CRC mismatch/);
  assert.throws(() => encodePng(2, 2, new Uint8Array(3)), /3 bytes for 2x2 RGBA/);
});

s('8-bit RGB PNGs (browser screenshots) decode to RGBA with alpha 255, every filter type', () => {
  const w = 5, h = 5;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 53 + 7) & 255);
  // rows filtered with types 0..4 (row y uses filter y), as an encoder may choose
  const raw = new Uint8Array(h * (w * 3 + 1));
  const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : rgb[y * w * 3 + x]);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = y;
    for (let x = 0; x < w * 3; x++) {
      const a = at(x - 3, y), b = at(x, y - 1), c = at(x - 3, y - 1);
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][y];
      raw[y * (w * 3 + 1) + 1 + x] = (rgb[y * w * 3 + x] - pred) & 255;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length), dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    let c = 0xffffffff;
    for (let i = 4; i < 8 + data.length; i++) { c ^= out[i]; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; }
    dv.setUint32(8 + data.length, (c ^ 0xffffffff) >>> 0);
    return out;
  };
  const ihdr = new Uint8Array(13); new DataView(ihdr.buffer).setUint32(0, w); new DataView(ihdr.buffer).setUint32(4, h);
  ihdr[8] = 8; ihdr[9] = 2;
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw)), chunk('IEND', new Uint8Array(0))];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0; for (const p of parts) { png.set(p, o); o += p.length; }
  const back = decodePng(png, 'rgb.png');
  assert.is(back.width, w);
  for (let i = 0; i < w * h; i++) assert.equal([...back.rgba.subarray(4 * i, 4 * i + 4)], [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], `pixel ${i}`);
  ihdr[9] = 4; // grey + alpha: unsupported, named
  const bad = new Uint8Array([...parts[0], ...chunk('IHDR', ihdr)]);
  assert.throws(() => decodePng(bad, 'ga.png'), /ga.png: only 8-bit RGBA or RGB/);
});

s('figure: spectrogram on top and one heat-map row per prompt with the score colours', () => {
  const T = 100, M = 64;
  const mel = Float32Array.from({ length: T * M }, (_, i) => -50 + (i % M));
  const scores = [Float32Array.from({ length: 32 }, (_, l) => (l < 16 ? 1 : 0)), new Float32Array(32)];
  const fig = renderFigure({ mel, melFrames: T, melBins: M, prompts: ['dog barking', 'siren'], scores, duration: 10 });
  const px = (x: number, y: number) => [...fig.rgba.subarray((y * fig.width + x) * 4, (y * fig.width + x) * 4 + 3)];
  // find the plot's left edge: first column after the labels whose heat row 0 pixel is not white
  const rowY = 8 + 128 + 4 + 10;
  let x0 = 0; while (x0 < fig.width && px(x0, rowY).every((v) => v === 255)) x0++;
  for (; x0 < fig.width; x0++) if (px(x0, rowY)[2] < 100 && px(x0, rowY)[1] > 200) break; // bright yellow of score 1
  assert.ok(x0 < fig.width, 'row 0 starts with score-1 colour');
  const right = fig.width - 20;
  assert.equal(px(right, rowY), [68, 1, 84], 'row 0 ends with score-0 colour');
  assert.equal(px(right, rowY + 28), [68, 1, 84], 'row 1 is all score-0 colour');
  assert.is(glyph('a').length, 7);
});

s.run();
