#!/usr/bin/env node
// `npm run bench`: the same workloads on receptive and its peers, side by side in one run.
// Each (engine, workload) runs in its own process, so peak memory is that workload's own.
//   npm run bench                          every engine, every workload (10-20 minutes)
//   npm run bench -- --only W1,W4          some workloads
//   npm run bench -- --engines wasm,torch  some engines (native, native-spin, wasm, wasm-1t, js, tfjs-cpu, tfjs-wasm, ort, torch)
//   npm run bench -- --only webgpu         in Chromium: webgpu against TF.js webgpu and webgl (bench/webgpu.mjs)
// Results: a table with ratios on stdout, and bench/results.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHAPES } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = (arg('--only') ?? 'W1,W2,W3,W4,W5,W6').split(',');
if (only.includes('webgpu')) {
  // In Chromium: receptive's webgpu backend against TensorFlow.js's webgpu and webgl (bench/webgpu.mjs).
  const r = spawnSync(process.execPath, [join(here, 'webgpu.mjs')], { stdio: 'inherit' });
  if (only.length === 1) process.exit(r.status ?? 1);
  only.splice(only.indexOf('webgpu'), 1);
}
if (only.includes('speedrun')) {
  // airbench94's recipe against its PyTorch twin: its own script (bench/speedrun.mjs).
  const rest = args.filter((a, i) => a !== '--only' && args[i - 1] !== '--only');
  const r = spawnSync(process.execPath, [join(here, 'speedrun.mjs'), ...rest], {
    stdio: 'inherit',
  });
  if (only.length === 1) process.exit(r.status ?? 1);
  only.splice(only.indexOf('speedrun'), 1);
}
if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first.');
  process.exit(1);
}

const torchOk = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const rc = await import('../dist/index.js');
const hasWasm = rc.backendNames().includes('wasm');
// The native backend (an optional C++ addon over oneDNN): a column where it is built.
const native = rc.nativeBackendStatus?.() ?? { available: false, reason: 'this build has none' };

// Which engine runs which workloads ('js' is there for scale: too slow for the big nets).
const ALL = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'];
// TensorFlow.js has no twin of W6 (the ResNet-18 training step) in tfjs_worker.mjs.
const TFJS = ['W1', 'W2', 'W3', 'W4', 'W5'];
const node =
  (...a) =>
  (w) => [process.execPath, ...a.map((x) => (x === '$W' ? w : x))];
const engines = [
  ...(native.available
    ? [
        { id: 'native', cmd: node('receptive_worker.mjs', 'native', '$W'), workloads: ALL },
        // Native with libgomp's own wait (its threads spin 300,000 times for work, as ORT's
        // do): what batch-1 latency gains on an idle machine where the bounded default
        // (native_addon.ts) gives up little under load. Users choose it with GOMP_SPINCOUNT.
        {
          id: 'native-spin',
          cmd: node('receptive_worker.mjs', 'native', '$W'),
          env: { GOMP_SPINCOUNT: '300000' },
          workloads: ['W3'],
        },
      ]
    : []),
  ...(hasWasm
    ? [{ id: 'wasm', cmd: node('receptive_worker.mjs', 'wasm', '$W'), workloads: ALL }]
    : []),
  ...(hasWasm && rc.setThreads
    ? [
        {
          id: 'wasm-1t',
          cmd: node('receptive_worker.mjs', 'wasm', '$W', '1'),
          workloads: ['W4', 'W5'],
        },
      ]
    : []),
  { id: 'js', cmd: node('receptive_worker.mjs', 'js', '$W'), workloads: ['W1', 'W4', 'W5'] },
  { id: 'tfjs-cpu', cmd: node('tfjs_worker.mjs', 'cpu', '$W'), workloads: TFJS },
  { id: 'tfjs-wasm', cmd: node('tfjs_worker.mjs', 'wasm', '$W'), workloads: TFJS },
  // ONNX Runtime (onnxruntime-node) on the ONNX file receptive exports of its ResNet-18.
  { id: 'ort', cmd: node('ort_worker.mjs', '$W'), workloads: ['W3'] },
  ...(torchOk
    ? [{ id: 'torch', cmd: (w) => ['/usr/bin/python3', 'torch_worker.py', w], workloads: ALL }]
    : []),
].filter((e) => !arg('--engines') || arg('--engines').split(',').includes(e.id));
if (!native.available && (!arg('--engines') || arg('--engines').split(',').includes('native')))
  console.log(`No native column: ${native.reason}.`);
if (!torchOk)
  console.log(
    'PyTorch is not installed for /usr/bin/python3 (Debian: apt-get install python3-torch): no PyTorch column or ratios.',
  );

