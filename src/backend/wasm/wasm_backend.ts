/**
 * The WebAssembly backend: SIMD128 kernels compiled from AssemblyScript (./assembly/, built by
 * `npm run build:wasm`) for GEMM, convolutions (im2col + packed GEMM; depthwise on its own),
 * the common elementwise ops, sums over axes and pooling; every other kernel is the js
 * backend's (this class extends JsBackend).
 *
 * Storage, phase 1. Tensors keep their values in JS typed arrays exactly as on the js backend.
 * A wasm kernel copies its inputs into one scratch area of the module's linear memory, runs,
 * and copies its output back into a new Float32Array. The scratch area is reused by every call;
 * it grows (wasm memory never shrinks) to the largest call seen, and calls that would need more
 * than MAX_SCRATCH_BYTES run over the batch in pieces. The copies cost well under a nanosecond
 * per float, against tens to thousands of multiply-adds per float in GEMM and convolutions; for
 * memory-bound kernels they cost about as much as the kernel, so those go to wasm only from
 * WASM_MIN_ELEMENTS outputs on, and otherwise (or for the broadcasts, ops and dtypes the wasm
 * kernels do not cover) take the single-loop JS paths of fast_js.ts, then the reference.
 * Results: GEMM and convolutions sum in another order than the reference (float32 differences
 * of ~1e-7 relative); elementwise ops, sums and pooling are bit-identical; tanh is a rational
 * approximation within 1e-6.
 *
 * Phase 2 (not here yet): storage living in wasm memory (a region per tensor, freed by `fit`
 * and by a FinalizationRegistry), so that kernels neither copy nor allocate; the remaining
 * kernels in wasm; worker threads sharing one WebAssembly.Memory.
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
import type { BinaryOp, ConvInfo, PoolInfo, ReduceOp, Storage, UnaryOp } from '../backend.js';
import type { NumArray } from '../js/arrays.js';
import { JsBackend } from '../js/js_backend.js';
import * as fast from './fast_js.js';
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
 * Kernel calls whose operands would need more scratch than this run over the batch in pieces,
 * so the wasm memory (which never shrinks) stays bounded for big models and big batches.
 */
const MAX_SCRATCH_BYTES = 256 * 2 ** 20;
const ALIGN = 64;
const PAGE = 65536;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
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
];

/**
 * Memory-bound kernels (elementwise, sums, pooling) run in wasm from this many output
 * elements; below it the copies cost more than they save and the JS paths run.
 */
const WASM_MIN_ELEMENTS = 2048;

/** Op codes of assembly/elementwise.ts; ops not listed take the JS paths. */
const BINARY_CODES: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
};
const UNARY_CODES: Partial<Record<UnaryOp, number>> = {
  neg: 0,
  abs: 1,
  square: 2,
  relu: 3,
  step: 4,
  sqrt: 5,
  tanh: 6,
};

/** The PoolInfo fields in the order of PoolGeo in assembly/pool.ts. */
const POOL_FIELDS = [
  'batch',
  'inH',
  'inW',
  'channels',
  'outH',
  'outW',
  'kh',
  'kw',
  'strideH',
  'strideW',
  'padTop',
  'padLeft',
] as const;

/** The ConvInfo fields in the order of ConvGeo in assembly/conv.ts. */
const CONV_FIELDS = [
  'batch',
  'inH',
  'inW',
  'inC',
  'outH',
  'outW',
  'outC',
  'kh',
  'kw',
  'strideH',
  'strideW',
  'dilationH',
  'dilationW',
  'padTop',
  'padLeft',
  'groups',
] as const;

/** Where a wasm backend's time went between startProfile() and stopProfile(). */
export interface WasmProfile {
  /** Milliseconds copying values between JS arrays and wasm memory (both ways). */
  copyMs: number;
  /** Milliseconds inside wasm kernels (wall time; threads overlap). */
  kernelMs: number;
  kernelCalls: number;
  copies: number;
}

export class WasmBackend extends JsBackend {
  override readonly name = 'wasm';
  /** The build in use. */
  readonly variant: WasmVariant;
  /** Whether the kernels run on a shared memory, so that worker threads can join in. */
  readonly shared: boolean;
  private readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory;
  private readonly k: Kernels;
  private readonly base: number;
  private readonly gemmWs: number;
  private heap: Float32Array;
  private readonly maxScratch: number;
  private pool: ThreadPool | null = null;
  private nThreads = 1;
  private readonly minParallelFlops: number;
  private prof: WasmProfile | null = null;

