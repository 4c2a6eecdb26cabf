// Building blocks shared by the FLAM encoders and heads: a Linear with a chosen initialisation, ModuleList, and
// seeded initialisers. (nn.Linear always draws PyTorch's default uniform init with Array.from, ~120 ns per value:
// 8 s for HTSAT-base and 15 s for RoBERTa-base; these fill typed arrays in a loop and can skip random init.)
import { Tensor } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { Module } from '../nn/module.ts';
import { linear } from '../autograd/ops.ts';

/**
 * How to initialise parameters: 'random' draws the architecture's init from a seeded generator; 'zeros' leaves
 * every parameter 0 (LayerNorm weights 1), for modules about to be loaded from a checkpoint.
 */
export type InitMode = 'random' | 'zeros';

/** n values ~ U(lo, hi), seeded. */
export function uniformValues(n: number, rng: () => number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** n values ~ Normal(0, std) clipped to [-clip, clip] (timm's trunc_normal_ uses absolute bounds +-2), seeded. */
export function normalValues(n: number, rng: () => number, std: number, clip = Infinity): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng(), 1e-12), v = rng();
    out[i] = Math.min(clip, Math.max(-clip, std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
  }
  return out;
}

/** Weight and bias initialisation of a Linear layer. */
export type LinearInit =
  /** PyTorch's default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)). */
  | { kind: 'default' }
  /** weight ~ Normal(0, std) (clipped at +-clip), bias 0 (Swin: trunc_normal(0.02); BERT: normal(0.02)). */
  | { kind: 'normal'; std: number; clip?: number };

/**
 * y = x W^T + b with PyTorch's Linear names and layout (weight [out, in], bias [out]), like nn.Linear, with the
 * initialisation chosen by the caller (biasShift is added to the drawn bias, e.g. FLAM's alpha/beta heads).
 */
export class InitLinear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(rt: Runtime, readonly inF: number, readonly outF: number, o: { bias?: boolean; init?: LinearInit; rng: () => number; mode?: InitMode; biasShift?: number }) {
    super(rt);
    const init = o.init ?? { kind: 'default' };
    const zeros = o.mode === 'zeros';
    const k = 1 / Math.sqrt(inF);
    const w = zeros ? new Float32Array(inF * outF)
      : init.kind === 'default' ? uniformValues(inF * outF, o.rng, -k, k) : normalValues(inF * outF, o.rng, init.std, init.clip);
    this.weight = this.param('weight', w, [outF, inF]);
    const b = zeros || init.kind === 'normal' ? new Float32Array(outF) : uniformValues(outF, o.rng, -k, k);
    if (!zeros && o.biasShift) for (let i = 0; i < outF; i++) b[i] += o.biasShift;
    this.bias = o.bias === false ? null : this.param('bias', b, [outF]);
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }
}

/** A module whose children are named 0, 1, 2, ... (torch.nn.ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(rt: Runtime, items: M[]) {
    super(rt);
    this.items = items;
    items.forEach((m, i) => this.child(String(i), m));
  }
}

/** A module holding named parameters given as data (e.g. a convolution applied as a matmul). */
export class ParamHolder extends Module {
  readonly p: Record<string, Tensor> = {};
  constructor(rt: Runtime, params: Record<string, { data: Float32Array; shape: number[] }>) {
    super(rt);
    for (const [k, v] of Object.entries(params)) this.p[k] = this.param(k, v.data, v.shape);
  }
}

/** Overwrite a tensor's values (initialisation, tests). */
export function setValues(t: Tensor, data: Float32Array): void {
  if (data.length !== t.size) throw new Error(`setValues: ${data.length} values for ${t}`);
  t.rt.upload(t.storage.buffer, data, t.offset * 4);
}
