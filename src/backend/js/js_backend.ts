/**
 * The reference backend: plain TypeScript loops, never clever, the oracle that every fast
 * kernel is tested against. Float tensors live in Float32Array (or Float64Array in the
 * 'js-f64' variant that gradient checks use), int32 tensors in Int32Array.
 */
import { BackendError } from '../../util/errors.js';
import { firstNonFinite } from '../../util/finite.js';
import { sizeOf } from '../../util/shape.js';
import type {
  ActivationGradOp,
  Backend,
  BinaryOp,
  ConvInfo,
  DType,
  MatmulInfo,
  PoolInfo,
  ReduceOp,
  Storage,
  UnaryOp,
} from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';
import * as conv from './conv.js';
import * as ew from './elementwise.js';
import * as mm from './matmul.js';
import * as mv from './movement.js';
import * as norm from './norm.js';
import * as pool from './pool.js';
import * as red from './reduce.js';

/** dy, x, mean, variance and gamma: the inputs of batch norm's backward kernels. */
type NumArray5 = [NumArray, NumArray, NumArray, NumArray, NumArray];

/** A js backend tensor: its values in a typed array (subclasses may keep them elsewhere). */
export class JsStorage implements Storage {
  constructor(
    readonly backend: JsBackend,
    /** The values (the wasm backend may move them between a JS array and wasm memory). */
    public values: NumArray,
    readonly dtype: DType,
  ) {}
  get size(): number {
    return this.values.length;
  }
}

export class JsBackend implements Backend {
  readonly name: string;
  private readonly Float: Float32ArrayConstructor | Float64ArrayConstructor;

  constructor(options: { float64?: boolean } = {}) {
    this.Float = options.float64 ? Float64Array : Float32Array;
    this.name = options.float64 ? 'js-f64' : 'js';
  }

  /** The values of a storage this backend owns (throws for another backend's tensor). */
  protected v(s: Storage): NumArray {
    if (!(s instanceof JsStorage) || s.backend !== this) {
      throw new BackendError(
        `The ${this.name} backend was given a tensor that lives on the '${s.backend.name}' backend. ` +
          'Tensors made before setBackend() belong to the old backend: recreate them, or copy with rc.tensor(x.dataSync(), x.shape).',
      );
    }
    return s.values;
  }

  /** A new float array for a kernel's output (the wasm backend hands out wasm memory). */
  protected allocFloat(size: number): FloatArray {
    return new this.Float(size);
  }

  private f(size: number): FloatArray {
    return this.allocFloat(size);
  }

  protected wrap(values: NumArray, dtype: DType = 'float32'): Storage {
    return new JsStorage(this, values, dtype);
  }

  write(values: ArrayLike<number>, dtype: DType): Storage {
    const arr = dtype === 'int32' ? new Int32Array(values.length) : this.f(values.length);
    // set() converts as the element-wise copy would, at memcpy speed for a float32 source.
    arr.set(values);
    return this.wrap(arr, dtype);
  }

  /** The array itself as float32 storage (a copy on the float64 reference backend). */
  adopt(values: Float32Array): Storage {
    return this.Float === Float32Array
      ? this.wrap(values, 'float32')
      : this.write(values, 'float32');
  }

