// One bench measurement on TensorFlow.js 4.22: node bench/tfjs_worker.mjs <cpu|wasm> <workload>
// Measured the way its users would at best: y = op(); y.dataSync(); y.dispose() (no tf.tidy around reads).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { filled, peakRssMB, SHAPES, timeIt, W4_GFLOP, W5_GFLOP } from './common.mjs';
import { tfjsModels } from './tfjs_models.mjs';

const [backend, workload] = process.argv.slice(2);
if (backend === 'wasm') {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(
    `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`,
  );
}
await tf.setBackend(backend);
await tf.ready();
const out = { engine: `tfjs-${backend}`, workload };
const { lenet, vgg13Cifar, resnet18 } = tfjsModels(tf);

async function trainSpeed(model, shape) {
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  // A step can take minutes on the cpu backend (VGG13): time one at batch 1 first and, when a full
  // batch would exceed the budget, report the batch-1 rate (marked).
  const make = (b) => [
    tf.tensor(filled(b * shape.input.reduce((a, c) => a * c, 1)), [b, ...shape.input]),
    tf.tensor(
      Float32Array.from({ length: b }, (_, i) => i % shape.classes),
      [b, 1],
    ),
  ];
  const [x1, y1] = make(1);
  await model.trainOnBatch(x1, y1);
  const t = performance.now();
  await model.trainOnBatch(x1, y1);
  const one = (performance.now() - t) / 1000;
  if (one * shape.batch > 90)
    return {
      imagesPerSecond: 1 / one,
      secondsPerStep: one,
      batch: 1,
      note: 'batch 1 (a full batch would take minutes)',
    };
  const [x, y] = make(shape.batch);
  const r = await timeIt(() => model.trainOnBatch(x, y), {
    minSeconds: 5,
    minIters: 2,
    budgetSeconds: 120,
  });
  return { imagesPerSecond: shape.batch / r.seconds, secondsPerStep: r.seconds, iters: r.iters };
}

async function run() {
  if (workload === 'W1' || workload === 'W2') {
    try {
      Object.assign(
        out,
        await trainSpeed(workload === 'W1' ? lenet() : vgg13Cifar(), SHAPES[workload]),
      );
    } catch (e) {
      out.error = `cannot train: ${String(e.message ?? e).slice(0, 120)}`;
    }
  } else if (workload === 'W3') {
    const model = resnet18();
    for (const b of SHAPES.W3.batches) {
      const x = tf.tensor(filled(b * 224 * 224 * 3), [b, 224, 224, 3]);
      const r = await timeIt(
        () => {
          const y = model.predict(x);
          y.dataSync();
          y.dispose();
        },
        { minSeconds: 5, minIters: 2, budgetSeconds: 120 },
      );
      out[`batch${b}`] = { ms: r.seconds * 1000, imagesPerSecond: b / r.seconds, iters: r.iters };
    }
  } else if (workload === 'W4') {
    const s = SHAPES.W4;
    const x = tf.tensor(filled(s.batch * s.size * s.size * s.channels), [
      s.batch,
      s.size,
      s.size,
      s.channels,
    ]);
    const w = tf.tensor(filled(9 * s.channels * s.channels, 2), [3, 3, s.channels, s.channels]);
    const dy = tf.tensor(filled(s.batch * s.size * s.size * s.channels, 3), [
      s.batch,
      s.size,
      s.size,
      s.channels,
    ]);
    const fwd = await timeIt(
      () => {
        const y = tf.conv2d(x, w, 1, 'same');
        y.dataSync();
        y.dispose();
      },
      { budgetSeconds: 120 },
    );
    out.forwardGflops = W4_GFLOP / fwd.seconds;
    try {
      const bi = await timeIt(
        () => {
          const g = tf.grad((xx) => tf.conv2d(xx, w, 1, 'same'))(x, dy);
          g.dataSync();
          g.dispose();
        },
        { budgetSeconds: 120 },
      );
      const bf = await timeIt(
        () => {
          const g = tf.grad((ww) => tf.conv2d(x, ww, 1, 'same'))(w, dy);
          g.dataSync();
          g.dispose();
        },
        { budgetSeconds: 120 },
      );
      out.backwardInputGflops = W4_GFLOP / Math.max(1e-9, bi.seconds - fwd.seconds);
      out.backwardFilterGflops = W4_GFLOP / Math.max(1e-9, bf.seconds - fwd.seconds);
    } catch (e) {
      out.backwardError = String(e.message ?? e).slice(0, 120);
    }
  } else if (workload === 'W5') {
    const a = tf.tensor(filled(1024 * 1024), [1024, 1024]);
    const b = tf.tensor(filled(1024 * 1024, 2), [1024, 1024]);
    const r = await timeIt(
      () => {
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
      },
      { budgetSeconds: 120 },
    );
    out.gflops = W5_GFLOP / r.seconds;
  }
}
await run();
out.peakMB = peakRssMB();
console.log(JSON.stringify(out));
