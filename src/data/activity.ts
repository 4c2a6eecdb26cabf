// Loudness and activity of one sound, the measurements behind the simulator's gains and frame labels
// (spec §9.3 steps 6-7). Browser-safe, pure functions on sample arrays.
//
//   level of a window  = 10 log10(mean of y^2 over the window) dB (dBFS: a full-scale square wave is 0 dB), where y is
//                        the A-weighted signal (IEC 61672 A curve, bilinear transform, 0 dB at 1 kHz) and windows are
//                        10 ms (480 samples at 48 kHz) on a grid anchored at sample 0 of the array (or `gridOffset`);
//   active window      = level >= (loudest window's level) + floorDb (default floorDb = -70 dB), and the same
//                        for the unweighted level (so the A filter's ringing after a sound stops is not activity);
//   active intervals   = runs of active windows; runs separated by less than `mergeGapS` (50 ms) are merged;
//   loudness           = 10 log10(mean of y^2 over the windows within `loudnessRangeDb` (40 dB) of the loudest one)
//                        i.e. the A-weighted RMS "while it sounds", so a 0.2 s click and a 5 s drone normalised to the
//                        same loudness are heard at comparable levels.
// The floor is relative to the sound's own loudest window, so an event's labels do not depend on the gain it is
// mixed at (within the 10 ms grid and the float rounding).

export const ANALYSIS_WINDOW_S = 0.01;
/** Default activity floor relative to the loudest window (dB). */
export const DEFAULT_FLOOR_DB = -70;
/** Default range below the loudest window that counts towards {@link loudnessDb} (dB). */
export const DEFAULT_LOUDNESS_RANGE_DB = 40;
/** Level assigned to a window of digital silence (dB). */
export const SILENCE_DB = -300;

/**
 * A-weighting filter for one sample rate: 6 first-order sections, zeros at z = 1 (x4) and z = -1 (x2) and the
 * bilinear images of the analog poles 20.6 Hz (x2), 107.7 Hz, 737.9 Hz, 12194 Hz (x2); gain set so |H| = 1 at 1 kHz.
 */
export class AWeighting {
  readonly sampleRate: number;
  private readonly poles: Float64Array;
  private readonly zeros: Float64Array;
  private readonly gain: number;

  constructor(sampleRate: number) {
    if (!(sampleRate > 0)) throw new Error(`AWeighting: bad sample rate ${sampleRate}`);
    this.sampleRate = sampleRate;
    const fs = sampleRate;
    const analog = [20.598997, 20.598997, 107.65265, 737.86223, 12194.217, 12194.217];
    this.poles = Float64Array.from(analog, (f) => {
      const p = -2 * Math.PI * f; // s-plane pole
      return (1 + p / (2 * fs)) / (1 - p / (2 * fs));
    });
    this.zeros = Float64Array.from([1, 1, 1, 1, -1, -1]);
    // |H(e^{jw})| at 1 kHz without gain.
    const w = (2 * Math.PI * 1000) / fs;
    const cr = Math.cos(w), ci = -Math.sin(w); // z^-1
    let mag = 1;
    for (let i = 0; i < 6; i++) {
      const nr = 1 - this.zeros[i] * cr, ni = -this.zeros[i] * ci;
      const dr = 1 - this.poles[i] * cr, di = -this.poles[i] * ci;
      mag *= Math.hypot(nr, ni) / Math.hypot(dr, di);
    }
    this.gain = 1 / mag;
  }

  /** Filters x[from, to) (zero initial state) into a new Float64Array: the 6 sections in one pass. */
  apply(x: ArrayLike<number>, from = 0, to = x.length): Float64Array {
    const n = to - from;
    const y = new Float64Array(n);
    const g = this.gain;
    const [z0, z1, z2, z3, z4, z5] = this.zeros;
    const [p0, p1, p2, p3, p4, p5] = this.poles;
    let x0 = 0, x1 = 0, x2 = 0, x3 = 0, x4 = 0, x5 = 0;
    let y0 = 0, y1 = 0, y2 = 0, y3 = 0, y4 = 0, y5 = 0;
    for (let i = 0; i < n; i++) {
      let v = x[from + i] * g, o: number;
      o = v - z0 * x0 + p0 * y0; x0 = v; y0 = o; v = o;
      o = v - z1 * x1 + p1 * y1; x1 = v; y1 = o; v = o;
      o = v - z2 * x2 + p2 * y2; x2 = v; y2 = o; v = o;
      o = v - z3 * x3 + p3 * y3; x3 = v; y3 = o; v = o;
      o = v - z4 * x4 + p4 * y4; x4 = v; y4 = o; v = o;
      o = v - z5 * x5 + p5 * y5; x5 = v; y5 = o;
      y[i] = o;
    }
    return y;
  }
}

const weightCache = new Map<number, AWeighting>();
function aWeighting(sr: number): AWeighting {
  let w = weightCache.get(sr);
  if (!w) weightCache.set(sr, (w = new AWeighting(sr)));
  return w;
}

/** Options of {@link windowLevels}. */
export interface LevelOptions {
  sampleRate?: number;
  /** 'A' (default) or 'none'. */
  weighting?: 'A' | 'none';
  /** Window length in samples (default 10 ms). */
  window?: number;
  /**
   * Position of `x[0]` on the window grid, in samples: window w covers absolute samples [w*window, (w+1)*window),
   * and `x` starts at absolute sample `gridOffset`. Default 0.
   */
  gridOffset?: number;
}

/** Per-window levels of a sound. */
export interface WindowLevels {
  /** dB per window (SILENCE_DB for digital silence). */
  db: Float64Array;
  /** Mean square per window (of the weighted signal). */
  ms: Float64Array;
  /** dB per window of the unweighted signal (only with A-weighting). */
  rawDb?: Float64Array;
  /** Absolute index of window 0 on the grid. */
  firstWindow: number;
  window: number;
  /** Absolute sample range covered by the input, [start, end). */
  start: number;
  end: number;
}

