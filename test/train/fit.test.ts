/** compile / fit / evaluate / predict / trainOnBatch, losses and metrics by hand, a custom loop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { layers, losses, metrics } = rc;

const SIZE = 12;

/** n images [n, 12, 12, 1], each a bar: class 0 vertical, 1 horizontal, 2 diagonal; plus noise. */
function makeBars(n: number, seed: number): [rc.Tensor, rc.Tensor] {
  const rng = new rc.Random(seed);
  const x = new Float32Array(n * SIZE * SIZE);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = rng.int(3);
    y[i] = cls;
    const at = 2 + rng.int(SIZE - 4);
    for (let t = 0; t < SIZE; t++) {
      const [r, c] = cls === 0 ? [t, at] : cls === 1 ? [at, t] : [t, t];
      x[i * SIZE * SIZE + r * SIZE + c] = 1;
    }
    for (let p = 0; p < SIZE * SIZE; p++) x[i * SIZE * SIZE + p]! += 0.3 * rng.normal();
  }
  return [rc.tensor(x, [n, SIZE, SIZE, 1]), rc.tensor(y, [n], 'int32')];
}

/** A small CNN; the last layer is softmax unless logits are asked for. */
function smallCnn(output: 'softmax' | 'linear' = 'softmax'): rc.Sequential {
  return new rc.Sequential([
    new layers.Conv2D({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.Conv2D({ filters: 8, kernelSize: 3, activation: 'relu' }),
    new layers.Flatten(),
    new layers.Dense({ units: 3, activation: output }),
  ]);
}

const sameBits = (a: Float32Array[], b: Float32Array[]) =>
  a.length === b.length && a.every((w, i) => w.every((v, k) => Object.is(v, b[i]![k])));

const [xTrain, yTrain] = makeBars(400, 2);
const [xTest, yTest] = makeBars(200, 7);

test('a small CNN learns the bars task: >= 0.97 held-out accuracy; History and evaluate agree', async () => {
  rc.setSeed(1);
  const model = smallCnn();
  model.compile({
    optimizer: new rc.Adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const history = await model.fit(xTrain, yTrain, {
    epochs: 8,
    batchSize: 32,
    validationData: [xTest, yTest],
    verbose: 0,
    seed: 3,
  });
  assert.ok(history instanceof rc.History);
  assert.deepEqual(history.epoch, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(Object.keys(history.history).sort(), [
    'accuracy',
    'loss',
    'val_accuracy',
    'val_loss',
  ]);
  for (const v of Object.values(history.history)) assert.equal(v.length, 8);
  const loss = history.history.loss!;
  assert.ok(loss[7]! < loss[0]! / 4, `loss falls: ${loss}`);
  const evaluated = await model.evaluate(xTest, yTest);
  assert.deepEqual(Object.keys(evaluated).sort(), ['accuracy', 'loss']);
  assert.ok(evaluated.accuracy! >= 0.97, `held-out accuracy ${evaluated.accuracy}`);
  // Validation after the last epoch is evaluate() on the same data, with the same batches.
  assert.equal(evaluated.loss, history.history.val_loss![7]);
  assert.equal(evaluated.accuracy, history.history.val_accuracy![7]);
  // The accuracy is what argmax of predict() says.
  const pred = rc.argMax(model.predict(xTest), -1).dataSync();
  const truth = yTest.dataSync();
  const hits = truth.filter((t, i) => t === pred[i]).length;
  assert.equal(hits / truth.length, evaluated.accuracy);
});

test('validationSplit holds out the last examples, before shuffling', async () => {
  rc.setSeed(5);
  const model = smallCnn();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] });
  let params: rc.TrainingParams | undefined;
  const spy = new (class extends rc.Callback {
    override onTrainBegin(): void {
      params = this.params;
    }
  })();
  const x = rc.slice(xTrain, [0, 0, 0, 0], [100, SIZE, SIZE, 1]);
  const y = rc.slice(yTrain, [0], [100]);
  const history = await model.fit(x, y, {
    epochs: 2,
    batchSize: 16,
    validationSplit: 0.2,
    verbose: 0,
    callbacks: [spy],
  });
  assert.equal(params?.samples, 80);
  assert.equal(params?.steps, 5);
  assert.equal(history.history.val_loss!.length, 2);
  assert.equal(history.history.val_accuracy!.length, 2);
  const held = await model.evaluate(
    rc.slice(x, [80, 0, 0, 0], [20, SIZE, SIZE, 1]),
    rc.slice(y, [80], [20]),
    { batchSize: 16 },
  );
  assert.equal(held.loss, history.history.val_loss![1]);
  for (const bad of [1, 1.5, -0.1])
    await assert.rejects(
      model.fit(x, y, { validationSplit: bad, verbose: 0 }),
      /validationSplit must be in \(0, 1\)/,
    );
});

test('predict in batches gives the same result as one call', () => {
  rc.setSeed(11);
  const model = smallCnn();
  const x = rc.slice(xTest, [0, 0, 0, 0], [50, SIZE, SIZE, 1]);
  const whole = model.predict(x, { batchSize: 1000 });
  assert.deepEqual(whole.shape, [50, 3]);
  for (const batchSize of [1, 7, 32]) {
    const parts = model.predict(x, { batchSize });
    assert.deepEqual(parts.shape, [50, 3]);
    assertClose(parts.dataSync(), whole.dataSync(), { atol: 1e-6, msg: `batchSize ${batchSize}` });
  }
  assert.equal(whole.requiresGrad, false, 'predict records no graph');
});

test('trainOnBatch lowers the loss on its batch; testOnBatch does not train', () => {
  rc.setSeed(12);
  const model = smallCnn();
  model.compile({
    optimizer: new rc.Adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
  });
  const x = rc.slice(xTrain, [0, 0, 0, 0], [32, SIZE, SIZE, 1]);
  const y = rc.slice(yTrain, [0], [32]);
  const before = model.testOnBatch(x, y).loss!;
  assert.equal(model.testOnBatch(x, y).loss, before, 'testOnBatch changes nothing');
  const first = model.trainOnBatch(x, y).loss!;
  // (training takes the loss from the softmax's logits, testing from the clipped probabilities)
  assertClose([first], [before], {
    rtol: 1e-6,
    msg: 'trainOnBatch reports the loss before its update',
  });
  for (let i = 0; i < 15; i++) model.trainOnBatch(x, y);
  const after = model.testOnBatch(x, y).loss!;
  assert.ok(after < before / 2, `loss ${before} → ${after}`);
});

test('sparse (int32) and one-hot labels give the same loss and accuracy', async () => {
  rc.setSeed(13);
  const model = smallCnn();
  const x = rc.slice(xTest, [0, 0, 0, 0], [40, SIZE, SIZE, 1]);
  const ids = rc.slice(yTest, [0], [40]);
  const hot = rc.oneHot(ids, 3);
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const sparse = await model.evaluate(x, ids);
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const dense = await model.evaluate(x, hot);
  assert.deepEqual(sparse, dense);
  // The loss functions themselves, with and without a recorded softmax.
  const logits = rc.randn([6, 4]);
  logits.requiresGrad = true;
  const labels = rc.tensor([0, 3, 1, 1, 2, 0], [6], 'int32');
  for (const p of [rc.softmax(logits), rc.noGrad(() => rc.softmax(logits))]) {
    const a = losses.sparseCategoricalCrossentropy()(labels, p).item();
    const b = losses.categoricalCrossentropy()(rc.oneHot(labels, 4), p).item();
    assert.equal(a, b);
  }
  // [n, 1] int labels (Keras's shape for them) work too.
  const col = rc.reshape(labels, [6, 1]);
  assert.equal(
    losses.sparseCategoricalCrossentropy()(col, rc.softmax(logits)).item(),
    losses.sparseCategoricalCrossentropy()(labels, rc.softmax(logits)).item(),
  );
  assert.throws(
    () => losses.sparseCategoricalCrossentropy()(rc.oneHot(labels, 4), rc.softmax(logits)),
    (e: Error) => e instanceof rc.DTypeError && /int32/.test(e.message),
  );
  assert.throws(
    () => losses.categoricalCrossentropy()(rc.cast(labels, 'float32'), rc.softmax(logits)),
    (e: Error) => e instanceof rc.ShapeError && /sparseCategoricalCrossentropy/.test(e.message),
  );
});

test('categoricalCrossentropy of a softmax output is softmaxCrossEntropy of its logits, even for huge logits', () => {
  const logits = rc.tensor([
    [2, -1, 0.5],
    [1000, -1000, 0],
    [-500, 0, 300],
  ]);
  logits.requiresGrad = true;
  const y = rc.tensor([
    [1, 0, 0],
    [0, 1, 0],
    [1, 0, 0],
  ]);
  const viaSoftmax = losses.categoricalCrossentropy()(y, rc.softmax(logits));
  const fused = rc.softmaxCrossEntropy(logits, y);
  assert.equal(viaSoftmax.item(), fused.item());
  // By hand: row 0 log-sum-exp; row 1 is 2000; row 2 is 800.
  const row0 = Math.log(Math.exp(2) + Math.exp(-1) + Math.exp(0.5)) - 2;
  assertClose([viaSoftmax.item()], [(row0 + 2000 + 800) / 3], { rtol: 1e-6 });
  viaSoftmax.backward();
  assert.ok(logits.grad!.dataSync().every(Number.isFinite));
  // fromLogits gives the same.
  assert.equal(
    losses.categoricalCrossentropy({ fromLogits: true })(y, logits).item(),
    fused.item(),
  );
  // In inference (nothing recorded) the softmax still carries its logits: the same exact loss.
  assert.equal(
    losses
      .categoricalCrossentropy()(
        y,
        rc.noGrad(() => rc.softmax(logits)),
      )
      .item(),
    fused.item(),
  );
  // Probabilities that did not come from a softmax are clipped to [1e-7, 1 - 1e-7]: finite, bounded.
  const probs = rc.softmax(logits).detach();
  const clipped = losses.categoricalCrossentropy()(y, probs).item();
  assert.ok(Number.isFinite(clipped) && clipped <= (row0 - Math.log(1e-7) * 2) / 3 + 1e-4);
});

test('training with huge logits stays finite and uses the exact loss', async () => {
  rc.setSeed(14);
  const model = smallCnn();
  const dense = model.layers[4] as rc.layers.Dense;
  // Blow up the last layer so that the softmax saturates completely.
  dense.setWeights(dense.getWeights().map((w) => w.map((v) => v * 1e4)));
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
  const x = rc.slice(xTrain, [0, 0, 0, 0], [64, SIZE, SIZE, 1]);
  const y = rc.oneHot(rc.slice(yTrain, [0], [64]), 3);
  // The same network without the softmax gives the logits.
  const twin = smallCnn('linear');
  twin.setWeights(model.getWeights());
  const logits = twin.predict(x);
  const exact = rc.softmaxCrossEntropy(logits, y).item();
  assert.ok(exact > 100, `the logits are huge (loss ${exact})`);
  const kernelBefore = dense.kernel.dataSync();
  const history = await model.fit(x, y, { epochs: 2, batchSize: 64, shuffle: false, verbose: 0 });
  assert.equal(history.history.loss![0], exact);
  assert.ok(history.history.loss!.every(Number.isFinite));
  assert.ok(model.getWeights().every((w) => w.every(Number.isFinite)));
  // The gradient is p − y, not the zero that clipped probabilities would give: the weights move.
  assert.notDeepEqual(dense.kernel.dataSync(), kernelBefore);
});

test('binaryCrossentropy, MSE and MAE values by hand', () => {
  const yTrue = rc.tensor([[1], [0], [1], [0]]);
  const p = rc.tensor([[0.9], [0.2], [0.6], [0.4]]);
  const bce = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.6) + Math.log(0.6)) / 4;
  assertClose([losses.binaryCrossentropy()(yTrue, p).item()], [bce], { rtol: 1e-6 });
  // From logits: the logits of those probabilities give the same loss.
  const z = rc.log(rc.div(p, rc.sub(1, p)));
  assertClose([losses.binaryCrossentropy({ fromLogits: true })(yTrue, z).item()], [bce], {
    rtol: 1e-6,
  });
  // Saturated probabilities are clipped, never log(0).
  assert.ok(
    Number.isFinite(
      losses
        .binaryCrossentropy()(yTrue, rc.tensor([[0], [1], [0], [1]]))
        .item(),
    ),
  );
  const big = rc.tensor([[-1000], [1000], [50], [-50]]);
  assertClose([losses.binaryCrossentropy({ fromLogits: true })(yTrue, big).item()], [2000 / 4], {
    rtol: 1e-6,
  });
  const a = rc.tensor([
    [1, 2],
    [3, 4],
  ]);
  const b = rc.tensor([
    [1.5, 2],
    [1, 7],
  ]);
  assertClose([losses.meanSquaredError()(a, b).item()], [(0.25 + 0 + 4 + 9) / 4]);
  assertClose([losses.meanAbsoluteError()(a, b).item()], [(0.5 + 0 + 2 + 3) / 4]);
  assert.throws(
    () => losses.meanSquaredError()(a, rc.tensor([1, 2, 3, 4])),
    (e: Error) => e instanceof rc.ShapeError && /\[2, 2\].*\[4\]/.test(e.message),
  );
  // The names compile() accepts, Keras's and PyTorch's spellings included.
  for (const name of ['mse', 'mean_squared_error', 'meanSquaredError'])
    assert.equal(losses.getLoss(name)(a, b).item(), losses.meanSquaredError()(a, b).item());
  assert.throws(() => losses.getLoss('hinge'), /unknown loss 'hinge'/);
});

