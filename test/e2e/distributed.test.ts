/**
 * Training beyond one machine (examples/distributed/): receptive's weights go to PyTorch,
 * train_ddp.py trains them under DistributedDataParallel with two gloo ranks on this machine
 * (torch.multiprocessing.spawn, TCP rendezvous on 127.0.0.1; or env:// as torchrun starts it),
 * and the weights it returns give, in receptive, PyTorch's predictions on the same images (1e-5).
 * Two ranks with batches of 16 must train exactly as one rank with batches of 32 (DDP averages
 * the gradients); each PyTorch twin of a zoo model must compute what receptive's model computes,
 * batch-norm statistics included; a model sent as ONNX trains as its graph and comes back as an
 * ONNX file that receptive imports. Needs Debian's python3-torch (and python3-torchvision for the
 * ResNets); skipped, with the reason, without them.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import * as rc from '../../src/index.js';
import { assertClose, repoRoot, tempDirs } from '../helpers.js';
import { maxAbsDiff, randomizeWeights } from '../io/onnx/helpers.js';

const run = promisify(execFile);
const tempDir = tempDirs('receptive-ddp-');
const script = join(repoRoot, 'examples', 'distributed', 'train_ddp.py');
const python = process.env.RECEPTIVE_PYTHON ?? '/usr/bin/python3';

/** Why PyTorch (and torchvision, for `vision`) cannot run here, or null when it can. */
function missing(modules: string): string | null {
  const r = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' });
  if (r.error) return `${python} not found (set RECEPTIVE_PYTHON to a Python with torch)`;
  if (r.status !== 0)
    return `${python} cannot import ${modules} (apt-get install python3-torch python3-torchvision)`;
  return null;
}
const noTorch = missing('torch');
const noTorchvision = noTorch ?? missing('torch, torchvision');

/** Random NHWC images and class ids as the data file train_ddp.py reads. */
function writeData(dir: string, shape: number[], n: number, classes: number, seed: number) {
  const rng = new rc.Random(seed);
  const x = rc.randn([n, ...shape], { seed });
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  const file = join(dir, 'data.safetensors');
  writeFileSync(
    file,
    rc.encodeSafetensors([
      { name: 'x', shape: x.shape, data: x.dataSync() as Float32Array },
      { name: 'y', shape: [n], data: y },
    ]),
  );
  return { x, file };
}

/** Runs train_ddp.py on the model's weights; returns its report and the trained weights' file. */
async function trainInTorch(
  model: rc.Model,
  arch: string,
  dir: string,
  dataFile: string,
  extra: string[],
) {
  mkdirSync(dir, { recursive: true });
  const init = join(dir, 'init.safetensors');
  writeFileSync(init, rc.exportTorchWeights(model));
  const out = join(dir, 'out');
  const args = [script, '--arch', arch, '--init', init, '--data', dataFile, '--out', out];
  await run(python, [...args, '--cpu', '--seed', '3', ...extra], { timeout: 240_000 });
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    worldSize: number;
    backend: string;
    steps: number;
    losses: number[];
    examplesPerRank: number[];
  };
  const outputs = rc
    .decodeSafetensors(readFileSync(join(out, 'outputs.safetensors')))
    .arrays.find((a) => a.name === 'outputs')!;
  return { report, outputs, trained: join(out, 'trained.safetensors') };
}

const floats = (file: string) =>
  new Map(
    rc
      .decodeSafetensors(readFileSync(file))
      .arrays.filter((a) => a.data instanceof Float32Array)
      .map((a) => [a.name, a.data as Float32Array]),
  );

