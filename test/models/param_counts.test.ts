/** Every zoo model's trainable parameter count equals the published one (torchvision's conventions). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const published: [string, number, rc.models.ZooOptions?][] = [
  ['lenet5', 44_426],
  ['lenet5-classic', 61_706],
  ['mnist-cnn', 93_322],
  ['alexnet', 62_378_344],
  ['alexnet-groups2', 60_965_224],
  ['vgg11', 132_863_336],
  ['vgg13', 133_047_848],
  ['vgg16', 138_357_544],
  ['vgg19', 143_667_240],
  ['vgg11-bn', 132_868_840],
  ['vgg13-bn', 133_053_736],
  ['vgg16-bn', 138_365_992],
  ['vgg19-bn', 143_678_248],
  ['vgg13-cifar', 9_570_506],
  ['googlenet', 13_385_816],
  ['resnet18', 11_689_512],
  ['resnet34', 21_797_672],
  ['resnet50', 25_557_032],
  ['resnet101', 44_549_160],
  ['resnet152', 60_192_808],
  ['resnet18-cifar', 11_173_962, { numClasses: 10 }],
  ['densenet121', 7_978_856],
  ['densenet169', 14_149_480],
  ['densenet201', 20_013_928],
  ['densenet264', 33_337_704],
];

const trainable = (m: rc.Model) => m.trainableWeights.reduce((n, w) => n + w.size, 0);

for (const [name, count, options] of published) {
  test(`${name}: ${count.toLocaleString('en-US')} trainable parameters`, () => {
    assert.equal(trainable(rc.models.createModel(name, options)), count);
  });
}

test('GoogLeNet without the auxiliary classifiers: 7,005,832 (paper 5×5 branches, BN)', () => {
  assert.equal(trainable(rc.models.googlenet({ auxClassifiers: false })), 7_005_832);
});

test('batch-normalized nets count moving statistics as non-trainable, as Keras does', () => {
  const m = rc.models.resnet18();
  const bnChannels = m.layers
    .filter((l) => l instanceof rc.layers.BatchNormalization)
    .reduce((n, l) => n + (l as rc.layers.BatchNormalization).gamma.size, 0);
  assert.equal(m.countParams() - trainable(m), 2 * bnChannels);
});
