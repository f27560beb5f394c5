/** The confusion matrix: counts by hand, from ids, scores or one-hot rows, and its chart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { vision } = rc;

test('confusion counts by hand: rows are the true class, columns the prediction', () => {
  const yTrue = [0, 1, 2, 2, 1, 0, 2];
  const yPred = [0, 2, 2, 1, 1, 0, 2];
  const cm = vision.confusionCounts(yTrue, yPred, ['a', 'b', 'c']);
  assert.deepEqual(cm.counts, [
    [2, 0, 0],
    [0, 1, 1],
    [0, 1, 2],
  ]);
  assert.equal(cm.total, 7);
  assert.equal(cm.accuracy, 5 / 7);
  // The same from tensors: int32 ids and probability rows (their argmax), one-hot truth.
  const probs = rc.oneHot(yPred, 3);
  const ids = rc.tensor(yTrue, [7], 'int32');
  assert.deepEqual(vision.confusionCounts(ids, probs).counts, cm.counts);
  assert.deepEqual(vision.confusionCounts(rc.oneHot(yTrue, 3), probs, 3).counts, cm.counts);
  // A class nobody predicted still has its row and column.
  assert.deepEqual(vision.confusionCounts([0, 0], [0, 0], 2).counts, [
    [2, 0],
    [0, 0],
  ]);
});

test('confusion counts refuse mismatched lengths and out-of-range classes', () => {
  assert.throws(() => vision.confusionCounts([0, 1], [0], 2), /2 examples but yPred has 1/);
  assert.throws(() => vision.confusionCounts([0, 3], [0, 1], 2), /true class 3.*2 classes/);
  assert.throws(() => vision.confusionCounts(rc.zeros([2, 2, 2]), [0, 1]), rc.ShapeError);
});

test('the chart is a heatmap with every count written in its cell', async () => {
  const cm = await vision.confusionMatrix([0, 1, 1, 1, 0], [0, 1, 1, 0, 0], ['cat', 'dog']);
  assert.deepEqual(cm.counts, [
    [2, 0],
    [1, 2],
  ]);
  const svg = cm.chart.svg;
  assert.match(svg, /^<svg/);
  for (const text of ['cat', 'dog', 'true class', 'predicted class', '80.00% right of 5'])
    assert.ok(svg.includes(text), `the chart shows '${text}'`);
  // Four cells, four count labels.
  const counts = [...svg.matchAll(/<text[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(counts.sort(), [0, 1, 2, 2]);
});
