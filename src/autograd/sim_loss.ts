// FLAM's losses as differentiable ops (spec §7): the chunked frame-wise sigmoid loss L_SED (fused kernels, never
// materialising [A, K, L]), its naive composition (kept for tests and benches), the prior loss L_p, the CLIP
// InfoNCE loss with a learnable temperature, and the weighted total L = w_clip L_CLIP + w_sed L_SED + w_p L_p.
//
// Backward rules (derivations in kernels/sim_loss.wgsl.ts and spec §7.5), upstream gradient g (a scalar):
//   L_SED: da = g * sum_k G alpha_k t_k (pass 1, computed in the forward and scaled here), dt = g * alpha_k sum G a,
//          dalpha = g * sum G <a, t> (pass 2), G = w (sigmoid(h) - q); beta is detached (no gradient).
//   L_p = sum_k v_k (softplus(beta_k) - r_k beta_k): dbeta_k = g v_k (sigmoid(beta_k) - r_k)  (composed ops).
//   L_CLIP on Z = tau A T^T: dZ = g (softmax_rows(Z) + softmax_cols(Z) - 2I) / (2N); the chain to A, T and
//          logit_scale (tau = exp(logit_scale)) is left to matmul/mul/exp.
import { Tensor, empty, tensor, keep } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { record, needsGrad } from './tape.ts';
import { matmul, mul, add, sub, exp, softplus, sumAll } from './ops.ts';
import {
  packSedLabels, sedRowsOp, sedColsOp, sedScaleOp, sedRowTileOp, chooseSedDesign, clipLossOp, clipLossBackwardOp, countNonFiniteOp,
  type SedLabels, type PackedSedLabels, type SedTiles, type SedDesign,
} from '../ops/sim_loss.ts';
import { fmt } from '../ops/common.ts';

export type { SedLabels, PackedSedLabels, SedTiles, SedDesign };
export { labelsFromOwners, packSedLabels, chooseSedTiles, chooseSedDesign } from '../ops/sim_loss.ts';

/** Loss weights of the total (spec §7.4): gamma_CLIP = 1, gamma_SED = 200, gamma_p = 1. */
export const FLAM_LOSS_WEIGHTS = Object.freeze({ clip: 1, sed: 200, prior: 1 });

/** Compact SED labels uploaded once per batch (a u32 tensor, see kernels/sim_loss.wgsl.ts), plus the CPU copy. */
export class SedTargets {
  readonly lab: Tensor;
  constructor(rt: Runtime, readonly packed: PackedSedLabels) {
    this.lab = keep(tensor(rt, packed.lab, [packed.lab.length], 'u32'));
  }
  get A(): number { return this.packed.A; }
  get K(): number { return this.packed.K; }
  get L(): number { return this.packed.L; }
  dispose(): void { this.lab.dispose(); }
}

/** Validate and upload compact labels (errors name the bad pair, e.g. frame bits beyond L). */
export function sedTargets(rt: Runtime, labels: SedLabels): SedTargets {
  return new SedTargets(rt, packSedLabels(labels));
}

/** A handle on the same storage that never records gradients (PyTorch's .detach()). */
export function detach(t: Tensor): Tensor {
  t.check('detach');
  t.storage.retain();
  return new Tensor(t.storage, t.shape.slice(), t.dtype, t.offset);
}

interface SedInputs { A: number; K: number; L: number; D: number; rt: Runtime }

