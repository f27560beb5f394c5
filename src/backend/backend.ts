/**
 * The kernel interface. A backend owns the storage of tensors and runs the small set of
 * kernels below; every op in `ops/` is a kernel call plus a gradient rule, or a composition
 * of other ops. A new backend (wasm, native) implements this list and nothing else.
 *
 * Shapes travel as plain number arrays; geometry of convolutions and pools is worked out
 * once in `ops/` and handed over as ConvInfo / PoolInfo so kernels only loop.
 */

/** A tensor's element type: float32 values or int32 integers (class ids, indices). */
export type DType = 'float32' | 'int32';

/** A backend-owned buffer. Only the owning backend looks inside. */
export interface Storage {
  /** The backend that owns it. */
  readonly backend: Backend;
  /** The number of values. */
  readonly size: number;
  /** Their type. */
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
  | 'erf'
  // x·0.5·(1 + erf(x·√½)), each product rounded to float32 in that order: the composed ops'
  // values bit for bit, with the backend's own erf.
  | 'gelu';

/** Activations whose gradient a backend may compute in one pass (see Backend.activationGrad). */
export type ActivationGradOp = 'relu' | 'tanh' | 'sigmoid' | 'gelu';

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

/** Geometry of a 2-D convolution, NHWC input, HWIO filter [kh, kw, inC/groups, outC]. */
export interface ConvInfo {
  /** Images in the batch. */
  batch: number;
  /** Input height. */
  inH: number;
  /** Input width. */
  inW: number;
  /** Input channels. */
  inC: number;
  /** Output height. */
  outH: number;
  /** Output width. */
  outW: number;
  /** Output channels (filters). */
  outC: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Vertical stride. */
  strideH: number;
  /** Horizontal stride. */
  strideW: number;
  /** Vertical spacing of the taps. */
  dilationH: number;
  /** Horizontal spacing of the taps. */
  dilationW: number;
  /** Zero rows above. */
  padTop: number;
  /** Zero columns on the left. */
  padLeft: number;
  /** Zero rows below. */
  padBottom: number;
  /** Zero columns on the right. */
  padRight: number;
  /** Channel groups (inC and outC divide by it). */
  groups: number;
}

/** Geometry of a 2-D pooling window over NHWC input (channels pooled independently). */
export interface PoolInfo {
  /** Images in the batch. */
  batch: number;
  /** Input height. */
  inH: number;
  /** Input width. */
  inW: number;
  /** Channels (pooled independently). */
  channels: number;
  /** Output height. */
  outH: number;
  /** Output width. */
  outW: number;
  /** Window height. */
  kh: number;
  /** Window width. */
  kw: number;
  /** Vertical stride. */
  strideH: number;
  /** Horizontal stride. */
  strideW: number;
  /** Padding rows above. */
  padTop: number;
  /** Padding columns on the left. */
  padLeft: number;
  /** Padding rows below. */
  padBottom: number;
  /** Padding columns on the right. */
  padRight: number;
}

/**
 * The kernel interface a backend implements (`js`, `wasm`, `native`); see {@link registerBackend}.
 * Every op is a kernel call plus a gradient rule, so a new backend implements this list and
 * nothing else. Kernels take and return {@link Storage}s; shapes travel as number arrays, and
 * convolution and pooling geometry arrives worked out ({@link ConvInfo}, {@link PoolInfo}).
 * Optional members may be left out (or return null) and the composed ops run instead.
 */
export interface Backend {
  /** The name setBackend knows it by. */
  readonly name: string;
  /** How many threads the kernels use (backends without threads leave it out: one). */
  readonly threads?: number;
  /** Asks for n threads; a backend may stay below (no shared memory, no workers). */
  setThreads?(n: number): void;
  /**
   * Reads of computed values are asynchronous only (a GPU): `read` refuses them, and the
   * training loop keeps its losses and metrics on the device, reading them every few batches.
   */
  readonly deferReads?: boolean;

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
  /** How many scopes are open (0: outside every step). */
  scopeDepth?(): number;

