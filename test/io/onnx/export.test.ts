/**
 * ONNX export, checked by running it: every zoo model (small inputs) and models made of each
 * layer type are exported, run in onnxruntime-node on random inputs, and compared with
 * receptive's own predictions.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import * as rc from '../../../src/index.js';
import { ONNX_PROTO } from '../../../src/io/onnx/onnx_proto.js';
import { onnxType } from '../../../src/io/onnx/schema.js';
import { maxAbsDiff, randomizeWeights, runOnnx, softmaxRows } from './helpers.js';

const { layers } = rc;
const tmp = mkdtempSync(join(tmpdir(), 'receptive-onnx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Largest difference per model, printed at the end (the report's table). */
const measured: string[] = [];
after(() =>
  console.log(`ONNX Runtime vs receptive, max |difference|:\n  ${measured.join('\n  ')}`),
);

/** Exports, runs in ONNX Runtime, and returns the largest difference from predict over all outputs. */
async function compare(model: rc.Model, inputs: rc.Tensor[]): Promise<number> {
  const got = await runOnnx(rc.encodeOnnx(model), inputs);
  const want = model.callAll(inputs.length === 1 ? inputs[0]! : inputs, { training: false });
  assert.equal(got.length, want.length, 'number of outputs');
  return Math.max(...want.map((w, i) => maxAbsDiff(got[i]!, w.dataSync())));
}

async function expectSame(label: string, model: rc.Model, inputs: rc.Tensor[], tol = 1e-4) {
  const d = await compare(model, inputs);
  measured.push(`${label}: ${d.toExponential(2)}`);
  assert.ok(d < tol, `${label}: ONNX Runtime differs from receptive by ${d} (tolerance ${tol})`);
}

const rand = (shape: number[], seed: number) => rc.randn(shape, { seed });

test('the CPU binary inside the onnxruntime-node package loads (no install script needed)', async () => {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const binding = join(
    pkg,
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
    'onnxruntime_binding.node',
  );
  assert.ok(existsSync(binding), `${binding} is shipped in the npm package`);
  assert.match(ort.env.versions.node ?? '', /^1\./);
  const m = new rc.Sequential([new layers.ReLU({ inputShape: [3] })]);
  const [y] = await runOnnx(rc.encodeOnnx(m), [rc.tensor([[-1, 0, 2]])]);
  assert.deepEqual([...y!], [0, 0, 2]);
});

test('the schema is the official onnx.proto (ONNX 1.12), and the file has opset 17 and an NHWC input with a symbolic batch', () => {
  for (const copy of [
    '/usr/include/onnx/onnx.proto',
    '/usr/lib/python3/dist-packages/onnx/onnx.proto',
  ]) {
    if (existsSync(copy))
      assert.equal(ONNX_PROTO, readFileSync(copy, 'utf8'), `same text as ${copy}`);
  }
  assert.match(ONNX_PROTO, /IR_VERSION = 0x0000000000000008;/);
  const m = rc.models.lenet5();
  const decoded = onnxType('ModelProto').toObject(onnxType('ModelProto').decode(rc.encodeOnnx(m)), {
    longs: Number,
  }) as {
    ir_version: number;
    opset_import: { domain?: string; version: number }[];
    graph: {
      node: { op_type: string; input: string[] }[];
      input: {
        name: string;
        type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } };
      }[];
      initializer: { name: string; dims: number[] }[];
    };
  };
  assert.equal(decoded.ir_version, 8);
  assert.deepEqual(
    decoded.opset_import.map((o) => o.version),
    [17],
  );
  const dims = decoded.graph.input[0]!.type.tensor_type.shape.dim;
  assert.deepEqual(dims, [
    { dim_param: 'batch' },
    { dim_value: 28 },
    { dim_value: 28 },
    { dim_value: 1 },
  ]);
  const first = decoded.graph.node[0]!;
  assert.equal(first.op_type, 'Transpose', 'NHWC → NCHW right after the input');
  assert.equal(first.input[0], decoded.graph.input[0]!.name);
  // Kernels are stored OIHW: the first conv's 5×5 kernel of 1 → 6 is [6, 1, 5, 5].
  assert.deepEqual(decoded.graph.initializer[0]!.dims, [6, 1, 5, 5]);
});