function checkSedInputs(op: string, a: Tensor, t: Tensor, alpha: Tensor, beta: Tensor, tg: SedTargets): SedInputs {
  for (const [n, x] of [['a', a], ['t', t], ['alpha', alpha], ['beta', beta]] as const) {
    x.check(op);
    if (x.dtype !== 'f32') throw new Error(`${op}: ${n} must be f32, got ${x.dtype} ${fmt(x.shape)}`);
  }
  tg.lab.check(op);
  const rt = a.rt;
  for (const x of [t, alpha, beta, tg.lab]) if (x.rt !== rt) throw new Error(`${op}: inputs live on different devices`);
  if (a.rank !== 3) throw new Error(`${op}: audio embeddings a must be [A, L, D], got ${fmt(a.shape)}`);
  if (t.rank !== 2) throw new Error(`${op}: text embeddings t must be [K, D], got ${fmt(t.shape)}`);
  const [A, L, D] = a.shape;
  const [K, Dt] = t.shape;
  if (A === 0 || K === 0 || L === 0) throw new Error(`${op}: empty batch: a ${fmt(a.shape)}, t ${fmt(t.shape)}`);
  if (Dt !== D) throw new Error(`${op}: embedding dims differ: audio a ${fmt(a.shape)} has D = ${D}, text t ${fmt(t.shape)} has D = ${Dt}`);
  if (alpha.size !== K || beta.size !== K) throw new Error(`${op}: alpha ${fmt(alpha.shape)} and beta ${fmt(beta.shape)} must have K = ${K} elements (one per text of t ${fmt(t.shape)})`);
  if (tg.A !== A || tg.K !== K || tg.L !== L) throw new Error(`${op}: labels are for A = ${tg.A}, K = ${tg.K}, L = ${tg.L} but a ${fmt(a.shape)} and t ${fmt(t.shape)} give A = ${A}, K = ${K}, L = ${L}`);
  return { A, K, L, D, rt };
}

export interface SedLossOptions {
  /** Loss weight gamma multiplied into the loss (default 1: plain L_SED). */
  weight?: number;
  /** Chunked design (default chooseSedDesign(rt)): 'fused' two-pass kernels or 'rowtile' matmul row chunks. */
  design?: SedDesign;
  /** Force register blocks of the fused design (benchmarks, tests). */
  tiles?: SedTiles;
  /** Rows per chunk of the row-tile design (default: an 8 MiB [R, K] tile). */
  chunkRows?: number;
}

/**
 * Chunked frame-wise sigmoid loss (spec §7.2, local term) times `weight`: a [A, L, D] local audio embeddings,
 * t [K, D] text embeddings, alpha [K] per-text scales, beta [K] per-text biases (detached), compact labels.
 * Returns a [1] tensor; gradients flow to a, t and alpha. Never allocates [A, K, L]. The gradients are computed
 * with the loss (they share its logit tiles) and kept until backward, which scales them by the upstream gradient
 * in place: 'fused' keeps dL/da and runs pass 2 in backward; 'rowtile' keeps dL/da, dL/dt, dL/dalpha.
 */