test('two gloo ranks train LeNet-5 under DDP; receptive with the returned weights predicts what PyTorch predicts', {
  timeout: 600_000,
}, async (t) => {
  if (noTorch) return t.skip(noTorch);
  const dir = tempDir();
  rc.setSeed(11);
  const model = rc.models.lenet5({ numClasses: 10 });
  const before = model.getWeights().map((w) => Float32Array.from(w));
  const { x, file } = writeData(dir, [28, 28, 1], 128, 10, 5);
  const two = await trainInTorch(model, 'lenet5', join(dir, 'two'), file, [
    ...['--nproc', '2', '--steps', '4', '--batch-size', '16', '--lr', '0.1'],
  ]);
  assert.equal(two.report.worldSize, 2);
  assert.equal(two.report.backend, 'gloo');
  assert.equal(two.report.steps, 4);
  assert.deepEqual(two.report.examplesPerRank, [64, 64], 'each rank saw its own 4 batches of 16');
  assert.ok(two.report.losses.every(Number.isFinite));

  const pairs = await rc.loadTorchWeights(model, two.trained);
  assert.equal(pairs.length, model.weights.length, 'every weight came back');
  const moved = Math.max(...model.getWeights().map((w, i) => maxAbsDiff(w, before[i]!)));
  assert.ok(moved > 1e-3, `training changed the weights (largest change ${moved})`);

  assert.deepEqual(two.outputs.shape, [8, 10]);
  const mine = model.predict(rc.slice(x, [0, 0, 0, 0], [8, 28, 28, 1]));
  assertClose(mine.dataSync(), two.outputs.data as Float32Array, {
    atol: 1e-5,
    rtol: 0,
    msg: 'receptive vs PyTorch predictions',
  });

  // DDP averages the gradients of the two ranks' halves: the same as one rank on whole batches.
  model.setWeights(before);
  const one = await trainInTorch(model, 'lenet5', join(dir, 'one'), file, [
    ...['--nproc', '1', '--steps', '4', '--batch-size', '32', '--lr', '0.1'],
  ]);
  assert.deepEqual(one.report.examplesPerRank, [128]);
  const a = floats(two.trained);
  const b = floats(one.trained);
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, v] of a) assertClose(v, b.get(name)!, { atol: 1e-5, rtol: 1e-4, msg: name });
});

/** A TCP port free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

test('the torchrun entry: two processes given the variables torchrun sets meet by env:// and train together', {
  timeout: 600_000,
}, async (t) => {
  if (noTorch) return t.skip(noTorch);
  const dir = tempDir();
  const model = rc.models.lenet5({ numClasses: 10 });
  const { x, file } = writeData(dir, [28, 28, 1], 64, 10, 8);
  const init = join(dir, 'init.safetensors');
  writeFileSync(init, rc.exportTorchWeights(model));
  const out = join(dir, 'out');
  const args = [script, '--arch', 'lenet5', '--init', init, '--data', file, '--out', out];
  const port = String(await freePort());
  await Promise.all(
    [0, 1].map((rank) =>
      run(python, [...args, '--cpu', '--steps', '3', '--batch-size', '8'], {
        timeout: 240_000,
        env: {
          ...process.env,
          ...{ RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2' },
          ...{ LOCAL_WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port },
        },
      }),
    ),
  );
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(report.worldSize, 2);
  assert.deepEqual(report.examplesPerRank, [24, 24]);
  await rc.loadTorchWeights(model, join(out, 'trained.safetensors'));
  const outputs = rc
    .decodeSafetensors(readFileSync(join(out, 'outputs.safetensors')))
    .arrays.find((a) => a.name === 'outputs')!;
  const mine = model.predict(rc.slice(x, [0, 0, 0, 0], [8, 28, 28, 1]));
  assertClose(mine.dataSync(), outputs.data as Float32Array, { atol: 1e-5, rtol: 0 });
});

const twins: [string, () => rc.Model, number[], boolean][] = [
  ['lenet5-bn', () => rc.models.lenet5BN({ numClasses: 5 }), [28, 28, 1], false],
  ['mnist-cnn', () => rc.models.mnistCnn({ numClasses: 5 }), [28, 28, 1], false],
  [
    'resnet18-cifar',
    () => rc.models.resnet18({ numClasses: 5, cifarStem: true, inputShape: [32, 32, 3] }),
    [32, 32, 3],
    true,
  ],
  [
    'resnet50',
    () => rc.models.resnet50({ numClasses: 5, inputShape: [32, 32, 3] }),
    [32, 32, 3],
    true,
  ],
];
for (const [arch, make, shape, vision] of twins) {
  test(`train_ddp.py --arch ${arch}: after two steps, receptive predicts what PyTorch predicts (batch-norm statistics included)`, {
    timeout: 600_000,
  }, async (t) => {
    const why = vision ? noTorchvision : noTorch;
    if (why) return t.skip(why);
    const dir = tempDir();
    const model = make();
    randomizeWeights(model, 2);
    const { x, file } = writeData(dir, shape, 16, 5, 6);
    const r = await trainInTorch(model, arch, dir, file, [
      ...['--nproc', '1', '--steps', '2', '--batch-size', '8', '--lr', '0.01', '--eval-count', '4'],
    ]);
    assert.equal(r.report.steps, 2);
    await rc.loadTorchWeights(model, r.trained);
    const mine = model.predict(rc.slice(x, [0, 0, 0, 0], [4, ...shape]));
    assertClose(mine.dataSync(), r.outputs.data as Float32Array, {
      atol: 1e-5,
      rtol: 0,
      msg: `${arch}: receptive vs PyTorch`,
    });
  });
}

/** A functional model beyond the zoo: 'same' convolutions and pooling, depthwise, a concatenation. */
function branchy(): rc.Model {
  const { layers } = rc;
  const input = rc.Input([12, 12, 3]);
  const a = new layers.Conv2D({
    filters: 6,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
  }).apply(input);
  const b = new layers.DepthwiseConv2D({ kernelSize: 3, strides: 2, padding: 'same' }).apply(input);
  const c = new layers.MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }).apply(a);
  let x = new layers.Concatenate().apply([b, c]);
  x = new layers.BatchNormalization().apply(x);
  x = new layers.AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' }).apply(x);
  x = new layers.Conv2D({ filters: 8, kernelSize: 1, activation: 'tanh' }).apply(x);
  x = new layers.Flatten().apply(x);
  x = new layers.Dropout({ rate: 0.2 }).apply(x);
  return new rc.Model({
    inputs: input,
    outputs: new layers.Dense({ units: 3, activation: 'softmax' }).apply(x),
  });
}

