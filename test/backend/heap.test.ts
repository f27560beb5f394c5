/**
 * The wasm tensor heap: size classes cover every size with at most a fifth wasted, freed blocks
 * are reused by the next request of their class, the memory grows on demand, and the limit is
 * respected (alloc says -1 instead of growing past it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classBytes, Heap, sizeClass } from '../../src/backend/wasm/heap.js';

test('size classes: a block fits its request, wastes at most a fifth, and classes invert', () => {
  let lastIndex = -1;
  for (let n = 1; n < 5_000_000; n = Math.ceil(n * 1.07) + 1) {
    const { index, bytes } = sizeClass(n);
    assert.ok(bytes >= n, `class of ${n} holds only ${bytes}`);
    assert.ok(bytes <= Math.max(256, n * 1.25), `class of ${n} is ${bytes} bytes`);
    assert.equal(bytes % 64, 0);
    assert.equal(classBytes(index), bytes, `classBytes(${index})`);
    assert.ok(index >= lastIndex, 'classes grow with the request');
    lastIndex = index;
  }
});

test('freed blocks are reused; the memory grows on demand and stops at the limit', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 100 });
  const heap = new Heap(memory, 1000, 2 ** 20);
  const [a, ca] = heap.alloc(100_000);
  assert.ok(a >= 1000 && a % 64 === 0);
  assert.ok(memory.buffer.byteLength >= a + 100_000, 'grew to hold the block');
  const [b] = heap.alloc(100_000);
  assert.notEqual(a, b);
  heap.release(a, ca);
  assert.equal(heap.alloc(99_000)[0], a, 'same class: the freed block comes back');
  assert.equal(heap.inUse, 2 * classBytes(ca));
  assert.deepEqual(heap.alloc(2 ** 20), [-1, -1], 'past the limit');
  assert.equal(heap.alloc(10)[0] > 0, true, 'small blocks still fit');
});

test('at the limit, a request takes the smallest free block of a larger class, up to four times its size', () => {
  const memory = new WebAssembly.Memory({ initial: 20, maximum: 100 });
  const full = [400_000, 200_000, 300_000].reduce((t, n) => t + sizeClass(n).bytes, 0);
  const heap = new Heap(memory, 0, full);
  // Fill the heap with blocks of two classes, as training at one batch size leaves it.
  const [big, bigClass] = heap.alloc(400_000);
  const [mid, midClass] = heap.alloc(200_000);
  const [huge, hugeClass] = heap.alloc(300_000);
  assert.ok(big >= 0 && mid >= 0 && huge >= 0);
  heap.release(big, bigClass);
  heap.release(mid, midClass);
  heap.release(huge, hugeClass);
  const inUse = heap.inUse;
  // 100 KB has no free block of its class and no room left to grow: the smallest larger free
  // block (the 200 KB one) serves it, and keeps its class (so release puts it back there).
  const [a, ca] = heap.alloc(100_000);
  assert.equal(a, mid);
  assert.equal(ca, midClass);
  assert.equal(heap.inUse, inUse + classBytes(midClass));
  heap.release(a, ca);
  assert.equal(heap.inUse, inUse);
  // 40 KB: the free blocks are all more than four times its class: no block.
  assert.deepEqual(heap.alloc(40_000), [-1, -1]);
  // Below the limit the bump pointer still serves a new class first.
  const roomy = new Heap(new WebAssembly.Memory({ initial: 1, maximum: 100 }), 0, 4_000_000);
  const [b, cb] = roomy.alloc(400_000);
  roomy.release(b, cb);
  assert.notEqual(roomy.alloc(300_000)[0], b);
});