export function sedLoss(a: Tensor, t: Tensor, alpha: Tensor, beta: Tensor, targets: SedTargets, o: SedLossOptions = {}): Tensor {
  const op = 'sed_loss';
  const { A, K, L, D, rt } = checkSedInputs(op, a, t, alpha, beta, targets);
  const weight = o.weight ?? 1;
  if (!Number.isFinite(weight)) throw new Error(`${op}: weight ${weight} is not finite`);
  const pk = targets.packed;
  const sc = weight / (L * pk.nValidPairs);
  const design = o.design ?? chooseSedDesign(rt);
  const loss = empty(rt, [1], 'f32', op);
  const aReq = needsGrad(a), tReq = needsGrad(t), alReq = needsGrad(alpha);
  const b = (x: Tensor) => x.binding(op);
  if (design === 'rowtile') {
    const da = aReq ? empty(rt, [A, L, D], 'f32', 'sed-da') : null;
    const dt = tReq ? empty(rt, [K, D], 'f32', 'sed-dt') : null;
    const dal = alReq ? empty(rt, alpha.shape, 'f32', 'sed-dalpha') : null;
    sedRowTileOp(rt, b(a), b(t), b(alpha), b(beta), b(targets.lab), pk, D, sc,
      { loss: loss.binding(), da: da?.binding(), dt: dt?.binding(), dalpha: dal?.binding() }, { chunkRows: o.chunkRows });
    const grads = [da, dt, dal];
    if (aReq || tReq || alReq) {
      const kept = grads.filter((x): x is Tensor => !!x);
      record(loss, op, [a, t, alpha], (g, saved) => {
        let j = 0;
        return grads.map((x) => {
          if (!x) return null;
          const s = saved[j++];
          const h = s.reshape(s.shape as number[]);    // a new handle on the saved gradient, scaled in place by g
          sedScaleOp(rt, h.binding(), g.binding(), h.size);
          return h;
        });
      }, kept);
      for (const x of kept) x.dispose();
    }
    return loss;
  }
  if (design !== 'fused') throw new Error(`${op}: unknown design '${design}' (expected 'fused' or 'rowtile')`);
  const da = aReq ? empty(rt, [A, L, D], 'f32', 'sed-da') : null;
  sedRowsOp(rt, b(a), b(t), b(alpha), b(beta), b(targets.lab), pk, loss.binding(), da ? da.binding() : null, D, sc, o.tiles);
  if (aReq || tReq || alReq) {
    record(loss, op, [a, t, alpha], (g, saved) => {
      const [as, ts, als, bes, labs, das] = saved;
      const res: (Tensor | null)[] = [null, null, null];
      if (aReq && das) {
        const dA = das.reshape([A, L, D]);        // a new handle on the saved dL/da, scaled in place by g
        sedScaleOp(rt, dA.binding(), g.binding(), A * L * D);
        res[0] = dA;
      }
      if (tReq || alReq) {
        const dT = empty(rt, [K, D], 'f32', 'sed-dt'), dAl = empty(rt, alpha.shape, 'f32', 'sed-dalpha');
        sedColsOp(rt, as.binding(), ts.binding(), als.binding(), bes.binding(), labs.binding(), pk, g.binding(), dT.binding(), dAl.binding(), D, sc, o.tiles);
        res[1] = tReq ? dT : null;
        res[2] = alReq ? dAl : null;
      }
      return res;
    }, [a, t, alpha, beta, targets.lab, ...(da ? [da] : [])]);
  }
  da?.dispose();
  return loss;
}

/** Bytes of one [A*L, K] f32 tensor of the naive path. */
export function naiveTileBytes(A: number, K: number, L: number): number { return A * L * K * 4; }

/**
 * The naive L_SED: materialises the [A*L, K] logits and every elementwise intermediate with existing ops
 * (matmul, mul, add, softplus, sumAll), with dense labels and weights; autograd does the backward. Kept as the
 * baseline for tests and benches. Refused (before anything is allocated) when [A*L, K] exceeds the device's
 * storage binding limit.
 */
export function sedLossNaive(a: Tensor, t: Tensor, alpha: Tensor, beta: Tensor, targets: SedTargets, o: { weight?: number } = {}): Tensor {
  const op = 'sed_loss naive';
  const { A, K, L, D, rt } = checkSedInputs(op, a, t, alpha, beta, targets);
  const bytes = naiveTileBytes(A, K, L);
  const lim = rt.limits.maxStorageBufferBindingSize;
  if (bytes > lim) throw new Error(`${op}: the [A*L, K] = [${A * L}, ${K}] logit tensor needs ${bytes} bytes, over the device's maxStorageBufferBindingSize ${lim}; use the chunked sedLoss`);
  const pk = targets.packed;
  const sc = (o.weight ?? 1) / (L * pk.nValidPairs);
  const negY = new Float32Array(A * L * K).fill(1);       // -y = 1 - 2q
  for (let n = 0; n < pk.pairAudio.length; n++) {
    const i = pk.pairAudio[n], k = pk.pairText[n], m = pk.pairMask[n];
    for (let l = 0; l < L; l++) if ((m >>> l) & 1) negY[(i * L + l) * K + k] = -1;
  }
  const rowW = new Float32Array(A * L), colW = new Float32Array(K);
  for (let i = 0; i < A; i++) rowW.fill(pk.audioValid[i] * sc, i * L, (i + 1) * L);
  for (let k = 0; k < K; k++) colW[k] = pk.textValid[k];
  const S = matmul(a.reshape([A * L, D]), t, { transB: true });
  const H = add(mul(S, alpha.reshape([K])), detach(beta).reshape([K]));
  const sp = softplus(mul(H, tensor(rt, negY, [A * L, K])));
  return sumAll(mul(mul(sp, tensor(rt, rowW, [A * L, 1])), tensor(rt, colW, [K])));
}

