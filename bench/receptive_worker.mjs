// One bench measurement on receptive: node bench/receptive_worker.mjs <backend> <workload> [threads]
// Prints one JSON line. Runs in its own process so peak memory is the workload's own.
import * as rc from '../dist/index.js';
import { filled, peakRssMB, SHAPES, timeIt, W4_GFLOP, W5_GFLOP } from './common.mjs';

const [backend, workload, threads] = process.argv.slice(2);
rc.setBackend(backend);
if (rc.getBackend() !== backend) {
  // 'native' without its addon runs on wasm: say so instead of measuring the wrong thing.
  console.log(
    JSON.stringify({
      engine: `receptive-${backend}`,
      workload,
      error: `${backend} is unavailable`,
    }),
  );
  process.exit(0);
}
if (threads && rc.setThreads) rc.setThreads(Number(threads));
rc.setSeed(1);

async function trainSpeed(model, shape, budget, optimizer = 'adam') {
  const x = rc.tensor(filled(shape.batch * shape.input.reduce((a, b) => a * b, 1)), [
    shape.batch,
    ...shape.input,
  ]);
  const y = rc.tensor(
    Int32Array.from({ length: shape.batch }, (_, i) => i % shape.classes),
    [shape.batch],
    'int32',
  );
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  const r = await timeIt(() => model.trainOnBatch(x, y), {
    minSeconds: 5,
    minIters: 3,
    budgetSeconds: budget,
  });
  return { imagesPerSecond: shape.batch / r.seconds, secondsPerStep: r.seconds, iters: r.iters };
}

const out = { engine: `receptive-${backend}${threads ? `-${threads}t` : ''}`, workload };
if (workload === 'W1') {
  Object.assign(out, await trainSpeed(rc.models.lenet5(), SHAPES.W1, 60));
} else if (workload === 'W2') {
  Object.assign(out, await trainSpeed(rc.models.vgg13Cifar(), SHAPES.W2, 120));
} else if (workload === 'W6') {
  // ResNet-18 with the CIFAR stem (3×3/1 convolution, no max pool), BN in training mode:
  // forward, loss, backward and SGD's momentum update, as torch_worker.py's twin.
  const s = SHAPES.W6;
  const model = rc.models.resnet18({ cifarStem: true, numClasses: s.classes });
  out.params = model.countParams();
  out.trainableParams = model.trainableWeights.reduce((n, w) => n + w.size, 0);
  const sgd = new rc.SGD({ learningRate: 0.01, momentum: 0.9 });
  Object.assign(out, await trainSpeed(model, s, 180, sgd));
} else if (workload === 'W3') {
  const model = rc.models.resnet18();
  for (const b of SHAPES.W3.batches) {
    const x = rc.tensor(filled(b * 224 * 224 * 3), [b, 224, 224, 3]);
    const r = await timeIt(() => model.predict(x, { batchSize: b }).dataSync(), {
      minSeconds: 5,
      budgetSeconds: 120,
    });
    out[`batch${b}`] = { ms: r.seconds * 1000, imagesPerSecond: b / r.seconds, iters: r.iters };
  }
} else if (workload === 'W4') {
  const s = SHAPES.W4;
  const x = rc.tensor(filled(s.batch * s.size * s.size * s.channels), [
    s.batch,
    s.size,
    s.size,
    s.channels,
  ]);
  const w = rc.tensor(filled(9 * s.channels * s.channels, 2), [3, 3, s.channels, s.channels]);
  const dy = rc.tensor(filled(s.batch * s.size * s.size * s.channels, 3), [
    s.batch,
    s.size,
    s.size,
    s.channels,
  ]);
  const opts = { padding: 'same' };
  const fwd = await timeIt(() => rc.conv2d(x, w, opts).dataSync());
  // The two gradients through autograd, one at a time: the op's backward calls exactly one kernel each.
  const bwd = async (which) => {
    const xi = rc.tensor(x.dataSync(), x.shape);
    const wi = rc.tensor(w.dataSync(), w.shape);
    (which === 'input' ? xi : wi).requiresGrad = true;
    return timeIt(() => {
      (which === 'input' ? xi : wi).grad = null;
      rc.conv2d(xi, wi, opts).backward(dy);
      (which === 'input' ? xi : wi).grad.dataSync();
    });
  };
  const bi = await bwd('input');
  const bf = await bwd('filter');
  // backward() also runs the forward pass once per call: subtract it.
  out.forwardGflops = W4_GFLOP / fwd.seconds;
  out.backwardInputGflops = W4_GFLOP / Math.max(1e-9, bi.seconds - fwd.seconds);
  out.backwardFilterGflops = W4_GFLOP / Math.max(1e-9, bf.seconds - fwd.seconds);
} else if (workload === 'W5') {
  const a = rc.tensor(filled(1024 * 1024), [1024, 1024]);
  const b = rc.tensor(filled(1024 * 1024, 2), [1024, 1024]);
  const r = await timeIt(() => rc.matmul(a, b).dataSync(), { minSeconds: 3, budgetSeconds: 120 });
  out.gflops = W5_GFLOP / r.seconds;
}
out.peakMB = peakRssMB();
console.log(JSON.stringify(out));
