// The single helper that tests an op's forward and gradient on the GPU against the float64 reference
// (tinygrad style), and the reference backward against finite differences.
import type { Runtime } from '../../src/gpu/runtime.ts';
import { Tensor, scope } from '../../src/tensor/tensor.ts';
import { backward } from '../../src/autograd/tape.ts';
import { assertClose, TOL, randn, type Tol } from './compare.ts';
import { finiteDiff, type Arr } from '../ref/ops.ts';
import { t32, f32r } from './gpu.ts';

export interface OpCase {
  name: string;
  /** Input shapes and value ranges. */
  inputs: { shape: number[]; lo?: number; hi?: number; grad?: boolean }[];
  /** GPU op under test. */
  gpu: (xs: Tensor[]) => Tensor;
  /** float64 reference forward. */
  ref: (xs: Arr[]) => Arr;
  /** float64 reference backward: upstream dy -> one gradient per input (null where none). */
  refBack?: (xs: Arr[], dy: Arr) => (Arr | null)[];
  fwdTol?: Tol;
  gradTol?: Tol;
  seed?: number;
}

/** Runs forward (and backward with a random upstream gradient, loss = sum(y * dy)) and compares. */
export async function checkOp(rt: Runtime, c: OpCase): Promise<void> {
  const seed = c.seed ?? 1;
  const xs = c.inputs.map((inp, i) => f32r(randn(inp.shape.reduce((a, b) => a * b, 1), seed * 100 + i, inp.lo ?? -1, inp.hi ?? 1)));
  await scope(async () => {
    const ts = xs.map((x, i) => t32(rt, x, c.inputs[i].shape, !!c.refBack && c.inputs[i].grad !== false));
    const y = c.gpu(ts);
    const yref = c.ref(xs);
    assertClose(`${c.name} forward`, await y.data(), yref, c.fwdTol ?? TOL.forward);
    if (!c.refBack) return;
    const dy = f32r(randn(yref.length, seed * 100 + 99));
    const dyT = t32(rt, dy, y.shape as number[]);
    backward(y, dyT);
    const gref = c.refBack(xs, dy);
    for (let i = 0; i < ts.length; i++) {
      if (!gref[i]) continue;
      if (!ts[i].grad) throw new Error(`${c.name}: input ${i} got no gradient`);
      assertClose(`${c.name} grad[${i}]`, await ts[i].grad!.data(), gref[i]!, c.gradTol ?? TOL.grad);
    }
    for (const t of ts) t.grad?.dispose();
  });
}

/** Reference backward vs central finite differences on the same (tiny) inputs. */
export function checkRefBackward(name: string, shapes: number[][], ref: (xs: Arr[]) => Arr, refBack: (xs: Arr[], dy: Arr) => (Arr | null)[], seed = 7, lo = -1, hi = 1, tol = TOL.fd): void {
  const xs = shapes.map((s, i) => randn(s.reduce((a, b) => a * b, 1), seed * 10 + i, lo, hi));
  const y = ref(xs);
  const dy = randn(y.length, seed * 10 + 9);
  const fd = finiteDiff(ref, xs, dy);
  const an = refBack(xs, dy);
  an.forEach((g, i) => { if (g) assertClose(`${name} ref backward vs finite differences [${i}]`, g, fd[i], tol); });
}
