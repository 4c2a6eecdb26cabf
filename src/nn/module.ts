// Module: a named tree of parameters whose dotted names equal PyTorch state_dict keys (so one loader serves our
// checkpoints and imported ones). Parameters are f32 tensors with requiresGrad, owned by the module (not scoped).
import { Tensor, keep, tensor } from '../tensor/tensor.ts';
import type { Runtime } from '../gpu/runtime.ts';
import { linear, layerNorm } from '../autograd/ops.ts';

/** Deterministic PRNG for initialisation (mulberry32). */
import { mulberry32 as initRng } from '../util/rng.ts';
export { initRng };

export abstract class Module {
  /** Training mode (dropout, DropPath, batch statistics). */
  training = false;
  private _params = new Map<string, Tensor>();
  private _buffers = new Map<string, Tensor>();
  private _children = new Map<string, Module>();

  constructor(readonly rt: Runtime) {}

  /** Register a trainable parameter (f32, requiresGrad) under `name`. */
  protected param(name: string, data: Float32Array, shape: number[]): Tensor {
    const t = keep(tensor(this.rt, data, shape));
    t.requiresGrad = true;
    this._params.set(name, t);
    return t;
  }

  /** Register a non-trainable state tensor (running stats, frozen frontend weights, masks). */
  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this._buffers.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  /** All parameters with their state_dict keys. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this._params) out.push([prefix + k, t]);
    for (const [k, m] of this._children) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this._buffers) out.push([prefix + k, t]);
    for (const [k, m] of this._children) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  /** state_dict-like map: parameters and buffers by key. */
  stateDict(): Map<string, Tensor> { return new Map([...this.namedParameters(), ...this.namedBuffers()]); }

  /**
   * Load values by key. Every parameter and buffer must be present with the same shape (strict), else an Error
   * lists the missing, unexpected and mismatched keys.
   */
  loadStateDict(values: Map<string, { shape: readonly number[]; data: Float32Array }>, strict = true): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !values.has(k));
    const unexpected = [...values.keys()].filter((k) => !own.has(k));
    const mismatched = [...own].filter(([k, t]) => values.has(k) && !sameShape(values.get(k)!.shape, t.shape)).map(([k, t]) => `${k}: expected [${t.shape}], got [${values.get(k)!.shape}]`);
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new Error(`loadStateDict: ${[missing.length ? `missing keys: ${missing.join(', ')}` : '', unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '', mismatched.length ? `shape mismatches: ${mismatched.join('; ')}` : ''].filter(Boolean).join(' | ')}`);
    }
    for (const [k, t] of own) {
      const v = values.get(k);
      if (v) this.rt.upload(t.storage.buffer, v.data.subarray(0, t.size), t.offset * 4);
    }
  }

  train(on = true): this { this.training = on; for (const m of this._children.values()) m.train(on); return this; }
  eval(): this { return this.train(false); }

  dispose(): void {
    for (const t of this._params.values()) t.dispose();
    for (const t of this._buffers.values()) t.dispose();
    for (const m of this._children.values()) m.dispose();
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** PyTorch's default Linear init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(rt: Runtime, readonly inF: number, readonly outF: number, opts: { bias?: boolean; rng?: () => number } = {}) {
    super(rt);
    const r = opts.rng ?? initRng(inF * 7919 + outF);
    const k = 1 / Math.sqrt(inF);
    this.weight = this.param('weight', Float32Array.from({ length: outF * inF }, () => (2 * r() - 1) * k), [outF, inF]);
    this.bias = opts.bias === false ? null : this.param('bias', Float32Array.from({ length: outF }, () => (2 * r() - 1) * k), [outF]);
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(rt: Runtime, readonly dim: number, readonly eps = 1e-5) {
    super(rt);
    this.weight = this.param('weight', new Float32Array(dim).fill(1), [dim]);
    this.bias = this.param('bias', new Float32Array(dim), [dim]);
  }
  forward(x: Tensor): Tensor { return layerNorm(x, this.weight, this.bias, this.eps); }
}