const viaOnnx: [string, () => rc.Model, number[], number][] = [
  ['lenet5-bn', () => rc.models.lenet5BN({ numClasses: 5 }), [28, 28, 1], 5],
  ['a functional model with same padding, depthwise and concatenation', branchy, [12, 12, 3], 3],
];
for (const [what, make, shape, classes] of viaOnnx) {
  test(`train_ddp.py --onnx (${what}): two ranks train the exported graph; receptive imports the trained ONNX and predicts what PyTorch predicts`, {
    timeout: 600_000,
  }, async (t) => {
    if (noTorch) return t.skip(noTorch);
    const dir = tempDir();
    const model = make();
    randomizeWeights(model, 3);
    const { x, file } = writeData(dir, shape, 32, classes, 9);
    const init = join(dir, 'init.onnx');
    writeFileSync(init, rc.encodeOnnx(model));
    const out = join(dir, 'out');
    await run(
      python,
      [script, '--onnx', init, '--data', file, '--out', out, '--cpu', '--nproc', '2'].concat([
        '--steps',
        '3',
        '--batch-size',
        '4',
        '--lr',
        '0.05',
        '--eval-count',
        '6',
      ]),
      { timeout: 240_000 },
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.worldSize, 2);
    assert.deepEqual(report.examplesPerRank, [12, 12]);
    const trained = await rc.loadModel(join(out, 'trained.onnx'));
    const outputs = rc
      .decodeSafetensors(readFileSync(join(out, 'outputs.safetensors')))
      .arrays.find((a) => a.name === 'outputs')!;
    const first = rc.slice(x, [0, 0, 0, 0], [6, ...shape]);
    const mine = trained.predict(first).dataSync();
    assertClose(mine, outputs.data as Float32Array, { atol: 1e-5, rtol: 0, msg: what });
    const moved = maxAbsDiff(mine, model.predict(first).dataSync());
    assert.ok(moved > 1e-4, `training changed the predictions (by ${moved})`);
  });
}

