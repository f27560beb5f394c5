/**
 * Weights from TensorFlow.js (model.json + shards, or in-memory artifacts) and Keras HDF5 files
 * (Keras 3 `.weights.h5` and Keras 2 `.h5` layouts, written here with h5wasm): a tfjs model and a
 * receptive model of the same architecture and layer names give the same predictions.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import * as rc from '../../../src/index.js';
import { maxAbsDiff } from '../onnx/helpers.js';
import { artifactsOf } from './keras_fixtures.js';

const { layers } = rc;
const tmp = mkdtempSync(join(tmpdir(), 'receptive-tfjs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  await tf.setBackend('cpu');
  await h5wasm.ready;
});

/** The same network in TensorFlow.js and in receptive, layer for layer, with the same names. */
function tfjsNet(): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      name: 'conv_a',
      inputShape: [9, 9, 3],
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
    }),
  );
  m.add(tf.layers.batchNormalization({ name: 'bn_a', epsilon: 1e-3 }));
  m.add(
    tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
  );
  m.add(
    tf.layers.separableConv2d({
      name: 'sep',
      filters: 5,
      kernelSize: 3,
      padding: 'valid',
      activation: 'tanh',
    }),
  );
  m.add(
    tf.layers.conv2dTranspose({
      name: 'up',
      filters: 3,
      kernelSize: 2,
      strides: 2,
      padding: 'same',
    }),
  );
  m.add(tf.layers.conv2d({ name: 'conv_b', filters: 2, kernelSize: 1, useBias: false }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ name: 'fc', units: 4, activation: 'softmax' }));
  // Non-trivial batch-norm statistics and biases.
  const bn = m.getLayer('bn_a');
  bn.setWeights(
    bn
      .getWeights()
      .map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, 1.5, 'float32', i)),
  );
  for (const name of ['conv_a', 'dw', 'sep', 'up', 'fc']) {
    const l = m.getLayer(name);
    l.setWeights(
      l
        .getWeights()
        .map((w, i) => (w.shape.length === 1 ? tf.randomNormal(w.shape, 0, 0.1, 'float32', i) : w)),
    );
  }
  return m;
}

function receptiveNet(names = true): rc.Sequential {
  const n = (name: string) => (names ? { name } : {});
  return new rc.Sequential([
    new layers.Conv2D({
      ...n('conv_a'),
      inputShape: [9, 9, 3],
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
    }),
    new layers.BatchNormalization({ ...n('bn_a'), epsilon: 1e-3 }),
    new layers.DepthwiseConv2D({ ...n('dw'), kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
    new layers.SeparableConv2D({
      ...n('sep'),
      filters: 5,
      kernelSize: 3,
      padding: 'valid',
      activation: 'tanh',
    }),
    new layers.Conv2DTranspose({
      ...n('up'),
      filters: 3,
      kernelSize: 2,
      strides: 2,
      padding: 'same',
    }),
    new layers.Conv2D({ ...n('conv_b'), filters: 2, kernelSize: 1, useBias: false }),
    new layers.Flatten(),
    new layers.Dense({ ...n('fc'), units: 4, activation: 'softmax' }),
  ]);
}

const xData = rc.randn([2, 9, 9, 3], { seed: 4 });
const tfPredict = (m: tf.LayersModel) =>
  (
    m.predict(tf.tensor(xData.dataSync() as Float32Array, xData.shape)) as tf.Tensor
  ).dataSync() as Float32Array;

test('TensorFlow.js model.json + shards load by layer name and give the same predictions', async () => {
  const tfm = tfjsNet();
  const a = await artifactsOf(tfm);
  const dir = join(tmp, 'tfjs-model');
  mkdirSync(dir);
  // Two shards, as the converter splits large models.
  const data = new Uint8Array(a.weightData as ArrayBuffer);
  const cut = Math.floor(data.length / 2);
  writeFileSync(join(dir, 'group1-shard1of2.bin'), data.subarray(0, cut));
  writeFileSync(join(dir, 'group1-shard2of2.bin'), data.subarray(cut));
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      format: 'layers-model',
      modelTopology: a.modelTopology,
      weightsManifest: [
        { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: a.weightSpecs },
      ],
    }),
  );
  const m = receptiveNet();
  const pairs = await rc.loadTfjsWeights(m, join(dir, 'model.json'));
  assert.ok(pairs.some(([t, r]) => t === 'bn_a/moving_variance' && r === 'bn_a/moving_variance'));
  const d = maxAbsDiff(m.predict(xData).dataSync(), tfPredict(tfm));
  console.log(`tfjs → receptive: max |difference| = ${d.toExponential(2)}`);
  assert.ok(d < 1e-5, `predictions differ by ${d}`);
  // The in-memory artifacts of a save handler work too, and the directory instead of model.json.
  const m2 = receptiveNet();
  await rc.loadTfjsWeights(m2, {
    weightSpecs: a.weightSpecs as rc.TfjsWeightSpec[],
    weightData: a.weightData as ArrayBuffer,
  });
  assert.deepEqual(m2.getWeights(), m.getWeights());
  await rc.loadTfjsWeights(receptiveNet(), dir);
});