/**
 * Prior loss L_p (spec §7.3) times `weight`: sum_k m^t_k (softplus(beta_k) - r_k beta_k) / sum_k m^t_k with
 * r_k = P_k / (audioCount * L), P_k the positive frames of text k, audioCount = unmasked audios (override for
 * audios gathered from other devices). Gradient flows to beta.
 */
export function priorLoss(beta: Tensor, targets: SedTargets, o: { weight?: number; audioCount?: number } = {}): Tensor {
  const op = 'prior_loss';
  beta.check(op);
  const pk = targets.packed;
  if (beta.size !== pk.K) throw new Error(`${op}: beta ${fmt(beta.shape)} must have K = ${pk.K} elements (the labels' text slots)`);
  const nA = o.audioCount ?? pk.nValidAudio;
  if (!(nA > 0)) throw new Error(`${op}: empty batch: no unmasked audio (audioCount = ${nA})`);
  const w = (o.weight ?? 1) / pk.nValidText;
  const r = new Float32Array(pk.K), v = new Float32Array(pk.K);
  for (let k = 0; k < pk.K; k++) { r[k] = pk.positiveFrames[k] / (nA * pk.L); v[k] = pk.textValid[k] * w; }
  const rt = beta.rt;
  const b = beta.reshape([pk.K]);
  return sumAll(mul(sub(softplus(b), mul(b, tensor(rt, r, [pk.K]))), tensor(rt, v, [pk.K])));
}

/** Fused symmetric cross-entropy of CLIP logits z [N, N] (diagonal = positives) times weight. */
export function clipCrossEntropy(z: Tensor, weight = 1): Tensor {
  const op = 'clip_loss';
  z.check(op);
  if (z.rank !== 2 || z.shape[0] !== z.shape[1]) throw new Error(`${op}: logits must be square [N, N], got ${fmt(z.shape)}`);
  const N = z.shape[0];
  if (N === 0) throw new Error(`${op}: empty batch (N = 0)`);
  const rt = z.rt;
  const lse = empty(rt, [2 * N], 'f32', 'clip-lse'), loss = empty(rt, [1], 'f32', op);
  clipLossOp(rt, z.binding(), lse.binding(), loss.binding(), N, weight);
  if (needsGrad(z)) {
    record(loss, op, [z], (g, [zs, ls]) => {
      const dz = empty(rt, [N, N], 'f32', 'clip-dz');
      clipLossBackwardOp(rt, zs.binding(), ls.binding(), g.binding(), dz.binding(), N, weight);
      return [dz];
    }, [z, lse]);
  }
  lse.dispose();
  return loss;
}

/**
 * CLIP InfoNCE loss (spec §7.1) times `weight`: audio [N, D] and text [N, D] global embeddings (pairs on the
 * diagonal), logitScale [1] = log tau (learnable, not clamped). Z = exp(logitScale) * audio text^T.
 */
export function clipLoss(audio: Tensor, text: Tensor, logitScale: Tensor, o: { weight?: number } = {}): Tensor {
  const op = 'clip_loss';
  for (const x of [audio, text, logitScale]) x.check(op);
  if (audio.rank !== 2 || text.rank !== 2) throw new Error(`${op}: audio and text embeddings must be [N, D], got ${fmt(audio.shape)} and ${fmt(text.shape)}`);
  if (audio.shape[1] !== text.shape[1]) throw new Error(`${op}: embedding dims differ: audio ${fmt(audio.shape)} vs text ${fmt(text.shape)}`);
  if (audio.shape[0] !== text.shape[0]) throw new Error(`${op}: ${audio.shape[0]} audios but ${text.shape[0]} captions (CLIP pairs row i with row i)`);
  if (audio.shape[0] === 0) throw new Error(`${op}: empty batch (N = 0)`);
  if (logitScale.size !== 1) throw new Error(`${op}: logitScale must hold one value, got ${fmt(logitScale.shape)}`);
  const z = mul(matmul(audio, text, { transB: true }), exp(logitScale.reshape([1])));
  return clipCrossEntropy(z, o.weight ?? 1);
}