  /**
   * variant: force a build (tests); by default the fastest one the engine accepts.
   * maxScratchBytes: split kernel calls over the batch above this much scratch (tests).
   * shared: use the shared-memory build (default: wherever shared memory exists).
   * threads: how many threads run the big kernels (default 1; see setThreads).
   * minParallelFlops: smallest call split over threads (tests set 0 to split every call).
   */
  constructor(
    options: {
      variant?: WasmVariant;
      maxScratchBytes?: number;
      shared?: boolean;
      threads?: number;
      minParallelFlops?: number;
    } = {},
  ) {
    super();
    this.maxScratch = options.maxScratchBytes ?? MAX_SCRATCH_BYTES;
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
    this.base = align(this.k.heapBase());
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
    const want = Math.max(1, Math.floor(n));
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

  /**
   * Lays out consecutive scratch regions of the given byte sizes (each 64-byte aligned) from the
   * start of the scratch area, growing the memory if needed; returns their addresses, or null
   * when the memory cannot grow that far (wasm32 stops at 4 GB). Every call reuses the same
   * area, so addresses are valid until the next call.
   */
  private scratch(...bytes: number[]): number[] | null {
    const addrs: number[] = [];
    let end = this.base;
    for (const b of bytes) {
      addrs.push(end);
      end = align(end + b);
    }
    const mem = this.memory;
    if (end > mem.buffer.byteLength) {
      try {
        mem.grow(Math.ceil((end - mem.buffer.byteLength) / PAGE));
      } catch {
        return null;
      }
    }
    // A grown memory has a new buffer (shared: a longer view of the same bytes).
    if (this.heap.byteLength !== mem.buffer.byteLength) this.heap = new Float32Array(mem.buffer);
    return addrs;
  }

  /** Copies values into the heap at byte address addr. */
  private put(addr: number, values: ArrayLike<number>): void {
    const t = this.prof ? performance.now() : 0;
    this.heap.set(values, addr >> 2);
    if (this.prof) {
      this.prof.copyMs += performance.now() - t;
      this.prof.copies++;
    }
  }

  /** Copies n floats at byte address addr into out at offset (faster than slice() in V8). */
  private takeInto(out: Float32Array, offset: number, addr: number, n: number): void {
    const t = this.prof ? performance.now() : 0;
    out.set(this.heap.subarray(addr >> 2, (addr >> 2) + n), offset);
    if (this.prof) {
      this.prof.copyMs += performance.now() - t;
      this.prof.copies++;
    }
  }

  /**
   * Starts counting where this backend's time goes: copies between JS arrays and wasm memory,
   * and wasm kernels (all threads' wall time). Costs two clock reads per copy and per kernel.
   */
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

  /**
   * Runs a memory-bound kernel in wasm when it is large enough to pay for the copies (and fits
   * the scratch limit): the float32 inputs are copied in, `run` gets their addresses, the
   * output's, and `extraBytes` of scratch; the output (outSize floats) is copied back. Returns
   * null to let the caller take the JS path.
   */
  private viaWasm(
    inputs: NumArray[],
    outSize: number,
    extraBytes: number,
    run: (inAddrs: number[], out: number, extra: number) => void,
  ): Storage | null {
    if (outSize < WASM_MIN_ELEMENTS || !inputs.every((v) => v instanceof Float32Array)) return null;
    const bytes = inputs.map((v) => v.length * 4);
    if (bytes.reduce((a, b) => a + b, 0) + outSize * 4 + extraBytes > this.maxScratch) return null;
    const p = this.scratch(...bytes, outSize * 4, extraBytes);
    if (!p) return null;
    inputs.forEach((v, i) => {
      this.put(p[i]!, v);
    });
    const outAddr = p[inputs.length]!;
    this.timed(() => run(p.slice(0, inputs.length), outAddr, p[inputs.length + 1]!));
    const out = new Float32Array(outSize);
    this.takeInto(out, 0, outAddr, outSize);
    return this.wrap(out);
  }

  override unary(op: UnaryOp, x: Storage): Storage {
    const xv = this.v(x);
    const code = UNARY_CODES[op];
    if (code !== undefined) {
      const r = this.viaWasm([xv], xv.length, 0, ([px], out) => {
        this.k.unary(code, px!, out, xv.length);
      });
      if (r) return r;
    }
    const out = new Float32Array(x.size);
    if (fast.unary(op, xv, out)) return this.wrap(out);
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
    const [av, bv] = [this.v(a), this.v(b)];
    const size = sizeOf(outShape);
    const code = BINARY_CODES[op];
    const g = fast.broadcast2d(aShape, bShape, outShape);
    if (code !== undefined && g) {
      const r = this.viaWasm([av, bv], size, 0, ([pa, pb], out) => {
        this.k.binary(code, pa!, pb!, out, ...g);
      });
      if (r) return r;
    }
    const out = new Float32Array(size);
    if (fast.binary(op, av, aShape, bv, bShape, outShape, out)) return this.wrap(out);
    return super.binary(op, a, aShape, b, bShape, outShape);
  }

  override reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
    if (op === 'sum') {
      const xv = this.v(x);
      const size = sizeOf(shape.filter((_, i) => !axes.includes(i)));
      const pat = fast.sumPattern(shape, axes);
      if (pat && xv.length >= WASM_MIN_ELEMENTS) {
        const r = this.viaWasm([xv], Math.max(size, 1), 0, ([px], out) => {
          this.k.sum2d(px!, pat.outer, pat.inner, pat.overOuter ? 1 : 0, out);
        });
        if (r && size > 0) return r;
      }
      const out = new Float32Array(size);
      if (fast.reduceSum(xv, shape, axes, out)) return this.wrap(out);
    }
    return super.reduce(op, x, shape, axes);
  }