/** The zoo model with its final softmax dropped: the same layers, logits out. */
function logitsOf(model: rc.Model): rc.Model {
  const out = model.outputs[0]!;
  const fc = out.layer as rc.layers.Dense;
  const linear = new layers.Dense({ units: fc.units, name: `${fc.name}_logits` });
  const logits = linear.apply(out.inputs[0]!);
  linear.setWeights(fc.getWeights());
  return new rc.Model({ inputs: model.inputs, outputs: logits });
}

const smallZoo: [string, number[]][] = [
  ['lenet5', [28, 28, 1]],
  ['lenet5-classic', [32, 32, 1]],
  ['lenet5-bn', [28, 28, 1]],
  ['mnist-cnn', [28, 28, 1]],
];
for (const [name, shape] of smallZoo) {
  test(`zoo: ${name} gives ONNX Runtime's outputs (softmax, < 1e-4)`, async () => {
    const m = rc.models.createModel(name, { inputShape: shape });
    randomizeWeights(m);
    await expectSame(name, m, [rand([2, ...shape], 7)]);
  });
}

// The large networks at small inputs: logits within 1e-3, probabilities within 1e-4.
const largeZoo: [string, number[]][] = [
  ['alexnet-groups2', [67, 67, 3]],
  ['vgg11', [32, 32, 3]],
  ['vgg13-cifar-bn', [32, 32, 3]],
  ['resnet18', [32, 32, 3]],
  ['densenet121', [32, 32, 3]],
  ['googlenet', [64, 64, 3]],
];
for (const [name, shape] of largeZoo) {
  test(`zoo: ${name} at ${shape.slice(0, 2).join('×')} gives ONNX Runtime's logits (< 1e-3) and probabilities (< 1e-4)`, async () => {
    const m = rc.models.createModel(name, { inputShape: shape, numClasses: 10 });
    randomizeWeights(m);
    const x = rand([1, ...shape], 11);
    const logits = logitsOf(m);
    const [got] = await runOnnx(rc.encodeOnnx(logits), [x]);
    const want = logits.predict(x).dataSync();
    const d = maxAbsDiff(got!, want);
    const p = maxAbsDiff(softmaxRows(got!, 10), m.predict(x).dataSync());
    measured.push(
      `${name} (${shape.join('×')}): logits ${d.toExponential(2)}, softmax ${p.toExponential(2)}`,
    );
    assert.ok(d < 1e-3, `${name}: logits differ by ${d}`);
    assert.ok(p < 1e-4, `${name}: probabilities differ by ${p}`);
  });
}

test('zoo: GoogLeNet exports only its inference output (the auxiliary classifiers are training-only)', async () => {
  const m = rc.models.googlenet({ inputShape: [64, 64, 3], numClasses: 5 });
  const session = await ort.InferenceSession.create(rc.encodeOnnx(m));
  assert.equal(session.outputNames.length, 1);
  assert.ok(!session.outputNames.some((n) => n.startsWith('aux')));
});

/** A functional model of one layer (or a few), on an input of the given shape. */
function single(shape: number[], ...ls: rc.Layer[]): rc.Model {
  const input = rc.Input(shape);
  let t: rc.SymbolicTensor = input;
  for (const l of ls) t = l.apply(t);
  return new rc.Model({ inputs: input, outputs: t });
}

