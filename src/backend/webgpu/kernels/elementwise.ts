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

/**
 * NaN tests and NaN and infinite values that survive compilers which assume finite math (where
 * `v != v` is folded to false and WGSL's exp, log and pow are undefined for NaN, ±Infinity and
 * out-of-domain arguments): by the bits, from a runtime value (a NaN or an infinite constant is
 * a WGSL compile error).
 */
const SPECIALS = `
fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn isInf(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }
fn nanOf(v: f32) -> f32 { return bitcast<f32>(0x7fc00000u | (bitcast<u32>(v) & 0u)); }
fn infOf(v: f32, negative: bool) -> f32 {
  return bitcast<f32>(select(0x7f800000u, 0xff800000u, negative) | (bitcast<u32>(v) & 0u));
}`;

/** Each unary op as a WGSL expression of `v` (an f32), matching the js reference's values. */
const UNARY: Record<UnaryOp, string> = {
  neg: '-v',
  abs: 'abs(v)',
  exp: 'select(exp(v), v, isNan(v))',
  log: 'logJs(v)',
  sqrt: 'select(sqrt(v), nanOf(v), v < 0.0)',
  rsqrt: 'select(1.0 / sqrt(v), nanOf(v), v < 0.0)',
  square: 'v * v',
  reciprocal: '1.0 / v',
  // NaN stays NaN (Math.max(NaN, 0) is NaN): select keeps v unless it is ≤ 0.
  relu: 'select(v, 0.0, v <= 0.0)',
  step: 'select(0.0, 1.0, v > 0.0)',
  sign: 'select(select(v, -1.0, v < 0.0), 1.0, v > 0.0)',
  // tanh through exp(−2|v|), which never overflows (WGSL's tanh may give NaN at large |v|).
  tanh: 'select(tanhSafe(v), v, isNan(v))',
  sigmoid: 'select(1.0 / (1.0 + exp(-v)), v, isNan(v))',
  erf: 'select(erfApprox(v), v, isNan(v))',
  gelu: 'geluOf(v)',
};

