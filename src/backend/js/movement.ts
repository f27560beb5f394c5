/** Reference data-movement kernels: transpose, slice, pad, concat, one-hot. */
import { stridesOf } from '../../util/shape.js';
import type { NumArray } from './arrays.js';

export function transpose(x: NumArray, shape: number[], perm: number[], out: NumArray): void {
  const rank = shape.length;
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  // Stride in x for one step along each output axis.
  const step = perm.map((p) => inStrides[p]!);
  const idx = new Array<number>(rank).fill(0);
  let xi = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = x[xi]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      xi += step[d]!;
      if (idx[d]! < outShape[d]!) break;
      xi -= step[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

export function slice(
  x: NumArray,
  shape: number[],
  begin: number[],
  size: number[],
  out: NumArray,
): void {
  const rank = shape.length;
  const strides = stridesOf(shape);
  const idx = new Array<number>(rank).fill(0);
  let xi = begin.reduce((acc, b, d) => acc + b * strides[d]!, 0);
  for (let o = 0; o < out.length; o++) {
    out[o] = x[xi]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      xi += strides[d]!;
      if (idx[d]! < size[d]!) break;
      xi -= strides[d]! * size[d]!;
      idx[d] = 0;
    }
  }
}

export function pad(
  x: NumArray,
  shape: number[],
  paddings: [number, number][],
  value: number,
  out: NumArray,
): void {
  out.fill(value);
  const rank = shape.length;
  const outShape = shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const outStrides = stridesOf(outShape);
  const idx = new Array<number>(rank).fill(0);
  let oi = paddings.reduce((acc, p, d) => acc + p[0] * outStrides[d]!, 0);
  for (let i = 0; i < x.length; i++) {
    out[oi] = x[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      oi += outStrides[d]!;
      if (idx[d]! < shape[d]!) break;
      oi -= outStrides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Concatenation along `axis`: copies contiguous runs of each input in turn. */
export function concat(xs: NumArray[], shapes: number[][], axis: number, out: NumArray): void {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shapes[0]![i]!;
  const runs = shapes.map((s) => s.slice(axis).reduce((a, b) => a * b, 1));
  const total = runs.reduce((a, b) => a + b, 0);
  for (let o = 0; o < outer; o++) {
    let offset = o * total;
    xs.forEach((x, k) => {
      const run = runs[k]!;
      out.set(x.subarray(o * run, (o + 1) * run), offset);
      offset += run;
    });
  }
}

export function oneHot(indices: NumArray, depth: number, out: NumArray): void {
  out.fill(0);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (k >= 0 && k < depth) out[i * depth + k] = 1;
  }
}
