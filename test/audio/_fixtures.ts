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

/**
 * Max |got - ref| over the log-mel bins whose reference lies within 60 dB and within 90 dB of the clip's peak
 * (issue 3: <= 1e-3 dB and <= 0.05 dB), and over all bins.
 */
export function dbErrors(got: ArrayLike<number>, ref: ArrayLike<number>) {
  let peak = -Infinity;
  for (let i = 0; i < ref.length; i++) peak = Math.max(peak, ref[i]);
  let e60 = 0, e90 = 0, all = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    if (!(e <= all)) all = Number.isNaN(e) ? Infinity : e;
    if (ref[i] >= peak - 60) e60 = Math.max(e60, e);
    if (ref[i] >= peak - 90) e90 = Math.max(e90, e);
  }
  return { peak, e60, e90, all };
}
