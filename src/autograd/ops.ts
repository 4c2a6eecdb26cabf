// Differentiable tensor ops: each validates its inputs (errors name the op and shapes, thrown before anything is
// recorded or submitted), launches kernels through src/ops, and records a node with its backward rule.
import { Tensor, empty, tensor, shapeSize, setReshapeHook, cpuCopies, type DType } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { record, needsGrad, installTapeHooks } from './tape.ts';
import { unaryOp, unaryBackwardOp, binaryOp, broadcastShapes, fillOp, type UnaryOp, type BinaryOp } from '../ops/elementwise.ts';
import { reduceOp, maxBackwardOp } from '../ops/reduce.ts';
import { matmulOp, type MatmulDesign, type RBBlock } from '../ops/matmul.ts';
import { softmaxOp, softmaxBackwardOp, type MaskMap } from '../ops/softmax.ts';
import { layerNormOp, layerNormBackwardOp } from '../ops/layer_norm.ts';
import { gatherOp, scatterAddOp, scatterPlan } from '../ops/gather.ts';
import { stridedGatherOp, stridedScatterOp } from '../ops/copy.ts';
import { fmt, stridesOf } from '../ops/common.ts';

const live = (op: string, ...ts: (Tensor | null | undefined)[]) => { for (const t of ts) t?.check(op); };
function f32Only(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') throw new Error(`${op}: expected f32 tensors, got ${t.dtype} ${fmt(t.shape)}`);
}
function sameRuntime(op: string, ...ts: Tensor[]): Runtime {
  const rt = ts[0].rt;
  for (const t of ts) if (t.rt !== rt) throw new Error(`${op}: tensors live on different devices`);
  return rt;
}
const eqShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

// ---------- creation ----------

/** A tensor filled with `value`. */
export function full(rt: Runtime, shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
  const t = empty(rt, shape, dtype, 'full');
  fillOp(rt, t.binding(), t.size, value, dtype !== 'f32');
  return t;
}
export const zeros = (rt: Runtime, shape: readonly number[]) => full(rt, shape, 0);
export const ones = (rt: Runtime, shape: readonly number[]) => full(rt, shape, 1);
export { tensor, empty };

// ---------- views ----------

setReshapeHook((t, shape) => {
  t.storage.retain();
  const v = new Tensor(t.storage, shape, t.dtype, t.offset);
  if (needsGrad(t)) {
    const inShape = t.shape.slice();
    record(v, 'reshape', [t], (g) => [g.reshape(inShape)]);
  }
  return v;
});

/** Flatten all but the last dimension: [..., C] -> [rows, C]. */
export function rows2d(t: Tensor): [number, number] {
  const C = t.shape[t.shape.length - 1] ?? 1;
  return [C === 0 ? 0 : t.size / C, C];
}

// ---------- elementwise ----------

function unaryFn(op: UnaryOp, x: Tensor, alpha = 1, beta = 0): Tensor {
  live(op, x); f32Only(op, x);
  const rt = x.rt;
  const y = empty(rt, x.shape, 'f32', op);
  unaryOp(rt, op, x.binding(), y.binding(), x.size, alpha, beta);
  if (needsGrad(x)) {
    record(y, op, [x], (g, [xs, ys]) => {
      const dx = empty(rt, xs.shape, 'f32', `${op}-grad`);
      unaryBackwardOp(rt, op, xs.binding(), ys.binding(), g.binding(), dx.binding(), xs.size, alpha, beta);
      return [dx];
    }, [x, y]);
  }
  return y;
}

export const neg = (x: Tensor) => unaryFn('neg', x);
export const exp = (x: Tensor) => unaryFn('exp', x);
export const log = (x: Tensor) => unaryFn('log', x);
export const sigmoid = (x: Tensor) => unaryFn('sigmoid', x);
export const softplus = (x: Tensor) => unaryFn('softplus', x);
export const tanh = (x: Tensor) => unaryFn('tanh', x);
export const relu = (x: Tensor) => unaryFn('relu', x);
/** GELU with the exact erf (not the tanh approximation). */
export const gelu = (x: Tensor) => unaryFn('gelu', x);
export const square = (x: Tensor) => unaryFn('square', x);
export const sqrt = (x: Tensor) => unaryFn('sqrt', x);
export const rsqrt = (x: Tensor) => unaryFn('rsqrt', x);
export const abs = (x: Tensor) => unaryFn('abs', x);
/** x * alpha + beta (scalars). */
export const affine = (x: Tensor, alpha: number, beta = 0) => unaryFn('affine', x, alpha, beta);
export const scale = (x: Tensor, s: number) => unaryFn('affine', x, s, 0);