/** Levels of the (A-weighted) signal per grid window; partial windows at the ends average over their samples. */
export function windowLevels(x: ArrayLike<number>, opts: LevelOptions = {}): WindowLevels {
  const sr = opts.sampleRate ?? 48000;
  const win = opts.window ?? Math.round(sr * ANALYSIS_WINDOW_S);
  const off = opts.gridOffset ?? 0;
  // Always a Float64Array, so the loop below sees one array type (a polymorphic loop is several times slower).
  const weighted = (opts.weighting ?? 'A') === 'A';
  const y: Float64Array = weighted ? aWeighting(sr).apply(x) : Float64Array.from(x);
  const raw: Float64Array | null = weighted ? Float64Array.from(x) : null;
  const start = off, end = off + x.length;
  const w0 = Math.floor(start / win), w1 = Math.ceil(end / win);
  const nw = Math.max(0, w1 - w0);
  const ms = new Float64Array(nw), db = new Float64Array(nw);
  const rawDb = raw ? new Float64Array(nw) : undefined;
  for (let w = 0; w < nw; w++) {
    const a = Math.max(start, (w0 + w) * win), b = Math.min(end, (w0 + w + 1) * win);
    let s = 0, r = 0;
    for (let i = a - off, e = b - off; i < e; i++) { const v = y[i]; s += v * v; }
    ms[w] = b > a ? s / (b - a) : 0;
    db[w] = ms[w] > 0 ? 10 * Math.log10(ms[w]) : SILENCE_DB;
    if (raw && rawDb) {
      for (let i = a - off, e = b - off; i < e; i++) { const v = raw[i]; r += v * v; }
      rawDb[w] = r > 0 ? 10 * Math.log10(r / (b - a)) : SILENCE_DB;
    }
  }
  return { db, ms, rawDb, firstWindow: w0, window: win, start, end };
}

/** Loudest window level (dB), SILENCE_DB when silent. */
export function peakLevelDb(l: WindowLevels): number {
  let m = SILENCE_DB;
  for (let i = 0; i < l.db.length; i++) if (l.db[i] > m) m = l.db[i];
  return m;
}

/** Loudness (dB): weighted RMS over the windows within `rangeDb` of the loudest one. SILENCE_DB when silent. */
export function loudnessDb(l: WindowLevels, rangeDb = DEFAULT_LOUDNESS_RANGE_DB): number {
  const peak = peakLevelDb(l);
  if (peak <= SILENCE_DB) return SILENCE_DB;
  let s = 0, n = 0;
  for (let i = 0; i < l.db.length; i++) if (l.db[i] >= peak - rangeDb) { s += l.ms[i]; n++; }
  return 10 * Math.log10(s / n);
}

/** Options of {@link activeIntervals}. */
export interface ActivityOptions {
  /** Floor relative to the loudest window (dB, default -70). */
  floorDb?: number;
  /** Runs separated by gaps shorter than this (seconds) are merged (default 0.05). */
  mergeGapS?: number;
  sampleRate?: number;
}

/**
 * Active intervals [start, end) in absolute samples: runs of windows at or above peak + floorDb, clipped to the
 * input's range, gaps shorter than mergeGapS merged. Empty for a silent input.
 */
export function activeIntervals(l: WindowLevels, opts: ActivityOptions = {}): [number, number][] {
  const floor = opts.floorDb ?? DEFAULT_FLOOR_DB;
  const sr = opts.sampleRate ?? 48000;
  const gap = Math.round((opts.mergeGapS ?? 0.05) * sr);
  const peak = peakLevelDb(l);
  const out: [number, number][] = [];
  if (peak <= SILENCE_DB) return out;
  const thr = peak + floor;
  // With A-weighting a window must pass the floor both weighted (audible) and unweighted (the sound is there: the
  // A filter's 20 Hz poles ring for ~60 ms down to -70 dB after a sound stops, which is not sound).
  const raw = l.rawDb;
  let rawThr = SILENCE_DB;
  if (raw) { let m = SILENCE_DB; for (let i = 0; i < raw.length; i++) if (raw[i] > m) m = raw[i]; rawThr = m + floor; }
  let run = -1;
  for (let w = 0; w <= l.db.length; w++) {
    const on = w < l.db.length && l.db[w] >= thr && l.ms[w] > 0 && (!raw || raw[w] >= rawThr);
    if (on && run < 0) run = w;
    else if (!on && run >= 0) {
      const a = Math.max(l.start, (l.firstWindow + run) * l.window);
      const b = Math.min(l.end, (l.firstWindow + w) * l.window);
      const last = out[out.length - 1];
      if (last && a - last[1] < gap) last[1] = b;
      else out.push([a, b]);
      run = -1;
    }
  }
  return out;
}

/**
 * Frame mask (bit l set = frame l active) of intervals given in samples: frame l covers samples
 * [l*frame, (l+1)*frame) and is active when an interval overlaps it with positive length. `frames` <= 32.
 */
export function frameMask(intervals: readonly (readonly [number, number])[], frame: number, frames = 32): number {
  if (frames > 32) throw new Error(`frameMask: ${frames} frames do not fit a u32`);
  let m = 0;
  for (const [a, b] of intervals) {
    if (!(b > a)) continue;
    const l0 = Math.max(0, Math.floor(a / frame));
    const l1 = Math.min(frames - 1, Math.ceil(b / frame) - 1);
    for (let l = l0; l <= l1; l++) m |= 1 << l;
  }
  return m >>> 0;
}
