// Kernels declared as data (style.md: bindings and params are the single source of truth for the layout).
// A KernelSpec holds the WGSL body and its declared bindings/params; `compileSpec` prepends the binding
// declarations and the Params struct, so the bind group layout and the uniform layout can never drift apart.

export type Access = 'read' | 'read_write';
/** Element type of a storage binding. */
export type ElemType = 'f32' | 'u32' | 'i32' | 'vec4<f32>' | 'atomic<u32>';
/** A uniform parameter: a scalar, or `u32x4[n]` (array<vec4<u32>, n>, e.g. shapes and strides). */
export type ParamType = 'u32' | 'i32' | 'f32' | `u32x4[${number}]`;

/**
 * A binding: a storage buffer (default), a sampled float texture array ('texture': textureLoad only), or a
 * write-only rgba32float storage texture array ('storage_texture').
 */
export interface BindingDecl { name: string; access: Access; type?: ElemType; kind?: 'buffer' | 'texture' | 'storage_texture' }

export interface KernelSpec {
  /** Entry label, `<family>_<variant>`; also the GPU objects' label. */
  name: string;
  bindings: BindingDecl[];
  /** Ordered uniform params. */
  params: [string, ParamType][];
  /** Workgroup size (1-D, 2-D or 3-D). */
  workgroup: [number, number?, number?];
  /** WGSL after the generated declarations; must define `fn main(...)` with the generated attribute line. */
  body: string;
  /** WGSL extensions to enable (e.g. 'subgroups'); the device must have the matching feature. */
  enable?: string[];
}

/** Layout of the Params struct: byte offset of every field, total size (WGSL uniform rules). */
export interface ParamLayout { offsets: Map<string, { offset: number; type: ParamType; count: number }>; size: number }

export function paramLayout(params: [string, ParamType][]): ParamLayout {
  const offsets = new Map<string, { offset: number; type: ParamType; count: number }>();
  let off = 0;
  for (const [name, type] of params) {
    if (type === 'u32' || type === 'i32' || type === 'f32') { offsets.set(name, { offset: off, type, count: 1 }); off += 4; }
    else {
      const n = Number(/\[(\d+)\]/.exec(type)![1]);
      off = Math.ceil(off / 16) * 16;
      offsets.set(name, { offset: off, type, count: n * 4 });
      off += 16 * n;
    }
  }
  const size = Math.max(16, Math.ceil(off / 16) * 16);
  return { offsets, size };
}

function wgslParamType(t: ParamType): string {
  if (t === 'u32' || t === 'i32' || t === 'f32') return t;
  const n = Number(/\[(\d+)\]/.exec(t)![1]);
  return `array<vec4<u32>, ${n}>`;
}

/** Helpers every kernel may use. */
export const PRELUDE = /* wgsl */ `
// Linear workgroup id of a grid folded into (x, y, z) because one dimension may hold at most 65535 groups.
fn linear_wg(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + nwg.x * (wid.y + nwg.y * wid.z); }
`;

/** Full WGSL source of a spec: declarations + prelude + body. */
export function compileSpec(spec: KernelSpec): string {
  const lines: string[] = [];
  for (const e of spec.enable ?? []) lines.push(`enable ${e};`);
  spec.bindings.forEach((b, i) => {
    if (b.kind === 'texture') { lines.push(`@group(0) @binding(${i}) var ${b.name}: texture_2d_array<f32>;`); return; }
    if (b.kind === 'storage_texture') { lines.push(`@group(0) @binding(${i}) var ${b.name}: texture_storage_2d_array<rgba32float, write>;`); return; }
    const t = b.type ?? 'f32';
    const access = b.type === 'atomic<u32>' ? 'read_write' : b.access;
    lines.push(`@group(0) @binding(${i}) var<storage, ${access}> ${b.name}: array<${t}>;`);
  });
  lines.push(`struct Params {`);
  for (const [n, t] of spec.params) lines.push(`  ${n}: ${wgslParamType(t)},`);
  if (spec.params.length === 0) lines.push(`  _unused: u32,`);
  lines.push(`};`);
  lines.push(`@group(0) @binding(${spec.bindings.length}) var<uniform> p: Params;`);
  const [x, y = 1, z = 1] = spec.workgroup;
  lines.push(`const WG_X: u32 = ${x}u; const WG_Y: u32 = ${y}u; const WG_Z: u32 = ${z}u;`);
  lines.push(`const WG_SIZE: u32 = ${x * y * z}u;`);
  return lines.join('\n') + '\n' + PRELUDE + '\n' + spec.body;
}

/** Attribute line for the entry point, matching the spec's workgroup size. */
export const ENTRY = `@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** 32-bit FNV-1a over a string, twice with different seeds -> 16 hex chars (pipeline cache keys). */
export function hashString(s: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/**
 * A kernel family with compile-time variants: `get(variant)` memoises one KernelSpec per variant, keyed by a
 * stable serialisation of the variant object (computed, never hand-written).
 */
export class KernelFamily<V extends Record<string, string | number | boolean>> {
  private cache = new Map<string, KernelSpec & { source: string; key: string }>();
  constructor(readonly family: string, private build: (v: V) => KernelSpec) {}
  get(v: V): KernelSpec & { source: string; key: string } {
    const vk = stableKey(v);
    let s = this.cache.get(vk);
    if (!s) {
      const spec = this.build(v);
      const source = compileSpec(spec);
      s = { ...spec, source, key: `${spec.name}:${hashString(source)}` };
      this.cache.set(vk, s);
    }
    return s;
  }
}

export function stableKey(v: Record<string, unknown>): string {
  return Object.keys(v).sort().map((k) => `${k}=${String(v[k])}`).join(',');
}
