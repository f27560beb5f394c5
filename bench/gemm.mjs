#!/usr/bin/env node
// Kernel speed on one thread and on two: GEMM 1024³ and a 3×3 convolution 64 → 64 channels on 56×56 images,
// batch 8 (forward, backward-input, backward-filter), in GFLOP/s on each backend.
// Usage: npm run build && node bench/gemm.mjs [--quick]
// The relaxed-SIMD (FMA) build of the wasm kernels is measured too where the engine runs it
// (Node ≥ 22; Node 20 with --experimental-wasm-relaxed-simd).
// Timings are the best of several runs (the js reference runs once: it takes seconds).
import { availableParallelism, cpus } from 'node:os';
import { backendByName } from '../dist/backend/registry.js';
import { WasmBackend, wasmVariantSupported } from '../dist/backend/wasm/wasm_backend.js';

const quick = process.argv.includes('--quick');

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

function best(fn, reps) {
  fn(); // warm-up (and the wasm tier-up)
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

const backends = [['js', backendByName('js')]];
const threadCounts = [...new Set([1, 2, Math.min(availableParallelism(), 8)])];
for (const v of ['simd', 'relaxed']) {
  if (!wasmVariantSupported(v)) continue;
  for (const threads of threadCounts) {
    const be = new WasmBackend({ variant: v, threads });
    be.waitForThreads();
    backends.push([`wasm ${v} ${be.threads}t`, be]);
  }
}

console.log(`${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}\n`);

const N = 1024;
const a = random(N * N);
const b = random(N * N);
const flopsMM = 2 * N ** 3;

const conv = {
  batch: 8,
  inH: 56,
  inW: 56,
  inC: 64,
  outH: 56,
  outW: 56,
  outC: 64,
  kh: 3,
  kw: 3,
  strideH: 1,
  strideW: 1,
  dilationH: 1,
  dilationW: 1,
  padTop: 1,
  padLeft: 1,
  padBottom: 1,
  padRight: 1,
  groups: 1,
};
const x = random(8 * 56 * 56 * 64);
const w = random(3 * 3 * 64 * 64);
const dy = random(8 * 56 * 56 * 64);
const flopsConv = 2 * 8 * 56 * 56 * 64 * 64 * 9;

const rows = [];
for (const [name, be] of backends) {
  const reps = name === 'js' ? (quick ? 0 : 1) : quick ? 3 : 10;
  if (name === 'js' && quick) continue;
  const [sa, sb] = [be.write(a, 'float32'), be.write(b, 'float32')];
  const [sx, sw, sdy] = [be.write(x, 'float32'), be.write(w, 'float32'), be.write(dy, 'float32')];
  const gf = (flops, ms) => (flops / ms / 1e6).toFixed(1);
  const row = {
    backend: name,
    'gemm 1024³': gf(
      flopsMM,
      best(
        () => be.matmul(sa, sb, { batch: 1, m: N, n: N, k: N, transA: false, transB: false }),
        reps,
      ),
    ),
    'conv fwd': gf(
      flopsConv,
      best(() => be.conv2d(sx, sw, conv), reps),
    ),
    'conv bwd-input': gf(
      flopsConv,
      best(() => be.conv2dBackwardInput(sdy, sw, conv), reps),
    ),
    'conv bwd-filter': gf(
      flopsConv,
      best(() => be.conv2dBackwardFilter(sx, sdy, conv), reps),
    ),
  };
  rows.push(row);
  console.log(
    `${row.backend.padEnd(18)} GEMM 1024³ ${row['gemm 1024³'].padStart(6)} GFLOP/s   conv 3×3 64→64 56×56 b8: ` +
      `fwd ${row['conv fwd'].padStart(6)}  bwd-input ${row['conv bwd-input'].padStart(6)}  bwd-filter ${row['conv bwd-filter'].padStart(6)} GFLOP/s`,
  );
}
