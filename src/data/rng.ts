// The corpus code's random numbers live in src/util/rng.ts (shared by every layer).
export * from '../util/rng.ts';
