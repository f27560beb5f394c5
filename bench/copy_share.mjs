#!/usr/bin/env node
import { backendByName } from '../dist/backend/registry.js';
// Where a training step's time goes on the wasm backend: copies between JS arrays and wasm
// memory, wasm kernels, and everything else (JS kernels, autograd, allocation, the optimizer).
// Usage: npm run build && node bench/copy_share.mjs [--threads N] [--steps N]
// Workloads: W1 LeNet-5 (batch 128) and W2 VGG13-CIFAR (batch 32), Adam, synthetic inputs.
import * as rc from '../dist/index.js';
import { filled, SHAPES } from './common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
rc.setBackend('wasm');
const threads = opt('--threads', 0);
if (threads) rc.setThreads(threads);
const be = backendByName('wasm');
be.waitForThreads();
rc.setSeed(1);

const rows = [];
for (const [id, make, steps] of [
  ['W1 LeNet-5', () => rc.models.lenet5(), opt('--steps', 40)],
  ['W2 VGG13-CIFAR', () => rc.models.vgg13Cifar(), Math.max(3, Math.round(opt('--steps', 40) / 8))],
]) {
  const shape = id.startsWith('W1') ? SHAPES.W1 : SHAPES.W2;
  const x = rc.tensor(filled(shape.batch * shape.input.reduce((a, b) => a * b, 1)), [
    shape.batch,
    ...shape.input,
  ]);
  const y = rc.tensor(
    Int32Array.from({ length: shape.batch }, (_, i) => i % shape.classes),
    [shape.batch],
    'int32',
  );
  const model = make();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  for (let i = 0; i < 3; i++) model.trainOnBatch(x, y); // warm-up
  be.startProfile();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) model.trainOnBatch(x, y);
  const ms = (performance.now() - t0) / steps;
  const p = be.stopProfile();
  const row = {
    workload: id,
    threads: rc.getThreads(),
    msPerStep: ms,
    copyMsPerStep: p.copyMs / steps,
    kernelMsPerStep: p.kernelMs / steps,
    copiesPerStep: p.copies / steps,
    copyShare: p.copyMs / steps / ms,
    kernelShare: p.kernelMs / steps / ms,
  };
  rows.push(row);
  console.log(
    `${id.padEnd(15)} ${row.threads} thread(s): ${ms.toFixed(1)} ms/step; copies ${row.copyMsPerStep.toFixed(2)} ms ` +
      `(${(row.copyShare * 100).toFixed(1)}%, ${row.copiesPerStep.toFixed(0)} copies), wasm kernels ` +
      `${row.kernelMsPerStep.toFixed(1)} ms (${(row.kernelShare * 100).toFixed(1)}%), other ` +
      `${((1 - row.copyShare - row.kernelShare) * 100).toFixed(1)}%`,
  );
}
console.log(JSON.stringify(rows));
