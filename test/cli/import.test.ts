/**
 * `receptive import model.onnx --out DIR` and what takes the directory it writes: summary,
 * predict, evaluate, visualize, export, and `train --from DIR` (fine-tuning with a new head
 * and a frozen body). The ONNX file is a PyTorch-written fixture (test/fixtures/onnx); the data
 * a folder of small PNGs the test draws (three classes: red, green, blue).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodePng } from '../../src/data/image_codec.js';
import * as rc from '../../src/index.js';
import { type CliResult, runCli } from '../cli_runner.js';
import { repoRoot, tempDirs } from '../helpers.js';

const ONNX = join(repoRoot, 'test', 'fixtures', 'onnx', 'resnet_tiny_opset13.onnx');
const tempDir = tempDirs('receptive-import-');
const cwd = tempDir();

function receptive(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd, env: { RECEPTIVE_CACHE: tempDir() } });
}

function assertOk(r: CliResult): void {
  assert.equal(r.code, 0, `exit 0; stderr: ${r.stderr}\nstdout: ${r.stdout}`);
}

function assertCleanError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code 1; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace:\n${r.stderr}`);
}

/** A folder dataset of 32×32 RGB images: train/ and test/, one folder per colour. */
function colourFolders(): string {
  const root = join(cwd, 'colours');
  const rng = new rc.Random(3);
  for (const split of ['train', 'test'])
    for (const [k, cls] of ['red', 'green', 'blue'].entries()) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 0; i < (split === 'train' ? 8 : 2); i++) {
        const data = new Uint8Array(32 * 32 * 3);
        for (let p = 0; p < 32 * 32; p++)
          for (let c = 0; c < 3; c++)
            data[p * 3 + c] = Math.floor(rng.uniform(0, 120) + (c === k ? 120 : 0));
        writeFileSync(
          join(root, split, cls, `${i}.png`),
          encodePng({ width: 32, height: 32, channels: 3, data }),
        );
      }
    }
  return root;
}

const same = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('receptive import writes a model directory that summary, predict, evaluate, visualize and export take', async () => {
  const data = colourFolders();
  const imp = await receptive(['import', ONNX, '--out', 'imp']);
  assertOk(imp);
  assert.match(imp.stdout, /input \[batch, 32, 32, 3\], output \[batch, 5\] \(logits\)/);
  assert.ok(existsSync(join(cwd, 'imp', 'model.json')));
  // The directory holds the same model as importOnnx makes.
  const direct = await rc.importOnnx(ONNX);
  const saved = await rc.loadModel(join(cwd, 'imp'));
  const x = rc.randn([2, 32, 32, 3], { seed: 1 });
  assert.ok(
    same(saved.predict(x).dataSync() as Float32Array, direct.predict(x).dataSync() as Float32Array),
  );

  const summary = await receptive(['summary', 'imp']);
  assertOk(summary);
  assert.match(summary.stdout, /fc \(Dense\)/);
  assert.match(
    summary.stdout,
    new RegExp(`Total params: ${direct.countParams().toLocaleString('en-US')}`),
  );

  // predict shows the logits as probabilities: the 5 classes' percentages add up to 100.
  const image = join(data, 'test', 'red', '0.png');
  const predict = await receptive(['predict', 'imp', image]);
  assertOk(predict);
  const pct = [...predict.stdout.matchAll(/([\d.]+)%/g)].map((m) => Number(m[1]));
  assert.equal(pct.length, 5, predict.stdout);
  assert.ok(Math.abs(pct.reduce((a, b) => a + b, 0) - 100) < 0.05, predict.stdout);

  const evaluate = await receptive(['evaluate', 'imp', '--dataset', data]);
  assertOk(evaluate);
  assert.match(evaluate.stdout, /test loss [\d.]+, test accuracy [\d.]+% \(6 images\)/);

  const maps = await receptive(['visualize', 'imp', image, '-o', 'maps.png']);
  assertOk(maps);
  assert.ok(existsSync(join(cwd, 'maps.png')));

  const exported = await receptive(['export', 'imp', '--format', 'torch', '-o', 'imp.safetensors']);
  assertOk(exported);

  // --input-layout nchw keeps the file's layout.
  const nchw = await receptive(['import', ONNX, '--out', 'imp-nchw', '--input-layout', 'nchw']);
  assertOk(nchw);
  assert.match(nchw.stdout, /input \[batch, 3, 32, 32\]/);
});