function binaryFn(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  live(op, a, b); f32Only(op, a, b);
  const rt = sameRuntime(op, a, b);
  const oShape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(rt, oShape, 'f32', op);
  binaryOp(rt, op, a.binding(), a.shape, b.binding(), b.shape, out.binding());
  if (needsGrad(a, b)) {
    const aShape = a.shape.slice(), bShape = b.shape.slice();
    const ga = a.requiresGrad, gb = b.requiresGrad;
    const saved = op === 'add' || op === 'sub' ? [] : op === 'div' ? [b, out] : [a, b];
    record(out, op, [a, b], (g, s) => {
      switch (op) {
        case 'add': return [ga ? sumTo(g, aShape) : null, gb ? sumTo(g, bShape) : null];
        case 'sub': return [ga ? sumTo(g, aShape) : null, gb ? sumTo(neg(g), bShape) : null];
        case 'mul': return [ga ? sumTo(mul(g, s[1]), aShape) : null, gb ? sumTo(mul(g, s[0]), bShape) : null];
        case 'div': {
          // y = a / b: da = g / b; db = -g * y / b
          const gOverB = div(g, s[0]);
          return [ga ? sumTo(gOverB, aShape) : null, gb ? sumTo(neg(mul(gOverB, s[1])), bShape) : null];
        }
        default: {
          // max/min: the gradient goes to the selected operand (to a on ties)
          const pick = binaryNoGrad(op === 'max' ? 'max' : 'min', s[0], s[1]);
          const isA = equalMask(s[0], pick);
          const gA = mul(g, isA);
          const gB = sub(g, gA);
          return [ga ? sumTo(gA, aShape) : null, gb ? sumTo(gB, bShape) : null];
        }
      }
    }, saved);
  }
  return out;
}

function binaryNoGrad(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const rt = a.rt;
  const out = empty(rt, broadcastShapes(op, a.shape, b.shape), 'f32', op);
  binaryOp(rt, op, a.binding(), a.shape, b.binding(), b.shape, out.binding());
  return out;
}
/** 1 where a == b else 0, via (a - b) -> |.| -> ... computed as 1 - min(|a-b| * inf, 1). */
function equalMask(a: Tensor, b: Tensor): Tensor {
  const d = abs(binaryNoGrad('sub', a, b));
  return affine(binaryNoGrad('min', affine(d, 3.0e38), onesTensor(a.rt)), -1, 1);
}
function onesTensor(rt: Runtime): Tensor { return full(rt, [1], 1); }

export const add = (a: Tensor, b: Tensor) => binaryFn('add', a, b);
export const sub = (a: Tensor, b: Tensor) => binaryFn('sub', a, b);
export const mul = (a: Tensor, b: Tensor) => binaryFn('mul', a, b);
export const div = (a: Tensor, b: Tensor) => binaryFn('div', a, b);
export const maximum = (a: Tensor, b: Tensor) => binaryFn('max', a, b);
export const minimum = (a: Tensor, b: Tensor) => binaryFn('min', a, b);

// ---------- reductions ----------

function normAxis(op: string, x: Tensor, axis: number): number {
  const r = x.rank;
  const a = axis < 0 ? axis + r : axis;
  if (!(a >= 0 && a < r)) throw new Error(`${op}: axis ${axis} out of range for ${fmt(x.shape)}`);
  return a;
}
function split3(shape: readonly number[], a: number): [number, number, number] {
  return [shapeSize(shape.slice(0, a)), shape[a], shapeSize(shape.slice(a + 1))];
}

/** Sum along `axis` (keepdim keeps it as size 1). */
export function sum(x: Tensor, axis: number, keepdim = false): Tensor {
  return sumScaled('sum', x, axis, keepdim, 1);
}
/** Mean along `axis`. */
export function mean(x: Tensor, axis: number, keepdim = false): Tensor {
  const a = normAxis('mean', x, axis);
  if (x.shape[a] === 0) throw new Error(`mean: axis ${axis} of ${fmt(x.shape)} is empty`);
  return sumScaled('mean', x, axis, keepdim, 1 / x.shape[a]);
}
/** Sum of every element -> shape [1]. */
export function sumAll(x: Tensor): Tensor { return sum(x.reshape([x.size]), 0, true); }
export function meanAll(x: Tensor): Tensor { return mean(x.reshape([x.size]), 0, true); }

