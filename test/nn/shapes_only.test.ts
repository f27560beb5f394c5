/**
 * buildShapesOnly: a model built for its shapes has the same layers, output shapes and
 * parameter counts as one built with values, holds no values, and says so when asked to compute.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { buildShapesOnly } from '../../src/nn/layer.js';

test('the same summary and parameter counts as a model with values', () => {
  for (const build of [
    () => rc.models.lenet5(),
    () => rc.models.resnet18({ inputShape: [32, 32, 3], numClasses: 10, cifarStem: true }),
    () => rc.models.googlenet({ inputShape: [64, 64, 3], numClasses: 5 }),
  ]) {
    rc.clearSession();
    const full = build();
    rc.clearSession();
    const shapes = buildShapesOnly(build);
    assert.equal(shapes.countParams(), full.countParams());
    assert.equal(
      shapes.trainableWeights.reduce((n, w) => n + w.size, 0),
      full.trainableWeights.reduce((n, w) => n + w.size, 0),
    );
    assert.equal(shapes.summary({ print: false }), full.summary({ print: false }));
    assert.deepEqual(
      shapes.weights.map((w) => [w.name, w.shape]),
      full.weights.map((w) => [w.name, w.shape]),
    );
  }
});

test('its weights have no values: computing with them is an ArgumentError that says why', () => {
  const model = buildShapesOnly(
    () => new rc.Sequential([new rc.layers.Dense({ units: 2, inputShape: [3] })]),
  );
  assert.throws(
    () => model.predict(rc.ones([1, 3])).dataSync(),
    (e: unknown) =>
      e instanceof rc.ArgumentError && /made for its shape only \(buildShapesOnly/.test(e.message),
  );
  assert.throws(() => model.getWeights(), rc.ArgumentError);
  // After it, layers get values again.
  const real = new rc.Sequential([new rc.layers.Dense({ units: 2, inputShape: [3] })]);
  assert.deepEqual(real.predict(rc.ones([1, 3])).shape, [1, 2]);
});