test("onnx_net.py runs PyTorch's own ONNX exports (test/fixtures/onnx, NCHW, opsets 9/13/17) to PyTorch's outputs", async (t) => {
  if (noTorch) return t.skip(noTorch);
  // The fixtures' ResNet and MobileNet blocks (ReLU6 as Clip, HardSwish, HardSigmoid, depthwise
  // convolutions); the mixed one has Shape/Gather chains, which onnx_net.py refuses by name.
  const code = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from onnx_net import OnnxNet, OnnxError
d = sys.argv[2]
io = json.load(open(d + "/io.json"))
for name in ("resnet_tiny", "mobilenet_tiny"):
    for opset in (9, 13, 17):
        net = OnnxNet(open(f"{d}/{name}_opset{opset}.onnx", "rb").read()).eval()
        x = torch.tensor(io[name]["x"]).reshape(io[name]["input"])
        with torch.no_grad():
            y = net(x)
        print(name, opset, float((y - torch.tensor(io[name]["y"]).reshape(io[name]["y_shape"])).abs().max()))
try:
    OnnxNet(open(d + "/mixed_tiny_opset13.onnx", "rb").read(), "mixed_tiny_opset13.onnx")
except OnnxError as e:
    print("refused:", e)
`;
  const { stdout } = await run(python, [
    '-c',
    code,
    join(repoRoot, 'examples', 'distributed'),
    join(repoRoot, 'test', 'fixtures', 'onnx'),
  ]);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 7, stdout);
  for (const line of lines.slice(0, 6)) {
    const diff = Number(line.split(' ')[2]);
    assert.ok(diff <= 1e-5, `${line}: onnx_net.py vs PyTorch's own output`);
  }
  assert.match(
    lines[6]!,
    /refused: mixed_tiny_opset13\.onnx: node '.*' \(Gather\) is not supported here; supported: Add, /,
  );
});

test('train_ddp.py refuses weights of another architecture, naming it, before any rank starts', async (t) => {
  if (noTorch) return t.skip(noTorch);
  const dir = tempDir();
  const { file } = writeData(dir, [28, 28, 1], 8, 10, 1);
  const init = join(dir, 'init.safetensors');
  writeFileSync(init, rc.exportTorchWeights(rc.models.lenet5()));
  const args = [script, '--arch', 'mnist-cnn', '--init', init, '--data', file, '--out', dir];
  const r = spawnSync(python, args, { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /does not fit --arch mnist-cnn on \[28, 28, 1\] images/);
  assert.match(r.stderr, /Missing key\(s\) in state_dict: "features\.6\.weight"/);
  // Data that is not a data file, and a file that is not safetensors.
  const swapped = spawnSync(
    python,
    [script, '--arch', 'lenet5', '--init', init, '--data', init, '--out', dir],
    { encoding: 'utf8' },
  );
  assert.equal(swapped.status, 2);
  assert.match(swapped.stderr, /needs tensors 'x' \[N, H, W, C\] and 'y' \[N\]/);
  writeFileSync(join(dir, 'bad'), 'not safetensors');
  const bad = spawnSync(
    python,
    [script, '--arch', 'lenet5', '--init', join(dir, 'bad'), '--data', file, '--out', dir],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad: the header claims \d+ bytes/);
  const notOnnx = spawnSync(python, [script, '--onnx', init, '--data', file, '--out', dir], {
    encoding: 'utf8',
  });
  assert.equal(notOnnx.status, 2);
  assert.match(notOnnx.stderr, /init\.safetensors: not an ONNX model this reader understands/);
  assert.ok(!existsSync(join(dir, 'trained.safetensors')), 'nothing written');
});

test('examples/distributed/train.mjs: export, two DDP ranks, load back and check, in one command', {
  timeout: 600_000,
}, async (t) => {
  if (noTorch) return t.skip(noTorch);
  const example = join(repoRoot, 'examples', 'distributed', 'train.mjs');
  assert.ok(
    existsSync(join(repoRoot, 'dist', 'index.js')),
    'dist/ is missing: run `npm run build` first (.ci/run does); the example imports it',
  );
  const out = join(tempDir(), 'run');
  const { stdout } = await run(
    process.execPath,
    [example, ...['--examples', '256', '--ranks', '2', '--steps', '3', '--cpu', '--out', out]],
    { timeout: 300_000, env: { ...process.env, NO_COLOR: '1' } },
  );
  assert.match(stdout, /receptive vs PyTorch on 8 images: largest difference/);
  assert.match(stdout, /3 steps on 2 ranks \(gloo\)/);
  // What it saved is the trained model: its predictions are PyTorch's.
  const saved = await rc.loadModel(join(out, 'model'));
  const torchOut = rc
    .decodeSafetensors(readFileSync(join(out, 'outputs.safetensors')))
    .arrays.find((a) => a.name === 'outputs')!;
  const data = rc.decodeSafetensors(readFileSync(join(out, 'data.safetensors'))).arrays;
  const x = data.find((a) => a.name === 'x')!;
  const first = rc.tensor((x.data as Float32Array).slice(0, 8 * 28 * 28), [8, 28, 28, 1]);
  assertClose(saved.predict(first).dataSync(), torchOut.data as Float32Array, {
    atol: 1e-5,
    rtol: 0,
  });
});
