/** The async readers, await x.data() and await x.array(), on every backend there is. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../src/index.js';

test('data() and array() resolve to what dataSync() and toArray() give, on every backend', async () => {
  const before = rc.getBackend();
  const names = rc.backendNames();
  assert.ok(names.includes('js') && names.includes('wasm'), names.join());
  try {
    for (const name of names) {
      // webgpu starts asynchronously, and in Node falls back to wasm (checked there).
      if ((await rc.setBackend(name)) !== name) continue;
      const x = rc.add(rc.tensor([1.5, -2, 3, 4.25, 5, 6], [2, 3]), rc.scalar(1));
      const flat = await x.data();
      assert.ok(flat instanceof Float32Array, name);
      assert.deepEqual([...flat], [2.5, -1, 4, 5.25, 6, 7], name);
      assert.deepEqual(await x.array(), [
        [2.5, -1, 4],
        [5.25, 6, 7],
      ]);
      // A copy: writing to it leaves the tensor alone.
      flat[0] = 99;
      assert.equal(x.dataSync()[0], 2.5, name);

      const ids = rc.argMax(x, -1);
      assert.equal(ids.dtype, 'int32');
      const idData = await ids.data();
      assert.ok(idData instanceof Int32Array, name);
      assert.deepEqual(await ids.array(), [2, 2], name);
      assert.equal(await rc.scalar(7).array(), 7, name);
      assert.deepEqual(await rc.zeros([2, 0, 3]).array(), [[], []], name);
      assert.deepEqual(await rc.zeros([1, 1, 2]).array(), rc.zeros([1, 1, 2]).toArray(), name);
    }
  } finally {
    await rc.setBackend(before);
  }
});
