// Streaming detection (browser-safe): audio arrives in chunks (a microphone) at any sample rate, is resampled to
// 48 kHz incrementally and kept in a 10 s ring buffer. Every hop (a whole number of 0.3125 s frames, default
// 2.5 s) the last 10 s are scored as one window and its newest frames (those not emitted before) are emitted:
//
//   timeline  |----------------------|----|----|      t = 0 at the first pushed sample
//   window        [end - 10 s ............ end)      scored when `end` (a multiple of the hop) has arrived
//   emitted                               [prev end, end)
//
// While less than 10 s has arrived the window is [0, 10 s) zero-padded at the end, as detect() does with short
// audio, so each emission equals detect() on the window's audio (same kernels, same batch path). Latency: a
// frame is emitted at most hop + (scoring time) after its audio arrived. At most one window is scored at a time
// and at most one waits: when scoring is slower than real time the waiting window is replaced by the newest one
// (latency stays bounded) and frames that fell out of every scored window are reported as dropped.
import type { Flam } from '../model/flam.ts';
import type { BpeTokenizer } from '../text/bpe.ts';
import { extractEvents, medianFilter3, type EventOptions } from '../model/flamgram.ts';
import { StreamResampler } from '../audio/resample.ts';
import { FRAME_SECONDS, WINDOW_SAMPLES } from '../audio/windows.ts';
import { encodePrompts, scoreWindows, checkPrompts, type PromptEmbeddings, type DetectedPromptEvent } from './detect.ts';

const SR = 48000;
const FRAME_SAMPLES = FRAME_SECONDS * SR; // 15000
const L = 32;
const MEL_HOP_SECONDS = 0.01;

export interface StreamScores {
  /** Index of the first new frame; frame f covers [f, f + 1) x 0.3125 s after the first pushed sample. */
  startFrame: number;
  /** startFrame x frameHop, in seconds. */
  startTime: number;
  /** Seconds per frame (0.3125). */
  frameHop: number;
  /** Number of new frames (the same for every prompt). */
  frames: number;
  /** One row of new frame scores in (0, 1) per prompt. */
  scores: Float32Array[];
  /** Start of the 10 s window that scored these frames, in seconds. */
  windowStart: number;
  /**
   * Seconds of (48 kHz) audio that had arrived after the end of the newest frame when these scores were emitted:
   * the delay of the newest frame in audio time (0 when scoring kept up and no audio arrived meanwhile).
   */
  latency: number;
  /** Wall-clock milliseconds spent scoring the window. */
  computeMs: number;
  /** Frames between the previous emission and startFrame that no scored window covered (0 unless scoring fell behind). */
  dropped: number;
  /** Log-mel frames [frames x 64] (dB, before BatchNorm, 10 ms hop) of the new span, when withLogmel is set. */
  logmel?: { data: Float32Array; frames: number };
  /** True for the emission of flush(). */
  final: boolean;
}

export interface StreamOptions {
  /** Seconds between scored windows (default 2.5), rounded to whole 0.3125 s frames, between 0.3125 and 10. */
  hopSeconds?: number;
  /** Called with each batch of new frames, in timeline order. */
  onScores?: (s: StreamScores) => void;
  /** Called when scoring a window fails (the stream stops scoring; push() then throws). Default: rethrown by flush(). */
  onError?: (e: Error) => void;
  /** Also emit the log-mel of the new span (for a live spectrogram). */
  withLogmel?: boolean;
}

/** Accumulated scores of a stream (all emitted frames; dropped frames hold NaN). */
export interface StreamResult { frameHop: number; duration: number; prompts: string[]; scores: Float32Array[] }

interface Pending { end: number; final: boolean; window: Float32Array }

/**
 * Microphone-style detection: `push(chunk, sampleRate)` as audio arrives, scores come through `onScores`;
 * `flush()` scores what is left at the end. Text prompts are encoded once at construction; `dispose()` frees them.
 */
export class FlamStream {
  readonly prompts: string[];
  readonly hopSeconds: number;
  readonly frameHop = FRAME_SECONDS;
  private readonly hopSamples: number;
  private readonly te: PromptEmbeddings;
  private readonly opts: StreamOptions;
  private resampler: StreamResampler | null = null;
  /** The last WINDOW_SAMPLES samples at 48 kHz: sample i (absolute) at ring[i % WINDOW_SAMPLES]. */
  private readonly ring = new Float32Array(WINDOW_SAMPLES);
  private total = 0;
  private nextBoundary: number;
  private emitted = 0;
  private pending: Pending | null = null;
  /** End of the newest window enqueued so far. */
  private queuedEnd = 0;
  private running: Promise<void> | null = null;
  private error: Error | null = null;
  private flushed = false;
  private disposed = false;
  private rows: Float32Array[];
  private droppedTotal = 0;

