// Trains a receptive model under PyTorch DistributedDataParallel and brings it home, in one command:
//
//   npm run build && node examples/distributed/train.mjs --model lenet5 --ranks 2 --steps 100
//
// It exports the model's weights with PyTorch's names and layouts (rc.exportTorchWeights), writes
// the training images for PyTorch (NHWC float32 `x`, int32 `y`, safetensors), runs train_ddp.py
// next to this file (ranks started by torch.multiprocessing.spawn with a TCP rendezvous on
// 127.0.0.1: gloo on the CPU, NCCL on GPUs), loads the trained weights back
// (rc.loadTorchWeights), checks that receptive's predictions equal PyTorch's on the same images,
// and saves the receptive model to OUT/model. For a cluster, run the same train_ddp.py under
// torchrun on every machine with the files this writes (see the README).
//
// Options:
//   --model NAME     a zoo name (default lenet5); with --via torch one that train_ddp.py knows:
//                    lenet5, lenet5-bn, mnist-cnn, resnet18, resnet18-cifar, resnet34, resnet50, ...
//   --from DIR       a saved receptive model instead of fresh weights (--via torch: of --model's
//                    architecture)
//   --via torch|onnx how the model travels: PyTorch weights of a zoo network (default), or the
//                    whole model as ONNX, which train_ddp.py runs as a PyTorch module and returns
//                    as ONNX (rc.loadModel imports it)
//   --data synthetic|mnist|cifar10, --data-dir DIR (the dataset's files; else receptive's cache,
//                    downloading them), --examples N (default 2048)
//   --ranks N, --steps N, --epochs N, --batch-size N (per rank), --lr X, --optimizer sgd|adam,
//   --out DIR (default runs/ddp), --python PATH, --cpu (gloo even where CUDA is available)
//   --prepare        only write OUT/init.* and OUT/data.safetensors and print the torchrun command
// Exits non-zero when anything fails or the predictions differ by more than 1e-5.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as rc from '../../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`train.mjs: ${message}`);
  process.exit(1);
}

// A bad option, model name or file is one line on stderr and exit status 1.
main().catch((e) => fail(e instanceof Error ? e.message : String(e)));

