// One tolerance table and one comparison helper for every numeric test (style.md: |a - r| <= atol + rtol*|r|,
// NaN/Inf must match; a failure prints max abs error, max rel error, mismatch count and the first 5 mismatches).

/** Tolerances. Changing one needs a comment saying why. */
export const TOL = {
  /** f32 forward of elementwise ops vs float64 reference. */
  forward: { atol: 1e-5, rtol: 1e-4 },
  /** f32 gradients vs float64 reference backward. */
  grad: { atol: 1e-4, rtol: 1e-3 },
  /** Central finite differences in float64 vs analytic float64 backward. */
  fd: { atol: 1e-6, rtol: 1e-5 },
  /** Reductions over K terms: atol grows with sqrt(K) (rounding error of an f32 sum of K terms). */
  reduce: (K: number) => ({ atol: 1e-6 * Math.sqrt(K) * 4, rtol: 1e-4 }),
  /**
   * Normalisations (layer norm): the f32 mean carries an error of half an ulp of max|x|, which (x - mean) * rstd
   * multiplies by rstd (up to 1/sqrt(eps) for nearly constant rows) and gamma: an error of the f32 format, not of the
   * kernel, so the bound scales with that condition number.
   */
  normalized: (maxAbsX: number, maxRstd: number, maxGamma: number) => ({ atol: 1e-5 + 2 * 2 ** -24 * maxAbsX * maxRstd * maxGamma, rtol: 1e-4 }),
  /** Exact integer ops (gather indices, copies). */
  exact: { atol: 0, rtol: 0 },
} as const;

export interface Tol { atol: number; rtol: number }

export function compareReport(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tol): string | null {
  if (got.length !== ref.length) return `${name}: length ${got.length} != reference length ${ref.length}`;
  let maxAbs = 0, maxRel = 0, bad = 0;
  const first: string[] = [];
  for (let i = 0; i < ref.length; i++) {
    const a = got[i], r = ref[i];
    let ok: boolean;
    if (Number.isNaN(r) || !Number.isFinite(r)) ok = Object.is(a, r) || (Number.isNaN(a) && Number.isNaN(r));
    else {
      const e = Math.abs(a - r);
      ok = e <= tol.atol + tol.rtol * Math.abs(r);
      if (!Number.isNaN(e)) { if (e > maxAbs) maxAbs = e; const rel = e / Math.max(Math.abs(r), 1e-30); if (rel > maxRel && Math.abs(r) > tol.atol) maxRel = rel; }
      if (Number.isNaN(a)) ok = false;
    }
    if (!ok) { bad++; if (first.length < 5) first.push(`[${i}] got ${a} want ${r}`); }
  }
  if (bad === 0) return null;
  return `${name}: ${bad}/${ref.length} mismatches (atol ${tol.atol}, rtol ${tol.rtol}); max abs err ${maxAbs.toExponential(3)}, max rel err ${maxRel.toExponential(3)}; first: ${first.join('; ')}`;
}

/** Throws with a full report when got and ref differ beyond tol. Returns the max abs difference. */
export function assertClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tol): number {
  const msg = compareReport(name, got, ref, tol);
  if (msg) throw new Error(msg);
  let m = 0;
  for (let i = 0; i < ref.length; i++) if (Number.isFinite(ref[i])) m = Math.max(m, Math.abs(got[i] - ref[i]));
  return m;
}

/** Deterministic PRNG (mulberry32) for test data. */
import { mulberry32 as rng } from '../../src/util/rng.ts';
export { rng };

/** n uniform values in [lo, hi) as float64, seeded. */
export function randn(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Asserts that the async fn rejects with a message matching re. */
export async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try { await fn(); } catch (e) {
    const m = String((e as Error)?.message ?? e);
    if (!re.test(m)) throw new Error(`expected a rejection matching ${re}, got: ${m}`);
    return;
  }
  throw new Error(`expected a rejection matching ${re}, but it resolved`);
}

/** Asserts that fn throws an Error whose message matches re; `label` names the case in the failure. */
export function throwsWith(fn: () => unknown, re: RegExp, label: string): void {
  try { fn(); } catch (e) {
    const msg = (e as Error).message;
    if (!re.test(msg)) throw new Error(`${label}: message ${JSON.stringify(msg)} does not match ${re}`);
    return;
  }
  throw new Error(`${label}: no error thrown`);
}