  constructor(readonly model: Flam, tok: BpeTokenizer, prompts: readonly string[], opts: StreamOptions = {}) {
    checkPrompts(prompts);
    const hop = opts.hopSeconds ?? 2.5;
    if (!Number.isFinite(hop) || hop <= 0) throw new Error(`FlamStream: hopSeconds ${hop} must be a positive number of seconds`);
    const hopFrames = Math.min(L, Math.max(1, Math.round(hop / FRAME_SECONDS)));
    this.hopSeconds = hopFrames * FRAME_SECONDS;
    this.hopSamples = hopFrames * FRAME_SAMPLES;
    this.nextBoundary = this.hopSamples;
    this.prompts = prompts.slice();
    this.opts = opts;
    model.eval();
    if (!model.bn0.stats) throw new Error('FlamStream: the model has no bn0 statistics (load it with flamFromFile, or call model.bn0.syncStats())');
    this.te = encodePrompts(model, tok, this.prompts);
    this.rows = this.prompts.map(() => new Float32Array(64));
  }

  /** Seconds of audio received (after resampling to 48 kHz). */
  get receivedSeconds(): number { return this.total / SR; }
  /** Frames emitted so far (dropped ones included). */
  get emittedFrames(): number { return this.emitted; }
  /** Frames reported as dropped so far. */
  get droppedFrames(): number { return this.droppedTotal; }
  /** The input sample rate of the first push (null before). */
  get inputRate(): number | null { return this.resampler?.inRate ?? null; }

  /**
   * Append audio. `chunk`: mono samples at `sampleRate` (the same rate on every call; it is resampled to 48 kHz
   * incrementally). Returns at once; scoring runs in the background.
   */
  push(chunk: Float32Array, sampleRate: number): void {
    this.checkOpen('push');
    if (!(chunk instanceof Float32Array)) throw new Error('FlamStream.push: chunk must be a Float32Array of mono samples');
    if (!this.resampler) this.resampler = new StreamResampler(sampleRate, SR);
    else if (sampleRate !== this.resampler.inRate) throw new Error(`FlamStream.push: sample rate changed from ${this.resampler.inRate} Hz to ${sampleRate} Hz (start a new stream)`);
    for (let i = 0; i < chunk.length; i++) {
      if (!Number.isFinite(chunk[i])) throw new Error(`FlamStream.push: sample ${i} of the chunk is ${chunk[i]} (NaN or Inf audio)`);
    }
    this.append(this.resampler.push(chunk));
  }

  /**
   * The audio ended: score the remaining frames (the last window ends at the last frame that holds audio) and
   * wait until every emission is done. Rejects with the scoring error, if any.
   */
  async flush(): Promise<void> {
    this.checkOpen('flush');
    this.flushed = true;
    if (this.resampler) this.append(this.resampler.end());
    const endFrame = Math.ceil(this.total / FRAME_SAMPLES);
    if (endFrame * FRAME_SAMPLES > this.queuedEnd) this.enqueue(endFrame * FRAME_SAMPLES, true);
    await this.idle();
    if (this.error) throw this.error;
  }

  /** Resolves when no window is being scored or waiting. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Every emitted frame so far, per prompt (dropped frames are NaN). */
  result(): StreamResult {
    return { frameHop: FRAME_SECONDS, duration: this.total / SR, prompts: this.prompts.slice(), scores: this.rows.map((r) => r.slice(0, this.emitted)) };
  }

  /** Events over every emitted frame (threshold 0.5 by default; optional 3-tap median, default off). */
  events(o: EventOptions & { median?: boolean } = {}): DetectedPromptEvent[] {
    const { scores, duration } = this.result();
    const T = this.emitted;
    let rows = scores;
    if (o.median && T > 0) {
      const flat = new Float32Array(rows.length * T);
      rows.forEach((r, p) => flat.set(r, p * T));
      const m = medianFilter3(flat, rows.length, T);
      rows = rows.map((_, p) => m.slice(p * T, (p + 1) * T));
    }
    const out: DetectedPromptEvent[] = [];
    rows.forEach((row, p) => {
      for (const e of extractEvents(row, { ...o, hop: FRAME_SECONDS, start: 0 })) out.push({ prompt: this.prompts[p], onset: e.onset, offset: Math.min(e.offset, duration), score: e.peak });
    });
    return out.sort((a, b) => a.onset - b.onset || a.prompt.localeCompare(b.prompt));
  }

