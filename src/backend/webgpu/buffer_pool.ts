/**
 * GPU buffers, reused. Creating a GPUBuffer costs a driver call and zeroing; a training step
 * makes the same sizes again and again, so freed buffers wait in free lists keyed by their
 * (rounded) byte size and the next request of that size takes one.
 *
 * Ordering: commands are recorded into an encoder that is submitted later (flush). A buffer
 * released while such commands may still use it is not reusable until they are submitted:
 * release() parks it, flushed() makes the parked ones reusable. After that, any write into a
 * reused buffer (queue.writeBuffer or a later command) is ordered after the commands that read
 * it, because the queue runs submissions and writes in order.
 */
import { BufferUsage } from './gpu_constants.js';

/** Live and pooled buffers, for the memory benchmark and tests. */
export interface PoolStats {
  /** Buffers handed out and not yet released. */
  liveBuffers: number;
  /** Their bytes. */
  liveBytes: number;
  /** Buffers waiting in the free lists (or parked until the next submit). */
  pooledBuffers: number;
  /** Their bytes. */
  pooledBytes: number;
}

/** The size a request is rounded up to: 16-byte steps up to 4 KiB, then 1/8 of the power of two. */
export function bucketBytes(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 4096) return Math.ceil(b / 16) * 16;
  const step = 2 ** (Math.ceil(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

/** Pooled bytes kept at most; beyond it released buffers are destroyed. */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private parked: GPUBuffer[] = [];
  private live = 0;
  private liveBytes = 0;
  private pooled = 0;
  private pooledBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number = BufferUsage.STORAGE |
      BufferUsage.COPY_SRC |
      BufferUsage.COPY_DST,
  ) {}

  /** A buffer of at least `bytes` bytes (its contents are whatever it last held). */
  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) {
      this.pooled--;
      this.pooledBytes -= size;
    } else buf = this.device.createBuffer({ size, usage: this.usage });
    this.live++;
    this.liveBytes += size;
    return buf;
  }

  /** Gives a buffer back; reusable after the next flushed(). */
  release(buf: GPUBuffer): void {
    this.live--;
    this.liveBytes -= buf.size;
    this.parked.push(buf);
    this.pooled++;
    this.pooledBytes += buf.size;
  }

  /** The recorded commands were submitted: parked buffers become reusable. */
  flushed(): void {
    for (const buf of this.parked) {
      if (this.pooledBytes > MAX_POOLED_BYTES) {
        this.pooled--;
        this.pooledBytes -= buf.size;
        buf.destroy();
        continue;
      }
      let list = this.free.get(buf.size);
      if (!list) this.free.set(buf.size, (list = []));
      list.push(buf);
    }
    this.parked = [];
  }

  stats(): PoolStats {
    return {
      liveBuffers: this.live,
      liveBytes: this.liveBytes,
      pooledBuffers: this.pooled,
      pooledBytes: this.pooledBytes,
    };
  }
}
