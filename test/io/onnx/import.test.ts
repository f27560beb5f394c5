/**
 * importOnnx: receptive models exported and imported again predict the same; an NCHW graph
 * written by hand (the operators PyTorch and Keras exporters emit, a folded shape chain
 * included) gives ONNX Runtime's outputs on NHWC input; imported models train, save and load;
 * what cannot be imported is an OnnxImportError that says which node and why.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../../src/index.js';
import { attr } from '../../../src/io/onnx/graph.js';
import { onnxType } from '../../../src/io/onnx/schema.js';
import { tempDirs } from '../../helpers.js';
import { type Built, f, maxAbsDiff, modelBytes, randomizeWeights, runOnnx } from './helpers.js';

const tempDir = tempDirs('receptive-onnx-import-');

/** NCHW [n, c, h, w] ↔ NHWC, as plain tensors. */
const toNhwc = (x: rc.Tensor) => rc.transpose(x, [0, 2, 3, 1]);

function layerClasses(m: rc.Model): string[] {
  return m.layers.map((l) => l.className);
}

// --- receptive → ONNX → receptive ------------------------------------------------------------

const roundTrips: [string, number[]][] = [
  ['lenet5', [28, 28, 1]],
  ['lenet5-bn', [28, 28, 1]],
  ['resnet18', [32, 32, 3]],
];
for (const [name, shape] of roundTrips) {
  test(`round trip: ${name} → exportOnnx → importOnnx predicts the same (< 1e-4), no transposes left`, () => {
    const m = rc.models.createModel(name, { inputShape: shape, numClasses: 10 });
    randomizeWeights(m);
    const back = rc.importOnnxBytes(rc.encodeOnnx(m));
    const x = rc.randn([2, ...shape], { seed: 3 });
    const d = maxAbsDiff(back.predict(x).dataSync(), m.predict(x).dataSync());
    assert.ok(d < 1e-4, `${name}: imported model differs by ${d}`);
    // The export's NHWC↔NCHW transposes fold away: the same input shape, no Permute layers.
    assert.deepEqual(back.inputs[0]!.shape, [null, ...shape]);
    assert.ok(!layerClasses(back).includes('Permute'), layerClasses(back).join(', '));
    assert.equal(back.countParams(), m.countParams());
  });
}

// --- a hand-written NCHW graph, checked against ONNX Runtime ----------------------------------

/**
 * Normalization constants, Conv (pads; groups with SAME_LOWER and stride 2; depthwise),
 * BatchNormalization, Relu, Clip (ReLU6), MaxPool ceil_mode, a residual Add, Concat,
 * AveragePool with count_include_pad, a channel shuffle (Shape→Gather→Unsqueeze→Concat→Reshape,
 * Transpose, Reshape), Flatten→Gemm (transB), LeakyRelu, MatMul+Add, Softmax; and a second,
 * 4-D output (GlobalAveragePool).
 */
