/**
 * Memory-bound kernels: broadcasting binary ops, unary ops, sums over axes. The JS side
 * reduces every broadcast to two merged axes [outer, inner] with element strides (0 along a
 * broadcast axis), so one loop nest covers equal shapes, scalars and bias-like operands.
 * Results are bit-identical to the js reference (float32 +, −, ×, ÷, min, max, sqrt round the
 * same either way), except tanh (a rational approximation, within 1e-6 relative).
 */

export const ADD = 0;
export const SUB = 1;
export const MUL = 2;
export const DIV = 3;
export const MAXIMUM = 4;
export const MINIMUM = 5;

function op4(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  if (op == MAXIMUM) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

function op1(op: i32, a: f32, b: f32): f32 {
  if (op == ADD) return a + b;
  if (op == SUB) return a - b;
  if (op == MUL) return a * b;
  if (op == DIV) return a / b;
  if (op == MAXIMUM) return max<f32>(a, b);
  return min<f32>(a, b);
}

/** One row of `n` outputs: a and b each either contiguous (stride 1) or one repeated value (0). */
function row(op: i32, a: usize, aI: i32, b: usize, bI: i32, out: usize, n: i32): void {
  let i = 0;
  if (aI == 1 && bI == 1) {
    for (; i + 4 <= n; i += 4) {
      const o = (<usize>i) << 2;
      v128.store(out + o, op4(op, v128.load(a + o), v128.load(b + o)));
    }
    for (; i < n; i++) {
      const o = (<usize>i) << 2;
      store<f32>(out + o, op1(op, load<f32>(a + o), load<f32>(b + o)));
    }
  } else if (aI == 1) {
    const bs = load<f32>(b);
    const bv = f32x4.splat(bs);
    for (; i + 4 <= n; i += 4) {
      const o = (<usize>i) << 2;
      v128.store(out + o, op4(op, v128.load(a + o), bv));
    }
    for (; i < n; i++) {
      const o = (<usize>i) << 2;
      store<f32>(out + o, op1(op, load<f32>(a + o), bs));
    }
  } else if (bI == 1) {
    const as = load<f32>(a);
    const av = f32x4.splat(as);
    for (; i + 4 <= n; i += 4) {
      const o = (<usize>i) << 2;
      v128.store(out + o, op4(op, av, v128.load(b + o)));
    }
    for (; i < n; i++) {
      const o = (<usize>i) << 2;
      store<f32>(out + o, op1(op, as, load<f32>(b + o)));
    }
  } else {
    const v = op1(op, load<f32>(a), load<f32>(b));
    for (; i < n; i++) store<f32>(out + ((<usize>i) << 2), v);
  }
}

/**
 * out[r, i] = a[r·aO + i·aI] op b[r·bO + i·bI] for r < outer, i < inner; aI, bI ∈ {0, 1}.
 * Each op is its own loop (the op test is hoisted by inlining a constant).
 */
export function binary(
  op: i32,
  a: usize,
  b: usize,
  out: usize,
  outer: i32,
  aO: i32,
  bO: i32,
  inner: i32,
  aI: i32,
  bI: i32,
): void {
  for (let r = 0; r < outer; r++) {
    const ar = a + ((<usize>(r * aO)) << 2);
    const br = b + ((<usize>(r * bO)) << 2);
    const orow = out + ((<usize>(r * inner)) << 2);
    if (op == ADD) row(ADD, ar, aI, br, bI, orow, inner);
    else if (op == SUB) row(SUB, ar, aI, br, bI, orow, inner);
    else if (op == MUL) row(MUL, ar, aI, br, bI, orow, inner);
    else if (op == DIV) row(DIV, ar, aI, br, bI, orow, inner);
    else if (op == MAXIMUM) row(MAXIMUM, ar, aI, br, bI, orow, inner);
    else row(MINIMUM, ar, aI, br, bI, orow, inner);
  }
}

export const NEG = 0;
export const ABS = 1;
export const SQUARE = 2;
export const RELU = 3;
export const STEP = 4;
export const SQRT = 5;
export const TANH = 6;
export const GELU = 7;

/**
 * erf in float64 as src/backend/shared/fast_js.ts computes it (the JS paths' erf, which the
 * composed GELU uses on this backend): below 1 in magnitude the Maclaurin series to x²³ in
 * Horner form, beyond it 1 − erfc with Numerical Recipes' Chebyshev-fitted erfc.
 */
function erf64(x: f64): f64 {
  const ax = Math.abs(x);
  if (ax < 1) {
    const x2 = x * x;
    let s: f64 = -1.0 / (39916800.0 * 23.0);
    s = x2 * s + 1.0 / (3628800.0 * 21.0);
    s = x2 * s - 1.0 / (362880.0 * 19.0);
    s = x2 * s + 1.0 / (40320.0 * 17.0);
    s = x2 * s - 1.0 / (5040.0 * 15.0);
    s = x2 * s + 1.0 / (720.0 * 13.0);
    s = x2 * s - 1.0 / (120.0 * 11.0);
    s = x2 * s + 1.0 / (24.0 * 9.0);
    s = x2 * s - 1.0 / (6.0 * 7.0);
    s = x2 * s + 1.0 / (2.0 * 5.0);
    s = x2 * s - 1.0 / 3.0;
    s = x2 * s + 1.0;
    return 1.1283791670955126 * x * s;
  }
  // biome-ignore lint/suspicious/noGlobalIsNan: AssemblyScript's builtin for f64, no conversion
  if (isNaN<f64>(x)) return x;
  if (ax > 6) return x > 0 ? 1.0 : -1.0;
  const t = 1.0 / (1.0 + 0.5 * ax);
  let p: f64 = -0.82215223 + t * 0.17087277;
  p = 1.48851587 + t * p;
  p = -1.13520398 + t * p;
  p = 0.27886807 + t * p;
  p = -0.18628806 + t * p;
  p = 0.09678418 + t * p;
  p = 0.37409196 + t * p;
  p = 1.00002368 + t * p;
  const erfc = t * Math.exp(-ax * ax - 1.26551223 + t * p);
  return x > 0 ? 1.0 - erfc : erfc - 1.0;
}

/** √½ and 1/√(2π) as the float32 scalars the composed GELU ops multiply by. */
const SQRT1_2F: f32 = <f32>Math.SQRT1_2;
const INV_SQRT_2PIF: f32 = <f32>(1.0 / Math.sqrt(2.0 * Math.PI));

/** GELU as ops/activations.ts composes it: x·0.5·(1 + erf(x·√½)), each step in float32. */
function geluLoop(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(x + o);
    const a: f32 = v * <f32>0.5;
    const e = <f32>erf64(<f64>(v * SQRT1_2F));
    store<f32>(out + o, a * (<f32>1.0 + e));
  }
}

