/**
 * Models, whole, from TensorFlow.js (model.json of a layers model, by path or URL) and Keras
 * (.keras of Keras 3, .h5 of Keras 2): rc.loadModel builds the architecture and loads the weights.
 * The references are models TensorFlow.js itself builds and saves; the Keras files are written
 * here following Keras's format (config.json, metadata.json, model.weights.h5 in a zip; an HDF5
 * file with model_config and model_weights), holding the TF.js model's config and weights, and
 * must predict what the TF.js model predicts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import AdmZip from 'adm-zip';
import h5wasm from 'h5wasm/node';
import * as rc from '../../../src/index.js';
import { maxAbsDiff } from '../onnx/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'receptive-keras-model-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  await tf.setBackend('cpu');
  await h5wasm.ready;
});

// biome-ignore lint/suspicious/noExplicitAny: the tests edit model.json's nested config freely.
type Json = Record<string, any>;

/** Non-trivial weights: random biases and batch-norm statistics (TF.js starts them at 0 and 1). */
function randomize(m: tf.LayersModel): void {
  let seed = 1;
  for (const l of m.layers) {
    if (l instanceof tf.LayersModel) {
      randomize(l);
      continue;
    }
    if (l.getWeights().length === 0) continue;
    const ws = l.getWeights().map((w, i) => {
      const s = seed++;
      if (l.getClassName() === 'BatchNormalization')
        return tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, 1.5, 'float32', s);
      return tf.randomNormal(w.shape, 0, w.shape.length === 1 ? 0.2 : 0.3, 'float32', s);
    });
    l.setWeights(ws);
  }
}

/** A Sequential model with most layer classes, as TF.js builds it (TF.js names its layers). */
function sequentialNet(): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [12, 12, 3],
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu6',
    }),
  );
  m.add(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }));
  m.add(
    tf.layers.zeroPadding2d({
      padding: [
        [1, 0],
        [0, 2],
      ],
    }),
  );
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'elu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
  m.add(
    tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'tanh' }),
  );
  m.add(tf.layers.upSampling2d({ size: [2, 2] }));
  m.add(
    tf.layers.conv2dTranspose({
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'sigmoid',
    }),
  );
  m.add(tf.layers.averagePooling2d({ poolSize: 4, strides: 3 }));
  m.add(tf.layers.leakyReLU({ alpha: 0.1 }));
  m.add(tf.layers.prelu({ sharedAxes: [1, 2] }));
  m.add(tf.layers.elu());
  m.add(tf.layers.activation({ activation: 'softplus' }));
  m.add(tf.layers.reshape({ targetShape: [49, 4] }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.dense({ units: 10, activation: 'hardSigmoid' }));
  m.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
  randomize(m);
  return m;
}

/** A functional model with branches: Add, Concatenate, Multiply, global pooling, ReLU layers. */
function functionalNet(): tf.LayersModel {
  const x = tf.input({ shape: [10, 10, 3], name: 'image' });
  const a = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a' })
    .apply(x) as tf.SymbolicTensor;
  const an = tf.layers.batchNormalization({ name: 'a_bn' }).apply(a) as tf.SymbolicTensor;
  const ar = tf.layers.reLU({ maxValue: 6, name: 'a_relu' }).apply(an) as tf.SymbolicTensor;
  const b = tf.layers
    .conv2d({ filters: 4, kernelSize: 1, activation: 'swish', name: 'b' })
    .apply(x) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'sum' }).apply([ar, b]) as tf.SymbolicTensor;
  const prod = tf.layers.multiply({ name: 'prod' }).apply([sum, b]) as tf.SymbolicTensor;
  const cat = tf.layers
    .concatenate({ axis: -1, name: 'cat' })
    .apply([sum, prod, ar]) as tf.SymbolicTensor;
  const sm = tf.layers.softmax({ name: 'sm', axis: -1 }).apply(cat) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(sm) as tf.SymbolicTensor;
  const gmp = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(cat) as tf.SymbolicTensor;
  // One Dense applied to both pools: its second application is node 1 of the layer.
  const shared = tf.layers.dense({ units: 6, activation: 'relu', name: 'shared' });
  const both = tf.layers
    .concatenate({ name: 'pools' })
    .apply([shared.apply(gap), shared.apply(gmp)] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: 'logits' }).apply(both) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: out, name: 'branches' });
  randomize(m);
  return m;
}