function handmade(pooledOutput = true): Built {
  const o = (i: number) => `n${i}`;
  return modelBytes({
    inputs: [['x', ['N', 3, 12, 12]]],
    outputs: pooledOutput ? [o(22), o(23)] : [o(22)],
    floats: {
      mean: f([1, 3, 1, 1], 1),
      std: f([1, 3, 1, 1], 2, 0.5, 2),
      w1: f([8, 3, 3, 3], 3),
      b1: f([8], 4),
      bn_s: f([8], 5, 0.5, 1.5),
      bn_b: f([8], 6),
      bn_m: f([8], 7),
      bn_v: f([8], 8, 0.5, 1.5),
      w2: f([8, 2, 3, 3], 9),
      zero: [[], [0]],
      six: [[], [6]],
      w3: f([8, 1, 3, 3], 10),
      w4: f([6, 16, 1, 1], 11),
      b4: f([6], 12),
      w5: f([10, 54], 13),
      b5: f([10], 14),
      w6: f([10, 5], 15),
      b6: f([5], 16),
    },
    ints: {
      idx0: [[], [0]],
      ax0: [[1], [0]],
      rest: [[4], [2, 8, 3, 3]],
      back: [[4], [0, 16, 3, 3]],
    },
    nodes: [
      { op: 'Sub', inputs: ['x', 'mean'], outputs: [o(0)] },
      { op: 'Div', inputs: [o(0), 'std'], outputs: [o(1)] },
      {
        op: 'Conv',
        inputs: [o(1), 'w1', 'b1'],
        outputs: [o(2)],
        attrs: { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) },
      },
      {
        op: 'BatchNormalization',
        inputs: [o(2), 'bn_s', 'bn_b', 'bn_m', 'bn_v'],
        outputs: [o(3)],
        attrs: { epsilon: attr.float(1e-3) },
      },
      { op: 'Relu', inputs: [o(3)], outputs: [o(4)] },
      {
        op: 'Conv',
        inputs: [o(4), 'w2'],
        outputs: [o(5)],
        attrs: { group: attr.int(4), strides: attr.ints([2, 2]), auto_pad: attr.str('SAME_LOWER') },
      },
      { op: 'Clip', inputs: [o(5), 'zero', 'six'], outputs: [o(6)] },
      {
        op: 'MaxPool',
        inputs: [o(6)],
        outputs: [o(7)],
        attrs: {
          kernel_shape: attr.ints([3, 3]),
          strides: attr.ints([2, 2]),
          ceil_mode: attr.int(1),
        },
      },
      {
        op: 'Conv',
        inputs: [o(7), 'w3'],
        outputs: [o(8)],
        attrs: { group: attr.int(8), pads: attr.ints([1, 1, 1, 1]) },
      },
      { op: 'Add', inputs: [o(7), o(8)], outputs: [o(9)] },
      { op: 'Concat', inputs: [o(9), o(7)], outputs: [o(10)], attrs: { axis: attr.int(1) } },
      {
        op: 'AveragePool',
        inputs: [o(10)],
        outputs: [o(11)],
        attrs: {
          kernel_shape: attr.ints([2, 2]),
          strides: attr.ints([1, 1]),
          pads: attr.ints([1, 1, 0, 0]),
          count_include_pad: attr.int(1),
        },
      },
      { op: 'Shape', inputs: [o(11)], outputs: [o(12)] },
      { op: 'Gather', inputs: [o(12), 'idx0'], outputs: [o(13)], attrs: { axis: attr.int(0) } },
      { op: 'Unsqueeze', inputs: [o(13), 'ax0'], outputs: [o(14)] },
      { op: 'Concat', inputs: [o(14), 'rest'], outputs: [o(15)], attrs: { axis: attr.int(0) } },
      { op: 'Reshape', inputs: [o(11), o(15)], outputs: [o(16)] },
      {
        op: 'Transpose',
        inputs: [o(16)],
        outputs: [o(17)],
        attrs: { perm: attr.ints([0, 2, 1, 3, 4]) },
      },
      { op: 'Reshape', inputs: [o(17), 'back'], outputs: [o(18)] },
      { op: 'Conv', inputs: [o(18), 'w4', 'b4'], outputs: [o(19)] },
      { op: 'Flatten', inputs: [o(19)], outputs: [o(20)] },
      {
        op: 'Gemm',
        inputs: [o(20), 'w5', 'b5'],
        outputs: [o(21)],
        attrs: { transB: attr.int(1), alpha: attr.float(0.5) },
      },
      { op: 'LeakyRelu', inputs: [o(21)], outputs: ['lrelu'], attrs: { alpha: attr.float(0.1) } },
      { op: 'MatMul', inputs: ['lrelu', 'w6'], outputs: ['mm'] },
      { op: 'Add', inputs: ['mm', 'b6'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: [o(22)], attrs: { axis: attr.int(-1) } },
      { op: 'GlobalAveragePool', inputs: [o(19)], outputs: [o(23)] },
    ],
  });
}

