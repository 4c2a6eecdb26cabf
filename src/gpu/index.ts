export { Runtime, runtimeFromGPU, summarizeAdapter, DeviceLostError, STORAGE_USAGE } from './runtime.ts';
export type { Binding, AdapterSummary, RuntimeStats, DeviceOptions } from './runtime.ts';
export { BufferPool, sizeClass } from './pool.ts';
export type { PoolStats } from './pool.ts';
export { KernelFamily, compileSpec, paramLayout, hashString, ENTRY } from './kernel.ts';
export type { KernelSpec, BindingDecl, ParamType } from './kernel.ts';
export { browserRuntime } from './browser.ts';
export { runtimeFromDevice } from './device.ts';
export type { AdapterInfoLike } from './device.ts';
