// The device layer: one Runtime per GPUDevice. It owns the buffer pool, the pipeline cache, the uniform arena and
// the command recording. All work of a "flush" goes into one command encoder with one open compute pass; params
// of every dispatch go into a per-flush uniform arena written once at submit. The only await is a readback.
// Knows nothing of tensors (style.md: gpu -> kernels -> ops -> tensor).
import { BufferPool } from './pool.ts';
import { paramLayout, type KernelSpec, type ParamLayout } from './kernel.ts';

export const STORAGE_USAGE = 0x80 /*STORAGE*/ | 0x4 /*COPY_SRC*/ | 0x8 /*COPY_DST*/;
const MAP_READ = 0x1, COPY_DST = 0x8, UNIFORM = 0x40;

/** A storage binding: a whole buffer or a byte range of one. */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };
/** Any binding a kernel may declare: buffers, or a texture view for texture bindings. */
export type AnyBinding = Binding | GPUTextureView;

export interface AdapterSummary {
  vendor: string; architecture: string; device: string; description: string;
  /** True for software adapters (lavapipe, SwiftShader): register-blocked kernels are chosen there. */
  isCPU: boolean;
  /** Subgroup size when the adapter reports a single one (min == max), else 0. */
  subgroupSize: number;
}

export interface RuntimeStats { submits: number; dispatches: number; pipelines: number; readbacks: number }

/** Error raised when the device is lost: every pending and later call rejects with it, never hangs. */
export class DeviceLostError extends Error {
  constructor(readonly reason: string, msg: string) { super(`WebGPU device lost (${reason}): ${msg}`); this.name = 'DeviceLostError'; }
}

interface CachedPipeline { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; params: ParamLayout }

const ARENA_CHUNK = 1 << 16;

export class Runtime {
  readonly pool: BufferPool;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly stats: RuntimeStats = { submits: 0, dispatches: 0, pipelines: 0, readbacks: 0 };
  /** Kernel design choices per adapter (set by the tuner or by hand): e.g. matmul 'rb' | 'tiled' | 'naive'. */
  readonly choices: Record<string, string> = {};
  private pipelines = new Map<string, CachedPipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arenaChunks: { gpu: GPUBuffer; cpu: ArrayBuffer; used: number }[] = [];
  private arenaIdx = 0;
  private lostError: DeviceLostError | null = null;
  private lostWaiters = new Set<(e: Error) => void>();
  private uncaptured: string | null = null;
  private readonly uniformAlign: number;

  constructor(readonly device: GPUDevice, readonly adapter: AdapterSummary, readonly keepAlive?: unknown) {
    this.pool = new BufferPool(device);
    this.limits = device.limits;
    this.features = new Set(device.features as unknown as Iterable<string>);
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    device.lost.then((info) => {
      this.lostError = new DeviceLostError(String(info.reason), info.message || 'no message');
      for (const w of this.lostWaiters) w(this.lostError);
      this.lostWaiters.clear();
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      if (!this.uncaptured) this.uncaptured = ev.error.message;
    };
    // Validation errors are attributed to the readback that follows them: one error scope spans all recording
    // between two readbacks (or syncs), so a bad batch fails its own read and never a later, unrelated one.
    device.pushErrorScope('validation');
  }

  /** Close the current error scope (after a submit) and open the next; resolves to its error message or null. */
  private rotateErrorScope(): Promise<string | null> {
    const p = this.device.popErrorScope().then((e) => (e ? e.message : null), () => null);
    this.device.pushErrorScope('validation');
    return p;
  }

  private throwScopeError(msg: string | null): void {
    if (msg) throw new Error(`WebGPU error (a bug in flam-webgpu; please report it): ${msg}`);
  }

  /** Throws if the device was lost or reported an uncaptured error since the last check. */
  checkHealthy(): void {
    if (this.lostError) throw this.lostError;
    if (this.uncaptured) {
      const m = this.uncaptured;
      this.uncaptured = null;
      throw new Error(`WebGPU error (a bug in flam-webgpu; please report it): ${m}`);
    }
  }

  /** Storage buffer from the pool (STORAGE | COPY_SRC | COPY_DST). */
  alloc(bytes: number, label = 'tensor'): GPUBuffer {
    this.checkHealthy();
    if (bytes > this.limits.maxBufferSize) {
      throw new Error(`alloc(${label}): ${bytes} bytes exceed the device's maxBufferSize ${this.limits.maxBufferSize}`);
    }
    return this.pool.acquire(bytes, STORAGE_USAGE, label);
  }

  release(buf: GPUBuffer): void { this.pool.release(buf); }

  private freeTextures = new Map<string, GPUTexture[]>();
  private pendingTextures: [string, GPUTexture][] = [];

  /**
   * A 2-D array rgba32float texture (TEXTURE_BINDING | STORAGE_BINDING) from a small pool; like buffers, a
   * released texture is reused only after the next submit.
   */
  acquireTexture(width: number, height: number, layers: number, label = 'texture'): GPUTexture {
    const key = `${width}x${height}x${layers}`;
    const t = this.freeTextures.get(key)?.pop();
    if (t) return t;
    return this.device.createTexture({ size: { width, height, depthOrArrayLayers: layers }, format: 'rgba32float', usage: 0x04 /*TEXTURE_BINDING*/ | 0x08 /*STORAGE_BINDING*/, dimension: '2d', label });
  }

  releaseTexture(t: GPUTexture): void { this.pendingTextures.push([`${t.width}x${t.height}x${t.depthOrArrayLayers}`, t]); }

  private stagingToDestroy: GPUBuffer[] = [];

  /**
   * Write data into a buffer, in program order: with nothing recorded it is queue.writeBuffer; when commands are
   * recorded but not submitted (writeBuffer would run before them), the data goes through a staging buffer and a
   * copy recorded in the same command stream. Either way no extra submit. byteLength must be a multiple of 4.
   */
  upload(buf: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.checkHealthy();
    const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.encoder) {
      const size = Math.ceil(src.byteLength / 4) * 4;
      const staging = this.device.createBuffer({ size: Math.max(4, size), usage: 0x4 /*COPY_SRC*/, mappedAtCreation: true, label: 'upload-staging' });
      new Uint8Array(staging.getMappedRange()).set(src);
      staging.unmap();
      this.copy(staging, 0, buf, byteOffset, size);
      this.stagingToDestroy.push(staging);
      return;
    }
    // dawn.node rejects views of SharedArrayBuffer; copy those.
    let view: Uint8Array = src;
    if (typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer) view = src.slice();
    this.device.queue.writeBuffer(buf, byteOffset, view.buffer, view.byteOffset, view.byteLength);
  }