  /** Pool geometry as the i32 fields of PoolGeo (assembly/pool.ts), written at addr. */
  private putPool(addr: number, p: PoolInfo): void {
    new Int32Array(this.memory.buffer, addr, POOL_FIELDS.length).set(POOL_FIELDS.map((f) => p[f]));
  }

  override avgPool(x: Storage, info: PoolInfo): Storage {
    const xv = this.v(x);
    const size = info.batch * info.outH * info.outW * info.channels;
    const r = this.viaWasm([xv], size, POOL_FIELDS.length * 4, ([px], out, geo) => {
      this.putPool(geo, info);
      this.k.avgPool(geo, px!, out, 0);
    });
    if (r) return r;
    const out = new Float32Array(size);
    fast.avgPool(xv, info, out);
    return this.wrap(out);
  }

  override avgPoolBackward(dy: Storage, info: PoolInfo): Storage {
    const dyv = this.v(dy);
    const size = info.batch * info.inH * info.inW * info.channels;
    const r = this.viaWasm([dyv], size, POOL_FIELDS.length * 4, ([pdy], out, geo) => {
      this.putPool(geo, info);
      this.k.avgPool(geo, out, pdy!, 1);
    });
    if (r) return r;
    const out = new Float32Array(size);
    fast.avgPoolBackward(dyv, info, out);
    return this.wrap(out);
  }

  override maxPool(x: Storage, info: PoolInfo): Storage {
    const xv = this.v(x);
    const size = info.batch * info.outH * info.outW * info.channels;
    const r = this.viaWasm([xv], size, POOL_FIELDS.length * 4, ([px], out, geo) => {
      this.putPool(geo, info);
      this.k.maxPool(geo, px!, 0, out);
    });
    if (r) return r;
    const out = new Float32Array(size);
    fast.maxPool(xv, info, out);
    return this.wrap(out);
  }

  override maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage {
    const [dyv, xv] = [this.v(dy), this.v(x)];
    const r = this.viaWasm([xv, dyv], xv.length, POOL_FIELDS.length * 4, ([px, pdy], out, geo) => {
      this.putPool(geo, info);
      this.k.maxPool(geo, px!, pdy!, out);
    });
    if (r) return r;
    const out = new Float32Array(x.size);
    fast.maxPoolBackward(dyv, xv, info, out);
    return this.wrap(out);
  }

