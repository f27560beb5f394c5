/**
 * The WebAssembly backend: SIMD128 kernels compiled from AssemblyScript (./assembly/, built by
 * `npm run build:wasm`) for GEMM, convolutions (im2col + packed GEMM; depthwise on its own),
 * the common elementwise ops, sums over axes and pooling; every other kernel is the js
 * backend's (this class extends JsBackend).
 *
 * Storage. With shared memory (always in Node; in browsers, cross-origin-isolated pages) float32
 * tensors live in blocks of the module's linear memory (heap.ts): a storage is a Float32Array
 * view of its block, so wasm kernels read and write tensors where they are, and the inherited
 * JS kernels (allocFloat, v) work on the same views unchanged: no copies between kernels
 * (bench/copy_share.mjs measures 0 on LeNet-5 and VGG13-CIFAR training steps). Blocks are
 * freed deterministically by the training loop's step scopes (beginScope / endScope / free,
 * used by train/step_scope.ts), and by a FinalizationRegistry for everything else, so users
 * never dispose(). Past HEAP_LIMIT_BYTES new tensors are JS arrays until blocks come back.
 * Without shared memory (views of a non-shared memory detach when it grows) tensors stay JS
 * arrays, and each kernel copies its inputs into scratch blocks and its output back out; the
 * memory-bound kernels then pay for the copies only from WASM_MIN_ELEMENTS outputs on, and
 * otherwise (or for the broadcasts, ops and dtypes the wasm kernels do not cover) take the
 * single-loop JS paths of shared/fast_js.ts, then the reference.
 * Results: GEMM and convolutions sum in another order than the reference (float32 differences
 * of ~1e-7 relative); elementwise ops, sums and pooling are bit-identical; tanh is a rational
 * approximation within 1e-6.
 *
 * Threads: GEMM and convolutions split over setThreads(n) threads (thread_pool.ts), by rows,
 * images or matrices; the split depends only on the thread count, so results repeat exactly.
 *
 * Loading: the module bytes are embedded as base64 (kernels_wasm.generated.ts) and compiled
 * synchronously with `new WebAssembly.Module`, which Node allows for any size. Browsers refuse
 * synchronous compilation of large modules on the main thread (Chrome's limit was 4 KB, later
 * raised to 8 MB); these modules are about 11 KB. If compilation is refused, the constructor
 * throws a BackendError and the default backend falls back to 'js'.
 *
 * Where the engine validates relaxed SIMD (Node ≥ 22, Chrome ≥ 114; Node 20 only with
 * --experimental-wasm-relaxed-simd), the build whose GEMM uses fused multiply-add is chosen;
 * its last bits can differ from the mul + add build's.
 */
import { BackendError } from '../../util/errors.js';
import { sizeOf } from '../../util/shape.js';
import type {
  ActivationGradOp,
  AdamScalars,
  BinaryOp,
  ConvInfo,
  DType,
  MatmulInfo,
  PoolInfo,
  ReduceOp,
  Storage,
  UnaryOp,
} from '../backend.js';
import type { NumArray } from '../js/arrays.js';
import { JsBackend, JsStorage } from '../js/js_backend.js';
import * as fast from '../shared/fast_js.js';
import { CONV_FIELDS, POOL_FIELDS, packConv, packPool } from '../shared/geometry.js';
import { freedTensorError, ScopeTracker } from '../shared/scopes.js';
import { checkThreadCount } from '../shared/threads.js';
import { Heap } from './heap.js';
import {
  KERNELS_RELAXED_BASE64,
  KERNELS_RELAXED_SHARED_BASE64,
  KERNELS_SIMD_BASE64,
  KERNELS_SIMD_SHARED_BASE64,
} from './kernels_wasm.generated.js';
import { sharedMemorySupported, ThreadPool, type ThreadTask } from './thread_pool.js';

