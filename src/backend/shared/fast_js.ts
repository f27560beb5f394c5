/**
 * Phase-1 fast paths, in plain JavaScript, for memory-bound kernels: the wasm backend uses them
 * for tensors too small to be worth copying into wasm memory and for the cases its wasm
 * kernels do not cover (int32 operands, pow / equal / greater, exp / log / sigmoid). What makes
 * them fast is only that each is one tight loop: no per-element function call, no multi-index
 * odometer, no closure per window. They also give the wasm kernels' JS side its broadcast and
 * sum patterns (broadcast2d, sumPattern).
 *
 * Every function here computes the same float32 values as the reference kernel in ../js/ (same
 * operations in the same order), except tanh (below, within 3e-7 relative), and returns false
 * (or is never called) for the cases it does not cover, which then go to the reference kernel.
 */
import type { BinaryOp, PoolInfo, UnaryOp } from '../backend.js';
import type { FloatArray, NumArray } from '../js/arrays.js';
import { binaryFns, geluValue } from '../js/elementwise.js';

/**
 * Merges adjacent output axes along which a and b are both broadcast or both not, dropping
 * axes of size 1. Returns [size, aStride, bStride] per merged axis (strides 0 or the
 * number of elements inside the axis).
 */
function coalesce(aShape: number[], bShape: number[], outShape: number[]): number[][] {
  const rank = outShape.length;
  const dims: { size: number; aFull: boolean; bFull: boolean }[] = [];
  for (let d = 0; d < rank; d++) {
    const size = outShape[d]!;
    if (size === 1) continue;
    const aFull = (aShape[d - (rank - aShape.length)] ?? 1) !== 1;
    const bFull = (bShape[d - (rank - bShape.length)] ?? 1) !== 1;
    const last = dims[dims.length - 1];
    if (last && last.aFull === aFull && last.bFull === bFull) last.size *= size;
    else dims.push({ size, aFull, bFull });
  }
  const out: number[][] = [];
  let sa = 1;
  let sb = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]!;
    out.unshift([d.size, d.aFull ? sa : 0, d.bFull ? sb : 0]);
    if (d.aFull) sa *= d.size;
    if (d.bFull) sb *= d.size;
  }
  return out;
}

/**
 * Broadcasting binary op for the patterns that cover nearly all uses: equal shapes, a scalar,
 * and one operand broadcast along leading or trailing axes (bias adds, per-row scales).
 */
export function binary(
  op: BinaryOp,
  a: NumArray,
  aShape: number[],
  b: NumArray,
  bShape: number[],
  outShape: number[],
  out: FloatArray,
): boolean {
  const g = broadcast2d(aShape, bShape, outShape);
  if (!g) return false;
  binary2d(op, a, b, out, ...g);
  return true;
}

/**
 * How many times to repeat a row of `inner` values so that the repeated row holds a multiple
 * of 4 values, at least 64, and divides `outer` rows evenly; 0 where no such count (up to 256
 * values) exists or the row is long already.
 */
export function rowRepeat(outer: number, inner: number): number {
  if (inner >= 64 || inner < 1) return 0;
  for (let k = Math.ceil(64 / inner); k * inner <= 256; k++) {
    if (outer % k === 0 && (k * inner) % 4 === 0) return k;
  }
  return 0;
}

/**
 * The broadcast as two merged axes: [outer, aOuterStride, bOuterStride, inner, aInnerStride,
 * bInnerStride], inner strides 0 or 1; null when it needs more than two.
 */
export function broadcast2d(
  aShape: number[],
  bShape: number[],
  outShape: number[],
): [number, number, number, number, number, number] | null {
  const dims = coalesce(aShape, bShape, outShape);
  if (dims.length > 2) return null;
  while (dims.length < 2) dims.unshift([1, 0, 0]);
  const [outer, aOuter, bOuter] = dims[0] as [number, number, number];
  const [inner, aInner, bInner] = dims[1] as [number, number, number];
  return [outer, aOuter, bOuter, inner, aInner, bInner];
}

