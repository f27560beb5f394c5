/**
 * valueAndGrads (src/autograd.ts): gradients with respect to the watched tensors only, equal to
 * what backward() gives them, while tensors with requiresGrad (weights) get no .grad and take no
 * part; an inner value can be watched as it is computed; the function must return a scalar.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { valueAndGrads } from '../../src/autograd.js';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

test('the gradient of an input equals backward(), and the weights get none', () => {
  const x = rc.tensor([0.5, -1, 2, 0.25, 3, -0.5], [2, 3]);
  const w = rc.tensor([0.1, 0.2, -0.3, 0.4, 0.5, -0.6], [3, 2]);
  w.requiresGrad = true;
  const f = (a: rc.Tensor) => rc.sum(rc.square(rc.relu(rc.matmul(a, w))));
  const { value, grads } = valueAndGrads((watch) => f(watch(x)));
  assert.equal(w.grad, null, 'the weight got a gradient');
  assert.equal(x.requiresGrad, false);
  assert.equal(value.node, null, 'the value is off the tape');
  // The reference: x as a leaf that asks for its gradient, through backward().
  const xr = rc.tensor(x.dataSync(), [2, 3]);
  xr.requiresGrad = true;
  const ref = f(xr);
  ref.backward();
  assertClose(grads[0]!.dataSync(), xr.grad!.dataSync(), { atol: 1e-6 });
  assertClose(value.dataSync(), ref.dataSync(), { atol: 1e-6 });
});

test('an inner value is watched as it is computed: the gradient stops there', () => {
  const x = rc.tensor([1, 2, 3], [3]);
  const { grads } = valueAndGrads((watch) => {
    const h = watch(rc.mul(x, 2)); // h = 2x
    return rc.sum(rc.mul(h, h)); // d/dh = 2h = 4x
  });
  assert.deepEqual(Array.from(grads[0]!.dataSync()), [4, 8, 12]);
  // A watched tensor that the value does not depend on gets zeros.
  const other = valueAndGrads((watch) => {
    watch(rc.ones([2]));
    return rc.sum(x);
  });
  assert.deepEqual(Array.from(other.grads[0]!.dataSync()), [0, 0]);
});

test('a tensor already on the tape is cut from its history when watched', () => {
  const w = rc.tensor([3], [1]);
  w.requiresGrad = true;
  const h = rc.mul(w, 2); // on the tape (depends on w)
  const { grads } = valueAndGrads((watch) => rc.sum(rc.square(watch(h))));
  assert.deepEqual(Array.from(grads[0]!.dataSync()), [12]);
  assert.equal(w.grad, null);
});

test('a non-scalar value is refused with a GradientError; the mode is restored', () => {
  assert.throws(
    () => valueAndGrads((watch) => rc.mul(watch(rc.ones([2])), 3)),
    (e: Error) => e instanceof rc.GradientError && /must return a scalar/.test(e.message),
  );
  // Recording as before: a weight's gradient comes from backward() again.
  const w = rc.tensor([2], [1]);
  w.requiresGrad = true;
  rc.sum(rc.mul(w, w)).backward();
  assert.deepEqual(Array.from(w.grad!.dataSync()), [4]);
  assert.ok(rc.isGradEnabled());
});
