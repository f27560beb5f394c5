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
 *
 * The module and its builds are in module.ts, memory, scopes, copies and threads in
 * wasm_memory.ts; this file holds the kernels.
 */
import { sizeOf } from '../../util/shape.js';
import type {
  ActivationGradOp,
  AdamScalars,
  BinaryOp,
  ConvInfo,
  MatmulInfo,
  PoolInfo,
  ReduceOp,
  Storage,
  UnaryOp,
} from '../backend.js';
import * as fast from '../shared/fast_js.js';
import { CONV_FIELDS, POOL_FIELDS, packConv, packPool } from '../shared/geometry.js';
import type { ThreadTask } from './thread_pool.js';
import { WasmMemoryBackend } from './wasm_memory.js';

export { type WasmVariant, wasmSupported, wasmVariantSupported } from './module.js';
export type { WasmProfile } from './wasm_memory.js';

/** Rows of im2col matrix per chunk: about 1 MB of columns, at least 4 rows. */
const COL_CHUNK_FLOATS = 1 << 18;

/** Operations a tanh value costs, as the thread split counts them (threadsFor). */
const TANH_FLOPS = 30;
/** The same for GELU and its gradient (a float64 erf, and exp for the gradient). */
const GELU_FLOPS = 60;
/** The same for an input value of average pooling (float64 conversions and sums). */
const POOL_FLOPS = 10;

/** Op codes of assembly/elementwise.ts; ops not listed take the JS paths. */
const BINARY_CODES: Partial<Record<BinaryOp, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
};
const ACTIVATION_GRAD_CODES: Record<ActivationGradOp, number> = {
  relu: 0,
  tanh: 1,
  sigmoid: 2,
  gelu: 3,
};
const UNARY_CODES: Partial<Record<UnaryOp, number>> = {
  neg: 0,
  abs: 1,
  square: 2,
  relu: 3,
  step: 4,
  sqrt: 5,
  tanh: 6,
  gelu: 7,
};

export class WasmBackend extends WasmMemoryBackend {
  override readonly name = 'wasm';

  // --- Kernels -------------------------------------------------------------------------------

  override unary(op: UnaryOp, x: Storage): Storage {
    const code = UNARY_CODES[op];
    if (code !== undefined && this.worthIt([x], x.size)) {
      const n = x.size;
      // tanh costs some 30 operations a value (a rational function), gelu more: big ones are split over
      // the threads like the GEMM (LeNet's first layer: 442,368 values a step).
      const flops = op === 'tanh' ? TANH_FLOPS : op === 'gelu' ? GELU_FLOPS : 0;
      const threads = flops ? this.threadsFor(n * flops, Math.ceil(n / 4096)) : 1;
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
  override activationGrad(op: ActivationGradOp, dy: Storage, v: Storage): Storage | null {
    const n = dy.size;
    if (v.size !== n || !this.worthIt([dy, v], n)) return null;
    const code = ACTIVATION_GRAD_CODES[op];
    // GELU's gradient costs an erf and an exp a value: big ones are split over the threads.
    const threads = op === 'gelu' ? this.threadsFor(n * GELU_FLOPS, Math.ceil(n / 4096)) : 1;
    return this.call([dy, v], n, [], ([pd, pv], out) => {
      if (threads <= 1) this.timed(() => this.k.activationGrad(code, pd!, pv!, out, n));
      else {
        this.parallel(
          split(n, threads, 16).map(([i0, i1]) => ({
            fn: 'activationGrad',
            args: [code, pd! + i0 * 4, pv! + i0 * 4, out + i0 * 4, i1 - i0],
          })),
        );
      }
    });
  }

  /** Batch statistics in one pass (assembly/batch_norm.ts, float64 sums), else the reference's. */
  override moments(x: Storage, channels: number): { mean: Storage; variance: Storage } {
    const rows = channels > 0 ? x.size / channels : 0;
    if (channels > 0 && this.worthIt([x], x.size)) {
      const r = this.callN([x], [channels, channels], [3 * channels * 8], ([px], [m, v], [acc]) =>
        this.timed(() => this.k.moments(px!, rows, channels, m!, v!, acc!)),
      );
      if (r) return { mean: r[0]!, variance: r[1]! };
    }
    return super.moments(x, channels);
  }

  /** Training-mode batch norm's backward (assembly/batch_norm.ts), else the reference's. */
  override batchNormTrainingBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ): { dx: Storage; dGamma: Storage; dBeta: Storage } {
    const rows = channels > 0 ? x.size / channels : 0;
    if (channels > 0 && this.worthIt([dy, x, mean, variance, gamma], x.size)) {
      const r = this.callN(
        [dy, x, mean, variance, gamma],
        [x.size, channels, channels],
        [3 * channels * 8],
        ([pdy, px, pm, pv, pg], [dx, dg, db], [acc]) =>
          this.timed(() =>
            this.k.batchNormTrainingBackward(
              pdy!,
              px!,
              pm!,
              pv!,
              pg!,
              rows,
              channels,
              epsilon,
              dx!,
              dg!,
              db!,
              acc!,
            ),
          ),
      );
      if (r) return { dx: r[0]!, dGamma: r[1]!, dBeta: r[2]! };
    }
    return super.batchNormTrainingBackward(dy, x, mean, variance, gamma, channels, epsilon);
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
