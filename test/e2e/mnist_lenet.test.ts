/** End to end: LeNet-5 learns real MNIST (../shared) in two short epochs. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { sharedDir } from '../helpers.js';

const mnistDir = join(sharedDir, 'datasets', 'mnist');
const haveMnist = existsSync(join(mnistDir, 'train-images-idx3-ubyte.gz'));

test('LeNet-5 on the first 4096 MNIST training images, 2 epochs: test accuracy > 0.85 on 1000 test images', {
  timeout: 300_000,
}, async (t) => {
  if (!haveMnist)
    return t.skip(`${mnistDir} not found (../shared/datasets is not on this machine)`);
  const mnist = await rc.data.loadMnist({ dataDir: mnistDir });
  const train = rc.data.toTensors(rc.data.subset(mnist.train, 0, 4096));
  const test = rc.data.toTensors(rc.data.subset(mnist.test, 0, 1000));
  assert.deepEqual(train.x.shape, [4096, 28, 28, 1]);
  assert.deepEqual(test.y.shape, [1000]);

  rc.setSeed(1234);
  const model = rc.models.lenet5();
  model.compile({
    optimizer: 'adam',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const started = performance.now();
  const history = await model.fit(train.x, train.y, {
    epochs: 2,
    batchSize: 64,
    seed: 1234,
    verbose: 0,
  });
  const seconds = (performance.now() - started) / 1000;
  const { loss, accuracy } = await model.evaluate(test.x, test.y, { batchSize: 256 });
  console.log(
    `LeNet-5, 4096 MNIST images × 2 epochs (${rc.getBackend()} backend, ${((2 * 4096) / seconds).toFixed(0)} images/s): ` +
      `train loss ${history.history.loss!.map((l) => l.toFixed(3)).join(' → ')}, ` +
      `test loss ${loss!.toFixed(4)}, test accuracy ${(accuracy! * 100).toFixed(2)}% on 1000 images`,
  );
  assert.ok(history.history.loss![1]! < history.history.loss![0]!, 'the training loss falls');
  assert.ok(accuracy! > 0.85, `test accuracy ${accuracy} (chance is 0.1)`);

  // predict agrees with evaluate's accuracy.
  const predicted = rc.argMax(model.predict(test.x), -1).dataSync();
  const truth = test.y.dataSync();
  let right = 0;
  for (let i = 0; i < 1000; i++) if (predicted[i] === truth[i]) right++;
  assert.ok(
    Math.abs(right / 1000 - accuracy!) < 1e-6,
    `predict ${right / 1000} vs evaluate ${accuracy}`,
  );
});
