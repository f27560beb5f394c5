// The in-browser WebGPU benchmark's page (bundled and driven by bench/webgpu.mjs): receptive's
// webgpu backend, TensorFlow.js's webgpu and its webgl backend, on the same adapter, the same
// workloads (bench/common.mjs's shapes), one engine after another. Every timed call ends in an
// awaited read of its result, the one synchronization point each engine offers.
// @ts-nocheck: TensorFlow.js's backends are bundled from their package as they are.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as rc from '../src/browser.js';
import { filled, SHAPES, timeIt, W4_GFLOP } from './common.mjs';
import { tfjsModels } from './tfjs_models.mjs';

const params = new URLSearchParams(location.search);
const only = (params.get('only') ?? 'W1,W3,W4').split(',');
const engines = (params.get('engines') ?? 'receptive-webgpu,tfjs-webgpu,tfjs-webgl').split(',');
const quick = params.has('quick');
const budget = quick
  ? { minSeconds: 0.5, minIters: 2, warmup: 1, warmupSeconds: 0, budgetSeconds: 30 }
  : { minSeconds: 3, minIters: 3, budgetSeconds: 90 };
/** LeNet-5 training: batches a measured fit runs. */
const LENET_STEPS = quick ? 2 : 8;

const log = (s: string) => console.log(s);

async function receptive(workload: string) {
  const name = await rc.setBackend('webgpu');
  if (name !== 'webgpu') return { error: 'no WebGPU adapter' };
  rc.setSeed(1);
  const out: Record<string, unknown> = {};
  if (workload === 'W1') {
    const s = SHAPES.W1;
    const n = s.batch * LENET_STEPS;
    const x = rc.tensor(filled(n * 28 * 28), [n, 28, 28, 1]);
    const y = rc.tensor(
      Int32Array.from({ length: n }, (_, i) => i % 10),
      [n],
      'int32',
    );
    const model = rc.models.lenet5();
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const r = await timeIt(
      () => model.fit(x, y, { batchSize: s.batch, epochs: 1, verbose: 0, shuffle: false }),
      budget,
    );
    out.imagesPerSecond = n / r.seconds;
    out.secondsPerStep = r.seconds / LENET_STEPS;
  } else if (workload === 'W3') {
    const model = rc.models.resnet18();
    for (const b of SHAPES.W3.batches) {
      const x = rc.tensor(filled(b * 224 * 224 * 3), [b, 224, 224, 3]);
      const r = await timeIt(() => model.predict(x, { batchSize: b }).data(), budget);
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
    const r = await timeIt(() => rc.conv2d(x, w, { padding: 'same' }).data(), budget);
    out.forwardGflops = W4_GFLOP / r.seconds;
    out.ms = r.seconds * 1000;
  }
  return out;
}

async function tfjs(backend: string, workload: string) {
  if (!(await tf.setBackend(backend))) return { error: `tfjs ${backend} did not start` };
  await tf.ready();
  const { lenet, resnet18 } = tfjsModels(tf);
  const out: Record<string, unknown> = {};
  if (workload === 'W1') {
    const s = SHAPES.W1;
    const n = s.batch * LENET_STEPS;
    const x = tf.tensor(filled(n * 28 * 28), [n, 28, 28, 1]);
    const y = tf.tensor(
      Float32Array.from({ length: n }, (_, i) => i % 10),
      [n, 1],
    );
    const model = lenet();
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
    const r = await timeIt(
      () => model.fit(x, y, { batchSize: s.batch, epochs: 1, verbose: 0, shuffle: false }),
      budget,
    );
    out.imagesPerSecond = n / r.seconds;
    out.secondsPerStep = r.seconds / LENET_STEPS;
    model.dispose();
    tf.dispose([x, y]);
  } else if (workload === 'W3') {
    const model = resnet18();
    for (const b of SHAPES.W3.batches) {
      const x = tf.tensor(filled(b * 224 * 224 * 3), [b, 224, 224, 3]);
      const r = await timeIt(async () => {
        const p = model.predict(x);
        await p.data();
        p.dispose();
      }, budget);
      out[`batch${b}`] = { ms: r.seconds * 1000, imagesPerSecond: b / r.seconds, iters: r.iters };
      x.dispose();
    }
    model.dispose();
  } else if (workload === 'W4') {
    const s = SHAPES.W4;
    const x = tf.tensor(filled(s.batch * s.size * s.size * s.channels), [
      s.batch,
      s.size,
      s.size,
      s.channels,
    ]);
    const w = tf.tensor(filled(9 * s.channels * s.channels, 2), [3, 3, s.channels, s.channels]);
    const r = await timeIt(async () => {
      const y = tf.conv2d(x, w, 1, 'same');
      await y.data();
      y.dispose();
    }, budget);
    out.forwardGflops = W4_GFLOP / r.seconds;
    out.ms = r.seconds * 1000;
    tf.dispose([x, w]);
  }
  return out;
}

(globalThis as { __result?: unknown }).__result = (async () => {
  const adapter = await navigator.gpu?.requestAdapter();
  const info = adapter?.info ?? {};
  const results: Record<string, unknown>[] = [];
  for (const workload of only)
    for (const engine of engines) {
      log(`${engine} ${workload}…`);
      let r: Record<string, unknown>;
      try {
        r =
          engine === 'receptive-webgpu'
            ? await receptive(workload)
            : await tfjs(engine.replace('tfjs-', ''), workload);
      } catch (e) {
        r = { error: String((e as Error)?.message ?? e).slice(0, 300) };
      }
      results.push({ engine, workload, ...r });
      log(JSON.stringify(results.at(-1)));
    }
  return {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
    },
    results,
  };
})();
