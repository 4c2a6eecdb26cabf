// A Runtime on a GPUDevice the application already owns (a WebGPU app that wants our kernels on its own device
// and buffers). Browser-safe; no navigator access.
import { Runtime, type AdapterSummary } from './runtime.ts';

/** What runtimeFromDevice accepts as adapter information. */
export type AdapterInfoLike = Partial<AdapterSummary> & { subgroupMinSize?: number; subgroupMaxSize?: number; isFallbackAdapter?: boolean };

/**
 * Wrap an existing GPUDevice. `adapterInfo` (the adapter's GPUAdapterInfo, or `adapter.info`, or an
 * AdapterSummary) picks the kernel designs: CPU adapters (SwiftShader, lavapipe) get register-blocked kernels;
 * without it the device's own `adapterInfo` (Chrome 129+) is used, else a GPU is assumed.
 *
 * What the runtime does to the device: it installs `device.onuncapturederror` (errors are raised at the next
 * readback) and keeps one 'validation' error scope open between readbacks, so validation errors of the app's own
 * commands recorded in that time are also reported by our next readback. Never call `rt.destroy()` on a shared
 * device: it destroys the device; call `rt.pool.trim()` to free our pooled buffers instead.
 */
export function runtimeFromDevice(device: GPUDevice, adapterInfo?: GPUAdapterInfo | AdapterInfoLike): Runtime {
  if (!device || typeof (device as GPUDevice).createComputePipeline !== 'function') {
    throw new Error('runtimeFromDevice: expected a GPUDevice (from adapter.requestDevice())');
  }
  const info: any = adapterInfo ?? (device as any).adapterInfo ?? {};
  const vendor = String(info.vendor ?? ''), architecture = String(info.architecture ?? ''), dev = String(info.device ?? ''), description = String(info.description ?? '');
  const text = `${vendor} ${architecture} ${dev} ${description}`.toLowerCase();
  const isCPU = typeof info.isCPU === 'boolean' ? info.isCPU : /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text) || info.isFallbackAdapter === true;
  const sgMin = Number(info.subgroupMinSize ?? 0), sgMax = Number(info.subgroupMaxSize ?? 0);
  const subgroupSize = typeof info.subgroupSize === 'number' ? info.subgroupSize
    : sgMin > 0 && sgMin === sgMax && device.features.has('subgroups' as GPUFeatureName) ? sgMin : 0;
  return new Runtime(device, { vendor, architecture, device: dev, description, isCPU, subgroupSize });
}
