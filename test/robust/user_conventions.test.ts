/**
 * What TensorFlow.js and Keras users bring: an unknown option key is an ArgumentError that
 * names the call, the key and the closest known key; channels-first data is refused with how
 * to convert; Keras's snake_case names work wherever the camelCase ones do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { horizontalFlip, randomCrop } from '../../src/data/augment.js';
import { loadCifar10 } from '../../src/data/cifar10.js';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { loadMnist } from '../../src/data/mnist.js';
import * as rc from '../../src/index.js';
import { getInitializer } from '../../src/nn/initializers.js';
import { Layer, layerArgNames, layerFromConfig } from '../../src/nn/layer.js';
import type { Conv2D, Dense } from '../../src/nn/layers/index.js';
import { getLoss } from '../../src/train/losses.js';
import { getMetric } from '../../src/train/metrics.js';
import { camelName, checkOptions, closestName, editDistance } from '../../src/util/options.js';

const { layers } = rc;

/** Throws an ArgumentError whose message matches every pattern. */
function refuses(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof rc.ArgumentError, `an ArgumentError, got ${String(e)}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}

test('the helpers: edit distance, camelCase, the closest name', () => {
  assert.equal(editDistance('activaton', 'activation'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(camelName('glorot_uniform'), 'glorotUniform');
  assert.equal(camelName('sparse_categorical_crossentropy'), 'sparseCategoricalCrossentropy');
  assert.equal(camelName('top_k_categorical_accuracy'), 'topKCategoricalAccuracy');
  assert.equal(camelName('GlorotUniform'), 'glorotUniform');
  assert.equal(camelName('heNormal'), 'heNormal');
  const known = ['filters', 'kernelSize', 'activation', 'useBias'];
  assert.equal(closestName('activaton', known), 'activation');
  assert.equal(closestName('kernel_size', known), 'kernelSize');
  assert.equal(closestName('KERNELSIZE', known), 'kernelSize');
  assert.equal(closestName('zzz', known), undefined);
  refuses(() => checkOptions('f', 3, known), /f: options must be an object/, /got 3/);
  refuses(() => checkOptions('f', [], known), /got an array/);
  checkOptions('f', undefined, known);
  checkOptions('f', { filters: 1 }, known);
});

test('layers: an unknown key names the layer, the key, the closest key and the known keys', () => {
  refuses(
    () => new layers.Conv2D({ filters: 8, kernelSize: 3, activaton: 'relu' } as never),
    /^Conv2D: unknown option 'activaton'\. Did you mean 'activation'\?/,
    /Known options: .*filters.*kernelSize/,
  );
  refuses(
    () => new layers.Conv2D({ filters: 8, kernel_size: 3 } as never),
    /Conv2D: unknown option 'kernel_size'\. receptive spells names in camelCase: did you mean 'kernelSize'\?/,
  );
  refuses(() => new layers.Dense({ units: 3, unit: 2 } as never), /Dense: .*'unit'.*'units'/);
  refuses(() => new layers.Flatten({ axis: 1 } as never), /Flatten: unknown option 'axis'/);
  refuses(
    () => new layers.MaxPooling2D({ pool_size: 2 } as never),
    /MaxPooling2D: .*did you mean 'poolSize'/,
  );
  refuses(
    () => new layers.BatchNormalization({ momentun: 0.9 } as never),
    /BatchNormalization: .*'momentun'.*Did you mean 'momentum'/,
  );
  refuses(() => new layers.Dropout({ rate: 0.5, seeds: 1 } as never), /Dropout: .*'seed'/);
  refuses(
    () => new rc.Sequential([], { nam: 'x' } as never),
    /Sequential: unknown option 'nam'.*'name'/,
  );
  // Every key a layer accepts is still accepted.
  new layers.Conv2D({
    filters: 2,
    kernelSize: 3,
    strides: 1,
    padding: 'same',
    dilationRate: 1,
    activation: 'relu',
    useBias: false,
    kernelInitializer: 'heNormal',
    biasInitializer: 'zeros',
    groups: 1,
    name: 'c',
    trainable: true,
    inputShape: [4, 4, 1],
  });
});

test('every built-in layer checks its keys (each class in its chain declares its arguments)', () => {
  // A class without configFields or args would silently accept any key: a typo passes.
  const unchecked = Object.entries(layers)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Layer)
    .filter(([, v]) => layerArgNames(v as unknown as typeof Layer) === null)
    .map(([name]) => name);
  assert.deepEqual(unchecked, []);
  refuses(() => new layers.Clip({ min: 0, maks: 6 } as never), /Did you mean 'max'\?/);
  refuses(() => new layers.LogSoftmax({ axes: 1 } as never), /Did you mean 'axis'\?/);
});

test('a custom layer that declares no argument list is not checked', () => {
  class Scaled extends rc.Layer {
    static override className = 'TestScaledConventions';
    readonly factor: number;
    constructor(args: rc.LayerArgs & { factor?: number } = {}) {
      super(args);
      this.factor = args.factor ?? 1;
    }
    call(x: rc.Tensor | rc.Tensor[]): rc.Tensor {
      return rc.mul(x as rc.Tensor, this.factor);
    }
    computeOutputShape(s: rc.Shape | rc.Shape[]): rc.Shape {
      return s as rc.Shape;
    }
  }
  assert.equal(new Scaled({ factor: 2 }).factor, 2);
});

test('layer configs round-trip through fromConfig with every key they wrote', () => {
  const made = [
    new layers.Conv2D({ filters: 4, kernelSize: 3, kernelInitializer: 'glorot_uniform' }),
    new layers.Dense({ units: 3, activation: 'leaky_relu', inputShape: [5] }),
    new layers.SeparableConv2D({ filters: 4, kernelSize: 3 }),
    new layers.Conv2DTranspose({ filters: 4, kernelSize: 3, outputPadding: 0, strides: 2 }),
    new layers.DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2 }),
    new layers.ReLU({ maxValue: 6 }),
    new layers.Dropout({ rate: 0.2, seed: 3 }),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.GlobalAveragePooling2D({ keepDims: true }),
    new layers.Add(),
    new layers.Concatenate({ axis: -1 }),
    new layers.BatchNormalization(),
  ];
  for (const l of made) {
    const config = JSON.parse(JSON.stringify(l.getConfig()));
    const again = layerFromConfig({ className: l.className, config });
    assert.deepEqual(again.getConfig(), l.getConfig(), l.className);
  }
  // Keras's names are stored as receptive's own, so configs and exporters see one spelling.
  assert.equal((made[1] as Dense).activation, 'leakyRelu');
  assert.equal((made[0] as Conv2D).getConfig().kernelInitializer, 'glorotUniform');
});

test('dataFormat: channels last passes, channels first is refused with how to convert', () => {
  new layers.Conv2D({ filters: 2, kernelSize: 3, dataFormat: 'channelsLast' });
  for (const v of ['channelsFirst', 'channels_first']) {
    refuses(
      () => new layers.Conv2D({ filters: 2, kernelSize: 3, dataFormat: v } as never),
      /^Conv2D: dataFormat '.*' is not supported: receptive is channels last \(NHWC/,
      /transpose\(x, \[0, 2, 3, 1\]\)/,
      /converted by the importers/,
    );
  }
  refuses(
    () => new layers.MaxPooling2D({ data_format: 'channels_first' } as never),
    /MaxPooling2D: data_format 'channels_first' is not supported/,
  );
  refuses(
    () => new layers.MaxPooling2D({ data_format: 'channels_last' } as never),
    /did you mean 'dataFormat'/,
  );
  refuses(
    () => new layers.Conv2D({ filters: 2, kernelSize: 3, dataFormat: 'nhwc' } as never),
    /dataFormat must be 'channelsLast'/,
  );
  // The ops, as TensorFlow.js users call them.
  const x = rc.ones([1, 4, 4, 1]);
  const k = rc.ones([3, 3, 1, 1]);
  assert.deepEqual(rc.conv2d(x, k, { dataFormat: 'NHWC' }).shape, [1, 2, 2, 1]);
  refuses(
    () => rc.conv2d(x, k, { dataFormat: 'channelsFirst' } as never),
    /^conv2d: dataFormat 'channelsFirst' is not supported/,
  );
  refuses(
    () => rc.conv2d(x, k, { stride: 2 } as never),
    /^conv2d: unknown option 'stride'\. Did you mean 'strides'\?/,
  );
  refuses(
    () => rc.depthwiseConv2d(x, k, { groups: 1 } as never),
    /depthwiseConv2d: unknown option 'groups'/,
  );
  refuses(
    () => rc.conv2dTranspose(x, k, { outputpadding: 1 } as never),
    /conv2dTranspose: .*'outputPadding'/,
  );
});

test("Keras's snake_case names work wherever the camelCase ones do", () => {
  for (const name of ['glorot_uniform', 'he_normal', 'lecun_normal', 'GlorotUniform', 'zeros'])
    assert.deepEqual(getInitializer(name as never, 't')([2, 3]).shape, [2, 3]);
  refuses(
    () => getInitializer('glorot_unifrom' as never, 'Dense'),
    /Dense: unknown initializer 'glorot_unifrom'\. Did you mean 'glorotUniform'\?/,
  );
  const y = rc.tensor([0.5, -2], [1, 2]);
  assert.deepEqual(
    [...new layers.Activation({ activation: 'leaky_relu' as never }).apply(y).dataSync()].map(
      (v) => Math.round(v * 100) / 100,
    ),
    [0.5, -0.4],
  );
  refuses(
    () => new layers.Dense({ units: 2, activation: 'relux' as never }),
    /unknown activation 'relux'\. Did you mean 'relu'\?/,
  );
  const labels = rc.tensor([0, 1], [2], 'int32');
  const probs = rc.tensor([0.9, 0.1, 0.2, 0.8], [2, 2]);
  const want = getLoss('sparseCategoricalCrossentropy')(labels, probs).item();
  assert.equal(getLoss('sparse_categorical_crossentropy')(labels, probs).item(), want);
  for (const name of [
    'categorical_crossentropy',
    'binary_crossentropy',
    'mean_squared_error',
    'mean_absolute_error',
    'mse',
    'mae',
  ])
    assert.equal(typeof getLoss(name), 'function', name);
  refuses(
    () => getLoss('categorical_crossentropyy'),
    /unknown loss 'categorical_crossentropyy'\. .*'categoricalCrossentropy'/,
  );
  for (const name of [
    'accuracy',
    'sparse_categorical_accuracy',
    'categorical_accuracy',
    'binary_accuracy',
    'top_k_categorical_accuracy',
  ])
    assert.equal(typeof getMetric(name), 'function', name);
  refuses(() => getMetric('acuracy'), /unknown metric 'acuracy'\. Did you mean 'accuracy'\?/);
  assert.ok(rc.getOptimizer('RMSProp') instanceof rc.RMSprop);
  assert.ok(rc.getOptimizer('adam_w') instanceof rc.AdamW);
  refuses(() => rc.getOptimizer('adamm'), /unknown optimizer 'adamm'\. Did you mean 'adam'\?/);
});

test('compile, fit, evaluate, predict, optimizers and callbacks refuse unknown keys', async () => {
  const model = new rc.Sequential([new layers.Dense({ units: 2, inputShape: [3] })]);
  refuses(
    () => model.compile({ optimizer: 'sgd', loss: 'mse', metric: ['accuracy'] } as never),
    /compile: unknown option 'metric'\. Did you mean 'metrics'\?/,
  );
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = rc.ones([4, 3]);
  const y = rc.ones([4, 2]);
  await assert.rejects(
    model.fit(x, y, { epoch: 1, verbose: 0 } as never),
    /fit: unknown option 'epoch'\. Did you mean 'epochs'\?/,
  );
  await assert.rejects(
    model.fit(x, y, { batch_size: 2, verbose: 0 } as never),
    /fit: unknown option 'batch_size'\. receptive spells names in camelCase: did you mean 'batchSize'\?/,
  );
  await assert.rejects(
    model.evaluate(x, y, { batchsize: 2 } as never),
    /evaluate: unknown option 'batchsize'\. Did you mean 'batchSize'\?/,
  );
  refuses(() => model.predict(x, { batch: 2 } as never), /predict: unknown option 'batch'/);
  refuses(
    () => new rc.Adam({ learningrate: 0.1 } as never),
    /Adam: unknown option 'learningrate'\. Did you mean 'learningRate'\?/,
  );
  refuses(
    () => new rc.callbacks.EarlyStopping({ patient: 2 } as never),
    /EarlyStopping: unknown option 'patient'\. Did you mean 'patience'\?/,
  );
  await assert.rejects(
    model.fit(x, y, { verbose: 0, callbacks: { onEpochEnds() {} } } as never),
    /callbacks\[0\]\.onEpochEnds is not a hook.*Did you mean 'onEpochEnd'\?/,
  );
  // A plain-object callback may keep its own state.
  let ends = 0;
  const counter = {
    count: 0,
    onEpochEnd() {
      counter.count++;
      ends = counter.count;
    },
  };
  await model.fit(x, y, { verbose: 0, callbacks: counter });
  assert.equal(ends, 1);
});

test('zoo builders and data helpers refuse unknown keys', async () => {
  refuses(
    () => rc.models.lenet5({ numClass: 10 } as never),
    /lenet5: unknown option 'numClass'\. Did you mean 'numClasses'\?/,
  );
  refuses(
    () => rc.models.resnet18({ cifar_stem: true } as never),
    /resnet18: .*did you mean 'cifarStem'/,
  );
  await assert.rejects(loadMnist({ datadir: 'x' } as never), /loadMnist: .*'dataDir'/);
  await assert.rejects(loadCifar10({ data_dir: 'x' } as never), /loadCifar10: .*'dataDir'/);
  await assert.rejects(
    loadImageFolder('.', { imageSize: [2, 2] } as never),
    /loadImageFolder: unknown option 'imageSize'/,
  );
  refuses(() => randomCrop({ pad: 4 } as never), /randomCrop: .*'pad'/);
  refuses(() => horizontalFlip({ prob: 0.5 } as never), /horizontalFlip: .*'prob'/);
});

test('schedules, datasets, Input and summary refuse unknown keys too', () => {
  refuses(
    () => rc.schedules.stepDecay({ initial: 0.1, step_size: 10 } as never),
    /stepDecay: .*did you mean 'stepSize'/,
  );
  refuses(
    () => rc.schedules.exponentialDecay({ initial: 0.1, decaySteps: 1, decayrate: 0.9 } as never),
    /exponentialDecay: .*'decayRate'/,
  );
  refuses(
    () => rc.schedules.cosineDecay({ initial: 0.1, decaySteps: 1, alfa: 0 } as never),
    /cosineDecay: .*Did you mean 'alpha'\?/,
  );
  refuses(() => rc.Input([2], { batch_size: 1 } as never), /^Input: .*did you mean 'batchSize'/);
  const model = new rc.Sequential([new layers.Dense({ units: 2, inputShape: [3] })]);
  refuses(() => model.summary({ printer: false } as never), /summary: .*Did you mean 'print'\?/);
  const set = {
    images: new Uint8Array(4),
    labels: new Int32Array([0, 1]),
    shape: [1, 2, 1] as [number, number, number],
    classNames: ['a', 'b'],
  };
  refuses(
    () => rc.data.Dataset.fromImageSet(set, { scaling: 1 } as never),
    /Dataset\.fromImageSet: .*'scaling'/,
  );
  const ds = rc.data.Dataset.fromImageSet(set);
  refuses(() => ds.map((e) => e, { sead: 1 } as never), /Dataset\.map: .*Did you mean 'seed'\?/);
  refuses(
    () => ds.batch(2, { dropRemainders: true } as never),
    /Dataset\.batch: .*'dropRemainder'/,
  );
});
