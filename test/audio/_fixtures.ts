// Shared helpers for the audio tests (not a test file: the runner only loads *.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeNpy } from '../../src/io/npy.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'audio');

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** A float32/float64 .npy fixture (gunzipped first when the name ends in .gz). */
export function readNpyFixture(name: string): { shape: number[]; data: Float32Array | Float64Array } {
  let b = fixtureBytes(name);
  if (name.endsWith('.gz')) b = new Uint8Array(gunzipSync(b));
  const a = decodeNpy(b, name);
  if (!(a.data instanceof Float32Array || a.data instanceof Float64Array)) throw new Error(`${name}: expected float data, got ${a.descr}`);
  return { shape: a.shape, data: a.data };
}
