// Buffer pool by (size class, usage). A released buffer is parked until the submit that may still use it has
// been issued (queue.writeBuffer runs ahead of unsubmitted commands, so handing it out earlier could let an
// upload overwrite data a recorded kernel has yet to read); then it joins the free list of its class.
// Explicit release only: no FinalizationRegistry.

export interface PoolStats {
  /** Buffers handed out and not yet released. */
  liveBuffers: number;
  /** Bytes of those buffers (size-class bytes). */
  liveBytes: number;
  /** Highest liveBytes since the last resetPeak(). */
  peakBytes: number;
  /** Buffers held in free lists (reusable). */
  freeBuffers: number;
  freeBytes: number;
  /** Released, waiting for the next submit. */
  pendingBuffers: number;
  /** Buffers created since start. */
  created: number;
}

/** Size class: powers of two up to 1 MiB, then steps of 1/8 of the power of two (<= 12.5% waste). */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 1 << 20) return 1 << Math.ceil(Math.log2(b));
  const p = 1 << (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / p) * p;
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private live = new Map<GPUBuffer, number>();
  private liveBytes = 0;
  private peak = 0;
  private freeBytes = 0;
  private created = 0;
  /** Free-list bytes kept at most; beyond it released buffers are destroyed. */
  maxFreeBytes = 1 << 30;

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags, label = 'pool'): GPUBuffer {
    const size = sizeClass(bytes);
    const key = `${size}:${usage}`;
    const list = this.free.get(key);
    let buf = list && list.pop();
    if (buf) this.freeBytes -= size;
    else {
      buf = this.device.createBuffer({ size, usage, label });
      this.created++;
    }
    this.live.set(buf, size);
    this.liveBytes += size;
    if (this.liveBytes > this.peak) this.peak = this.liveBytes;
    return buf;
  }

  /** Return a buffer; it becomes reusable after the next submit. */
  release(buf: GPUBuffer): void {
    const size = this.live.get(buf);
    if (size === undefined) throw new Error(`BufferPool.release: buffer '${buf.label}' is not live (double release?)`);
    this.live.delete(buf);
    this.liveBytes -= size;
    this.pending.push(buf);
  }

  /** Called right after queue.submit(): parked buffers become reusable. */
  onSubmitted(): void {
    for (const buf of this.pending) {
      const size = buf.size;
      if (this.freeBytes + size > this.maxFreeBytes) { buf.destroy(); continue; }
      const key = `${size}:${buf.usage}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(buf);
      this.freeBytes += size;
    }
    this.pending.length = 0;
  }

  /** Destroy every free buffer (live ones stay). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
  }

  resetPeak(): void { this.peak = this.liveBytes; }

  stats(): PoolStats {
    let freeBuffers = 0;
    for (const l of this.free.values()) freeBuffers += l.length;
    return {
      liveBuffers: this.live.size, liveBytes: this.liveBytes, peakBytes: this.peak,
      freeBuffers, freeBytes: this.freeBytes, pendingBuffers: this.pending.length, created: this.created,
    };
  }
}
