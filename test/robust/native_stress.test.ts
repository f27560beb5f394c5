/**
 * A bounded randomized stress of the native addon (native_stress_child.ts: convolutions of
 * random geometries forward and backward, the fused paths, pooling, GEMM, Adam, activation
 * gradients, thread counts changed at random, every result against the js backend), in a child
 * process so that a heap corruption ("double free or corruption", a segfault) fails this test
 * instead of ending the runner. A few seconds; skipped where the addon is unavailable. For
 * longer runs under AddressSanitizer see native/README.md.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';

const load = loadNativeAddon();

test('native addon: randomized kernels for a few seconds, no crash, results as the js backend', {
  skip: load.addon ? false : `the native addon is not available: ${load.reason}`,
}, () => {
  const child = fileURLToPath(new URL('./native_stress_child.js', import.meta.url));
  const seed = String(1 + Math.floor(Math.random() * 1e6));
  const r = spawnSync(process.execPath, [child, '4', seed], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(
    r.status,
    0,
    `seed ${seed}: status ${r.status}, signal ${r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`,
  );
  assert.match(r.stdout, /^ok \d+ cases/m);
});
