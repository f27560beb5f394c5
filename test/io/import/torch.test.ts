/**
 * PyTorch weights: receptive's zoo maps onto torchvision's state_dict names and shapes; weights
 * written by PyTorch (test/golden/make_torch_weights.py) load and give PyTorch's outputs; the
 * round trip through PyTorch's layout is bit-exact; mismatches are clear errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as rc from '../../../src/index.js';
import { convBN } from '../../../src/models/blocks.js';
import { readJson, repoRoot } from '../../helpers.js';
import { maxAbsDiff, randomizeWeights } from '../onnx/helpers.js';

const { layers } = rc;
const fixtures = join(repoRoot, 'test', 'fixtures', 'torch');
const tmp = mkdtempSync(join(tmpdir(), 'receptive-torch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Io = {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
};
const io = readJson<Record<string, Io>>('test/fixtures/torch/io.json');
const manifests = readJson<Record<string, [string, number[]][]>>(
  'test/fixtures/torch/manifests.json',
);

const key = (name: string, shape: number[]) => `${name} [${shape.join(', ')}]`;

const zoo: [string, () => rc.Model][] = [
  ['resnet18', () => rc.models.resnet18({ numClasses: 10 })],
  ['vgg16', () => rc.models.vgg16({ numClasses: 10 })],
  ['densenet121', () => rc.models.densenet121({ numClasses: 10 })],
  ['googlenet', () => rc.models.googlenet({ numClasses: 10 })],
  ['alexnet', () => rc.models.alexnet({ numClasses: 10 })],
];
for (const [name, make] of zoo) {
  test(`zoo: ${name} maps onto exactly the names and shapes of the PyTorch state_dict`, () => {
    const mine = rc.torchWeightNames(make()).map((t) => key(t.name, t.shape));
    const theirs = manifests[name]!.map(([n, s]) => key(n, s));
    assert.equal(new Set(mine).size, mine.length, 'no name twice');
    assert.deepEqual([...mine].sort(), [...theirs].sort());
  });
}

/** torchvision's ResNet at widths (8, 16), one basic block per stage, with receptive's zoo names. */
function tinyResnet(): rc.Model {
  const input = rc.Input([16, 16, 3], { name: 'input' });
  let x = convBN(input, { filters: 8, kernelSize: 7, strides: 2, padding: 3, name: 'stem' });
  x = new layers.MaxPooling2D({ poolSize: 3, strides: 2, padding: 1, name: 'stem_pool' }).apply(x);
  [8, 16].forEach((planes, s) => {
    const name = `stage${s + 1}_block1`;
    const stride = s === 0 ? 1 : 2;
    let y = convBN(x, {
      filters: planes,
      kernelSize: 3,
      strides: stride,
      padding: 1,
      name: `${name}_1`,
    });
    y = convBN(y, { filters: planes, kernelSize: 3, padding: 1, relu: false, name: `${name}_2` });
    const short =
      stride !== 1 || x.shape[3] !== planes
        ? convBN(x, {
            filters: planes,
            kernelSize: 1,
            strides: stride,
            padding: 0,
            relu: false,
            name: `${name}_down`,
          })
        : x;
    x = new layers.ReLU().apply(new layers.Add().apply([y, short]));
  });
  x = new layers.GlobalAveragePooling2D().apply(x);
  return new rc.Model({
    inputs: input,
    outputs: new layers.Dense({ units: 5, name: 'fc' }).apply(x),
  });
}

test("PyTorch's ResNet weights (downsample, batch-norm statistics) give PyTorch's logits", async () => {
  const m = tinyResnet();
  const pairs = await rc.loadTorchWeights(m, join(fixtures, 'resnet_tiny.safetensors'));
  assert.ok(
    pairs.some(
      ([t, r]) => t === 'layer2.0.downsample.0.weight' && r === 'stage2_block1_down_conv/kernel',
    ),
  );
  const { input, output } = io.resnet_tiny!;
  const y = m.predict(rc.tensor(input.data, input.shape));
  assert.deepEqual(y.shape, output.shape);
  const d = maxAbsDiff(y.dataSync(), output.data);
  console.log(`resnet_tiny: max |receptive − torch| = ${d.toExponential(2)}`);
  assert.ok(d < 1e-4, `logits differ by ${d}`);
});

