/** Reference elementwise kernels: one obvious loop each. */
import type { BinaryOp, UnaryOp } from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  relu: (x) => Math.max(x, 0), // keeps NaN visible
  step: (x) => (x > 0 ? 1 : 0),
  sign: Math.sign,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf,
  gelu: (x) => geluValue(x, erf, Math.fround),
};

export function unary(op: UnaryOp, x: NumArray, out: FloatArray): void {
  const f =
    op === 'gelu' && out instanceof Float64Array
      ? (v: number) => geluValue(v, erf, same)
      : unaryFns[op];
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
}

const same = (v: number) => v;

/**
 * GELU as ops/activations.ts composes it, x·0.5·(1 + erf(x·√½)), with each op's result passed
 * through `r` (Math.fround for float32 tensors: the composed ops' values bit for bit) and the
 * backend's `erf`. Every backend's one-pass kernel follows this order.
 */
export function geluValue(
  x: number,
  erfFn: (v: number) => number,
  r: (v: number) => number,
): number {
  const a = r(x * 0.5);
  const e = r(erfFn(r(x * r(Math.SQRT1_2))));
  return r(a * r(1 + e));
}

/** 1/√(2π), the standard normal density at 0. */
export const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU's gradient dy·(Φ(x) + x·φ(x)) in the order of ops/activations.ts's composed ops:
 * Φ = (1 + erf(x·√½))·0.5, φ = exp(x²·(−0.5))·(1/√(2π)), each result through `r`.
 */
export function geluGradValue(
  dy: number,
  x: number,
  erfFn: (v: number) => number,
  r: (v: number) => number,
): number {
  const cdf = r(r(1 + r(erfFn(r(x * r(Math.SQRT1_2))))) * 0.5);
  const pdf = r(r(Math.exp(r(r(x * x) * -0.5))) * r(INV_SQRT_2PI));
  return r(dy * r(cdf + r(x * pdf)));
}

/** GELU's gradient in one pass, the reference's (float64 throughout for a Float64Array out). */
export function geluGrad(dy: NumArray, x: NumArray, out: FloatArray): void {
  const r = out instanceof Float64Array ? same : Math.fround;
  for (let i = 0; i < x.length; i++) out[i] = geluGradValue(dy[i]!, x[i]!, erf, r);
}

/** The scalar form of each binary op (the reference; shared/fast_js.ts uses it too). */
export const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: Math.max,
  minimum: Math.min,
  equal: (a, b) => (a === b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
};

/** Broadcasting binary op: walks the output and maps each index back into a and b. */
export function binary(
  op: BinaryOp,
  a: NumArray,
  aShape: number[],
  b: NumArray,
  bShape: number[],
  outShape: number[],
  out: FloatArray,
): void {
  const f = binaryFns[op];
  const rank = outShape.length;
  // Strides of a and b in output coordinates; 0 along broadcast axes.
  const sa = broadcastStrides(aShape, rank);
  const sb = broadcastStrides(bShape, rank);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = f(a[ia]!, b[ib]!);
    // Increment the multi-index like an odometer, keeping ia and ib in step.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      ia += sa[d]!;
      ib += sb[d]!;
      if (idx[d]! < outShape[d]!) break;
      ia -= sa[d]! * outShape[d]!;
      ib -= sb[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

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

/** erf by Abramowitz-Stegun 7.1.26 is too coarse for gradient checks; this series/continued-fraction pair is accurate to ~1e-15. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x > 0 ? 1 - erfc : erfc - 1;
}
