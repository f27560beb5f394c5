#!/usr/bin/env node
// What fit's NaN/infinity checks (FitOptions.checkFinite, on by default) cost a LeNet-5 step.
// Usage: npm run build && node bench/check_finite.mjs [backend ...] [--data DIR] [--rounds N]
// Two ways in: x/y tensors (the data are checked once before the first step; a step then only
// tests the loss it already read) and a Dataset pipeline (every batch is scanned). Each round
// trains one epoch of 4,096 MNIST images with the checks on and one with them off, in
// alternating order, so both see the same machine; the median over rounds is printed.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as rc from '../dist/index.js';

const args = process.argv.slice(2);
const take = (flag, fallback) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const shared = join(dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/mnist');
const dataDir = take('--data', existsSync(shared) ? shared : undefined);
const rounds = Number(take('--rounds', '7'));
const backends = args.length ? args : [rc.getBackend()];

const m = await rc.data.loadMnist(dataDir ? { dataDir } : {});
const n = 4096;
const batchSize = 128;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function epochMs(x, y, source, checkFinite) {
  const model = rc.models.lenet5();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const t = performance.now();
  if (source === 'tensors')
    await model.fit(x, y, { epochs: 1, batchSize, verbose: 0, checkFinite });
  else {
    const ds = rc.data.Dataset.fromArrays(x, y).batch(batchSize);
    await model.fit(ds, { epochs: 1, verbose: 0, checkFinite });
  }
  return performance.now() - t;
}

for (const name of backends) {
  rc.setBackend(name);
  const { x, y } = rc.data.toTensors(rc.data.subset(m.train, 0, n));
  for (const source of ['tensors', 'dataset']) {
    await epochMs(x, y, source, true); // warm-up: JIT, memory pools
    const on = [];
    const off = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2) {
        on.push(await epochMs(x, y, source, true));
        off.push(await epochMs(x, y, source, false));
      } else {
        off.push(await epochMs(x, y, source, false));
        on.push(await epochMs(x, y, source, true));
      }
    }
    const steps = Math.ceil(n / batchSize);
    const a = median(on) / steps;
    const b = median(off) / steps;
    console.log(
      `${name.padEnd(6)} ${source.padEnd(7)} step with checks ${a.toFixed(3)} ms, without ${b.toFixed(3)} ms: ` +
        `${(((a - b) / b) * 100).toFixed(2)}% (median of ${rounds} epochs of ${steps} steps each)`,
    );
  }
}
