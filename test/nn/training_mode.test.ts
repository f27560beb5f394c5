/**
 * Layers that behave differently in training and inference: BatchNormalization (batch
 * statistics and moving averages, checked against values computed by hand) and Dropout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { BatchNormalization, Dropout } = rc.layers;

/** Per-channel mean and biased variance over every axis but the last, by hand. */
function batchStats(x: Float32Array, c: number): { mean: number[]; variance: number[] } {
  const m = x.length / c;
  const mean = Array.from({ length: c }, (_, k) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += x[i * c + k]!;
    return s / m;
  });
  const variance = mean.map((mu, k) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += (x[i * c + k]! - mu) ** 2;
    return s / m;
  });
  return { mean, variance };
}

function normalized(
  x: Float32Array,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: number[],
  beta: number[],
  eps: number,
) {
  const c = gamma.length;
  return Float32Array.from(x, (v, i) => {
    const k = i % c;
    return ((v - mean[k]!) / Math.sqrt(variance[k]! + eps)) * gamma[k]! + beta[k]!;
  });
}

test('BatchNormalization: batch statistics in training, moving averages in inference', () => {
  const [eps, momentum] = [1e-3, 0.9];
  const x = rc.randn([6, 2, 3, 3], { seed: 1, mean: 2, std: 3 });
  const xv = x.dataSync() as Float32Array;
  const bn = new BatchNormalization({ momentum, epsilon: eps });
  bn.apply(x);
  const gamma = [1.5, 0.5, -2];
  const beta = [0.1, -0.3, 1];
  const mm0 = [0.5, -1, 2];
  const mv0 = [2, 0.5, 1.5];
  bn.setWeights([gamma, beta, mm0, mv0].map((v) => Float32Array.from(v)));

  // Inference: the moving statistics, and nothing moves.
  const inf = bn.apply(x, { training: false }).dataSync();
  assertClose(inf, normalized(xv, mm0, mv0, gamma, beta, eps), {
    atol: 1e-5,
    msg: 'inference output',
  });
  assert.deepEqual(Array.from(bn.movingMean.dataSync()), mm0);
  assert.deepEqual(Array.from(bn.movingVariance.dataSync()), mv0);

  // Training: the batch's statistics; the moving ones move by momentum·old + (1 − momentum)·batch.
  const { mean, variance } = batchStats(xv, 3);
  const train = bn.apply(x, { training: true }).dataSync();
  assertClose(train, normalized(xv, mean, variance, gamma, beta, eps), {
    atol: 1e-5,
    msg: 'training output',
  });
  assert.notDeepEqual(train, inf);
  const mm1 = mm0.map((m, k) => momentum * m + (1 - momentum) * mean[k]!);
  const mv1 = mv0.map((v, k) => momentum * v + (1 - momentum) * variance[k]!);
  assertClose(bn.movingMean.dataSync(), mm1, { atol: 1e-5, msg: 'moving mean' });
  assertClose(bn.movingVariance.dataSync(), mv1, { atol: 1e-5, msg: 'moving variance' });

  // Inference afterwards uses the updated moving statistics, and again does not move them.
  const inf2 = bn.apply(x).dataSync();
  assertClose(inf2, normalized(xv, mm1, mv1, gamma, beta, eps), {
    atol: 1e-5,
    msg: 'inference after a step',
  });
  assertClose(bn.movingMean.dataSync(), mm1, { atol: 1e-5 });

  // A second training step moves them again, from the new values.
  bn.apply(x, { training: true });
  assertClose(
    bn.movingMean.dataSync(),
    mm1.map((m, k) => momentum * m + (1 - momentum) * mean[k]!),
    { atol: 1e-5 },
  );
});

test('BatchNormalization: moving statistics are not trainable and get no gradient', () => {
  const bn = new BatchNormalization();
  const x = rc.randn([4, 3], { seed: 2 });
  const loss = rc.sum(rc.square(bn.apply(x, { training: true })));
  loss.backward();
  assert.deepEqual(bn.trainableWeights, [bn.gamma, bn.beta]);
  assert.deepEqual(bn.nonTrainableWeights, [bn.movingMean, bn.movingVariance]);
  assert.ok(bn.gamma.grad && bn.beta.grad);
  assert.equal(bn.movingMean.grad, null);
  assert.equal(bn.movingVariance.grad, null);
});

test('Dropout: the identity in inference', () => {
  const d = new Dropout({ rate: 0.5 });
  const x = rc.randn([10, 10], { seed: 3 });
  assert.deepEqual(d.apply(x).dataSync(), x.dataSync());
  assert.deepEqual(d.apply(x, { training: false }).dataSync(), x.dataSync());
});

test('Dropout: in training drops about `rate` of the values and scales the survivors by 1/(1 − rate)', () => {
  const rate = 0.3;
  const n = 20_000;
  const x = rc.randomUniform([n], { seed: 4, min: 0.5, max: 1.5 });
  const xv = x.dataSync();
  const y = new Dropout({ rate, seed: 5 }).apply(x, { training: true }).dataSync();
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] === 0) dropped++;
    else
      assert.ok(
        Math.abs(y[i]! - xv[i]! / (1 - rate)) <= 1e-6 * Math.abs(y[i]!),
        `survivor ${i}: ${y[i]} vs ${xv[i]} / ${1 - rate}`,
      );
  }
  // Within 5 standard deviations of n·rate.
  const sd = Math.sqrt(n * rate * (1 - rate));
  assert.ok(
    Math.abs(dropped - n * rate) < 5 * sd,
    `dropped ${dropped} of ${n}, expected about ${n * rate}`,
  );
  // The gradient is the same mask, scaled.
  x.requiresGrad = true;
  const out = new Dropout({ rate, seed: 5 }).apply(x, { training: true });
  rc.sum(out).backward();
  const g = x.grad!.dataSync();
  for (let i = 0; i < 100; i++) assert.equal(g[i], y[i] === 0 ? 0 : Math.fround(1 / (1 - rate)));
});

test('Dropout: a seeded layer draws a new mask each call, and repeats from the same seed', () => {
  const x = rc.ones([1000]);
  const a = new Dropout({ rate: 0.5, seed: 9 });
  const m1 = a.apply(x, { training: true }).dataSync();
  const m2 = a.apply(x, { training: true }).dataSync();
  assert.notDeepEqual(m1, m2);
  const b = rc.layerFromConfig({
    className: 'Dropout',
    config: JSON.parse(JSON.stringify(a.getConfig())),
  });
  assert.deepEqual(b.apply(x, { training: true }).dataSync(), m1);
  assert.deepEqual(b.apply(x, { training: true }).dataSync(), m2);
});
