#!/usr/bin/env node
// The WebGPU benchmark: bench/webgpu_page.ts in Chromium (Debian's, with WebGPU; on its software
// adapter, SwiftShader, where the machine has no GPU), receptive's webgpu backend beside
// TensorFlow.js's webgpu and webgl backends on the same adapter, in one run. Prints a table with
// ratios and writes bench/webgpu_results.json.
//   npm run bench -- --only webgpu            LeNet-5 training (W1), ResNet-18 inference (W3), conv (W4)
//   node bench/webgpu.mjs --only W4 --quick   fewer iterations, some workloads
// On a machine with a GPU, set CHROMIUM to a WebGPU-capable Chrome/Chromium: the same page runs there.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInChromium } from '../web/e2e/webgpu_page.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = arg('--only') && arg('--only') !== 'webgpu' ? arg('--only') : 'W1,W3,W4';
const q = new URLSearchParams({ only });
if (arg('--engines')) q.set('engines', arg('--engines'));
if (args.includes('--quick')) q.set('quick', '1');
const { result } = await runInChromium(join(here, 'webgpu_page.ts'), {
  query: `?${q}`,
  timeoutMs: 1_800_000,
  onLog: (l) => console.error(`  ${l}`),
});
const { adapter, results } = result;
console.log(
  `\nAdapter: ${adapter.vendor || '?'} / ${adapter.architecture || '?'} ${adapter.description ?? ''}`,
);
const cell = (r) => {
  if (!r) return '—';
  if (r.error) return `error: ${r.error}`;
  if (r.workload === 'W1') return `${r.imagesPerSecond.toFixed(1)} img/s`;
  if (r.workload === 'W3')
    return `b1 ${r.batch1.ms.toFixed(1)} ms, b8 ${r.batch8.imagesPerSecond.toFixed(1)} img/s`;
  return `${r.ms.toFixed(2)} ms (${r.forwardGflops.toFixed(1)} GFLOP/s)`;
};
/** receptive's speed over another engine's (above 1: receptive is faster). */
const ratio = (a, b) => {
  if (!a || !b || a.error || b.error) return '—';
  if (a.workload === 'W1') return (a.imagesPerSecond / b.imagesPerSecond).toFixed(2);
  if (a.workload === 'W3')
    return `${(b.batch1.ms / a.batch1.ms).toFixed(2)} / ${(a.batch8.imagesPerSecond / b.batch8.imagesPerSecond).toFixed(2)}`;
  return (b.ms / a.ms).toFixed(2);
};
const workloads = [...new Set(results.map((r) => r.workload))];
const engines = [...new Set(results.map((r) => r.engine))];
for (const w of workloads) {
  const row = (e) => results.find((r) => r.workload === w && r.engine === e);
  const mine = row('receptive-webgpu');
  console.log(`\n${w}`);
  for (const e of engines)
    console.log(
      `  ${e.padEnd(18)} ${cell(row(e)).padEnd(40)} ${e === 'receptive-webgpu' ? '' : `receptive ×${ratio(mine, row(e))}`}`,
    );
}
writeFileSync(
  join(here, 'webgpu_results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), adapter, results }, null, 2)}\n`,
);
