#!/usr/bin/env node
// GPU memory over a long webgpu training run: node bench/webgpu_memory.mjs [--steps 20000] [--batch 8]
// LeNet-5 trains in Chromium (bench/webgpu_memory_page.ts); after every epoch the live GPU
// buffers (count, bytes) are printed. Exits 1 if they grow after the first epoch, or if the
// collector does not give back the buffers of tensors user code dropped.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInChromium } from '../web/e2e/webgpu_page.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, d) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : d;
};
const q = new URLSearchParams({
  steps: arg('--steps', '20000'),
  batch: arg('--batch', '8'),
  perEpoch: arg('--per-epoch', '500'),
});
const { result } = await runInChromium(join(here, 'webgpu_memory_page.ts'), {
  query: `?${q}`,
  // About 4.5 steps a second on SwiftShader: allow a second a step, and at least an hour.
  timeoutMs: Math.max(3_600_000, Number(q.get('steps')) * 1000),
  chromiumArgs: ['--js-flags=--expose-gc'],
  onLog: (l) => console.log(`  ${l}`),
});
if (result.error) {
  console.error(result.error);
  process.exit(1);
}
const { samples, userCode } = result;
const first = samples[0];
const grew = samples.filter(
  (s) => s.liveBuffers > first.liveBuffers || s.liveBytes > first.liveBytes,
);
console.log(
  `\n${result.steps} steps of ${result.batch} in ${result.seconds.toFixed(0)} s: live GPU buffers ${first.liveBuffers} (${(first.liveBytes / 1e6).toFixed(2)} MB) after the first epoch, ${samples.at(-1).liveBuffers} (${(samples.at(-1).liveBytes / 1e6).toFixed(2)} MB) at the end.`,
);
console.log(
  `User code: ${userCode.before.liveBuffers} live buffers before 2,000 dropped tensors, ${userCode.made.liveBuffers} after, ${userCode.collected.liveBuffers} after garbage collection${userCode.gc ? '' : ' (gc not exposed)'}.`,
);
let bad = false;
if (grew.length > 0) {
  console.error(
    `GPU memory grew: ${grew.map((s) => `step ${s.step}: ${s.liveBuffers}`).join(', ')}`,
  );
  bad = true;
}
if (userCode.gc && userCode.collected.liveBuffers > userCode.before.liveBuffers + 10) {
  console.error("the collector did not give back the dropped tensors' buffers");
  bad = true;
}
process.exit(bad ? 1 : 0);
