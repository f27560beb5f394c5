/** Reference reductions, argMax and softmax. */
import type { ReduceOp } from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';

/** Reduces x over `axes` (sorted, unique); out has the kept axes in order. */
export function reduce(
  op: ReduceOp,
  x: NumArray,
  shape: number[],
  axes: number[],
  out: FloatArray,
): void {
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  out.fill(init);
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  // Output stride of each input axis (0 for reduced axes).
  const ostride = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (!reduced[d]) {
      ostride[d] = acc;
      acc *= shape[d]!;
    }
  }
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (op === 'sum') out[o] = out[o]! + v;
    else if (op === 'max') {
      if (v > out[o]! || Number.isNaN(v)) out[o] = v;
    } else if (v < out[o]! || Number.isNaN(v)) out[o] = v;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      o += ostride[d]!;
      if (idx[d]! < shape[d]!) break;
      o -= ostride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Splits a shape around one axis: [outer, axisSize, inner]. */
function around(shape: number[], axis: number): [number, number, number] {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

export function argMax(x: NumArray, shape: number[], axis: number, out: Int32Array): void {
  const [outer, n, inner] = around(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let bi = 0;
      for (let k = 0; k < n; k++) {
        const v = x[(o * n + k) * inner + i]!;
        if (v > best) {
          best = v;
          bi = k;
        }
      }
      out[o * inner + i] = bi;
    }
  }
}

/** Softmax along an axis, subtracting the maximum first so exp never overflows. */
export function softmax(
  x: NumArray,
  shape: number[],
  axis: number,
  log: boolean,
  out: FloatArray,
): void {
  const [outer, n, inner] = around(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, x[base + k * inner]!);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(x[base + k * inner]! - max);
      const logSum = Math.log(sum);
      for (let k = 0; k < n; k++) {
        const z = x[base + k * inner]! - max;
        out[base + k * inner] = log ? z - logSum : Math.exp(z) / sum;
      }
    }
  }
}
