/**
 * TensorFlow.js and Keras models on disk, for the tests and the README test: networks built with
 * TensorFlow.js, saved as TF.js's file handlers save them (model.json and shards), as Keras 3
 * saves a .keras (a zip of config.json, metadata.json, model.weights.h5) and as Keras 2 saves a
 * full model .h5 (model_config attribute, model_weights by layer name), following Keras's layout.
 * It imports no receptive code, so a process running the built package (the README examples)
 * can use it beside `receptive` without loading a second copy of the library.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import AdmZip from 'adm-zip';
import h5wasm from 'h5wasm/node';

// biome-ignore lint/suspicious/noExplicitAny: Keras configs are nested JSON, edited freely.
export type Json = Record<string, any>;

/** TF.js on its CPU backend (no WebGL in Node) and h5wasm loaded: await before the rest. */
export async function kerasFixturesReady(): Promise<void> {
  await tf.setBackend('cpu');
  await h5wasm.ready;
}

/** Non-trivial weights: random biases and batch-norm statistics (TF.js starts them at 0 and 1). */
export function randomize(m: tf.LayersModel): void {
  let seed = 1;
  for (const l of m.layers) {
    if (l instanceof tf.LayersModel) {
      randomize(l);
      continue;
    }
    if (l.getWeights().length === 0) continue;
    const ws = l.getWeights().map((w, i, all) => {
      const s = seed++;
      // Batch normalization's moving variance (its last weight, with or without gamma and beta) > 0.
      if (l.getClassName() === 'BatchNormalization')
        return tf.randomUniform(w.shape, i === all.length - 1 ? 0.5 : -0.5, 1.5, 'float32', s);
      return tf.randomNormal(w.shape, 0, w.shape.length === 1 ? 0.2 : 0.3, 'float32', s);
    });
    l.setWeights(ws);
  }
}

/** A Sequential model with most layer classes, as TF.js builds it (TF.js names its layers). */
export function sequentialNet(): tf.Sequential {
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
export function functionalNet(): tf.LayersModel {
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

/** A pretrained base inside a Sequential, as transfer learning builds it. */
export function nestedNet(): tf.Sequential {
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

/** What `model.save` hands a TF.js save handler: topology, weight specs and weight bytes. */
export async function artifactsOf(m: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
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
export async function writeTfjsModel(dir: string, m: tf.LayersModel): Promise<Json> {
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

/** TF.js's prediction for an input given as values and shape (a receptive tensor will do). */
export function tfjsPredict(
  m: tf.LayersModel,
  x: { readonly shape: readonly number[]; dataSync(): ArrayLike<number> },
): Float32Array {
  return (
    m.predict(tf.tensor(Float32Array.from(x.dataSync()), [...x.shape])) as tf.Tensor
  ).dataSync() as Float32Array;
}

// ---- Keras files, written as Keras writes them ------------------------------------------------

/** The dtype policy Keras 3 writes in each layer's config. */
export const kerasPolicy = {
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
        : { ...cfg, dtype: kerasPolicy },
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
        config: { ...cfg, dtype: kerasPolicy },
        registered_name: null,
        build_config: { input_shape: null },
      });
  });
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: spec.config.name, trainable: true, dtype: kerasPolicy, layers },
    registered_name: null,
    build_config: { input_shape: null },
  };
}

/** A TF.js model's config as Keras 3 writes it: functional, or Sequential (nested ones too). */
function keras3ConfigOf(topology: Json): Json {
  return topology.class_name === 'Sequential' ? keras3Sequential(topology) : keras3Config(topology);
}

const snake = (c: string) =>
  c
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();

/**
 * model.weights.h5 as Keras 3 writes it: layers/<class, ranked>/vars/<i>, a nested model's
 * layers under its own key's `layers`, and the (here empty) optimizer and model variables.
 */
export async function writeKeras3Weights(path: string, m: tf.LayersModel): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
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
  f.create_group('optimizer').create_group('vars');
  f.create_group('vars');
  f.close();
}

/** Options of {@link writeKeras3}: what the tests vary. */
export interface Keras3Options {
  /** config.json's content; by default the model's own config as Keras 3 writes it. */
  config?: Json;
  /** metadata.json's content; by default Keras 3.6.0's. */
  metadata?: Json;
}

/** A Keras 3 .keras file of a TF.js model: config.json, metadata.json and model.weights.h5 in a zip. */
export async function writeKeras3(
  path: string,
  m: tf.LayersModel,
  options: Keras3Options = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'receptive-keras3-'));
  try {
    const h5 = join(dir, 'model.weights.h5');
    await writeKeras3Weights(h5, m);
    const config = options.config ?? keras3ConfigOf((await artifactsOf(m)).modelTopology as Json);
    const metadata = options.metadata ?? {
      keras_version: '3.6.0',
      date_saved: '2026-12-06@12:00:00',
    };
    const zip = new AdmZip();
    zip.addFile('metadata.json', Buffer.from(JSON.stringify(metadata)));
    zip.addFile('config.json', Buffer.from(JSON.stringify(config)));
    zip.addFile('model.weights.h5', readFileSync(h5));
    zip.writeZip(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Keras 2 full-model .h5 of a TF.js model: the model_config attribute, and model_weights with a
 * group per layer (by name) listing its weight_names, each dataset at its name's path in the
 * group. A nested model's weights come trainable first, as in Keras 2 (TF.js orders them so).
 */
export async function writeKeras2H5(path: string, m: tf.LayersModel): Promise<void> {
  await h5wasm.ready;
  const a = await artifactsOf(m);
  const f = new h5wasm.File(path, 'w');
  f.create_attribute('keras_version', '2.15.0');
  f.create_attribute('backend', 'tensorflow');
  f.create_attribute('model_config', JSON.stringify(a.modelTopology));
  const root = f.create_group('model_weights');
  root.create_attribute(
    'layer_names',
    m.layers.map((l) => l.name),
  );
  for (const l of m.layers) {
    const g = root.create_group(l.name);
    const names = l.weights.map((w) => `${w.originalName}:0`);
    g.create_attribute('weight_names', names);
    l.weights.forEach((w, i) => {
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
}
