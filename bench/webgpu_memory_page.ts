// The webgpu memory benchmark's page (driven by bench/webgpu_memory.mjs): LeNet-5 trains for
// `steps` steps of `batch` images on the webgpu backend, and after every epoch the live GPU
// buffers (count and bytes) are recorded: a training loop that frees what it makes holds them
// flat. Then tensors made by user code outside any training step, and dropped, are left to the
// garbage collector (its FinalizationRegistry returns their buffers to the pool).
import { backendByName } from '../src/backend/registry.js';
import type { WebGpuBackend } from '../src/backend/webgpu/webgpu_backend.js';
import * as rc from '../src/browser.js';

const q = new URLSearchParams(location.search);
const steps = Number(q.get('steps') ?? 20000);
const batch = Number(q.get('batch') ?? 8);
const perEpoch = Math.min(steps, Number(q.get('perEpoch') ?? 500));

(globalThis as { __result?: unknown }).__result = (async () => {
  if ((await rc.setBackend('webgpu')) !== 'webgpu') return { error: 'no WebGPU adapter' };
  const be = backendByName('webgpu') as WebGpuBackend;
  rc.setSeed(1);
  const n = perEpoch * batch;
  const rng = new rc.Random(2);
  const x = rc.tensor(
    Float32Array.from({ length: n * 28 * 28 }, () => rng.uniform(0, 1)),
    [n, 28, 28, 1],
  );
  const y = rc.tensor(
    Int32Array.from({ length: n }, (_, i) => i % 10),
    [n],
    'int32',
  );
  const model = rc.models.lenet5();
  model.compile({
    optimizer: 'adam',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const samples: { step: number; liveBuffers: number; liveBytes: number; loss: number }[] = [];
  const t0 = performance.now();
  const epochs = Math.ceil(steps / perEpoch);
  await model.fit(x, y, {
    epochs,
    batchSize: batch,
    verbose: 0,
    callbacks: {
      onEpochEnd: (e: number, logs: rc.Logs) => {
        const m = be.memory();
        samples.push({
          step: (e + 1) * perEpoch,
          liveBuffers: m.liveBuffers,
          liveBytes: m.liveBytes,
          loss: logs.loss!,
        });
        console.log(
          `step ${(e + 1) * perEpoch}: ${m.liveBuffers} live buffers, ${m.liveBytes} bytes, loss ${logs.loss!.toFixed(4)}`,
        );
      },
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  // User code outside any step: tensors made and dropped, left to the collector.
  const before = be.memory();
  for (let i = 0; i < 2000; i++) {
    const t = rc.mul(rc.tensor(new Float32Array(1024).fill(i), [1024]), 2);
    if (i % 200 === 0) await t.data();
  }
  const made = be.memory();
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 5 && gc; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const collected = be.memory();
  return {
    steps: epochs * perEpoch,
    batch,
    seconds,
    samples,
    userCode: { before, made, collected, gc: !!gc },
  };
})();
