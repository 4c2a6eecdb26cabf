// One launcher for three matmul designs. The design is chosen per adapter: rt.choices.matmul if set (by
// `tuneMatmul`, which measures, or by hand), else 'rb' on CPU adapters and 'tiled' on GPUs.
import { matmulNaive, matmulRB, matmulTiled, matmulPack, matmulSG } from '../../kernels/matmul.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding, fail } from './common.ts';

export type MatmulDesign = 'naive' | 'rb' | 'tiled' | 'sg';
/** Register block of the vec4 rb kernel: TM rows x 4*NV columns per invocation. */
export interface RBBlock { TM: 4 | 8; NV: 1 | 2; /** invocations per workgroup (default 64; 8 = one lavapipe subgroup) */ WG?: 8 | 64 }

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
  /** Force the rb register block (default: rt.choices.rbBlock, else 8x8). */
  block?: RBBlock;
}

function parseBlock(s: string | undefined): RBBlock | undefined {
  if (!s) return undefined;
  const m = /^(4|8)x(4|8)$/.exec(s);
  return m ? { TM: Number(m[1]) as 4 | 8, NV: (Number(m[2]) / 4) as 1 | 2 } : undefined;
}

export function chooseMatmul(rt: Runtime): MatmulDesign {
  const c = rt.choices.matmul as MatmulDesign | undefined;
  if (c) return c;
  return rt.adapter.isCPU ? (sgAvailable(rt) ? 'sg' : 'rb') : 'tiled';
}

/** The subgroup/texture design needs 8-lane subgroups (lavapipe's) and the 'subgroups' feature. */
export function sgAvailable(rt: Runtime): boolean {
  return rt.adapter.subgroupSize === 8 && rt.features.has('subgroups');
}

/** The design matmulOp runs for these arguments (a requested 'sg' falls back where it cannot run). */
export function resolveDesign(rt: Runtime, a: MatmulArgs): MatmulDesign {
  const design = a.design ?? chooseMatmul(rt);
  if (design === 'sg' && !(sgAvailable(rt) && sgFits(rt, a.batch, a.M, a.N, a.K))) return rt.adapter.isCPU ? 'rb' : 'tiled';
  return design;
}

