// One bench measurement on ONNX Runtime (onnxruntime-node, a devDependency): node bench/ort_worker.mjs W3
// Prints one JSON line. W3 runs the ONNX file receptive itself exports of its ResNet-18 (the
// same weights as receptive's W3 run: seed 1), on ORT's CPU execution provider with its default
// graph optimizations (all: BatchNormalization folded into Conv, ReLU and the residual Add fused,
// NCHWc layouts) and one intra-op thread per core. ORT's output must equal receptive's (on its
// default backend: native where built) within 1e-4 of the largest value, or the workload fails.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rc from '../dist/index.js';
import { filled, peakRssMB, SHAPES, timeIt } from './common.mjs';

const [workload] = process.argv.slice(2);
const out = { engine: 'onnxruntime-node', workload };
const fail = (error) => {
  console.log(JSON.stringify({ ...out, error }));
  process.exit(0);
};
if (workload !== 'W3') fail(`the ort engine runs W3 only, not ${workload}`);
let ort;
try {
  ort = (await import('onnxruntime-node')).default;
} catch (e) {
  fail(`onnxruntime-node is not installed (${e.message.split('\n')[0]})`);
}

// The model as receptive_worker.mjs builds it (same seed, same weights), exported by receptive.
rc.setSeed(1);
const model = rc.models.resnet18();
const dir = mkdtempSync(join(tmpdir(), 'receptive-bench-ort-'));
let bytes;
try {
  await model.exportOnnx(join(dir, 'resnet18.onnx'));
  bytes = readFileSync(join(dir, 'resnet18.onnx'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const threads = availableParallelism();
const session = await ort.InferenceSession.create(bytes, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: threads,
});
out.version = ort.env.versions?.common ?? ort.env.versions?.node;
out.threads = threads;
out.checkedAgainst = rc.getBackend();
const [inName] = session.inputNames;
const [outName] = session.outputNames;

// Same input for both: receptive's answer against ORT's.
{
  const x = filled(2 * 224 * 224 * 3);
  const want = model.predict(rc.tensor(x, [2, 224, 224, 3])).dataSync();
  const got = (await session.run({ [inName]: new ort.Tensor('float32', x, [2, 224, 224, 3]) }))[
    outName
  ].data;
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  }
  out.maxDifference = maxDiff;
  out.relativeDifference = maxDiff / maxAbs;
  console.error(
    `ort: max |ORT - receptive| = ${maxDiff.toExponential(2)} (${(maxDiff / maxAbs).toExponential(2)} of the largest output, ${maxAbs.toPrecision(3)})`,
  );
  if (!(got.length === want.length && maxDiff / maxAbs <= 1e-4))
    fail(
      `ORT's output differs from receptive's: max difference ${maxDiff} (${maxDiff / maxAbs} relative, over 1e-4), ${got.length} against ${want.length} values`,
    );
}

for (const b of SHAPES.W3.batches) {
  const x = new ort.Tensor('float32', filled(b * 224 * 224 * 3), [b, 224, 224, 3]);
  const r = await timeIt(async () => (await session.run({ [inName]: x }))[outName].data, {
    minSeconds: 5,
    budgetSeconds: 120,
  });
  out[`batch${b}`] = { ms: r.seconds * 1000, imagesPerSecond: b / r.seconds, iters: r.iters };
}
out.peakMB = peakRssMB();
console.log(JSON.stringify(out));
