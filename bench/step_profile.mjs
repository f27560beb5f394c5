#!/usr/bin/env node
import { backend } from '../dist/backend/registry.js';
// Where a training step's time and memory go, per backend call:
//   npm run build && node bench/step_profile.mjs [--batch 64] [--steps 4] [--backend native]
// W6's step (ResNet-18 with the CIFAR stem, 32×32, SGD with momentum 0.9, trainOnBatch), a few
// times; the last step is profiled. Prints each step's time, the most tensor memory its scopes
// held (native: memoryUsage().peakScopeBytes), the process's RSS, JS heap and array buffers, then
// the last step's time per backend call, and what was live at its peak, by the call that made
// it. A profile, not a benchmark: the wrappers cost a little time, and nothing asserts.
import * as rc from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, d) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : d;
};
const batch = Number(arg('--batch', 64));
const steps = Math.max(2, Number(arg('--steps', 4)));
rc.setBackend(arg('--backend', 'native'));
const be = backend();

const times = new Map();
let on = false;
let current = 'other';
// Tensors the scopes hold (native: its wrap / freeStorage / unscope, private, wrapped here).
const live = new Map();
let liveBytes = 0;
let peak = 0;
let atPeak = null;
const names = new Set();
for (let p = Object.getPrototypeOf(be); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
  for (const k of Object.getOwnPropertyNames(p)) names.add(k);
const internal = new Set([
  'constructor',
  'v',
  'f32',
  'take',
  'out',
  'allocFloat',
  'conv',
  'poolGeometry',
]);
for (const k of names) {
  if (typeof be[k] !== 'function' || internal.has(k)) continue;
  const f = be[k].bind(be);
  if (k === 'wrap') {
    be[k] = (v, d) => {
      const s = f(v, d);
      if (s.scoped) {
        live.set(s, [v.byteLength, current]);
        liveBytes += v.byteLength;
        if (liveBytes > peak) {
          peak = liveBytes;
          if (on) atPeak = [...live.values()];
        }
      }
      return s;
    };
  } else if (k === 'freeStorage' || k === 'unscope') {
    be[k] = (s) => {
      const e = live.get(s);
      if (e) {
        liveBytes -= e[0];
        live.delete(s);
      }
      return f(s);
    };
  } else {
    be[k] = (...a) => {
      const prev = current;
      current = ['unary', 'binary', 'reduce'].includes(k) ? `${k}:${a[0]}` : k;
      const t = performance.now();
      try {
        return f(...a);
      } finally {
        if (on) {
          const e = times.get(current) ?? [0, 0];
          e[0] += performance.now() - t;
          e[1]++;
          times.set(current, e);
        }
        current = prev;
      }
    };
  }
}

rc.setSeed(1);
const model = rc.models.resnet18({ cifarStem: true, numClasses: 10 });
model.compile({
  optimizer: new rc.SGD({ learningRate: 0.01, momentum: 0.9 }),
  loss: 'sparseCategoricalCrossentropy',
});
const x = rc.randomUniform([batch, 32, 32, 3], { seed: 2 });
const y = rc.tensor(
  Int32Array.from({ length: batch }, (_, i) => i % 10),
  [batch],
  'int32',
);
const mib = (b) => (b / 2 ** 20).toFixed(0);
for (let s = 0; s < steps; s++) {
  on = s === steps - 1;
  peak = liveBytes;
  be.resetPeakMemory?.();
  const t = performance.now();
  model.trainOnBatch(x, y);
  const ms = performance.now() - t;
  const m = process.memoryUsage();
  const u = be.memoryUsage?.();
  console.log(
    `step ${s}: ${ms.toFixed(0)} ms; scopes' peak ${mib(u?.peakScopeBytes ?? peak)} MiB, pool ${mib(u?.pooledBytes ?? 0)} MiB; ` +
      `RSS ${mib(m.rss)} MiB (peak ${mib(process.resourceUsage().maxRSS * 1024)}), JS heap ${mib(m.heapUsed)}, array buffers ${mib(m.arrayBuffers)}`,
  );
}
const rows = [...times].sort((a, b) => b[1][0] - a[1][0]);
const total = rows.reduce((n, [, [t]]) => n + t, 0);
console.log(`\nlast step, ${total.toFixed(0)} ms in backend calls (ms, calls):`);
for (const [k, [t, c]] of rows.slice(0, 20))
  console.log(`  ${k.padEnd(24)} ${t.toFixed(1).padStart(8)} ${String(c).padStart(5)}`);
if (atPeak) {
  const by = new Map();
  for (const [b, op] of atPeak) {
    const e = by.get(op) ?? [0, 0];
    e[0] += b;
    e[1]++;
    by.set(op, e);
  }
  console.log(
    `\nlive at the last step's peak (${mib(peak)} MiB), by the call that made it (MiB, tensors):`,
  );
  for (const [op, [b, c]] of [...by].sort((a, b) => b[1][0] - a[1][0]))
    console.log(`  ${op.padEnd(24)} ${mib(b).padStart(6)} ${String(c).padStart(5)}`);
}