/** GELU's gradient dy·(Φ + x·φ), Φ = (1 + erf(x·√½))·0.5, φ = exp(x·x·(−0.5))·(1/√(2π)), in float32 steps. */
function geluGradLoop(dy: usize, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(x + o);
    const cdf: f32 = (<f32>1.0 + <f32>erf64(<f64>(v * SQRT1_2F))) * <f32>0.5;
    const pdf: f32 = <f32>Math.exp(<f64>(v * v * <f32>-0.5)) * INV_SQRT_2PIF;
    store<f32>(out + o, load<f32>(dy + o) * (cdf + v * pdf));
  }
}

const TANH_CLAMP: f32 = 7.905311107635498;

/**
 * tanh by Eigen's float rational approximation (odd degree 13 over even degree 6, clamped
 * at ±7.9, ±1 beyond ±9, identity below 4e-4), four lanes at a time, NaN kept.
 */
function tanh4(x: v128): v128 {
  const c = f32x4.splat(TANH_CLAMP);
  const v = f32x4.pmax(f32x4.pmin(x, c), f32x4.neg(c));
  const x2 = f32x4.mul(v, v);
  let p = f32x4.add(
    f32x4.mul(x2, f32x4.splat(-2.76076847742355e-16)),
    f32x4.splat(2.00018790482477e-13),
  );
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(v, p);
  let q = f32x4.add(
    f32x4.mul(x2, f32x4.splat(1.19825839466702e-6)),
    f32x4.splat(1.18534705686654e-4),
  );
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(2.268434632439e-3));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(4.89352518554385e-3));
  let r = f32x4.div(p, q);
  // Beyond ±9 float32 tanh is exactly ±1.
  const one = v128.or(v128.and(x, i32x4.splat(0x80000000)), f32x4.splat(1));
  r = v128.bitselect(one, r, f32x4.gt(f32x4.abs(x), f32x4.splat(9)));
  // |x| < 4e-4: tanh(x) = x to float32 precision; NaN compares false everywhere, keep x.
  const small = f32x4.lt(f32x4.abs(x), f32x4.splat(0.0004));
  const nan = f32x4.ne(x, x);
  return v128.bitselect(x, r, v128.or(small, nan));
}

