/**
 * The native backend (Node only): the heavy kernels in a C++ addon (native/), everything else
 * from the js backend, which this class extends.
 *
 * - Convolutions (forward, backward-data, backward-weights) run in oneDNN, the library under
 *   PyTorch's and ONNX Runtime's CPU convolutions, directly on receptive's NHWC activations;
 *   HWIO filters are reordered into oneDNN's blocked layouts (and kept so when a filter is used
 *   again, as in repeated predictions).
 * - GEMM is oneDNN's sgemm.
 * - Pooling, batch normalization, the common elementwise ops, sums and the Adam step are plain
 *   C++ loops (vectorized, split over threads), with the reference's semantics.
 * - Tiny tensors, int32 tensors and the remaining ops take the single-loop JS paths of
 *   ../shared/fast_js.ts, then the reference kernels.
 *
 * Storage: a Float32Array per tensor, as on the js backend; the addon reads and writes those
 * arrays in place, so no call copies its operands. Inside a step scope (fit, trainOnBatch,
 * evaluate and predict open one: train/step_scope.ts) the arrays of the tensors a step frees go
 * to a pool that the next step's kernels take their outputs from. Fresh memory costs a page
 * fault per 4 KB on first touch, about as much as a memory-bound kernel itself; pooled arrays
 * are already mapped. A freed tensor used afterwards throws.
 *
 * Threads: OpenMP's, shared by oneDNN and the loops; setThreads(n) sets them.
 */
import { ArgumentError, BackendError } from '../../util/errors.js';
import { sizeOf } from '../../util/shape.js';
import type {
  ActivationGradOp,
  AdamScalars,
  BinaryOp,
  ConvFusion,
  ConvInfo,
  DType,
  MatmulInfo,
  PoolInfo,
  ReduceOp,
  SgdScalars,
  Storage,
  UnaryOp,
} from '../backend.js';
import type { NumArray } from '../js/arrays.js';
import { JsBackend, JsStorage } from '../js/js_backend.js';
import * as fast from '../shared/fast_js.js';
import { CONV_FIELDS, POOL_FIELDS, packConv, packPool } from '../shared/geometry.js';
import { freedTensorError, ScopeTracker } from '../shared/scopes.js';
import { checkThreadCount } from '../shared/threads.js';
import type { NativeAddon } from './native_addon.js';

/** Memory-bound kernels go to the addon from this many elements; below, a JS loop is as fast. */
const NATIVE_MIN_ELEMENTS = 512;

/** Op codes of native/src/elementwise.cc; ops not listed stay in JS. */
const UNARY_CODES: Partial<Record<UnaryOp, number>> = {
  neg: 0,
  abs: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  rsqrt: 5,
  square: 6,
  reciprocal: 7,
  relu: 8,
  step: 9,
  sign: 10,
  tanh: 11,
  sigmoid: 12,
  gelu: 13,
};
const ACTIVATION_GRAD_CODES: Record<ActivationGradOp, number> = {
  relu: 0,
  tanh: 1,
  sigmoid: 2,
  gelu: 3,
};
const BINARY_CODES: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  equal: 6,
  greater: 7,
};

const MAX_POOL = 0;
const AVG_POOL = 1;

/**
 * A number per filter storage, for the addon's cache of reordered filters: a storage's values
 * never change, so the same storage means the same values. (Not per array: a step scope hands
 * a freed tensor's array to a new tensor.)
 */
const storageIds = new WeakMap<Storage, number>();
let nextStorageId = 1;
function storageId(s: Storage): number {
  let id = storageIds.get(s);
  if (id === undefined) storageIds.set(s, (id = nextStorageId++));
  return id;
}

/**
 * The addon with each function wrapped: an error it throws (a bad argument, or a C++ exception
 * the addon caught instead of ending the process: see guarded in native/src/common.h) becomes
 * a BackendError that names the op, says what happened and what to do.
 */
function guardAddon(addon: NativeAddon): NativeAddon {
  const guarded: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(addon)) {
    if (typeof f !== 'function') continue;
    guarded[name] = (...args: unknown[]) => {
      try {
        return f(...args);
      } catch (e) {
        if (e instanceof BackendError) throw e;
        throw new BackendError(
          `${name} (native backend): the C++ addon failed: ${String((e as Error)?.message ?? e)}. ` +
            "The process is intact; setBackend('wasm') runs the same op without the addon. " +
            'Please report it with the shapes involved.',
        );
      }
    };
  }
  return guarded as unknown as NativeAddon;
}