  private pipelineFor(spec: KernelSpec & { source: string; key: string }): CachedPipeline {
    let c = this.pipelines.get(spec.key);
    if (c) return c;
    const device = this.device;
    const module = device.createShaderModule({ code: spec.source, label: spec.name });
    module.getCompilationInfo?.().then((info) => {
      const errs = info.messages.filter((m) => m.type === 'error');
      if (errs.length) console.error(`[flam-webgpu] WGSL compile errors in ${spec.name}:\n` + errs.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n'));
    }).catch(() => {});
    const entries: GPUBindGroupLayoutEntry[] = spec.bindings.map((b, i): GPUBindGroupLayoutEntry => {
      if (b.kind === 'texture') return { binding: i, visibility: 4, texture: { sampleType: 'unfilterable-float', viewDimension: '2d-array' } };
      if (b.kind === 'storage_texture') return { binding: i, visibility: 4, storageTexture: { access: 'write-only', format: 'rgba32float', viewDimension: '2d-array' } };
      return { binding: i, visibility: 4 /*COMPUTE*/, buffer: { type: b.access === 'read' && b.type !== 'atomic<u32>' ? 'read-only-storage' : 'storage' } };
    });
    entries.push({ binding: spec.bindings.length, visibility: 4, buffer: { type: 'uniform' } });
    const layout = device.createBindGroupLayout({ entries, label: spec.name });
    const pipeline = device.createComputePipeline({
      label: spec.name,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout], label: spec.name }),
      compute: { module, entryPoint: 'main' },
    });
    c = { pipeline, layout, params: paramLayout(spec.params) };
    this.pipelines.set(spec.key, c);
    this.stats.pipelines++;
    return c;
  }

  private arenaWrite(layout: ParamLayout, params: Record<string, number | ArrayLike<number>>, name: string): { buffer: GPUBuffer; offset: number } {
    const size = layout.size;
    let chunk = this.arenaChunks[this.arenaIdx];
    if (chunk && chunk.used + size > ARENA_CHUNK) { this.arenaIdx++; chunk = this.arenaChunks[this.arenaIdx]; }
    if (!chunk) {
      chunk = { gpu: this.device.createBuffer({ size: ARENA_CHUNK, usage: UNIFORM | COPY_DST, label: 'uniform-arena' }), cpu: new ArrayBuffer(ARENA_CHUNK), used: 0 };
      this.arenaChunks.push(chunk);
    }
    const offset = chunk.used;
    const dv = new DataView(chunk.cpu, offset, size);
    for (const [k, f] of layout.offsets) {
      const v = params[k];
      if (v === undefined) throw new Error(`${name}: missing param '${k}'`);
      if (f.count === 1) {
        const x = v as number;
        if (f.type === 'f32') dv.setFloat32(f.offset, x, true);
        else if (f.type === 'i32') dv.setInt32(f.offset, x, true);
        else {
          if (!(x >= 0 && x <= 0xffffffff && Number.isInteger(x))) throw new Error(`${name}: param '${k}' = ${x} is not a u32`);
          dv.setUint32(f.offset, x, true);
        }
      } else {
        const arr = v as ArrayLike<number>;
        if (arr.length > f.count) throw new Error(`${name}: param '${k}' has ${arr.length} values, at most ${f.count}`);
        for (let i = 0; i < f.count; i++) dv.setUint32(f.offset + 4 * i, i < arr.length ? arr[i] : 0, true);
      }
    }
    chunk.used = Math.ceil((offset + size) / this.uniformAlign) * this.uniformAlign;
    return { buffer: chunk.gpu, offset };
  }

  private ensurePass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'flush' });
    if (!this.pass) this.pass = this.encoder.beginComputePass({ label: 'flush' });
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'flush' });
    if (this.pass) { this.pass.end(); this.pass = null; }
    return this.encoder;
  }

  /**
   * Fold a linear count of workgroups into (x, y, z), each at most maxComputeWorkgroupsPerDimension.
   * Kernels recover the linear id with linear_wg(wid, nwg) and must bound-check it (x*y*z may exceed n).
   */
  foldGrid(n: number, name: string): [number, number, number] {
    const lim = this.limits.maxComputeWorkgroupsPerDimension;
    if (n <= lim) return [Math.max(1, n), 1, 1];
    const y = Math.ceil(n / lim);
    if (y <= lim) return [Math.ceil(n / y), y, 1];
    const z = Math.ceil(y / lim);
    if (z > lim) throw new Error(`${name}: ${n} workgroups exceed the device limit ${lim}^3`);
    return [lim, Math.ceil(y / z), z];
  }

  /**
   * Record one dispatch. `workgroups` is a linear count (folded into 3-D when over the per-dimension limit).
   * Validation of shapes and limits is the launcher's job and happens before this call.
   */
  dispatch(spec: KernelSpec & { source: string; key: string }, bindings: AnyBinding[], params: Record<string, number | ArrayLike<number>>, workgroups: number): void {
    this.checkHealthy();
    if (bindings.length !== spec.bindings.length) throw new Error(`${spec.name}: ${bindings.length} bindings given, kernel declares ${spec.bindings.length}`);
    const maxBind = this.limits.maxStorageBufferBindingSize;
    const cp = this.pipelineFor(spec);
    const entries: GPUBindGroupEntry[] = bindings.map((bb, i) => {
      if (spec.bindings[i].kind === 'texture' || spec.bindings[i].kind === 'storage_texture') return { binding: i, resource: bb as GPUTextureView };
      const b = bb as Binding;
      const r = (b as { buffer?: GPUBuffer }).buffer !== undefined ? b as { buffer: GPUBuffer; offset?: number; size?: number } : { buffer: b as GPUBuffer };
      const size = r.size ?? r.buffer.size - (r.offset ?? 0);
      if (size > maxBind) throw new Error(`${spec.name}: binding '${spec.bindings[i].name}' is ${size} bytes, over the device's maxStorageBufferBindingSize ${maxBind}`);
      return { binding: i, resource: { buffer: r.buffer, offset: r.offset ?? 0, size } };
    });
    const u = this.arenaWrite(cp.params, params, spec.name);
    entries.push({ binding: bindings.length, resource: { buffer: u.buffer, offset: u.offset, size: cp.params.size } });
    const bg = this.device.createBindGroup({ layout: cp.layout, entries, label: spec.name });
    const pass = this.ensurePass();
    pass.setPipeline(cp.pipeline);
    pass.setBindGroup(0, bg);
    const [x, y, z] = this.foldGrid(workgroups, spec.name);
    pass.dispatchWorkgroups(x, y, z);
    this.stats.dispatches++;
  }

  /** Record a buffer-to-buffer copy (ends the open pass; the next dispatch opens a new one). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submit everything recorded so far (one command buffer). Cheap no-op when nothing is recorded. */
  flush(): void {
    this.checkHealthy();
    if (!this.encoder) { this.recycle(); return; }
    const enc = this.endPass();
    for (let i = 0; i <= this.arenaIdx && i < this.arenaChunks.length; i++) {
      const c = this.arenaChunks[i];
      if (c.used) this.device.queue.writeBuffer(c.gpu, 0, c.cpu, 0, c.used);
      c.used = 0;
    }
    this.arenaIdx = 0;
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    this.stats.submits++;
    this.recycle();
  }

  /** After a submit (or when nothing was recorded): parked buffers and textures become reusable. */
  private recycle(): void {
    this.pool.onSubmitted();
    for (const b of this.stagingToDestroy) b.destroy();
    this.stagingToDestroy.length = 0;
    for (const [k, t] of this.pendingTextures) {
      let l = this.freeTextures.get(k);
      if (!l) this.freeTextures.set(k, (l = []));
      if (l.length < 4) l.push(t); else t.destroy();
    }
    this.pendingTextures.length = 0;
  }

  private whenLost(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.lostError) reject(this.lostError); else this.lostWaiters.add(reject);
    });
  }

  /** Flush and read `bytes` from `buf` at `offset`. The one await of a step. */
  async read(buf: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.checkHealthy();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.pool.acquire(size, MAP_READ | COPY_DST, 'readback');
    this.copy(buf, offset, staging, 0, size);
    this.flush();
    const scope = this.rotateErrorScope();
    this.stats.readbacks++;
    let waiter: ((e: Error) => void) | undefined;
    const lost = new Promise<never>((_, reject) => { waiter = reject; if (this.lostError) reject(this.lostError); else this.lostWaiters.add(reject); });
    let mapped = false;
    try {
      const [err] = await Promise.race([Promise.all([scope, staging.mapAsync(MAP_READ, 0, size).then(() => { mapped = true; })]), lost]);
      this.throwScopeError(err);
    } catch (e) {
      if (mapped) staging.unmap();
      this.pool.release(staging);
      throw e;
    } finally {
      if (waiter) this.lostWaiters.delete(waiter);
    }
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.pool.release(staging);
    this.checkHealthy();
    return out;
  }

  /** Flush and wait until the GPU finished all submitted work (benchmarks). */
  async sync(): Promise<void> {
    this.flush();
    const scope = this.rotateErrorScope();
    const [err] = await Promise.race([Promise.all([scope, this.device.queue.onSubmittedWorkDone()]), this.whenLost()]);
    this.throwScopeError(err);
    this.checkHealthy();
  }

  destroy(): void {
    this.pool.trim();
    for (const c of this.arenaChunks) c.gpu.destroy();
    this.arenaChunks = [];
    this.device.destroy();
  }
}

