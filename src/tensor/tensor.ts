// Tensor: a shape, a dtype and a view (element offset) into refcounted GPU storage from the Runtime's pool.
// Lifetime is explicit: `dispose()`, or `scope(fn)` which disposes every tensor created inside fn except those it
// returns. Autograd state (requiresGrad, grad, the node that produced it) lives here; the tape is in src/autograd.
import type { Runtime, Binding } from '../gpu/runtime.ts';

export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

/** Refcounted GPU storage shared by a tensor and its views. */
export class Storage {
  refs = 1;
  constructor(readonly rt: Runtime, readonly buffer: GPUBuffer, readonly elements: number) {}
  retain(): void { this.refs++; }
  release(): void {
    if (--this.refs === 0) this.rt.release(this.buffer);
    else if (this.refs < 0) throw new Error('Storage released twice');
  }
}

/** A recorded autograd node (see src/autograd/tape.ts). */
export interface GradNode {
  name: string;
  inputs: Tensor[];
  /** Upstream gradient -> one gradient per input (null where the input needs none). */
  backward: (grad: Tensor) => (Tensor | null)[];
  /** Tensors kept alive for backward; disposed once the node has run. */
  saved: Tensor[];
}

let nextId = 1;
const scopeStack: Set<Tensor>[] = [];

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: invalid shape [${shape.join(', ')}] (dimensions must be non-negative integers)`);
}

export class Tensor {
  readonly id = nextId++;
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves and under noGrad). */
  node: GradNode | null = null;
  private _disposed = false;

  constructor(readonly storage: Storage, readonly shape: readonly number[], readonly dtype: DType = 'f32', readonly offset = 0) {
    const cur = scopeStack[scopeStack.length - 1];
    if (cur) cur.add(this);
  }

  get rt(): Runtime { return this.storage.rt; }
  get size(): number { return shapeSize(this.shape); }
  get rank(): number { return this.shape.length; }
  get disposed(): boolean { return this._disposed; }

  /** Throws a clear error when the tensor was disposed. */
  check(op: string): this {
    if (this._disposed) throw new Error(`${op}: tensor #${this.id} [${this.shape.join(', ')}] was disposed`);
    return this;
  }

  /** The storage binding for a kernel (byte range of this view). */
  binding(op = 'binding'): Binding {
    this.check(op);
    const bytes = Math.max(4, this.size * 4);
    return { buffer: this.storage.buffer, offset: this.offset * 4, size: Math.ceil(bytes / 4) * 4 };
  }

  /** Another handle on the same storage and shape (its own lifetime; used to save tensors for backward). */
  retain(): Tensor {
    this.check('retain');
    this.storage.retain();
    const t = new Tensor(this.storage, this.shape, this.dtype, this.offset);
    const cur = scopeStack[scopeStack.length - 1];
    if (cur) cur.delete(t);
    return t;
  }

  /** A view with another shape of the same number of elements (no copy). */
  reshape(shape: number[]): Tensor {
    this.check('reshape');
    const s = shape.slice();
    const neg = s.indexOf(-1);
    if (neg >= 0) s[neg] = this.size / shapeSize(s.filter((_, i) => i !== neg));
    checkShape(s, 'reshape');
    if (shapeSize(s) !== this.size) throw new Error(`reshape: cannot view [${this.shape.join(', ')}] (${this.size} elements) as [${shape.join(', ')}]`);
    return reshapeHook(this, s);
  }

  /** Copy to the CPU. Flushes pending work; the only await. */
  async data(): Promise<TypedArrayFor<this['dtype']>> {
    this.check('data');
    const n = this.size;
    if (n === 0) return new (ctorFor(this.dtype))(0) as any;
    const buf = await this.rt.read(this.storage.buffer, this.offset * 4, n * 4);
    return new (ctorFor(this.dtype))(buf) as any;
  }

  /** Release this handle's storage reference. Idempotent. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.storage.release();
    if (this.grad) { this.grad.dispose(); this.grad = null; }
    const cur = scopeStack[scopeStack.length - 1];
    if (cur) cur.delete(this);
  }

  toString(): string { return `Tensor#${this.id}<${this.dtype}>[${this.shape.join(', ')}]`; }
}

// reshape needs autograd (a view keeps the graph); src/autograd installs the real hook.
let reshapeHook: (t: Tensor, shape: number[]) => Tensor = (t, shape) => {
  t.storage.retain();
  return new Tensor(t.storage, shape, t.dtype, t.offset);
};
export function setReshapeHook(f: (t: Tensor, shape: number[]) => Tensor): void { reshapeHook = f; }

export function ctorFor(d: DType): Float32ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor {
  return d === 'f32' ? Float32Array : d === 'i32' ? Int32Array : Uint32Array;
}

/** Allocate an uninitialised tensor. */
export function empty(rt: Runtime, shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Tensor {
  checkShape(shape, label);
  const n = shapeSize(shape);
  const buf = rt.alloc(Math.max(16, n * 4), label);
  return new Tensor(new Storage(rt, buf, n), shape.slice(), dtype);
}

/** Upload data into a new tensor. */
export function tensor(rt: Runtime, data: ArrayLike<number>, shape?: readonly number[], dtype: DType = 'f32'): Tensor {
  const shp = shape ?? [data.length];
  checkShape(shp, 'tensor');
  if (shapeSize(shp) !== data.length) throw new Error(`tensor: ${data.length} values do not fill shape [${shp.join(', ')}] (${shapeSize(shp)} elements)`);
  const t = empty(rt, shp, dtype, 'tensor');
  if (data.length) {
    const C = ctorFor(dtype);
    const arr = data instanceof C ? data as InstanceType<typeof C> : C.from(data as ArrayLike<number>);
    rt.upload(t.storage.buffer, arr);
    if (dtype !== 'f32') cpuCopies.set(t.storage, arr);
  }
  return t;
}

/**
 * CPU copies of small index tensors uploaded from the CPU (token ids): gather's backward builds its
 * scatter plan from them without a readback.
 */
export const cpuCopies = new WeakMap<Storage, Int32Array | Uint32Array | Float32Array>();

// ---- scopes ----

/**
 * Run fn; every tensor created inside is disposed when it returns, except tensors reachable from its return value
 * (arrays and plain objects are searched), which move to the enclosing scope. Async functions are supported.
 */
export function scope<T>(fn: () => T): T {
  const s = new Set<Tensor>();
  scopeStack.push(s);
  let popped = false;
  const end = (ret: unknown) => {
    if (popped) return;
    popped = true;
    const i = scopeStack.lastIndexOf(s);
    if (i >= 0) scopeStack.splice(i, 1);
    const keepSet = new Set<Tensor>();
    collectTensors(ret, keepSet, 0);
    const parent = scopeStack[scopeStack.length - 1];
    for (const t of s) {
      if (keepSet.has(t)) { if (parent) parent.add(t); }
      else t.dispose();
    }
  };
  try {
    const r = fn();
    if (r && typeof (r as any).then === 'function') {
      return (r as any).then((v: unknown) => { end(v); return v; }, (e: unknown) => { end(undefined); throw e; });
    }
    end(r);
    return r;
  } catch (e) {
    end(undefined);
    throw e;
  }
}

/** Remove a tensor from the current scope so it outlives it (the caller disposes it). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopeStack) s.delete(t);
  return t;
}

function collectTensors(v: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 6 || v == null || typeof v !== 'object') return;
  if (v instanceof Tensor) { out.add(v); return; }
  if (Array.isArray(v)) { for (const x of v) collectTensors(x, out, depth + 1); return; }
  if (Object.getPrototypeOf(v) === Object.prototype || v instanceof Map) {
    const vals = v instanceof Map ? [...v.values()] : Object.values(v);
    for (const x of vals) collectTensors(x, out, depth + 1);
  }
}