const layerCases: [string, () => rc.Model, number[]][] = [
  [
    "Conv2D stride 2 'same' on odd sizes (TensorFlow's asymmetric padding)",
    () =>
      single(
        [9, 8, 3],
        new layers.Conv2D({ filters: 4, kernelSize: 4, strides: 2, padding: 'same' }),
      ),
    [9, 8, 3],
  ],
  [
    'Conv2D dilation 2, groups 2, explicit padding [[1, 2], [0, 3]], relu',
    () =>
      single(
        [10, 9, 4],
        new layers.Conv2D({
          filters: 6,
          kernelSize: [3, 2],
          dilationRate: 2,
          groups: 2,
          padding: [
            [1, 2],
            [0, 3],
          ],
          activation: 'relu',
        }),
      ),
    [10, 9, 4],
  ],
  [
    'Conv2D with every activation (elu, leakyRelu, gelu, swish, sigmoid, tanh, scaledTanh, softmax over channels)',
    () =>
      single(
        [6, 6, 2],
        ...(
          ['elu', 'leakyRelu', 'gelu', 'swish', 'sigmoid', 'tanh', 'scaledTanh', 'softmax'] as const
        ).map(
          (activation) =>
            new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation }),
        ),
      ),
    [6, 6, 2],
  ],
  [
    "DepthwiseConv2D multiplier 2, stride 2 'same'; dilated depthwise",
    () =>
      single(
        [9, 9, 3],
        new layers.DepthwiseConv2D({
          kernelSize: 3,
          depthMultiplier: 2,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        new layers.DepthwiseConv2D({ kernelSize: 2, dilationRate: 2, padding: 'valid' }),
      ),
    [9, 9, 3],
  ],
  [
    'SeparableConv2D (dilation, multiplier) and SpatialSeparableConv2D',
    () =>
      single(
        [11, 10, 3],
        new layers.SeparableConv2D({
          filters: 5,
          kernelSize: 3,
          depthMultiplier: 2,
          dilationRate: 2,
          padding: 'same',
        }),
        new layers.SpatialSeparableConv2D({
          filters: 4,
          kernelSize: [3, 5],
          strides: 2,
          padding: 'same',
          activation: 'tanh',
        }),
        new layers.SpatialSeparableConv2D({ filters: 2, kernelSize: 3, padding: 1 }),
      ),
    [11, 10, 3],
  ],
  [
    "Conv2DTranspose 'same' stride 2, 'valid' with outputPadding, explicit padding, dilation, k=1 stride 2",
    () =>
      single(
        [5, 4, 3],
        new layers.Conv2DTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
        new layers.Conv2DTranspose({
          filters: 3,
          kernelSize: 3,
          strides: 2,
          padding: 'valid',
          outputPadding: 1,
        }),
        new layers.Conv2DTranspose({
          filters: 2,
          kernelSize: [3, 4],
          strides: [1, 2],
          padding: [
            [1, 0],
            [2, 1],
          ],
        }),
        new layers.Conv2DTranspose({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same' }),
        new layers.Conv2DTranspose({
          filters: 2,
          kernelSize: 1,
          strides: 2,
          padding: 'same',
          activation: 'sigmoid',
        }),
      ),
    [5, 4, 3],
  ],
  [
    "MaxPooling2D and AveragePooling2D: 'same' (average over real pixels), 'valid', explicit",
    () =>
      single(
        [11, 9, 3],
        new layers.MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }),
        new layers.AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' }),
        new layers.MaxPooling2D({
          poolSize: 2,
          strides: 1,
          padding: [
            [1, 0],
            [0, 1],
          ],
        }),
        new layers.AveragePooling2D({ poolSize: 2, strides: 1, padding: 'valid' }),
      ),
    [11, 9, 3],
  ],
  [
    'BatchNormalization on images and on features (also without center/scale), LRN',
    () =>
      single(
        [5, 5, 6],
        new layers.BatchNormalization({ epsilon: 1e-3 }),
        new layers.LocalResponseNormalization({ depthRadius: 2, bias: 2, alpha: 1e-2, beta: 0.75 }),
        new layers.BatchNormalization({ center: false, scale: false }),
        new layers.GlobalAveragePooling2D(),
        new layers.BatchNormalization({ epsilon: 1e-5 }),
      ),
    [5, 5, 6],
  ],
  [
    'Dense on images (channels last), Flatten, Reshape, Dense, Dropout',
    () =>
      single(
        [4, 3, 5],
        new layers.Conv2D({ filters: 4, kernelSize: 1 }),
        new layers.Dense({ units: 3, activation: 'relu' }),
        new layers.Flatten(),
        new layers.Dropout({ rate: 0.5 }),
        new layers.Reshape({ targetShape: [6, -1] }),
        new layers.Dense({ units: 2, useBias: false }),
        new layers.Reshape({ targetShape: [3, 2, 2] }),
        new layers.Conv2D({ filters: 3, kernelSize: 2 }),
        new layers.Flatten(),
        new layers.Dense({ units: 4, activation: 'softmax' }),
      ),
    [4, 3, 5],
  ],
  [
    'ReLU (maxValue, negativeSlope below and above 1) and Activation layers',
    () =>
      single(
        [3, 3, 2],
        new layers.Conv2D({ filters: 3, kernelSize: 1 }),
        new layers.ReLU({ maxValue: 0.5 }),
        new layers.Conv2D({ filters: 3, kernelSize: 1 }),
        new layers.ReLU({ negativeSlope: 0.1, maxValue: 6 }),
        new layers.Conv2D({ filters: 3, kernelSize: 1 }),
        new layers.ReLU({ negativeSlope: 2 }),
        new layers.Activation({ activation: 'gelu' }),
      ),
    [3, 3, 2],
  ],
  [
    'ZeroPadding2D, UpSampling2D, GlobalMaxPooling2D (keepDims)',
    () =>
      single(
        [3, 4, 2],
        new layers.ZeroPadding2D({
          padding: [
            [1, 2],
            [0, 1],
          ],
        }),
        new layers.UpSampling2D({ size: [2, 3] }),
        new layers.Conv2D({ filters: 3, kernelSize: 3 }),
        new layers.GlobalMaxPooling2D({ keepDims: true }),
      ),
    [3, 4, 2],
  ],
  [
    'MaxPooling2D with dilated windows (explicit padding, same)',
    () =>
      single(
        [9, 8, 2],
        new layers.MaxPooling2D({ poolSize: [2, 3], strides: [2, 1], padding: 1, dilationRate: 2 }),
        new layers.MaxPooling2D({ poolSize: 2, strides: 1, padding: 'same', dilationRate: [1, 2] }),
      ),
    [9, 8, 2],
  ],
  [
    'Padding2D: reflect, edge, constant',
    () =>
      single(
        [4, 5, 2],
        new layers.Padding2D({
          padding: [
            [2, 1],
            [3, 0],
          ],
        }),
        new layers.Conv2D({ filters: 3, kernelSize: 3 }),
        new layers.Padding2D({ padding: [2, 1], mode: 'edge' }),
        new layers.Padding2D({ padding: 1, mode: 'constant', value: 0.75 }),
      ),
    [4, 5, 2],
  ],
  [
    'UpSampling2D bilinear (half-pixel, asymmetric), nearest (align-corners)',
    () =>
      single(
        [3, 4, 2],
        new layers.UpSampling2D({ size: [2, 3], interpolation: 'bilinear' }),
        new layers.Conv2D({ filters: 2, kernelSize: 3 }),
        new layers.UpSampling2D({ size: 2, interpolation: 'bilinear', coordinates: 'asymmetric' }),
        new layers.UpSampling2D({ size: [1, 2], coordinates: 'align-corners' }),
      ),
    [3, 4, 2],
  ],
  [
    'Resizing: bilinear and nearest, every coordinate mode, factors of its own',
    () => {
      const input = rc.Input([5, 6, 2]);
      const modes = ['half-pixel', 'align-corners', 'asymmetric'] as const;
      // 6 → 3 columns: nearest half-pixel and align-corners samples fall on ties (x.5).
      const sizes = [
        [7, 4],
        [5, 3],
      ] as const;
      const outs = sizes.flatMap(([height, width]) =>
        modes.flatMap((coordinates) =>
          (['bilinear', 'nearest'] as const).map((interpolation) =>
            new layers.Flatten().apply(
              new layers.Resizing({ height, width, interpolation, coordinates }).apply(input),
            ),
          ),
        ),
      );
      const own = new layers.Resizing({
        height: 8,
        width: 3,
        coordinates: 'asymmetric',
        scale: [1.7, 0.6],
      }).apply(input);
      return new rc.Model({
        inputs: input,
        outputs: new layers.Concatenate().apply([...outs, new layers.Flatten().apply(own)]),
      });
    },
    [5, 6, 2],
  ],
  [
    'Maximum, Minimum, Divide, Power (broadcasting), ConstantArithmetic maximum, minimum, power',
    () => {
      const input = rc.Input([4, 5, 3]);
      const a = new layers.Conv2D({ filters: 3, kernelSize: 1 }).apply(input);
      const b = new layers.GlobalAveragePooling2D({ keepDims: true }).apply(a);
      const hi = new layers.Maximum().apply([input, a, b]);
      const lo = new layers.Minimum().apply([input, b]);
      const positive = new layers.ConstantArithmetic({
        op: 'maximum',
        constantShape: [],
        name: 'floor_at',
      }).apply(new layers.Activation({ activation: 'sigmoid' }).apply(hi));
      const ratio = new layers.Divide().apply([
        lo,
        new layers.ConstantArithmetic({ op: 'add', constantShape: [] }).apply(positive),
      ]);
      const power = new layers.Power().apply([positive, ratio]);
      const squared = new layers.ConstantArithmetic({
        op: 'power',
        constantShape: [3],
        name: 'squared',
      }).apply(power);
      const out = new layers.ConstantArithmetic({
        op: 'minimum',
        constantShape: [],
        constantFirst: true,
        name: 'capped',
      }).apply(squared);
      const m = new rc.Model({ inputs: input, outputs: out });
      m.getLayer('floor_at').setWeights([new Float32Array([0.25])]);
      m.getLayer('squared').setWeights([new Float32Array([2, 1.5, 3])]);
      m.getLayer('capped').setWeights([new Float32Array([0.9])]);
      return m;
    },
    [4, 5, 3],
  ],
  [
    'SqueezeExcite and CBAM (with and without biases)',
    () =>
      single(
        [6, 5, 8],
        new layers.SqueezeExcite({ ratio: 4 }),
        new layers.CBAM({ ratio: 2, kernelSize: 3 }),
        new layers.CBAM({ ratio: 4, useBias: true }),
      ),
    [6, 5, 8],
  ],
  [
    'InceptionModule with and without batch normalization',
    () =>
      single(
        [7, 7, 4],
        new layers.InceptionModule({
          filters1x1: 2,
          filters3x3Reduce: 3,
          filters3x3: 4,
          filters5x5Reduce: 2,
          filters5x5: 3,
          poolProjection: 2,
        }),
        new layers.InceptionModule({
          filters1x1: 3,
          filters3x3Reduce: 2,
          filters3x3: 2,
          filters5x5Reduce: 2,
          filters5x5: 2,
          poolProjection: 1,
          batchNorm: true,
        }),
      ),
    [7, 7, 4],
  ],
];
for (const [label, make, shape] of layerCases) {
  test(`layers: ${label}`, async () => {
    const m = make();
    randomizeWeights(m, 3);
    await expectSame(label, m, [rand([2, ...shape], 5)]);
  });
}

test('layers: Add and Multiply (with a [b, 1, 1, c] gate), Concatenate on channels and on height, OctaveConv2D', async () => {
  const input = rc.Input([8, 8, 4]);
  const a = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input);
  const sum = new layers.Add().apply([a, input, a]);
  const gate = new layers.GlobalAveragePooling2D({ keepDims: true }).apply(sum);
  const gated = new layers.Multiply().apply([sum, gate]);
  const channels = new layers.Concatenate().apply([gated, input]);
  const rows = new layers.Concatenate({ axis: 1 }).apply([channels, channels]);
  const [h1, l1] = rc.layers.OctaveConv2D.pair({
    filters: 8,
    kernelSize: 3,
    alphaIn: 0,
    alphaOut: 0.5,
  });
  const hi = h1.apply(input);
  const lo = l1.apply(input);
  const [h2, l2] = rc.layers.OctaveConv2D.pair({
    filters: 6,
    kernelSize: 3,
    strides: 2,
    activation: 'relu',
  });
  const hi2 = h2.apply([hi, lo]);
  const lo2 = l2.apply([hi, lo]);
  const oct = new layers.OctaveConv2D({ filters: 4, kernelSize: 3, alphaOut: 0 }).apply([hi2, lo2]);
  const m = new rc.Model({ inputs: input, outputs: [rows, oct] });
  randomizeWeights(m, 4);
  await expectSame('merge + octave', m, [rand([2, 8, 8, 4], 9)]);
});

