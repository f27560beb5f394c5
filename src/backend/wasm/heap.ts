/**
 * The wasm backend's allocator for its linear memory: 64-byte aligned blocks in size classes
 * (four per power of two, so a block wastes at most a fifth of itself), one free list per class,
 * and a bump pointer that grows the memory when the lists are empty. Freed blocks are reused by
 * the next request of the same class and never coalesced: a training loop asks for the same
 * sizes step after step, so reuse is nearly perfect and fragmentation stays small. When the
 * bump pointer has reached the limit, a request takes the smallest free block of a larger class
 * instead: after training at one batch size, evaluation at another asks for other classes,
 * and the training's freed blocks must serve it (else its tensors spill into JS arrays and its
 * kernels lose their scratch).
 *
 * Tensors stop at `limitBytes`: past it, alloc returns -1 and the backend keeps the tensor in a
 * JS array instead (the garbage collector then sees the pressure, finalizers free wasm blocks,
 * and later tensors fit again), so the memory never grows without bound. Scratch for one kernel
 * call (`scratch = true`) may go on to `hardLimitBytes`, so that kernels still run in wasm
 * while the tensors overflow into JS arrays.
 */

const ALIGN = 64;
const PAGE = 65536;
/** How many times its own size a block given to a request of a smaller class may be. */
const LARGER_AT_MOST = 4;

/** The size class of n bytes (n > 0): index and block size. */
export function sizeClass(n: number): { index: number; bytes: number } {
  const units = Math.max(1, Math.ceil(n / ALIGN));
  if (units <= 4) return { index: units - 1, bytes: units * ALIGN };
  const e = Math.floor(Math.log2(units)); // 2^e ≤ units < 2^(e+1)
  const step = 2 ** (e - 2); // four classes between 2^e and 2^(e+1)
  const q = Math.ceil((units - 2 ** e) / step); // 0..4
  const size = 2 ** e + q * step;
  return { index: 4 + (e - 2) * 4 + q, bytes: size * ALIGN };
}

export class Heap {
  private readonly free: number[][] = [];
  private top: number;
  /** Bytes in blocks handed out and not yet freed. */
  inUse = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly limitBytes: number,
    private readonly hardLimitBytes = limitBytes,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** The end of the highest block handed out so far: how much memory the heap spans. */
  get highWater(): number {
    return this.top;
  }

  /**
   * A block of at least n bytes: [address, size-class index], or [-1, -1] when the memory cannot
   * grow that far (or past the limit). n = 0 gets a block too (every tensor has an address).
   */
  alloc(n: number, scratch = false): [number, number] {
    const { index, bytes } = sizeClass(n);
    const list = this.free[index];
    if (list && list.length > 0) {
      this.inUse += bytes;
      return [list.pop()!, index];
    }
    const end = this.top + bytes;
    const limit = scratch ? Math.max(this.limitBytes, this.hardLimitBytes) : this.limitBytes;
    if (end > limit) return this.larger(index);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        // Grow by at least an eighth, so that a growing model does not grow page by page.
        const pages = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 8));
        this.memory.grow(Math.max(1, Math.min(pages, Math.floor((limit - have) / PAGE))));
      } catch {
        return this.larger(index);
      }
      if (this.memory.buffer.byteLength < end) return this.larger(index);
    }
    const addr = this.top;
    this.top = end;
    this.inUse += bytes;
    return [addr, index];
  }

  /**
   * The smallest free block of a class above `index`, at most LARGER_AT_MOST times its size (a
   * small tensor must not hold a big block), or [-1, -1]. The block keeps its own class.
   */
  private larger(index: number): [number, number] {
    const most = classBytes(index) * LARGER_AT_MOST;
    for (let i = index + 1; i < this.free.length && classBytes(i) <= most; i++) {
      const list = this.free[i];
      if (list && list.length > 0) {
        this.inUse += classBytes(i);
        return [list.pop()!, i];
      }
    }
    return [-1, -1];
  }

  /** Returns a block from alloc to its free list. */
  release(addr: number, index: number): void {
    let list = this.free[index];
    if (!list) {
      list = [];
      this.free[index] = list;
    }
    list.push(addr);
    this.inUse -= classBytes(index);
  }
}

/** The block size of size class `index` (the inverse of sizeClass). */
export function classBytes(index: number): number {
  if (index < 4) return (index + 1) * ALIGN;
  const e = Math.floor((index - 4) / 4) + 2;
  const q = (index - 4) % 4;
  return (2 ** e + q * 2 ** (e - 2)) * ALIGN;
}