test("PyTorch's LeNet-5 (features / classifier, a linear layer after a flatten of NCHW maps) gives PyTorch's probabilities", async () => {
  const m = rc.models.lenet5();
  await rc.loadTorchWeights(m, new Uint8Array(readFileSync(join(fixtures, 'lenet5.safetensors'))));
  const { input, output } = io.lenet5!;
  const d = maxAbsDiff(m.predict(rc.tensor(input.data, input.shape)).dataSync(), output.data);
  console.log(`lenet5: max |receptive − torch| = ${d.toExponential(2)}`);
  assert.ok(d < 1e-5, `probabilities differ by ${d}`);
});

const sameBits = (a: rc.Model, b: rc.Model) => {
  const wa = a.getWeights();
  const wb = b.getWeights();
  assert.equal(wa.length, wb.length);
  // Byte for byte (a fast comparison: assert.deepEqual is slow on millions of elements).
  for (const [i, w] of wa.entries())
    assert.ok(Buffer.from(w.buffer).equals(Buffer.from(wb[i]!.buffer)), `weight ${i} differs`);
};

/** A model with every kind of weight-holding layer receptive maps to PyTorch. */
function everyLayer(): rc.Model {
  const input = rc.Input([8, 8, 4]);
  let x = new layers.Conv2D({ filters: 6, kernelSize: 3, groups: 2, padding: 'same' }).apply(input);
  x = new layers.BatchNormalization().apply(x);
  x = new layers.BatchNormalization({ center: false, scale: false }).apply(x);
  x = new layers.DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }).apply(x);
  x = new layers.SeparableConv2D({ filters: 5, kernelSize: 3, padding: 'same' }).apply(x);
  x = new layers.SpatialSeparableConv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x);
  x = new layers.Conv2DTranspose({ filters: 4, kernelSize: 2, strides: 2 }).apply(x);
  x = new layers.SqueezeExcite({ ratio: 2 }).apply(x);
  x = new layers.CBAM({ ratio: 2, useBias: true }).apply(x);
  x = new layers.InceptionModule({
    filters1x1: 2,
    filters3x3Reduce: 2,
    filters3x3: 2,
    filters5x5Reduce: 2,
    filters5x5: 2,
    poolProjection: 2,
    batchNorm: true,
  }).apply(x);
  const [h, l] = layers.OctaveConv2D.pair({ filters: 8, kernelSize: 3, alphaIn: 0 });
  const y = new layers.OctaveConv2D({ filters: 4, kernelSize: 3, alphaOut: 0 }).apply([
    h.apply(x),
    l.apply(x),
  ]);
  const flat = new layers.Flatten().apply(new layers.MaxPooling2D({ poolSize: 4 }).apply(y));
  const out = new layers.Dense({ units: 3 }).apply(
    new layers.Dense({ units: 7, activation: 'relu' }).apply(flat),
  );
  return new rc.Model({ inputs: input, outputs: out });
}

const roundTrips: [string, () => rc.Model, number[]][] = [
  ['resnet18', () => rc.models.resnet18({ numClasses: 10, inputShape: [32, 32, 3] }), [32, 32, 3]],
  [
    'densenet121',
    () => rc.models.densenet121({ numClasses: 10, inputShape: [32, 32, 3] }),
    [32, 32, 3],
  ],
  [
    'googlenet',
    () => rc.models.googlenet({ numClasses: 10, inputShape: [64, 64, 3] }),
    [64, 64, 3],
  ],
  ['vgg13-cifar-bn', () => rc.models.vgg13Cifar({ batchNorm: true }), [32, 32, 3]],
  [
    'every layer kind',
    () => {
      rc.clearSession(); // the same automatic layer names (conv2d, conv2d_1, ...) for both copies
      return everyLayer();
    },
    [8, 8, 4],
  ],
];
for (const [name, make, shape] of roundTrips) {
  test(`round trip through PyTorch's layout is bit-exact: ${name}`, async () => {
    const a = make();
    randomizeWeights(a, 5);
    const bytes = rc.exportTorchWeights(a);
    const b = make();
    await rc.loadTorchWeights(b, bytes);
    sameBits(a, b);
    const x = rc.randn([1, ...shape], { seed: 2 });
    assert.ok(
      Buffer.from(b.predict(x).dataSync().buffer).equals(
        Buffer.from(a.predict(x).dataSync().buffer),
      ),
    );
    const { metadata, arrays } = rc.decodeSafetensors(bytes, 'export', { convert: true });
    assert.equal(metadata.format, 'pt');
    assert.deepEqual(
      arrays.map((t) => key(t.name, t.shape)).sort(),
      rc
        .torchWeightNames(a)
        .map((t) => key(t.name, t.shape))
        .sort(),
    );
  });
}