test('an NCHW graph of the usual CNN operators gives ONNX Runtime outputs on NHWC input (< 1e-5)', async () => {
  const { bytes } = handmade();
  const x = rc.randn([2, 3, 12, 12], { seed: 5 });
  const [probs, pooled] = await runOnnx(bytes, [x]);
  const m = rc.importOnnxBytes(bytes);
  assert.deepEqual(m.inputs[0]!.shape, [null, 12, 12, 3]);
  const [p, g] = m.callAll(toNhwc(x), { training: false });
  assert.deepEqual(p!.shape, [2, 5]);
  assert.deepEqual(g!.shape, [2, 1, 1, 6], 'a 4-D output comes out NHWC');
  const dp = maxAbsDiff(p!.dataSync(), probs!);
  const dg = maxAbsDiff(g!.dataSync(), pooled!);
  assert.ok(dp < 1e-5 && dg < 1e-5, `softmax differs by ${dp}, pooled features by ${dg}`);
  // The convolutions run NHWC with no transposes between them: only the channel shuffle
  // (Reshape to 5-D, Transpose, Reshape) needs Permute layers.
  const permutes = m.layers.filter((l) => l.className === 'Permute').map((l) => l.name);
  assert.equal(permutes.length, 3, permutes.join(', '));
  const classes = new Set(layerClasses(m));
  for (const c of [
    'Conv2D',
    'DepthwiseConv2D',
    'BatchNormalization',
    'ConstantArithmetic',
    'MaxPooling2D',
    'ZeroPadding2D',
    'AveragePooling2D',
    'Concatenate',
    'Dense',
  ])
    assert.ok(classes.has(c), `a ${c} layer: ${[...classes].join(', ')}`);
  // MatMul + Add became one Dense with a bias.
  assert.equal(m.layers.filter((l) => l.className === 'Dense').length, 2);

  const nchw = rc.importOnnxBytes(bytes, { inputLayout: 'nchw' });
  assert.deepEqual(nchw.inputs[0]!.shape, [null, 3, 12, 12]);
  const [p2, g2] = nchw.callAll(x, { training: false });
  assert.deepEqual(
    g2!.shape,
    [2, 6, 1, 1],
    "inputLayout 'nchw' keeps the file's layout at the outputs too",
  );
  assert.ok(maxAbsDiff(p2!.dataSync(), probs!) < 1e-5);
  assert.ok(maxAbsDiff(g2!.dataSync(), pooled!) < 1e-5);
});

test('importOnnx reads a file path, and bytes as an ArrayBuffer', async () => {
  const { bytes } = handmade();
  const path = join(tempDir(), 'handmade.onnx');
  writeFileSync(path, bytes);
  const a = await rc.importOnnx(path);
  const b = await rc.importOnnx(bytes.slice().buffer);
  const x = rc.randn([1, 12, 12, 3], { seed: 2 });
  assert.deepEqual([...a.predict(x).dataSync()], [...b.predict(x).dataSync()]);
  // rc.loadModel takes the file too, reporting progress from 0 to 1.
  const seen: number[] = [];
  const c = await rc.loadModel(path, { onProgress: (f) => seen.push(f) });
  assert.deepEqual([...c.predict(x).dataSync()], [...a.predict(x).dataSync()]);
  assert.deepEqual(seen, [0, 1]);
  await assert.rejects(rc.loadModel(join(tempDir(), 'missing.onnx')), rc.IOError);
});

// --- training, saving ----------------------------------------------------------------------------

test('an imported model trains (the loss falls), and model.save → rc.loadModel predicts the same', async () => {
  const m = rc.importOnnxBytes(handmade(false).bytes);
  const trainable = m.trainableWeights.length;
  assert.ok(trainable >= 12, `trainable weights: ${trainable}`);
  const x = rc.randn([8, 12, 12, 3], { seed: 9 });
  const y = rc.tensor(Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]), [8], 'int32');
  // The graph ends in a softmax: train on its probabilities.
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const first = m.trainOnBatch(x, y).loss!;
  let last = first;
  for (let i = 0; i < 5; i++) last = m.trainOnBatch(x, y).loss!;
  assert.ok(last < first, `loss ${first} → ${last}`);

  const dir = tempDir();
  await m.save(dir);
  const loaded = await rc.loadModel(dir);
  const d = maxAbsDiff(loaded.predict(x).dataSync(), m.predict(x).dataSync());
  assert.ok(d === 0, `loaded model differs by ${d}`);
  assert.deepEqual(layerClasses(loaded), layerClasses(m));
});