function binary2d(
  op: BinaryOp,
  a: NumArray,
  b: NumArray,
  out: FloatArray,
  outer: number,
  aO: number,
  bO: number,
  inner: number,
  aI: number,
  bI: number,
): void {
  let o = 0;
  switch (op) {
    case 'add':
      for (let r = 0; r < outer; r++) {
        for (let i = 0, ia = r * aO, ib = r * bO; i < inner; i++, ia += aI, ib += bI) {
          out[o++] = a[ia]! + b[ib]!;
        }
      }
      return;
    case 'sub':
      for (let r = 0; r < outer; r++) {
        for (let i = 0, ia = r * aO, ib = r * bO; i < inner; i++, ia += aI, ib += bI) {
          out[o++] = a[ia]! - b[ib]!;
        }
      }
      return;
    case 'mul':
      for (let r = 0; r < outer; r++) {
        for (let i = 0, ia = r * aO, ib = r * bO; i < inner; i++, ia += aI, ib += bI) {
          out[o++] = a[ia]! * b[ib]!;
        }
      }
      return;
    case 'div':
      for (let r = 0; r < outer; r++) {
        for (let i = 0, ia = r * aO, ib = r * bO; i < inner; i++, ia += aI, ib += bI) {
          out[o++] = a[ia]! / b[ib]!;
        }
      }
      return;
    default: {
      const f = binaryFns[op];
      for (let r = 0; r < outer; r++) {
        for (let i = 0, ia = r * aO, ib = r * bO; i < inner; i++, ia += aI, ib += bI) {
          out[o++] = f(a[ia]!, b[ib]!);
        }
      }
    }
  }
}

const TANH_CLAMP = 7.905311107635498;

/**
 * tanh for float32 results: Eigen's rational approximation (odd degree-13 numerator, even
 * degree-6 denominator, saturating beyond ±7.9), within 3e-7 relative of
 * Math.tanh and about 7 times faster than it in V8, where tanh is the costliest op of a
 * tanh network (LeNet-5).
 */
export function tanh(v: number): number {
  if (Number.isNaN(v)) return v;
  if (Math.abs(v) < 0.0004) return v;
  if (v > TANH_CLAMP) return v > 9 ? 1 : 0.99999976;
  if (v < -TANH_CLAMP) return v < -9 ? -1 : -0.99999976;
  const x2 = v * v;
  let p = x2 * -2.76076847742355e-16 + 2.00018790482477e-13;
  p = x2 * p + -8.60467152213735e-11;
  p = x2 * p + 5.12229709037114e-8;
  p = x2 * p + 1.48572235717979e-5;
  p = x2 * p + 6.37261928875436e-4;
  p = x2 * p + 4.89352455891786e-3;
  let q = x2 * 1.19825839466702e-6 + 1.18534705686654e-4;
  q = x2 * q + 2.268434632439e-3;
  q = x2 * q + 4.89352518554385e-3;
  return (v * p) / q;
}

/**
 * erf for float32 results, within 2e-7 relative of the reference's float64 series: below 1 in
 * magnitude the Maclaurin series to x²³ (its next term is under 1e-9 of the sum), beyond it
 * 1 − erfc with Numerical Recipes' Chebyshev-fitted erfc (relative error under 1.2e-7, so
 * under 2e-8 of erf there). The reference sums up to 60 terms per value; GELU networks spend
 * most of their time on it (airbench's: two thirds of a forward pass).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 1) {
    const x2 = x * x;
    // Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1)), n = 0…11, in Horner form over x².
    let s = -1 / (39916800 * 23);
    s = x2 * s + 1 / (3628800 * 21);
    s = x2 * s - 1 / (362880 * 19);
    s = x2 * s + 1 / (40320 * 17);
    s = x2 * s - 1 / (5040 * 15);
    s = x2 * s + 1 / (720 * 13);
    s = x2 * s - 1 / (120 * 11);
    s = x2 * s + 1 / (24 * 9);
    s = x2 * s - 1 / (6 * 7);
    s = x2 * s + 1 / (2 * 5);
    s = x2 * s - 1 / 3;
    s = x2 * s + 1;
    return 1.1283791670955126 * x * s;
  }
  if (Number.isNaN(x)) return x;
  if (ax > 6) return x > 0 ? 1 : -1;
  const t = 1 / (1 + 0.5 * ax);
  const erfc =
    t *
    Math.exp(
      -ax * ax -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** The unary ops worth a loop of their own; others go to the reference kernel. */
