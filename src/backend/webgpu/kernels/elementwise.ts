/**
 * Elementwise kernels in WGSL: fill, cast, the unary functions, broadcasting binary ops, select
 * and the activations' one-pass gradients. One thread per output value over a linear grid.
 * Integer inputs are converted to f32 on the way in, as the js reference reads them; every
 * result but fill's and cast's is float32, as there.
 */
import type { ActivationGradOp, BinaryOp, DType, Storage, UnaryOp } from '../../backend.js';
import { bindings, type GpuRuntime, linearGroups, linearIndex, wgslType } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';

/** The compute entry point of a one-value-per-thread kernel over `n` (a param named n). */
export function linearMain(body: string): string {
  return `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${linearIndex()}
  if (i >= p.n) { return; }
  ${body}
}`;
}

/** An input value as f32, whatever the storage's type. */
function asF32(name: string, dtype: DType, index: string): string {
  return dtype === 'int32' ? `f32(${name}[${index}])` : `${name}[${index}]`;
}

export function fill(rt: GpuRuntime, size: number, value: number, dtype: DType): GpuStorage {
  const t = wgslType(dtype);
  return rt.run({
    key: `fill_${t}`,
    wgsl: () =>
      `${bindings(
        [],
        [['out', t]],
        [
          ['n', 'u32'],
          ['value', t],
        ],
      )}\n${linearMain('out[i] = p.value;')}`,
    inputs: [],
    outputs: [{ size, dtype }],
    params: [
      ['u32', size],
      [t, value],
    ],
    groups: linearGroups(size),
  })[0]!;
}

export function cast(rt: GpuRuntime, x: Storage, dtype: DType): GpuStorage {
  const from = wgslType(x.dtype);
  const to = wgslType(dtype);
  // float32 → int32 truncates toward zero (WGSL's conversion), like Math.trunc.
  return rt.run({
    key: `cast_${from}_${to}`,
    wgsl: () =>
      `${bindings([['x', from]], [['out', to]], [['n', 'u32']])}\n${linearMain(
        `out[i] = ${to}(x[i]);`,
      )}`,
    inputs: [x],
    outputs: [{ size: x.size, dtype }],
    params: [['u32', x.size]],
    groups: linearGroups(x.size),
  })[0]!;
}

/** Each unary op as a WGSL expression of `v` (an f32), matching the js reference's values. */
const UNARY: Record<UnaryOp, string> = {
  neg: '-v',
  abs: 'abs(v)',
  exp: 'exp(v)',
  log: 'log(v)',
  sqrt: 'sqrt(v)',
  rsqrt: '1.0 / sqrt(v)',
  square: 'v * v',
  reciprocal: '1.0 / v',
  // NaN stays NaN (Math.max(NaN, 0) is NaN): select keeps v unless it is ≤ 0.
  relu: 'select(v, 0.0, v <= 0.0)',
  step: 'select(0.0, 1.0, v > 0.0)',
  sign: 'select(select(v, -1.0, v < 0.0), 1.0, v > 0.0)',
  // tanh through exp(−2|v|), which never overflows (WGSL's tanh may give NaN at large |v|).
  tanh: 'tanhSafe(v)',
  sigmoid: '1.0 / (1.0 + exp(-v))',
  erf: 'erfApprox(v)',
};

const HELPERS = `
fn tanhSafe(v: f32) -> f32 {
  let e = exp(-2.0 * abs(v));
  return sign(v) * (1.0 - e) / (1.0 + e);
}
// erf: Abramowitz and Stegun 7.1.26 with the refinement of W. J. Cody's rational form is not
// needed at float32; this is 7.1.28's higher-order fit (|error| ≤ 3e-7).
fn erfApprox(v: f32) -> f32 {
  let a = abs(v);
  let t = 1.0 + a * (0.0705230784 + a * (0.0422820123 + a * (0.0092705272 + a * (0.0001520143 + a * (0.0002765672 + a * 0.0000430638)))));
  let t2 = t * t;
  let t4 = t2 * t2;
  let t8 = t4 * t4;
  let t16 = t8 * t8;
  return sign(v) * (1.0 - 1.0 / t16);
}`;

export function unary(rt: GpuRuntime, op: UnaryOp, x: Storage): GpuStorage {
  const t = wgslType(x.dtype);
  return rt.run({
    key: `unary_${op}_${t}`,
    wgsl: () =>
      `${bindings([['x', t]], [['out', 'f32']], [['n', 'u32']])}\n${HELPERS}\n${linearMain(
        `let v = ${asF32('x', x.dtype, 'i')};\n  out[i] = ${UNARY[op]};`,
      )}`,
    inputs: [x],
    outputs: [{ size: x.size, dtype: 'float32' }],
    params: [['u32', x.size]],
    groups: linearGroups(x.size),
  })[0]!;
}

/** Each binary op as a WGSL expression of f32 `a` and `b`. */
const BINARY: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'powJs(a, b)',
  // Math.max / Math.min: NaN if either is NaN.
  maximum: 'select(select(a, b, b > a), a + b, isNanF(a) || isNanF(b))',
  minimum: 'select(select(a, b, b < a), a + b, isNanF(a) || isNanF(b))',
  equal: 'select(0.0, 1.0, a == b)',
  greater: 'select(0.0, 1.0, a > b)',
};