test('models: several inputs and outputs, an image output (NHWC again), a Sequential nested in a functional model', async () => {
  const a = rc.Input([6, 6, 3], { name: 'image' });
  const b = rc.Input([5], { name: 'features' });
  const trunk = new rc.Sequential([
    new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 3] }),
    new layers.MaxPooling2D({ poolSize: 2 }),
  ]);
  const maps = trunk.apply(a);
  const pooled = new layers.GlobalAveragePooling2D().apply(maps);
  const joined = new layers.Concatenate().apply([pooled, new layers.Dense({ units: 3 }).apply(b)]);
  const scores = new layers.Dense({ units: 2, activation: 'softmax' }).apply(joined);
  const m = new rc.Model({ inputs: [a, b], outputs: [scores, maps, a] });
  randomizeWeights(m, 8);
  await expectSame('two inputs, three outputs', m, [rand([2, 6, 6, 3], 1), rand([2, 5], 2)]);
});

test('the batch axis is symbolic: one exported file runs batches of 1 and 3', async () => {
  const m = rc.models.lenet5();
  const bytes = rc.encodeOnnx(m);
  for (const n of [1, 3]) {
    const x = rand([n, 28, 28, 1], n);
    const [y] = await runOnnx(bytes, [x]);
    assert.ok(maxAbsDiff(y!, m.predict(x).dataSync()) < 1e-5);
  }
});

