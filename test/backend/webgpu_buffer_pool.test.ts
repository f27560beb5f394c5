/**
 * The webgpu backend's buffer pool, in Node with a stand-in device (it only creates buffers):
 * sizes round up to buckets, a released buffer is reused only after the commands recorded
 * before its release were submitted (flushed), the counts add up, and past the cap released
 * buffers are destroyed rather than kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, bucketBytes } from '../../src/backend/webgpu/buffer_pool.js';

function fakeDevice() {
  const made: { size: number; destroyed: boolean }[] = [];
  const device = {
    createBuffer({ size }: { size: number }) {
      const b = {
        size,
        destroyed: false,
        destroy() {
          b.destroyed = true;
        },
      };
      made.push(b);
      return b;
    },
  };
  return { device: device as unknown as GPUDevice, made };
}

test('buckets: 16-byte steps to 4 KiB, then eighths of the next power of two; never below the request', () => {
  assert.equal(bucketBytes(0), 16);
  assert.equal(bucketBytes(1), 16);
  assert.equal(bucketBytes(17), 32);
  assert.equal(bucketBytes(4096), 4096);
  assert.equal(bucketBytes(4097), 5120);
  assert.equal(bucketBytes(5120), 5120);
  for (let b = 1; b < 1 << 22; b = Math.ceil(b * 1.37)) {
    const r = bucketBytes(b);
    assert.ok(r >= b && r <= Math.max(16, b * 1.25) + 16, `${b} → ${r}`);
  }
});

test('a released buffer comes back only after the flush; stats count live and pooled ones', () => {
  const { device, made } = fakeDevice();
  const pool = new BufferPool(device);
  const a = pool.acquire(1000);
  assert.equal(a.size, 1008);
  assert.deepEqual(pool.stats(), {
    liveBuffers: 1,
    liveBytes: 1008,
    pooledBuffers: 0,
    pooledBytes: 0,
  });
  pool.release(a);
  // Commands recorded before the release may still read it: not reusable yet.
  const b = pool.acquire(1000);
  assert.notEqual(b, a);
  assert.equal(made.length, 2);
  pool.flushed();
  const c = pool.acquire(1001);
  assert.equal(c, a, 'the same bucket, after the flush');
  assert.equal(made.length, 2);
  assert.deepEqual(pool.stats(), {
    liveBuffers: 2,
    liveBytes: 2016,
    pooledBuffers: 0,
    pooledBytes: 0,
  });
  pool.release(b);
  pool.release(c);
  pool.flushed();
  assert.deepEqual(pool.stats(), {
    liveBuffers: 0,
    liveBytes: 0,
    pooledBuffers: 2,
    pooledBytes: 2016,
  });
  // Another size makes a new buffer.
  assert.equal(pool.acquire(5000).size, bucketBytes(5000));
  assert.equal(made.length, 3);
});

test('past the cap, released buffers are destroyed instead of pooled', () => {
  const { device } = fakeDevice();
  const pool = new BufferPool(device);
  const big = Array.from({ length: 5 }, () => pool.acquire(100 * 1024 * 1024));
  for (const b of big) pool.release(b);
  pool.flushed();
  const s = pool.stats();
  assert.ok(s.pooledBytes <= 256 * 1024 * 1024 + 128 * 1024 * 1024, `${s.pooledBytes}`);
  assert.ok(big.some((b) => (b as unknown as { destroyed: boolean }).destroyed));
  assert.equal(s.liveBuffers, 0);
});
