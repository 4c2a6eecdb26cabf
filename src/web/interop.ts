// Using the engine on an application's own GPU buffers: a Tensor view of a GPUBuffer the app created on the same
// device (runtimeFromDevice), and a copy of a result tensor into an app buffer. Browser-safe.
import type { Runtime } from '../gpu/runtime.ts';
import { Storage, Tensor, shapeSize, type DType } from '../tensor/tensor.ts';

const STORAGE = 0x80, COPY_SRC = 0x4, COPY_DST = 0x8;

/** Storage over a buffer the application owns: disposing the tensor never returns it to our pool or destroys it. */
class ExternalStorage extends Storage {
  override release(): void {
    if (--this.refs < 0) throw new Error('Storage released twice');
  }
}

/**
 * A Tensor on an app-owned GPUBuffer (no copy): `shape` elements of `dtype` starting at byte `byteOffset`
 * (a multiple of 4; kernels bind at the device's minStorageBufferOffsetAlignment, so keep it a multiple of 256).
 * The buffer needs STORAGE usage (and COPY_SRC for `.data()`). Disposing the tensor leaves the buffer to the app.
 */
export function wrapBuffer(rt: Runtime, buffer: GPUBuffer, shape: readonly number[], o: { dtype?: DType; byteOffset?: number } = {}): Tensor {
  const dtype = o.dtype ?? 'f32', off = o.byteOffset ?? 0;
  const label = `wrapBuffer('${buffer.label || 'unlabelled'}')`;
  if (!(buffer.usage & STORAGE)) throw new Error(`${label}: the buffer needs GPUBufferUsage.STORAGE (usage is 0x${buffer.usage.toString(16)})`);
  if (off % 4 !== 0 || off < 0) throw new Error(`${label}: byteOffset ${off} must be a non-negative multiple of 4`);
  const n = shapeSize(shape);
  if (off + n * 4 > buffer.size) throw new Error(`${label}: shape [${shape.join(', ')}] needs ${off + n * 4} bytes, the buffer has ${buffer.size}`);
  return new Tensor(new ExternalStorage(rt, buffer, (buffer.size - off) / 4), shape.slice(), dtype, off / 4);
}

/**
 * Record a copy of `t` into an app buffer (COPY_DST usage) at `byteOffset`, in order with the engine's work.
 * Call `rt.flush()` (or read something back) before the app submits work that reads the buffer.
 */
export function copyToBuffer(t: Tensor, buffer: GPUBuffer, byteOffset = 0): void {
  t.check('copyToBuffer');
  if (!(buffer.usage & COPY_DST)) throw new Error(`copyToBuffer: the destination buffer needs GPUBufferUsage.COPY_DST`);
  const bytes = t.size * 4;
  if (byteOffset + bytes > buffer.size) throw new Error(`copyToBuffer: ${bytes} bytes at offset ${byteOffset} do not fit the buffer's ${buffer.size} bytes`);
  if (!(t.storage.buffer.usage & COPY_SRC)) throw new Error('copyToBuffer: the source tensor\'s buffer lacks COPY_SRC usage');
  t.rt.copy(t.storage.buffer, t.offset * 4, buffer, byteOffset, bytes);
}
