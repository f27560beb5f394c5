/** Activation functions and softmax. */
import { record } from '../autograd.js';
import type { ActivationGradOp } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { normalizeAxis } from '../util/shape.js';
import { add, erf, exp, greater, mul, square, sub, unaryOp, where } from './elementwise.js';
import { sum } from './reduce.js';
import { be, expectFloat, expectTensor, wrap } from './util.js';

/**
 * An activation's gradient: the backend's one-pass kernel where it has one (the same values),
 * else the composed ops. Three passes over a big activation cost three times one.
 */
function activationGrad(
  op: ActivationGradOp,
  dy: Tensor,
  v: Tensor,
  composed: () => Tensor,
): Tensor {
  if (dy.dtype === 'float32' && dy.size === v.size) {
    const s = be().activationGrad?.(op, dy.storage, v.storage);
    if (s) return wrap(s, v.shape);
  }
  return composed();
}

/**
 * max(x, 0), elementwise; the gradient at 0 is 0.
 * @throws DTypeError for an int32 tensor
 */
export function relu(x: Tensor): Tensor {
  return unaryOp('relu', 'relu', x, (dy, v) =>
    activationGrad('relu', dy, v, () => mul(dy, unaryOp('step', 'step', v, null))),
  );
}

/** The hyperbolic tangent, elementwise: values in (−1, 1). */
export function tanh(x: Tensor): Tensor {
  // tanh' = 1 - tanh²
  return unaryOp('tanh', 'tanh', x, (dy, _v, out) =>
    activationGrad('tanh', dy, out, () => mul(dy, sub(1, mul(out, out)))),
  );
}

/** σ(x) = 1 / (1 + e⁻ˣ), elementwise: values in (0, 1). */
export function sigmoid(x: Tensor): Tensor {
  // σ' = σ(1 - σ)
  return unaryOp('sigmoid', 'sigmoid', x, (dy, _v, out) =>
    activationGrad('sigmoid', dy, out, () => mul(dy, mul(out, sub(1, out)))),
  );
}

/** max(x, alpha·x) for alpha < 1. */
export function leakyRelu(x: Tensor, alpha = 0.2): Tensor {
  expectTensor(x, 'leakyRelu', 'x');
  return where(greater(x, 0), x, mul(x, alpha));
}

/** x for x > 0, alpha·(eˣ − 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  expectTensor(x, 'elu', 'x');
  return where(greater(x, 0), x, mul(sub(exp(x), 1), alpha));
}

/**
 * The exact GELU: x·Φ(x) = x/2·(1 + erf(x/√2)). One backend pass each way: the forward value is
 * x·0.5·(1 + erf(x·√½)) with each product rounded to float32 in that order, as these ops composed
 * give it.
 */
export function gelu(x: Tensor): Tensor {
  expectTensor(x, 'gelu', 'x');
  return unaryOp('gelu', 'gelu', x, (dy, v) =>
    activationGrad('gelu', dy, v, () => geluGradComposed(dy, v)),
  );
}

/** 1/√(2π): the standard normal density at 0. */
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU's gradient dy·(Φ(x) + x·φ(x)) from composed ops, in the order every backend's one-pass
 * kernel follows: Φ = (1 + erf(x·√½))·0.5, φ = exp(x·x·(−0.5))·(1/√(2π)).
 */
function geluGradComposed(dy: Tensor, x: Tensor): Tensor {
  const cdf = mul(add(1, erf(mul(x, Math.SQRT1_2))), 0.5);
  const pdf = mul(exp(mul(square(x), -0.5)), INV_SQRT_2PI);
  return mul(dy, add(cdf, mul(x, pdf)));
}

/** x·σ(x) (also called SiLU). */
export function swish(x: Tensor): Tensor {
  expectTensor(x, 'swish', 'x');
  return mul(x, sigmoid(x));
}

/** softmax along `axis`: exp(x) / sum(exp(x)), computed stably. */
export function softmax(x: Tensor, axis = -1): Tensor {
  expectFloat(expectTensor(x, 'softmax', 'x'), 'softmax', 'x');
  const a = normalizeAxis(axis, x.rank, 'softmax');
  const out = wrap(be().softmax(x.storage, x.shape, a, false), x.shape);
  if (a === x.rank - 1) out.logits = x;
  // dx = y ⊙ (dy − Σ dy⊙y)
  return record('softmax', out, [x], (dy) => [mul(out, sub(dy, sum(mul(dy, out), a, true)))]);
}

/** log(softmax(x)) along `axis`, without forming softmax first (stable for large logits). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  expectFloat(expectTensor(x, 'logSoftmax', 'x'), 'logSoftmax', 'x');
  const a = normalizeAxis(axis, x.rank, 'logSoftmax');
  const out = wrap(be().softmax(x.storage, x.shape, a, true), x.shape);
  // dx = dy − softmax ⊙ Σ dy
  return record('logSoftmax', out, [x], (dy) => [sub(dy, mul(exp(out), sum(dy, a, true)))]);
}