export interface FlamLossInputs {
  /** Global batch for L_CLIP (omit to drop the term, `no_global_loss`). */
  clip?: { audio: Tensor; text: Tensor; logitScale: Tensor };
  /** SED batch: local audio embeddings [A, L, D], text embeddings [K, D], alpha [K], beta [K], labels. */
  sed: { a: Tensor; t: Tensor; alpha: Tensor; beta: Tensor; targets: SedTargets };
  weights?: Partial<Record<keyof typeof FLAM_LOSS_WEIGHTS, number>>;
  /** Use the naive [A, K, L] path for L_SED (tests and benches). */
  naive?: boolean;
}

/** L = w_clip L_CLIP + w_sed L_SED + w_p L_p (defaults 1, 200, 1); returns the total and the weighted terms. */
export function flamLoss(x: FlamLossInputs): { total: Tensor; clip: Tensor | null; sed: Tensor; prior: Tensor } {
  const w = { ...FLAM_LOSS_WEIGHTS, ...x.weights };
  const { a, t, alpha, beta, targets } = x.sed;
  const sed = x.naive ? sedLossNaive(a, t, alpha, beta, targets, { weight: w.sed }) : sedLoss(a, t, alpha, beta, targets, { weight: w.sed });
  const prior = priorLoss(beta, targets, { weight: w.prior });
  const clip = x.clip ? clipLoss(x.clip.audio, x.clip.text, x.clip.logitScale, { weight: w.clip }) : null;
  let total = add(sed, prior);
  if (clip) total = add(total, clip);
  return { total, clip, sed, prior };
}

/**
 * Debug check (one readback): throws naming the first input that holds NaN or Inf values. Call it before the
 * loss when debugging (it costs a GPU round trip, so the loss functions do not run it themselves).
 */
export async function checkFinite(inputs: Record<string, Tensor>, op = 'sim_loss'): Promise<void> {
  const names = Object.keys(inputs);
  if (names.length === 0) return;
  const rt = inputs[names[0]].rt;
  const stride = Math.max(256, rt.limits.minStorageBufferOffsetAlignment);
  const counts = rt.alloc(stride * names.length, 'nonfinite-counts');
  try {
    names.forEach((n, j) => {
      const x = inputs[n].check(op);
      if (x.dtype !== 'f32') throw new Error(`${op}: ${n} must be f32, got ${x.dtype}`);
      countNonFiniteOp(rt, x.binding(), { buffer: counts, offset: j * stride, size: 4 }, x.size);
    });
    const got = new Uint32Array(await rt.read(counts, 0, stride * names.length));
    names.forEach((n, j) => {
      const c = got[(j * stride) / 4];
      if (c) throw new Error(`${op}: ${n} ${fmt(inputs[n].shape)} contains ${c} non-finite value(s) (NaN or Inf)`);
    });
  } finally { rt.release(counts); }
}

/** flamLoss after checkFinite on every embedding (the debug flag's path). */
export async function flamLossChecked(x: FlamLossInputs): Promise<ReturnType<typeof flamLoss>> {
  const named: Record<string, Tensor> = { 'sed audio embeddings a': x.sed.a, 'sed text embeddings t': x.sed.t, 'sed alpha': x.sed.alpha, 'sed beta': x.sed.beta };
  if (x.clip) Object.assign(named, { 'clip audio embeddings': x.clip.audio, 'clip text embeddings': x.clip.text, 'clip logitScale': x.clip.logitScale });
  await checkFinite(named, 'flam_loss');
  return flamLoss(x);
}

