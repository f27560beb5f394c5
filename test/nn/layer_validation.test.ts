/**
 * Bad arguments and inputs to the built-in layers: each gets an error naming the layer, and a
 * concrete call checks what a symbolic application checks (so a model that builds also runs,
 * and a call that would compute something wrong throws instead).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const L = rc.layers;

/** Asserts an error of `cls` whose message names the layer and matches `re`. */
function throwsFor(
  layer: rc.Layer | string,
  f: () => unknown,
  cls: typeof rc.ReceptiveError,
  re: RegExp,
): void {
  const who = typeof layer === 'string' ? layer : `${layer.className} '${layer.name}'`;
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.constructor.name}: ${e.message}`);
    assert.ok(e.message.includes(who), `message should name ${who}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

test('merge layers check their inputs on concrete calls as on symbolic ones', () => {
  const a = rc.randn([2, 3]);
  for (const layer of [new L.Add(), new L.Multiply(), new L.Concatenate()]) {
    throwsFor(layer, () => layer.apply(a), rc.ArgumentError, /a list of at least two inputs/);
    throwsFor(layer, () => layer.apply([a]), rc.ArgumentError, /at least two inputs, got 1/);
  }
  const add = new L.Add();
  throwsFor(add, () => add.apply([a, rc.randn([2, 4])]), rc.ShapeError, /axis -1 has 3 and 4/);
  throwsFor(
    add,
    () => add.apply([rc.Input([4, 4, 8]), rc.Input([4, 4, 3])]),
    rc.ShapeError,
    /same shape/,
  );
});

test('Add and Multiply broadcast size-1 axes, as Keras merge layers do', () => {
  const gate = new L.Multiply().apply([rc.Input([4, 4, 8]), rc.Input([1, 1, 8])]);
  assert.deepEqual(gate.shape, [null, 4, 4, 8]);
  assert.deepEqual(
    new L.Add().computeOutputShape([
      [null, 3],
      [1, 3],
    ]),
    [null, 3],
  );
  assert.deepEqual(
    new L.Add().computeOutputShape([
      [2, 1, 3],
      [4, 1],
    ]),
    [2, 4, 3],
  );
  const y = new L.Add().apply([
    rc.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]),
    rc.tensor([[10, 20, 30]]),
  ]);
  assert.deepEqual(y.toArray(), [
    [11, 22, 33],
    [14, 25, 36],
  ]);
});

test('global pooling checks the rank of concrete inputs', () => {
  for (const layer of [new L.GlobalAveragePooling2D(), new L.GlobalMaxPooling2D()]) {
    throwsFor(layer, () => layer.apply(rc.randn([2, 3, 4])), rc.ShapeError, /rank 4/);
    throwsFor(layer, () => layer.apply(rc.randn([1, 2, 3, 4, 5])), rc.ShapeError, /rank 4/);
  }
});

test('Reshape: at most one -1, the rest positive', () => {
  throwsFor(
    'Reshape',
    () => new L.Reshape({ targetShape: [-1, -1] }),
    rc.ArgumentError,
    /at most one -1/,
  );
  throwsFor(
    'Reshape',
    () => new L.Reshape({ targetShape: [0, 4] }),
    rc.ArgumentError,
    /positive integers/,
  );
  throwsFor(
    'Reshape',
    () => new L.Reshape({ targetShape: [2.5] }),
    rc.ArgumentError,
    /positive integers/,
  );
});

test('ReLU: maxValue and negativeSlope are finite and non-negative; a slope above 1 is still leaky ReLU', () => {
  throwsFor(
    'ReLU',
    () => new L.ReLU({ maxValue: Number.NaN }),
    rc.ArgumentError,
    /maxValue must be a finite number >= 0/,
  );
  throwsFor('ReLU', () => new L.ReLU({ maxValue: -1 }), rc.ArgumentError, /maxValue/);
  throwsFor('ReLU', () => new L.ReLU({ negativeSlope: -0.5 }), rc.ArgumentError, /negativeSlope/);
  const x = rc.tensor([-2, -0.5, 0.5, 3]);
  assert.deepEqual(
    Array.from(new L.ReLU({ negativeSlope: 2 }).apply(x).dataSync()),
    [-4, -1, 0.5, 3],
  );
  assert.deepEqual(
    Array.from(new L.ReLU({ negativeSlope: 0.5, maxValue: 1 }).apply(x).dataSync()),
    [-1, -0.25, 0.5, 1],
  );
});

test('Activation: the activation is required', () => {
  throwsFor(
    'Activation',
    () => new L.Activation({} as ConstructorParameters<typeof L.Activation>[0]),
    rc.ArgumentError,
    /activation is required/,
  );
});

test('SeparableConv2D: depthMultiplier is a positive integer', () => {
  throwsFor(
    'SeparableConv2D',
    () => new L.SeparableConv2D({ filters: 2, kernelSize: 3, depthMultiplier: 0 }),
    rc.ArgumentError,
    /depthMultiplier/,
  );
  throwsFor(
    'SeparableConv2D',
    () => new L.SeparableConv2D({ filters: 2, kernelSize: 3, depthMultiplier: 1.5 }),
    rc.ArgumentError,
    /depthMultiplier/,
  );
});

test('Conv2DTranspose: outputPadding smaller than the stride, checked at construction', () => {
  throwsFor(
    'Conv2DTranspose',
    () => new L.Conv2DTranspose({ filters: 1, kernelSize: 3, outputPadding: 1 }),
    rc.ArgumentError,
    /smaller than the strides/,
  );
  throwsFor(
    'Conv2DTranspose',
    () => new L.Conv2DTranspose({ filters: 1, kernelSize: 3, strides: 2, outputPadding: [1, 2] }),
    rc.ArgumentError,
    /outputPadding/,
  );
  assert.deepEqual(
    new L.Conv2DTranspose({ filters: 1, kernelSize: 3, strides: [2, 3], outputPadding: [1, 2] })
      .outputPadding,
    [1, 2],
  );
});

test('SpatialSeparableConv2D: a [kh, kw] kernel survives the config round trip', () => {
  const layer = new L.SpatialSeparableConv2D({ filters: 2, kernelSize: [3, 2], padding: 'same' });
  const x = rc.randn([1, 5, 4, 3], { seed: 1 });
  const y = layer.apply(x);
  assert.deepEqual(layer.getConfig().kernelSize, [3, 2]);
  assert.equal(
    new L.SpatialSeparableConv2D({ filters: 2, kernelSize: 3 }).getConfig().kernelSize,
    3,
  );
  const clone = rc.layerFromConfig({
    className: 'SpatialSeparableConv2D',
    config: JSON.parse(JSON.stringify(layer.getConfig())),
  });
  clone.apply(x);
  clone.setWeights(layer.getWeights());
  assert.deepEqual(clone.apply(x).dataSync(), y.dataSync());
});