async function main() {
  const { values: opt } = parseArgs({
    options: {
      model: { type: 'string', default: 'lenet5' },
      from: { type: 'string' },
      data: { type: 'string', default: 'synthetic' },
      'data-dir': { type: 'string' },
      examples: { type: 'string', default: '2048' },
      ranks: { type: 'string', default: '2' },
      steps: { type: 'string' },
      epochs: { type: 'string', default: '1' },
      'batch-size': { type: 'string', default: '32' },
      lr: { type: 'string', default: '0.05' },
      optimizer: { type: 'string', default: 'sgd' },
      out: { type: 'string', default: 'runs/ddp' },
      python: { type: 'string' },
      cpu: { type: 'boolean', default: false },
      prepare: { type: 'boolean', default: false },
      via: { type: 'string', default: 'torch' },
    },
  });

  const out = resolve(opt.out);
  const count = Number(opt.examples);
  if (!Number.isInteger(count) || count < 1)
    fail(`--examples must be a positive integer, got ${opt.examples}`);

  // ---- the data: MNIST, CIFAR-10, or synthetic images with a learnable rule (the bright quadrant) ----
  async function loadData(shape) {
    const where = opt['data-dir'] ? { dataDir: opt['data-dir'] } : {};
    if (opt.data === 'mnist' || opt.data === 'cifar10') {
      const set = await (opt.data === 'mnist'
        ? rc.data.loadMnist(where)
        : rc.data.loadCifar10(where));
      return rc.data.toTensors(rc.data.subset(set.train, 0, count));
    }
    if (opt.data !== 'synthetic')
      fail(`--data must be synthetic, mnist or cifar10, got ${opt.data}`);
    const [h, w, c] = shape;
    const rng = new rc.Random(7);
    const x = new Float32Array(count * h * w * c);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const q = rng.int(4);
      y[i] = q;
      for (let r = 0; r < h; r++)
        for (let s = 0; s < w; s++)
          for (let k = 0; k < c; k++) {
            const inQ = (r < h / 2 ? 0 : 2) + (s < w / 2 ? 0 : 1) === q;
            x[((i * h + r) * w + s) * c + k] = (inQ ? 0.5 : 0) + 0.3 * rng.normal();
          }
    }
    return { x: rc.tensor(x, [count, h, w, c]), y: rc.tensor(y, [count], 'int32') };
  }

  // ---- the model, its weights for PyTorch, the data for PyTorch ----
  const imageShape = { mnist: [28, 28, 1], cifar10: [32, 32, 3] }[opt.data];
  const model = opt.from
    ? await rc.loadModel(opt.from)
    : rc.models.createModel(opt.model, {
        numClasses: imageShape ? 10 : 4,
        ...(imageShape ? { inputShape: imageShape } : {}),
      });
  const inputShape = model.inputs[0].shape.slice(1);
  const { x, y } = await loadData(inputShape);
  await mkdir(out, { recursive: true });
  // The model goes as PyTorch weights of a zoo network (train_ddp.py builds its twin) or as ONNX (any model).
  if (opt.via !== 'torch' && opt.via !== 'onnx')
    fail(`--via must be torch or onnx, got ${opt.via}`);
  const init = join(out, opt.via === 'onnx' ? 'init.onnx' : 'init.safetensors');
  await rc.writeFileAtomic(
    init,
    opt.via === 'onnx' ? rc.encodeOnnx(model) : rc.exportTorchWeights(model),
  );
  const yData = y.dataSync();
  await rc.writeFileAtomic(
    join(out, 'data.safetensors'),
    rc.encodeSafetensors([
      { name: 'x', shape: x.shape, data: x.dataSync() },
      {
        name: 'y',
        shape: y.shape,
        data: yData instanceof Int32Array ? yData : Int32Array.from(yData),
      },
    ]),
  );

  // ---- PyTorch: DDP over --ranks processes ----
  const python = opt.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const args = [
    join(here, 'train_ddp.py'),
    ...(opt.via === 'onnx' ? ['--onnx', init] : ['--arch', opt.model, '--init', init]),
    ...['--data', join(out, 'data.safetensors'), '--out', out, '--nproc', opt.ranks],
    ...['--epochs', opt.epochs, '--batch-size', opt['batch-size'], '--lr', opt.lr],
    ...['--optimizer', opt.optimizer],
    ...(opt.steps ? ['--steps', opt.steps] : []),
    ...(opt.cpu ? ['--cpu'] : []),
  ];
  if (opt.prepare) {
    console.log(`wrote ${init} and ${join(out, 'data.safetensors')}; on each machine run:`);
    console.log(
      `torchrun --nnodes N --nproc_per_node G --rdzv_id ID --rdzv_backend c10d --rdzv_endpoint HOST:PORT ${args.filter((a, i) => a !== '--nproc' && args[i - 1] !== '--nproc').join(' ')}`,
    );
    process.exit(0);
  }
  console.log(`${python} ${args.join(' ')}`);
  const run = spawnSync(python, args, { stdio: 'inherit' });
  if (run.error) fail(`could not start ${python}: ${run.error.message} (give --python PATH)`);
  if (run.status !== 0)
    fail(
      `train_ddp.py exited with status ${run.status}` +
        (opt.via === 'torch'
          ? ' (--via torch knows the zoo networks train_ddp.py --help lists; --via onnx takes any model)'
          : ''),
    );

  // ---- home again: the trained weights in receptive, checked against PyTorch's predictions ----
  // --via torch: the weights into the same receptive model; --via onnx: the trained ONNX file, imported.
  const trained = opt.via === 'onnx' ? await rc.loadModel(join(out, 'trained.onnx')) : model;
  if (opt.via === 'torch') await rc.loadTorchWeights(model, join(out, 'trained.safetensors'));
  const { arrays } = rc.decodeSafetensors(readFileSync(join(out, 'outputs.safetensors')));
  const torchOut = arrays.find((a) => a.name === 'outputs');
  const n = torchOut.shape[0];
  const mine = trained.predict(rc.slice(x, [0, 0, 0, 0], [n, ...inputShape])).dataSync();
  let worst = 0;
  for (let i = 0; i < mine.length; i++)
    worst = Math.max(worst, Math.abs(mine[i] - torchOut.data[i]));
  console.log(`receptive vs PyTorch on ${n} images: largest difference ${worst.toExponential(2)}`);
  if (!(worst <= 1e-5)) fail('the predictions differ by more than 1e-5');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  console.log(
    `${report.steps} steps on ${report.worldSize} ranks (${report.backend}): loss ${report.losses[0]?.toFixed(4)} → ${report.losses.at(-1)?.toFixed(4)}`,
  );
  await trained.save(join(out, 'model'));
  console.log(`saved ${join(out, 'model')} (receptive predict/evaluate/train --from take it)`);
}
