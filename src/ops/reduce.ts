/** Reductions: sum, mean, max, min over axes, and argMax. */
import { record } from '../autograd.js';
import type { ReduceOp } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { fmtShape, ShapeError } from '../util/errors.js';
import { normalizeAxes, normalizeAxis } from '../util/shape.js';
import { div, equal, mul } from './elementwise.js';
import { broadcastTo, reshape } from './shape.js';
import { be, expectFloat, expectTensor, wrap } from './util.js';

/** One axis or several; negative axes count from the end (−1 is the last). */
export type Axes = number | number[];

/** The shape with reduced axes kept as 1 (so results broadcast against the input). */
function keptShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceKernel(op: ReduceOp, x: Tensor, axes: number[], keepDims: boolean): Tensor {
  const dropped = x.shape.filter((_, i) => !axes.includes(i));
  const out = wrap(be().reduce(op, x.storage, x.shape, axes), dropped);
  return keepDims ? wrap(out.storage, keptShape(x.shape, axes)) : out;
}

function checkNonEmpty(x: Tensor, axes: number[], op: string): void {
  if (axes.some((a) => x.shape[a] === 0)) {
    throw new ShapeError(`${op}: cannot reduce over an empty axis of ${fmtShape(x.shape)}.`);
  }
}

/** Sum over `axis` (all axes by default). */
export function sum(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  expectFloat(expectTensor(x, 'sum', 'x'), 'sum', 'x');
  const axes = normalizeAxes(axis, x.rank, 'sum');
  const out = reduceKernel('sum', x, axes, keepDims);
  return record('sum', out, [x], (dy) => [
    broadcastTo(reshape(dy, keptShape(x.shape, axes)), x.shape),
  ]);
}

/** Mean over `axis` (all axes by default). */
export function mean(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  expectFloat(expectTensor(x, 'mean', 'x'), 'mean', 'x');
  const axes = normalizeAxes(axis, x.rank, 'mean');
  checkNonEmpty(x, axes, 'mean');
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return div(sum(x, axes, keepDims), count);
}

/** Max or min: the gradient is shared equally among tied extremes (as TensorFlow does). */
function extreme(op: 'max' | 'min', x: Tensor, axis: Axes | undefined, keepDims: boolean): Tensor {
  expectFloat(expectTensor(x, op, 'x'), op, 'x');
  const axes = normalizeAxes(axis, x.rank, op);
  checkNonEmpty(x, axes, op);
  const out = reduceKernel(op, x, axes, keepDims);
  return record(op, out, [x], (dy) => {
    const kept = keptShape(x.shape, axes);
    const mask = equal(x, reshape(out, kept));
    const count = reduceKernel('sum', mask, axes, true);
    return [mul(mask, div(reshape(dy, kept), count))];
  });
}

/**
 * The largest value over `axis` (all axes by default); `keepDims` keeps the reduced axes as 1.
 * The gradient goes to the first maximum.
 * @throws ArgumentError for an axis outside the tensor's rank
 */
export function max(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  return extreme('max', x, axis, keepDims);
}

/**
 * The smallest value over `axis` (all axes by default); `keepDims` keeps the reduced axes as 1.
 * The gradient goes to the first minimum.
 * @throws ArgumentError for an axis outside the tensor's rank
 */
export function min(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  return extreme('min', x, axis, keepDims);
}

/** int32 index of the largest value along `axis` (first on ties). */
export function argMax(x: Tensor, axis = -1): Tensor {
  expectTensor(x, 'argMax', 'x');
  const a = normalizeAxis(axis, x.rank, 'argMax');
  checkNonEmpty(x, [a], 'argMax');
  return wrap(
    be().argMax(x.storage, x.shape, a),
    x.shape.filter((_, i) => i !== a),
  );
}
