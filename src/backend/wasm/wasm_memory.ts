/**
 * The wasm backend's memory, below its kernels (wasm_backend.ts): the module instance and its
 * linear memory, where tensors live (residency: blocks of heap.ts, promoted from JS arrays once
 * kernels read them often, demoted when handed to user code), step scopes that free a step's
 * tensors, scratch blocks for one call, the copies in and out where tensors are JS arrays, the
 * worker threads, and the profile of where time went.
 */
import { BackendError } from '../../util/errors.js';
import type { DType, Storage } from '../backend.js';
import type { NumArray } from '../js/arrays.js';
import { JsBackend, JsStorage } from '../js/js_backend.js';
import { freedTensorError, ScopeTracker } from '../shared/scopes.js';
import { checkThreadCount } from '../shared/threads.js';
import { Heap } from './heap.js';
import {
  buildSupported,
  compiledModule,
  type Kernels,
  type WasmVariant,
  wasmVariantSupported,
} from './module.js';
import { sharedMemorySupported, ThreadPool, type ThreadTask } from './thread_pool.js';

/**
 * Most wasm memory tensors take (wasm32 stops at 4 GB). Past it, new tensors are JS arrays until
 * the garbage collector has freed blocks (the collector does not see wasm memory, so dropped
 * models' weights wait for it); kernel scratch may go on up to the memory's maximum.
 */
const HEAP_LIMIT_BYTES = 2 * 2 ** 30;
const PAGE = 65536;
/**
 * Shared memory is created with this maximum (pages of 64 KB): it must be reserved up front.
 * Node: the whole 4 GB of wasm32; browsers: 1 GB, which 32-bit devices can still reserve.
 */
const SHARED_MAX_PAGES =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ===
  'string'
    ? 65536
    : 16384;
/**
 * Kernel calls with fewer multiply-adds than this stay on one thread: waking a worker costs
 * 5–100 µs, about what 1–4 MFLOP take on one thread.
 */
const MIN_PARALLEL_FLOPS = 4e6;
/** The exports a worker may be asked to run. */
const THREAD_EXPORTS = [
  'matmul',
  'gemm',
  'conv2dForward',
  'conv2dBackwardInput',
  'conv2dBackwardFilter',
  'unary',
  'activationGrad',
  'avgPool',
];

/**
 * Memory-bound kernels (elementwise, sums, pooling) run in wasm from this many output
 * elements; below it the copies cost more than they save and the JS paths run.
 */
const WASM_MIN_ELEMENTS = 2048;
/** The same for inputs already in wasm memory (no copies): only the call costs. */
const WASM_MIN_RESIDENT = 256;

/**
 * A JS-array tensor moves into wasm memory when wasm kernels read it this often: weights and
 * reused inputs move; a batch that a step reads twice (forward and the filter gradient) does
 * not, so it stays the garbage collector's.
 */
const PROMOTE_AFTER = 3;

/** Where a wasm backend's time went between startProfile() and stopProfile(). */
export interface WasmProfile {
  /** Milliseconds copying values between JS arrays and wasm memory (both ways). */
  copyMs: number;
  /** Milliseconds inside wasm kernels (wall time; threads overlap). */
  kernelMs: number;
  kernelCalls: number;
  copies: number;
}

/**
 * A float32 tensor of a wasm backend with shared memory: its values are either a view of a
 * block of the wasm memory (addr ≥ 0) or a JS array (addr = -1), which moves into wasm memory
 * once kernels have read it PROMOTE_AFTER times (weights, an input used every step).
 */
class WasmStorage extends JsStorage {
  /** Set when the block went back to the heap: any later use is a bug, reported loudly. */
  freed = false;
  /** How many wasm kernels read it while it was a JS array. */
  uses = 0;
  constructor(
    backend: WasmMemoryBackend,
    values: Float32Array,
    public addr: number,
    public block: number,
  ) {
    super(backend, values, 'float32');
  }
}

/** A heap block: address and size class. */
export type Block = [number, number];
export abstract class WasmMemoryBackend extends JsBackend {
  /** The build in use. */
  readonly variant: WasmVariant;
  /** Whether the kernels run on a shared memory, so that worker threads can join in. */
  readonly shared: boolean;
  /** Whether float32 tensors live in wasm memory (with shared memory, whose views never detach). */
  readonly resident: boolean;
  protected readonly module: WebAssembly.Module;
  protected readonly memory: WebAssembly.Memory;
  protected readonly k: Kernels;
  protected readonly heapAlloc: Heap;
  protected readonly gemmWs: number;
  protected heap: Float32Array;
  protected pool: ThreadPool | null = null;
  protected nThreads = 1;
  protected readonly minParallelFlops: number;
  protected prof: WasmProfile | null = null;
  /** Blocks of views handed out by allocFloat and not yet wrapped into a storage. */
  protected readonly blocks = new WeakMap<ArrayBufferView, Block>();
  /** Frees the block of a view the program no longer reaches. */
  protected readonly finalizer: FinalizationRegistry<Block>;
  /** Storages made inside each open scope (beginScope). */
  protected readonly scopes = new ScopeTracker<WasmStorage>();

