#!/usr/bin/env node
// Memory over a long training run without dispose(): LeNet-5 on random 28×28 data, batch 32,
// model.trainOnBatch in a plain loop (no tidy, no dispose, no awaits between steps), a fresh
// input tensor every step as a data pipeline would make. At a few points it runs the garbage
// collector and samples process.memoryUsage() and the wasm backend's WebAssembly.Memory size.
// A benchmark, not a test (test/robust/memory.test.ts runs the short version with bounds).
//
//   npm run build && node bench/memory.mjs                      20,000 steps on the default backend
//   node bench/memory.mjs --steps 2000 --backends wasm,js       both backends, each in its own process
//   node bench/memory.mjs --json                                one JSON line per backend, no table
//
// Options: --steps N (20000), --warmup N (steps before the baseline sample, 50), --every N
// (sample interval, steps / 10), --batch N (32), --backends a,b (the default backend),
// --lib PATH (the library's index.js; dist/index.js).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const steps = Number(arg('--steps', 20000));
const warmup = Number(arg('--warmup', 50));
const every = Number(arg('--every', Math.max(1, Math.round(steps / 10))));
const batch = Number(arg('--batch', 32));
const lib = resolve(arg('--lib', join(here, '..', 'dist', 'index.js')));
const json = argv.includes('--json');

if (!existsSync(lib)) {
  console.error(`bench/memory: ${lib} is missing; run \`npm run build\` first.`);
  process.exit(1);
}

if (argv.includes('--child')) {
  await child(arg('--backend'));
} else {
  parent();
}

/** The WebAssembly.Memory size of a backend in bytes, or null (the js backend has none). */
function wasmMemoryBytes(backend) {
  if (typeof backend.memoryBytes === 'function') return backend.memoryBytes();
  // The wasm backend keeps its module instance's exports privately (as `k`); read it if there.
  for (const m of [backend.memory, backend.k?.memory, backend.kernels?.memory]) {
    if (m instanceof WebAssembly.Memory) return m.buffer.byteLength;
  }
  return null;
}

async function child(backendName) {
  const rc = await import(pathToFileURL(lib).href);
  const { backendByName } = await import(
    pathToFileURL(join(dirname(lib), 'backend', 'registry.js')).href
  );
  if (backendName) rc.setBackend(backendName);
  const backend = backendByName(rc.getBackend());
  rc.setSeed(1);
  const model = rc.models.lenet5();
  model.compile({
    optimizer: 'adam',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const rng = new rc.Random(2);
  const pool = Array.from({ length: 8 }, () =>
    Float32Array.from({ length: batch * 28 * 28 }, () => rng.uniform()),
  );
  const labels = Array.from({ length: 8 }, () =>
    Int32Array.from({ length: batch }, () => rng.int(10)),
  );

  const samples = [];
  const sample = async (step) => {
    // Twice, with a turn of the event loop between, so FinalizationRegistry callbacks run too.
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
    globalThis.gc();
    const m = process.memoryUsage();
    samples.push({
      step,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      rss: m.rss,
      wasm: wasmMemoryBytes(backend),
    });
  };
  await sample(0);
  let t0 = performance.now();
  let timedSteps = 0;
  for (let step = 1; step <= steps; step++) {
    const i = step % pool.length;
    const x = rc.tensor(pool[i], [batch, 28, 28, 1]);
    const y = rc.tensor(labels[i], [batch], 'int32');
    const logs = model.trainOnBatch(x, y);
    if (!Number.isFinite(logs.loss)) throw new Error(`step ${step}: loss ${logs.loss}`);
    timedSteps++;
    if (step === warmup || step % every === 0 || step === steps) {
      const ms = performance.now() - t0;
      await sample(step);
      samples.at(-1).msPerStep = ms / timedSteps;
      t0 = performance.now();
      timedSteps = 0;
    }
  }
  process.stdout.write(
    `${JSON.stringify({ backend: rc.getBackend(), steps, warmup, batch, samples })}\n`,
  );
}

function parent() {
  const names = (arg('--backends') ?? '').split(',').filter(Boolean);
  const runs = names.length > 0 ? names : [null];
  const results = [];
  for (const name of runs) {
    const childArgs = [
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--child',
      '--steps',
      String(steps),
      '--warmup',
      String(warmup),
      '--every',
      String(every),
      '--batch',
      String(batch),
      '--lib',
      lib,
      ...(name ? ['--backend', name] : []),
    ];
    const r = spawnSync(process.execPath, childArgs, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) {
      console.error(r.stderr || r.stdout);
      process.exit(r.status ?? 1);
    }
    const line = r.stdout.trim().split('\n').at(-1);
    if (json) {
      console.log(line);
      continue;
    }
    results.push(JSON.parse(line));
  }
  if (json) return;
  const mb = (b) => (b === null || b === undefined ? '-' : (b / 2 ** 20).toFixed(1));
  for (const r of results) {
    console.log(
      `\nLeNet-5, trainOnBatch, batch ${r.batch}, ${r.steps} steps, backend '${r.backend}' (MB after gc)`,
    );
    const head = ['step', 'heapUsed', 'external', 'arrayBuffers', 'rss', 'wasm memory', 'ms/step'];
    const rows = r.samples.map((s) => [
      String(s.step),
      mb(s.heapUsed),
      mb(s.external),
      mb(s.arrayBuffers),
      mb(s.rss),
      mb(s.wasm),
      s.msPerStep === undefined ? '' : s.msPerStep.toFixed(2),
    ]);
    const base = r.samples.find((s) => s.step === r.warmup) ?? r.samples[0];
    const end = r.samples.at(-1);
    const d = (k) =>
      end[k] === null ? '-' : `${end[k] >= base[k] ? '+' : ''}${mb(end[k] - base[k])}`;
    rows.push([
      `Δ ${base.step}→${end.step}`,
      d('heapUsed'),
      d('external'),
      d('arrayBuffers'),
      d('rss'),
      d('wasm'),
      '',
    ]);
    const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const fmt = (cells) => cells.map((c, i) => c.padStart(width[i])).join('  ');
    console.log(fmt(head));
    for (const row of rows) console.log(fmt(row));
  }
}