function sumScaled(op: string, x: Tensor, axis: number, keepdim: boolean, s: number): Tensor {
  live(op, x); f32Only(op, x);
  const a = normAxis(op, x, axis);
  const [outer, R, inner] = split3(x.shape, a);
  const oShape = keepdim ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const out = empty(x.rt, oShape, 'f32', op);
  if (R === 0) fillOp(x.rt, out.binding(), out.size, 0);
  else reduceOp(x.rt, 'sum', x.binding(), out.binding(), outer, R, inner, s);
  if (needsGrad(x)) {
    const inShape = x.shape.slice();
    record(out, op, [x], (g) => {
      const kd = inShape.map((d, i) => (i === a ? 1 : d));
      const e = expand(g.reshape(kd), inShape);
      return [s === 1 ? e : scale(e, s)];
    });
  }
  return out;
}

/** Max along `axis`; the gradient goes to the first maximal element. */
export function max(x: Tensor, axis: number, keepdim = false): Tensor {
  live('max', x); f32Only('max', x);
  const a = normAxis('max', x, axis);
  const [outer, R, inner] = split3(x.shape, a);
  if (R === 0) throw new Error(`max: axis ${axis} of ${fmt(x.shape)} is empty`);
  const oShape = keepdim ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const out = empty(x.rt, oShape, 'f32', 'max');
  const idx = empty(x.rt, oShape, 'u32', 'argmax');
  reduceOp(x.rt, 'max', x.binding(), out.binding(), outer, R, inner, 1, idx.binding());
  if (needsGrad(x)) {
    const inShape = x.shape.slice();
    record(out, 'max', [x], (g, [ix]) => {
      const dx = empty(x.rt, inShape, 'f32', 'max-grad');
      maxBackwardOp(x.rt, g.binding(), ix.binding(), dx.binding(), outer, R, inner);
      return [dx];
    }, [idx]);
  }
  idx.dispose();
  return out;
}

/** Sum a broadcast gradient back to `shape` (numpy broadcasting rules). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (eqShape(g.shape, shape)) return g;
  let t = g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: cannot reduce ${fmt(g.shape)} to ${fmt(shape)}`);
  if (lead > 0) t = sum(t.reshape([shapeSize(g.shape.slice(0, lead)), ...g.shape.slice(lead)]), 0);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && t.shape[i] !== 1) t = sum(t, i, true);
    else if (shape[i] !== t.shape[i]) throw new Error(`sumTo: cannot reduce ${fmt(g.shape)} to ${fmt(shape)}`);
  }
  return t;
}

// ---------- copies: expand, permute, slice, concat ----------

/** Materialise a broadcast of x to `shape`. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  live('expand', x);
  const oShape = broadcastShapes('expand', x.shape, shape);
  if (!eqShape(oShape, shape)) throw new Error(`expand: ${fmt(x.shape)} cannot be expanded to ${fmt(shape)}`);
  if (eqShape(x.shape, shape)) return x;
  const st = stridesOf(x.shape);
  const r = shape.length, off = r - x.rank;
  const bst = shape.map((d, i) => (i < off ? 0 : x.shape[i - off] === 1 && d !== 1 ? 0 : st[i - off]));
  const out = empty(x.rt, shape, x.dtype, 'expand');
  stridedGatherOp(x.rt, x.binding(), out.binding(), shape, bst);
  if (needsGrad(x)) { const inShape = x.shape.slice(); record(out, 'expand', [x], (g) => [sumTo(g, inShape)]); }
  return out;
}

/** Permute dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: number[]): Tensor {
  live('permute', x);
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) throw new Error(`permute: [${perm}] is not a permutation of ${x.rank} dimensions (${fmt(x.shape)})`);
  const st = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const out = empty(x.rt, shape, x.dtype, 'permute');
  stridedGatherOp(x.rt, x.binding(), out.binding(), shape, perm.map((p) => st[p]));
  if (needsGrad(x)) {
    const inv = new Array(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    record(out, 'permute', [x], (g) => [permute(g, inv)]);
  }
  return out;
}

/** Swap two dimensions. */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = normAxis('transpose', x, d0), b = normAxis('transpose', x, d1);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b; perm[b] = a;
  return permute(x, perm);
}

