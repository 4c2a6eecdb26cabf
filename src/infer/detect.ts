// Sound event detection over audio of any length (browser-safe): 10 s windows with overlap, frame scores of every
// prompt (unbiased map) stitched onto one timeline of 0.3125 s frames (overlapping windows averaged), optional
// 3-tap median, events by threshold / gap merge / minimum duration.
import { scope, keep, type Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/tape.ts';
import type { Flam } from '../model/flam.ts';
import type { BpeTokenizer } from '../text/bpe.ts';
import { flamgram, medianFilter3, extractEvents } from '../model/flamgram.ts';
import { cutWindows, FRAME_SECONDS } from '../audio/windows.ts';

export interface DetectOptions {
  /** Seconds between window starts (default 5: 50 % overlap); snapped to whole frames. */
  hop?: number;
  threshold?: number;
  /** 3-tap temporal median on the stitched timeline (default true, as the reference example). */
  median?: boolean;
  minDuration?: number;
  mergeGap?: number;
  /** Windows per GPU batch (default 4). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  /** Also return the log-mel of each window's first hop (for figures). */
  withLogmel?: boolean;
}

export interface DetectedPromptEvent { prompt: string; onset: number; offset: number; score: number }

export interface DetectResult {
  duration: number;
  frameHop: number;
  prompts: string[];
  /** One score per frame of the stitched timeline, per prompt. */
  scores: Float32Array[];
  events: DetectedPromptEvent[];
  /** Log-mel frames [T, 64] covering the audio (10 ms hop), when asked. */
  logmel?: { data: Float32Array; frames: number };
}

/** Validate prompts: at least one, none empty. */
export function checkPrompts(prompts: readonly string[]): void {
  if (prompts.length === 0) throw new Error('no prompts given: pass at least one text prompt (e.g. --prompt "dog barking")');
  prompts.forEach((p, i) => { if (typeof p !== 'string' || p.trim() === '') throw new Error(`prompt ${i + 1} is empty: every prompt must contain text`); });
}

/** Text embeddings of the prompts, computed once and reused for every window (dispose() when done). */
export interface PromptEmbeddings { t: Tensor; alpha: Tensor; beta: Tensor; count: number; dispose(): void }

/** Encode prompts once (no gradients): unit text embeddings t [N, J], alpha [N], beta [N]. */
export function encodePrompts(model: Flam, tok: BpeTokenizer, prompts: readonly string[]): PromptEmbeddings {
  checkPrompts(prompts);
  const e = noGrad(() => scope(() => { const x = model.textEmbeddings(prompts, tok); return { t: x.t, alpha: x.alpha, beta: x.beta }; }));
  for (const x of [e.t, e.alpha, e.beta]) keep(x);
  return { ...e, count: prompts.length, dispose: () => { e.t.dispose(); e.alpha.dispose(); e.beta.dispose(); } };
}

/**
 * Frame scores of 10 s windows (each exactly 480000 samples at 48 kHz) against encoded prompts, in one GPU batch:
 * scores [B, N, 32] (unbiased map, no median), and the log-mel [B, 1001, 64] when asked. The model must be in
 * eval mode.
 */
export async function scoreWindows(model: Flam, te: PromptEmbeddings, windows: Float32Array[], o: { withLogmel?: boolean } = {}): Promise<{ scores: Float32Array; logmel: Float32Array | null }> {
  return scope(async () => noGrad(async () => {
    const image = model.frontend.run(windows, { output: o.withLogmel ? 'both' : 'image', bn: model.bn0.stats! });
    const a = model.audioEmbeddings(image.image!);
    const map = flamgram(a.local, te.t, te.alpha, te.beta, { method: 'unbiased', median: false });
    return { scores: await map.data() as Float32Array, logmel: o.withLogmel ? await image.logmel!.data() as Float32Array : null };
  }));
}

export async function detect(model: Flam, tok: BpeTokenizer, samples: Float32Array, prompts: string[], o: DetectOptions = {}): Promise<DetectResult> {
  checkPrompts(prompts);
  if (samples.length === 0) throw new Error('detect: the audio is empty');
  const sr = 48000;
  const hopFrames = Math.max(1, Math.round((o.hop ?? 5) / FRAME_SECONDS));
  const hopSamples = hopFrames * FRAME_SECONDS * sr;
  const wins = cutWindows(samples, { hop: hopSamples });
  const duration = samples.length / sr;
  const T = Math.max(1, Math.ceil(duration / FRAME_SECONDS - 1e-9));
  const P = prompts.length, L = 32;
  const acc = prompts.map(() => new Float64Array(T)), cnt = new Float64Array(T);
  const wasTraining = model.training;
  model.eval();
  const te = encodePrompts(model, tok, prompts);
  const melParts: Float32Array[] = [];
  try {
    const B = o.batch ?? 4;
    for (let w0 = 0; w0 < wins.length; w0 += B) {
      const group = wins.slice(w0, w0 + B);
      const { scores: s, logmel: lm } = await scoreWindows(model, te, group.map((w) => w.samples), { withLogmel: o.withLogmel });
      group.forEach((w, b) => {
        const f0 = Math.round(w.start / FRAME_SECONDS);
        for (let l = 0; l < L; l++) {
          const g = f0 + l;
          if (g >= T) break;
          cnt[g]++;
          for (let p = 0; p < P; p++) acc[p][g] += s[(b * P + p) * L + l];
        }
        if (lm) {
          // keep the window's first hop of 10 ms frames (the whole window for the last one)
          const last = w0 + b === wins.length - 1;
          const keepFrames = last ? Math.min(1001, Math.ceil((samples.length - w.startSample) / 480)) : Math.round(hopSamples / 480);
          melParts.push((lm as Float32Array).slice(b * 1001 * 64, b * 1001 * 64 + keepFrames * 64));
        }
      });
      o.onProgress?.(Math.min(w0 + B, wins.length), wins.length);
    }
  } finally {
    te.dispose();
    if (wasTraining) model.train();
  }
  let scores = acc.map((a) => Float32Array.from(a, (v, g) => (cnt[g] ? v / cnt[g] : 0)));
  if (o.median ?? true) {
    const flat = new Float32Array(P * T);
    scores.forEach((r, p) => flat.set(r, p * T));
    const m = medianFilter3(flat, P, T);
    scores = scores.map((_, p) => m.slice(p * T, (p + 1) * T));
  }
  const events: DetectedPromptEvent[] = [];
  scores.forEach((row, p) => {
    for (const e of extractEvents(row, { threshold: o.threshold ?? 0.5, minDuration: o.minDuration ?? 0, mergeGap: o.mergeGap ?? 0, hop: FRAME_SECONDS })) {
      events.push({ prompt: prompts[p], onset: e.onset, offset: Math.min(e.offset, duration), score: e.peak });
    }
  });
  events.sort((a, b) => a.onset - b.onset || a.prompt.localeCompare(b.prompt));
  let logmel: DetectResult['logmel'];
  if (o.withLogmel) {
    const total = melParts.reduce((s, x) => s + x.length, 0);
    const data = new Float32Array(total);
    let off = 0; for (const x of melParts) { data.set(x, off); off += x.length; }
    logmel = { data, frames: total / 64 };
  }
  return { duration, frameHop: FRAME_SECONDS, prompts, scores, events, logmel };
}
