/**
 * fit() and evaluate() stop on NaN and infinity by default, and say where: the example's
 * index in the user's own data (not its shuffled position), or the epoch and batch where the
 * loss stopped being a number. `checkFinite: false` turns the checks off. Weights that are not
 * finite are refused wherever they enter (setWeights, a saved model, PyTorch weights) and
 * never exported to ONNX.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers } = rc;

function mlp(): rc.Sequential {
  const m = new rc.Sequential([
    new layers.Dense({ units: 8, activation: 'relu', inputShape: [4] }),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function data(n = 40): { x: Float32Array; y: Int32Array } {
  const r = new rc.Random(7);
  return {
    x: Float32Array.from({ length: n * 4 }, () => r.normal()),
    y: Int32Array.from({ length: n }, (_, i) => i % 3),
  };
}

const isNonFinite = (re: RegExp) => (e: unknown) => {
  assert.ok(
    e instanceof rc.NonFiniteError,
    `a NonFiniteError, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
  );
  assert.match(e.message, re);
  return true;
};

for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
  test(`fit refuses one ${bad} pixel, naming the example in the user's data; the weights stay as they were`, async () => {
    rc.setSeed(1);
    const model = mlp();
    const { x, y } = data();
    x[23 * 4 + 2] = bad; // example 23, value 2
    const before = model.getWeights();
    await assert.rejects(
      model.fit(rc.tensor(x, [40, 4]), rc.tensor(y, [40], 'int32'), {
        epochs: 2,
        batchSize: 8,
        verbose: 0,
      }),
      isNonFinite(
        new RegExp(
          `x\\[23\\] \\(example 23 of your data.*holds ${String(bad).replace('+', '')} at value 2 of its 4.*epoch 1, batch 1.*checkFinite: false`,
        ),
      ),
    );
    assert.deepEqual(model.getWeights(), before, 'no step was taken');
  });
}

test('fit names the example of a bad label among validation data and in validationSplit data', async () => {
  const model = mlp();
  const { x, y } = data();
  const xs = rc.tensor(x, [40, 4]);
  const vx = new Float32Array(x.slice(0, 40));
  vx[5 * 4] = Number.NaN;
  await assert.rejects(
    model.fit(xs, rc.tensor(y, [40], 'int32'), {
      verbose: 0,
      validationData: [rc.tensor(vx, [10, 4]), rc.tensor(y.slice(0, 10), [10], 'int32')],
    }),
    isNonFinite(/validationData x\[5\] \(example 5/),
  );
  // With validationSplit the index is in the whole x, not the held-out part.
  x[38 * 4 + 1] = Number.NaN;
  await assert.rejects(
    model.fit(rc.tensor(x, [40, 4]), rc.tensor(y, [40], 'int32'), {
      verbose: 0,
      validationSplit: 0.2,
    }),
    isNonFinite(/x\[38\] \(example 38/),
  );
});

test('fit refuses NaN in one-hot labels and class ids outside the output, naming label and example', async () => {
  const m = new rc.Sequential([
    new layers.Dense({ units: 3, activation: 'softmax', inputShape: [4] }),
  ]);
  m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
  const { x, y } = data(10);
  const oh = rc
    .oneHot(rc.tensor(y, [10], 'int32'), 3)
    .dataSync()
    .slice();
  oh[4 * 3 + 1] = Number.NaN;
  await assert.rejects(
    m.fit(rc.tensor(x, [10, 4]), rc.tensor(oh, [10, 3]), { verbose: 0 }),
    isNonFinite(/y\[4\] \(example 4/),
  );
  const model = mlp();
  const ids = Int32Array.from(y);
  ids[7] = 10; // out of 0..2
  const err = (e: unknown) =>
    e instanceof rc.ArgumentError &&
    /label y\[7\] = 10 \(example 7 of your data\) is not a class id in 0\.\.2/.test(e.message);
  await assert.rejects(
    model.fit(rc.tensor(x.slice(0, 40), [10, 4]), rc.tensor(ids, [10], 'int32'), { verbose: 0 }),
    err,
  );
  await assert.rejects(
    model.evaluate(rc.tensor(x.slice(0, 40), [10, 4]), rc.tensor(ids, [10], 'int32')),
    err,
  );
  // The check on class ids is about correctness, not speed: it stays on with checkFinite false.
  await assert.rejects(
    model.fit(rc.tensor(x.slice(0, 40), [10, 4]), rc.tensor(ids, [10], 'int32'), {
      verbose: 0,
      checkFinite: false,
    }),
    err,
  );
});

test('a loss that becomes NaN stops fit with the epoch and batch; checkFinite: false goes on as before', async () => {
  rc.setSeed(2);
  // Finite data whose products overflow in the fourth batch of the first epoch.
  const { x, y } = data(48);
  for (let i = 3 * 8 * 4; i < 4 * 8 * 4; i++) x[i] = 3e38;
  const model = mlp();
  const xs = rc.tensor(x, [48, 4]);
  const ys = rc.tensor(y, [48], 'int32');
  await assert.rejects(
    model.fit(xs, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 }),
    isNonFinite(
      /^NonFiniteError|sequential.*\.fit: epoch 1, batch 4: the loss is (NaN|-?Infinity); the batch's data are finite.*not updated/,
    ),
  );
  assert.ok(
    model.getWeights().every((w) => w.every(Number.isFinite)),
    'the bad batch did not update the weights',
  );
  const off = await mlp().fit(xs, ys, {
    epochs: 1,
    batchSize: 8,
    shuffle: false,
    verbose: 0,
    checkFinite: false,
  });
  assert.equal(off.history.loss!.length, 1, 'with the check off the epoch completes');
});

test('a dataset batch with NaN: fit and evaluate name the epoch, batch and row', async () => {
  const model = mlp();
  const { x, y } = data(24);
  const xs = rc.tensor(x, [24, 4]);
  const ys = rc.tensor(y, [24], 'int32');
  const nan = rc.full([8, 4], Number.NaN);
  const source: rc.BatchSource = {
    steps: 3,
    *batches(epoch: number) {
      for (let b = 0; b < 3; b++)
        yield {
          x: epoch === 1 && b === 2 ? nan : rc.slice(xs, [b * 8, 0], [8, 4]),
          y: rc.slice(ys, [b * 8], [8]),
        };
    },
  };
  await assert.rejects(
    model.fit(source, { epochs: 3, verbose: 0 }),
    isNonFinite(/\.fit: epoch 2, batch 3: the batch's x holds NaN in row 0 of 8/),
  );
  const evalSource: rc.BatchSource = {
    batches: () => [
      { x: xs, y: ys },
      { x: nan, y: rc.slice(ys, [0], [8]) },
    ],
  };
  await assert.rejects(
    model.evaluate(evalSource),
    isNonFinite(/\.evaluate: batch 2: the batch's x holds NaN/),
  );
});

test('evaluate stops on a NaN input by default and reports it with the check off', async () => {
  const model = mlp();
  const { x, y } = data(10);
  x[3] = Number.NaN;
  const xs = rc.tensor(x, [10, 4]);
  const ys = rc.tensor(y, [10], 'int32');
  await assert.rejects(model.evaluate(xs, ys), isNonFinite(/evaluate: x\[0\] \(example 0/));
  const logs = await model.evaluate(xs, ys, { checkFinite: false });
  assert.ok(Number.isNaN(logs.loss));
});

test('setWeights refuses NaN and infinity and leaves the weights unchanged', () => {
  const model = mlp();
  const before = model.getWeights();
  const ws = model.getWeights();
  ws[2]![5] = Number.POSITIVE_INFINITY;
  assert.throws(
    () => model.setWeights(ws),
    isNonFinite(/weight .*kernel \[8, 3\] holds Infinity at flat index 5/),
  );
  assert.deepEqual(model.getWeights(), before);
  const dense = model.layers[0]!;
  assert.throws(
    () => dense.setWeights([new Float32Array(32).fill(Number.NaN), new Float32Array(8)]),
    isNonFinite(/holds NaN at flat index 0/),
  );
});

test('a saved model or PyTorch weights holding NaN are refused on load; exportOnnx refuses them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-nan-'));
  try {
    const model = mlp();
    // Write a model whose file holds NaN (save itself is not refused: a diverged run may be kept to study).
    const ws = model.getWeights();
    const kernel = model.weights[0]!;
    kernel.storage = rc.tensor(
      ws[0]!.map((v, i) => (i === 3 ? Number.NaN : v)),
      kernel.shape,
    ).storage;
    await model.save(join(dir, 'nan-model'));
    await assert.rejects(
      rc.loadModel(join(dir, 'nan-model')),
      isNonFinite(/holds NaN at flat index 3/),
    );
    assert.throws(
      () => rc.encodeOnnx(model),
      isNonFinite(
        /exportOnnx: weight .* holds NaN at flat index 3; a model with non-finite weights is not exported/,
      ),
    );
    const bytes = rc.exportTorchWeights(model);
    await assert.rejects(rc.loadTorchWeights(mlp(), bytes), isNonFinite(/holds NaN/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('predict on an empty batch gives an empty result of the right shape', () => {
  const model = mlp();
  const out = model.predict(rc.zeros([0, 4]));
  assert.deepEqual(out.shape, [0, 3]);
  const cnn = rc.models.lenet5();
  assert.deepEqual(cnn.predict(rc.zeros([0, 28, 28, 1])).shape, [0, 10]);
});

test('validationSplit that leaves no training or no validation example, and a batchSize that is not a positive integer, are errors', async () => {
  const model = mlp();
  const { x, y } = data(3);
  const xs = rc.tensor(x, [3, 4]);
  const ys = rc.tensor(y, [3], 'int32');
  await assert.rejects(
    model.fit(xs, ys, { verbose: 0, validationSplit: 0.99 }),
    /validationSplit 0.99 of 3 examples leaves 0 for training/,
  );
  await assert.rejects(
    model.fit(xs, ys, { verbose: 0, validationSplit: 1e-20 }),
    /leaves 3 for training and 0 for validation/,
  );
  for (const b of [0, -1, 1.5, Number.NaN]) {
    const re = new RegExp(`batchSize must be a positive integer, got ${b}`);
    await assert.rejects(model.fit(xs, ys, { verbose: 0, batchSize: b }), re);
    await assert.rejects(model.evaluate(xs, ys, { batchSize: b }), re);
    assert.throws(() => model.predict(rc.zeros([40, 4]), { batchSize: b }), re);
  }
});

test('negative one-hot targets and binary labels outside 0..1 are errors', () => {
  const p = rc.softmax(rc.randn([2, 3], { seed: 1 }), -1);
  assert.throws(
    () =>
      rc.losses.categoricalCrossentropy()(
        rc.tensor([
          [1, 0, 0],
          [0, -1, 2],
        ]),
        p,
      ),
    /categoricalCrossentropy: label -1 \(row 1 of the batch, \[2, 3\]\) is outside 0 and above/,
  );
  const q = rc.sigmoid(rc.randn([2, 1], { seed: 2 }));
  assert.throws(
    () => rc.losses.binaryCrossentropy()(rc.tensor([[2], [0]]), q),
    /binaryCrossentropy: label 2 .* outside 0\.\.1/,
  );
  // Soft targets inside the range are fine.
  assert.ok(
    Number.isFinite(
      rc.losses
        .binaryCrossentropy()(rc.tensor([[0.3], [1]]), q)
        .item(),
    ),
  );
});

test('every backend finds the first NaN or infinity where it keeps the values', () => {
  const before = rc.getBackend();
  try {
    // webgpu keeps computed values on the GPU (its firstNonFinite reads only what came from the
    // CPU); in Node it is not there at all.
    for (const name of rc.backendNames().filter((n) => n !== 'webgpu')) {
      rc.setBackend(name);
      for (const [i, v] of [
        [5, Number.NaN],
        [0, Number.POSITIVE_INFINITY],
        [1022, Number.NEGATIVE_INFINITY],
      ] as const) {
        const values = new Float32Array(1023).fill(0.5);
        values[i] = v;
        values[1022] = v; // a later one too: the first is reported
        const t = rc.tensor(values, [1023]);
        assert.equal(t.storage.backend.firstNonFinite(t.storage), i, `${name}: ${v} at ${i}`);
      }
      // A kernel's output (in wasm memory on 'wasm') and an all-finite array.
      const y = rc.div(rc.full([4, 300], 1), rc.zeros([4, 300]));
      assert.equal(y.storage.backend.firstNonFinite(y.storage), 0, `${name}: overflow`);
      const ok = rc.randn([64, 33], { seed: 1 });
      assert.equal(ok.storage.backend.firstNonFinite(ok.storage), -1, name);
    }
  } finally {
    rc.setBackend(before);
  }
});
