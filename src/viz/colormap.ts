// Perceptual colour maps sampled at a few anchor points (ours, piecewise-linear between anchors):
// viridis-like for scores in [0, 1], magma-like for spectrograms.
type Anchor = [number, number, number, number];
const VIRIDIS: Anchor[] = [[0, 68, 1, 84], [0.25, 59, 82, 139], [0.5, 33, 145, 140], [0.75, 94, 201, 98], [1, 253, 231, 37]];
const MAGMA: Anchor[] = [[0, 0, 0, 4], [0.25, 81, 18, 124], [0.5, 183, 55, 121], [0.75, 252, 137, 97], [1, 252, 253, 191]];

function sample(map: Anchor[], v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  for (let i = 1; i < map.length; i++) {
    if (x <= map[i][0]) {
      const [x0, r0, g0, b0] = map[i - 1], [x1, r1, g1, b1] = map[i];
      const t = (x - x0) / (x1 - x0);
      return [Math.round(r0 + t * (r1 - r0)), Math.round(g0 + t * (g1 - g0)), Math.round(b0 + t * (b1 - b0))];
    }
  }
  const l = map[map.length - 1];
  return [l[1], l[2], l[3]];
}
export const viridis = (v: number) => sample(VIRIDIS, v);
export const magma = (v: number) => sample(MAGMA, v);
