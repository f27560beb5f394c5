/**
 * The metrics' on-device forms (what fit and evaluate use where reads are asynchronous: webgpu)
 * give the totals of the CPU forms, on the cases where they could part: ties (the lower class
 * wins), NaN rows (a miss), infinities, labels outside the classes, one-hot labels, top-5, and
 * binary predictions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { metrics } = rc;

function both(m: rc.metrics.MetricFn, yTrue: rc.Tensor, yPred: rc.Tensor): [number, number] {
  const cpu = m(yTrue, yPred);
  const dev = m.onDevice!(yTrue, yPred);
  assert.equal(dev.count, cpu.count);
  assert.deepEqual(dev.total.shape, []);
  return [dev.total.item(), cpu.total];
}

test('accuracy and top-k on the device equal the CPU forms on random scores with ties, NaN and bad labels', () => {
  const rng = new rc.Random(5);
  for (const [n, c] of [
    [64, 10],
    [7, 3],
    [33, 6],
  ] as const) {
    const p = new Float32Array(n * c);
    // Scores from a few levels, so that ties are common.
    for (let i = 0; i < p.length; i++) p[i] = rng.int(4) / 4;
    p[3] = Number.NaN;
    p[c + 1] = Number.POSITIVE_INFINITY;
    p[2 * c] = Number.NEGATIVE_INFINITY;
    const ids = Int32Array.from({ length: n }, () => rng.int(c));
    ids[4] = c; // outside the classes: a miss
    const yPred = rc.tensor(p, [n, c]);
    const labels = rc.tensor(ids, [n], 'int32');
    for (const m of [
      metrics.accuracy(),
      metrics.topKCategoricalAccuracy(2),
      metrics.topKCategoricalAccuracy(5),
    ]) {
      const [dev, cpu] = both(m, labels, yPred);
      assert.equal(dev, cpu, `${m.name} ${n}×${c}`);
    }
    // One-hot labels (of the in-range ids).
    const inRange = Int32Array.from(ids, (k) => Math.min(k, c - 1));
    const oneHot = rc.oneHot(rc.tensor(inRange, [n], 'int32'), c);
    const [dev, cpu] = both(metrics.accuracy(), oneHot, yPred);
    assert.equal(dev, cpu, `one-hot ${n}×${c}`);
  }
});

test('binary accuracy on the device equals the CPU form, NaN a miss', () => {
  const yPred = rc.tensor([[0.2], [0.7], [Number.NaN], [0.5], [0.51], [Number.POSITIVE_INFINITY]]);
  const yTrue = rc.tensor([[0], [1], [1], [1], [1], [0]]);
  for (const m of [metrics.accuracy(), metrics.binaryAccuracy()]) {
    const [dev, cpu] = both(m, yTrue, yPred);
    assert.equal(cpu, 3);
    assert.equal(dev, cpu);
  }
});

test('both forms refuse labels that do not match the predictions, and agree on an empty batch', () => {
  const yPred = rc.tensor(new Float32Array(4 * 10).fill(0.1), [4, 10]);
  const cases: [string, rc.metrics.MetricFn, rc.Tensor, rc.Tensor][] = [
    ['too few ids', metrics.accuracy(), rc.tensor([1, 2, 3], [3], 'int32'), yPred],
    ['ids of rank 2', metrics.accuracy(), rc.tensor([1, 2, 3, 4], [2, 2], 'int32'), yPred],
    ['one-hot of 5 classes', metrics.accuracy(), rc.zeros([4, 5]), yPred],
    ['one-hot rows of another batch', metrics.accuracy(), rc.zeros([8, 10]), yPred],
    ['float ids', metrics.topKCategoricalAccuracy(5), rc.tensor([1, 2, 3, 4]), yPred],
    [
      'rank-3 predictions',
      metrics.accuracy(),
      rc.tensor([1, 2], [2], 'int32'),
      rc.zeros([2, 2, 5]),
    ],
    ['binary: fewer labels', metrics.binaryAccuracy(), rc.zeros([3]), rc.zeros([4, 1])],
    ['binary: a label per class', metrics.accuracy(), rc.zeros([4, 4]), rc.zeros([4, 1])],
  ];
  for (const [what, m, yTrue, p] of cases) {
    assert.throws(() => m(yTrue, p), rc.ShapeError, `${what} (CPU)`);
    assert.throws(() => m.onDevice!(yTrue, p), rc.ShapeError, `${what} (device)`);
  }
  // [n, 1] class ids (Keras's sparse labels) and [n] labels against [n, 1] binary predictions
  // are accepted by both forms.
  const ids = rc.tensor([0, 3, 9, 1], [4, 1], 'int32');
  const [d1, c1] = both(metrics.accuracy(), ids, yPred);
  assert.equal(d1, c1);
  assert.equal(c1, 1);
  const [dev, cpu] = both(metrics.binaryAccuracy(), rc.tensor([1, 0]), rc.tensor([[0.9], [0.8]]));
  assert.equal(cpu, 1);
  assert.equal(dev, cpu);
  // An empty batch counts nothing on either form.
  for (const m of [metrics.accuracy(), metrics.topKCategoricalAccuracy(3)]) {
    const [d, c] = both(m, rc.tensor([], [0], 'int32'), rc.zeros([0, 10]));
    assert.equal(c, 0);
    assert.equal(d, 0);
  }
});