/** Arrays smaller than this are left to the garbage collector (small allocations are cheap). */
const POOL_MIN_FLOATS = 1024;
/** The most bytes the pool holds unless the constructor is told otherwise. */
const POOL_MAX_BYTES = 1024 * 2 ** 20;

/** Options of the {@link NativeBackend} constructor. */
export interface NativeBackendOptions {
  /**
   * The most bytes of freed arrays the pool keeps for the next step (it keeps only lengths
   * the step asked for, so it never holds more than a step uses). A step whose tensors
   * outgrow it maps fresh memory for the rest, a page fault per 4 KB: airbench's step at batch
   * 1024 ran twice as long under a 1 GiB pool as under one that held its working set.
   * @default 1 GiB (register.ts gives a quarter of the machine's memory where that is more)
   */
  poolMaxBytes?: number;
}

/** A native backend tensor: a Float32Array that a step scope may free (back to the pool). */
class NativeStorage extends JsStorage {
  /** Set when a step scope freed it: its array may now hold another tensor's values. */
  freed = false;
  /** Whether an open scope holds it (counted in the backend's memoryUsage().scopeBytes). */
  scoped = false;
}

export class NativeBackend extends JsBackend {
  override readonly name = 'native';
  private readonly convGeo = new Int32Array(CONV_FIELDS.length);
  private readonly poolGeo = new Int32Array(POOL_FIELDS.length);
  /** Freed arrays by length, for reuse. */
  private readonly spare = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly poolMaxBytes: number;
  /** Lengths asked for since the outermost scope last ended: the pool keeps only these. */
  private readonly wanted = new Set<number>();
  /** Storages made inside each open scope, innermost last. */
  private readonly scopes = new ScopeTracker<NativeStorage>();
  /** Bytes of the float32 tensors the open scopes hold (made in them, not freed yet). */
  private scopeBytes = 0;
  /** The most scopeBytes reached since resetPeakMemory(). */
  private peakScopeBytes = 0;

  /** The addon's functions, each turning an error it throws into a BackendError naming it. */
  private readonly addon: NativeAddon;
  /** Whether the addon's conv2dFused takes the residual as an array (else in the output). */
  private readonly residualArray: boolean;

  constructor(addon: NativeAddon, options: NativeBackendOptions = {}) {
    super();
    const { poolMaxBytes = POOL_MAX_BYTES } = options;
    if (!(Number.isFinite(poolMaxBytes) && poolMaxBytes >= 0))
      throw new ArgumentError(
        `NativeBackend: poolMaxBytes must be a non-negative number of bytes, got ${poolMaxBytes}.`,
      );
    this.poolMaxBytes = poolMaxBytes;
    this.addon = guardAddon(addon);
    this.residualArray = this.addon.info().residualArray === true;
  }

  /** The oneDNN version and the instruction set its kernels use (for messages and the bench). */
  info(): { onednn: string; isa: string; threads: number } {
    return this.addon.info();
  }

  /** How many threads the kernels use. */
  get threads(): number {
    return this.addon.getThreads();
  }

  /** Runs the kernels on n threads (OpenMP's, which oneDNN shares). */
  setThreads(n: number): void {
    checkThreadCount(n, ArgumentError);
    this.addon.setThreads(n);
  }

  /** The oneDNN implementations a convolution of this geometry runs on (for the bench). */
  convImplementations(info: ConvInfo): {
    forward: string;
    backwardData: string;
    backwardWeights: string;
    /** conv2dFused with a residual and ReLU ('none': it declines, the ops run apart). */
    fusedResidual: string;
  } {
    return this.addon.convImpl(this.conv(info));
  }

  // --- Storage ---------------------------------------------------------------------------

  /** A pooled array of this length, or null. */
  private take(size: number): Float32Array | null {
    if (size < POOL_MIN_FLOATS) return null;
    if (this.scopes.depth > 0) this.wanted.add(size);
    const a = this.spare.get(size)?.pop();
    if (!a) return null;
    this.pooledBytes -= a.byteLength;
    return a;
  }

  /** An array for a kernel that writes every element: a pooled one of that length, or new. */
  private out(size: number): Float32Array {
    return this.take(size) ?? new Float32Array(size);
  }

  /** For the parent's kernels, which may count on zeros as in a new array. */
  protected override allocFloat(size: number): Float32Array {
    return this.take(size)?.fill(0) ?? new Float32Array(size);
  }