test('top-k accuracy and accuracy by hand', () => {
  const p = rc.tensor([
    [0.1, 0.5, 0.2, 0.15, 0.05], // order 1, 2, 3, 0, 4
    [0.3, 0.1, 0.2, 0.25, 0.15], // order 0, 3, 2, 4, 1
    [0.2, 0.2, 0.2, 0.2, 0.2], // all tied
    [0.05, 0.1, 0.15, 0.3, 0.4], // order 4, 3, 2, 1, 0
  ]);
  const ids = rc.tensor([2, 3, 4, 0], [4], 'int32');
  const top = (k: number) => metrics.topKCategoricalAccuracy(k)(ids, p);
  // Row 0: class 2 is 2nd; row 1: class 3 is 2nd; row 2: a five-way tie, which goes to the lower
  // indices (argmax's first maximum), so class 4 is 5th; row 3: class 0 is last. A tie is no
  // hit for every class at once: a model that scores all classes alike is not always right.
  assert.deepEqual(top(1), { total: 0, count: 4 });
  assert.deepEqual(top(2), { total: 2, count: 4 });
  assert.deepEqual(top(4), { total: 2, count: 4 });
  assert.deepEqual(top(5), { total: 4, count: 4 });
  assert.equal(metrics.topKCategoricalAccuracy(5).name, 'top5Accuracy');
  // accuracy: int ids or one-hot rows give the same.
  const acc = metrics.getMetric('accuracy');
  assert.deepEqual(acc(ids, p), { total: 0, count: 4 });
  assert.deepEqual(acc(rc.oneHot(ids, 5), p), { total: 0, count: 4 });
  // Binary: one output column, threshold 0.5.
  const yb = rc.tensor([[1], [0], [1], [0]]);
  const pb = rc.tensor([[0.7], [0.6], [0.2], [0.1]]);
  assert.deepEqual(acc(yb, pb), { total: 2, count: 4 });
  assert.deepEqual(metrics.binaryAccuracy()(yb, pb), { total: 2, count: 4 });
  assert.throws(() => metrics.getMetric('f1'), /unknown metric 'f1'/);
});

