// The Node device shim (dawn.node via npm `webgpu`). One of the two files under src/ allowed to touch node:*.
import { create, globals } from 'webgpu';
import { setPriority } from 'node:os';
import { runtimeFromGPU, type DeviceOptions, type Runtime } from './runtime.ts';

let gpuSingleton: GPU | null = null;

/** Options for the Node device. */
export interface NodeDeviceOptions extends DeviceOptions {
  /** Extra dawn.node options, e.g. ['backend=vulkan', 'adapter=llvmpipe']. */
  dawn?: string[];
  /**
   * Lower the main thread's priority after the device exists (default true on CPU adapters). dawn.node spins the
   * main thread while promises are pending, which starves lavapipe's worker threads on small machines.
   */
  lowerMainThreadPriority?: boolean;
}

/** A Runtime on dawn.node. Keeps the GPU object referenced for the life of the process (Dawn requires it). */
export async function nodeRuntime(opts: NodeDeviceOptions = {}): Promise<Runtime> {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  Object.assign(globalThis, globals);
  if (!gpuSingleton) gpuSingleton = create(opts.dawn ?? []);
  const rt = await runtimeFromGPU(gpuSingleton, opts, gpuSingleton);
  const lower = opts.lowerMainThreadPriority ?? rt.adapter.isCPU;
  if (lower) { try { setPriority(0, 19); } catch { /* not permitted: keep going */ } }
  return rt;
}