export function unary(op: UnaryOp, x: NumArray, out: FloatArray): boolean {
  const n = x.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return true;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i]! * x[i]!;
      return true;
    case 'relu':
      for (let i = 0; i < n; i++) out[i] = Math.max(x[i]!, 0);
      return true;
    case 'step':
      for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? 1 : 0;
      return true;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = tanh(x[i]!);
      return true;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      return true;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
      return true;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
      return true;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]!));
      return true;
    case 'erf':
      for (let i = 0; i < n; i++) out[i] = erf(x[i]!);
      return true;
    case 'gelu':
      for (let i = 0; i < n; i++) out[i] = geluValue(x[i]!, erf, Math.fround);
      return true;
    default:
      return false;
  }
}

/**
 * Sum over axes when, after merging neighbours, the input is [kept, reduced] (row sums),
 * [reduced, kept] (column sums: bias gradients) or a single run. Accumulates in float32 in
 * input order, exactly as the reference does.
 */
export function reduceSum(x: NumArray, shape: number[], axes: number[], out: FloatArray): boolean {
  const r = sumPattern(shape, axes);
  if (!r) return false;
  const { outer, inner, overOuter } = r;
  out.fill(0);
  if (overOuter) {
    for (let i = 0, k = 0; i < outer; i++) {
      for (let c = 0; c < inner; c++, k++) out[c] = out[c]! + x[k]!;
    }
  } else {
    for (let i = 0, k = 0; i < outer; i++) {
      let s = 0;
      for (let c = 0; c < inner; c++, k++) s = Math.fround(s + x[k]!);
      out[i] = s;
    }
  }
  return true;
}

/**
 * A sum over axes as a sum over one axis of a [outer, inner] matrix (axes of size 1 dropped,
 * neighbours merged): over the outer axis (column sums, e.g. bias gradients) or the inner one
 * (row sums; a full sum is one row). null when kept and summed axes interleave.
 */
export function sumPattern(
  shape: number[],
  axes: number[],
): { outer: number; inner: number; overOuter: boolean } | null {
  const runs: { size: number; reduced: boolean }[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const reduced = axes.includes(d);
    const last = runs[runs.length - 1];
    if (last && last.reduced === reduced) last.size *= size;
    else runs.push({ size, reduced });
  });
  if (runs.length > 2) return null;
  if (runs.length === 0) return { outer: 1, inner: 1, overOuter: false };
  if (runs.length === 1) {
    const r = runs[0]!;
    return r.reduced
      ? { outer: 1, inner: r.size, overOuter: false }
      : { outer: 1, inner: r.size, overOuter: true };
  }
  const [r0, r1] = runs as [{ size: number; reduced: boolean }, { size: number }];
  return { outer: r0.size, inner: r1.size, overOuter: r0.reduced };
}

/**
 * A sum over a middle block of axes, between kept ones: [batch, outer, inner] summed over outer
 * (global pooling over height and width, batch > 1), as `batch` sums of sumPattern's
 * overOuter form; null for any other pattern.
 */
