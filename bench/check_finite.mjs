#!/usr/bin/env node
// What fit's NaN/infinity checks (FitOptions.checkFinite, on by default) cost a LeNet-5 step.
// Usage: npm run build && node bench/check_finite.mjs [backend ...] [--data DIR]
// A step is timed from onBatchBegin to onBatchEnd (the median over 3 epochs of 64 steps), with
// the checks on and off, alternating runs so that both see the same machine. Two ways in:
//   tensors: x and y are checked once before the first step (reported per step of an epoch of
//            all 60,000 MNIST images); a step then only tests the loss it has already read;
//   dataset: every batch a Dataset makes is scanned inside its step.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as rc from '../dist/index.js';

const args = process.argv.slice(2);
const di = args.indexOf('--data');
const shared = join(dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/mnist');
const dataDir = di >= 0 ? args.splice(di, 2)[1] : existsSync(shared) ? shared : undefined;
const backends = args.length ? args : [rc.getBackend()];

const m = await rc.data.loadMnist(dataDir ? { dataDir } : {});
const n = 8192;
const batchSize = 128;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Median step time (ms) of a 3-epoch LeNet-5 fit. */
async function stepMs(x, y, source, checkFinite) {
  const model = rc.models.lenet5();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const times = [];
  let t0 = 0;
  const timer = {
    setModel() {},
    setParams() {},
    setProgress() {},
    resumePoint: () => null,
    onTrainBegin() {},
    onTrainEnd() {},
    onEpochBegin() {},
    onEpochEnd() {},
    onBatchBegin() {
      t0 = performance.now();
    },
    onBatchEnd() {
      times.push(performance.now() - t0);
    },
  };
  const options = { epochs: 3, batchSize, verbose: 0, checkFinite, callbacks: [timer] };
  if (source === 'tensors') await model.fit(x, y, options);
  else await model.fit(rc.data.Dataset.fromArrays(x, y).batch(batchSize), options);
  return median(times);
}

for (const name of backends) {
  rc.setBackend(name);
  const { x, y } = rc.data.toTensors(rc.data.subset(m.train, 0, n));
  for (const source of ['tensors', 'dataset']) {
    await stepMs(x, y, source, true); // warm-up: JIT, memory pools
    const on = [];
    const off = [];
    for (let r = 0; r < 3; r++) {
      off.push(await stepMs(x, y, source, false));
      on.push(await stepMs(x, y, source, true));
    }
    const a = median(on);
    const b = median(off);
    console.log(
      `${name.padEnd(6)} ${source.padEnd(7)} LeNet-5 step with checks ${a.toFixed(3)} ms, without ${b.toFixed(3)} ms: ${(((a - b) / b) * 100).toFixed(2)}%`,
    );
  }
  // The scan itself, on a batch as a dataset hands it to fit (where the backend keeps it).
  const batch = rc.slice(x, [0, 0, 0, 0], [batchSize, 28, 28, 1]);
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < 1000) {
    batch.storage.backend.firstNonFinite(batch.storage);
    reps++;
  }
  const perBatch = (performance.now() - t0) / reps;
  const step = median(await Promise.all([stepMs(x, y, 'tensors', false)]));
  console.log(
    `${name.padEnd(6)} the scan of one batch (${batchSize}×28×28×1): ${(perBatch * 1000).toFixed(1)} µs = ${((perBatch / step) * 100).toFixed(2)}% of a ${step.toFixed(3)} ms step`,
  );
  // The one scan before training, over all 60,000 training images, per step of one epoch.
  const all = rc.data.toTensors(m.train).x.dataSync();
  const { firstNonFinite } = await import('../dist/util/finite.js');
  const scans = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    firstNonFinite(all);
    scans.push(performance.now() - t);
  }
  const steps = Math.ceil(m.train.labels.length / batchSize);
  console.log(
    `${name.padEnd(6)} the data check before training: ${median(scans).toFixed(1)} ms for ${all.length.toLocaleString('en-US')} values = ${((median(scans) / steps / step) * 100).toFixed(2)}% of a step over one epoch (${steps} steps)`,
  );
}
