/**
 * The page web/e2e/webgpu.mjs runs in Chromium: starts the webgpu backend, checks how its
 * tensors are read, then runs the conformance suite (conformance.test.ts and
 * conformance_conv.test.ts, the files Node runs, bundled with this folder's node:test and
 * node:assert) on it; the suite's webgpu target runs here and its other targets are skipped.
 * `?only=TEXT` in the page's address runs only the tests whose full name includes TEXT.
 * Each outcome is logged as it comes (`__outcome` and JSON); `globalThis.__result` gives them
 * all, with the adapter, or the reason WebGPU did not start.
 */
import assert from 'node:assert/strict';
import { backendByName } from '../../src/backend/registry.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu_backend.js';
import * as rc from '../../src/browser.js';
import { describe, run, test } from './node_test.js';

async function main() {
  const only = new URLSearchParams(location.search).get('only') ?? '';
  const started = await rc.setBackend('webgpu');
  if (started !== 'webgpu') {
    return { error: `WebGPU did not start in the page: setBackend('webgpu') gave '${started}'` };
  }
  const be = backendByName('webgpu') as WebGpuBackend;

  describe('webgpu in the page', () => {
    test('a computed tensor: dataSync() throws the BackendError that says to await; await t.data() reads it', async () => {
      assert.equal(rc.getBackend(), 'webgpu');
      const t = rc.add(rc.tensor([1, 2, 3], [3]), rc.tensor([10, 20, 30], [3]));
      assert.throws(
        () => t.dataSync(),
        (e: unknown) => e instanceof rc.BackendError && /await t\.data\(\)/.test(e.message),
      );
      assert.deepEqual(Array.from(await t.data()), [11, 22, 33]);
      assert.deepEqual(await t.array(), [11, 22, 33]);
    });

    test('values written from the CPU read synchronously', () => {
      assert.deepEqual(Array.from(rc.tensor([1.5, -2], [2]).dataSync()), [1.5, -2]);
    });
  });

  // Imported now, not statically: their targets see the started backend.
  await import('../backend/conformance.test.js');
  await import('../backend/conformance_conv.test.js');
  const { outcomes, filteredOut } = await run(only, (o) =>
    console.log(`__outcome ${JSON.stringify(o)}`),
  );
  return { adapter: be.adapter, outcomes, filteredOut };
}

(globalThis as { __result?: unknown }).__result = main().catch((e: unknown) => ({
  error: String((e as Error)?.stack ?? e),
}));
