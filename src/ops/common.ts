// Shared launcher helpers: shape checks with errors that name the op, the shapes and the limit.
import type { Runtime, Binding } from '../gpu/runtime.ts';

export type { Runtime, Binding };

export function fmt(shape: readonly number[]): string { return `[${shape.join(', ')}]`; }

export function fail(op: string, msg: string): never { throw new Error(`${op}: ${msg}`); }

/** Throws when `bytes` exceeds the device's storage binding limit. */
export function checkBinding(rt: Runtime, op: string, what: string, elements: number): void {
  const bytes = elements * 4;
  const lim = rt.limits.maxStorageBufferBindingSize;
  if (bytes > lim) fail(op, `${what} needs ${bytes} bytes, over the device's maxStorageBufferBindingSize ${lim}`);
}

/** Workgroups for n invocations at workgroup size wg; checks the folded 3-D grid fits. */
export function groups(n: number, wg: number): number { return Math.ceil(n / wg); }

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function f32bits(x: number): number {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0];
}
