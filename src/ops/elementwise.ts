/** Elementwise arithmetic with NumPy broadcasting, and the unary math functions. */
import { record } from '../autograd.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { broadcastShapes } from '../util/shape.js';
import { sumTo } from './shape.js';
import { asTensor, be, expectFloat, expectSameShape, type TensorOrNumber, wrap } from './util.js';

function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor, shape: number[]): Tensor {
  return wrap(be().binary(op, a.storage, a.shape, b.storage, b.shape, shape), shape);
}

/** Runs a broadcasting binary op; `grads` gives dL/da and dL/db at full (broadcast) shape. */
function binaryOp(
  op: BinaryOp,
  name: string,
  x: TensorOrNumber,
  y: TensorOrNumber,
  grads: (dy: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null],
): Tensor {
  const a = expectFloat(asTensor(x, name, 'a'), name, 'a');
  const b = expectFloat(asTensor(y, name, 'b'), name, 'b');
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = binaryKernel(op, a, b, shape);
  return record(name, out, [a, b], (dy) => {
    const [ga, gb] = grads(dy, a, b, out);
    return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
  });
}

/**
 * a + b, elementwise. Broadcasts as NumPy does (shapes aligned from the right; an axis of 1 stretches); either side may be a plain number.
 * @throws ShapeError if the shapes do not broadcast
 * @throws DTypeError for int32 operands
 * @example
 * ```ts
 * rc.add(rc.tensor([[1, 2], [3, 4]]), rc.tensor([10, 20])).toArray();   // [[11, 22], [13, 24]]
 * ```
 */
export function add(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binaryOp('add', 'add', a, b, (dy) => [dy, dy]);
}

/**
 * a − b, elementwise. Broadcasts as NumPy does (shapes aligned from the right; an axis of 1 stretches); either side may be a plain number.
 * @throws ShapeError if the shapes do not broadcast
 * @throws DTypeError for int32 operands
 */
export function sub(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binaryOp('sub', 'sub', a, b, (dy) => [dy, neg(dy)]);
}

/**
 * a · b, elementwise (not the matrix product: see {@link matmul}). Broadcasts as NumPy does (shapes aligned from the right; an axis of 1 stretches); either side may be a plain number.
 * @throws ShapeError if the shapes do not broadcast
 * @throws DTypeError for int32 operands
 */
export function mul(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binaryOp('mul', 'mul', a, b, (dy, x, y) => [mul(dy, y), mul(dy, x)]);
}

/**
 * a / b, elementwise (division by 0 gives ±Infinity or NaN, as in IEEE arithmetic). Broadcasts as NumPy does (shapes aligned from the right; an axis of 1 stretches); either side may be a plain number.
 * @throws ShapeError if the shapes do not broadcast
 * @throws DTypeError for int32 operands
 */
export function div(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  // d(x/y)/dy = -x/y² = -out/y
  return binaryOp('div', 'div', a, b, (dy, _x, y, out) => [div(dy, y), neg(div(mul(dy, out), y))]);
}

/** a^b; the gradient for b uses log(a), so b's gradient exists only where a > 0. */
export function pow(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binaryOp('pow', 'pow', a, b, (dy, x, y, out) => [
    mul(dy, mul(y, pow(x, sub(y, 1)))),
    mul(dy, mul(out, log(x))),
  ]);
}

/** Elementwise larger value; on ties the gradient goes to a. */
export function maximum(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binaryOp('maximum', 'maximum', a, b, (dy, x, y) => {
    const bWins = binaryKernel('greater', y, x, broadcastShapes(x.shape, y.shape, 'maximum'));
    return [mul(dy, sub(1, bWins)), mul(dy, bWins)];
  });
}

/** Elementwise smaller value; on ties the gradient goes to a. */
export function minimum(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  return binaryOp('minimum', 'minimum', a, b, (dy, x, y) => {
    const bWins = binaryKernel('greater', x, y, broadcastShapes(x.shape, y.shape, 'minimum'));
    return [mul(dy, sub(1, bWins)), mul(dy, bWins)];
  });
}