function run(engine, workload) {
  const [exe, ...rest] = engine.cmd(workload);
  // OpenBLAS runs slower with the workplace's OPENBLAS_CORETYPE set: unset for the peer alone.
  const env = { ...process.env, ...engine.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const t = performance.now();
  const r = spawnSync(exe, rest, { cwd: here, env, encoding: 'utf8', timeout: 900_000 });
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  const res = line
    ? JSON.parse(line)
    : {
        engine: engine.id,
        workload,
        error: (r.stderr || r.error?.message || 'no output').trim().split('\n').slice(-1)[0],
      };
  res.wallSeconds = (performance.now() - t) / 1000;
  return res;
}

const results = [];
for (const w of only) {
  console.log(`\n${w}: ${SHAPES[w].name}`);
  for (const e of engines.filter((e) => e.workloads.includes(w))) {
    const r = run(e, w);
    r.id = e.id;
    results.push(r);
    console.log(`  ${e.id.padEnd(10)} ${summarize(r)}`);
  }
  if (w === 'W7') {
    // Not per engine: bench/onnx_import.mjs measures the import on native (wasm without it).
    const id = native.available ? 'native' : 'wasm';
    const r = run(
      { id, cmd: () => [process.execPath, 'onnx_import.mjs', '--json', '--backend', id] },
      w,
    );
    r.id = id;
    results.push(r);
    console.log(`  ${id.padEnd(10)} ${summarize(r)}`);
  }
}

function headline(r) {
  if (r.error) return null;
  switch (r.workload) {
    case 'W1':
    case 'W2':
    case 'W6':
      return r.imagesPerSecond;
    case 'W3':
      return r.batch1 ? 1000 / r.batch1.ms : null; // higher is better: batch-1 inferences per second
    case 'W4':
      return r.forwardGflops;
    case 'W5':
      return r.gflops;
  }
  return null;
}

function summarize(r) {
  if (r.error) return `n/a (${r.error})`;
  // Three significant digits for small values (TensorFlow.js cpu runs at hundredths).
  const f = (v, d = 1) => (v === undefined ? '?' : v < 1 ? v.toPrecision(2) : v.toFixed(d));
  const mem = r.peakMB ? `, peak ${f(r.peakMB, 0)} MB` : '';
  switch (r.workload) {
    case 'W1':
    case 'W2':
      return `${f(r.imagesPerSecond)} images/s${r.note ? ` (${r.note})` : ''}${mem}`;
    case 'W6':
      return `${f(r.imagesPerSecond)} images/s (${f(r.secondsPerStep * 1000, 0)} ms a step), peak RSS ${f(r.peakMB, 0)} MB; ${r.trainableParams?.toLocaleString('en-US')} trainable parameters`;
    case 'W3': {
      const check =
        r.relativeDifference !== undefined
          ? ` (output within ${r.relativeDifference.toExponential(1)} of receptive's)`
          : '';
      return `batch 1: ${f(r.batch1?.ms)} ms; batch 8: ${f(r.batch8?.imagesPerSecond)} images/s${check}${mem}`;
    }
    case 'W4':
      return `forward ${f(r.forwardGflops)}, backward-input ${f(r.backwardInputGflops)}, backward-filter ${f(r.backwardFilterGflops)} GFLOP/s${r.backwardError ? ` (backward: ${r.backwardError})` : ''}`;
    case 'W5':
      return `${f(r.gflops)} GFLOP/s${r.gflops1t ? ` (1 thread ${f(r.gflops1t)})` : ''}`;
    case 'W7':
      return `import ${f(r.importSeconds, 2)} s, peak RSS ${f(r.peakRssBytes / r.fileBytes, 2)}× the ${f(r.fileBytes / 1e6, 0)} MB file; batch-1 predict ${f(r.imported.batch1.ms)} ms imported, ${f(r.built.batch1.ms)} ms built`;
  }
  return JSON.stringify(r);
}

// Ratios of each of receptive's fast backends to each peer, per workload (above 1: receptive is faster).
console.log('\nRatios (receptive / peer; above 1 means receptive is faster)');
const ours = [...(native.available ? ['native', 'native-spin'] : []), hasWasm ? 'wasm' : 'js'];
const isOurs = (id) => id.startsWith('native') || id.startsWith('wasm') || id === 'js';
for (const w of only) {
  for (const id of ours) {
    const mine = results.find((r) => r.workload === w && r.id === id);
    if (!mine || headline(mine) === null) continue;
    const cells = results
      .filter((r) => r.workload === w && !isOurs(r.id) && headline(r) !== null)
      .map((r) => {
        const ratio = `${r.id} ${(headline(mine) / headline(r)).toFixed(2)}×`;
        // W3's headline is batch-1 latency; its batch-8 throughput gets a ratio of its own.
        const b8 = mine.batch8?.imagesPerSecond / r.batch8?.imagesPerSecond;
        return w === 'W3' && Number.isFinite(b8) ? `${ratio} (batch 8 ${b8.toFixed(2)}×)` : ratio;
      });
    console.log(`  ${w} ${id.padEnd(6)}: ${cells.join(', ') || 'no peer result'}`);
  }
}

const file = join(here, 'results.json');
writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      results,
    },
    null,
    1,
  ),
);
console.log(`\nWrote ${file}`);