test('top5Accuracy in compile is averaged over the epoch', async () => {
  rc.setSeed(15);
  const model = new rc.Sequential([new layers.Dense({ units: 8, inputShape: [4] })]);
  model.compile({
    optimizer: 'sgd',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['top5Accuracy'],
  });
  const x = rc.randn([10, 4]);
  const y = rc.tensor([0, 1, 2, 3, 4, 5, 6, 7, 0, 1], [10], 'int32');
  const logs = await model.evaluate(x, y, { batchSize: 3 });
  const out = model.predict(x);
  assert.equal(logs.top5Accuracy, metrics.topKCategoricalAccuracy(5)(y, out).total / 10);
});

test('the PyTorch-style custom loop from the course notes lowers the loss', () => {
  rc.setSeed(16);
  const model = smallCnn('linear');
  const opt = new rc.SGD({ learningRate: 0.1, momentum: 0.9 });
  const x = rc.slice(xTrain, [0, 0, 0, 0], [64, SIZE, SIZE, 1]);
  const y = rc.slice(yTrain, [0], [64]);
  const lossOf = () => rc.noGrad(() => rc.softmaxCrossEntropy(model.call(x), y).item());
  const before = lossOf();
  for (let step = 0; step < 20; step++) {
    const out = model.call(x, { training: true });
    const loss = rc.softmaxCrossEntropy(out, y);
    loss.backward();
    assert.ok(model.trainableWeights.every((w) => w.grad !== null));
    opt.step(model.trainableWeights);
    opt.zeroGrad();
    assert.ok(model.trainableWeights.every((w) => w.grad === null));
  }
  const after = lossOf();
  assert.ok(after < before / 2, `loss ${before} → ${after}`);
});

