// Differentiable windowed multi-head attention with relative position bias and an optional shift mask: the fused
// kernel (one dispatch forward, three backward) and an unfused composition of existing ops for comparison.
//
// Backward (kernels/window_attention.wgsl.ts derives it): dS = P (dP - rowsum(P dP)), dP = dO v^T;
// dq = scale dS k, dk = scale dS^T q, dv = P^T dO, dtable[l, h] = sum_b sum_{index[i,j]=l} dS[b,h,i,j].
import { Tensor, empty, tensor, keep, type DType } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { record, needsGrad } from './tape.ts';
import { embedding, permute, matmul, softmax, add, narrow } from './ops.ts';
import { windowAttentionOp, windowAttentionBackwardOp, relativePositionIndexCPU, type WindowAttentionDesign } from '../ops/window_attention.ts';
import { scatterPlan } from '../ops/gather.ts';
import { fmt } from '../ops/common.ts';

/** The fixed relative position index of a window, on the GPU in the forms the kernels need. */
export interface RelPosIndex {
  /** Tokens per window (wh * ww). */
  T: number;
  /** Table rows ((2wh-1)(2ww-1)). */
  L: number;
  /** [T, T] f32 holding the integer index (the checkpoint buffer `relative_position_index`, loadable as f32). */
  index: Tensor;
  /** [T, T] i32 copy (embedding gather of the unfused path). */
  indexI32: Tensor;
  /** CSR plan of the index (table row -> its (i, j) pairs) for the bias-table gradient. */
  rowStart: Tensor;
  pos: Tensor;
  /** The index on the CPU. */
  cpu: Int32Array;
  dispose(): void;
}

/** Build the index of a wh x ww window (tensors kept out of the current scope; dispose() frees them). */
export function relPosIndex(rt: Runtime, wh: number, ww = wh): RelPosIndex {
  const cpu = relativePositionIndexCPU(wh, ww);
  const T = wh * ww, L = (2 * wh - 1) * (2 * ww - 1);
  const plan = scatterPlan(cpu, L);
  const mk = (d: ArrayLike<number>, shape: number[], dt: DType) => keep(tensor(rt, d, shape, dt));
  const r: RelPosIndex = {
    T, L, cpu,
    index: mk(Float32Array.from(cpu), [T, T], 'f32'),
    indexI32: mk(cpu, [T, T], 'i32'),
    rowStart: mk(plan.rowStart, [L + 1], 'u32'),
    pos: mk(plan.pos, [plan.pos.length], 'u32'),
    dispose() { for (const t of [r.index, r.indexI32, r.rowStart, r.pos]) t.dispose(); },
  };
  return r;
}

export interface WindowAttentionOptions {
  heads: number;
  /** Additive mask [nW, T, T] (0 / -100); window b of the batch uses row b % nW. */
  mask?: Tensor | null;
  /** Query scale (default head_dim^-0.5). */
  scale?: number;
  /** Rows per invocation of the register design (tuning; default from the runtime's choices). */
  RB?: number;
  /** Force the kernel design (tests, benchmarks). */
  design?: WindowAttentionDesign;
}

function validate(op: string, qkv: Tensor, table: Tensor, rel: RelPosIndex, o: WindowAttentionOptions): { Bw: number; T: number; H: number; D: number; nW: number } {
  for (const t of [qkv, table, rel.index, o.mask]) t?.check(op);
  if (qkv.dtype !== 'f32' || table.dtype !== 'f32') throw new Error(`${op}: qkv and table must be f32`);
  if (qkv.rank !== 3) throw new Error(`${op}: qkv must be [windows, T, 3*C], got ${fmt(qkv.shape)}`);
  const [Bw, T, C3] = qkv.shape;
  const H = o.heads;
  if (!Number.isInteger(H) || H < 1 || C3 % (3 * H) !== 0) throw new Error(`${op}: qkv ${fmt(qkv.shape)} last dim must be 3 * heads * head_dim with heads = ${H}`);
  const D = C3 / (3 * H);
  if (T !== rel.T) throw new Error(`${op}: qkv has ${T} tokens per window but the relative position index is for ${rel.T}`);
  if (table.rank !== 2 || table.shape[0] !== rel.L || table.shape[1] !== H) throw new Error(`${op}: bias table ${fmt(table.shape)} must be [${rel.L}, ${H}]`);
  let nW = 1;
  if (o.mask) {
    const m = o.mask;
    if (m.rank !== 3 || m.shape[1] !== T || m.shape[2] !== T) throw new Error(`${op}: mask ${fmt(m.shape)} must be [nW, ${T}, ${T}]`);
    nW = m.shape[0];
    if (Bw % nW !== 0) throw new Error(`${op}: ${Bw} windows are not a multiple of the mask's ${nW} windows per image`);
  }
  return { Bw, T, H, D, nW };
}

