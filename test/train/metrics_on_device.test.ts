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
