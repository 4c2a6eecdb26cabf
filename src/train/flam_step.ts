// One FLAM training step (spec §8.3) on a SED batch, single encoder pass: the batch's clips give the local frames
// (L_SED, L_p) and the global embeddings (L_CLIP, each clip paired with one of its positive captions, distinct
// captions only). Two submits: forward + backward + gradient norm (one readback of the loss terms and the norm),
// then the clipped AdamW update.
import type { Runtime } from '../gpu/runtime.ts';
import { Tensor, scope, tensor } from '../tensor/tensor.ts';
import { backward } from '../autograd/tape.ts';
import { embedding, concat } from '../autograd/ops.ts';
import { sedTargets, flamLoss, FLAM_LOSS_WEIGHTS } from '../autograd/sim_loss.ts';
import { gradNormSquared, type AdamW } from './optim.ts';
import type { Flam } from '../model/flam.ts';
import type { BpeTokenizer } from '../text/bpe.ts';
import type { SedBatch } from '../data/loader.ts';

export interface StepOptions {
  lr: number; gradClip: number; weights?: Partial<Record<keyof typeof FLAM_LOSS_WEIGHTS, number>>; seed: number;
  /** Parameters not updated this step (their gradients are dropped before the norm and the update). */
  frozen?: ReadonlySet<Tensor>;
}
export interface StepStats { total: number; sed: number; prior: number; clip: number; gradNorm: number; clipPairs: number }

/** CLIP pairs (audio slot, text slot): each valid clip with one positive caption not taken by another clip. */
export function clipPairs(b: SedBatch): [number[], number[]] {
  const used = new Set<number>(), ai: number[] = [], ti: number[] = [];
  const byAudio = new Map<number, number[]>();
  for (let j = 0; j < b.positives.audio.length; j++) {
    const l = byAudio.get(b.positives.audio[j]) ?? [];
    l.push(b.positives.text[j]);
    byAudio.set(b.positives.audio[j], l);
  }
  for (let i = 0; i < b.A; i++) {
    if (!b.audioMask[i]) continue;
    const k = (byAudio.get(i) ?? []).find((k) => !used.has(k));
    if (k === undefined) continue;
    used.add(k); ai.push(i); ti.push(k);
  }
  return [ai, ti];
}

export async function flamTrainStep(rt: Runtime, model: Flam, tok: BpeTokenizer, opt: AdamW, b: SedBatch, o: StepOptions): Promise<StepStats> {
  const S = b.audio.length / b.A;
  const waves = Array.from({ length: b.A }, (_, i) => b.audio.subarray(i * S, (i + 1) * S));
  const [ai, ti] = clipPairs(b);
  const params = opt.params;
  // DropPath masks are drawn per step from the step's seed, so a resumed run draws the same ones
  model.audio_branch.setDropPathSeed(o.seed);
  const vals = await scope(async () => {
    const a = model.audioEmbeddings(waves, { seed: o.seed });
    const te = model.textEmbeddings(b.texts, tok);
    const targets = sedTargets(rt, b);
    let clip: { audio: Tensor; text: Tensor; logitScale: Tensor } | undefined;
    if (ai.length >= 2 && (o.weights?.clip ?? FLAM_LOSS_WEIGHTS.clip) > 0) {
      clip = {
        audio: embedding(a.global, tensor(rt, Uint32Array.from(ai), [ai.length], 'u32')),
        text: embedding(te.t, tensor(rt, Uint32Array.from(ti), [ti.length], 'u32')),
        logitScale: model.heads.logitScaleA,
      };
    }
    const l = flamLoss({ sed: { a: a.local, t: te.t, alpha: te.alpha, beta: te.beta, targets }, clip, weights: o.weights });
    backward(l.total);
    if (o.frozen) for (const p of o.frozen) if (p.grad) { p.grad.dispose(); p.grad = null; }
    const g2 = gradNormSquared(params);
    const parts = [l.total, l.sed, l.prior, l.clip ?? l.prior, g2].map((t) => t.reshape([1]));
    const v = await concat(parts, 0).data();
    targets.dispose();
    return v;
  });
  const gradNorm = Math.sqrt(vals[4]);
  if (!Number.isFinite(vals[0]) || !Number.isFinite(gradNorm)) {
    opt.zeroGrad();
    throw new Error(`training step: non-finite loss ${vals[0]} or gradient norm ${gradNorm}; the update was skipped`);
  }
  const scale = o.gradClip > 0 ? Math.min(1, o.gradClip / Math.max(gradNorm, 1e-12)) : 1;
  opt.update(o.lr, scale);
  opt.zeroGrad();
  rt.flush();
  return { total: vals[0], sed: vals[1], prior: vals[2], clip: ai.length >= 2 ? vals[3] : 0, gradNorm, clipPairs: ai.length };
}