  /**
   * variant: force a build (tests); by default the fastest one the engine accepts.
   * shared: use the shared-memory build (default: wherever shared memory exists).
   * threads: how many threads run the big kernels (default 1; see setThreads).
   * minParallelFlops: smallest call split over threads (tests set 0 to split every call).
   * heapLimitBytes: most wasm memory the heap may span (tests set it small to see tensors
   * fall back to JS arrays).
   */
  constructor(
    options: {
      variant?: WasmVariant;
      shared?: boolean;
      threads?: number;
      minParallelFlops?: number;
      heapLimitBytes?: number;
    } = {},
  ) {
    super();
    this.minParallelFlops = options.minParallelFlops ?? MIN_PARALLEL_FLOPS;
    const variant = options.variant ?? (wasmVariantSupported('relaxed') ? 'relaxed' : 'simd');
    if (!wasmVariantSupported(variant)) {
      throw new BackendError(
        variant === 'simd'
          ? "The 'wasm' backend needs WebAssembly with SIMD128 (Node ≥ 16.4, current browsers), which this engine lacks. Use setBackend('js')."
          : "The 'wasm' backend's relaxed-SIMD build does not validate on this engine; use the 'simd' variant.",
      );
    }
    this.variant = variant;
    this.shared =
      (options.shared ?? true) && sharedMemorySupported() && buildSupported(`${variant}-shared`);
    this.resident = this.shared;
    try {
      this.module = compiledModule(this.shared ? `${variant}-shared` : variant);
      if (this.shared) {
        this.memory = new WebAssembly.Memory({
          initial: 32,
          maximum: SHARED_MAX_PAGES,
          shared: true,
        });
        this.k = new WebAssembly.Instance(this.module, { env: { memory: this.memory } })
          .exports as unknown as Kernels;
      } else {
        this.k = new WebAssembly.Instance(this.module, {}).exports as unknown as Kernels;
        this.memory = this.k.memory;
      }
    } catch (e) {
      throw new BackendError(
        `The 'wasm' backend could not compile its kernels (${(e as Error).message}). Use setBackend('js').`,
      );
    }
    const hardLimit = (this.shared ? SHARED_MAX_PAGES : 65536) * PAGE - PAGE;
    const limit = Math.min(options.heapLimitBytes ?? HEAP_LIMIT_BYTES, hardLimit);
    this.heapAlloc = new Heap(this.memory, this.k.heapBase(), limit, hardLimit);
    const heapAlloc = this.heapAlloc;
    this.finalizer = new FinalizationRegistry<Block>(([addr, block]) =>
      heapAlloc.release(addr, block),
    );
    this.gemmWs = this.k.gemmWorkspaceBytes();
    this.heap = new Float32Array(this.memory.buffer);
    if (options.threads) this.setThreads(options.threads);
  }

  /** How many threads the big kernels run on. */
  get threads(): number {
    return this.nThreads;
  }

  /**
   * Runs GEMM and convolutions on n threads (this one and n − 1 workers sharing the module's
   * memory). Without shared memory (a browser page that is not cross-origin isolated) or
   * without workers, stays at one thread.
   */
  setThreads(n: number): void {
    checkThreadCount(n, BackendError);
    const want = n;
    if (want === this.nThreads) return;
    this.pool?.terminate();
    this.pool = null;
    this.nThreads = 1;
    if (want === 1 || !this.shared) return;
    try {
      this.pool = new ThreadPool(
        this.module,
        this.memory,
        want,
        (t) => this.runTask(t),
        THREAD_EXPORTS,
      );
      this.nThreads = want;
    } catch {
      // No worker support here: one thread.
    }
  }

  /** Waits until the worker threads have started (tests and benchmarks); false on timeout. */
  waitForThreads(timeoutMs?: number): boolean {
    return this.pool ? this.pool.waitReady(timeoutMs) : true;
  }

