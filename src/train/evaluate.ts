// Evaluation of a FLAM model on labelled clips (browser-safe; the CLI supplies clips and label tables): frame
// scores for a prompt set (unbiased map, 3-tap median), frame AUROC pooled over (clip, prompt, frame), PSDS1/PSDS2
// (threshold-free, from the frame scores), reported separately for prompt groups (e.g. seen classes with held-out
// phrasings, held-out classes).
import type { Runtime } from '../gpu/runtime.ts';
import { scope } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/tape.ts';
import { keep } from '../tensor/tensor.ts';
import type { Flam } from '../model/flam.ts';
import type { BpeTokenizer } from '../text/bpe.ts';
import { flamgram } from '../model/flamgram.ts';
import { frameAuroc } from '../eval/auroc.ts';
import { psdsFromScores, PSDS1, PSDS2, type ScoreTrack } from '../eval/psds.ts';
import type { Event } from '../eval/tsv.ts';

export interface EvalPrompt { label: string; caption: string; group: string }
export interface EvalClip { filename: string; audio: Float32Array; events: { label: string; mask: number }[] }

export interface ScoredClips {
  prompts: EvalPrompt[];
  filenames: string[];
  /** [clips, prompts, L] frame scores. */
  scores: Float32Array;
  /** [clips, prompts, L] 0/1 frame labels. */
  labels: Uint8Array;
  L: number;
}

/** Score clips against prompts (text encoded once; clips in batches). */
export async function scoreClips(rt: Runtime, model: Flam, tok: BpeTokenizer, clips: AsyncIterable<EvalClip[]> | EvalClip[][], prompts: EvalPrompt[], o: { median?: boolean } = {}): Promise<ScoredClips> {
  const wasTraining = model.training;
  model.eval();
  const L = 32, P = prompts.length;
  const te = noGrad(() => { const e = model.textEmbeddings(prompts.map((p) => p.caption), tok); return { t: keep(e.t), alpha: keep(e.alpha), beta: keep(e.beta), u: e.u }; });
  const scores: number[][] = [], labels: Uint8Array[] = [], filenames: string[] = [];
  const labelIndex = new Map<string, number[]>();
  prompts.forEach((p, i) => { const l = labelIndex.get(p.label) ?? []; l.push(i); labelIndex.set(p.label, l); });
  try {
    for await (const batch of clips as AsyncIterable<EvalClip[]>) {
      const s = await scope(async () => noGrad(async () => {
        const a = model.audioEmbeddings(batch.map((c) => c.audio));
        return flamgram(a.local, te.t, te.alpha, te.beta, { method: 'unbiased', median: o.median ?? true }).data();
      }));
      batch.forEach((c, b) => {
        filenames.push(c.filename);
        scores.push(Array.from(s.subarray(b * P * L, (b + 1) * P * L)));
        const lab = new Uint8Array(P * L);
        for (const e of c.events) for (const pi of labelIndex.get(e.label) ?? []) for (let l = 0; l < L; l++) if ((e.mask >>> l) & 1) lab[pi * L + l] = 1;
        labels.push(lab);
      });
    }
  } finally {
    te.t.dispose(); te.alpha.dispose(); te.beta.dispose();
    if (wasTraining) model.train();
  }
  const N = filenames.length;
  const S = new Float32Array(N * P * L), Lb = new Uint8Array(N * P * L);
  scores.forEach((s, i) => S.set(s, i * P * L));
  labels.forEach((l, i) => Lb.set(l, i * P * L));
  void rt;
  return { prompts, filenames, scores: S, labels: Lb, L };
}

export interface GroupMetrics { prompts: number; auroc: number; psds1: number; psds2: number }

/**
 * Metrics per prompt group: frame AUROC pooled over (clip, prompt, frame) of the group's prompts, PSDS1/PSDS2
 * threshold-free over the group's classes, ground truth restricted to those classes. `truth` holds the events
 * (DCASE rows) of the scored clips; every clip lasts `duration` seconds.
 */
export function groupMetrics(sc: ScoredClips, truth: readonly Event[], duration = 10): Record<string, GroupMetrics> {
  const out: Record<string, GroupMetrics> = {};
  const groups = [...new Set(sc.prompts.map((p) => p.group)), 'all'];
  const P = sc.prompts.length, L = sc.L, N = sc.filenames.length;
  const ts = Array.from({ length: L + 1 }, (_, l) => (l * duration) / L);
  for (const g of groups) {
    const idx = sc.prompts.map((p, i) => [p, i] as const).filter(([p]) => g === 'all' || p.group === g);
    if (idx.length === 0) continue;
    const pooledS: number[] = [], pooledL: number[] = [];
    for (let n = 0; n < N; n++) for (const [, pi] of idx) for (let l = 0; l < L; l++) { pooledS.push(sc.scores[(n * P + pi) * L + l]); pooledL.push(sc.labels[(n * P + pi) * L + l]); }
    const auroc = frameAuroc([{ name: g, scores: pooledS, labels: pooledL }]).pooled;
    const labels = new Set(idx.map(([p]) => p.label));
    const tracks: ScoreTrack[] = sc.filenames.map((f, n) => {
      const scores: Record<string, Float32Array> = {};
      for (const [p, pi] of idx) {
        const row = sc.scores.subarray((n * P + pi) * L, (n * P + pi + 1) * L);
        // several prompts of one label: the frame-wise max
        scores[p.label] = scores[p.label] ? Float32Array.from(row, (v, l) => Math.max(v, scores[p.label][l])) : Float32Array.from(row);
      }
      return { filename: f, timestamps: ts, scores };
    });
    const files = new Set(sc.filenames);
    const gt = truth.filter((e) => labels.has(e.label) && files.has(e.filename));
    const meta = new Map(sc.filenames.map((f) => [f, duration] as [string, number]));
    const p1 = psdsFromScores(tracks, gt, meta, PSDS1).value;
    const p2 = psdsFromScores(tracks, gt, meta, PSDS2).value;
    out[g] = { prompts: idx.length, auroc, psds1: p1, psds2: p2 };
  }
  return out;
}
