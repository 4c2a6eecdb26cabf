// Launchers of the fused window attention (kernels/window_attention.wgsl.ts): validate shapes and limits, then
// dispatch. Buffers and shapes in, no autograd (see src/autograd/window_attention.ts).
import {
  windowAttention, windowAttentionBackwardQ, windowAttentionBackwardKV, windowAttentionBiasGrad,
  windowAttentionBias, windowAttentionSG, windowAttentionSGBackwardQ, windowAttentionSGBackwardKV,
} from '../../kernels/window_attention.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding, fail } from './common.ts';

export interface WindowAttentionArgs {
  /** Windows in the batch (images x windows per image). */
  Bw: number;
  /** Tokens per window. */
  T: number;
  /** Heads. */
  H: number;
  /** Head dim (multiple of 4). */
  D: number;
  /** Rows of the relative position bias table. */
  L: number;
  /** Windows per image: mask row of window b is b % nW (required with a mask). */
  nW?: number;
  /** Query scale (default D^-0.5). */
  scale?: number;
  /** Rows (keys in backward_kv) per invocation of the register design; default rt.choices.windowAttentionRB, else 1 on CPU adapters and 4 elsewhere. */
  RB?: number;
  /** Force a design (tests, benchmarks); default: chooseWindowAttention. */
  design?: WindowAttentionDesign;
}

/**
 * 'sg': one 8-lane subgroup per 8 rows, k/v rows shared by subgroupBroadcast (CPU adapters with 8-lane subgroups,
 * i.e. lavapipe; needs T % 8 == 0). 'rb': register-blocked rows, no subgroup operations (everything else).
 */
export type WindowAttentionDesign = 'sg' | 'rb';

export function chooseWindowAttention(rt: Runtime, T: number, want?: WindowAttentionDesign): WindowAttentionDesign {
  const sgOk = rt.adapter.subgroupSize === 8 && rt.features.has('subgroups') && T % 8 === 0;
  const d = want ?? (rt.choices.windowAttention as WindowAttentionDesign | undefined) ?? (rt.adapter.isCPU ? 'sg' : 'rb');
  return d === 'sg' && sgOk ? 'sg' : 'rb';
}

const OP = 'window_attention';

function check(rt: Runtime, a: WindowAttentionArgs, masked: boolean): { RB: number; scale: number } {
  const { Bw, T, H, D, L } = a;
  for (const [k, v] of Object.entries({ Bw, T, H, D, L })) if (!Number.isInteger(v) || v < 1) fail(OP, `${k} = ${v} must be a positive integer`);
  if (D % 4 !== 0) fail(OP, `head dim D = ${D} must be a multiple of 4 (vec4 loads)`);
  if (T > 1024) fail(OP, `T = ${T} tokens per window is over the limit 1024 (the score rows live in registers)`);
  if (masked) {
    const nW = a.nW ?? 0;
    if (!Number.isInteger(nW) || nW < 1 || Bw % nW !== 0) fail(OP, `windows per image nW = ${a.nW} must be a positive divisor of Bw = ${Bw} when a mask is given`);
  }
  checkBinding(rt, OP, `qkv [${Bw}, ${T}, 3, ${H}, ${D}]`, Bw * T * 3 * H * D);
  checkBinding(rt, OP, `P [${Bw}, ${H}, ${T}, ${T}]`, Bw * H * T * T);
  // RB = 1 on CPU adapters: larger blocks run at most ~1.5x faster there but take 10-30 s to compile on lavapipe.
  const RB = a.RB ?? (Number(rt.choices.windowAttentionRB) || (rt.adapter.isCPU ? 1 : 4));
  if (![1, 2, 4, 8].includes(RB)) fail(OP, `RB = ${RB} must be 1, 2, 4 or 8`);
  return { RB: Math.min(RB, T), scale: a.scale ?? 1 / Math.sqrt(D) };
}

/**
 * out [Bw, T, H*D] = softmax(scale q k^T + table[index] + mask) v for qkv [Bw, T, 3*H*D]; table [L, H], index [T, T]
 * (f32 holding integers < L), mask [nW, T, T] or null. With P (a [Bw, H, T, T] buffer) the probabilities are saved.
 */
