import { suite } from 'uvu';
import * as assert from 'uvu/assert';
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