  /** Free the prompt embeddings. Waits for a window being scored. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.pending = null;
    await this.idle().catch(() => {});
    this.disposed = true;
    this.te.dispose();
  }

  private checkOpen(op: string): void {
    if (this.disposed) throw new Error(`FlamStream.${op}: the stream was disposed`);
    if (this.error) throw new Error(`FlamStream.${op}: scoring failed earlier: ${this.error.message}`, { cause: this.error });
    if (this.flushed && op !== 'flush') throw new Error(`FlamStream.${op}: the stream was flushed (start a new stream)`);
  }

  /** 48 kHz samples into the ring, snapshotting a window at every hop boundary. */
  private append(x: Float32Array): void {
    let at = 0;
    while (at < x.length) {
      const n = Math.min(x.length - at, this.nextBoundary - this.total);
      for (let i = 0; i < n; i++) this.ring[(this.total + i) % WINDOW_SAMPLES] = x[at + i];
      this.total += n; at += n;
      if (this.total === this.nextBoundary) {
        this.enqueue(this.total, false);
        this.nextBoundary += this.hopSamples;
      }
    }
  }

  /** Snapshot the window ending at `end` (a frame boundary) and schedule it, replacing a waiting one. */
  private enqueue(end: number, final: boolean): void {
    const start = Math.max(0, end - WINDOW_SAMPLES);
    const window = new Float32Array(WINDOW_SAMPLES);
    const have = Math.min(this.total, start + WINDOW_SAMPLES);
    for (let i = start; i < have; i++) window[i - start] = this.ring[i % WINDOW_SAMPLES];
    this.pending = { end, final, window };
    this.queuedEnd = end;
    if (!this.running) this.running = this.drain().finally(() => { this.running = null; });
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.error) {
      const job = this.pending;
      this.pending = null;
      try {
        await this.score(job);
      } catch (e) {
        this.error = e instanceof Error ? e : new Error(String(e));
        this.pending = null;
        if (this.opts.onError) this.opts.onError(this.error);
      }
    }
  }

  private async score(job: Pending): Promise<void> {
    const t0 = performance.now();
    const { scores, logmel } = await scoreWindows(this.model, this.te, [job.window], { withLogmel: this.opts.withLogmel });
    const computeMs = performance.now() - t0;
    const endFrame = job.end / FRAME_SAMPLES;
    const winStart = Math.max(0, job.end - WINDOW_SAMPLES);
    const winFrame0 = winStart / FRAME_SAMPLES;
    const from = Math.max(this.emitted, winFrame0);
    if (endFrame <= from) return;
    const dropped = from - this.emitted;
    const P = this.prompts.length, n = endFrame - from;
    this.grow(endFrame);
    for (let p = 0; p < P; p++) this.rows[p].fill(NaN, this.emitted, from);
    const rows = this.prompts.map((_, p) => {
      const r = scores.slice(p * L + (from - winFrame0), p * L + (endFrame - winFrame0));
      this.rows[p].set(r, from);
      return r;
    });
    this.emitted = endFrame;
    this.droppedTotal += dropped;
    let mel: StreamScores['logmel'];
    if (logmel) {
      const m0 = Math.round(((from - winFrame0) * FRAME_SECONDS) / MEL_HOP_SECONDS);
      const m1 = Math.min(1001, Math.round(((endFrame - winFrame0) * FRAME_SECONDS) / MEL_HOP_SECONDS));
      mel = { data: logmel.slice(m0 * 64, m1 * 64), frames: m1 - m0 };
    }
    const ev: StreamScores = {
      startFrame: from, startTime: from * FRAME_SECONDS, frameHop: FRAME_SECONDS, frames: n, scores: rows,
      windowStart: winStart / SR, latency: Math.max(0, this.total - job.end) / SR, computeMs, dropped, logmel: mel, final: job.final,
    };
    this.opts.onScores?.(ev);
  }

  private grow(frames: number): void {
    if (frames <= this.rows[0].length) return;
    const cap = Math.max(frames, 2 * this.rows[0].length);
    this.rows = this.rows.map((r) => { const b = new Float32Array(cap); b.set(r); return b; });
  }
}
