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

test("native addon: strided 1×1 filter gradients on two threads (oneDNN 2.6's jit_1x1 corrupted the heap)", {
  skip: load.addon ? false : `the native addon is not available: ${load.reason}`,
}, () => {
  // Before, each of these ended the process within a few hundred calls ("double free or
  // corruption (out)", "corrupted size vs. prev_size", a segfault): native/src/conv.cc,
  // avoidJit1x1BackwardWeights.
  const addon = fileURLToPath(new URL('../../src/backend/native/native_addon.js', import.meta.url));
  const script = `
      const { loadNativeAddon } = await import(${JSON.stringify(addon)});
      const a = loadNativeAddon().addon;
      a.setThreads(2);
      for (const [b, H, C, s, O] of [[1, 21, 5, 3, 1], [1, 15, 1, 3, 4], [1, 21, 5, 3, 4]]) {
        const o = Math.floor((H - 1) / s) + 1;
        const geo = Int32Array.from([b, H, H, C, o, o, O, 1, 1, s, s, 1, 1, 0, 0, 0, 0, 1]);
        const x = new Float32Array(b * H * H * C).fill(1), dy = new Float32Array(b * o * o * O).fill(0.5);
        const dw = new Float32Array(C * O);
        for (let i = 0; i < 300; i++) a.conv2dBackwardFilter(x, dy, dw, geo);
        if (dw.some((v) => v !== b * o * o * 0.5)) throw new Error('wrong values ' + dw);
      }
      console.log('ok');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `status ${r.status}, signal ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.equal(r.stdout.trim(), 'ok');
});