/** The kernel module's exports (src/backend/wasm/assembly/index.ts). Addresses are bytes. */
interface Kernels {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  gemmWorkspaceBytes(): number;
  matmul(
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    a: number,
    b: number,
    c: number,
    ws: number,
  ): void;
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    c: number,
    ldc: number,
    accumulate: number,
    ws: number,
  ): void;
  addInto(dst: number, src: number, n: number): void;
  activationGrad(op: number, dy: number, v: number, out: number, n: number): void;
  adamUpdate(
    n: number,
    p: number,
    g: number,
    m: number,
    v: number,
    vMax: number,
    pOut: number,
    mOut: number,
    vOut: number,
    vMaxOut: number,
    b1: number,
    b2: number,
    c1: number,
    c2: number,
    eps: number,
    sqrtBias2: number,
    stepSize: number,
  ): void;
  conv2dForward(
    info: number,
    x: number,
    w: number,
    y: number,
    ws: number,
    chunk: number,
    r0: number,
    r1: number,
  ): void;
  binary(
    op: number,
    a: number,
    b: number,
    out: number,
    outer: number,
    aO: number,
    bO: number,
    inner: number,
    aI: number,
    bI: number,
  ): void;
  unary(op: number, x: number, out: number, n: number): void;
  sum2d(x: number, outer: number, inner: number, overOuter: number, out: number): void;
  avgPool(info: number, x: number, y: number, backward: number): void;
  maxPool(info: number, x: number, dy: number, out: number): void;
  conv2dBackwardInput(
    info: number,
    dy: number,
    w: number,
    dx: number,
    ws: number,
    chunk: number,
    r0: number,
    r1: number,
  ): void;
  conv2dBackwardFilter(
    info: number,
    x: number,
    dy: number,
    dw: number,
    ws: number,
    chunk: number,
    r0: number,
    r1: number,
  ): void;
}

/** Which build of the kernels to load: 'relaxed' (FMA) if the engine accepts it, else 'simd'. */
export type WasmVariant = 'simd' | 'relaxed';

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** A build: its instruction set, and whether it imports a shared memory (for threads). */
type Build = `${WasmVariant}${'' | '-shared'}`;
const BASE64: Record<Build, string> = {
  simd: KERNELS_SIMD_BASE64,
  relaxed: KERNELS_RELAXED_BASE64,
  'simd-shared': KERNELS_SIMD_SHARED_BASE64,
  'relaxed-shared': KERNELS_RELAXED_SHARED_BASE64,
};
const bytesCache = new Map<Build, Uint8Array<ArrayBuffer>>();
const moduleCache = new Map<Build, WebAssembly.Module>();
const validCache = new Map<Build, boolean>();

function buildBytes(b: Build): Uint8Array<ArrayBuffer> {
  let bytes = bytesCache.get(b);
  if (!bytes) {
    bytes = decodeBase64(BASE64[b]);
    bytesCache.set(b, bytes);
  }
  return bytes;
}

function buildSupported(b: Build): boolean {
  let ok = validCache.get(b);
  if (ok === undefined) {
    try {
      ok = typeof WebAssembly === 'object' && WebAssembly.validate(buildBytes(b));
    } catch {
      ok = false;
    }
    validCache.set(b, ok);
  }
  return ok;
}

/** Whether this engine can run the given build (validates the module itself). */
export function wasmVariantSupported(v: WasmVariant): boolean {
  return buildSupported(v);
}

/** Whether the wasm backend can run here at all (WebAssembly with SIMD128). */
export function wasmSupported(): boolean {
  return wasmVariantSupported('simd');
}

function compiledModule(b: Build): WebAssembly.Module {
  let m = moduleCache.get(b);
  if (!m) {
    m = new WebAssembly.Module(buildBytes(b));
    moduleCache.set(b, m);
  }
  return m;
}

/** Rows of im2col matrix per chunk: about 1 MB of columns, at least 4 rows. */
const COL_CHUNK_FLOATS = 1 << 18;
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
  'avgPool',
];

/**
 * Memory-bound kernels (elementwise, sums, pooling) run in wasm from this many output
 * elements; below it the copies cost more than they save and the JS paths run.
 */
const WASM_MIN_ELEMENTS = 2048;
/** The same for inputs already in wasm memory (no copies): only the call costs. */
const WASM_MIN_RESIDENT = 256;

