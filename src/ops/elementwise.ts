// Launchers for elementwise kernels. Buffers and shapes in, no autograd (see src/autograd/ops.ts).
import { unary, unaryBackward, binary, fill, type UnaryOp, type BinaryOp } from '../../kernels/elementwise.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding, fail, fmt, stridesOf, f32bits } from './common.ts';

export type { UnaryOp, BinaryOp };

export function unaryOp(rt: Runtime, op: UnaryOp, x: Binding, out: Binding, n: number, alpha = 1, beta = 0): void {
  if (n === 0) return;
  checkBinding(rt, `unary ${op}`, 'x', n);
  rt.dispatch(unary.get({ op }), [x, out], { n, alpha, beta }, groups(n, 256));
}

export function unaryBackwardOp(rt: Runtime, op: UnaryOp, x: Binding, y: Binding, dy: Binding, dx: Binding, n: number, alpha = 1, beta = 0): void {
  if (n === 0) return;
  checkBinding(rt, `unary ${op} backward`, 'x', n);
  rt.dispatch(unaryBackward.get({ op }), [x, y, dy, dx], { n, alpha, beta }, groups(n, 256));
}

/** numpy broadcasting of two shapes; throws naming the op and shapes when incompatible. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(op, `shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `out` (0 on broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = stridesOf(shape);
  const r = out.length;
  const res = new Array(r).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const oi = r - shape.length + i;
    res[oi] = shape[i] === 1 && out[oi] !== 1 ? 0 : st[i];
  }
  return res;
}

/** out = a (op) b with broadcasting; out must hold the broadcast shape. */
export function binaryOp(rt: Runtime, op: BinaryOp, a: Binding, aShape: readonly number[], b: Binding, bShape: readonly number[], out: Binding): number[] {
  const oShape = broadcastShapes(op, aShape, bShape);
  let n = 1;
  for (const d of oShape) n *= d;
  if (n === 0) return oShape;
  if (oShape.length > 8) fail(op, `rank ${oShape.length} > 8 is not supported`);
  checkBinding(rt, op, 'output', n);
  const same = aShape.length === bShape.length && aShape.every((d, i) => d === bShape[i]);
  if (same && n % 4 === 0) {
    rt.dispatch(binary.get({ op, mode: 'same' }), [a, b, out], { n: n / 4, rank: 0, shape: [], sa: [], sb: [] }, groups(n / 4, 256));
  } else {
    rt.dispatch(binary.get({ op, mode: 'strided' }), [a, b, out], {
      n, rank: oShape.length, shape: oShape, sa: broadcastStrides(aShape, oShape), sb: broadcastStrides(bShape, oShape),
    }, groups(n, 256));
  }
  return oShape;
}

/** Fill n 32-bit elements with a float (or raw u32 bits when `bits` is true). */
export function fillOp(rt: Runtime, out: Binding, n: number, value: number, bits = false): void {
  if (n === 0) return;
  rt.dispatch(fill.get({}), [out], { n, bits: bits ? value >>> 0 : f32bits(value) }, groups(n, 256));
}
