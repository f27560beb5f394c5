#!/usr/bin/env node
// LeNet-5 training (batch 128, Adam, trainOnBatch) on `native` and `wasm` while N other
// processes keep the CPU busy: the native backend's OpenMP threads must not collapse when they
// do not get the cores they were started for. Prints steps/s per backend for N = 0 and N = --busy
// (default 4), and the native/wasm ratio for each.
//
// Usage: npm run build && node bench/under_load.mjs [--busy N] [--seconds S] [--rounds R] [--spin]
//   --seconds  measured seconds per (backend, load) (default 5; after a second of warm-up)
//   --rounds   repeat the whole table R times (default 1): the machine is noisy
//   --spin     also run 'native-spin': native with libgomp's own default wait (GOMP_SPINCOUNT=300000,
//              threads spin ~0.1–1 ms for work before they sleep), as it ran before receptive
//              set a bounded wait (src/backend/native/native_addon.ts)
//
// Each measurement runs in a fresh process (OpenMP reads its wait policy once, when it loads).
// The busy processes are `node -e 'for(;;){}'`, spawned here and killed when the bench ends,
// whatever way it ends. A benchmark, not a test: nothing asserts on time.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

// --- Worker: one (backend, environment) measurement -------------------------------------------
if (process.argv[2] === '--worker') {
  const [backend, seconds] = [process.argv[3], Number(process.argv[4])];
  const rc = await import('../dist/index.js');
  rc.setBackend(backend);
  rc.setSeed(1);
  const batch = 128;
  const x = rc.randn([batch, 28, 28, 1]);
  const y = rc.tensor(
    Int32Array.from({ length: batch }, (_, i) => i % 10),
    [batch],
    'int32',
  );
  const model = rc.models.lenet5();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const step = () => model.trainOnBatch(x, y);
  const warm = performance.now();
  while (performance.now() - warm < 1000) await step();
  const times = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || times.length < 5) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  process.stdout.write(
    JSON.stringify({ backend: rc.getBackend(), medianMs: median, stepsPerS: 1000 / median }),
  );
  process.exit(0);
}

// --- Driver ------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const busy = flag('--busy', 4);
const seconds = flag('--seconds', 5);
const rounds = flag('--rounds', 1);
const withSpin = args.includes('--spin');
for (const [name, v] of [
  ['--busy', busy],
  ['--seconds', seconds],
  ['--rounds', rounds],
]) {
  if (!Number.isInteger(v) || v < (name === '--busy' ? 0 : 1)) {
    console.error(`under_load: ${name} must be a whole number, got ${v}.`);
    process.exit(1);
  }
}

/** The busy processes now running, killed at the end whatever happens. */
const loaders = new Set();
function stopLoad() {
  for (const p of loaders) p.kill('SIGKILL');
  loaders.clear();
}
process.on('exit', stopLoad);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopLoad();
    process.exit(130);
  });
}

function startLoad(n) {
  for (let i = 0; i < n; i++) {
    const p = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    loaders.add(p);
    p.on('exit', () => loaders.delete(p));
  }
}

const engines = [
  { label: 'native', backend: 'native', env: {} },
  { label: 'wasm', backend: 'wasm', env: {} },
];
if (withSpin)
  engines.push({ label: 'native-spin', backend: 'native', env: { GOMP_SPINCOUNT: '300000' } });

function measure(engine) {
  // The user's own OpenMP settings would decide the result: leave them out of the children.
  const env = { ...process.env };
  for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'RECEPTIVE_BACKEND']) delete env[k];
  Object.assign(env, engine.env);
  const r = spawnSync(process.execPath, [self, '--worker', engine.backend, String(seconds)], {
    env,
    encoding: 'utf8',
    timeout: (seconds + 120) * 1000,
  });
  if (r.status !== 0) throw new Error(`${engine.label} failed: ${r.stderr || r.error}`);
  const out = JSON.parse(r.stdout);
  if (out.backend !== engine.backend) {
    throw new Error(
      `${engine.label}: asked for '${engine.backend}', ran on '${out.backend}' (is the addon built?)`,
    );
  }
  return out;
}

console.log(
  `LeNet-5 trainOnBatch, batch 128, on ${availableParallelism()} hardware threads; median step over ${seconds} s per cell.`,
);
try {
  for (let round = 1; round <= rounds; round++) {
    for (const n of busy === 0 ? [0] : [0, busy]) {
      startLoad(n);
      const res = {};
      for (const e of engines) res[e.label] = measure(e);
      stopLoad();
      const cells = engines.map(
        (e) =>
          `${e.label} ${res[e.label].stepsPerS.toFixed(1)} steps/s (${res[e.label].medianMs.toFixed(1)} ms)`,
      );
      const ratios = engines
        .filter((e) => e.label !== 'wasm')
        .map((e) => `${e.label}/wasm ${(res[e.label].stepsPerS / res.wasm.stepsPerS).toFixed(2)}x`);
      console.log(`round ${round}, ${n} busy: ${cells.join(', ')}; ${ratios.join(', ')}`);
    }
  }
} finally {
  stopLoad();
}