test('TensorFlow.js: quantized weights (uint8, uint16, float16) are dequantized; mismatches are clear errors', async () => {
  const m = new rc.Sequential([new layers.Dense({ units: 2, inputShape: [2], name: 'q' })]);
  const u8 = new Uint8Array([0, 1, 2, 255]);
  const u16 = new Uint16Array([0x3c00, 0xc000]); // float16 1, -2
  await rc.loadTfjsWeights(m, {
    weightSpecs: [
      {
        name: 'q/kernel',
        shape: [2, 2],
        dtype: 'float32',
        quantization: { dtype: 'uint8', scale: 0.5, min: -1 },
      },
      { name: 'q/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
    ],
    weightData: [u8.buffer, u16.buffer],
  });
  assert.deepEqual(
    m.getWeights().map((w) => [...w]),
    [
      [-1, -0.5, 0, 126.5],
      [1, -2],
    ],
  );
  const a = await artifactsOf(tfjsNet());
  const art = {
    weightSpecs: a.weightSpecs as rc.TfjsWeightSpec[],
    weightData: a.weightData as ArrayBuffer,
  };
  await assert.rejects(
    () => rc.loadTfjsWeights(receptiveNet(false), art),
    /has no weight 'conv2d[_0-9]*\/kernel' .*same names/,
  );
  const wider = new rc.Sequential([
    new layers.Conv2D({ name: 'conv_a', inputShape: [9, 9, 3], filters: 5, kernelSize: 3 }),
  ]);
  await assert.rejects(
    () => rc.loadTfjsWeights(wider, art, { strict: false }),
    /'conv_a\/kernel' has shape \[3, 3, 3, 4\] but .* needs \[3, 3, 3, 5\]/,
  );
  await assert.rejects(
    () =>
      rc.loadTfjsWeights(
        new rc.Sequential([
          new layers.Conv2D({ name: 'conv_a', inputShape: [9, 9, 3], filters: 4, kernelSize: 3 }),
        ]),
        art,
      ),
    /weights the model does not use: bn_a\/gamma/,
  );
  await assert.rejects(
    () =>
      rc.loadTfjsWeights(m, {
        weightSpecs: [{ name: 'q/kernel', shape: [2, 2], dtype: 'float32' }],
        weightData: new ArrayBuffer(8),
      }),
    /the weight data ends before 'q\/kernel'/,
  );
});

type Weights = { layer: string; cls: string; names: string[]; arrays: tf.Tensor[] }[];
function tfjsWeights(m: tf.LayersModel): Weights {
  return m.layers
    .filter((l) => l.weights.length > 0)
    .map((l) => ({
      layer: l.name,
      cls: l.getClassName(),
      names: l.weights.map((w) => w.name),
      arrays: l.getWeights(),
    }));
}

const snake = (c: string) =>
  c
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();

/** Keras 3's .weights.h5 layout: layers/<class_k>/vars/<i>, keys from class names and ranks. */
function writeKeras3(path: string, ws: Weights): void {
  const f = new h5wasm.File(path, 'w');
  const layersGroup = f.create_group('layers');
  const counts = new Map<string, number>();
  for (const { cls, arrays } of ws) {
    const base = snake(cls);
    const k = counts.get(base) ?? 0;
    counts.set(base, k + 1);
    const vars = layersGroup.create_group(k === 0 ? base : `${base}_${k}`).create_group('vars');
    for (const [i, t] of arrays.entries())
      vars.create_dataset({
        name: String(i),
        data: t.dataSync() as Float32Array,
        shape: t.shape,
        dtype: '<f',
      });
  }
  f.create_group('optimizer').create_group('vars');
  f.close();
}

/** Keras 2's .h5 layout: attribute layer_names; per layer group, attribute weight_names and datasets. */
function writeKeras2(path: string, ws: Weights, underModelWeights: boolean): void {
  const f = new h5wasm.File(path, 'w');
  const root = underModelWeights ? f.create_group('model_weights') : f;
  root.create_attribute('layer_names', ['input', ...ws.map((w) => w.layer)]);
  root.create_group('input').create_attribute('weight_names', []);
  for (const { layer, names, arrays } of ws) {
    const g = root.create_group(layer);
    const wn = names.map((n) => `${n}:0`);
    g.create_attribute('weight_names', wn);
    const inner = g.create_group(layer);
    arrays.forEach((t, i) => {
      const leaf = wn[i]!.slice(layer.length + 1);
      inner.create_dataset({
        name: leaf,
        data: t.dataSync() as Float32Array,
        shape: t.shape,
        dtype: '<f',
      });
    });
  }
  f.close();
}

test('Keras 3 .weights.h5 (layers by class and rank) loads and gives the same predictions', async () => {
  const tfm = tfjsNet();
  const path = join(tmp, 'net.weights.h5');
  writeKeras3(path, tfjsWeights(tfm));
  const m = receptiveNet(false); // Keras 3 files do not store layer names
  const pairs = await rc.loadKerasWeights(m, path);
  assert.ok(
    pairs.some(([p]) => p === 'layers/conv2d_1/vars/0'),
    'the second Conv2D reads conv2d_1',
  );
  const d = maxAbsDiff(m.predict(xData).dataSync(), tfPredict(tfm));
  console.log(`Keras 3 .weights.h5 → receptive: max |difference| = ${d.toExponential(2)}`);
  assert.ok(d < 1e-5, `predictions differ by ${d}`);
});

test('Keras 2 .h5 (layer names, weight_names; also under model_weights) loads and gives the same predictions', async () => {
  const tfm = tfjsNet();
  for (const nested of [false, true]) {
    const path = join(tmp, `net-${nested}.h5`);
    writeKeras2(path, tfjsWeights(tfm), nested);
    const m = receptiveNet();
    await rc.loadKerasWeights(m, new Uint8Array((await import('node:fs')).readFileSync(path)));
    const d = maxAbsDiff(m.predict(xData).dataSync(), tfPredict(tfm));
    assert.ok(d < 1e-5, `predictions differ by ${d}`);
  }
});

test('Keras files: the first layer that does not fit is named; files that are not Keras weights are rejected', async () => {
  const tfm = tfjsNet();
  const k3 = join(tmp, 'mismatch.weights.h5');
  writeKeras3(k3, tfjsWeights(tfm));
  const other = new rc.Sequential([
    new layers.Conv2D({
      inputShape: [9, 9, 3],
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
    }),
  ]);
  await assert.rejects(
    () => rc.loadKerasWeights(other, k3, { strict: false }),
    /'layers\/conv2d\/vars\/0' has shape \[3, 3, 3, 4\] but .* needs \[3, 3, 3, 6\]/,
  );
  const k2 = join(tmp, 'mismatch.h5');
  writeKeras2(k2, tfjsWeights(tfm), false);
  await assert.rejects(
    () => rc.loadKerasWeights(receptiveNet(false), k2),
    /has no layer 'conv2d[_0-9]*' .*match layers by name; the file has: conv_a, bn_a/,
  );
  const notKeras = join(tmp, 'plain.h5');
  const f = new h5wasm.File(notKeras, 'w');
  f.create_dataset({ name: 'x', data: new Float32Array(2) });
  f.close();
  await assert.rejects(
    () => rc.loadKerasWeights(receptiveNet(), notKeras),
    /not a Keras weights file/,
  );
  const junk = join(tmp, 'junk.h5');
  writeFileSync(junk, 'not hdf5');
  await assert.rejects(() => rc.loadKerasWeights(receptiveNet(), junk), /not an HDF5 file/);
});