async function artifactsOf(m: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Writes what TF.js's file:// and browser-download handlers write: model.json and shards. */
async function saveTfjs(m: tf.LayersModel, dir: string): Promise<Json> {
  const a = await artifactsOf(m);
  mkdirSync(dir, { recursive: true });
  const data = new Uint8Array(a.weightData as ArrayBuffer);
  const cut = Math.floor(data.length / 2);
  writeFileSync(join(dir, 'group1-shard1of2.bin'), data.subarray(0, cut));
  writeFileSync(join(dir, 'group1-shard2of2.bin'), data.subarray(cut));
  const json = {
    format: 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [
      { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: a.weightSpecs },
    ],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  return json;
}

function input(shape: number[], seed: number): rc.Tensor {
  return rc.randn([2, ...shape], { seed });
}
const tfPredict = (m: tf.LayersModel, x: rc.Tensor) =>
  (m.predict(tf.tensor(x.dataSync() as Float32Array, x.shape)) as tf.Tensor).dataSync();

function assertSame(m: rc.Model, ref: tf.LayersModel, x: rc.Tensor, what: string): void {
  const got = m.predict(x);
  assert.deepEqual(got.shape, [2, ...(ref.outputs[0]!.shape.slice(1) as number[])]);
  const d = maxAbsDiff(got.dataSync(), tfPredict(ref, x));
  console.log(`${what}: max |difference| from TensorFlow.js = ${d.toExponential(2)}`);
  assert.ok(d < 1e-5, `${what}: predictions differ by ${d}`);
}

test('TensorFlow.js Sequential layers model: rc.loadModel(model.json or its folder) builds it and predicts as TF.js does', async () => {
  const ref = sequentialNet();
  const dir = join(tmp, 'tfjs-seq');
  await saveTfjs(ref, dir);
  const m = await rc.loadModel(join(dir, 'model.json'));
  assert.ok(m instanceof rc.Model);
  assert.equal(m.countParams(), ref.countParams());
  // Layer names are TF.js's, and the weights are trainable receptive weights.
  assert.ok(m.layers.some((l) => l.name.startsWith('conv2d_Conv2D')));
  assertSame(m, ref, input([12, 12, 3], 1), 'TF.js Sequential');
  assertSame(await rc.loadModel(dir), ref, input([12, 12, 3], 2), 'TF.js Sequential (folder)');
  // tensorflowjs_converter (Python) wraps the config in model_config, beside Keras's version.
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  json.modelTopology = {
    keras_version: '2.15.0',
    backend: 'tensorflow',
    model_config: json.modelTopology,
    training_config: null,
  };
  json.convertedBy = 'TensorFlow.js Converter v4.22.0';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  assertSame(
    await rc.loadModel(dir),
    ref,
    input([12, 12, 3], 2),
    'converted by tensorflowjs_converter',
  );
  // Receptive's own models in a folder still load as before.
  const own = join(tmp, 'own');
  await m.save(own);
  assertSame(await rc.loadModel(own), ref, input([12, 12, 3], 3), 'saved again by receptive');
});

test('TensorFlow.js functional layers model (Add, Multiply, Concatenate, global pooling, ReLU, Softmax, a shared layer) predicts as TF.js does, by path and over http', async () => {
  const ref = functionalNet();
  const dir = join(tmp, 'tfjs-fn');
  await saveTfjs(ref, dir);
  const progress: number[] = [];
  const m = await rc.loadModel(join(dir, 'model.json'), { onProgress: (f) => progress.push(f) });
  assert.deepEqual([progress[0], progress.at(-1)], [0, 1]);
  assert.equal(m.name, 'branches');
  assertSame(m, ref, input([10, 10, 3], 4), 'TF.js functional');
  const { readFile } = await import('node:fs/promises');
  const server = createServer((req, res) => {
    readFile(join(dir, (req.url ?? '/').slice(1))).then(
      (b) => res.end(b),
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const viaHttp = await rc.loadModel(`http://127.0.0.1:${port}/model.json`);
    assertSame(viaHttp, ref, input([10, 10, 3], 5), 'TF.js functional over http');
  } finally {
    server.close();
  }
  // It trains: one step changes the loaded weights.
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const before = m.getWeights()[0]!.slice();
  await m.fit(input([10, 10, 3], 6), rc.zeros([2, 3]), { epochs: 1, verbose: 0 });
  assert.ok(maxAbsDiff(before, m.getWeights()[0]!) > 0, 'training moved the weights');
});

/** A layer of the user's own, registered under the class name a Keras model uses. */
class TimesK extends rc.Layer {
  static override className = 'TimesK';
  readonly k: number;
  constructor(args: rc.LayerArgs & { k?: number }) {
    super({ name: args.name, trainable: args.trainable });
    this.k = args.k ?? 1;
  }
  call(x: rc.Tensor | rc.Tensor[]): rc.Tensor {
    return rc.mul(x as rc.Tensor, this.k);
  }
  computeOutputShape(s: rc.Shape | rc.Shape[]): rc.Shape {
    return s as rc.Shape;
  }
}

test('an unknown layer class is a KerasImportError naming it; rc.registerLayer maps a custom one', async () => {
  const ref = sequentialNet();
  const dir = join(tmp, 'tfjs-custom');
  const json = await saveTfjs(ref, dir);
  // The Activation('softplus') layer becomes a class of the user's own.
  const layers = json.modelTopology.config.layers as Json[];
  const i = layers.findIndex((l) => l.class_name === 'Activation');
  layers[i] = {
    class_name: 'TimesK',
    config: { name: 'times', trainable: true, dtype: 'float32', k: 2 },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  await assert.rejects(
    () => rc.loadModel(join(dir, 'model.json')),
    (e: Error) =>
      e instanceof rc.KerasImportError &&
      /layer 'times' \(TimesK\): Unknown layer class 'TimesK'/.test(e.message) &&
      /rc\.registerLayer/.test(e.message),
  );
  rc.registerLayer(TimesK);
  const m = await rc.loadModel(join(dir, 'model.json'));
  assert.ok(m.getLayer('times') instanceof TimesK);
  // TimesK(2) where softplus was: twice the output of the layer before it in TF.js's model.
  const x = input([12, 12, 3], 7);
  const cut = tf.model({
    inputs: ref.inputs,
    outputs: ref.layers[i - 1]!.output as tf.SymbolicTensor,
  });
  const times = m.getLayer('times');
  const upTo = new rc.Model({ inputs: m.inputs, outputs: times.inboundNodes[0]!.output });
  const want = Float32Array.from(tfPredict(cut, x), (v) => 2 * v);
  const d = maxAbsDiff(upTo.predict(x).dataSync(), want);
  assert.ok(d < 1e-5, `the custom layer's output differs by ${d}`);
});

test('TensorFlow.js / Keras configs receptive cannot honour are clear errors naming the layer and the option', async () => {
  const ref = sequentialNet();
  const dir = join(tmp, 'tfjs-bad');
  const good = await saveTfjs(ref, dir);
  const cases: [(j: Json) => void, RegExp][] = [
    [
      (j) => (j.modelTopology.config.layers[0].config.data_format = 'channels_first'),
      /conv2d_Conv2D\d+' \(Conv2D\): data_format "channels_first" is not supported.*NHWC/,
    ],
    [
      (j) => (j.modelTopology.config.layers[6].config.interpolation = 'bilinear'),
      /\(UpSampling2D\): interpolation = "bilinear" is not supported/,
    ],
    [
      (j) => (j.modelTopology.config.layers[0].config.activation = 'selu'),
      /activation 'selu' is not supported. Supported activations: linear, relu/,
    ],
    [
      (j) => (j.modelTopology.config.layers[0].config.filters = 'six'),
      /filters must be an integer/,
    ],
    [
      (j) => (j.modelTopology.config.layers[0].config.batch_input_shape = [null, null, null, 3]),
      /unknown sizes/,
    ],
    [
      (j) => (j.modelTopology.config.layers[1].config.renorm = true),
      /renorm = true is not supported/,
    ],
    [
      (j) => (j.modelTopology.config.layers[1].config.surprise = 1),
      /option\(s\) surprise = 1 not supported/,
    ],
    [
      (j) => (j.modelTopology.config.layers[0].config.dtype = 'float16'),
      /dtype "float16" is not supported/,
    ],
    [
      (j) => (j.weightsManifest[0].paths[0] = '../../etc/passwd'),
      /shards must be files beside model.json/,
    ],
    [(j) => (j.weightsManifest[0].paths = ['group1-shard1of2.bin']), /ends before/],
    [(j) => (j.modelTopology.class_name = 'MyModel'), /model class 'MyModel' is not supported/],
    [(j) => (j.format = 'graph-model'), /graph model/],
    [
      (j) => {
        // receptive has a Permute of its own, with its own options: not built from Keras's.
        const l = j.modelTopology.config.layers.find((x: Json) => x.class_name === 'Reshape');
        l.class_name = 'Permute';
        l.config = { name: l.config.name, dims: [2, 1] };
      },
      /Unknown layer class 'Permute': receptive cannot build it from a Keras config/,
    ],
  ];
  for (const [edit, re] of cases) {
    const j = JSON.parse(JSON.stringify(good));
    edit(j);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
    await assert.rejects(
      () => rc.loadModel(join(dir, 'model.json')),
      (e: Error) => {
        assert.ok(e instanceof rc.ReceptiveError, `${e}`);
        assert.match(e.message, re);
        return true;
      },
    );
  }
  // Regularizers only shape training: the model loads, with a notice.
  const j = JSON.parse(JSON.stringify(good));
  j.modelTopology.config.layers[0].config.kernel_regularizer = {
    class_name: 'L1L2',
    config: { l1: 0, l2: 0.01 },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
  assertSame(
    await rc.loadModel(join(dir, 'model.json')),
    ref,
    input([12, 12, 3], 8),
    'with a regularizer',
  );
});

// ---- Keras files, written as Keras writes them ------------------------------------------------

const policy = {
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name: 'float32' },
  registered_name: null,
};
const kerasTensor = ([name, node, index]: [string, number, number]) => ({
  class_name: '__keras_tensor__',
  config: { shape: null, dtype: 'float32', keras_history: [name, node, index] },
});

/** TF.js's (Keras 2 style) functional config as Keras 3 writes it in config.json. */
function keras3Config(topology: Json): Json {
  const c = topology.config;
  const merge = new Set(['Add', 'Multiply', 'Concatenate']);
  const layers = (c.layers as Json[]).map((l) => {
    const { batch_input_shape, ...cfg } = l.config;
    const isInput = l.class_name === 'InputLayer';
    return {
      module: 'keras.layers',
      class_name: l.class_name,
      config: isInput
        ? { batch_shape: batch_input_shape, dtype: 'float32', sparse: false, name: l.name }
        : { ...cfg, dtype: policy },
      registered_name: null,
      ...(isInput ? {} : { build_config: { input_shape: null } }),
      name: l.name,
      inbound_nodes: (l.inbound_nodes as [string, number, number][][]).map((node) => ({
        args: merge.has(l.class_name) ? [node.map(kerasTensor)] : node.map(kerasTensor),
        kwargs: {},
      })),
    };
  });
  return {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: c.name,
      trainable: true,
      layers,
      // Keras 3 writes a single input or output as one triple.
      input_layers: c.input_layers[0],
      output_layers: c.output_layers,
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
}

/** model.weights.h5 as Keras 3 writes it: layers/<class, ranked>/vars/<i>. */
function keras3Weights(path: string, m: tf.LayersModel): void {
  const f = new h5wasm.File(path, 'w');
  const root = f.create_group('layers');
  const counts = new Map<string, number>();
  const snake = (c: string) =>
    c
      .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase();
  for (const l of m.layers) {
    const base = snake(l.getClassName());
    const k = counts.get(base) ?? 0;
    counts.set(base, k + 1);
    const g = root.create_group(k === 0 ? base : `${base}_${k}`);
    const vars = g.create_group('vars');
    for (const [i, t] of l.getWeights().entries())
      vars.create_dataset({
        name: String(i),
        data: t.dataSync() as Float32Array,
        shape: t.shape,
        dtype: '<f',
      });
  }
  f.create_group('optimizer').create_group('vars');
  f.create_group('vars');
  f.close();
}

test('Keras 3 .keras (zip of config.json, model.weights.h5, metadata.json) loads whole and predicts as TF.js does', async () => {
  const ref = functionalNet();
  const a = await artifactsOf(ref);
  const h5 = join(tmp, 'model.weights.h5');
  keras3Weights(h5, ref);
  const zip = new AdmZip();
  zip.addFile(
    'metadata.json',
    Buffer.from(JSON.stringify({ keras_version: '3.3.3', date_saved: '2026-12-06@12:00:00' })),
  );
  zip.addFile('config.json', Buffer.from(JSON.stringify(keras3Config(a.modelTopology as Json))));
  zip.addFile('model.weights.h5', (await import('node:fs')).readFileSync(h5));
  const path = join(tmp, 'branches.keras');
  zip.writeZip(path);
  const m = await rc.loadModel(path);
  assertSame(m, ref, input([10, 10, 3], 9), 'Keras 3 .keras');

  // A zip without config.json, and bytes that are no zip, are clear errors.
  const empty = new AdmZip();
  empty.addFile('other.txt', Buffer.from('x'));
  empty.writeZip(join(tmp, 'empty.keras'));
  await assert.rejects(() => rc.loadModel(join(tmp, 'empty.keras')), /no config.json/);
  writeFileSync(join(tmp, 'junk.keras'), 'not a zip');
  await assert.rejects(() => rc.loadModel(join(tmp, 'junk.keras')), rc.KerasImportError);
  await assert.rejects(() => rc.loadModel(join(tmp, 'missing.keras')), rc.IOError);
});

test('Keras 2 full-model .h5 (model_config attribute, model_weights by layer name) loads whole and predicts as TF.js does', async () => {
  const ref = sequentialNet();
  const a = await artifactsOf(ref);
  const path = join(tmp, 'seq.h5');
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('keras_version', '2.15.0');
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('model_config', JSON.stringify(a.modelTopology));
  const root = f.create_group('model_weights');
  root.create_attribute(
    'layer_names',
    ref.layers.map((l) => l.name),
  );
  for (const l of ref.layers) {
    const g = root.create_group(l.name);
    const names = l.weights.map((w) => `${w.originalName}:0`);
    g.create_attribute('weight_names', names);
    if (!names.length) continue;
    const inner = g.create_group(l.name);
    l.getWeights().forEach((t, i) => {
      inner.create_dataset({
        name: names[i]!.slice(l.name.length + 1),
        data: t.dataSync() as Float32Array,
        shape: t.shape,
        dtype: '<f',
      });
    });
  }
  f.close();
  const m = await rc.loadModel(path);
  assertSame(m, ref, input([12, 12, 3], 10), 'Keras 2 .h5');

  // A weights-only .h5 says what to do instead.
  const w = join(tmp, 'weights-only.h5');
  const g = new h5wasm.File(w, 'w');
  g.create_attribute('layer_names', ['x']);
  g.close();
  await assert.rejects(() => rc.loadModel(w), /no model_config attribute: it holds weights only/);
});

test('Keras 3 Sequential .keras, config written as Keras 3 writes it: Keras 3 activations (hard_sigmoid is relu6(x + 3) / 6)', async () => {
  // The twin in TF.js has the same weights and a linear Dense; Keras 3's hard_sigmoid follows.
  const twin = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [4, 4, 2],
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2 }),
    ],
  });
  randomize(twin);
  const init = (class_name: string) => ({
    module: 'keras.initializers',
    class_name,
    config: class_name === 'Zeros' ? {} : { seed: null },
    registered_name: null,
  });
  const none = {
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  };
  const layer = (class_name: string, config: Json) => ({
    module: 'keras.layers',
    class_name,
    config: { trainable: true, dtype: policy, ...config },
    registered_name: null,
    build_config: { input_shape: [null, 4, 4, 2] },
  });
  const config = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      dtype: policy,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: {
            batch_shape: [null, 4, 4, 2],
            dtype: 'float32',
            sparse: false,
            name: 'input_layer',
          },
          registered_name: null,
        },
        layer('Conv2D', {
          name: 'conv2d',
          filters: 3,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: 'same',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          groups: 1,
          activation: 'relu',
          use_bias: true,
          kernel_initializer: init('GlorotUniform'),
          bias_initializer: init('Zeros'),
          ...none,
        }),
        layer('Flatten', { name: 'flatten', data_format: 'channels_last' }),
        layer('Dense', {
          name: 'dense',
          units: 2,
          activation: 'hard_sigmoid',
          use_bias: true,
          kernel_initializer: init('GlorotUniform'),
          bias_initializer: init('Zeros'),
          ...none,
        }),
      ],
      build_input_shape: [null, 4, 4, 2],
    },
    registered_name: null,
    build_config: { input_shape: [null, 4, 4, 2] },
    compile_config: null,
  };
  const h5 = join(tmp, 'seq.weights.h5');
  keras3Weights(h5, twin);
  const zip = new AdmZip();
  zip.addFile(
    'metadata.json',
    Buffer.from(JSON.stringify({ keras_version: '3.6.0', date_saved: '2026-12-06@12:00:00' })),
  );
  zip.addFile('config.json', Buffer.from(JSON.stringify(config)));
  zip.addFile('model.weights.h5', (await import('node:fs')).readFileSync(h5));
  const path = join(tmp, 'seq.keras');
  zip.writeZip(path);
  const m = await rc.loadModel(path);
  const x = input([4, 4, 2], 11);
  const want = Array.from(tfPredict(twin, x), (v) => Math.min(1, Math.max(0, v / 6 + 0.5)));
  const d = maxAbsDiff(m.predict(x).dataSync(), want);
  assert.ok(d < 1e-6, `Keras 3 hard_sigmoid: differs by ${d}`);
  // Keras 2's hard_sigmoid (TF.js's too) is clip(0.2·x + 0.5): the version decides.
  zip.updateFile('metadata.json', Buffer.from(JSON.stringify({ keras_version: '2.15.0' })));
  zip.writeZip(path);
  await assert.rejects(
    () => rc.loadModel(path),
    /metadata.json says Keras 2.15.0; .keras files are Keras 3's format/,
  );
  // rc.loadModel reads TF.js models; the resume path (saved state) says it cannot.
  const dir = join(tmp, 'tfjs-for-full');
  await saveTfjs(twin, dir);
  await assert.rejects(
    () => rc.loadModelFull(dir),
    /is a TensorFlow.js model, not one that model.save wrote/,
  );
});

