// One shared WebGPU device for the whole test process. A missing adapter fails loudly with the fix.
import { nodeRuntime } from '../../src/gpu/node.ts';
import type { Runtime } from '../../src/gpu/runtime.ts';
import { tensor, type Tensor } from '../../src/tensor/tensor.ts';

let rtp: Promise<Runtime> | null = null;
let rt: Runtime | null = null;

export async function getTestDevice(): Promise<Runtime> {
  if (!rtp) {
    rtp = nodeRuntime().catch((e) => {
      throw new Error(`GPU tests need a WebGPU adapter and found none: ${e.message}\nFix: run \`npm run setup\` (installs Mesa lavapipe on a machine without a GPU).`);
    });
  }
  rt = await rtp;
  return rt;
}

export async function closeTestDevice(): Promise<void> {
  if (rt) { await rt.sync().catch(() => {}); }
}

/** Upload a float64 array as an f32 tensor. */
export function t32(r: Runtime, data: ArrayLike<number>, shape: number[], requiresGrad = false): Tensor {
  const t = tensor(r, Float32Array.from(data as ArrayLike<number>), shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** Round float64 values to f32 (so the reference sees exactly the GPU's inputs). */
export function f32r(a: ArrayLike<number>): Float64Array { return Float64Array.from(Float32Array.from(a as ArrayLike<number>)); }