const HELPERS = `${SPECIALS}
// Math.log: NaN below 0 and for NaN, -Infinity at ±0, Infinity at Infinity. Within [0.5, 2]
// WGSL's log may be off by 2^-21 (most of a result near 0): there 2·atanh(s), s = (v − 1)/(v + 1),
// by its series (|s| ≤ 1/3; v − 1 is exact).
fn logJs(v: f32) -> f32 {
  if (isNan(v) || v < 0.0) { return nanOf(v); }
  if (v == 0.0) { return infOf(v, true); }
  if (isInf(v)) { return v; }
  if (v < 0.5 || v > 2.0) { return log(v); }
  let s = (v - 1.0) / (v + 1.0);
  let s2 = s * s;
  var p: f32 = 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return 2.0 * s * p;
}
// tanh: its Taylor polynomial below 0.4 (where 1 − e^(−2|v|) loses the digits of a small
// result), else through e^(−2|v|), which never overflows (WGSL's tanh may give NaN at large |v|).
fn tanhSafe(v: f32) -> f32 {
  let a = abs(v);
  if (a < 0.4) {
    let x2 = v * v;
    var p: f32 = -929569.0 / 638512875.0;
    p = p * x2 + 21844.0 / 6081075.0;
    p = p * x2 - 1382.0 / 155925.0;
    p = p * x2 + 62.0 / 2835.0;
    p = p * x2 - 17.0 / 315.0;
    p = p * x2 + 2.0 / 15.0;
    p = p * x2 - 1.0 / 3.0;
    p = p * x2 + 1.0;
    return v * p;
  }
  let e = exp(-2.0 * a);
  return sign(v) * (1.0 - e) / (1.0 + e);
}
// erf: its Maclaurin series below 0.5; above, 1 − erfc by Numerical Recipes' Chebyshev fit of
// erfc (relative error below 1.2e-7). Within 1e-6 of the exact values everywhere.
fn erfApprox(v: f32) -> f32 {
  let a = abs(v);
  if (a < 0.5) {
    let x2 = v * v;
    var p: f32 = -1.0 / 75600.0;
    p = p * x2 + 1.0 / 9360.0;
    p = p * x2 - 1.0 / 1320.0;
    p = p * x2 + 1.0 / 216.0;
    p = p * x2 - 1.0 / 42.0;
    p = p * x2 + 1.0 / 10.0;
    p = p * x2 - 1.0 / 3.0;
    p = p * x2 + 1.0;
    return 1.1283791670955126 * v * p;
  }
  let t = 1.0 / (1.0 + 0.5 * a);
  let q = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return sign(v) * (1.0 - t * exp(q - a * a));
}
// GELU as ops/activations.ts composes it, each step in f32: v·0.5·(1 + erf(v·√½)), with the erf
// op's expression above; and its gradient d·(Φ + v·φ), Φ = (1 + erf(v·√½))·0.5,
// φ = exp(v·v·(−0.5))·(1/√(2π)), with the exp op's.
fn geluOf(v: f32) -> f32 {
  let t = v * 0.7071067811865476;
  return (v * 0.5) * (1.0 + select(erfApprox(t), t, isNan(t)));
}
fn geluGrad(d: f32, v: f32) -> f32 {
  let t = v * 0.7071067811865476;
  let cdf = (1.0 + select(erfApprox(t), t, isNan(t))) * 0.5;
  let h = (v * v) * -0.5;
  let pdf = select(exp(h), h, isNan(h)) * 0.3989422804014327;
  return d * (cdf + v * pdf);
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
  // Math.max / Math.min: NaN if either is NaN; max(-0, 0) is 0 and min(-0, 0) is -0 (equal
  // values: their bits ANDed or ORed, which only differ in the sign of zeros).
  maximum: 'maxJs(a, b)',
  minimum: 'minJs(a, b)',
  equal: 'select(0.0, 1.0, a == b)',
  greater: 'select(0.0, 1.0, a > b)',
};

const POW = `${SPECIALS}
fn maxJs(a: f32, b: f32) -> f32 {
  if (isNan(a) || isNan(b)) { return nanOf(a); }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); }
  return select(a, b, b > a);
}
fn minJs(a: f32, b: f32) -> f32 {
  if (isNan(a) || isNan(b)) { return nanOf(a); }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); }
  return select(a, b, b < a);
}
// Math.pow: x^0 is 1 (NaN's too), else NaN in is NaN out; (±1)^±Infinity is NaN; a negative
// base needs a whole exponent and keeps its sign for an odd one; ±0 and ±Infinity as bases
// give 0 or Infinity (signed for -0 and -Infinity with odd exponents), as do |a| ≠ 1 to
// ±Infinity. WGSL's pow covers only finite positive bases.
fn powJs(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isNan(a) || isNan(b)) { return nanOf(a); }
  if (isInf(b)) {
    let m = abs(a);
    if (m == 1.0) { return nanOf(a); }
    return select(0.0, infOf(a, false), (m > 1.0) == (b > 0.0));
  }
  let odd = floor(b) == b && fract(b * 0.5) != 0.0;
  if (a == 0.0 || isInf(a)) {
    // 0^b and Infinity^b: one of 0 and Infinity, by the signs of b and of the exponent.
    let big = (a == 0.0) == (b < 0.0);
    let negative = odd && bitcast<u32>(a) >= 0x80000000u;
    let m = select(0.0, infOf(a, false), big);
    return select(m, -m, negative);
  }
  if (a > 0.0) { return pow(a, b); }
  if (floor(b) != b) { return nanOf(a); }
  let m = pow(-a, b);
  return select(m, -m, odd);
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

/**
 * relu: dy·step(x); tanh: dy·(1 − y·y); sigmoid: dy·(y·(1 − y)); gelu: dy·(Φ(x) + x·φ(x)), as
 * ops/activations composes them.
 */
const ACTIVATION_GRAD: Record<ActivationGradOp, string> = {
  relu: 'd * select(0.0, 1.0, v > 0.0)',
  tanh: 'd * (1.0 - v * v)',
  sigmoid: 'd * (v * (1.0 - v))',
  gelu: 'geluGrad(d, v)',
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
      )}\n${op === 'gelu' ? HELPERS : ''}\n${linearMain(`let d = dy[i];\n  let v = val[i];\n  out[i] = ${ACTIVATION_GRAD[op]};`)}`,
    inputs: [dy, v],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [['u32', n]],
    groups: linearGroups(n),
  })[0]!;
}
