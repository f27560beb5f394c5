/**
 * Explanations free what they make (no dispose()): on the wasm backend, whose tensors live in
 * wasm memory that the garbage collector does not see, the bytes in use are the same after
 * repeated calls of each explanation as after the first, and the results stay readable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendByName } from '../../src/backend/registry.js';
import type { WasmBackend } from '../../src/backend/wasm/wasm_backend.js';
import * as rc from '../../src/index.js';

const wasm = backendByName('wasm') as WasmBackend;

test('repeated explanations do not grow wasm memory', {
  skip: !wasm.resident && 'no shared memory',
}, async () => {
  const prev = rc.getBackend();
  rc.setBackend('wasm');
  try {
    rc.setSeed(6);
    const model = rc.models.lenet5();
    const x = rc.randomUniform([4, 28, 28, 1], { seed: 2 });
    const calls: [string, () => Promise<rc.Tensor>][] = [
      ['gradCam', async () => (await rc.vision.gradCam(model, x)).heatmap],
      [
        'gradCam++',
        async () => (await rc.vision.gradCam(model, x, { method: 'gradcam++' })).heatmap,
      ],
      [
        'saliency',
        async () => (await rc.vision.saliency(model, x, { smoothGrad: { samples: 3 } })).map,
      ],
      [
        'integratedGradients',
        async () => (await rc.vision.integratedGradients(model, x, { steps: 4 })).attributions,
      ],
      ['occlusion', async () => (await rc.vision.occlusion(model, x, { patch: 7, stride: 7 })).map],
      [
        'maximizeActivation',
        async () =>
          (await rc.vision.maximizeActivation(model, { layer: model.layers[1]!.name, steps: 3 }))
            .images,
      ],
    ];
    for (const [name, call] of calls) {
      // Warm-up: the backend keeps a few blocks for good over the first calls (its caches grow
      // to the sizes seen), then nothing grows.
      for (let i = 0; i < 3; i++) await call();
      const before = wasm.memoryUsage().inUseBytes;
      let last: rc.Tensor | undefined;
      for (let i = 0; i < 4; i++) last = await call();
      assert.equal(wasm.memoryUsage().inUseBytes, before, `${name} left blocks in use`);
      assert.ok(last!.dataSync().every(Number.isFinite), `${name}: the result is readable`);
    }
    for (const w of model.weights) assert.equal(w.grad, null);
  } finally {
    rc.setBackend(prev);
  }
});