// --- sending back: imported models export to ONNX again -----------------------------------------

test('an imported model exports to ONNX again and ONNX Runtime agrees with it (< 1e-5)', async () => {
  const m = rc.importOnnxBytes(handmade().bytes);
  const x = rc.randn([2, 12, 12, 3], { seed: 8 });
  const got = await runOnnx(rc.encodeOnnx(m), [x]);
  const want = m.callAll(x, { training: false });
  for (const [i, w] of want.entries()) {
    const d = maxAbsDiff(got[i]!, w.dataSync());
    assert.ok(d < 1e-5, `output ${i} differs by ${d}`);
  }
});

test('the layers of imported graphs export to ONNX: Permute, Slice, ConstantArithmetic, Subtract, activations', async () => {
  const L = rc.layers;
  const input = rc.Input([6, 5, 4]);
  const set = <T extends rc.Layer>(l: T, t: rc.SymbolicTensor, values: number[][]) => {
    const y = l.apply(t);
    l.setWeights(values.map((v) => Float32Array.from(v)));
    return y;
  };
  let t = new L.Permute({ dims: [3, 1, 2] }).apply(input); // [4, 6, 5]
  t = new L.Slice({ begin: [1, 0, 1], size: [3, -1, 4] }).apply(t); // [3, 6, 4]
  t = set(new L.ConstantArithmetic({ op: 'divide', constantShape: [4], constantFirst: true }), t, [
    [1, 2, 3, 4],
  ]);
  t = new L.Clip({ min: -2, max: 3 }).apply(t);
  t = set(new L.PReLU({ alphaShape: [4] }), t, [[0.1, 0.2, 0.3, 0.4]]);
  const a = new L.HardSwish().apply(new L.ELU({ alpha: 0.5 }).apply(t));
  const b = new L.Softplus().apply(new L.HardSigmoid({ alpha: 0.3, beta: 0.2 }).apply(t));
  t = new L.Subtract().apply([a, b]);
  const p = new L.Softmax({ axis: 1 }).apply(t);
  const q = new L.LogSoftmax({ axis: 2 }).apply(t);
  const m = new rc.Model({ inputs: input, outputs: [p, q] });
  const x = rc.randn([2, 6, 5, 4], { seed: 4 });
  const got = await runOnnx(rc.encodeOnnx(m), [x]);
  const want = m.callAll(x, { training: false });
  for (const [i, w] of want.entries()) {
    const d = maxAbsDiff(got[i]!, w.dataSync());
    assert.ok(d < 1e-5, `output ${i} differs by ${d}`);
  }
});

// --- what cannot be imported ---------------------------------------------------------------------

function oneNode(
  op: string,
  attrs = {},
  opset = 13,
  inputs: [string, (number | string)[]][] = [['x', [1, 3, 4, 4]]],
) {
  return modelBytes(
    {
      inputs,
      outputs: ['y'],
      nodes: [{ op, name: 'the_node', inputs: inputs.map(([n]) => n), outputs: ['y'], attrs }],
    },
    opset,
  ).bytes;
}

test('an unsupported operator is an OnnxImportError naming the operator, the node, the opset and what is supported', () => {
  assert.throws(
    () => rc.importOnnxBytes(oneNode('Hardmax', {}, 11)),
    (e: Error) =>
      e instanceof rc.OnnxImportError &&
      /node 'the_node'/.test(e.message) &&
      /Hardmax/.test(e.message) &&
      /opset 11/.test(e.message) &&
      /Supported: .*Conv.*Gemm/.test(e.message),
  );
  assert.ok(rc.onnxImportableOps().includes('Conv'));
});