test('model.exportOnnx(path) writes the file atomically; bad arguments are clear errors', async () => {
  const m = rc.models.lenet5();
  const path = join(tmp, 'lenet5.onnx');
  await m.exportOnnx(path);
  const bytes = new Uint8Array(readFileSync(path));
  assert.deepEqual(bytes, new Uint8Array(rc.encodeOnnx(m)));
  await assert.rejects(() => m.exportOnnx(''), rc.ArgumentError);
  assert.throws(() => rc.encodeOnnx(m, { batchSize: 0 }), rc.ArgumentError);
  // A fixed batch size is written into the graph.
  const [y] = await runOnnx(rc.encodeOnnx(m, { batchSize: 2 }), [rand([2, 28, 28, 1], 3)]);
  assert.equal(y!.length, 20);
});

test('a layer without an exporter is a clear error naming it; a custom exporter makes it exportable', () => {
  class Doubler extends rc.Layer {
    static override className = 'Doubler';
    call(x: rc.Tensor | rc.Tensor[]): rc.Tensor {
      return rc.mul(x as rc.Tensor, 2);
    }
    computeOutputShape(s: rc.Shape | rc.Shape[]): rc.Shape {
      return s as rc.Shape;
    }
  }
  const m = single(
    [4, 4, 1],
    new layers.Conv2D({ filters: 2, kernelSize: 3 }),
    new Doubler({ name: 'twice' }),
  );
  assert.throws(
    () => rc.encodeOnnx(m),
    (e: Error) =>
      e instanceof rc.OnnxExportError &&
      /Doubler 'twice' has no ONNX exporter/.test(e.message) &&
      /registerOnnxExporter\('Doubler'/.test(e.message),
  );
  rc.registerOnnxExporter<Doubler>('Doubler', (l, [x], ctx) =>
    ctx.withScalar('Mul', x!, 2, l.name),
  );
  assert.ok(rc.encodeOnnx(m).length > 0);
  assert.ok(rc.onnxExportableLayers().includes('Conv2D'));
});

test('an unbuilt model is a clear error', () => {
  const m = new rc.Sequential([new layers.Dense({ units: 2 })]);
  assert.throws(() => rc.encodeOnnx(m), /not built yet/);
});
