// Elementwise kernels: unary ops and their fused backward, binary ops with broadcasting, fill.
// Legend: n elements; rank <= 6 shapes/strides packed in u32x4[2] params.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { KernelFamily, ENTRY } from '../src/gpu/kernel.ts';

export const UNARY_OPS = ['neg', 'exp', 'log', 'sigmoid', 'softplus', 'tanh', 'relu', 'gelu', 'square', 'sqrt', 'rsqrt', 'abs', 'affine'] as const;
export type UnaryOp = typeof UNARY_OPS[number];
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
export type BinaryOp = typeof BINARY_OPS[number];

/** Shared WGSL math: erf (Abramowitz-Stegun 7.1.26 is too coarse; this uses a rational fit with |err| < 1.2e-7). */
export const MATH_WGSL = /* wgsl */ `
fn erf_f(x: f32) -> f32 {
  // erf via erfc with Chebyshev-fitted exponent (Numerical Recipes erfcc), relative error < 1.2e-7.
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
          t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
          t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
// softplus(x) = log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
fn softplus_f(x: f32) -> f32 {
  let e = exp(-abs(x));
  // log1p(e) accurately for small e
  let l = select(log(1.0 + e), e * (1.0 - e * (0.5 - e / 3.0)), e < 1e-4);
  return max(x, 0.0) + l;
}
fn tanh_f(x: f32) -> f32 {
  // tanh via exp of a non-positive argument (WGSL's tanh may be inaccurate near 0 on some drivers).
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(-t, t, x >= 0.0);
}
const INV_SQRT2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;
fn gelu_f(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_f(x * INV_SQRT2)); }
fn gelu_grad_f(x: f32) -> f32 { return 0.5 * (1.0 + erf_f(x * INV_SQRT2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x); }
`;

function unaryExpr(op: UnaryOp, x: string): string {
  switch (op) {
    case 'neg': return `-(${x})`;
    case 'exp': return `exp(${x})`;
    case 'log': return `log(${x})`;
    case 'sigmoid': return `sigmoid_f(${x})`;
    case 'softplus': return `softplus_f(${x})`;
    case 'tanh': return `tanh_f(${x})`;
    case 'relu': return `max(${x}, 0.0)`;
    case 'gelu': return `gelu_f(${x})`;
    case 'square': return `(${x}) * (${x})`;
    case 'sqrt': return `sqrt(${x})`;
    case 'rsqrt': return `inverseSqrt(${x})`;
    case 'abs': return `abs(${x})`;
    case 'affine': return `(${x}) * p.alpha + p.beta`;
  }
}

/**
 * Derivative dy/dx written in terms of x (input) and y (output); the backward kernel gets both.
 *   exp: y; log: 1/x; sigmoid: y(1-y); softplus: sigmoid(x); tanh: 1-y^2; relu: x>0; gelu: Phi(x)+x phi(x);
 *   square: 2x; sqrt: 0.5/y; rsqrt: -0.5 y^3; abs: sign(x); affine: alpha.
 */
function unaryGrad(op: UnaryOp): string {
  switch (op) {
    case 'neg': return `-1.0`;
    case 'exp': return `y`;
    case 'log': return `1.0 / x`;
    case 'sigmoid': return `y * (1.0 - y)`;
    case 'softplus': return `sigmoid_f(x)`;
    case 'tanh': return `1.0 - y * y`;
    case 'relu': return `select(0.0, 1.0, x > 0.0)`;
    case 'gelu': return `gelu_grad_f(x)`;
    case 'square': return `2.0 * x`;
    case 'sqrt': return `0.5 / y`;
    case 'rsqrt': return `-0.5 * y * y * y`;
    case 'abs': return `sign(x)`;
    case 'affine': return `p.alpha`;
  }
}