test('hostile model.json (no Keras wrote it): cycles, dangling references, huge or wrong values are KerasImportErrors', async () => {
  const dir = join(tmp, 'hostile');
  mkdirSync(dir);
  const inp = {
    class_name: 'InputLayer',
    name: 'in',
    config: { batch_input_shape: [null, 4, 4, 2], name: 'in' },
    inbound_nodes: [],
  };
  const conv = (cfg: Json, nodes: unknown = [[['in', 0, 0, {}]]]) => ({
    class_name: 'Conv2D',
    name: 'c',
    config: { name: 'c', filters: 2, kernel_size: 3, ...cfg },
    inbound_nodes: nodes,
  });
  const model = (layers: unknown[], extra: Json = {}) => ({
    format: 'layers-model',
    modelTopology: {
      class_name: 'Functional',
      config: {
        name: 'f',
        layers,
        input_layers: [['in', 0, 0]],
        output_layers: [['c', 0, 0]],
        ...extra,
      },
    },
    weightsManifest: [],
  });
  const cases: [unknown, RegExp][] = [
    [{ format: 'layers-model', modelTopology: null, weightsManifest: [] }, /no Keras model config/],
    [
      model([inp, conv({ filters: 1e9 })]),
      /layer 'c' \(Conv2D\): its weights are too large to allocate/,
    ],
    [
      model([inp, conv({ filters: -3 })]),
      /layer 'c' \(Conv2D\): .*filters must be a positive integer/,
    ],
    [model([inp, conv({}, [[['c', 0, 0, {}]]])]), /the inputs of 'c' \(c\) never appear/],
    [model([inp, conv({}, [[[5, 'a']]])]), /refers to \[5,"a"\], not a layer/],
    [model([inp, conv({})], { output_layers: [['zzz', 0, 0]] }), /missing layer 'zzz'/],
    [model([inp, null]), /a layer entry is null/],
    [model([inp, { ...conv({}), class_name: '__proto__' }]), /Unknown layer class '__proto__'/],
    [model([inp, conv({})]), /has no weight 'c\/kernel' .*weightsManifest lacks it/],
  ];
  for (const [json, re] of cases) {
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await assert.rejects(
      () => rc.loadModel(join(dir, 'model.json')),
      (e: Error) => {
        assert.ok(e instanceof rc.ReceptiveError, `${e.name}: ${e.message}`);
        assert.match(e.message, re);
        return true;
      },
    );
  }
});

