// Cutting 48 kHz mono audio into FLAM's fixed 10 s windows (spec §2.1, §13.2). A window is exactly 480 000
// samples: shorter audio is zero-padded at the end, never time-stretched (the encoder's bicubic resize would
// otherwise silently stretch it); longer audio is cut at starts 0, hop, 2 hop, ... until a window reaches the end
// of the audio, the last one zero-padded. Each window knows its start time, and frame l (of L = 32 per window)
// covers [start + 0.3125 l, start + 0.3125 (l + 1)) seconds.

export const WINDOW_SAMPLES = 480000;
export const WINDOW_SAMPLE_RATE = 48000;
/** Seconds per output frame: 10 s / 32 frames. */
export const FRAME_SECONDS = 0.3125;

export interface AudioWindow {
  /** Index of the window in the cut. */
  index: number;
  /** First sample of the window in the source audio. */
  startSample: number;
  /** Start time in seconds (startSample / sampleRate). */
  start: number;
  /** How many samples came from the audio; the rest (up to windowSamples) are zero padding. */
  validSamples: number;
  /** Exactly windowSamples samples. */
  samples: Float32Array;
}

export interface WindowOptions {
  /** Samples between window starts; default 480000 (no overlap). Smaller values overlap, larger ones skip. */
  hop?: number;
  /** Default 480000. */
  windowSamples?: number;
  /** Default 48000 (only used for the start times). */
  sampleRate?: number;
  /** Names the source in error messages. */
  name?: string;
}

/** Cuts mono audio into windows of exactly windowSamples samples (see the file comment for the rule). */
export function cutWindows(audio: ArrayLike<number>, opts: WindowOptions = {}): AudioWindow[] {
  const name = opts.name ?? '<audio>';
  const W = opts.windowSamples ?? WINDOW_SAMPLES;
  const hop = opts.hop ?? W;
  const sr = opts.sampleRate ?? WINDOW_SAMPLE_RATE;
  if (!Number.isInteger(W) || W < 1) throw new Error(`cutWindows: window length ${W} must be a positive integer`);
  if (!Number.isInteger(hop) || hop < 1) throw new Error(`cutWindows: hop ${hop} must be a positive integer number of samples`);
  if (!(sr > 0) || !Number.isFinite(sr)) throw new Error(`cutWindows: sample rate ${sr} must be positive`);
  const n = audio.length;
  if (n === 0) throw new Error(`${name}: zero-length audio (no samples to cut into windows)`);
  const out: AudioWindow[] = [];
  for (let s = 0, index = 0; ; s += hop, index++) {
    const valid = Math.min(W, n - s);
    const samples = new Float32Array(W);
    for (let i = 0; i < valid; i++) samples[i] = audio[s + i];
    out.push({ index, startSample: s, start: s / sr, validSamples: valid, samples });
    if (s + W >= n || s + hop >= n) break;
  }
  return out;
}

/** Time span [start, end) in seconds of frame l of a window starting at windowStart seconds. */
export function frameInterval(windowStart: number, l: number, frameSeconds: number = FRAME_SECONDS): [number, number] {
  return [windowStart + frameSeconds * l, windowStart + frameSeconds * (l + 1)];
}