/** Summarise an adapter's info (vendor, architecture, whether it is a CPU implementation). */
export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const i: any = (adapter as any).info ?? {};
  const description = String(i.description ?? '');
  const vendor = String(i.vendor ?? ''), architecture = String(i.architecture ?? ''), device = String(i.device ?? '');
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isCPU = /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text) || (adapter as any).isFallbackAdapter === true;
  const sgMin = Number(i.subgroupMinSize ?? 0), sgMax = Number(i.subgroupMaxSize ?? 0);
  const subgroupSize = sgMin > 0 && sgMin === sgMax && adapter.features.has('subgroups' as GPUFeatureName) ? sgMin : 0;
  return { vendor, architecture, device, description, isCPU, subgroupSize };
}

export interface DeviceOptions {
  /** Ask for the adapter's maximum storage binding / buffer sizes (default true). */
  maxLimits?: boolean;
  powerPreference?: GPUPowerPreference;
}

/** Create a Runtime from a GPU object (navigator.gpu or dawn.node's `create([])`). */
export async function runtimeFromGPU(gpu: GPU | undefined, opts: DeviceOptions = {}, keepAlive?: unknown): Promise<Runtime> {
  if (!gpu) throw new Error('WebGPU is not available here (navigator.gpu is undefined). Use a browser with WebGPU enabled (Chrome/Edge 113+, or start Chromium with --enable-unsafe-webgpu), served over http://localhost or https.');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error('No WebGPU adapter found. On Linux without a GPU install Mesa lavapipe >= 24 (run `npm run setup`, which adds bookworm-backports and installs mesa-vulkan-drivers on Debian 12); in a browser enable WebGPU.');
  const want: Record<string, number> = {};
  if (opts.maxLimits !== false) {
    for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxStorageBuffersPerShaderStage']) {
      const v = (adapter.limits as any)[k];
      if (typeof v === 'number') want[k] = v;
    }
  }
  const features: GPUFeatureName[] = [];
  for (const f of ['timestamp-query', 'subgroups', 'shader-f16'] as GPUFeatureName[]) if (adapter.features.has(f)) features.push(f);
  const device = await adapter.requestDevice({ requiredLimits: want, requiredFeatures: features, label: 'flam-webgpu' });
  return new Runtime(device, summarizeAdapter(adapter), keepAlive);
}