/** A pretrained base inside a Sequential, as transfer learning builds it. */
function nestedNet(): tf.Sequential {
  const base = tf.sequential({
    name: 'base',
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.conv2d({ filters: 3, kernelSize: 1 }),
    ],
  });
  const m = tf.sequential({
    layers: [base, tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' })],
  });
  randomize(m);
  return m;
}

test('nested models (a Sequential base inside a Sequential): TF.js model.json and Keras 2 .h5 load whole', async () => {
  const ref = nestedNet();
  const dir = join(tmp, 'tfjs-nested');
  const json = await saveTfjs(ref, dir);
  const m = await rc.loadModel(dir);
  assert.ok(m.getLayer('base') instanceof rc.Model, 'the base stays a model of its own');
  assertSame(m, ref, input([6, 6, 2], 12), 'TF.js nested');

  // Keras 2 lists a nested model's weights trainable first (BN's moving statistics last).
  const path = join(tmp, 'nested.h5');
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('keras_version', '2.15.0');
  f.create_attribute('model_config', JSON.stringify(json.modelTopology));
  const root = f.create_group('model_weights');
  root.create_attribute(
    'layer_names',
    ref.layers.map((l) => l.name),
  );
  for (const l of ref.layers) {
    const g = root.create_group(l.name);
    const names = l.weights.map((w) => `${w.originalName}:0`);
    g.create_attribute('weight_names', names);
    l.weights.forEach((w, i) => {
      // Datasets sit at their names' paths inside the layer's group.
      const parts = names[i]!.split('/');
      let at = g;
      for (const p of parts.slice(0, -1)) at = (at.get(p) as typeof g) ?? at.create_group(p);
      const t = w.read();
      at.create_dataset({
        name: parts.at(-1)!,
        data: t.dataSync() as Float32Array,
        shape: t.shape,
        dtype: '<f',
      });
    });
  }
  f.close();
  assert.deepEqual(
    ref.getLayer('base').weights.map((w) => w.originalName.split('/')[1]),
    ['kernel', 'bias', 'gamma', 'beta', 'kernel', 'bias', 'moving_mean', 'moving_variance'],
  );
  assertSame(await rc.loadModel(path), ref, input([6, 6, 2], 13), 'Keras 2 nested .h5');
});

