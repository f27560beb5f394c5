#!/usr/bin/env node
// Training speed of LeNet-5 on real MNIST (4,096 images, batch 128, one epoch) per backend.
// Usage: npm run build && node bench/lenet_train.mjs [backend ...] [--data DIR]
// The MNIST files come from --data, else ../shared/datasets/mnist, else the receptive cache.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as rc from '../dist/index.js';

const args = process.argv.slice(2);
const di = args.indexOf('--data');
const shared = join(dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/mnist');
const dataDir = di >= 0 ? args.splice(di, 2)[1] : existsSync(shared) ? shared : undefined;
const backends = args.length ? args : ['js', 'wasm'];

const m = await rc.data.loadMnist(dataDir ? { dataDir } : {});
const n = 4096;
for (const name of backends) {
  rc.setBackend(name);
  const { x, y } = rc.data.toTensors(rc.data.subset(m.train, 0, n));
  const times = [];
  const cpuTimes = [];
  for (let rep = 0; rep < 3; rep++) {
    const model = rc.models.lenet5();
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const t = performance.now();
    const c = process.cpuUsage();
    await model.fit(x, y, { epochs: 1, batchSize: 128, verbose: 0 });
    const cu = process.cpuUsage(c);
    times.push(performance.now() - t);
    cpuTimes.push((cu.user + cu.system) / 1000);
  }
  const best = Math.min(...times);
  const bestCpu = Math.min(...cpuTimes);
  // CPU time counts only this process's time on a core (the engine's GC threads included), so
  // it is the steadier number on a machine shared with other work.
  console.log(
    `${name.padEnd(5)} LeNet-5 fit: ${((n / best) * 1000).toFixed(0)} images/s (best of 3, ${best.toFixed(0)} ms per epoch of ${n}); ` +
      `${((n / bestCpu) * 1000).toFixed(0)} images per CPU-second`,
  );
}