export function batchedSumPattern(
  shape: number[],
  axes: number[],
): { batch: number; outer: number; inner: number } | null {
  const sizes = [1, 1, 1];
  let run = 0;
  for (const [d, size] of shape.entries()) {
    if (size === 1) continue;
    const reduced = axes.includes(d);
    // Runs kept, reduced, kept, in this order: run 0 and 2 kept, run 1 reduced.
    if (run === 0 && reduced) run = 1;
    else if (run === 1 && !reduced) run = 2;
    else if (run === 2 && reduced) return null;
    sizes[run]! *= size;
  }
  return run === 2 && sizes[0]! > 1
    ? { batch: sizes[0]!, outer: sizes[1]!, inner: sizes[2]! }
    : null;
}

/** The real-pixel bounds of one pooling window. */
function window(p: PoolInfo, oh: number, ow: number): [number, number, number, number] {
  const h = oh * p.strideH - p.padTop;
  const w = ow * p.strideW - p.padLeft;
  return [Math.max(0, h), Math.min(p.inH, h + p.kh), Math.max(0, w), Math.min(p.inW, w + p.kw)];
}

/** Average pooling over real pixels; channels innermost, sums in float64 as the reference. */
export function avgPool(x: NumArray, p: PoolInfo, out: FloatArray): void {
  const C = p.channels;
  const acc = new Float64Array(C);
  for (let b = 0; b < p.batch; b++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        const [h0, h1, w0, w1] = window(p, oh, ow);
        acc.fill(0);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xi = ((b * p.inH + ih) * p.inW + iw) * C;
            for (let c = 0; c < C; c++) acc[c]! += x[xi + c]!;
          }
        }
        const count = Math.max(0, h1 - h0) * Math.max(0, w1 - w0);
        const yi = ((b * p.outH + oh) * p.outW + ow) * C;
        for (let c = 0; c < C; c++) out[yi + c] = count > 0 ? acc[c]! / count : 0;
      }
    }
  }
}

export function avgPoolBackward(dy: NumArray, p: PoolInfo, out: FloatArray): void {
  out.fill(0);
  const C = p.channels;
  for (let b = 0; b < p.batch; b++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        const [h0, h1, w0, w1] = window(p, oh, ow);
        const count = Math.max(0, h1 - h0) * Math.max(0, w1 - w0);
        const yi = ((b * p.outH + oh) * p.outW + ow) * C;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xi = ((b * p.inH + ih) * p.inW + iw) * C;
            for (let c = 0; c < C; c++) out[xi + c] = out[xi + c]! + dy[yi + c]! / count;
          }
        }
      }
    }
  }
}

/**
 * Max pooling (or its gradient when dy is given): the first maximum of each window in
 * row-major window order, per channel; a window of padding only gives -Infinity.
 */
function maxPoolImpl(x: NumArray, p: PoolInfo, out: FloatArray, dy: NumArray | null): void {
  const C = p.channels;
  const best = new Float64Array(C);
  const arg = new Int32Array(C);
  if (dy) out.fill(0);
  for (let b = 0; b < p.batch; b++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        const [h0, h1, w0, w1] = window(p, oh, ow);
        best.fill(-Infinity);
        arg.fill(-1);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const xi = ((b * p.inH + ih) * p.inW + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xi + c]!;
              if (v > best[c]!) {
                best[c] = v;
                arg[c] = xi + c;
              }
            }
          }
        }
        const yi = ((b * p.outH + oh) * p.outW + ow) * C;
        if (dy) {
          for (let c = 0; c < C; c++) {
            const a = arg[c]!;
            if (a >= 0) out[a] = out[a]! + dy[yi + c]!;
          }
        } else {
          for (let c = 0; c < C; c++) out[yi + c] = best[c]!;
        }
      }
    }
  }
}

export function maxPool(x: NumArray, p: PoolInfo, out: FloatArray): void {
  maxPoolImpl(x, p, out, null);
}

export function maxPoolBackward(dy: NumArray, x: NumArray, p: PoolInfo, out: FloatArray): void {
  maxPoolImpl(x, p, out, dy);
}
