// The browser device shim: navigator.gpu.
import { runtimeFromGPU, type DeviceOptions, type Runtime } from './runtime.ts';

/** A Runtime on the page's WebGPU (navigator.gpu); a clear error when the browser has none. */
export function browserRuntime(opts: DeviceOptions = {}): Promise<Runtime> {
  const gpu = (globalThis as any).navigator?.gpu as GPU | undefined;
  return runtimeFromGPU(gpu, opts);
}