/** x[start_d : end_d : step_d] on every axis (negative indices count from the end). */
export function slice(x: Tensor, starts: number[], ends: number[], steps?: number[]): Tensor {
  live('slice', x);
  const r = x.rank;
  if (starts.length !== r || ends.length !== r || (steps && steps.length !== r)) throw new Error(`slice: starts/ends/steps must have ${r} entries for ${fmt(x.shape)}`);
  const st = stridesOf(x.shape);
  const shape: number[] = [], sst: number[] = [];
  let off = 0;
  for (let d = 0; d < r; d++) {
    const n = x.shape[d];
    let s = starts[d] < 0 ? starts[d] + n : starts[d];
    let e = ends[d] < 0 ? ends[d] + n : ends[d];
    const step = steps ? steps[d] : 1;
    if (!(step >= 1 && Number.isInteger(step))) throw new Error(`slice: step ${step} on axis ${d} must be a positive integer`);
    s = Math.min(Math.max(s, 0), n); e = Math.min(Math.max(e, s), n);
    shape.push(Math.ceil((e - s) / step));
    sst.push(st[d] * step);
    off += s * st[d];
  }
  const out = empty(x.rt, shape, x.dtype, 'slice');
  stridedGatherOp(x.rt, x.binding(), out.binding(), shape, sst, off);
  if (needsGrad(x)) {
    const inShape = x.shape.slice();
    record(out, 'slice', [x], (g) => {
      const dx = full(x.rt, inShape, 0);
      stridedScatterOp(x.rt, g.binding(), dx.binding(), shape, sst, off);
      return [dx];
    });
  }
  return out;
}

/** Take index range [start, end) on one axis. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis('narrow', x, axis);
  if (start < 0 || start + length > x.shape[a]) throw new Error(`narrow: [${start}, ${start + length}) is outside axis ${axis} of ${fmt(x.shape)}`);
  return slice(x, x.shape.map((_, i) => (i === a ? start : 0)), x.shape.map((d, i) => (i === a ? start + length : d)));
}

/** Concatenate along `axis`. */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors given');
  live('concat', ...xs);
  const a = normAxis('concat', xs[0], axis);
  const base = xs[0].shape;
  for (const t of xs) {
    if (t.rank !== base.length || t.shape.some((d, i) => i !== a && d !== base[i])) throw new Error(`concat: shapes ${xs.map((t) => fmt(t.shape)).join(', ')} differ outside axis ${axis}`);
    if (t.dtype !== xs[0].dtype) throw new Error('concat: dtypes differ');
  }
  const shape = base.slice();
  shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
  const rt = sameRuntime('concat', ...xs);
  const out = empty(rt, shape, xs[0].dtype, 'concat');
  const ost = stridesOf(shape);
  let pos = 0;
  const offsets: number[] = [];
  for (const t of xs) {
    offsets.push(pos);
    stridedScatterOp(rt, t.binding(), out.binding(), t.shape, ost, pos * ost[a]);
    pos += t.shape[a];
  }
  if (needsGrad(...xs)) {
    record(out, 'concat', xs, (g) => xs.map((t, i) => (t.requiresGrad ? narrow(g, a, offsets[i], t.shape[a]) : null)));
  }
  return out;
}

// ---------- matmul / linear ----------

export interface MatmulOptions { transA?: boolean; transB?: boolean; bias?: Tensor; alpha?: number; design?: MatmulDesign; block?: RBBlock }

/**
 * Batched matmul. a: [..., M, K] (transA: [..., K, M]); b: [..., K, N] or [K, N] shared over the batch
 * (transB: [..., N, K]); leading dimensions of a and b must be equal, or b 2-D. Optional bias [N], scale alpha.
 */
