#!/usr/bin/env node
// ONNX import speed and memory (issue #20 item 6): a torchvision ResNet-50 exported by PyTorch
// (~100 MB), imported by rc.importOnnx in a fresh process: the import's wall time, the process's
// peak RSS against the file's size (absolute, and above the RSS before the import), then batch-1
// and batch-8 inference of the imported model beside rc.models.resnet50() built in receptive at
// the same input size, in the same process, and how many convolutions inference fusion takes
// into its chains in each. A benchmark, not a test: nothing asserts on time.
//
//   npm run build && node bench/onnx_import.mjs                  resnet50 at 224×224, native
//   node bench/onnx_import.mjs --model resnet18 --backend wasm   another model or backend
//   node bench/onnx_import.mjs --file model.onnx --size 224      a file already written
//   node bench/onnx_import.mjs --json                            one JSON line, no table
//
// Without --file it exports the model with test/golden/export_torchvision.py (torchvision for
// /usr/bin/python3: Debian's python3-torchvision) into a temporary folder, removed at the end.
// --model resnet18|resnet50 (resnet50) picks the receptive model it is compared with.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const model = arg('--model', 'resnet50');
const size = Number(arg('--size', 224));
const backend = arg('--backend', 'native');
const json = argv.includes('--json');
if (!['resnet18', 'resnet50'].includes(model)) {
  console.error(`bench/onnx_import: --model must be resnet18 or resnet50, got ${model}.`);
  process.exit(1);
}
if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('bench/onnx_import: dist/ is missing; run `npm run build` first.');
  process.exit(1);
}

if (argv.includes('--child')) await child(arg('--file'));
else parent();

function parent() {
  let file = arg('--file');
  let temp = null;
  try {
    if (!file) {
      temp = mkdtempSync(join(tmpdir(), 'receptive-bench-onnx-'));
      const t = performance.now();
      const r = spawnSync(
        '/usr/bin/python3',
        [
          join(root, 'test', 'golden', 'export_torchvision.py'),
          temp,
          '--size',
          String(size),
          '--batch',
          '1',
          model,
        ],
        { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } },
      );
      if (r.status !== 0) {
        console.error(
          `bench/onnx_import: exporting ${model} with PyTorch failed (torchvision for /usr/bin/python3 is needed, or pass --file):\n${r.stderr || r.error?.message}`,
        );
        process.exit(1);
      }
      file = join(temp, `${model}.onnx`);
      if (!json)
        console.log(
          `exported torchvision ${model} at ${size}×${size} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
        );
    }
    const r = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        fileURLToPath(import.meta.url),
        '--child',
        '--file',
        file,
        '--model',
        model,
        '--size',
        String(size),
        '--backend',
        backend,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = (r.stdout ?? '')
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    if (!line) {
      console.error(`bench/onnx_import: the measuring process gave no result (exit ${r.status}).`);
      process.exit(1);
    }
    const res = JSON.parse(line);
    if (json) console.log(line);
    else table(res);
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

function table(r) {
  const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
  console.log(`backend ${r.backend}; ${r.model} ONNX file ${mb(r.fileBytes)}`);
  console.log(`  import:          ${r.importSeconds.toFixed(2)} s`);
  console.log(
    `  peak RSS:        ${mb(r.peakRssBytes)} = ${(r.peakRssBytes / r.fileBytes).toFixed(2)}× the file (before the import ${mb(r.rssBeforeBytes)}; the import's own ${mb(r.peakRssBytes - r.rssBeforeBytes)} = ${((r.peakRssBytes - r.rssBeforeBytes) / r.fileBytes).toFixed(2)}×)`,
  );
  console.log(
    `  after import:    ${mb(r.rssAfterBytes)} RSS, ${mb(r.buffersAfterBytes)} in array buffers, after a garbage collection (the weights: ${mb(r.weightBytes)})`,
  );
  console.log(
    `  fused chains:    imported ${r.imported.fusedChains} of ${r.imported.convs} convolutions; built ${r.built.fusedChains} of ${r.built.convs}`,
  );
  for (const b of [1, 8]) {
    const i = r.imported[`batch${b}`];
    const k = r.built[`batch${b}`];
    console.log(
      `  batch ${b} predict: imported ${i.ms.toFixed(1)} ms, built ${k.ms.toFixed(1)} ms (imported / built ${(i.ms / k.ms).toFixed(2)}×)`,
    );
  }
}

async function child(file) {
  const rc = await import('../dist/index.js');
  const { planFusion } = await import('../dist/nn/inference_fusion.js');
  const { filled, timeIt } = await import('./common.mjs');
  rc.setBackend(backend);
  if (rc.getBackend() !== backend) {
    console.error(`bench/onnx_import: the ${backend} backend is unavailable.`);
    process.exit(1);
  }
  // The library and the backend loaded, so that the RSS before is the process's own baseline.
  rc.tensor([1, 2, 3]).dataSync();
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  const imported = await rc.importOnnx(file);
  const importSeconds = (performance.now() - t) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  globalThis.gc?.();
  const rssAfter = process.memoryUsage().rss;
  // Array buffers still held: the weights only, if nothing keeps the file's bytes alive.
  const buffersAfter = process.memoryUsage().arrayBuffers;
  const weightBytes = imported.layers.flatMap((l) => l.weights).reduce((a, w) => a + w.size * 4, 0);

  const built = rc.models[model]({ inputShape: [size, size, 3] });
  const out = {
    workload: 'W7',
    backend,
    model,
    size,
    fileBytes: statSync(file).size,
    importSeconds,
    rssBeforeBytes: rssBefore,
    peakRssBytes: peak,
    rssAfterBytes: rssAfter,
    buffersAfterBytes: buffersAfter,
    weightBytes,
  };
  for (const [name, m] of [
    ['imported', imported],
    ['built', built],
  ]) {
    const r = {
      convs: m.layers.filter((l) => l.className === 'Conv2D').length,
      fusedChains: planFusion(m.inferenceNodes, m.outputs).chains.size,
    };
    for (const b of [1, 8]) {
      const x = rc.tensor(filled(b * size * size * 3), [b, size, size, 3]);
      const s = await timeIt(() => m.predict(x, { batchSize: b }).dataSync(), {
        minSeconds: 3,
        budgetSeconds: 60,
      });
      r[`batch${b}`] = { ms: s.seconds * 1000, iters: s.iters };
    }
    out[name] = r;
  }
  console.log(JSON.stringify(out));
}