  // Storage: the only crossing between user arrays and backend memory.
  /** New storage holding `values` (int32 values are integers already). */
  write(values: ArrayLike<number>, dtype: DType): Storage;
  /**
   * New float32 storage that takes `values` as its own, for a caller that gives them up (the
   * ONNX import's weights): no copy where the backend keeps float32 arrays; left out, write.
   */
  adopt?(values: Float32Array): Storage;
  /** A copy of the values, float32 or int32 as the dtype says. */
  read(s: Storage): Float32Array | Int32Array;
  /**
   * The same, without blocking (Tensor.data): a GPU backend reads back from the device here.
   * Left out by the CPU backends, whose read is immediate.
   */
  readAsync?(s: Storage): Promise<Float32Array | Int32Array>;
  /**
   * For backends whose reads are asynchronous (deferReads): copies s to the CPU and keeps the
   * copy, so that `read` works on it from then on (storages never change). Model saving and
   * export await it for the weights before they read them.
   */
  makeReadable?(s: Storage): Promise<void>;
  /** The values as float64 numbers (for tests and printing; a copy). */
  readF64(s: Storage): Float64Array;
  /**
   * The index of the first NaN or ±Infinity in s, or -1: read where the values live, without
   * the copy read() makes (fit checks every batch a dataset makes with it).
   */
  firstNonFinite(s: Storage): number;
  /** New storage of `size` copies of `value`. */
  fill(size: number, value: number, dtype: DType): Storage;
  /** The values converted to `dtype` (float32 → int32 truncates toward zero). */
  cast(x: Storage, dtype: DType): Storage;

  // Elementwise.
  /** An elementwise function of one operand. */
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
  /** Sum, max or min over `axes` of x (of `shape`); the result drops those axes. */
  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage;
  /** int32 index of the largest value along one axis (first one on ties); drops the axis. */
  argMax(x: Storage, shape: number[], axis: number): Storage;
  /** softmax (or log-softmax) along one axis. */
  softmax(x: Storage, shape: number[], axis: number, log: boolean): Storage;

  // Linear algebra: C[b] = op(A[b]) · op(B[b]); A is [batch, m, k] (or [batch, k, m] if transA).
  /** The batched matrix product C (batch × m × n). */
  matmul(a: Storage, b: Storage, info: MatmulInfo): Storage;

  // Convolution: forward, and its two gradients.
  /** The convolution's output, NHWC [batch, outH, outW, outC]. */
  conv2d(x: Storage, w: Storage, info: ConvInfo): Storage;
  /** dL/dx from dL/dy: the transposed convolution of dy with w, of the input's size. */
  conv2dBackwardInput(dy: Storage, w: Storage, info: ConvInfo): Storage;
  /**
   * Optional: conv2d(x, w) + bias (one value per output channel) + residual (of the output's
   * size, if given), then ReLU if `relu`, in one kernel; null where the backend leaves it to
   * the separate kernels. Values agree with those to the convolution's rounding.
   */
  conv2dFused?(x: Storage, w: Storage, info: ConvInfo, fused: ConvFusion): Storage | null;
  /** dL/dw from x and dL/dy, of the filter's size. */
  conv2dBackwardFilter(x: Storage, dy: Storage, info: ConvInfo): Storage;

  // Pooling; max pooling pads with -Infinity, average pooling counts real pixels only.
  /** The largest value of each window. */
  maxPool(x: Storage, info: PoolInfo): Storage;
  /** dL/dx: each window's gradient to its first maximum. */
  maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage;
  /** The mean of each window's real pixels. */
  avgPool(x: Storage, info: PoolInfo): Storage;
  /** dL/dx: each window's gradient spread evenly over its real pixels. */
  avgPoolBackward(dy: Storage, info: PoolInfo): Storage;