test('corrupt or empty bytes, a wrong source and wrong options are clear errors', async () => {
  assert.throws(
    () => rc.importOnnxBytes(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 1, 2])),
    rc.OnnxImportError,
  );
  assert.throws(() => rc.importOnnxBytes(new Uint8Array(0)), /no ONNX graph/);
  const truncated = handmade().bytes.slice(0, 300);
  assert.throws(() => rc.importOnnxBytes(truncated), rc.OnnxImportError);
  await assert.rejects(rc.importOnnx(42 as unknown as string), rc.ArgumentError);
  await assert.rejects(rc.importOnnx(join(tempDir(), 'missing.onnx')), rc.IOError);
  assert.throws(
    () => rc.importOnnxBytes(handmade().bytes, { inputLayout: 'nwhc' as 'nhwc' }),
    /inputLayout/,
  );
});

test('damaged files (bytes flipped at random) import or fail with a ReceptiveError, never anything else', () => {
  const good = handmade().bytes;
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let refused = 0;
  for (let trial = 0; trial < 150; trial++) {
    const bytes = good.slice();
    for (let k = 0; k < 1 + Math.floor(next() * 4); k++)
      bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
    try {
      rc.importOnnxBytes(bytes);
    } catch (e) {
      assert.ok(
        e instanceof rc.ReceptiveError,
        `trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`,
      );
      refused++;
    }
  }
  assert.ok(refused > 0, 'some damaged files are refused');
});

test('weights kept in an external file are an OnnxImportError that says how to save them inside', () => {
  const M = onnxType('ModelProto');
  const bytes = M.encode(
    M.fromObject({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'ext',
        node: [{ op_type: 'Conv', input: ['x', 'w'], output: ['y'] }],
        initializer: [
          {
            name: 'w',
            dims: [1, 1, 1, 1],
            data_type: 1,
            data_location: 1,
            external_data: [{ key: 'location', value: 'w.bin' }],
          },
        ],
        input: [
          {
            name: 'x',
            type: {
              tensor_type: {
                elem_type: 1,
                shape: {
                  dim: [{ dim_value: 1 }, { dim_value: 1 }, { dim_value: 2 }, { dim_value: 2 }],
                },
              },
            },
          },
        ],
        output: [{ name: 'y' }],
      },
    }),
  ).finish();
  assert.throws(
    () => rc.importOnnxBytes(bytes),
    (e: Error) =>
      e instanceof rc.OnnxImportError && /external/.test(e.message) && /'w'/.test(e.message),
  );
});

test('shapes that cannot be fixed at import are OnnxImportErrors: symbolic image sizes, a Reshape that depends on the batch', () => {
  assert.throws(
    () => rc.importOnnxBytes(oneNode('Relu', {}, 13, [['x', ['N', 3, 'H', 'W']]])),
    /only the batch axis may be symbolic/,
  );
  // Reshape to [batch·3, -1]: the target's second axis is fine, its first mixes the batch with channels.
  const bytes = modelBytes({
    inputs: [['x', ['N', 3, 4, 4]]],
    outputs: ['y'],
    ints: { i0: [[1], [0]], three: [[1], [3]], m1: [[1], [-1]] },
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'] },
      { op: 'Mul', inputs: ['n', 'three'], outputs: ['n3'] },
      { op: 'Concat', inputs: ['m1', 'n3'], outputs: ['shape'], attrs: { axis: attr.int(0) } },
      { op: 'Reshape', name: 'mix', inputs: ['x', 'shape'], outputs: ['y'] },
    ],
  }).bytes;
  assert.throws(
    () => rc.importOnnxBytes(bytes),
    (e: Error) =>
      e instanceof rc.OnnxImportError && /node 'mix'/.test(e.message) && /batch/.test(e.message),
  );
});

test('a weight computed at run time (Conv weights from an input) is an OnnxImportError', () => {
  const bytes = modelBytes({
    inputs: [
      ['x', [1, 1, 4, 4]],
      ['w', [1, 1, 3, 3]],
    ],
    outputs: ['y'],
    nodes: [{ op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['y'] }],
  }).bytes;
  assert.throws(() => rc.importOnnxBytes(bytes), /computed at run time/);
});