export function windowAttentionOp(rt: Runtime, qkv: Binding, table: Binding, index: Binding, mask: Binding | null, out: Binding, P: Binding | null, a: WindowAttentionArgs): void {
  const { RB, scale } = check(rt, a, !!mask);
  const { Bw, T, H, D, L } = a;
  const nW = a.nW ?? 1;
  if (chooseWindowAttention(rt, T, a.design) === 'sg') {
    const bias = rt.alloc(H * T * T * 4, 'window-attention-bias');
    rt.dispatch(windowAttentionBias.get({}), [table, index, bias], { H, L, TT: T * T }, groups(H * T * T, 64));
    const bindings: Binding[] = [qkv, bias];
    if (mask) bindings.push(mask);
    bindings.push(out);
    if (P) bindings.push(P);
    rt.dispatch(windowAttentionSG.get({ T, D, masked: !!mask, save: !!P }), bindings, { Bw, H, nW, scale }, Bw * H * (T / 8));
    rt.release(bias);
    return;
  }
  const bindings: Binding[] = [qkv, table, index];
  if (mask) bindings.push(mask);
  bindings.push(out);
  if (P) bindings.push(P);
  rt.dispatch(windowAttention.get({ T, D, RB, masked: !!mask, save: !!P }), bindings, { Bw, H, nW, L, scale }, groups(Bw * H * Math.ceil(T / RB), 64));
}

/**
 * Backward from the saved P and output O: dqkv [Bw, T, 3*H*D] (all three parts written) and, when `dtable` is given,
 * the table gradient [L, H] from the CSR plan of the index (rowStart [L+1], pos [T*T]; scatterPlan in ./gather.ts).
 */
export function windowAttentionBackwardOp(rt: Runtime, qkv: Binding, P: Binding, O: Binding, dout: Binding, dqkv: Binding,
  dtable: { out: Binding; rowStart: Binding; pos: Binding } | null, a: WindowAttentionArgs): void {
  const { RB, scale } = check(rt, a, false);
  const { Bw, T, H, D, L } = a;
  const dS = rt.alloc(Bw * H * T * T * 4, 'window-attention-dS');
  if (chooseWindowAttention(rt, T, a.design) === 'sg') {
    const n = Bw * H * (T / 8);
    rt.dispatch(windowAttentionSGBackwardQ.get({ T, D }), [qkv, P, O, dout, dS, dqkv], { Bw, H, scale }, n);
    rt.dispatch(windowAttentionSGBackwardKV.get({ T, D }), [qkv, P, dout, dS, dqkv], { Bw, H, scale }, n);
  } else {
    const n = groups(Bw * H * Math.ceil(T / RB), 64);
    rt.dispatch(windowAttentionBackwardQ.get({ T, D, RB }), [qkv, P, dout, dS, dqkv], { Bw, H, scale }, n);
    rt.dispatch(windowAttentionBackwardKV.get({ T, D, RB }), [qkv, P, dout, dS, dqkv], { Bw, H, scale }, n);
  }
  if (dtable) rt.dispatch(windowAttentionBiasGrad.get({}), [dS, dtable.rowStart, dtable.pos, dtable.out], { Bw, H, L, TT: T * T }, groups(L * H, 64));
  rt.release(dS);
}

/**
 * Swin's relative position index of a wh x ww window: for tokens i = (hi, wi), j = (hj, wj) (row-major),
 * index[i, j] = (hi - hj + wh - 1) * (2 ww - 1) + (wi - wj + ww - 1), in [0, (2wh-1)(2ww-1)).
 */
export function relativePositionIndexCPU(wh: number, ww = wh): Int32Array {
  const T = wh * ww;
  const idx = new Int32Array(T * T);
  for (let i = 0; i < T; i++) {
    const hi = Math.floor(i / ww), wi = i % ww;
    for (let j = 0; j < T; j++) {
      const hj = Math.floor(j / ww), wj = j % ww;
      idx[i * T + j] = (hi - hj + wh - 1) * (2 * ww - 1) + (wi - wj + ww - 1);
    }
  }
  return idx;
}