  /** Bytes of wasm memory in tensor and scratch blocks now, and the most the heap has spanned. */
  memoryUsage(): { inUseBytes: number; heapBytes: number; memoryBytes: number } {
    return {
      inUseBytes: this.heapAlloc.inUse,
      heapBytes: this.heapAlloc.highWater,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }

  // --- Storage ---------------------------------------------------------------------------

  /**
   * Float32 outputs of every kernel (the parent's too) come from here: inside a scope (a training
   * step, predict) a wasm block if it fits, else a JS array. Outside scopes tensors are JS arrays,
   * which the garbage collector frees as it goes even in a loop that never yields (finalizers,
   * which free blocks, only run when the event loop turns).
   */
  protected override allocFloat(size: number): Float32Array {
    if (this.resident && this.scopes.depth > 0) {
      const [addr, block] = this.heapAlloc.alloc(size * 4);
      if (addr >= 0) {
        const view = new Float32Array(this.memory.buffer, addr, size);
        this.blocks.set(view, [addr, block]);
        // The view, not the storage: a view that never becomes a storage is freed too.
        this.finalizer.register(view, [addr, block], view);
        return view;
      }
    }
    return new Float32Array(size);
  }

  protected override wrap(values: NumArray, dtype: DType = 'float32'): Storage {
    const b = this.blocks.get(values);
    if (b && dtype === 'float32') {
      this.blocks.delete(values);
      const s = new WasmStorage(this, values as Float32Array, b[0], b[1]);
      this.scopes.record(s);
      return s;
    }
    if (this.resident && dtype === 'float32' && values instanceof Float32Array) {
      return new WasmStorage(this, values, -1, -1);
    }
    return super.wrap(values, dtype);
  }

  /** Moves a JS-array storage into a wasm block (false when none fits). */
  protected promote(s: WasmStorage): boolean {
    const [addr, block] = this.heapAlloc.alloc(s.size * 4);
    if (addr < 0) return false;
    const view = new Float32Array(this.memory.buffer, addr, s.size);
    view.set(s.values as Float32Array);
    this.finalizer.register(view, [addr, block], view);
    s.values = view;
    s.addr = addr;
    s.block = block;
    return true;
  }

  /** Moves a storage's values out of wasm memory into a JS array, and frees its block. */
  protected demote(s: WasmStorage): void {
    if (s.addr < 0) return;
    const js = new Float32Array(s.size);
    js.set(s.values as Float32Array);
    this.finalizer.unregister(s.values);
    this.heapAlloc.release(s.addr, s.block);
    s.values = js;
    s.addr = -1;
  }

  protected override v(s: Storage): NumArray {
    if (s instanceof WasmStorage && s.freed) throw freedTensorError();
    return super.v(s);
  }

  /** Returns a storage's block to the heap now; later use of the tensor throws. */
  protected freeStorage(s: WasmStorage): void {
    if (s.freed || s.addr < 0) return;
    s.freed = true;
    this.finalizer.unregister(s.values);
    this.heapAlloc.release(s.addr, s.block);
  }

  /** Starts recording the tensors made from now on (see endScope). Scopes nest. */
  beginScope(): void {
    this.scopes.begin();
  }

  /**
   * Ends the innermost scope: frees every tensor made in it whose storage is not in `keep`, and
   * returns those that are. Kept tensors pass to the enclosing scope, or with `detach` (and no
   * enclosing scope) move into JS arrays, so that results handed to user code (predict's) are
   * the garbage collector's alone.
   */
  endScope(keep: Set<Storage>, detach = false): Storage[] {
    const kept = this.scopes.end(keep, (s) => this.freeStorage(s));
    if (this.scopes.depth === 0 && detach) for (const s of kept) this.demote(s);
    return kept;
  }

  scopeDepth(): number {
    return this.scopes.depth;
  }

  /** Frees storages now (ones a training step replaced); others' storages are ignored. */
  free(storages: Iterable<Storage>): void {
    for (const s of storages)
      if (s instanceof WasmStorage && s.backend === this) this.freeStorage(s);
  }

  // --- Scratch, copies and calls -----------------------------------------------------------

  /**
   * Scratch blocks for one kernel call, freed by `done()`; null when the memory cannot hold
   * them (the caller falls back to the js kernel).
   */
  protected temps(...bytes: number[]): { addrs: number[]; done: () => void } | null {
    const got: Block[] = [];
    const done = () => {
      for (const [a, b] of got) this.heapAlloc.release(a, b);
    };
    for (const n of bytes) {
      const blk = this.heapAlloc.alloc(n, true);
      if (blk[0] < 0) {
        done();
        return null;
      }
      got.push(blk);
    }
    return { addrs: got.map((g) => g[0]), done };
  }

  /** The heap view, renewed when the memory has grown. */
  protected heapView(): Float32Array {
    if (this.heap.byteLength !== this.memory.buffer.byteLength) {
      this.heap = new Float32Array(this.memory.buffer);
    }
    return this.heap;
  }

  /** Copies values into the heap at byte address addr. */
  protected put(addr: number, values: ArrayLike<number>): void {
    const t = this.prof ? performance.now() : 0;
    this.heapView().set(values, addr / 4);
    if (this.prof) {
      this.prof.copyMs += performance.now() - t;
      this.prof.copies++;
    }
  }

  /** Copies n floats at byte address addr into out at offset (faster than slice() in V8). */
  protected takeInto(out: Float32Array, offset: number, addr: number, n: number): void {
    const t = this.prof ? performance.now() : 0;
    out.set(this.heapView().subarray(addr / 4, addr / 4 + n), offset);
    if (this.prof) {
      this.prof.copyMs += performance.now() - t;
      this.prof.copies++;
    }
  }

  /**
   * Runs `run` with the wasm addresses of float32 inputs and of a fresh float32 output of outSize,
   * plus scratch blocks of the given sizes. Inputs that live in wasm memory are used where they
   * are; others are copied into scratch. The output is a tensor block when one fits, else
   * scratch copied out into a JS array. Returns null when even scratch does not fit (the caller
   * takes another path).
   */
  protected call(
    inputs: Storage[],
    outSize: number,
    scratch: number[],
    run: (ins: number[], out: number, scratch: number[]) => void,
  ): Storage | null {
    const r = this.callN(inputs, [outSize], scratch, (ins, [out], sc) => run(ins, out!, sc));
    return r ? r[0]! : null;
  }

  /** call() with several outputs. */
  protected callN(
    inputs: Storage[],
    outSizes: number[],
    scratch: number[],
    run: (ins: number[], outs: number[], scratch: number[]) => void,
  ): Storage[] | null {
    const ins = inputs.map((s) => {
      if (!(s instanceof WasmStorage)) return null;
      this.v(s); // freed? throw
      if (s.addr < 0 && ++s.uses >= PROMOTE_AFTER) this.promote(s);
      return s.addr >= 0 ? s : null;
    });
    const outs = outSizes.map((n) => this.allocFloat(n));
    const outBlocks = outs.map((o) => this.blocks.get(o));
    const sizes = inputs.map((s, i) => (ins[i] ? 0 : s.size * 4));
    const outTemp = outSizes.map((n, j) => (outBlocks[j] ? 0 : n * 4));
    const t = this.temps(...sizes, ...outTemp, ...scratch);
    if (!t) return null;
    try {
      const addrs = inputs.map((s, i) => {
        const r = ins[i];
        if (r) return r.addr;
        this.put(t.addrs[i]!, this.v(s));
        return t.addrs[i]!;
      });
      const outAddrs = outs.map((_, j) => outBlocks[j]?.[0] ?? t.addrs[inputs.length + j]!);
      run(addrs, outAddrs, t.addrs.slice(inputs.length + outs.length));
      outs.forEach((o, j) => {
        if (!outBlocks[j]) this.takeInto(o, 0, outAddrs[j]!, outSizes[j]!);
      });
    } finally {
      t.done();
    }
    return outs.map((o) => this.wrap(o));
  }

  /** Whether a memory-bound kernel should run in wasm: large enough to pay for its copies. */
  protected worthIt(inputs: Storage[], outSize: number): boolean {
    if (!inputs.every((s) => s.dtype === 'float32')) return false;
    const copies =
      inputs.some((s) => !(s instanceof WasmStorage) || s.addr < 0) || this.scopes.depth === 0;
    return outSize >= (copies ? WASM_MIN_ELEMENTS : WASM_MIN_RESIDENT);
  }

  startProfile(): void {
    this.prof = { copyMs: 0, kernelMs: 0, kernelCalls: 0, copies: 0 };
  }

  /** Stops counting and returns the totals since startProfile(). */
  stopProfile(): WasmProfile {
    const p = this.prof ?? { copyMs: 0, kernelMs: 0, kernelCalls: 0, copies: 0 };
    this.prof = null;
    return p;
  }

  /** Times one wasm kernel call when profiling. */
  protected timed(fn: () => void): void {
    if (!this.prof) {
      fn();
      return;
    }
    const t = performance.now();
    fn();
    this.prof.kernelMs += performance.now() - t;
    this.prof.kernelCalls++;
  }

  protected runTask(t: ThreadTask): void {
    (this.k[t.fn as keyof Kernels] as (...a: number[]) => void)(...t.args);
  }

  /** Runs the tasks on the pool (tasks[0] here), or all here when there is one. */
  protected parallel(tasks: ThreadTask[]): void {
    this.timed(() => {
      if (tasks.length === 1 || !this.pool) for (const t of tasks) this.runTask(t);
      else this.pool.run(tasks);
    });
  }

  /** How many threads a call of this many multiply-adds (×2) over `units` pieces should use. */
  protected threadsFor(flops: number, units: number): number {
    if (this.nThreads === 1 || flops < this.minParallelFlops) return 1;
    return Math.max(1, Math.min(this.nThreads, units));
  }
}
