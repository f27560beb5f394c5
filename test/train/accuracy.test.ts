/**
 * Accuracy as Keras defines it: argmax(prediction) == label, the first maximum winning, and a
 * prediction holding NaN is a miss. A model that cannot tell classes apart must not report 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers, metrics } = rc;

function run(m: rc.metrics.MetricFn, yTrue: rc.Tensor, p: number[][]) {
  const r = m(yTrue, rc.tensor(p));
  return r.total / r.count;
}

test('accuracy: ties go to the first class, NaN rows miss, out-of-range ids miss', () => {
  const acc = metrics.accuracy();
  const ids = rc.tensor([0, 1, 2, 1], [4], 'int32');
  // All equal: argmax is class 0, so only the example labelled 0 is a hit.
  assert.equal(
    run(acc, ids, [
      [0.25, 0.25, 0.25, 0.25],
      [1, 1, 1, 1],
      [0, 0, 0, 0],
      [3, 3, 3, 3],
    ]),
    0.25,
  );
  // A tie between the true class and an earlier one: the earlier one wins.
  assert.equal(run(acc, rc.tensor([1], [1], 'int32'), [[0.5, 0.5, 0]]), 0);
  assert.equal(run(acc, rc.tensor([0], [1], 'int32'), [[0.5, 0.5, 0]]), 1);
  // NaN anywhere in the row: a miss, even where the true class would win.
  assert.equal(
    run(acc, ids, [
      [Number.NaN, 0, 0],
      [0, 1, Number.NaN],
      [Number.NaN, Number.NaN, Number.NaN],
      [0, 1, 0],
    ]),
    0.25,
  );
  // One-hot labels take the same rule.
  const oneHot = rc.tensor([
    [1, 0],
    [0, 1],
  ]);
  assert.equal(
    run(acc, oneHot, [
      [0.5, 0.5],
      [0.5, 0.5],
    ]),
    0.5,
  );
  // A class id the predictions do not have is a miss, never a hit.
  assert.equal(run(acc, rc.tensor([7], [1], 'int32'), [[0.2, 0.8]]), 0);
});

test('top-k accuracy breaks ties the same way; binary accuracy counts NaN as a miss', () => {
  const top2 = metrics.topKCategoricalAccuracy(2);
  // Four equal scores: the top 2 are classes 0 and 1.
  const ids = rc.tensor([0, 1, 2, 3], [4], 'int32');
  const flat = [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
  ];
  assert.equal(run(top2, ids, flat), 0.5);
  const bin = metrics.binaryAccuracy();
  // Label 0 and a NaN prediction: NaN > 0.5 is false, but NaN is not a right answer.
  assert.equal(run(bin, rc.tensor([[0], [0], [1]]), [[Number.NaN], [0.2], [0.9]]), 2 / 3);
});

test('a softmax Dense with zero weights reports the share of class 0, not 1, in fit, evaluate and the logs', async () => {
  rc.setSeed(1);
  const model = new rc.Sequential([
    new layers.Dense({ units: 3, activation: 'softmax', inputShape: [4] }),
  ]);
  model.setWeights([new Float32Array(12), new Float32Array(3)]);
  model.compile({
    optimizer: new rc.SGD({ learningRate: 0 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const x = rc.randn([30, 4], { seed: 2 });
  const y = rc.tensor(
    Int32Array.from({ length: 30 }, (_, i) => i % 3),
    [30],
    'int32',
  );
  const batchAcc: number[] = [];
  const spy = new (class extends rc.Callback {
    override onBatchEnd(_b: number, logs: rc.Logs): void {
      batchAcc.push(logs.accuracy!);
    }
  })();
  const h = await model.fit(x, y, {
    epochs: 1,
    batchSize: 10,
    verbose: 0,
    shuffle: false,
    callbacks: [spy],
  });
  // Every output is [1/3, 1/3, 1/3]: argmax 0, right for a third of the examples.
  assert.ok(Math.abs(h.history.accuracy![0]! - 1 / 3) < 1e-9, `fit: ${h.history.accuracy}`);
  assert.ok(
    batchAcc.every((a) => a < 0.5),
    `progress: ${batchAcc}`,
  );
  const { accuracy } = await model.evaluate(x, y, { verbose: 0 });
  assert.ok(Math.abs(accuracy! - 1 / 3) < 1e-9, `evaluate: ${accuracy}`);
});

test('evaluate with the NaN check off: NaN outputs score 0, never 1', async () => {
  const model = new rc.Sequential([
    new layers.Dense({ units: 3, activation: 'softmax', inputShape: [2] }),
  ]);
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = rc.full([6, 2], Number.NaN);
  const y = rc.tensor([0, 1, 2, 0, 1, 2], [6], 'int32');
  const logs = await model.evaluate(x, y, { checkFinite: false });
  assert.equal(logs.accuracy, 0);
  assert.ok(Number.isNaN(logs.loss));
});