  // Normalization over the last axis (channels), statistics given.
  /** (x − mean) / sqrt(variance + epsilon) · gamma + beta, per channel of the last axis. */
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
  ): {
    /** dL/dx, of x's size. */
    dx: Storage;
    /** dL/dmean, [channels]. */
    dMean: Storage;
    /** dL/dvariance, [channels]. */
    dVariance: Storage;
    /** dL/dgamma, [channels]. */
    dGamma: Storage;
    /** dL/dbeta, [channels]. */
    dBeta: Storage;
  };
  /**
   * Optional: training-mode batch norm's statistics in one pass over x: per channel of the last
   * axis, the mean and the biased variance (divided by N, the number of values of a channel)
   * over every other axis, accumulated in float64 so that a large mean costs no accuracy. Both
   * [channels]; NaN for every channel when x is empty (N = 0), as the composed mean is.
   * ops/norm.ts composes them from mean, sub and square where a backend leaves this out.
   */
  moments?(
    x: Storage,
    channels: number,
  ): {
    /** The mean of each channel, [channels]. */
    mean: Storage;
    /** The mean squared deviation of each channel (÷ N), [channels]. */
    variance: Storage;
  };
  /**
   * Optional: training-mode batch norm's backward, with mean and variance x's own batch
   * statistics (from moments), so that dx includes their gradient:
   * dx = γ·r/N·(N·dy − Σdy − x̂·Σ(dy·x̂)) with r = 1/√(variance + ε), x̂ = (x − mean)·r, the sums
   * per channel over the N values of each (in float64). A backend with moments has this too;
   * ops/norm.ts then uses both, else it composes moments and differentiates batchNorm through them.
   */
  batchNormTrainingBackward?(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ): {
    /** dL/dx, of x's size. */
    dx: Storage;
    /** dL/dgamma = Σ dy·x̂, [channels]. */
    dGamma: Storage;
    /** dL/dbeta = Σ dy, [channels]. */
    dBeta: Storage;
  };
  /** TensorFlow's local response normalization across the last axis. */
  lrn(
    x: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage;
  /** dL/dx of lrn from x and dL/dy. */
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
  /** x (of `shape`) with its axes reordered: output axis i is input axis perm[i]. */
  transpose(x: Storage, shape: number[], perm: number[]): Storage;
  /** The block of x (of `shape`) starting at `begin`, of `size`. */
  slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage;
  /** Pads each axis with [before, after] copies of `value`. */
  pad(x: Storage, shape: number[], paddings: [number, number][], value: number): Storage;
  /** The inputs (of `shapes`, equal but on `axis`) joined along `axis`. */
  concat(xs: Storage[], shapes: number[][], axis: number): Storage;
  /** One-hot rows of length `depth` for int32 indices; out-of-range indices give zero rows. */
  oneHot(indices: Storage, depth: number): Storage;

  /**
   * Optional: an activation's gradient in one pass from the upstream gradient dy and v, both of
   * one size (relu and gelu: their input x; tanh and sigmoid: their output y). It must give
   * exactly the float32 values of the ops that ops/activations.ts composes where a backend leaves
   * this out or returns null: relu dy·step(x), tanh dy·(1 − y·y), sigmoid dy·(y·(1 − y)), gelu
   * dy·(Φ + x·φ) with Φ = (1 + erf(x·√½))·0.5 and φ = exp(x²·(−0.5))·(1/√(2π)) (see
   * ops/activations.ts geluGradComposed for the exact order).
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
  ): {
    /** The updated parameter. */
    p: Storage;
    /** The updated first moment. */
    m: Storage;
    /** The updated second moment. */
    v: Storage;
    /** The updated AMSGrad maximum, or null. */
    vMax: Storage | null;
  } | null;

  /**
   * Optional: one SGD step of one parameter in a single pass (optim/sgd.ts composes it from
   * elementwise ops where a backend leaves this out or returns null). It must give exactly the
   * composed ops' float32 values; buf is the momentum slot, null without momentum.
   */
  sgdUpdate?(
    p: Storage,
    g: Storage,
    buf: Storage | null,
    h: SgdScalars,
  ): {
    /** The updated parameter. */
    p: Storage;
    /** The updated momentum buffer, or null. */
    buf: Storage | null;
  } | null;
}

/** The scalars of one SGD step, as optim/sgd.ts uses them. */
export interface SgdScalars {
  /** The learning rate of this step. */
  learningRate: number;
  /** The momentum factor (used only with a buffer). */
  momentum: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** The L2 penalty of this step (the optimizer's weight decay times its multiplier; 0: none). */
  weightDecay: number;
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