const POW = `
// NaN from its bits: float comparisons may be ordered (v != v is false for NaN on SwiftShader).
fn isNanF(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
// Math.pow: negative bases with whole exponents keep their sign; 0^0 and x^0 are 1.
fn powJs(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  // A NaN from a runtime value: WGSL rejects a NaN constant.
  if (floor(b) != b) { return bitcast<f32>(0x7fc00000u | (bitcast<u32>(b) & 0u)); }
  let m = pow(-a, b);
  if (fract(b * 0.5) != 0.0) { return -m; }
  return m;
}`;

/** Strides of `shape` (aligned on the right) in a `rank`-dimensional output; 0 on broadcasts. */
function broadcastStrides(shape: number[], rank: number): number[] {
  const s = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = rank - shape.length + i;
    s[d] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i]!;
  }
  return s;
}

export function binary(
  rt: GpuRuntime,
  op: BinaryOp,
  a: Storage,
  aShape: number[],
  b: Storage,
  bShape: number[],
  outShape: number[],
): GpuStorage {
  const n = outShape.reduce((x, y) => x * y, 1);
  const ta = wgslType(a.dtype);
  const tb = wgslType(b.dtype);
  const same = a.size === n && b.size === n;
  if (same) {
    return rt.run({
      key: `binary_${op}_${ta}_${tb}_same`,
      wgsl: () =>
        `${bindings(
          [
            ['x', ta],
            ['y', tb],
          ],
          [['out', 'f32']],
          [['n', 'u32']],
        )}\n${POW}\n${linearMain(
          `let a = ${asF32('x', a.dtype, 'i')};\n  let b = ${asF32('y', b.dtype, 'i')};\n  out[i] = ${BINARY[op]};`,
        )}`,
      inputs: [a, b],
      outputs: [{ size: n, dtype: 'float32' }],
      params: [['u32', n]],
      groups: linearGroups(n),
    })[0]!;
  }
  const rank = Math.max(1, outShape.length);
  const dims = outShape.length > 0 ? outShape : [1];
  const sa = broadcastStrides(aShape, rank);
  const sb = broadcastStrides(bShape, rank);
  const fields: [string, 'u32'][] = [['n', 'u32']];
  for (let d = 0; d < rank; d++) fields.push([`d${d}`, 'u32'], [`a${d}`, 'u32'], [`b${d}`, 'u32']);
  let walk = '  var o = i;\n  var ia = 0u;\n  var ib = 0u;\n';
  for (let d = rank - 1; d >= 0; d--)
    walk += `  { let c = o % p.d${d}; o = o / p.d${d}; ia += c * p.a${d}; ib += c * p.b${d}; }\n`;
  const params: ['u32', number][] = [['u32', n]];
  for (let d = 0; d < rank; d++) params.push(['u32', dims[d]!], ['u32', sa[d]!], ['u32', sb[d]!]);
  return rt.run({
    key: `binary_${op}_${ta}_${tb}_r${rank}`,
    wgsl: () =>
      `${bindings(
        [
          ['x', ta],
          ['y', tb],
        ],
        [['out', 'f32']],
        fields,
      )}\n${POW}\n${linearMain(
        `${walk}  let a = ${asF32('x', a.dtype, 'ia')};\n  let b = ${asF32('y', b.dtype, 'ib')};\n  out[i] = ${BINARY[op]};`,
      )}`,
    inputs: [a, b],
    outputs: [{ size: n, dtype: 'float32' }],
    params,
    groups: linearGroups(n),
  })[0]!;
}

export function select(rt: GpuRuntime, cond: Storage, a: Storage, b: Storage): GpuStorage {
  const tc = wgslType(cond.dtype);
  const ta = wgslType(a.dtype);
  const tb = wgslType(b.dtype);
  const n = cond.size;
  return rt.run({
    key: `select_${tc}_${ta}_${tb}`,
    wgsl: () =>
      `${bindings(
        [
          ['c', tc],
          ['x', ta],
          ['y', tb],
        ],
        [['out', 'f32']],
        [['n', 'u32']],
      )}\n${linearMain(
        `out[i] = select(${asF32('y', b.dtype, 'i')}, ${asF32('x', a.dtype, 'i')}, ${tc}(c[i]) != ${tc}(0));`,
      )}`,
    inputs: [cond, a, b],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [['u32', n]],
    groups: linearGroups(n),
  })[0]!;
}

/** relu: dy·step(x); tanh: dy·(1 − y·y); sigmoid: dy·(y·(1 − y)), as ops/activations composes them. */
const ACTIVATION_GRAD: Record<ActivationGradOp, string> = {
  relu: 'd * select(0.0, 1.0, v > 0.0)',
  tanh: 'd * (1.0 - v * v)',
  sigmoid: 'd * (v * (1.0 - v))',
};

export function activationGrad(
  rt: GpuRuntime,
  op: ActivationGradOp,
  dy: Storage,
  v: Storage,
): GpuStorage {
  const n = dy.size;
  return rt.run({
    key: `activation_grad_${op}`,
    wgsl: () =>
      `${bindings(
        [
          ['dy', 'f32'],
          ['val', 'f32'],
        ],
        [['out', 'f32']],
        [['n', 'u32']],
      )}\n${linearMain(`let d = dy[i];\n  let v = val[i];\n  out[i] = ${ACTIVATION_GRAD[op]};`)}`,
    inputs: [dy, v],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [['u32', n]],
    groups: linearGroups(n),
  })[0]!;
}
