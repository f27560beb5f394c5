/**
 * Training steps free their intermediate tensors themselves on the wasm backend (its tensors
 * live in wasm memory, which the garbage collector does not see): the heap's bytes in use come
 * back to the same number after every step, what a step keeps (weights, optimizer slots,
 * predict's result and its logits) stays readable, and a tensor used after its step freed it
 * throws a clear error instead of reading reused memory.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendByName } from '../../src/backend/registry.js';
import type { WasmBackend } from '../../src/backend/wasm/wasm_backend.js';
import * as rc from '../../src/index.js';
import { withBackend } from '../helpers.js';

const wasm = backendByName('wasm') as WasmBackend;

function data(n: number) {
  const x = rc.randomUniform([n, 28, 28, 1], { seed: 1 });
  const y = rc.tensor(
    Int32Array.from({ length: n }, (_, i) => i % 10),
    [n],
    'int32',
  );
  return { x, y };
}

describe('step scopes on the wasm backend', { skip: !wasm.resident && 'no shared memory' }, () => {
  test('trainOnBatch frees what it made: bytes in use are the same after every step', () => {
    withBackend('wasm', () => {
      rc.setSeed(3);
      const model = rc.models.lenet5();
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const { x, y } = data(16);
      model.trainOnBatch(x, y);
      model.trainOnBatch(x, y);
      const after2 = wasm.memoryUsage().inUseBytes;
      for (let i = 0; i < 10; i++) model.trainOnBatch(x, y);
      assert.equal(wasm.memoryUsage().inUseBytes, after2);
      // The weights are the latest ones and readable.
      for (const w of model.weights) assert.ok(Number.isFinite(w.dataSync()[0]!));
    });
  });

  test('fit and evaluate keep the weights and slots; predict keeps its result and logits', async () => {
    const prev = rc.getBackend();
    rc.setBackend('wasm');
    try {
      rc.setSeed(4);
      const model = rc.models.lenet5();
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const { x, y } = data(40);
      await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, validationSplit: 0.2 });
      const before = wasm.memoryUsage().inUseBytes;
      await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      // Not more (the garbage collector may free older blocks meanwhile: fit awaits between steps).
      assert.ok(wasm.memoryUsage().inUseBytes <= before, 'fit left blocks in use');
      await model.evaluate(x, y, { batchSize: 8 });
      const p = model.predict(x, { batchSize: 16 });
      assert.deepEqual(p.shape, [40, 10]);
      const row = Array.from(p.dataSync().slice(0, 10));
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      // In one batch, the softmax output carries its logits, which cross-entropy reads: kept too.
      const whole = model.predict(x, { batchSize: 64 });
      assert.ok(whole.logits, 'predict on a softmax output carries its logits');
      assert.ok(Number.isFinite(rc.softmaxCrossEntropy(whole.logits, y).item()));
      for (const t of model.optimizer!.slotTensors()) t.dataSync();
    } finally {
      rc.setBackend(prev);
    }
  });

  test('a tensor used after its scope freed it throws, naming the fix', () => {
    withBackend('wasm', () => {
      const keepMe = rc.ones([300]);
      wasm.beginScope();
      const a = rc.add(keepMe, 1);
      const b = rc.mul(a, 2);
      wasm.endScope(new Set([b.storage]));
      assert.deepEqual(Array.from(b.dataSync().slice(0, 2)), [4, 4]);
      assert.throws(
        () => a.dataSync(),
        /freed at the end of the training step .* dataSync\(\) or clone\(\)/,
      );
      assert.throws(() => rc.add(a, 1), /freed/);
      // Tensors made before the scope are untouched.
      assert.equal(keepMe.dataSync()[0], 1);
    });
  });

  test('scopes nest: what the inner scope keeps, the outer one frees unless kept', () => {
    withBackend('wasm', () => {
      const start = wasm.memoryUsage().inUseBytes;
      wasm.beginScope();
      wasm.beginScope();
      const inner = rc.ones([1000]);
      const dropped = rc.zeros([1000]);
      wasm.endScope(new Set([inner.storage]));
      assert.throws(() => dropped.dataSync(), /freed/);
      assert.equal(inner.dataSync()[0], 1);
      wasm.endScope(new Set());
      assert.throws(() => inner.dataSync(), /freed/);
      assert.equal(wasm.memoryUsage().inUseBytes, start);
    });
  });
});
