/**
 * Models, whole, from TensorFlow.js (model.json of a layers model, by path or URL) and Keras
 * (.keras of Keras 3, .h5 of Keras 2): rc.loadModel builds the architecture and loads the weights.
 * The references are models TensorFlow.js itself builds and saves; the Keras files are written
 * following Keras's format (keras_fixtures.ts: config.json, metadata.json, model.weights.h5 in a
 * zip; an HDF5 file with model_config and model_weights), holding the TF.js model's config and
 * weights, and must predict what the TF.js model predicts.
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
import {
  functionalNet,
  type Json,
  kerasFixturesReady,
  kerasPolicy,
  nestedNet,
  randomize,
  sequentialNet,
  tfjsPredict,
  writeKeras2H5,
  writeKeras3,
  writeTfjsModel,
} from './keras_fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'receptive-keras-model-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(kerasFixturesReady);

function input(shape: number[], seed: number): rc.Tensor {
  return rc.randn([2, ...shape], { seed });
}

function assertSame(m: rc.Model, ref: tf.LayersModel, x: rc.Tensor, what: string): void {
  const got = m.predict(x);
  assert.deepEqual(got.shape, [2, ...(ref.outputs[0]!.shape.slice(1) as number[])]);
  const d = maxAbsDiff(got.dataSync(), tfjsPredict(ref, x));
  console.log(`${what}: max |difference| from TensorFlow.js = ${d.toExponential(2)}`);
  assert.ok(d < 1e-5, `${what}: predictions differ by ${d}`);
}

test('TensorFlow.js Sequential layers model: rc.loadModel(model.json or its folder) builds it and predicts as TF.js does', async () => {
  const ref = sequentialNet();
  const dir = join(tmp, 'tfjs-seq');
  await writeTfjsModel(dir, ref);
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
  await writeTfjsModel(dir, ref);
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
  const json = await writeTfjsModel(dir, ref);
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
  const want = Float32Array.from(tfjsPredict(cut, x), (v) => 2 * v);
  const d = maxAbsDiff(upTo.predict(x).dataSync(), want);
  assert.ok(d < 1e-5, `the custom layer's output differs by ${d}`);
});

test('bilinear UpSampling2D and Resizing (bilinear, nearest) predict as TensorFlow.js does; from Keras they sample at half pixels', async () => {
  for (const interpolation of ['bilinear', 'nearest'] as const) {
    const ref = tf.sequential();
    ref.add(
      tf.layers.conv2d({ inputShape: [5, 6, 2], filters: 3, kernelSize: 3, padding: 'same' }),
    );
    ref.add(tf.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear' }));
    ref.add(tf.layers.resizing({ height: 7, width: 11, interpolation }));
    randomize(ref);
    const dir = join(tmp, `tfjs-resize-${interpolation}`);
    await writeTfjsModel(dir, ref);
    const m = await rc.loadModel(join(dir, 'model.json'));
    // TF.js's Resizing fails inside a model (its call hands the op a list), so its own op (what
    // Resizing.call runs: corners aligned unless cropping) finishes TF.js's prediction.
    const x = input([5, 6, 2], 11);
    const upTo = tf.model({
      inputs: ref.inputs,
      outputs: ref.layers[1]!.output as tf.SymbolicTensor,
    });
    const up = upTo.predict(tf.tensor(Float32Array.from(x.dataSync()), x.shape)) as tf.Tensor4D;
    const want =
      interpolation === 'bilinear'
        ? tf.image.resizeBilinear(up, [7, 11], true)
        : tf.image.resizeNearestNeighbor(up, [7, 11], true);
    const got = m.predict(x);
    assert.deepEqual(got.shape, [2, 7, 11, 3]);
    const d = maxAbsDiff(got.dataSync(), want.dataSync());
    const what = `TF.js UpSampling2D bilinear + Resizing ${interpolation}`;
    console.log(`${what}: max |difference| from TensorFlow.js = ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `${what}: predictions differ by ${d}`);
    // TensorFlow.js samples bilinear upsampling asymmetrically and aligns Resizing's corners.
    const coords = (model: rc.Model) =>
      model.layers
        .filter((l) => l instanceof rc.layers.UpSampling2D || l instanceof rc.layers.Resizing)
        .map((l) => (l as rc.layers.Resizing).coordinates);
    assert.deepEqual(coords(m), ['asymmetric', 'align-corners']);
    // Keras (tf.image.resize) samples at half pixels.
    const path = join(tmp, `resize-${interpolation}.keras`);
    await writeKeras3(path, ref);
    assert.deepEqual(coords(await rc.loadModel(path)), ['half-pixel', 'half-pixel']);
  }
});

test('TensorFlow.js Maximum and Minimum merge layers load and predict as TF.js does', async () => {
  const x0 = tf.input({ shape: [6, 6, 2] });
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(x0);
  const b = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x0);
  const hi = tf.layers.maximum().apply([a, b, x0] as tf.SymbolicTensor[]);
  const lo = tf.layers.minimum().apply([a, b] as tf.SymbolicTensor[]);
  const out = tf.layers.concatenate().apply([hi, lo] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
  const ref = tf.model({ inputs: x0, outputs: out });
  randomize(ref);
  const dir = join(tmp, 'tfjs-maxmin');
  await writeTfjsModel(dir, ref);
  const m = await rc.loadModel(join(dir, 'model.json'));
  assert.ok(m.layers.some((l) => l instanceof rc.layers.Maximum));
  assert.ok(m.layers.some((l) => l instanceof rc.layers.Minimum));
  assertSame(m, ref, input([6, 6, 2], 21), 'TF.js Maximum + Minimum');
});

test('BatchNormalization without center or scale (fewer weights) loads from TF.js, Keras 3 and Keras 2 and predicts as TF.js does', async () => {
  const ref = tf.sequential();
  ref.add(tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3 }));
  ref.add(tf.layers.batchNormalization({ center: false }));
  ref.add(tf.layers.conv2d({ filters: 3, kernelSize: 1 }));
  ref.add(tf.layers.batchNormalization({ scale: false }));
  ref.add(tf.layers.batchNormalization({ center: false, scale: false }));
  randomize(ref);
  const dir = join(tmp, 'tfjs-bn');
  await writeTfjsModel(dir, ref);
  const keras3 = join(tmp, 'bn.keras');
  await writeKeras3(keras3, ref);
  const keras2 = join(tmp, 'bn.h5');
  await writeKeras2H5(keras2, ref);
  for (const [what, source] of [
    ['TF.js', join(dir, 'model.json')],
    ['Keras 3', keras3],
    ['Keras 2', keras2],
  ] as const) {
    const m = await rc.loadModel(source);
    assert.equal(m.countParams(), ref.countParams(), what);
    const bns = m.layers.filter((l) => l instanceof rc.layers.BatchNormalization);
    assert.deepEqual(
      bns.map((l) => l.weights.length),
      [3, 3, 2],
      `${what}: gamma or beta left out where Keras leaves them out`,
    );
    assertSame(m, ref, input([6, 6, 3], 31), `${what} BatchNormalization center/scale false`);
  }
});

test('TensorFlow.js / Keras configs receptive cannot honour are clear errors naming the layer and the option', async () => {
  const ref = sequentialNet();
  const dir = join(tmp, 'tfjs-bad');
  const good = await writeTfjsModel(dir, ref);
  const cases: [(j: Json) => void, RegExp][] = [
    [
      (j) => (j.modelTopology.config.layers[0].config.data_format = 'channels_first'),
      /conv2d_Conv2D\d+' \(Conv2D\): data_format "channels_first" is not supported.*NHWC/,
    ],
    [
      (j) => (j.modelTopology.config.layers[6].config.interpolation = 'bicubic'),
      /\(UpSampling2D\): interpolation = "bicubic" is not supported/,
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

test('Keras 3 .keras (zip of config.json, model.weights.h5, metadata.json) loads whole and predicts as TF.js does', async () => {
  const ref = functionalNet();
  const path = join(tmp, 'branches.keras');
  await writeKeras3(path, ref, {
    metadata: { keras_version: '3.3.3', date_saved: '2026-12-06@12:00:00' },
  });
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
  const path = join(tmp, 'seq.h5');
  await writeKeras2H5(path, ref);
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
    config: { trainable: true, dtype: kerasPolicy, ...config },
    registered_name: null,
    build_config: { input_shape: [null, 4, 4, 2] },
  });
  const config = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      dtype: kerasPolicy,
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
  const path = join(tmp, 'seq.keras');
  await writeKeras3(path, twin, { config });
  const m = await rc.loadModel(path);
  const x = input([4, 4, 2], 11);
  const want = Array.from(tfjsPredict(twin, x), (v) => Math.min(1, Math.max(0, v / 6 + 0.5)));
  const d = maxAbsDiff(m.predict(x).dataSync(), want);
  assert.ok(d < 1e-6, `Keras 3 hard_sigmoid: differs by ${d}`);
  // Keras 2's hard_sigmoid (TF.js's too) is clip(0.2·x + 0.5): the version decides.
  await writeKeras3(path, twin, { config, metadata: { keras_version: '2.15.0' } });
  await assert.rejects(
    () => rc.loadModel(path),
    /metadata.json says Keras 2.15.0; .keras files are Keras 3's format/,
  );
  // rc.loadModel reads TF.js models; the resume path (saved state) says it cannot.
  const dir = join(tmp, 'tfjs-for-full');
  await writeTfjsModel(dir, twin);
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

test('nested models (a Sequential base inside a Sequential): TF.js model.json and Keras 2 .h5 load whole', async () => {
  const ref = nestedNet();
  const dir = join(tmp, 'tfjs-nested');
  await writeTfjsModel(dir, ref);
  const m = await rc.loadModel(dir);
  assert.ok(m.getLayer('base') instanceof rc.Model, 'the base stays a model of its own');
  assertSame(m, ref, input([6, 6, 2], 12), 'TF.js nested');

  // Keras 2 lists a nested model's weights trainable first (BN's moving statistics last).
  const path = join(tmp, 'nested.h5');
  await writeKeras2H5(path, ref);
  assert.deepEqual(
    ref.getLayer('base').weights.map((w) => w.originalName.split('/')[1]),
    ['kernel', 'bias', 'gamma', 'beta', 'kernel', 'bias', 'moving_mean', 'moving_variance'],
  );
  assertSame(await rc.loadModel(path), ref, input([6, 6, 2], 13), 'Keras 2 nested .h5');
});

test('nested models in a Keras 3 .keras: a nested Sequential is found under its class key', async () => {
  const ref = nestedNet();
  const path = join(tmp, 'nested.keras');
  await writeKeras3(path, ref);
  assertSame(await rc.loadModel(path), ref, input([6, 6, 2], 14), 'Keras 3 nested .keras');
});