  protected override wrap(values: NumArray, dtype: DType = 'float32'): Storage {
    if (dtype !== 'float32' || !(values instanceof Float32Array)) return super.wrap(values, dtype);
    const s = new NativeStorage(this, values, dtype);
    if (this.scopes.depth > 0) {
      this.scopes.record(s);
      s.scoped = true;
      this.scopeBytes += values.byteLength;
      if (this.scopeBytes > this.peakScopeBytes) this.peakScopeBytes = this.scopeBytes;
    }
    return s;
  }

  protected override v(s: Storage): NumArray {
    if (s instanceof NativeStorage && s.freed) throw freedTensorError();
    return super.v(s);
  }

  private freeStorage(s: NativeStorage): void {
    if (s.freed) return;
    s.freed = true;
    const a = s.values as Float32Array;
    if (s.scoped) this.scopeBytes -= a.byteLength;
    s.scoped = false;
    if (a.length < POOL_MIN_FLOATS || this.pooledBytes + a.byteLength > this.poolMaxBytes) return;
    let list = this.spare.get(a.length);
    if (!list) this.spare.set(a.length, (list = []));
    list.push(a);
    this.pooledBytes += a.byteLength;
  }

  /** Starts recording the tensors made from now on (see endScope). Scopes nest. */
  beginScope(): void {
    this.scopes.begin();
  }

  /**
   * Ends the innermost scope: frees every tensor made in it whose storage is not in `keep`, and
   * returns those that are (they pass to the enclosing scope, if any).
   */
  endScope(keep: Set<Storage>): Storage[] {
    const kept = this.scopes.end(keep, (s) => this.freeStorage(s));
    if (this.scopes.depth === 0) {
      // What the outermost scope kept leaves the scopes' accounting (the collector frees it).
      for (const s of kept) this.unscope(s);
      // Keep the lengths this step asked for; the rest of the pool goes to the collector.
      for (const [size, list] of this.spare) {
        if (!this.wanted.has(size)) {
          this.pooledBytes -= size * 4 * list.length;
          this.spare.delete(size);
        }
      }
      this.wanted.clear();
    }
    return kept;
  }

  /** Takes a storage out of the open scopes: no scope frees it; the collector does. */
  persist(s: Storage): void {
    this.scopes.persist(s as NativeStorage);
    if (s instanceof NativeStorage) this.unscope(s);
  }

  private unscope(s: NativeStorage): void {
    if (!s.scoped) return;
    s.scoped = false;
    this.scopeBytes -= s.values.byteLength;
  }

  /**
   * Memory of the step scopes (tests and the bench): `scopeBytes`, what the open scopes hold
   * now (tensors made in them and not freed yet); `peakScopeBytes`, the most they held since
   * resetPeakMemory(); `pooledBytes`, freed arrays kept for reuse.
   */
  memoryUsage(): { scopeBytes: number; peakScopeBytes: number; pooledBytes: number } {
    return {
      scopeBytes: this.scopeBytes,
      peakScopeBytes: this.peakScopeBytes,
      pooledBytes: this.pooledBytes,
    };
  }

  /** Starts memoryUsage()'s peak again from what the scopes hold now. */
  resetPeakMemory(): void {
    this.peakScopeBytes = this.scopeBytes;
  }

  scopeDepth(): number {
    return this.scopes.depth;
  }

  /** Frees storages now (ones a training step replaced); others' storages are ignored. */
  free(storages: Iterable<Storage>): void {
    for (const s of storages)
      if (s instanceof NativeStorage && s.backend === this) this.freeStorage(s);
  }

  /** Bytes in the pool of freed arrays (tests). */
  pooledMemory(): number {
    return this.pooledBytes;
  }

  /** The float32 values of a storage, or null for int32 (and float64) storage. */
  private f32(s: Storage): Float32Array | null {
    const v = this.v(s);
    return v instanceof Float32Array ? v : null;
  }

  private conv(c: ConvInfo): Int32Array {
    return packConv(c, this.convGeo);
  }

  private poolGeometry(p: PoolInfo): Int32Array {
    return packPool(p, this.poolGeo);
  }