function sgFits(rt: Runtime, batch: number, M: number, N: number, K: number): boolean {
  const d = rt.limits.maxTextureDimension2D, L = rt.limits.maxTextureArrayLayers;
  return Math.ceil(K / 4) <= d && Math.ceil(M / 32) * 32 <= d && Math.ceil(N / 64) * 16 <= d && Math.ceil(K / 4) * 4 <= d && batch <= L;
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
  const design = resolveDesign(rt, a);
  const params = { batch, M, N, K, sA, sB, alpha: a.alpha ?? 1 };
  const bindings = bias ? [A, B, out, a.bias!] : [A, B, out];
  if (K === 0) fail('matmul', 'K = 0 (empty reduction) is not supported; fill the output instead');
  if (design === 'naive') {
    rt.dispatch(matmulNaive.get({ transA, transB, bias }), bindings, params, groups(batch * M * N, 64));
  } else if (design === 'rb') {
    // vec4 path: the contiguous dimension of each operand a multiple of 4 (and >= 4 for the clamped loads)
    const vec = K % 4 === 0 && (!transA || M % 4 === 0) && (transB || N % 4 === 0) && sA % 4 === 0 && sB % 4 === 0 && M >= 4 && N >= 4;
    const blk: RBBlock = vec ? (a.block ?? parseBlock(rt.choices.rbBlock) ?? { TM: 8, NV: 2 }) : { TM: 4, NV: 1 };
    const TM = transA && blk.TM === 8 && M % 8 !== 0 ? 4 : blk.TM; // transposed-A loads read 4 rows at a time
    const tiles = batch * Math.ceil(M / TM) * Math.ceil(N / (4 * blk.NV));
    const WG = blk.WG ?? (Number(rt.choices.rbWorkgroup) === 8 ? 8 : 64);
    rt.dispatch(matmulRB.get({ transA, transB, bias, vec, TM, NV: blk.NV, WG }), bindings, params, groups(tiles, WG));
  } else if (design === 'sg') {
    // Pack op(A) and op(B) into rgba32float texture arrays (zero-padded), then one 8-lane subgroup per 32x64 tile.
    const K4 = Math.ceil(K / 4);
    const bShared = sB === 0 && batch > 1;
    const hA = Math.ceil(M / 32) * 32, wB = Math.ceil(N / 64) * 16, hB = K4 * 4, lB = bShared ? 1 : batch;
    const TA = rt.acquireTexture(K4, hA, batch, 'matmul-A'), TB = rt.acquireTexture(wB, hB, lB, 'matmul-B');
    const va = TA.createView({ dimension: '2d-array' }), vb = TB.createView({ dimension: '2d-array' });
    rt.dispatch(matmulPack.get({ which: 'a', trans: transA }), [A, va], { rows: M, cols: K, W: K4, H: hA, L: batch, stride: sA }, groups(K4 * hA * batch, 64));
    rt.dispatch(matmulPack.get({ which: 'b', trans: transB }), [B, vb], { rows: K, cols: N, W: wB, H: hB, L: lB, stride: bShared ? 0 : sB }, groups(wB * hB * lB, 64));
    const tiles = batch * Math.ceil(M / 32) * Math.ceil(N / 64);
    rt.dispatch(matmulSG.get({ bias, bShared: bShared || (batch === 1) }), bias ? [va, vb, out, a.bias!] : [va, vb, out], { batch, M, N, K4, alpha: a.alpha ?? 1 }, tiles);
    rt.releaseTexture(TA); rt.releaseTexture(TB);
  } else {
    const tiles = batch * Math.ceil(M / 64) * Math.ceil(N / 64);
    rt.dispatch(matmulTiled.get({ transA, transB, bias }), bindings, params, tiles);
  }
}

/**
 * Choose the matmul design for this adapter from measurements: times each design on a transformer-shaped
 * problem (M = 1024, K = N = 256 by default) and stores the fastest in rt.choices.matmul. Returns the timings (ms).
 */
export async function tuneMatmul(rt: Runtime, M = 1024, N = 256, K = 256, reps = 3): Promise<Record<MatmulDesign, number>> {
  const A = rt.alloc(M * K * 4, 'tune-A'), B = rt.alloc(K * N * 4, 'tune-B'), C = rt.alloc(M * N * 4, 'tune-C');
  const res = {} as Record<MatmulDesign, number>;
  try {
    const time = async (design: MatmulDesign, block?: RBBlock) => {
      matmulOp(rt, A, B, C, { batch: 1, M, N, K, design, block });
      await rt.sync(); // compile + warm up
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) matmulOp(rt, A, B, C, { batch: 1, M, N, K, design, block });
      await rt.sync();
      return (performance.now() - t0) / reps;
    };
    let bestBlock = '8x8', bestT = Infinity;
    for (const [TM, NV] of [[4, 1], [8, 1], [4, 2], [8, 2]] as [4 | 8, 1 | 2][]) {
      const t = await time('rb', { TM, NV });
      if (t < bestT) { bestT = t; bestBlock = `${TM}x${4 * NV}`; }
    }
    rt.choices.rbBlock = bestBlock;
    const [TM, NV] = [Number(bestBlock[0]) as 4 | 8, (Number(bestBlock.slice(2)) / 4) as 1 | 2];
    const t8 = await time('rb', { TM, NV, WG: 8 });
    rt.choices.rbWorkgroup = t8 < bestT ? '8' : '64';
    bestT = Math.min(bestT, t8);
    res.rb = bestT;
    res.naive = await time('naive');
    res.tiled = await time('tiled');
    if (sgAvailable(rt)) res.sg = await time('sg');
  } finally {
    rt.release(A); rt.release(B); rt.release(C);
  }
  const best = (Object.keys(res) as MatmulDesign[]).reduce((a, b) => (res[a] <= res[b] ? a : b));
  rt.choices.matmul = best;
  return res;
}