test('training is deterministic for a seed: bit-identical weights from two runs', async () => {
  const run = async () => {
    rc.setSeed(21);
    const model = new rc.Sequential([
      new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
      new layers.MaxPooling2D({ poolSize: 2 }),
      new layers.Flatten(),
      new layers.Dropout({ rate: 0.3 }),
      new layers.Dense({ units: 3, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const x = rc.slice(xTrain, [0, 0, 0, 0], [96, SIZE, SIZE, 1]);
    const y = rc.slice(yTrain, [0], [96]);
    const history = await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    return { weights: model.getWeights(), loss: history.history.loss! };
  };
  const a = await run();
  const b = await run();
  assert.ok(sameBits(a.weights, b.weights), 'same weights');
  assert.deepEqual(a.loss, b.loss);
  rc.setSeed(22);
  const c = smallCnn().getWeights();
  rc.setSeed(23);
  assert.ok(!sameBits(c, smallCnn().getWeights()), 'another seed, other weights');
});

test('fit on an uncompiled model, or with x and y of different lengths, says what is wrong', async () => {
  const model = smallCnn();
  await assert.rejects(
    model.fit(xTrain, yTrain, { verbose: 0 }),
    (e: Error) =>
      e instanceof rc.ArgumentError &&
      /not compiled/.test(e.message) &&
      /model\.compile\(/.test(e.message),
  );
  await assert.rejects(model.evaluate(xTest, yTest), /not compiled/);
  assert.throws(() => model.trainOnBatch(xTest, yTest), /not compiled/);
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const y = rc.slice(yTrain, [0], [399]);
  await assert.rejects(
    model.fit(xTrain, y, { verbose: 0 }),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      /x has 400 examples/.test(e.message) &&
      /\[400, 12, 12, 1\]/.test(e.message) &&
      /y has 399/.test(e.message) &&
      /\[399\]/.test(e.message),
  );
  await assert.rejects(model.evaluate(xTest, y), rc.ShapeError);
  await assert.rejects(model.fit(xTrain, { epochs: 1 } as never), /needs labels y/);
  await assert.rejects(model.fit(xTrain, yTrain, { epochs: 0, verbose: 0 }), /epochs must be/);
  assert.throws(() => model.compile({ optimizer: 'sgd' } as never), /needs \{ optimizer, loss \}/);
});
