/**
 * Memory stays flat through training without dispose(): a child process (node --expose-gc
 * bench/memory.mjs, the short version of the benchmark) trains LeNet-5 with trainOnBatch on
 * random data, a fresh input tensor every step, and samples memory after a forced garbage
 * collection after warm-up and at the end. The heap plus the memory outside it (typed arrays)
 * may grow by at most GROWTH_BOUND (V8's compiled code accounts for a few hundred kB; one leaked
 * activation per step would be tens of MB), and the wasm backend's WebAssembly.Memory must not
 * grow after warm-up. `node bench/memory.mjs` runs 20,000 steps and prints the table.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { repoRoot } from '../helpers.js';

const BENCH = join(repoRoot, 'bench', 'memory.mjs');
const LIBRARY = join(repoRoot, 'build', 'src', 'index.js');
const MB = 2 ** 20;
const GROWTH_BOUND = 10 * MB;

interface Sample {
  step: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  wasm: number | null;
}
interface Result {
  backend: string;
  steps: number;
  warmup: number;
  batch: number;
  samples: Sample[];
}

function measure(options: {
  backend?: string;
  steps: number;
  warmup: number;
  batch: number;
}): Result {
  assert.ok(existsSync(BENCH), `${BENCH} is missing`);
  assert.ok(
    existsSync(LIBRARY),
    `${LIBRARY} is missing: compile the tests first (npm run build:test)`,
  );
  const args = [
    BENCH,
    '--json',
    '--steps',
    String(options.steps),
    '--warmup',
    String(options.warmup),
    '--every',
    String(options.steps),
    '--batch',
    String(options.batch),
    '--lib',
    LIBRARY,
    ...(options.backend ? ['--backends', options.backend] : []),
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `bench/memory.mjs failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Result;
}

function check(r: Result, diagnostic: (s: string) => void): void {
  const base = r.samples.find((s) => s.step === r.warmup)!;
  const end = r.samples.at(-1)!;
  assert.equal(end.step, r.steps);
  const mb = (b: number) => `${(b / MB).toFixed(2)} MB`;
  const grew = (k: keyof Sample) => (end[k] as number) - (base[k] as number);
  diagnostic(
    `${r.backend}, batch ${r.batch}, steps ${base.step}→${end.step}: heapUsed ${mb(base.heapUsed)} → ${mb(end.heapUsed)}, ` +
      `external ${mb(base.external)} → ${mb(end.external)} (arrayBuffers ${mb(base.arrayBuffers)} → ${mb(end.arrayBuffers)}), ` +
      `rss ${mb(base.rss)} → ${mb(end.rss)}, wasm memory ${base.wasm === null ? '-' : `${mb(base.wasm)} → ${mb(end.wasm!)}`}`,
  );
  const growth = grew('heapUsed') + grew('external');
  assert.ok(
    growth < GROWTH_BOUND,
    `${r.backend}: heapUsed + external grew by ${mb(growth)} over ${end.step - base.step} steps (bound ${mb(GROWTH_BOUND)})`,
  );
  if (base.wasm !== null) {
    assert.ok(
      end.wasm! <= base.wasm,
      `${r.backend}: the WebAssembly memory grew after warm-up, ${mb(base.wasm)} → ${mb(end.wasm!)}`,
    );
  }
}

// The reference backend is ~10x slower than wasm, so fewer and smaller steps keep it short.
const JS_RUN = { steps: 120, warmup: 20, batch: 16 };

test('LeNet-5, 400 trainOnBatch steps of 32 on the default backend: memory stays flat', {
  timeout: 120_000,
}, (t) => {
  // The default is the one this process would use (RECEPTIVE_BACKEND may make it 'js').
  const r = measure(rc.getBackend() === 'js' ? JS_RUN : { steps: 400, warmup: 50, batch: 32 });
  assert.equal(r.backend, rc.getBackend());
  check(r, (s) => t.diagnostic(s));
});

test("LeNet-5, 120 trainOnBatch steps of 16 on 'js': memory stays flat", {
  timeout: 120_000,
}, (t) => {
  const r = measure({ backend: 'js', ...JS_RUN });
  assert.equal(r.backend, 'js');
  check(r, (s) => t.diagnostic(s));
});
