/**
 * The kernel interface. A backend owns the storage of tensors and runs the small set of
 * kernels below; every op in `ops/` is a kernel call plus a gradient rule, or a composition
 * of other ops. A new backend (wasm, native) implements this list and nothing else.
 *
 * Shapes travel as plain number arrays; geometry of convolutions and pools is worked out
 * once in `ops/` and handed over as ConvInfo / PoolInfo so kernels only loop.
 */

export type DType = 'float32' | 'int32';

/** A backend-owned buffer. Only the owning backend looks inside. */
export interface Storage {
  readonly backend: Backend;
  readonly size: number;
  readonly dtype: DType;
}

export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'reciprocal'
  | 'relu'
  | 'step' // 1 where x > 0, else 0: the derivative of relu
  | 'sign'
  | 'tanh'
  | 'sigmoid'
  | 'erf';

/** Activations whose gradient a backend may compute in one pass (see Backend.activationGrad). */
export type ActivationGradOp = 'relu' | 'tanh' | 'sigmoid';

export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'equal'
  | 'greater';

export type ReduceOp = 'sum' | 'max' | 'min';

/** Geometry of a 2-D convolution, NHWC input, HWIO filter [kh, kw, inC/groups, outC]. */
/** What conv2dFused adds to a convolution as it writes the output, in this order. */
export interface ConvFusion {
  bias: Storage;
  residual?: Storage | null;
  relu?: boolean;
}

/** A batched matrix product's sizes: C[b] (m × n) = op(A[b]) (m × k) · op(B[b]) (k × n). */
export interface MatmulInfo {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored [k, m] (read transposed). */
  transA: boolean;
  /** B is stored [n, k] (read transposed). */
  transB: boolean;
}

export interface ConvInfo {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  groups: number;
}

/** Geometry of a 2-D pooling window over NHWC input (channels pooled independently). */
export interface PoolInfo {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

export interface Backend {
  readonly name: string;
  /** How many threads the kernels use (backends without threads leave it out: one). */
  readonly threads?: number;
  /** Asks for n threads; a backend may stay below (no shared memory, no workers). */
  setThreads?(n: number): void;

  // Scopes, for backends whose storage the garbage collector cannot see well (wasm memory):
  // train/step_scope.ts frees a step's intermediates deterministically through these.
  /** Starts recording the storages made from now on. Scopes nest. */
  beginScope?(): void;
  /**
   * Ends the innermost scope: frees what it made that `keep` lacks; returns the kept ones.
   * `detach`: results leave the backend's managed memory (predict's, handed to user code).
   */
  endScope?(keep: Set<Storage>, detach?: boolean): Storage[];
  /**
   * Takes a storage made in the open scopes out of them, so that no scope frees it (the garbage
   * collector does, once unreachable): for values cached across calls, such as folded weights.
   */
  persist?(s: Storage): void;
  /** Frees storages now; using them afterwards throws. */
  free?(storages: Iterable<Storage>): void;

  // Storage: the only crossing between user arrays and backend memory.
  write(values: ArrayLike<number>, dtype: DType): Storage;
  /** A copy of the values, float32 or int32 as the dtype says. */
  read(s: Storage): Float32Array | Int32Array;
  /**
   * The same, without blocking (Tensor.data): a GPU backend reads back from the device here.
   * Left out by the CPU backends, whose read is immediate.
   */
  readAsync?(s: Storage): Promise<Float32Array | Int32Array>;
  /** The values as float64 numbers (for tests and printing; a copy). */
  readF64(s: Storage): Float64Array;
  /**
   * The index of the first NaN or ±Infinity in s, or -1: read where the values live, without
   * the copy read() makes (fit checks every batch a dataset makes with it).
   */
  firstNonFinite(s: Storage): number;
  fill(size: number, value: number, dtype: DType): Storage;
  cast(x: Storage, dtype: DType): Storage;

  // Elementwise.
  unary(op: UnaryOp, x: Storage): Storage;
  /** Broadcasting binary op; shapes are aligned on the right as in NumPy. */
  binary(
    op: BinaryOp,
    a: Storage,
    aShape: number[],
    b: Storage,
    bShape: number[],
    outShape: number[],
  ): Storage;
  /** where(cond != 0, a, b), all three of outShape's size (no broadcasting). */
  select(cond: Storage, a: Storage, b: Storage): Storage;

