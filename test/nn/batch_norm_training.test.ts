/**
 * BatchNormalization in training through the backend's batch-norm kernels (moments and
 * batchNormTrainingBackward, ops/norm.ts batchNormTraining) gives the output, the gradients to
 * x, gamma and beta, and the moving statistics of rc.moments + rc.batchNorm differentiated
 * through autograd (the composed path, which backends without the kernels still take), within
 * float32 rounding; its gradient matches finite differences in float64; rc.moments is unchanged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { getBackend } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { batchNormTraining } from '../../src/ops/norm.js';
import { Random } from '../../src/util/random.js';
import { assertClose, withBackend } from '../checks.js';
import { gradcheck } from '../gradcheck.js';

/** |a − e| ≤ tol · (largest |e|) elementwise: sums in another order move values by that much. */
function near(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, msg: string) {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  assertClose(actual, expected, { atol: tol * scale + 1e-7, rtol: 0, msg });
}

interface Run {
  y: Float32Array;
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/** One training step of a BatchNormalization layer on x with loss Σ y·r. */
function step(xv: Float32Array, shape: number[], rv: Float32Array, composed: boolean): Run {
  const c = shape.at(-1)!;
  const bn = new rc.layers.BatchNormalization({ momentum: 0.8 });
  const x = rc.tensor(xv, shape);
  x.requiresGrad = true;
  bn.apply(x, { training: false });
  const rng = new Random(9);
  const gamma = Float32Array.from({ length: c }, () => rng.uniform(0.5, 2));
  const beta = Float32Array.from({ length: c }, () => rng.uniform(-1, 1));
  const mm = Float32Array.from({ length: c }, () => rng.uniform(-1, 1));
  const mv = Float32Array.from({ length: c }, () => rng.uniform(0.5, 2));
  bn.setWeights([gamma, beta, mm, mv]);
  const be = x.storage.backend as Backend & Record<string, unknown>;
  // Hiding the kernels sends the layer down the composed path (as on webgpu).
  if (composed) {
    be.moments = undefined;
    be.batchNormTrainingBackward = undefined;
  }
  try {
    const y = bn.apply(x, { training: true });
    rc.sum(rc.mul(y, rc.tensor(rv, shape))).backward();
    return {
      y: y.dataSync() as Float32Array,
      dx: x.grad!.dataSync() as Float32Array,
      dGamma: bn.gamma.grad!.dataSync() as Float32Array,
      dBeta: bn.beta.grad!.dataSync() as Float32Array,
      movingMean: bn.movingMean.dataSync() as Float32Array,
      movingVariance: bn.movingVariance.dataSync() as Float32Array,
    };
  } finally {
    delete be.moments;
    delete be.batchNormTrainingBackward;
  }
}

for (const name of [...new Set(['js', getBackend()])]) {
  test(`BatchNormalization training on ${name}: the kernels give the composed path's values and gradients`, () => {
    withBackend(name, () => {
      for (const [shape, offset] of [
        [[4, 3], 0],
        [[8, 9, 9, 16], 0],
        [[4, 17, 17, 13], 3],
        [[2, 33, 33, 24], -50],
      ] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const rng = new Random(n);
        const xv = Float32Array.from({ length: n }, () => rng.normal() * 2 + offset);
        const rv = Float32Array.from({ length: n }, () => rng.normal());
        const fused = step(xv, [...shape], rv, false);
        const composed = step(xv, [...shape], rv, true);
        const what = `${name} ${JSON.stringify(shape)} + ${offset}`;
        // The composed path sums in float32: its statistics are off by up to ~1e-6 relative,
        // which a mean of −50 against a spread of 2 turns into ~1e-5 of the output's scale (the
        // largest differences seen on js, native and wasm: 3e-7 at offset 0, 1.4e-5 at −50).
        const tol = offset === 0 ? 4e-6 : 1e-4;
        near(fused.y, composed.y, tol, `${what}: y`);
        near(fused.dx, composed.dx, tol, `${what}: dx`);
        near(fused.dGamma, composed.dGamma, tol, `${what}: dGamma`);
        near(fused.dBeta, composed.dBeta, 1e-5, `${what}: dBeta`);
        near(fused.movingMean, composed.movingMean, 1e-5, `${what}: moving mean`);
        near(fused.movingVariance, composed.movingVariance, 1e-4, `${what}: moving variance`);
      }
    });
  });
}

test('batchNormTraining: gradients to x, gamma and beta match finite differences (float64)', () => {
  const rng = new Random(3);
  const [rows, c] = [10, 3];
  const vals = (k: number, s = 1, o = 0) => Array.from({ length: k }, () => rng.normal() * s + o);
  gradcheck(
    'batchNormTraining',
    (x, g, b) => batchNormTraining(x!, g!, b!, 1e-3).y,
    [
      { shape: [rows, c], values: vals(rows * c, 2, 1) },
      { shape: [c], values: vals(c, 0.5, 1) },
      { shape: [c], values: vals(c) },
    ],
    { rtol: 1e-5, atol: 1e-6 },
  );
});

test('batchNormTraining refuses bad gamma, beta and epsilon as batchNorm does', () => {
  const x = rc.ones([4, 3]);
  assert.throws(() => batchNormTraining(x, rc.ones([2]), rc.zeros([3])), rc.ShapeError);
  assert.throws(() => batchNormTraining(x, rc.ones([3]), rc.zeros([3, 1])), rc.ShapeError);
  assert.throws(() => batchNormTraining(x, rc.ones([3]), rc.zeros([3]), 0), rc.ArgumentError);
  assert.throws(() => batchNormTraining(rc.scalar(1), rc.ones([1]), rc.zeros([1])), rc.ShapeError);
});

test('rc.moments: the mean once, with and without keepDims, as mean() gives it', () => {
  const x = rc.randn([3, 4, 5], { seed: 2, mean: 1 });
  for (const axes of [[0, 1], [2], [0, 2]]) {
    for (const keepDims of [false, true]) {
      const { mean, variance } = rc.moments(x, axes, keepDims);
      const m = rc.mean(x, axes, keepDims);
      assert.deepEqual(mean.shape, m.shape);
      assert.deepEqual(Array.from(mean.dataSync()), Array.from(m.dataSync()));
      assert.deepEqual(variance.shape, m.shape);
      const v = rc.mean(rc.square(rc.sub(x, rc.mean(x, axes, true))), axes, keepDims);
      assert.deepEqual(Array.from(variance.dataSync()), Array.from(v.dataSync()));
    }
  }
  // Its gradient still flows through both (to x).
  gradcheck('moments', (t) => rc.add(rc.moments(t!, [0]).mean, rc.moments(t!, [0]).variance), [
    { shape: [5, 2], values: [1, 2, -1, 0.5, 3, 1, 0.2, -2, 4, 0] },
  ]);
});
