// Seeded random numbers: the one mulberry32 of the project (weight init, SpecAugment stripes, DropPath, the corpus
// builder, the simulator, the loaders, test data). Dependency-free and browser-safe, so every layer may import it.
//
// The generator is mulberry32: one 32-bit word of state, so a loader can save and restore it exactly (resumable
// training) and a clip can be regenerated from (seed, split, index) alone. Seeds for independent streams are
// derived by hashing their names ({@link hashSeed}), never by consuming one shared stream, so clip 7 of the
// validation split is the same whether 10 or 10 000 training clips were built before it.

/** FNV-1a over the UTF-16 code units of the parts (joined by U+0001), finished with a murmur3 avalanche. */
export function hashSeed(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  const s = parts.map(String).join('\u0001');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32 with a serialisable state. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed ${seed} is not a finite number`);
    this.s = seed >>> 0;
  }

  /** The whole state (a u32); `new Rng(r.state)` continues exactly where r is. */
  get state(): number { return this.s; }
  set state(v: number) { this.s = v >>> 0; }

  /** Next u32. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number { return this.u32() / 4294967296; }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.float(); }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    if (!(hi >= lo)) throw new Error(`Rng.int: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** One element, uniformly. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick: empty list');
    return xs[Math.floor(this.float() * xs.length)];
  }

  /** Standard normal (Box-Muller, one value per call). */
  normal(): number {
    const u = 1 - this.float(), v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(xs: A): A {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const t = xs[i]; xs[i] = xs[j]; xs[j] = t;
    }
    return xs;
  }
}

/** mulberry32 as a function returning uniforms in [0, 1) (the same stream as `new Rng(seed).float()`). */
export function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

/** A permutation of 0..n-1 determined by the seed. */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return new Rng(seed).shuffle(p);
}
