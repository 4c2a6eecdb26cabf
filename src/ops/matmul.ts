// One launcher for three matmul designs. The design is chosen per adapter: rt.choices.matmul if set (by
// `tuneMatmul`, which measures, or by hand), else 'rb' on CPU adapters and 'tiled' on GPUs.
import { matmulNaive, matmulRB, matmulTiled } from '../../kernels/matmul.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding, fail } from './common.ts';

export type MatmulDesign = 'naive' | 'rb' | 'tiled';

export interface MatmulArgs {
  batch: number; M: number; N: number; K: number;
  transA?: boolean; transB?: boolean;
  /** Batch strides in elements; default M*K and K*N (0 broadcasts one matrix to every batch). */
  strideA?: number; strideB?: number;
  alpha?: number;
  /** Bias [N] added to every row. */
  bias?: Binding;
  /** Force a design (benchmarks and tests). */
  design?: MatmulDesign;
}

export function chooseMatmul(rt: Runtime): MatmulDesign {
  const c = rt.choices.matmul as MatmulDesign | undefined;
  if (c) return c;
  return rt.adapter.isCPU ? 'rb' : 'tiled';
}

/** out[b] = alpha * op(A[b]) op(B[b]) (+ bias). Validates sizes against device limits before recording. */
export function matmulOp(rt: Runtime, A: Binding, B: Binding, out: Binding, a: MatmulArgs): void {
  const { batch, M, N, K } = a;
  const transA = !!a.transA, transB = !!a.transB, bias = !!a.bias;
  for (const [k, v] of Object.entries({ batch, M, N, K })) if (!Number.isInteger(v) || v < 0) fail('matmul', `${k} = ${v} is not a non-negative integer`);
  if (batch * M * N === 0) return;
  const sA = a.strideA ?? M * K, sB = a.strideB ?? K * N;
  checkBinding(rt, 'matmul', `A (${transA ? 'K x M' : 'M x K'} = ${M} x ${K}, batch ${batch})`, sA * (batch - 1) + M * K);
  checkBinding(rt, 'matmul', `B (K x N = ${K} x ${N}, batch ${batch})`, sB * (batch - 1) + K * N);
  checkBinding(rt, 'matmul', `out (${batch} x ${M} x ${N})`, batch * M * N);
  const design = a.design ?? chooseMatmul(rt);
  const params = { batch, M, N, K, sA, sB, alpha: a.alpha ?? 1 };
  const bindings = bias ? [A, B, out, a.bias!] : [A, B, out];
  if (K === 0) fail('matmul', 'K = 0 (empty reduction) is not supported; fill the output instead');
  if (design === 'naive') {
    rt.dispatch(matmulNaive.get({ transA, transB, bias }), bindings, params, groups(batch * M * N, 64));
  } else if (design === 'rb') {
    const vec = K % 4 === 0 && (!transA || M % 4 === 0) && (transB || N % 4 === 0) && sA % 4 === 0 && sB % 4 === 0;
    const tiles = batch * Math.ceil(M / 4) * Math.ceil(N / 4);
    rt.dispatch(matmulRB.get({ transA, transB, bias, vec }), bindings, params, groups(tiles, 64));
  } else {
    const tiles = batch * Math.ceil(M / 64) * Math.ceil(N / 64);
    rt.dispatch(matmulTiled.get({ transA, transB, bias }), bindings, params, tiles);
  }
}