/**
 * Fused window attention: qkv [Bw, T, 3*C] (q, k, v x heads x head_dim, as the qkv Linear writes it) ->
 * [Bw, T, C]. Differentiable in qkv and the bias table [L, heads].
 */
export function windowAttention(qkv: Tensor, table: Tensor, rel: RelPosIndex, o: WindowAttentionOptions): Tensor {
  const { Bw, T, H, D, nW } = validate('window_attention', qkv, table, rel, o);
  const rt = qkv.rt;
  const args = { Bw, T, H, D, L: rel.L, nW, scale: o.scale, RB: o.RB, design: o.design };
  const out = empty(rt, [Bw, T, H * D], 'f32', 'window-attention');
  const grad = needsGrad(qkv, table);
  const P = grad ? empty(rt, [Bw, H, T, T], 'f32', 'window-attention-P') : null;
  windowAttentionOp(rt, qkv.binding(), table.binding(), rel.index.binding(), o.mask ? o.mask.binding() : null, out.binding(), P ? P.binding() : null, args);
  if (P) {
    const tGrad = table.requiresGrad;
    record(out, 'window_attention', [qkv, table], (g, [qs, ps, os]) => {
      const dqkv = empty(rt, qs.shape, 'f32', 'window-attention-dqkv');
      const dtable = tGrad ? empty(rt, [rel.L, H], 'f32', 'window-attention-dtable') : null;
      windowAttentionBackwardOp(rt, qs.binding(), ps.binding(), os.binding(), g.binding(), dqkv.binding(),
        dtable ? { out: dtable.binding(), rowStart: rel.rowStart.binding(), pos: rel.pos.binding() } : null, args);
      return [dqkv, dtable];
    }, [qkv, P, out]);
    P.dispose();
  }
  return out;
}

/**
 * The same attention from existing ops (the comparison baseline): permute qkv to [3, Bw, H, T, D], QK^T (matmul
 * with alpha = scale), + bias gathered by embedding and permuted to [H, T, T], softmax with the mask row map, PV,
 * permute back. Differentiable through the ops' own backward rules.
 */
export function windowAttentionUnfused(qkv: Tensor, table: Tensor, rel: RelPosIndex, o: WindowAttentionOptions): Tensor {
  const { Bw, T, H, D, nW } = validate('window_attention_unfused', qkv, table, rel, o);
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const x = permute(qkv.reshape([Bw, T, 3, H, D]), [2, 0, 3, 1, 4]); // [3, Bw, H, T, D]
  const q = narrow(x, 0, 0, 1).reshape([Bw * H, T, D]);
  const k = narrow(x, 0, 1, 1).reshape([Bw * H, T, D]);
  const v = narrow(x, 0, 2, 1).reshape([Bw * H, T, D]);
  const bias = permute(embedding(table, rel.indexI32), [2, 0, 1]); // [H, T, T]
  const s = add(matmul(q, k, { transB: true, alpha: scale }).reshape([Bw, H, T, T]), bias);
  const p = o.mask ? softmax(s, o.mask, { ma: H * T, mb: nW, mc: T }) : softmax(s);
  const y = matmul(p.reshape([Bw * H, T, T]), v); // [Bw*H, T, D]
  return permute(y.reshape([Bw, H, T, D]), [0, 2, 1, 3]).reshape([Bw, T, H * D]);
}