/** out[i] = f(x[i]); one invocation per element. */
export const unary = new KernelFamily<{ op: UnaryOp }>('unary', ({ op }) => ({
  name: `unary_${op}`,
  bindings: [{ name: 'x', access: 'read' }, { name: 'out', access: 'read_write' }],
  params: [['n', 'u32'], ['alpha', 'f32'], ['beta', 'f32']],
  workgroup: [256],
  body: MATH_WGSL + `
// out = ${op}(x); one invocation per element; grid folded past 65535 workgroups.
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
  let x = x[i];
  out[i] = ${unaryExpr(op, 'x')};
}`,
}));

/** dx[i] = dy[i] * f'(x[i]) (fused backward of a unary op; reads x and y = f(x)). */
export const unaryBackward = new KernelFamily<{ op: UnaryOp }>('unary_backward', ({ op }) => ({
  name: `unary_backward_${op}`,
  bindings: [{ name: 'xin', access: 'read' }, { name: 'yin', access: 'read' }, { name: 'dy', access: 'read' }, { name: 'dx', access: 'read_write' }],
  params: [['n', 'u32'], ['alpha', 'f32'], ['beta', 'f32']],
  workgroup: [256],
  body: MATH_WGSL + `
// dx = dy * d${op}/dx, one invocation per element.
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
  let x = xin[i];
  let y = yin[i];
  dx[i] = dy[i] * (${unaryGrad(op)});
}`,
}));

function binaryExpr(op: BinaryOp, a: string, b: string): string {
  switch (op) {
    case 'add': return `${a} + ${b}`;
    case 'sub': return `${a} - ${b}`;
    case 'mul': return `${a} * ${b}`;
    case 'div': return `${a} / ${b}`;
    case 'max': return `max(${a}, ${b})`;
    case 'min': return `min(${a}, ${b})`;
  }
}

/**
 * out = a (op) b with numpy broadcasting. `mode`:
 *   'same'  : a, b, out contiguous with equal shapes, vec4 loads (n % 4 == 0, counts in vec4 units);
 *   'strided': out contiguous of rank <= 8; a and b read through per-dimension strides (0 = broadcast).
 */
export const binary = new KernelFamily<{ op: BinaryOp; mode: 'same' | 'strided' }>('binary', ({ op, mode }) => ({
  name: `binary_${op}_${mode}`,
  bindings: mode === 'same'
    ? [{ name: 'a', access: 'read', type: 'vec4<f32>' }, { name: 'b', access: 'read', type: 'vec4<f32>' }, { name: 'out', access: 'read_write', type: 'vec4<f32>' }]
    : [{ name: 'a', access: 'read' }, { name: 'b', access: 'read' }, { name: 'out', access: 'read_write' }],
  params: [['n', 'u32'], ['rank', 'u32'], ['shape', 'u32x4[2]'], ['sa', 'u32x4[2]'], ['sb', 'u32x4[2]']],
  workgroup: [256],
  body: wgsl`
fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 { return v[d / 4u][d % 4u]; }
// one invocation per output element (per vec4 in 'same' mode)
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
#if ${mode === 'same'}
  out[i] = ${binaryExpr(op, 'a[i]', 'b[i]')};
#else
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d = d - 1) {
    let s = dim(p.shape, u32(d));
    let c = rem % s;
    rem = rem / s;
    ia = ia + c * dim(p.sa, u32(d));
    ib = ib + c * dim(p.sb, u32(d));
  }
  out[i] = ${binaryExpr(op, 'a[ia]', 'b[ib]')};
#endif
}`,
}));

/** out[i] = value (f32 bits or u32), one invocation per element. */
export const fill = new KernelFamily<{}>('fill', () => ({
  name: 'fill',
  bindings: [{ name: 'out', access: 'read_write', type: 'u32' }],
  params: [['n', 'u32'], ['bits', 'u32']],
  workgroup: [256],
  body: `
// out = bits; one invocation per element
${ENTRY} {
  let i = linear_wg(wid, nwg) * WG_SIZE + lid;
  if (i >= p.n) { return; }
  out[i] = p.bits;
}`,
}));