/** Operations a tanh value costs, as the thread split counts them (threadsFor). */
const TANH_FLOPS = 30;
/** The same for an input value of average pooling (float64 conversions and sums). */
const POOL_FLOPS = 10;
/**
 * A JS-array tensor moves into wasm memory when wasm kernels read it this often: weights and
 * reused inputs move; a batch that a step reads twice (forward and the filter gradient) does
 * not, so it stays the garbage collector's.
 */
const PROMOTE_AFTER = 3;

/** Op codes of assembly/elementwise.ts; ops not listed take the JS paths. */
const BINARY_CODES: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
};
const ACTIVATION_GRAD_CODES: Record<ActivationGradOp, number> = { relu: 0, tanh: 1, sigmoid: 2 };
const UNARY_CODES: Partial<Record<UnaryOp, number>> = {
  neg: 0,
  abs: 1,
  square: 2,
  relu: 3,
  step: 4,
  sqrt: 5,
  tanh: 6,
};

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
    backend: WasmBackend,
    values: Float32Array,
    public addr: number,
    public block: number,
  ) {
    super(backend, values, 'float32');
  }
}

/** A heap block: address and size class. */
type Block = [number, number];

export class WasmBackend extends JsBackend {
  override readonly name = 'wasm';
  /** The build in use. */
  readonly variant: WasmVariant;
  /** Whether the kernels run on a shared memory, so that worker threads can join in. */
  readonly shared: boolean;
  /** Whether float32 tensors live in wasm memory (with shared memory, whose views never detach). */
  readonly resident: boolean;
  private readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory;
  private readonly k: Kernels;
  private readonly heapAlloc: Heap;
  private readonly gemmWs: number;
  private heap: Float32Array;
  private pool: ThreadPool | null = null;
  private nThreads = 1;
  private readonly minParallelFlops: number;
  private prof: WasmProfile | null = null;
  /** Blocks of views handed out by allocFloat and not yet wrapped into a storage. */
  private readonly blocks = new WeakMap<ArrayBufferView, Block>();
  /** Frees the block of a view the program no longer reaches. */
  private readonly finalizer: FinalizationRegistry<Block>;
  /** Storages made inside each open scope (beginScope). */
  private readonly scopes = new ScopeTracker<WasmStorage>();

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
  private promote(s: WasmStorage): boolean {
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
  private demote(s: WasmStorage): void {
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
  private freeStorage(s: WasmStorage): void {
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
  private temps(...bytes: number[]): { addrs: number[]; done: () => void } | null {
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
  private heapView(): Float32Array {
    if (this.heap.byteLength !== this.memory.buffer.byteLength) {
      this.heap = new Float32Array(this.memory.buffer);
    }
    return this.heap;
  }

  /** Copies values into the heap at byte address addr. */
  private put(addr: number, values: ArrayLike<number>): void {
    const t = this.prof ? performance.now() : 0;
    this.heapView().set(values, addr / 4);
    if (this.prof) {
      this.prof.copyMs += performance.now() - t;
      this.prof.copies++;
    }
  }

  /** Copies n floats at byte address addr into out at offset (faster than slice() in V8). */
  private takeInto(out: Float32Array, offset: number, addr: number, n: number): void {
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
  private call(
    inputs: Storage[],
    outSize: number,
    scratch: number[],
    run: (ins: number[], out: number, scratch: number[]) => void,
  ): Storage | null {
    const r = this.callN(inputs, [outSize], scratch, (ins, [out], sc) => run(ins, out!, sc));
    return r ? r[0]! : null;
  }

  /** call() with several outputs. */
  private callN(
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
  private worthIt(inputs: Storage[], outSize: number): boolean {
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
  private timed(fn: () => void): void {
    if (!this.prof) {
      fn();
      return;
    }
    const t = performance.now();
    fn();
    this.prof.kernelMs += performance.now() - t;
    this.prof.kernelCalls++;
  }

  private runTask(t: ThreadTask): void {
    (this.k[t.fn as keyof Kernels] as (...a: number[]) => void)(...t.args);
  }

  /** Runs the tasks on the pool (tasks[0] here), or all here when there is one. */
  private parallel(tasks: ThreadTask[]): void {
    this.timed(() => {
      if (tasks.length === 1 || !this.pool) for (const t of tasks) this.runTask(t);
      else this.pool.run(tasks);
    });
  }

  /** How many threads a call of this many multiply-adds (×2) over `units` pieces should use. */
  private threadsFor(flops: number, units: number): number {
    if (this.nThreads === 1 || flops < this.minParallelFlops) return 1;
    return Math.max(1, Math.min(this.nThreads, units));
  }

  // --- Kernels -------------------------------------------------------------------------------

  override unary(op: UnaryOp, x: Storage): Storage {
    const code = UNARY_CODES[op];
    if (code !== undefined && this.worthIt([x], x.size)) {
      const n = x.size;
      // tanh costs some 30 operations a value (a rational function): big ones are split over
      // the threads like the GEMM (LeNet's first layer: 442,368 values a step).
      const threads = op === 'tanh' ? this.threadsFor(n * TANH_FLOPS, Math.ceil(n / 4096)) : 1;
      const r = this.call([x], n, [], ([px], out) => {
        if (threads <= 1) this.timed(() => this.k.unary(code, px!, out, n));
        else {
          this.parallel(
            split(n, threads, 16).map(([i0, i1]) => ({
              fn: 'unary',
              args: [code, px! + i0 * 4, out + i0 * 4, i1 - i0],
            })),
          );
        }
      });
      if (r) return r;
    }
    const out = this.allocFloat(x.size);
    if (fast.unary(op, this.v(x), out)) return this.wrap(out);
    return super.unary(op, x);
  }

  override binary(
    op: BinaryOp,
    a: Storage,
    aShape: number[],
    b: Storage,
    bShape: number[],
    outShape: number[],
  ): Storage {
    const size = sizeOf(outShape);
    const code = BINARY_CODES[op];
    const g = fast.broadcast2d(aShape, bShape, outShape);
    if (code !== undefined && g && this.worthIt([a, b], size)) {
      const r =
        this.rowPatternBinary(code, a, b, size, g) ??
        this.call([a, b], size, [], ([pa, pb], out) =>
          this.timed(() => this.k.binary(code, pa!, pb!, out, ...g)),
        );
      if (r) return r;
    }
    if (a.dtype === 'float32' && b.dtype === 'float32') {
      const out = this.allocFloat(size);
      if (fast.binary(op, this.v(a), aShape, this.v(b), bShape, outShape, out)) {
        return this.wrap(out);
      }
    }
    return super.binary(op, a, aShape, b, bShape, outShape);
  }

  /**
   * A short row repeated down every row of the other operand (a bias over 6 or 16 channels):
   * the kernel would run one short row at a time, so the row is repeated k times into a
   * pattern of a multiple of 4 floats (about 64) and the kernel runs outer / k rows of that.
   * The same operations on the same values; null where the shapes are not of this kind.
   */
  private rowPatternBinary(
    code: number,
    a: Storage,
    b: Storage,
    size: number,
    [outer, aO, bO, inner, aI, bI]: [number, number, number, number, number, number],
  ): Storage | null {
    const aRow = aO === 0 && aI === 1 && bI === 1 && bO === inner;
    const bRow = bO === 0 && bI === 1 && aI === 1 && aO === inner;
    if (!aRow && !bRow) return null;
    const k = fast.rowRepeat(outer, inner);
    if (k === 0) return null;
    const row = this.v(aRow ? a : b);
    const pattern = new Float32Array(k * inner);
    for (let i = 0; i < k; i++) pattern.set(row.subarray(0, inner), i * inner);
    return this.call([a, b], size, [pattern.length * 4], ([pa, pb], out, [pp]) => {
      this.heapView().set(pattern, pp! / 4);
      this.timed(() =>
        aRow
          ? this.k.binary(code, pp!, pb!, out, outer / k, 0, bO * k, inner * k, 1, 1)
          : this.k.binary(code, pa!, pp!, out, outer / k, aO * k, 0, inner * k, 1, 1),
      );
    });
  }

  override reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
    if (op === 'sum' && x.dtype === 'float32') {
      const size = sizeOf(shape.filter((_, i) => !axes.includes(i)));
      const pat = fast.sumPattern(shape, axes);
      if (pat && size > 0 && this.worthIt([x], x.size)) {
        const r = this.call([x], size, [], ([px], out) =>
          this.timed(() => this.k.sum2d(px!, pat.outer, pat.inner, pat.overOuter ? 1 : 0, out)),
        );
        if (r) return r;
      }
      const out = this.allocFloat(size);
      if (fast.reduceSum(this.v(x), shape, axes, out)) return this.wrap(out);
    }
    return super.reduce(op, x, shape, axes);
  }

  /** An activation's gradient in one pass (assembly/elementwise.ts); the same values as the ops. */
  activationGrad(op: ActivationGradOp, dy: Storage, v: Storage): Storage | null {
    const n = dy.size;
    if (v.size !== n || !this.worthIt([dy, v], n)) return null;
    return this.call([dy, v], n, [], ([pd, pv], out) =>
      this.timed(() => this.k.activationGrad(ACTIVATION_GRAD_CODES[op], pd!, pv!, out, n)),
    );
  }

  /** One Adam step in one pass over memory (assembly/adam.ts); the same values as the ops. */
  adamUpdate(
    p: Storage,
    g: Storage,
    m: Storage,
    v: Storage,
    vMax: Storage | null,
    h: AdamScalars,
  ): { p: Storage; m: Storage; v: Storage; vMax: Storage | null } | null {
    const ins = vMax ? [p, g, m, v, vMax] : [p, g, m, v];
    const n = p.size;
    if (ins.some((s) => s.size !== n || s.dtype !== 'float32')) return null;
    const outs = this.callN(ins, Array<number>(vMax ? 4 : 3).fill(n), [], (a, o) =>
      this.timed(() =>
        this.k.adamUpdate(
          n,
          a[0]!,
          a[1]!,
          a[2]!,
          a[3]!,
          vMax ? a[4]! : 0,
          o[0]!,
          o[1]!,
          o[2]!,
          vMax ? o[3]! : 0,
          h.beta1,
          h.beta2,
          1 - h.beta1,
          1 - h.beta2,
          h.epsilon,
          h.sqrtBias2,
          h.stepSize,
        ),
      ),
    );
    if (!outs) return null;
    return { p: outs[0]!, m: outs[1]!, v: outs[2]!, vMax: vMax ? outs[3]! : null };
  }

  /** Pool geometry as the i32 fields of PoolGeo (assembly/pool.ts), written at addr. */
  private putPool(addr: number, p: PoolInfo): void {
    packPool(p, new Int32Array(this.memory.buffer, addr, POOL_FIELDS.length));
  }

  /** A pooling kernel through wasm (geometry in a scratch block), or null. */
  private pool2d(
    inputs: Storage[],
    outSize: number,
    info: PoolInfo,
    run: (ins: number[], out: number, geo: number) => void,
  ): Storage | null {
    if (!this.worthIt(inputs, outSize)) return null;
    return this.call(inputs, outSize, [POOL_FIELDS.length * 4], (ins, out, [geo]) => {
      this.putPool(geo!, info);
      this.timed(() => run(ins, out, geo!));
    });
  }

  /**
   * Average pooling or its gradient, the batch split over the worker threads (images are
   * independent; each piece gets its own geometry block).
   */
  private avgPoolSplit(
    input: Storage,
    outSize: number,
    info: PoolInfo,
    backward: boolean,
  ): Storage | null {
    if (!this.worthIt([input], outSize)) return null;
    const inImage = info.inH * info.inW * info.channels;
    const outImage = info.outH * info.outW * info.channels;
    const threads = this.threadsFor(info.batch * inImage * POOL_FLOPS, info.batch);
    const runs = split(info.batch, threads);
    const geoBytes = POOL_FIELDS.length * 4;
    return this.call(
      [input],
      outSize,
      runs.map(() => geoBytes),
      ([pin], out, geos) => {
        const tasks = runs.map(([b0, b1], t) => {
          this.putPool(geos[t]!, { ...info, batch: b1 - b0 });
          const [x, y] = backward
            ? [out + b0 * inImage * 4, pin! + b0 * outImage * 4]
            : [pin! + b0 * inImage * 4, out + b0 * outImage * 4];
          return { fn: 'avgPool', args: [geos[t]!, x, y, backward ? 1 : 0] };
        });
        this.parallel(tasks);
      },
    );
  }

  override avgPool(x: Storage, info: PoolInfo): Storage {
    const size = info.batch * info.outH * info.outW * info.channels;
    const r = this.avgPoolSplit(x, size, info, false);
    if (r) return r;
    const out = this.allocFloat(size);
    fast.avgPool(this.v(x), info, out);
    return this.wrap(out);
  }

  override avgPoolBackward(dy: Storage, info: PoolInfo): Storage {
    const size = info.batch * info.inH * info.inW * info.channels;
    const r = this.avgPoolSplit(dy, size, info, true);
    if (r) return r;
    const out = this.allocFloat(size);
    fast.avgPoolBackward(this.v(dy), info, out);
    return this.wrap(out);
  }

  override maxPool(x: Storage, info: PoolInfo): Storage {
    const size = info.batch * info.outH * info.outW * info.channels;
    const r = this.pool2d([x], size, info, ([px], out, geo) => this.k.maxPool(geo, px!, 0, out));
    if (r) return r;
    const out = this.allocFloat(size);
    fast.maxPool(this.v(x), info, out);
    return this.wrap(out);
  }

  override maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage {
    const r = this.pool2d([x, dy], x.size, info, ([px, pdy], out, geo) =>
      this.k.maxPool(geo, px!, pdy!, out),
    );
    if (r) return r;
    const out = this.allocFloat(x.size);
    fast.maxPoolBackward(this.v(dy), this.v(x), info, out);
    return this.wrap(out);
  }

  override matmul(a: Storage, b: Storage, info: MatmulInfo): Storage {
    const { batch, m, n, k, transA, transB } = info;
    const [aMat, bMat, cMat] = [m * k, k * n, m * n];
    const threads = this.threadsFor(2 * batch * m * n * k, Math.max(batch, m, n));
    // Element strides of A and B (row, column) for gemm.
    const [rsA, csA] = transA ? [1, m] : [k, 1];
    const [rsB, csB] = transB ? [1, k] : [n, 1];
    const ws = Array<number>(threads).fill(this.gemmWs);
    const r = this.call([a, b], batch * cMat, ws, ([pa, pb], pc, wsAddrs) => {
      const tasks: ThreadTask[] = [];
      if (threads === 1 || batch >= threads) {
        // Whole matrices per thread.
        split(batch, threads).forEach(([i0, i1], t) => {
          tasks.push({
            fn: 'matmul',
            args: [
              i1 - i0,
              m,
              n,
              k,
              transA ? 1 : 0,
              transB ? 1 : 0,
              pa! + i0 * aMat * 4,
              pb! + i0 * bMat * 4,
              pc + i0 * cMat * 4,
              wsAddrs[t]!,
            ],
          });
        });
        this.parallel(tasks);
        return;
      }
      // Fewer matrices than threads: split each by rows (or columns, when C is wide and short).
      const byRows = m >= n;
      for (let i = 0; i < batch; i++) {
        tasks.length = 0;
        const [ai, bi, ci] = [pa! + i * aMat * 4, pb! + i * bMat * 4, pc + i * cMat * 4];
        split(byRows ? m : n, threads, byRows ? 4 : 8).forEach(([x0, x1], t) => {
          const [r0, r1, c0, c1] = byRows ? [x0, x1, 0, n] : [0, m, x0, x1];
          tasks.push({
            fn: 'gemm',
            args: [
              r1 - r0,
              c1 - c0,
              k,
              ai + r0 * rsA * 4,
              rsA,
              csA,
              bi + c0 * csB * 4,
              rsB,
              csB,
              ci + (r0 * n + c0) * 4,
              n,
              0,
              wsAddrs[t]!,
            ],
          });
        });
        this.parallel(tasks);
      }
    });
    return r ?? super.matmul(a, b, info);
  }

  /**
   * Runs one convolution kernel split over the threads by output pixels (backward input: by
   * whole images, unless the convolution is pointwise; backward filter: each thread sums into
   * its own dw, added up here). Scratch: the geometry, and per thread a GEMM workspace with a
   * column buffer. Returns null when the memory cannot hold it (the caller runs the js kernel).
   */
  private conv(
    c: ConvInfo,
    inputs: [Storage, Storage],
    outSize: number,
    kernel: 'conv2dForward' | 'conv2dBackwardInput' | 'conv2dBackwardFilter',
  ): Storage | null {
    const K = c.kh * c.kw * (c.inC / c.groups);
    const rows = c.batch * c.outH * c.outW;
    const rowsPerImage = c.outH * c.outW;
    const byImage = kernel === 'conv2dBackwardInput' && !isPointwise(c);
    const perThreadDw = kernel === 'conv2dBackwardFilter';
    const threads = this.threadsFor(2 * rows * K * c.outC, byImage ? c.batch : rows);
    const chunk = Math.max(4, Math.min(rows, Math.floor(COL_CHUNK_FLOATS / K)));
    // im2col writes whole vectors: 64 bytes of slack.
    const wsBytes = this.gemmWs + chunk * K * 4 + 64;
    const scratch = [
      CONV_FIELDS.length * 4,
      ...Array<number>(threads).fill(wsBytes),
      ...Array<number>(perThreadDw ? threads - 1 : 0).fill(outSize * 4),
    ];
    return this.call(inputs, outSize, scratch, ([p0, p1], out, [info, ...rest]) => {
      packConv(c, new Int32Array(this.memory.buffer, info!, CONV_FIELDS.length));
      const ranges = byImage
        ? split(c.batch, threads).map(([i0, i1]) => [i0 * rowsPerImage, i1 * rowsPerImage] as const)
        : split(rows, threads, 4);
      if (ranges.length === 0) ranges.push([0, 0]);
      const dws = rest.slice(threads);
      this.parallel(
        ranges.map(([r0, r1], t) => ({
          fn: kernel,
          args: [
            info!,
            p0!,
            p1!,
            t > 0 && perThreadDw ? dws[t - 1]! : out,
            rest[t]!,
            chunk,
            r0,
            r1,
          ],
        })),
      );
      if (perThreadDw) {
        for (let t = 1; t < ranges.length; t++) this.k.addInto(out, dws[t - 1]!, outSize);
      }
    });
  }

  override conv2d(x: Storage, w: Storage, c: ConvInfo): Storage {
    const size = c.batch * c.outH * c.outW * c.outC;
    return this.conv(c, [x, w], size, 'conv2dForward') ?? super.conv2d(x, w, c);
  }

  override conv2dBackwardInput(dy: Storage, w: Storage, c: ConvInfo): Storage {
    const size = c.batch * c.inH * c.inW * c.inC;
    return (
      this.conv(c, [dy, w], size, 'conv2dBackwardInput') ?? super.conv2dBackwardInput(dy, w, c)
    );
  }

  override conv2dBackwardFilter(x: Storage, dy: Storage, c: ConvInfo): Storage {
    const size = c.kh * c.kw * (c.inC / c.groups) * c.outC;
    return (
      this.conv(c, [x, dy], size, 'conv2dBackwardFilter') ?? super.conv2dBackwardFilter(x, dy, c)
    );
  }
}

/** Whether a convolution maps output pixels one to one onto input pixels (1×1, stride 1, no padding). */
function isPointwise(c: ConvInfo): boolean {
  return (
    c.kh === 1 &&
    c.kw === 1 &&
    c.strideH === 1 &&
    c.strideW === 1 &&
    c.padTop === 0 &&
    c.padLeft === 0 &&
    c.outH === c.inH &&
    c.outW === c.inW
  );
}

/**
 * [begin, end) ranges that cut 0..n into at most `parts` nearly equal runs, each (but the last)
 * a multiple of `multiple`.
 */
function split(n: number, parts: number, multiple = 1): [number, number][] {
  const runs: [number, number][] = [];
  const units = Math.ceil(n / multiple);
  const p = Math.max(1, Math.min(parts, units));
  for (let t = 0; t < p; t++) {
    const a = Math.min(n, Math.round((units * t) / p) * multiple);
    const b = Math.min(n, Math.round((units * (t + 1)) / p) * multiple);
    if (b > a) runs.push([a, b]);
  }
  return runs;
}