  read(s: Storage): Float32Array | Int32Array {
    const v = this.v(s);
    return s.dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v);
  }

  readF64(s: Storage): Float64Array {
    return Float64Array.from(this.v(s));
  }

  firstNonFinite(s: Storage): number {
    return firstNonFinite(this.v(s));
  }

  fill(size: number, value: number, dtype: DType): Storage {
    const arr = dtype === 'int32' ? new Int32Array(size) : this.f(size);
    arr.fill(value);
    return this.wrap(arr, dtype);
  }

  cast(x: Storage, dtype: DType): Storage {
    const v = this.v(x);
    if (dtype === 'int32')
      return this.wrap(
        Int32Array.from(v, (e) => Math.trunc(e)),
        'int32',
      );
    return this.wrap(this.Float.from(v), 'float32');
  }

  unary(op: UnaryOp, x: Storage): Storage {
    const out = this.f(x.size);
    ew.unary(op, this.v(x), out);
    return this.wrap(out);
  }

  /**
   * GELU's gradient in one pass (the reference the fast backends' kernels are checked against);
   * null for relu, tanh and sigmoid, whose reference is the composed ops.
   */
  activationGrad(op: ActivationGradOp, dy: Storage, v: Storage): Storage | null {
    if (op !== 'gelu' || dy.dtype !== 'float32' || v.dtype !== 'float32' || dy.size !== v.size) {
      return null;
    }
    const out = this.f(v.size);
    ew.geluGrad(this.v(dy), this.v(v), out);
    return this.wrap(out);
  }

  binary(
    op: BinaryOp,
    a: Storage,
    aShape: number[],
    b: Storage,
    bShape: number[],
    outShape: number[],
  ): Storage {
    const out = this.f(sizeOf(outShape));
    ew.binary(op, this.v(a), aShape, this.v(b), bShape, outShape, out);
    return this.wrap(out);
  }

  select(cond: Storage, a: Storage, b: Storage): Storage {
    const c = this.v(cond);
    const av = this.v(a);
    const bv = this.v(b);
    const out = this.f(c.length);
    for (let i = 0; i < c.length; i++) out[i] = c[i] !== 0 ? av[i]! : bv[i]!;
    return this.wrap(out);
  }

  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
    const outSize = sizeOf(shape.filter((_, i) => !axes.includes(i)));
    const out = this.f(outSize);
    red.reduce(op, this.v(x), shape, axes, out);
    return this.wrap(out);
  }

  argMax(x: Storage, shape: number[], axis: number): Storage {
    const out = new Int32Array(x.size / shape[axis]!);
    red.argMax(this.v(x), shape, axis, out);
    return this.wrap(out, 'int32');
  }

  softmax(x: Storage, shape: number[], axis: number, log: boolean): Storage {
    const out = this.f(x.size);
    red.softmax(this.v(x), shape, axis, log, out);
    return this.wrap(out);
  }

  matmul(a: Storage, b: Storage, info: MatmulInfo): Storage {
    const out = this.f(info.batch * info.m * info.n);
    mm.matmul(this.v(a), this.v(b), info, out);
    return this.wrap(out);
  }

  conv2d(x: Storage, w: Storage, info: ConvInfo): Storage {
    const out = this.f(info.batch * info.outH * info.outW * info.outC);
    conv.conv2d(this.v(x), this.v(w), info, out);
    return this.wrap(out);
  }

  conv2dBackwardInput(dy: Storage, w: Storage, info: ConvInfo): Storage {
    const out = this.f(info.batch * info.inH * info.inW * info.inC);
    conv.conv2dBackwardInput(this.v(dy), this.v(w), info, out);
    return this.wrap(out);
  }

  conv2dBackwardFilter(x: Storage, dy: Storage, info: ConvInfo): Storage {
    const out = this.f(info.kh * info.kw * (info.inC / info.groups) * info.outC);
    conv.conv2dBackwardFilter(this.v(x), this.v(dy), info, out);
    return this.wrap(out);
  }

  maxPool(x: Storage, info: PoolInfo): Storage {
    const out = this.f(info.batch * info.outH * info.outW * info.channels);
    pool.maxPool(this.v(x), info, out);
    return this.wrap(out);
  }

  maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage {
    const out = this.f(x.size);
    pool.maxPoolBackward(this.v(dy), this.v(x), info, out);
    return this.wrap(out);
  }

  avgPool(x: Storage, info: PoolInfo): Storage {
    const out = this.f(info.batch * info.outH * info.outW * info.channels);
    pool.avgPool(this.v(x), info, out);
    return this.wrap(out);
  }

  avgPoolBackward(dy: Storage, info: PoolInfo): Storage {
    const out = this.f(info.batch * info.inH * info.inW * info.channels);
    pool.avgPoolBackward(this.v(dy), info, out);
    return this.wrap(out);
  }

  batchNorm(
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    beta: Storage,
    channels: number,
    epsilon: number,
  ): Storage {
    const out = this.f(x.size);
    norm.batchNorm(
      this.v(x),
      this.v(mean),
      this.v(variance),
      this.v(gamma),
      this.v(beta),
      channels,
      epsilon,
      out,
    );
    return this.wrap(out);
  }

  batchNormBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ) {
    const dx = this.f(x.size);
    const [dMean, dVariance, dGamma, dBeta] = [0, 1, 2, 3].map(() => this.f(channels)) as [
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
    ];
    const v = [dy, x, mean, variance, gamma].map((s) => this.v(s)) as NumArray5;
    norm.batchNormBackward(...v, channels, epsilon, dx, dMean, dVariance, dGamma, dBeta);
    return {
      dx: this.wrap(dx),
      dMean: this.wrap(dMean),
      dVariance: this.wrap(dVariance),
      dGamma: this.wrap(dGamma),
      dBeta: this.wrap(dBeta),
    };
  }

  moments(x: Storage, channels: number): { mean: Storage; variance: Storage } {
    const mean = this.f(channels);
    const variance = this.f(channels);
    norm.moments(this.v(x), channels, mean, variance);
    return { mean: this.wrap(mean), variance: this.wrap(variance) };
  }

  batchNormTrainingBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ): { dx: Storage; dGamma: Storage; dBeta: Storage } {
    const dx = this.f(x.size);
    const [dGamma, dBeta] = [this.f(channels), this.f(channels)];
    const v = [dy, x, mean, variance, gamma].map((s) => this.v(s)) as NumArray5;
    norm.batchNormTrainingBackward(...v, channels, epsilon, dx, dGamma, dBeta);
    return { dx: this.wrap(dx), dGamma: this.wrap(dGamma), dBeta: this.wrap(dBeta) };
  }

  lrn(
    x: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage {
    const out = this.f(x.size);
    norm.lrn(this.v(x), channels, depthRadius, bias, alpha, beta, out);
    return this.wrap(out);
  }

  lrnBackward(
    x: Storage,
    dy: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage {
    const out = this.f(x.size);
    norm.lrnBackward(this.v(x), this.v(dy), channels, depthRadius, bias, alpha, beta, out);
    return this.wrap(out);
  }

  private like(x: Storage, size: number): NumArray {
    return x.dtype === 'int32' ? new Int32Array(size) : this.f(size);
  }

  transpose(x: Storage, shape: number[], perm: number[]): Storage {
    const out = this.like(x, x.size);
    mv.transpose(this.v(x), shape, perm, out);
    return this.wrap(out, x.dtype);
  }

  slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage {
    const out = this.like(x, sizeOf(size));
    mv.slice(this.v(x), shape, begin, size, out);
    return this.wrap(out, x.dtype);
  }

  pad(x: Storage, shape: number[], paddings: [number, number][], value: number): Storage {
    const out = this.like(x, sizeOf(shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1])));
    mv.pad(this.v(x), shape, paddings, value, out);
    return this.wrap(out, x.dtype);
  }

  concat(xs: Storage[], shapes: number[][], axis: number): Storage {
    const total = xs.reduce((a, s) => a + s.size, 0);
    const out = this.like(xs[0]!, total);
    mv.concat(
      xs.map((s) => this.v(s)),
      shapes,
      axis,
      out,
    );
    return this.wrap(out, xs[0]!.dtype);
  }

  oneHot(indices: Storage, depth: number): Storage {
    const out = this.f(indices.size * depth);
    mv.oneHot(this.v(indices), depth, out);
    return this.wrap(out);
  }
}