/** A TF.js Sequential's config (Keras 2 style) as Keras 3 writes it, nested models included. */
function keras3Sequential(spec: Json): Json {
  const layers: Json[] = [];
  (spec.config.layers as Json[]).forEach((l, i) => {
    const { batch_input_shape, ...cfg } = l.config;
    if (i === 0 && batch_input_shape)
      layers.push({
        module: 'keras.layers',
        class_name: 'InputLayer',
        config: {
          batch_shape: batch_input_shape,
          dtype: 'float32',
          sparse: false,
          name: `${cfg.name}_input`,
        },
        registered_name: null,
      });
    if (l.class_name === 'Sequential') layers.push(keras3Sequential(l));
    else
      layers.push({
        module: 'keras.layers',
        class_name: l.class_name,
        config: { ...cfg, dtype: policy },
        registered_name: null,
        build_config: { input_shape: null },
      });
  });
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: spec.config.name, trainable: true, dtype: policy, layers },
    registered_name: null,
    build_config: { input_shape: null },
  };
}

/** model.weights.h5 of Keras 3 for nested models: a nested model's layers under its own key. */
function keras3NestedWeights(path: string, m: tf.LayersModel): void {
  const f = new h5wasm.File(path, 'w');
  const snake = (c: string) =>
    c
      .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase();
  const walk = (model: tf.LayersModel, group: ReturnType<typeof f.create_group>) => {
    const counts = new Map<string, number>();
    for (const l of model.layers) {
      const base = snake(l.getClassName());
      const k = counts.get(base) ?? 0;
      counts.set(base, k + 1);
      const g = group.create_group(k === 0 ? base : `${base}_${k}`);
      if (l instanceof tf.LayersModel) {
        walk(l, g.create_group('layers'));
        continue;
      }
      const vars = g.create_group('vars');
      for (const [i, t] of l.getWeights().entries())
        vars.create_dataset({
          name: String(i),
          data: t.dataSync() as Float32Array,
          shape: t.shape,
          dtype: '<f',
        });
    }
  };
  walk(m, f.create_group('layers'));
  f.close();
}

test('nested models in a Keras 3 .keras: a nested Sequential is found under its class key', async () => {
  const ref = nestedNet();
  const a = await artifactsOf(ref);
  const h5 = join(tmp, 'nested.weights.h5');
  keras3NestedWeights(h5, ref);
  const zip = new AdmZip();
  zip.addFile('metadata.json', Buffer.from(JSON.stringify({ keras_version: '3.6.0' })));
  zip.addFile(
    'config.json',
    Buffer.from(JSON.stringify(keras3Sequential(a.modelTopology as Json))),
  );
  zip.addFile('model.weights.h5', (await import('node:fs')).readFileSync(h5));
  const path = join(tmp, 'nested.keras');
  zip.writeZip(path);
  assertSame(await rc.loadModel(path), ref, input([6, 6, 2], 14), 'Keras 3 nested .keras');
});
