/**
 * Non-finite values never pass silently. test/train/callbacks.test.ts feeds TerminateOnNaN a
 * NaN batch; here the inputs are finite and the computation overflows, as with a learning rate
 * far too high or unnormalized data. And rc.checkNumerics(true) names the op that turned finite
 * values into NaN or Infinity: a log(0) inside a model is reported as 'log'.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers } = rc;

function mlp(): rc.Sequential {
  return new rc.Sequential([
    new layers.Dense({ units: 8, activation: 'relu', inputShape: [4] }),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
}

test('TerminateOnNaN: finite data that overflows stops training and says at which step', async (t) => {
  rc.setSeed(1);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  // Six batches of 8 an epoch, in order; the fourth holds values near the float32 maximum,
  // finite, whose products overflow to Infinity.
  const rng = new rc.Random(2);
  const x = Float32Array.from({ length: 48 * 4 }, () => rng.normal());
  for (let i = 3 * 8 * 4; i < 4 * 8 * 4; i++) x[i] = 3e38;
  assert.ok(x.every(Number.isFinite));
  const y = Int32Array.from({ length: 48 }, (_, i) => i % 3);
  const stop = new rc.TerminateOnNaN();
  const errors = t.mock.method(console, 'error', () => {});
  const before: Float32Array[][] = [];
  const spy = new (class extends rc.Callback {
    override onBatchBegin(): void {
      before.push(this.model.getWeights());
    }
  })();
  const history = await model.fit(rc.tensor(x, [48, 4]), rc.tensor(y, [48], 'int32'), {
    epochs: 3,
    batchSize: 8,
    shuffle: false,
    verbose: 0,
    callbacks: [spy, stop],
    checkFinite: false, // fit's own check would stop first, with an error (non_finite_fit.test.ts)
  });
  assert.equal(stop.step, 4);
  assert.match(stop.message, /epoch 1, batch 4 \(step 4\): the loss is (NaN|-?Infinity)/);
  assert.equal(errors.mock.callCount(), 1);
  assert.deepEqual(history.epoch, [], 'no epoch completed');
  assert.equal(before.length, 4, 'no step after the overflowing one');
  assert.ok(
    model.getWeights().every((w) => w.every(Number.isFinite)),
    'the weights stay finite: the overflowing batch does not update them',
  );
});

/** y = log(x): an op the model has no business applying to zeros. */
class Log extends rc.Layer {
  static override className = 'Log';
  call(x: rc.Tensor): rc.Tensor {
    return rc.log(x);
  }
  computeOutputShape(s: rc.Shape): rc.Shape {
    return s;
  }
}

test("checkNumerics(true): a log(0) inside a model is reported as 'log', in predict and in fit", async () => {
  rc.setSeed(3);
  const model = new rc.Sequential([
    new layers.Dense({ units: 6, activation: 'relu', inputShape: [4] }),
    new Log(),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  // All-negative inputs with a positive kernel and no bias: the ReLU gives zeros, log gives -∞.
  const dense = model.layers[0] as rc.layers.Dense;
  dense.setWeights([new Float32Array(24).fill(0.5), new Float32Array(6)]);
  const x = rc.full([2, 4], -1);
  const y = rc.tensor([0, 1], [2], 'int32');

  // Off (the default): the -Infinity flows on silently into a NaN loss.
  const unchecked = model.predict(x).dataSync();
  assert.ok(
    unchecked.some((v) => !Number.isFinite(v)),
    'without the check the output is not finite',
  );

  rc.checkNumerics(true);
  try {
    const named = (e: unknown) => {
      assert.ok(
        e instanceof rc.NonFiniteError,
        `a NonFiniteError, got ${(e as Error)?.constructor?.name}`,
      );
      // The op, and the layer it ran in.
      assert.match(
        e.message,
        /^Log '[^']+': log produced -Infinity at index \d+ of its output \[2, 6\] from finite inputs/,
      );
      return true;
    };
    assert.throws(() => model.predict(x), named);
    await assert.rejects(model.fit(x, y, { epochs: 1, verbose: 0 }), named);
    // Finite all the way: the check stays quiet.
    assert.deepEqual(model.predict(rc.full([2, 4], 1)).shape, [2, 3]);
  } finally {
    rc.checkNumerics(false);
  }
});