export function matmul(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
  live('matmul', a, b, o.bias); f32Only('matmul', a, b);
  const rt = sameRuntime('matmul', a, b);
  const transA = !!o.transA, transB = !!o.transB, alpha = o.alpha ?? 1;
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands need rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const M = transA ? a.shape[a.rank - 1] : a.shape[a.rank - 2];
  const K = transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const Kb = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  const N = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (K !== Kb) throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)}${transA ? 'ᵀ' : ''} @ ${fmt(b.shape)}${transB ? 'ᵀ' : ''} (K = ${K} vs ${Kb})`);
  const lead = a.shape.slice(0, -2);
  const batch = shapeSize(lead);
  const bLead = b.shape.slice(0, -2);
  const bShared = b.rank === 2;
  if (!bShared && !eqShape(bLead, lead)) throw new Error(`matmul: batch dimensions differ: ${fmt(a.shape)} vs ${fmt(b.shape)}`);
  if (o.bias && (o.bias.size !== N || o.bias.rank !== 1)) throw new Error(`matmul: bias ${fmt(o.bias.shape)} must be [${N}]`);
  const out = empty(rt, [...lead, M, N], 'f32', 'matmul');
  if (K === 0) fillOp(rt, out.binding(), out.size, 0);
  else matmulOp(rt, a.binding(), b.binding(), out.binding(), {
    batch, M, N, K, transA, transB, strideB: bShared ? 0 : K * N, alpha, bias: o.bias?.binding(), design: o.design, block: o.block,
  });
  if (needsGrad(a, b, o.bias)) {
    const bias = o.bias;
    record(out, 'matmul', bias ? [a, b, bias] : [a, b], (g, [as, bs]) => {
      const res: (Tensor | null)[] = [null, null];
      // d op(A) = g op(B)^T, d op(B) = op(A)^T g (derivation in the file header of kernels/matmul.wgsl.ts)
      if (a.requiresGrad) {
        res[0] = transA
          ? matmul(bShared ? expand(bs, [...lead, ...bs.shape]) : bs, g, { transA: transB, transB: true, alpha, design: o.design, block: o.block })
          : matmul(g, bShared ? expand(bs, [...lead, ...bs.shape]) : bs, { transB: !transB, alpha, design: o.design, block: o.block });
      }
      if (b.requiresGrad) {
        if (bShared && !transA) {
          // Fold the batch into M: A as [batch*M, K], g as [batch*M, N].
          const A2 = as.reshape([batch * M, K]), g2 = g.reshape([batch * M, N]);
          res[1] = transB ? matmul(g2, A2, { transA: true, alpha, design: o.design, block: o.block }) : matmul(A2, g2, { transA: true, alpha, design: o.design, block: o.block });
        } else {
          const db = transB ? matmul(g, as, { transA: true, transB: transA, alpha, design: o.design, block: o.block }) : matmul(as, g, { transA: !transA, alpha, design: o.design, block: o.block });
          res[1] = bShared ? sum(db.reshape([batch, ...db.shape.slice(-2)]), 0) : db;
        }
      }
      if (bias && bias.requiresGrad) res.push(sum(g.reshape([batch * M, N]), 0));
      else if (bias) res.push(null);
      return res;
    }, [a, b]);
  }
  return out;
}

/** y = x W^T + b with PyTorch's Linear layout: W [out, in], b [out]; x [..., in]. */
export function linear(x: Tensor, W: Tensor, b?: Tensor | null): Tensor {
  if (W.rank !== 2) throw new Error(`linear: weight must be [out, in], got ${fmt(W.shape)}`);
  const inF = W.shape[1];
  if (x.shape[x.rank - 1] !== inF) throw new Error(`linear: input ${fmt(x.shape)} does not end in ${inF} (weight ${fmt(W.shape)})`);
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([shapeSize(lead), inF]);
  const y = matmul(x2, W, { transB: true, bias: b ?? undefined });
  return y.reshape([...lead, W.shape[0]]);
}

// ---------- softmax / layer norm ----------

/**
 * Softmax over the last axis, with an optional additive mask whose rows map to x's rows by
 * m(r) = ((r / ma) % mb) * mc + r % mc (default: the mask has the same rows as x, or broadcasts if it has one row).
 */
export function softmax(x: Tensor, mask?: Tensor, map?: MaskMap): Tensor {
  live('softmax', x, mask); f32Only('softmax', x);
  const [rows, N] = rows2d(x);
  let mm: MaskMap | undefined;
  if (mask) {
    const mRows = mask.size / N;
    if (mask.shape[mask.rank - 1] !== N || !Number.isInteger(mRows)) throw new Error(`softmax: mask ${fmt(mask.shape)} must end in ${N} like x ${fmt(x.shape)}`);
    mm = map ?? (mRows === rows ? { ma: 1, mb: rows, mc: 1 } : { ma: 1, mb: mRows, mc: 1 });
    if (rows % mRows !== 0 && !map) throw new Error(`softmax: mask rows ${mRows} do not divide x rows ${rows}; pass an explicit row map`);
  }
  const y = empty(x.rt, x.shape, 'f32', 'softmax');
  softmaxOp(x.rt, x.binding(), y.binding(), rows, N, mask && mm ? { buf: mask.binding(), map: mm } : undefined);
  if (needsGrad(x)) {
    record(y, 'softmax', [x], (g, [ys]) => {
      const dx = empty(x.rt, ys.shape, 'f32', 'softmax-grad');
      softmaxBackwardOp(x.rt, ys.binding(), g.binding(), dx.binding(), rows, N);
      return [dx];
    }, [y]);
  }
  return y;
}

/** Layer norm over the last axis (biased variance, eps inside the sqrt), saving mean and rstd for backward. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  live('layer_norm', x, gamma, beta); f32Only('layer_norm', x, gamma, beta);
  const [rows, C] = rows2d(x);
  if (gamma.size !== C || beta.size !== C) throw new Error(`layer_norm: gamma ${fmt(gamma.shape)} and beta ${fmt(beta.shape)} must have ${C} elements for x ${fmt(x.shape)}`);
  const rt = x.rt;
  const y = empty(rt, x.shape, 'f32', 'layer_norm');
  const mu = empty(rt, [rows], 'f32', 'ln-mean'), rs = empty(rt, [rows], 'f32', 'ln-rstd');
  layerNormOp(rt, x.binding(), gamma.binding(), beta.binding(), y.binding(), mu.binding(), rs.binding(), rows, C, eps);
  if (needsGrad(x, gamma, beta)) {
    record(y, 'layer_norm', [x, gamma, beta], (g, [xs, gs, ms, rss]) => {
      const dx = x.requiresGrad ? empty(rt, xs.shape, 'f32', 'ln-dx') : null;
      const dg = gamma.requiresGrad ? empty(rt, gamma.shape, 'f32', 'ln-dgamma') : null;
      const db = beta.requiresGrad ? empty(rt, beta.shape, 'f32', 'ln-dbeta') : null;
      layerNormBackwardOp(rt, xs.binding(), gs.binding(), ms.binding(), rss.binding(), g.binding(), dx?.binding() ?? null, dg?.binding() ?? null, db?.binding() ?? null, rows, C);
      return [dx, dg, db];
    }, [x, gamma, mu, rs]);
  }
  mu.dispose(); rs.dispose();
  return y;
}

// ---------- embedding ----------

/** out[..., :] = table[idx[...], :]; idx is an i32/u32 tensor. Backward: deterministic scatter-add. */
export function embedding(table: Tensor, idx: Tensor): Tensor {
  live('embedding', table, idx);
  if (idx.dtype === 'f32') throw new Error(`embedding: indices must be i32 or u32, got f32 ${fmt(idx.shape)}`);
  if (table.rank !== 2) throw new Error(`embedding: table must be [V, C], got ${fmt(table.shape)}`);
  const [V, C] = table.shape;
  const cpu = cpuCopies.get(idx.storage);
  if (cpu) {
    for (let i = 0; i < idx.size; i++) {
      const v = cpu[idx.offset + i];
      if (!(v >= 0 && v < V)) throw new Error(`embedding: index ${v} at position ${i} is outside the table's ${V} rows`);
    }
  }
  const rt = table.rt;
  const out = empty(rt, [...idx.shape, C], 'f32', 'embedding');
  gatherOp(rt, table.binding(), idx.binding(), out.binding(), idx.size, C, V);
  if (needsGrad(table)) {
    record(out, 'embedding', [table, idx], (g, [ix]) => {
      const dt = empty(rt, [V, C], 'f32', 'embedding-grad');
      const host = cpuCopies.get(ix.storage);
      if (host) {
        const plan = scatterPlan(host.subarray(ix.offset, ix.offset + ix.size), V);
        const rs = tensor(rt, plan.rowStart, [V + 1], 'u32'), ps = tensor(rt, plan.pos, [plan.pos.length], 'u32');
        scatterAddOp(rt, g.binding(), dt.binding(), ix.size, C, V, { rowStart: rs.binding(), pos: ps.binding() });
        rs.dispose(); ps.dispose();
      } else {
        scatterAddOp(rt, g.binding(), dt.binding(), ix.size, C, V, { idx: ix.binding() });
      }
      return [dt, null];
    }, [idx]);
  }
  return out;
}

// ---------- tape hooks ----------

installTapeHooks({
  add: (a, b) => add(a, b),
  accumulate: (acc, g) => { const r = add(acc, g); acc.dispose(); return r; },
  ones: (t) => full(t.rt, t.shape, 1),
});