test('receptive train --from DIR --num-classes 3 --freeze body fine-tunes the imported model: the body stays bit for bit', async () => {
  const data = join(cwd, 'colours');
  if (!existsSync(join(cwd, 'imp', 'model.json')))
    assertOk(await receptive(['import', ONNX, '--out', 'imp']));
  if (!existsSync(data)) colourFolders();
  // Without --num-classes the model's 5 classes do not fit the dataset's 3: said, not trained.
  const no = await receptive([
    'train',
    '--from',
    'imp',
    '--dataset',
    data,
    '--epochs',
    '1',
    '--quiet',
  ]);
  assertCleanError(no, /the model scores 5 classes, the dataset has 3\. Give --num-classes 3/);
  assert.ok(!existsSync(join(cwd, 'runs', 'imp-colours', 'model.json')));

  const r = await receptive([
    'train',
    '--from',
    'imp',
    '--dataset',
    data,
    '--num-classes',
    '3',
    '--freeze',
    'body',
    '--epochs',
    '3',
    '--lr',
    '0.05',
    '--out',
    'tuned',
    '--quiet',
  ]);
  assertOk(r);
  assert.match(r.stdout, /Trainable params: 51 /);
  const history = JSON.parse(readFileSync(join(cwd, 'tuned', 'history.json'), 'utf8')) as {
    epochs: number;
    history: { loss: number[] };
  };
  assert.equal(history.epochs, 3);
  assert.ok(history.history.loss.at(-1)! < history.history.loss[0]!, JSON.stringify(history));
  const before = await rc.loadModel(join(cwd, 'imp'));
  const after = await rc.loadModel(join(cwd, 'tuned'));
  assert.deepEqual(after.outputs[0]!.shape, [null, 3]);
  for (const l of after.layers) {
    if (l.weights.length === 0) continue;
    if (l.name === 'fc') continue;
    const old = before.getLayer(l.name).getWeights();
    for (const [i, w] of l.getWeights().entries()) assert.ok(same(w, old[i]!), `${l.name} changed`);
  }
  // The fine-tuned directory is a model like any other: predict scores its 3 classes.
  const predict = await receptive([
    'predict',
    'tuned',
    join(data, 'test', 'blue', '0.png'),
    '--classes',
    'red,green,blue',
  ]);
  assertOk(predict);
  assert.equal(predict.stdout.trim().split('\n').length, 3);
});

test('import and train --from refuse wrong arguments with a message, before reading any data', async () => {
  if (!existsSync(join(cwd, 'imp', 'model.json')))
    assertOk(await receptive(['import', ONNX, '--out', 'imp']));
  const nodata = join(cwd, 'no-such-dataset');
  const cases: [string[], RegExp][] = [
    [['import', ONNX], /required option '-o, --out <dir>'/],
    [['import', 'missing.onnx', '--out', 'gone'], /cannot read 'missing\.onnx'/],
    [
      ['import', 'imp/model.json', '--out', 'x', '--input-layout', 'nchw'],
      /applies to an \.onnx file/,
    ],
    [['import', ONNX, '--out', 'x', '--input-layout', 'nhcw'], /Allowed choices are nhwc, nchw/],
    [['train', 'lenet5', '--from', 'imp'], /not both/],
    [
      ['train', 'lenet5', '--num-classes', '3'],
      /--num-classes applies to fine-tuning: give --from DIR/,
    ],
    [['train', 'lenet5', '--freeze', 'body'], /--freeze applies to fine-tuning/],
    [['train', '--from', 'imp', '--trainable', 'fc'], /give --freeze body too/],
    [['train', '--from', 'imp', '--freeze', 'all'], /Allowed choices are body, none/],
    [['train', '--from', 'imp', '--num-classes', '0'], /--num-classes must be a positive integer/],
    [['train', '--from', 'nope', '--dataset', nodata], /no model\.json in 'nope'/],
    [
      ['train', '--from', 'imp', '--freeze', 'body', '--trainable', 'nope', '--dataset', nodata],
      /no layer "nope"/,
    ],
    [['summary', 'imp', '--classes', '3'], /imp is a saved model with its own/],
    [['summary', 'no/such/dir'], /no\/such\/dir does not exist/],
  ];
  for (const [args, pattern] of cases) assertCleanError(await receptive(args), pattern);
  assert.ok(!existsSync(join(cwd, 'gone')), 'a failed import leaves no folder behind');
});
