// Differentiable Swin window partition (with cyclic shift) and merge. Each is a row permutation; the backward of
// one is the other applied to the gradient.
import { Tensor, empty } from '../tensor/tensor.ts';
import { record, needsGrad } from './tape.ts';
import { windowPartitionOp, checkWindowGeometry, type WindowPartitionArgs } from '../ops/window_partition.ts';
import { fmt } from '../ops/common.ts';

function run(dir: 'partition' | 'merge', x: Tensor, a: WindowPartitionArgs, outShape: number[]): Tensor {
  const op = `window_${dir}`;
  x.check(op);
  if (x.dtype !== 'f32') throw new Error(`${op}: expected f32, got ${x.dtype}`);
  checkWindowGeometry(op, a);
  if (x.size !== a.B * a.H * a.W * a.C) throw new Error(`${op}: input ${fmt(x.shape)} does not hold ${a.B} x ${a.H} x ${a.W} x ${a.C} elements`);
  const out = empty(x.rt, outShape, 'f32', op);
  windowPartitionOp(x.rt, dir, x.binding(), out.binding(), a);
  if (needsGrad(x)) {
    const inShape = x.shape.slice();
    record(out, op, [x], (g) => [run(dir === 'partition' ? 'merge' : 'partition', g, a, inShape)]);
  }
  return out;
}

/**
 * x [B, H*W, C] (or [B, H, W, C]) -> windows [B*nW, ws*ws, C] of the map rolled by (-shift, -shift)
 * (torch.roll semantics: out[h][w] = in[(h + shift) % H][(w + shift) % W]); windows row-major, tokens row-major.
 */
export function windowPartition(x: Tensor, H: number, W: number, ws: number, shift = 0): Tensor {
  const B = x.shape[0], C = x.shape[x.rank - 1];
  const a = { B, H, W, C, ws, shift };
  return run('partition', x, a, [B * (H / ws) * (W / ws), ws * ws, C]);
}

/** The inverse: windows [B*nW, ws*ws, C] -> [B, H*W, C], rolled back by (+shift, +shift). */
export function windowMerge(win: Tensor, B: number, H: number, W: number, ws: number, shift = 0): Tensor {
  const C = win.shape[win.rank - 1];
  return run('merge', win, { B, H, W, C, ws, shift }, [B, H * W, C]);
}