  override matmul(
    a: Storage,
    b: Storage,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): Storage {
    const av = this.v(a);
    const bv = this.v(b);
    const [aMat, bMat, cMat] = [m * k, k * n, m * n];
    const out = new Float32Array(batch * cMat);
    const threads = this.threadsFor(2 * batch * m * n * k, Math.max(batch, m, n));
    const step = piece(batch, aMat + bMat + cMat, (threads * this.gemmWs) / 4, this.maxScratch);
    // Element strides of A and B (row, column) for gemm.
    const [rsA, csA] = transA ? [1, m] : [k, 1];
    const [rsB, csB] = transB ? [1, k] : [n, 1];
    for (let b0 = 0; b0 < batch; b0 += step) {
      const nb = Math.min(step, batch - b0);
      const ws = Array<number>(threads).fill(this.gemmWs);
      const p = this.scratch(nb * aMat * 4, nb * bMat * 4, nb * cMat * 4, ...ws);
      if (!p) return super.matmul(a, b, batch, m, n, k, transA, transB);
      const [pa, pb, pc] = p as [number, number, number];
      this.put(pa, av.subarray(b0 * aMat, (b0 + nb) * aMat));
      this.put(pb, bv.subarray(b0 * bMat, (b0 + nb) * bMat));
      // Threads take whole matrices when there are enough, else rows (or columns, when C is
      // wide and short) of each matrix.
      const tasks: ThreadTask[] = [];
      const gemmTask = (i: number, r0: number, r1: number, c0: number, c1: number, t: number) => {
        const [ai, bi, ci] = [pa + i * aMat * 4, pb + i * bMat * 4, pc + i * cMat * 4];
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
            p[3 + t]!,
          ],
        });
      };
      if (threads === 1 || nb >= threads) {
        for (const [[i0, i1], t] of split(nb, threads).map((r, t) => [r, t] as const)) {
          tasks.push({
            fn: 'matmul',
            args: [
              i1 - i0,
              m,
              n,
              k,
              transA ? 1 : 0,
              transB ? 1 : 0,
              pa + i0 * aMat * 4,
              pb + i0 * bMat * 4,
              pc + i0 * cMat * 4,
              p[3 + t]!,
            ],
          });
        }
        this.parallel(tasks);
      } else {
        for (let i = 0; i < nb; i++) {
          tasks.length = 0;
          const byRows = m >= n;
          split(byRows ? m : n, threads, byRows ? 4 : 8).forEach(([x0, x1], t) => {
            if (byRows) gemmTask(i, x0, x1, 0, n, t);
            else gemmTask(i, 0, m, x0, x1, t);
          });
          this.parallel(tasks);
        }
      }
      this.takeInto(out, b0 * cMat, pc, nb * cMat);
    }
    return this.wrap(out);
  }

  /**
   * Runs one convolution kernel over the batch in pieces that keep the scratch area under
   * MAX_SCRATCH_BYTES (images are independent; `combine` places or sums each piece's result),
   * each piece split over the threads by output pixels (backward input: by whole images, unless
   * the convolution is pointwise; backward filter: each thread sums into its own dw, added up
   * here). `ins` are the two inputs (per-image sizes given, 0 for the filter, which every piece
   * gets whole); returns false when wasm memory cannot hold even one image (the caller falls
   * back to the js kernel).
   */
  private convByBatch(
    c: ConvInfo,
    ins: [NumArray, number, NumArray, number],
    outPerImage: number,
    outFixed: number,
    kernel: 'conv2dForward' | 'conv2dBackwardInput' | 'conv2dBackwardFilter',
    combine: (b0: number, addr: number, size: number) => void,
  ): boolean {
    const [v0, img0, v1, img1] = ins;
    const K = c.kh * c.kw * (c.inC / c.groups);
    const rowsPerImage = c.outH * c.outW;
    const byImage = kernel === 'conv2dBackwardInput' && !isPointwise(c);
    const threads = this.threadsFor(
      2 * c.batch * rowsPerImage * K * (c.outC / c.groups) * c.groups,
      byImage ? c.batch : c.batch * rowsPerImage,
    );
    const chunkFor = (rows: number) =>
      Math.max(4, Math.min(rows, Math.floor(COL_CHUNK_FLOATS / K)));
    const wsBytes = this.gemmWs + chunkFor(c.batch * rowsPerImage) * K * 4 + 64; // im2col writes whole vectors: slack
    const extraOut = outFixed * (threads - 1); // backward filter: one dw per extra thread
    const fixed =
      (img0 ? 0 : v0.length) +
      (img1 ? 0 : v1.length) +
      outFixed +
      extraOut +
      (threads * wsBytes) / 4;
    const perImage = img0 + img1 + outPerImage;
    const step = piece(c.batch, perImage, fixed, this.maxScratch);
    for (let b0 = 0; b0 < c.batch; b0 += step) {
      const nb = Math.min(step, c.batch - b0);
      const cp = nb === c.batch ? c : { ...c, batch: nb };
      const rows = nb * rowsPerImage;
      const chunk = chunkFor(rows);
      const sizes = [
        img0 ? nb * img0 : v0.length,
        img1 ? nb * img1 : v1.length,
        outFixed || nb * outPerImage,
      ];
      const p = this.scratch(
        CONV_FIELDS.length * 4,
        sizes[0]! * 4,
        sizes[1]! * 4,
        sizes[2]! * 4,
        ...Array<number>(threads).fill(wsBytes),
        ...Array<number>(outFixed ? threads - 1 : 0).fill(outFixed * 4),
      );
      if (!p) return false;
      const [info, p0, p1, p2] = p as [number, number, number, number];
      const ints = new Int32Array(this.memory.buffer, info, CONV_FIELDS.length);
      CONV_FIELDS.forEach((f, i) => {
        ints[i] = cp[f];
      });
      this.put(p0, img0 ? v0.subarray(b0 * img0, (b0 + nb) * img0) : v0);
      this.put(p1, img1 ? v1.subarray(b0 * img1, (b0 + nb) * img1) : v1);
      const ranges = byImage
        ? split(nb, threads).map(([i0, i1]) => [i0 * rowsPerImage, i1 * rowsPerImage] as const)
        : split(rows, threads, 4);
      if (ranges.length === 0) ranges.push([0, 0]);
      const tasks = ranges.map(([r0, r1], t) => ({
        fn: kernel,
        args: [
          info,
          p0,
          p1,
          t > 0 && outFixed ? p[3 + threads + t]! : p2, // backward filter: own dw
          p[4 + t]!,
          chunk,
          r0,
          r1,
        ],
      }));
      this.parallel(tasks);
      if (outFixed) {
        for (let t = 1; t < tasks.length; t++) this.k.addInto(p2, p[3 + threads + t]!, outFixed);
      }
      combine(b0, p2, sizes[2]!);
    }
    return true;
  }

  override conv2d(x: Storage, w: Storage, c: ConvInfo): Storage {
    const xImg = c.inH * c.inW * c.inC;
    const yImg = c.outH * c.outW * c.outC;
    const out = new Float32Array(c.batch * yImg);
    const ok = this.convByBatch(
      c,
      [this.v(x), xImg, this.v(w), 0],
      yImg,
      0,
      'conv2dForward',
      (b0, addr, size) => this.takeInto(out, b0 * yImg, addr, size),
    );
    return ok ? this.wrap(out) : super.conv2d(x, w, c);
  }

  override conv2dBackwardInput(dy: Storage, w: Storage, c: ConvInfo): Storage {
    const yImg = c.outH * c.outW * c.outC;
    const xImg = c.inH * c.inW * c.inC;
    const out = new Float32Array(c.batch * xImg);
    const ok = this.convByBatch(
      c,
      [this.v(dy), yImg, this.v(w), 0],
      xImg,
      0,
      'conv2dBackwardInput',
      (b0, addr, size) => this.takeInto(out, b0 * xImg, addr, size),
    );
    return ok ? this.wrap(out) : super.conv2dBackwardInput(dy, w, c);
  }

  override conv2dBackwardFilter(x: Storage, dy: Storage, c: ConvInfo): Storage {
    const xImg = c.inH * c.inW * c.inC;
    const yImg = c.outH * c.outW * c.outC;
    const dwSize = c.kh * c.kw * (c.inC / c.groups) * c.outC;
    let out: Float32Array | null = null;
    const ok = this.convByBatch(
      c,
      [this.v(x), xImg, this.v(dy), yImg],
      0,
      dwSize,
      'conv2dBackwardFilter',
      (_b0, addr, size) => {
        if (!out) {
          out = new Float32Array(size);
          this.takeInto(out, 0, addr, size);
        } else {
          const part = this.heap.subarray(addr >> 2, (addr >> 2) + size);
          for (let i = 0; i < size; i++) out[i] = out[i]! + part[i]!;
        }
      },
    );
    return ok && out ? this.wrap(out) : super.conv2dBackwardFilter(x, dy, c);
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

/**
 * How many of `batch` items to run per kernel call so that items · perItem + fixed floats stay
 * under maxBytes (at least one).
 */
function piece(batch: number, perItem: number, fixed: number, maxBytes: number): number {
  const room = Math.floor((maxBytes / 4 - fixed) / Math.max(1, perItem));
  return Math.max(1, Math.min(batch, room));
}