  // Reductions over a set of axes; the result drops those axes.
  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage;
  /** int32 index of the largest value along one axis (first one on ties); drops the axis. */
  argMax(x: Storage, shape: number[], axis: number): Storage;
  /** softmax (or log-softmax) along one axis. */
  softmax(x: Storage, shape: number[], axis: number, log: boolean): Storage;

  // Linear algebra: C[b] = op(A[b]) · op(B[b]); A is [batch, m, k] (or [batch, k, m] if transA).
  matmul(a: Storage, b: Storage, info: MatmulInfo): Storage;

  // Convolution: forward, and its two gradients.
  conv2d(x: Storage, w: Storage, info: ConvInfo): Storage;
  conv2dBackwardInput(dy: Storage, w: Storage, info: ConvInfo): Storage;
  /**
   * Optional: conv2d(x, w) + bias (one value per output channel) + residual (of the output's
   * size, if given), then ReLU if `relu`, in one kernel; null where the backend leaves it to
   * the separate kernels. Values agree with those to the convolution's rounding.
   */
  conv2dFused?(x: Storage, w: Storage, info: ConvInfo, fused: ConvFusion): Storage | null;
  conv2dBackwardFilter(x: Storage, dy: Storage, info: ConvInfo): Storage;

  // Pooling; max pooling pads with -Infinity, average pooling counts real pixels only.
  maxPool(x: Storage, info: PoolInfo): Storage;
  maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage;
  avgPool(x: Storage, info: PoolInfo): Storage;
  avgPoolBackward(dy: Storage, info: PoolInfo): Storage;

  // Normalization over the last axis (channels), statistics given.
  batchNorm(
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    beta: Storage,
    channels: number,
    epsilon: number,
  ): Storage;
  /** Gradients of batchNorm w.r.t. x, mean, variance, gamma, beta. */
  batchNormBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ): { dx: Storage; dMean: Storage; dVariance: Storage; dGamma: Storage; dBeta: Storage };
  /** TensorFlow's local response normalization across the last axis. */
  lrn(
    x: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage;
  lrnBackward(
    x: Storage,
    dy: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage;

  // Data movement.
  transpose(x: Storage, shape: number[], perm: number[]): Storage;
  slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage;
  /** Pads each axis with [before, after] copies of `value`. */
  pad(x: Storage, shape: number[], paddings: [number, number][], value: number): Storage;
  concat(xs: Storage[], shapes: number[][], axis: number): Storage;
  /** One-hot rows of length `depth` for int32 indices; out-of-range indices give zero rows. */
  oneHot(indices: Storage, depth: number): Storage;

  /**
   * Optional: an activation's gradient in one pass from the upstream gradient dy and v, both of
   * one size (relu: its input x; tanh and sigmoid: their output y). It must give exactly the
   * float32 values of the ops that ops/activations.ts composes where a backend leaves this out
   * or returns null: relu dy·step(x), tanh dy·(1 − y·y), sigmoid dy·(y·(1 − y)).
   */
  activationGrad?(op: ActivationGradOp, dy: Storage, v: Storage): Storage | null;

  /**
   * Optional: one Adam step of one parameter in a single pass (optim/adam.ts composes it from
   * elementwise ops where a backend leaves this out or returns null). It must give exactly the
   * composed ops' float32 values; vMax is the AMSGrad slot, null without AMSGrad.
   */
  adamUpdate?(
    p: Storage,
    g: Storage,
    m: Storage,
    v: Storage,
    vMax: Storage | null,
    h: AdamScalars,
  ): { p: Storage; m: Storage; v: Storage; vMax: Storage | null } | null;
}

/** The scalars of one Adam step, as optim/adam.ts computes them (step t, learning rate lr). */
export interface AdamScalars {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** sqrt(1 − beta2^t): the second moment's bias correction. */
  sqrtBias2: number;
  /** lr / (1 − beta1^t). */
  stepSize: number;
}
