#!/usr/bin/env node
// What an explanation costs against inference (issue #21 item 5): rc.vision.gradCam on
// ResNet-18 at 224×224 against model.predict of the same batch, same process, same backend,
// and the ratio (Grad-CAM is one forward pass and a backward pass from the logits down to the
// last convolution block only, so it should stay under 3× predict). Saliency (a backward pass
// down to the input) is timed too, for scale. A benchmark, not a test: nothing asserts on time.
//
//   npm run build && node bench/explain.mjs [--backend native] [--batch 1] [--size 224] [--seconds 3] [--json]
//
// Timing: warm-up (one call each, then a second), then the three alternate, round after
// round, for at least --seconds (at least 3 rounds), and each one's median call. Alternating
// keeps the ratio fair on a machine whose load changes (timed one after the other, a busy spell
// during one of them moved the ratio by 2×).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filled } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist', 'index.js');
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const backend = arg('--backend', 'native');
const batch = Number(arg('--batch', 1));
const size = Number(arg('--size', 224));
const seconds = Number(arg('--seconds', 3));
const json = argv.includes('--json');
if (!existsSync(dist)) {
  console.error('bench/explain: dist/ is missing; run `npm run build` first.');
  process.exit(1);
}
for (const [name, v] of [
  ['--batch', batch],
  ['--size', size],
  ['--seconds', seconds],
]) {
  if (!(v > 0)) {
    console.error(`bench/explain: ${name} must be a positive number, got ${v}.`);
    process.exit(1);
  }
}

const rc = await import(dist);
try {
  rc.setBackend(backend);
} catch (e) {
  console.error(`bench/explain: backend ${backend} is not available here: ${e.message}`);
  process.exit(1);
}
rc.setSeed(1);
const model = rc.models.resnet18({ numClasses: 1000, inputShape: [size, size, 3] });
const x = rc.tensor(filled(batch * size * size * 3), [batch, size, size, 3]);
const calls = {
  predict: async () => model.predict(x, { batchSize: batch }).dataSync(),
  gradCam: async () => (await rc.vision.gradCam(model, x)).heatmap.dataSync(),
  saliency: async () => (await rc.vision.saliency(model, x)).map.dataSync(),
};
const times = { predict: [], gradCam: [], saliency: [] };
const warm = performance.now();
do for (const f of Object.values(calls)) await f();
while (performance.now() - warm < 1000);
const t0 = performance.now();
while (times.predict.length < 3 || performance.now() - t0 < seconds * 1000) {
  for (const [name, f] of Object.entries(calls)) {
    const t = performance.now();
    await f();
    times[name].push((performance.now() - t) / 1000);
  }
}
const median = (v) => ({ seconds: v.sort((a, b) => a - b)[v.length >> 1], iters: v.length });
const predict = median(times.predict);
const gradCam = median(times.gradCam);
const saliency = median(times.saliency);
const layer = (await rc.vision.gradCam(model, x)).layer;

const result = {
  backend: rc.getBackend(),
  model: 'resnet18',
  size,
  batch,
  layer,
  predictMs: predict.seconds * 1000,
  gradCamMs: gradCam.seconds * 1000,
  saliencyMs: saliency.seconds * 1000,
  gradCamOverPredict: gradCam.seconds / predict.seconds,
  saliencyOverPredict: saliency.seconds / predict.seconds,
};
if (json) {
  console.log(JSON.stringify(result));
} else {
  const ms = (v) => `${v.toFixed(1)} ms`;
  console.log(
    `ResNet-18 at ${size}×${size}, batch ${batch}, backend ${result.backend} (Grad-CAM at '${layer}')`,
  );
  console.log(`  predict   ${ms(result.predictMs)}  (${predict.iters} calls)`);
  console.log(
    `  gradCam   ${ms(result.gradCamMs)}  (${gradCam.iters} calls)  ${result.gradCamOverPredict.toFixed(2)}× predict`,
  );
  console.log(
    `  saliency  ${ms(result.saliencyMs)}  (${saliency.iters} calls)  ${result.saliencyOverPredict.toFixed(2)}× predict`,
  );
}
