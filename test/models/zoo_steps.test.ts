/** One forward pass and one training step of every zoo model at a small input size. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

// The smallest convenient input each family accepts (GoogLeNet's auxiliary heads need 64×64).
const small: Record<string, number[]> = {
  lenet5: [28, 28, 1],
  'lenet5-classic': [32, 32, 1],
  'lenet5-bn': [28, 28, 1],
  'mnist-cnn': [28, 28, 1],
  alexnet: [67, 67, 3],
  'alexnet-groups2': [67, 67, 3],
  googlenet: [64, 64, 3],
};

for (const name of rc.models.modelNames()) {
  test(`${name}: forward, and one training step lowers the loss on a fixed batch`, async () => {
    rc.setSeed(1);
    const inputShape = small[name] ?? [32, 32, 3];
    const model = rc.models.createModel(name, { inputShape, numClasses: 4 });
    // Eight examples: batch normalization of the last 1×1 stages needs more than two values.
    const x = rc.randn([8, ...inputShape], { seed: 2 });
    const y = rc.tensor([1, 3, 0, 2, 1, 0, 3, 2], [8], 'int32');
    const p = model.predict(x);
    assert.deepEqual(p.shape, [8, 4]);
    const probs = p.dataSync();
    assert.ok(probs.every(Number.isFinite));
    for (let i = 0; i < 8; i++)
      assert.ok(
        Math.abs(probs[i * 4]! + probs[i * 4 + 1]! + probs[i * 4 + 2]! + probs[i * 4 + 3]! - 1) <
          1e-5,
      );
    // One small SGD step must lower the training-mode loss of the same batch: the same dropout
    // mask (same seed) and batch statistics before and after, so only the weights differ. Deep
    // nets at initialization can have steep gradients, so the step shrinks until it descends
    // (from the same starting weights): a wrong gradient never does. ResNet-101 on eight images
    // is that steep: its last stages normalize 1×1 maps over 8 values, and a step of 1e-6 moves
    // its loss by 0.5 either way (it falls at 1e-7 on wasm with the one-pass batch norm).
    const cce = rc.losses.sparseCategoricalCrossentropy();
    const weights = model.lossWeights ?? [1, 1, 1];
    const trainingLoss = () => {
      rc.setSeed(5);
      return rc.noGrad(() =>
        model
          .callAll(x, { training: true })
          .reduce((sum, out, i) => sum + weights[i]! * cce(y, out).item(), 0),
      );
    };
    const start = model.getWeights();
    const before = trainingLoss();
    const tried: string[] = [];
    let descended = false;
    for (const lr of [1e-4, 1e-5, 1e-6, 1e-7, 1e-8]) {
      model.setWeights(start);
      model.compile({
        optimizer: new rc.SGD({ learningRate: lr }),
        loss: 'sparseCategoricalCrossentropy',
      });
      rc.setSeed(5);
      model.trainOnBatch(x, y);
      const after = trainingLoss();
      tried.push(`lr ${lr}: ${after}`);
      if (after < before) {
        descended = true;
        break;
      }
    }
    assert.ok(descended, `${name}: loss ${before} never fell (${tried.join(', ')})`);
  });
}

test('GoogLeNet: auxiliary outputs exist in training only, and count in the loss with weight 0.3', () => {
  const m = rc.models.googlenet({ inputShape: [64, 64, 3], numClasses: 3 });
  const x = rc.randn([1, 64, 64, 3], { seed: 3 });
  assert.equal(m.callAll(x, { training: false }).length, 1);
  assert.equal(rc.noGrad(() => m.callAll(x, { training: true })).length, 3);
  assert.deepEqual(m.lossWeights, [1, 0.3, 0.3]);
});