  override unary(op: UnaryOp, x: Storage): Storage {
    const xv = this.f32(x);
    const code = UNARY_CODES[op];
    if (xv && code !== undefined && xv.length >= NATIVE_MIN_ELEMENTS) {
      const out = this.out(xv.length);
      this.addon.unary(code, xv, out);
      return this.wrap(out);
    }
    if (xv) {
      const out = this.out(xv.length);
      if (fast.unary(op, xv, out)) return this.wrap(out);
    }
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
    if (
      g &&
      code !== undefined &&
      size >= NATIVE_MIN_ELEMENTS &&
      av instanceof Float32Array &&
      bv instanceof Float32Array
    ) {
      const out = this.out(size);
      this.addon.binary(code, av, bv, out, ...g);
      return this.wrap(out);
    }
    const out = this.out(size);
    if (fast.binary(op, av, aShape, bv, bShape, outShape, out)) return this.wrap(out);
    return super.binary(op, a, aShape, b, bShape, outShape);
  }

  override reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
    if (op === 'sum') {
      const xv = this.v(x);
      const size = sizeOf(shape.filter((_, i) => !axes.includes(i)));
      const pat = fast.sumPattern(shape, axes);
      if (pat && xv instanceof Float32Array && xv.length >= NATIVE_MIN_ELEMENTS && size > 0) {
        const out = this.out(size);
        this.addon.sum2d(xv, pat.outer, pat.inner, pat.overOuter, out);
        return this.wrap(out);
      }
      // Global pooling at batch > 1 ([batch, h·w, channels] over h·w): one sum2d per image,
      // where the JS loop took a millisecond for ResNet-18's batch of 8.
      const bat = fast.batchedSumPattern(shape, axes);
      if (bat && xv instanceof Float32Array && xv.length >= NATIVE_MIN_ELEMENTS) {
        const { batch, outer, inner } = bat;
        const out = this.out(size);
        for (let i = 0; i < batch; i++) {
          const x = xv.subarray(i * outer * inner, (i + 1) * outer * inner);
          this.addon.sum2d(x, outer, inner, true, out.subarray(i * inner, (i + 1) * inner));
        }
        return this.wrap(out);
      }
      const out = this.out(size);
      if (fast.reduceSum(xv, shape, axes, out)) return this.wrap(out);
    }
    return super.reduce(op, x, shape, axes);
  }

  override matmul(a: Storage, b: Storage, info: MatmulInfo): Storage {
    const { batch, m, n, k, transA, transB } = info;
    const [av, bv] = [this.f32(a), this.f32(b)];
    if (!av || !bv || batch * m * n * k === 0) return super.matmul(a, b, info);
    const out = this.out(batch * m * n);
    this.addon.matmul(av, bv, out, batch, m, n, k, transA, transB);
    return this.wrap(out);
  }

  override conv2d(x: Storage, w: Storage, c: ConvInfo): Storage {
    const [xv, wv] = [this.f32(x), this.f32(w)];
    const size = c.batch * c.outH * c.outW * c.outC;
    if (xv && wv && size > 0 && xv.length > 0) {
      const out = this.out(size);
      if (this.addon.conv2d(xv, wv, out, this.conv(c), storageId(w))) return this.wrap(out);
    }
    return super.conv2d(x, w, c);
  }

  /**
   * conv2d + bias (+ residual) (+ ReLU) in one oneDNN primitive, applied as outputs are written
   * (the addon puts the residual into the output first, on every thread: oneDNN adds what the
   * output holds).
   */
  conv2dFused(x: Storage, w: Storage, c: ConvInfo, fused: ConvFusion): Storage | null {
    const { bias, residual = null, relu = false } = fused;
    const [xv, wv, bv] = [this.f32(x), this.f32(w), this.f32(bias)];
    const rv = residual ? this.f32(residual) : null;
    const size = c.batch * c.outH * c.outW * c.outC;
    if (!xv || !wv || !bv || size === 0 || xv.length === 0 || bv.length !== c.outC) return null;
    if (residual && (!rv || rv.length !== size)) return null;
    const out = this.out(size);
    const g = this.conv(c);
    // An addon built before residualArray takes the residual in the output only.
    if (rv && !this.residualArray) out.set(rv);
    const r = rv ? (this.residualArray ? rv : true) : false;
    if (!this.addon.conv2dFused(xv, wv, bv, out, g, storageId(w), relu, r)) return null;
    return this.wrap(out);
  }

  override conv2dBackwardInput(dy: Storage, w: Storage, c: ConvInfo): Storage {
    const [dyv, wv] = [this.f32(dy), this.f32(w)];
    const size = c.batch * c.inH * c.inW * c.inC;
    if (dyv && wv && size > 0 && dyv.length > 0) {
      const out = this.out(size);
      if (this.addon.conv2dBackwardInput(dyv, wv, out, this.conv(c))) return this.wrap(out);
    }
    return super.conv2dBackwardInput(dy, w, c);
  }

  override conv2dBackwardFilter(x: Storage, dy: Storage, c: ConvInfo): Storage {
    const [xv, dyv] = [this.f32(x), this.f32(dy)];
    const size = c.kh * c.kw * (c.inC / c.groups) * c.outC;
    if (xv && dyv && size > 0 && xv.length > 0 && dyv.length > 0) {
      const out = this.out(size);
      if (this.addon.conv2dBackwardFilter(xv, dyv, out, this.conv(c))) return this.wrap(out);
    }
    return super.conv2dBackwardFilter(x, dy, c);
  }

  override maxPool(x: Storage, info: PoolInfo): Storage {
    const xv = this.f32(x);
    if (!xv) return super.maxPool(x, info);
    const out = this.out(info.batch * info.outH * info.outW * info.channels);
    this.addon.pool(MAX_POOL, xv, out, this.poolGeometry(info));
    return this.wrap(out);
  }

  override maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage {
    const [dyv, xv] = [this.f32(dy), this.f32(x)];
    if (!dyv || !xv) return super.maxPoolBackward(dy, x, info);
    const out = this.poolGradArray(info);
    this.addon.poolBackward(MAX_POOL, xv, dyv, out, this.poolGeometry(info));
    return this.wrap(out);
  }

  /**
   * The array a pooling gradient goes into: the addon writes all of it where windows do not
   * overlap, and adds into zeros where they do.
   */
  private poolGradArray(p: PoolInfo): Float32Array {
    const size = p.batch * p.inH * p.inW * p.channels;
    return p.strideH >= p.kh && p.strideW >= p.kw ? this.out(size) : this.allocFloat(size);
  }

  override avgPool(x: Storage, info: PoolInfo): Storage {
    const xv = this.f32(x);
    if (!xv) return super.avgPool(x, info);
    const out = this.out(info.batch * info.outH * info.outW * info.channels);
    this.addon.pool(AVG_POOL, xv, out, this.poolGeometry(info));
    return this.wrap(out);
  }

  override avgPoolBackward(dy: Storage, info: PoolInfo): Storage {
    const dyv = this.f32(dy);
    if (!dyv) return super.avgPoolBackward(dy, info);
    const out = this.poolGradArray(info);
    this.addon.poolBackward(AVG_POOL, null, dyv, out, this.poolGeometry(info));
    return this.wrap(out);
  }

  override batchNorm(
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    beta: Storage,
    channels: number,
    epsilon: number,
  ): Storage {
    const vs = [x, mean, variance, gamma, beta].map((s) => this.f32(s));
    if (vs.some((v) => !v) || channels < 1) {
      return super.batchNorm(x, mean, variance, gamma, beta, channels, epsilon);
    }
    const [xv, mv, vv, gv, bv] = vs as Float32Array[];
    const out = this.out(xv!.length);
    this.addon.batchNorm(xv!, mv!, vv!, gv!, bv!, out, channels, epsilon);
    return this.wrap(out);
  }

  /** The first NaN or ±Infinity (fit's per-batch check): the addon's vector scan for big arrays. */
  override firstNonFinite(s: Storage): number {
    const v = this.f32(s);
    return v && v.length >= NATIVE_MIN_ELEMENTS
      ? this.addon.firstNonFinite(v)
      : super.firstNonFinite(s);
  }

  /** An activation's gradient in one pass: the composed ops' values bit for bit. */
  override activationGrad(op: ActivationGradOp, dy: Storage, v: Storage): Storage | null {
    const [dyv, vv] = [this.f32(dy), this.f32(v)];
    if (!dyv || !vv || dyv.length !== vv.length || dyv.length < NATIVE_MIN_ELEMENTS) return null;
    const out = this.out(dyv.length);
    this.addon.activationGrad(ACTIVATION_GRAD_CODES[op], dyv, vv, out);
    return this.wrap(out);
  }

  /** Adam in one pass: the composed ops' values bit for bit (see native/src/elementwise.cc). */
  adamUpdate(
    p: Storage,
    g: Storage,
    m: Storage,
    v: Storage,
    vMax: Storage | null,
    h: AdamScalars,
  ): { p: Storage; m: Storage; v: Storage; vMax: Storage | null } | null {
    const [pv, gv, mv, vv] = [p, g, m, v].map((s) => this.f32(s));
    const vMaxV = vMax ? this.f32(vMax) : null;
    if (!pv || !gv || !mv || !vv || (vMax && !vMaxV)) return null;
    const n = pv.length;
    if (gv.length !== n || mv.length !== n || vv.length !== n) return null;
    const out: [Float32Array, Float32Array, Float32Array] = [this.out(n), this.out(n), this.out(n)];
    const vMaxOut = vMaxV ? this.out(n) : null;
    const scalars = Float32Array.of(
      h.beta1,
      1 - h.beta1,
      h.beta2,
      1 - h.beta2,
      h.sqrtBias2,
      h.epsilon,
      h.stepSize,
    );
    this.addon.adam(pv, gv, mv, vv, vMaxV, ...out, vMaxOut, scalars);
    return {
      p: this.wrap(out[0]),
      m: this.wrap(out[1]),
      v: this.wrap(out[2]),
      vMax: vMaxOut ? this.wrap(vMaxOut) : null,
    };
  }

  /** SGD in one pass: the composed ops' values bit for bit (see native/src/optim.cc). */
  sgdUpdate(
    p: Storage,
    g: Storage,
    buf: Storage | null,
    h: SgdScalars,
  ): { p: Storage; buf: Storage | null } | null {
    const pv = this.f32(p);
    const gv = this.f32(g);
    const bv = buf ? this.f32(buf) : null;
    if (!pv || !gv || (buf && !bv)) return null;
    const n = pv.length;
    if (gv.length !== n || (bv && bv.length !== n)) return null;
    const pOut = this.out(n);
    const bufOut = bv ? this.out(n) : null;
    const scalars = Float32Array.of(h.learningRate, h.momentum, h.weightDecay);
    this.addon.sgd(pv, gv, bv, pOut, bufOut, scalars, h.nesterov);
    return { p: this.wrap(pOut), buf: bufOut ? this.wrap(bufOut) : null };
  }

  /** Batch statistics in one pass over x in the addon (float64 sums), for big enough x. */
  override moments(x: Storage, channels: number): { mean: Storage; variance: Storage } {
    const xv = this.f32(x);
    if (!xv || channels < 1 || xv.length < NATIVE_MIN_ELEMENTS) return super.moments(x, channels);
    const [mean, variance] = [new Float32Array(channels), new Float32Array(channels)];
    this.addon.moments(xv, channels, mean, variance);
    return { mean: this.wrap(mean), variance: this.wrap(variance) };
  }

  /**
   * One of batch norm's backward kernels in the addon, which both take (dy, x, mean, variance,
   * gamma, channels, epsilon, dx, ...per-channel outputs): dx and the outputs, or null where the
   * addon cannot run it (storage that is not float32 here, or x under `minElements`).
   */
  private addonBatchNormBackward(
    kernel: 'batchNormBackward' | 'batchNormTrainingBackward',
    inputs: Storage[],
    channels: number,
    epsilon: number,
    outputs: number,
    minElements: number,
  ): Storage[] | null {
    const vs = inputs.map((s) => this.f32(s));
    if (vs.some((v) => !v) || channels < 1 || vs[1]!.length < minElements) return null;
    const dx = this.out(vs[1]!.length);
    const outs = Array.from({ length: outputs }, () => new Float32Array(channels));
    const call = this.addon[kernel] as (...args: (Float32Array | number)[]) => void;
    call(...(vs as Float32Array[]), channels, epsilon, dx, ...outs);
    return [dx, ...outs].map((a) => this.wrap(a));
  }

  /** Training-mode batch norm's backward in the addon (float64 sums), for big enough x. */
  override batchNormTrainingBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ): { dx: Storage; dGamma: Storage; dBeta: Storage } {
    const r = this.addonBatchNormBackward(
      'batchNormTrainingBackward',
      [dy, x, mean, variance, gamma],
      channels,
      epsilon,
      2,
      NATIVE_MIN_ELEMENTS,
    );
    if (!r) return super.batchNormTrainingBackward(dy, x, mean, variance, gamma, channels, epsilon);
    const [dx, dGamma, dBeta] = r as [Storage, Storage, Storage];
    return { dx, dGamma, dBeta };
  }

  override batchNormBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ) {
    const r = this.addonBatchNormBackward(
      'batchNormBackward',
      [dy, x, mean, variance, gamma],
      channels,
      epsilon,
      4,
      0,
    );
    if (!r) return super.batchNormBackward(dy, x, mean, variance, gamma, channels, epsilon);
    const [dx, dMean, dVariance, dGamma, dBeta] = r as [
      Storage,
      Storage,
      Storage,
      Storage,
      Storage,
    ];
    return { dx, dMean, dVariance, dGamma, dBeta };
  }
}