test('a file from another architecture: the first missing name or wrong shape is named, with both shapes', async () => {
  const lenetFile = join(fixtures, 'lenet5.safetensors');
  await assert.rejects(
    () => rc.loadTorchWeights(rc.models.lenet5({ numClasses: 5 }), lenetFile),
    (e: Error) =>
      e instanceof rc.WeightsMismatchError &&
      e.message.includes("'classifier.4.weight'") &&
      e.message.includes('[10, 84]') &&
      e.message.includes('[5, 84]'),
  );
  await assert.rejects(
    () => rc.loadTorchWeights(tinyResnet(), lenetFile),
    (e: Error) =>
      e instanceof rc.WeightsMismatchError &&
      /has no tensor 'conv1\.weight' for Conv2D 'stem_conv'/.test(e.message),
  );
  // Extra tensors: an error unless strict is false.
  const m = rc.models.lenet5();
  const extra = rc.encodeSafetensors([
    ...rc.decodeSafetensors(readFileSync(lenetFile), 'lenet5').arrays,
    { name: 'head.weight', shape: [2], data: new Float32Array(2) },
  ]);
  await assert.rejects(() => rc.loadTorchWeights(m, extra), /does not use: 'head\.weight' \[2\]/);
  await rc.loadTorchWeights(m, extra, { strict: false });
  await assert.rejects(() => rc.loadTorchWeights(m, new Uint8Array([1, 2, 3])), rc.FormatError);
  assert.throws(
    () => rc.exportTorchWeights(new rc.Sequential([new layers.Dense({ units: 2 })])),
    /no weights yet/,
  );
});

test('nameMap renames modules both ways; float64, float16 and bfloat16 files are read as float32', async () => {
  const make = () =>
    new rc.Sequential([
      new layers.Dense({ units: 3, inputShape: [2], name: 'head' }),
      new layers.Dense({ units: 2, name: 'out' }),
    ]);
  const a = make();
  randomizeWeights(a, 2);
  const nameMap = { head: 'encoder.proj', out: 'decoder.proj' };
  const bytes = rc.exportTorchWeights(a, { nameMap });
  assert.deepEqual(
    rc.decodeSafetensors(bytes).arrays.map((t) => t.name),
    ['encoder.proj.weight', 'encoder.proj.bias', 'decoder.proj.weight', 'decoder.proj.bias'],
  );
  const b = make();
  await rc.loadTorchWeights(b, bytes, {
    nameMap: (name, path) =>
      name === 'head' ? 'encoder.proj' : name === 'out' ? 'decoder.proj' : path,
  });
  sameBits(a, b);
  // Hand-written safetensors with other dtypes: weight [3, 2] as F64, bias as F16, the rest BF16.
  const w = [0.5, -1.25, 2, 0.125, -3, 1];
  const header = {
    '0.weight': { dtype: 'F64', shape: [3, 2], data_offsets: [0, 48] },
    '0.bias': { dtype: 'F16', shape: [3], data_offsets: [48, 54] },
    '1.weight': { dtype: 'BF16', shape: [2, 3], data_offsets: [54, 66] },
    '1.bias': { dtype: 'BF16', shape: [2], data_offsets: [66, 70] },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const file = new Uint8Array(8 + json.length + 70);
  const view = new DataView(file.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  const d = 8 + json.length;
  for (const [i, v] of w.entries()) view.setFloat64(d + i * 8, v, true);
  for (const [i, h] of [0x3c00, 0xc000, 0x3800].entries()) view.setUint16(d + 48 + i * 2, h, true); // 1, -2, 0.5
  const bf16 = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16;
  for (const [i, v] of [1, 2, 3, 4, 5, 6, -1, 0.5].entries())
    view.setUint16(d + 54 + i * 2, bf16(v), true);
  const c = new rc.Sequential([
    new layers.Dense({ units: 3, inputShape: [2] }),
    new layers.Dense({ units: 2 }),
  ]);
  const path = join(tmp, 'mixed.safetensors');
  writeFileSync(path, file);
  await rc.loadTorchWeights(c, path);
  const [k0, b0, k1, b1] = c.getWeights();
  assert.deepEqual([...k0!], [0.5, 2, -3, -1.25, 0.125, 1]); // [out, in] → [in, out]
  assert.deepEqual([...b0!], [1, -2, 0.5]);
  assert.deepEqual([...k1!], [1, 4, 2, 5, 3, 6]);
  assert.deepEqual([...b1!], [-1, 0.5]);
});