function unary4(op: i32, x: v128): v128 {
  if (op == NEG) return f32x4.neg(x);
  if (op == ABS) return f32x4.abs(x);
  if (op == SQUARE) return f32x4.mul(x, x);
  // relu: max(x, 0) with NaN kept (as Math.max does)
  if (op == RELU) return f32x4.max(x, f32x4.splat(0));
  if (op == STEP) return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
  if (op == SQRT) return f32x4.sqrt(x);
  return tanh4(x);
}

function unaryLoop(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, unary4(op, v128.load(x + o)));
  }
  if (i < n) {
    // The tail through one vector, so scalar and vector results agree.
    const t = memory.data(16, 16);
    v128.store(t, f32x4.splat(0));
    for (let j = i; j < n; j++)
      store<f32>(t + ((<usize>(j - i)) << 2), load<f32>(x + ((<usize>j) << 2)));
    v128.store(t, unary4(op, v128.load(t)));
    for (let j = i; j < n; j++)
      store<f32>(out + ((<usize>j) << 2), load<f32>(t + ((<usize>(j - i)) << 2)));
  }
}

/** out[i] = op(x[i]) for the ops above. */
export function unary(op: i32, x: usize, out: usize, n: i32): void {
  if (op == NEG) unaryLoop(NEG, x, out, n);
  else if (op == ABS) unaryLoop(ABS, x, out, n);
  else if (op == SQUARE) unaryLoop(SQUARE, x, out, n);
  else if (op == RELU) unaryLoop(RELU, x, out, n);
  else if (op == STEP) unaryLoop(STEP, x, out, n);
  else if (op == SQRT) unaryLoop(SQRT, x, out, n);
  else if (op == GELU) geluLoop(x, out, n);
  else unaryLoop(TANH, x, out, n);
}

/** activationGrad's ops: relu and gelu from their input, tanh and sigmoid from their output. */
const RELU_GRAD = 0;
const TANH_GRAD = 1;
const GELU_GRAD = 3;

function activationGrad4(op: i32, dy: v128, v: v128): v128 {
  const one = f32x4.splat(1);
  if (op == RELU_GRAD) return f32x4.mul(dy, v128.and(f32x4.gt(v, f32x4.splat(0)), one));
  if (op == TANH_GRAD) return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(v, v)));
  return f32x4.mul(dy, f32x4.mul(v, f32x4.sub(one, v)));
}

function activationGradLoop(op: i32, dy: usize, v: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(out + o, activationGrad4(op, v128.load(dy + o), v128.load(v + o)));
  }
  for (; i < n; i++) {
    // One lane at a time: the same float32 operations as the vector lanes.
    const o = (<usize>i) << 2;
    const r = activationGrad4(op, f32x4.splat(load<f32>(dy + o)), f32x4.splat(load<f32>(v + o)));
    store<f32>(out + o, f32x4.extract_lane(r, 0));
  }
}

/**
 * An activation's gradient in one pass (op 0 relu: dy·step(x); 1 tanh: dy·(1 − y·y); 2 sigmoid:
 * dy·(y·(1 − y)); 3 gelu: dy·(Φ(x) + x·φ(x))), each operation rounded to float32 as the
 * composed ops are.
 */
export function activationGrad(op: i32, dy: usize, v: usize, out: usize, n: i32): void {
  if (op == GELU_GRAD) geluGradLoop(dy, v, out, n);
  else if (op == RELU_GRAD) activationGradLoop(RELU_GRAD, dy, v, out, n);
  else if (op == TANH_GRAD) activationGradLoop(TANH_GRAD, dy, v, out, n);
  else activationGradLoop(2, dy, v, out, n);
}

/**
 * Sums of x viewed as [outer, inner]: over the outer axis (columns: out has inner values) when
 * overOuter, else over the inner axis (rows: out has outer values). Sequential float32
 * accumulation per output, in input order, as the reference does.
 */
export function sum2d(x: usize, outer: i32, inner: i32, overOuter: i32, out: usize): void {
  if (overOuter) {
    memory.fill(out, 0, (<usize>inner) << 2);
    for (let r = 0; r < outer; r++) {
      const xr = x + ((<usize>(r * inner)) << 2);
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const o = (<usize>i) << 2;
        v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(xr + o)));
      }
      for (; i < inner; i++) {
        const o = (<usize>i) << 2;
        store<f32>(out + o, load<f32>(out + o) + load<f32>(xr + o));
      }
    }
  } else {
    for (let r = 0; r < outer; r++) {
      const xr = x + ((<usize>(r * inner)) << 2);
      let s: f32 = 0;
      for (let i = 0; i < inner; i++) s += load<f32>(xr + ((<usize>i) << 2));
      store<f32>(out + ((<usize>r) << 2), s);
    }
  }
}