/** 1 where a == b, else 0 (float32; no gradient). */
export function equal(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  const x = asTensor(a, 'equal', 'a');
  const y = asTensor(b, 'equal', 'b');
  return binaryKernel('equal', x, y, broadcastShapes(x.shape, y.shape, 'equal'));
}

/** 1 where a > b, else 0 (float32; no gradient). */
export function greater(a: TensorOrNumber, b: TensorOrNumber): Tensor {
  const x = asTensor(a, 'greater', 'a');
  const y = asTensor(b, 'greater', 'b');
  return binaryKernel('greater', x, y, broadcastShapes(x.shape, y.shape, 'greater'));
}

/** Runs a unary kernel; `grad(dy, x, out)` gives dL/dx. */
export function unaryOp(
  op: UnaryOp,
  name: string,
  x: Tensor,
  grad: ((dy: Tensor, x: Tensor, out: Tensor) => Tensor) | null,
): Tensor {
  asTensor(x, name, 'x');
  expectFloat(x, name, 'x');
  const out = wrap(be().unary(op, x.storage), x.shape);
  if (!grad) return out;
  return record(name, out, [x], (dy) => [grad(dy, x, out)]);
}

/** −x, elementwise. */
export function neg(x: Tensor): Tensor {
  return unaryOp('neg', 'neg', x, (dy) => neg(dy));
}

/** |x|, elementwise; its gradient at 0 is 0. */
export function abs(x: Tensor): Tensor {
  return unaryOp('abs', 'abs', x, (dy, v) => mul(dy, unaryOp('sign', 'sign', v, null)));
}

/** eˣ, elementwise. */
export function exp(x: Tensor): Tensor {
  return unaryOp('exp', 'exp', x, (dy, _v, out) => mul(dy, out));
}

/** The natural logarithm, elementwise (−Infinity at 0, NaN below). */
export function log(x: Tensor): Tensor {
  return unaryOp('log', 'log', x, (dy, v) => div(dy, v));
}

/** √x, elementwise (NaN below 0). */
export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', 'sqrt', x, (dy, _v, out) => div(mul(dy, 0.5), out));
}

/** 1 / sqrt(x). */
export function rsqrt(x: Tensor): Tensor {
  // d(x^-1/2) = -1/2 x^-3/2 = -1/2 out³
  return unaryOp('rsqrt', 'rsqrt', x, (dy, _v, out) => mul(dy, mul(-0.5, mul(out, square(out)))));
}

/** x², elementwise. */
export function square(x: Tensor): Tensor {
  return unaryOp('square', 'square', x, (dy, v) => mul(dy, mul(v, 2)));
}

/** −1, 0 or 1 by the sign of x, elementwise (no gradient: it is 0 almost everywhere). */
export function sign(x: Tensor): Tensor {
  return unaryOp('sign', 'sign', x, null);
}

/** The Gauss error function (for the exact GELU). */
export function erf(x: Tensor): Tensor {
  // d erf(x)/dx = 2/sqrt(pi) exp(-x²)
  return unaryOp('erf', 'erf', x, (dy, v) =>
    mul(dy, mul(2 / Math.sqrt(Math.PI), exp(neg(square(v))))),
  );
}

/** where(cond, a, b): a where cond != 0, else b; all three the same shape. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  expectSameShape(asTensor(cond, 'where', 'cond'), asTensor(a, 'where', 'a'), 'where', 'cond', 'a');
  expectSameShape(a, asTensor(b, 'where', 'b'), 'where', 'a', 'b');
  const out = wrap(be().select(cond.storage, a.storage, b.storage), a.shape);
  return record('where', out, [a, b], (dy) => {
    const zero = wrap(be().fill(dy.size, 0, 'float32'), dy.shape);
    return [where(cond, dy, zero), where(cond, zero, dy)];
  });
}
