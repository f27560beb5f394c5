/**
 * Tensor: a shape, a dtype and a handle to storage owned by a backend. Values never sit in
 * a raw array that ops reach into; only the backend and dataSync()/tensor() cross that line.
 *
 * The autograd fields (requiresGrad, grad, node) live here so that every tensor can sit
 * on the tape; the tape itself (recording and the backward walk) is in autograd.ts.
 */
import type { DType, Storage } from './backend/backend.js';
import { backend } from './backend/registry.js';
import { ArgumentError, DTypeError, fmtShape, GradientError, ShapeError } from './util/errors.js';
import { globalRandom, Random } from './util/random.js';
import { checkShape, sizeOf } from './util/shape.js';

/** How a tensor was made: its inputs and the rule that turns dL/d(output) into dL/d(inputs). */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Returns one gradient per input, or null where an input needs none. */
  backward: (dy: Tensor) => (Tensor | null)[];
}

/** A number, or arrays of them nested to any depth: `[[1, 2], [3, 4]]` is a 2×2 tensor's values. */
export type NestedArray = number | NestedArray[];
/**
 * What {@link tensor} accepts: nested arrays (shape inferred) or a flat typed array (give the shape).
 */
export type TensorLike = NestedArray | Float32Array | Int32Array | Float64Array | Uint8Array;

let backwardImpl: ((t: Tensor, grad?: Tensor) => void) | null = null;
/** autograd.ts installs the backward walk here (tensor.ts may not import it: one direction). */
export function installBackward(fn: (t: Tensor, grad?: Tensor) => void): void {
  backwardImpl = fn;
}

/** Flat row-major values as nested arrays of the given shape (a number for a scalar). */
function nest(flat: Float32Array | Int32Array, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0]!;
  const build = (dim: number, offset: number): NestedArray[] => {
    const n = shape[dim]!;
    const inner = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++)
      out.push(dim === shape.length - 1 ? flat[offset + i]! : build(dim + 1, offset + i * inner));
    return out;
  };
  return build(0, 0);
}

/**
 * An n-dimensional array of float32 or int32 values, held by the backend that was current when
 * it was made (`js`, `wasm` or `native`). Tensors are immutable: ops make new ones. Images are
 * NHWC (`[batch, height, width, channels]`), convolution kernels HWIO
 * (`[kh, kw, inChannels / groups, filters]`).
 *
 * Gradients: set `requiresGrad` on a leaf, compute a scalar from it, call `backward()`, read
 * `.grad`. Memory is the garbage collector's job; there is no `dispose()`.
 *
 * @example
 * ```ts
 * const w = rc.tensor([[1, 2], [3, 4]]);   // float32 [2, 2]
 * w.requiresGrad = true;
 * rc.sum(rc.mul(w, w)).backward();
 * w.grad!.toArray();                        // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor {
  /** The size of each axis; `[]` for a scalar. Do not mutate it. */
  readonly shape: number[];
  /** `'float32'` (values, weights, gradients) or `'int32'` (class ids, indices). */
  readonly dtype: DType;
  /** Replaced, never mutated, when a weight is updated (optim/optimizer.ts's step, Layer.setWeights). */
  storage: Storage;
  /** The gradient of the last backward() with respect to this tensor (leaf tensors only). */
  grad: Tensor | null = null;
  /** Set by the op that made this tensor while gradients are recorded. */
  node: GradNode | null = null;
  /**
   * Set by softmax over the last axis: the logits it came from, so cross-entropy on these
   * probabilities can be computed from the logits, exactly, in training and inference alike
   * (what Keras does with its _keras_logits).
   */
  logits?: Tensor;
  /** A name for messages and summaries (weights get their layer's name). */
  name?: string;
  private _requiresGrad = false;

  constructor(storage: Storage, shape: number[], dtype: DType = storage.dtype) {
    this.storage = storage;
    this.shape = shape;
    this.dtype = dtype;
  }

  /** The number of values: the product of the shape (1 for a scalar). */
  get size(): number {
    return this.storage.size;
  }

  /** The number of axes: 0 for a scalar, 4 for a batch of NHWC images. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether gradients flow to this tensor: set it on leaves; ops set it on their outputs. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  /** @throws DTypeError when set on an int32 tensor: only float32 values have gradients */
  set requiresGrad(v: boolean) {
    if (v && this.dtype !== 'float32') {
      throw new DTypeError(
        `requiresGrad: only float32 tensors can have gradients; this tensor is ${this.dtype}.`,
      );
    }
    this._requiresGrad = v;
  }

  /** A copy of the values as a flat row-major typed array. */
  dataSync(): Float32Array | Int32Array {
    return this.storage.backend.read(this.storage);
  }

  /** The values as nested arrays of numbers, shaped like the tensor. */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  /**
   * A copy of the values as a flat row-major typed array, without blocking: on the CPU
   * backends (js, wasm, native) it resolves with dataSync()'s values; a GPU backend reads
   * them back from the device meanwhile (and offers only these async readers).
   */
  async data(): Promise<Float32Array | Int32Array> {
    const { backend } = this.storage;
    return backend.readAsync ? backend.readAsync(this.storage) : backend.read(this.storage);
  }

  /** The values as nested arrays of numbers, shaped like the tensor, without blocking (see data()). */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ShapeError(
        `item: the tensor must hold exactly one value, but its shape is ${fmtShape(this.shape)}.`,
      );
    }
    return this.dataSync()[0]!;
  }

  /**
   * Reverse pass: fills `.grad` of every leaf with requiresGrad that this tensor depends on.
   * From a scalar by default; pass `grad` (same shape) to start from another upstream gradient.
   */
  backward(grad?: Tensor): void {
    if (!backwardImpl) throw new GradientError('backward: autograd is not loaded.');
    backwardImpl(this, grad);
  }

  /** The same values without a place on the tape. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.dtype);
  }

  /** `Tensor([2, 3], float32, [[...]])`: the values when there are at most 20, else their count. */
  toString(): string {
    const vals = this.size <= 20 ? JSON.stringify(this.toArray()) : `${this.size} values`;
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${vals})`;
  }
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0]!;
  }
  return shape;
}

function flatten(values: NestedArray, shape: number[], out: number[], dim = 0): void {
  if (dim === shape.length) {
    if (Array.isArray(values)) {
      throw new ShapeError(
        `tensor: nested arrays are ragged: expected a number at depth ${dim} (shape ${fmtShape(shape)}), ` +
          `got ${JSON.stringify(values)}. Every row must have the same length.`,
      );
    }
    if (typeof values !== 'number') {
      throw new ArgumentError(
        `tensor: expected a number at depth ${dim}, got ${JSON.stringify(values)}.`,
      );
    }
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[dim]) {
    throw new ShapeError(
      `tensor: nested arrays are ragged: expected ${shape[dim]} entries at depth ${dim} (shape ${fmtShape(shape)}), ` +
        `got ${Array.isArray(values) ? values.length : 'a number'}. Every row must have the same length.`,
    );
  }
  for (const v of values) flatten(v, shape, out, dim + 1);
}

/** The most elements one tensor may hold: kernels index with 32-bit integers. */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Refuses dtypes other than float32 and int32 at creation, not at the first op. */
function checkDType(dtype: unknown, op: string): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new DTypeError(
      `${op}: dtype ${JSON.stringify(dtype)} is not supported; receptive tensors are 'float32' or 'int32'. ` +
        "Convert the values first (bool to 0/1 with 'int32', float64 to 'float32').",
    );
  }
}

/**
 * Checks a shape for creation: non-negative integers, and few enough elements to allocate,
 * so that a huge shape is an error naming the op rather than "Invalid typed array length".
 */
function checkCreatable(shape: readonly number[], op: string): number {
  checkShape(shape, op);
  const n = sizeOf(shape);
  if (n > MAX_TENSOR_SIZE) {
    throw new ShapeError(
      `${op}: shape ${fmtShape(shape)} has ${n.toLocaleString('en-US')} elements, more than a tensor may hold ` +
        `(${MAX_TENSOR_SIZE.toLocaleString('en-US')}, 2^31 - 1). Use a smaller shape, or split the data into batches.`,
    );
  }
  return n;
}

/** Allocation that fails anyway (the backend's memory is full) is said with the op and shape. */
function allocate<T>(op: string, shape: readonly number[], make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof RangeError) && !/memory/i.test((e as Error)?.message ?? '')) throw e;
    throw new ShapeError(
      `${op}: could not allocate shape ${fmtShape(shape)} (${sizeOf(shape).toLocaleString('en-US')} elements, ` +
        `${((sizeOf(shape) * 4) / 2 ** 30).toFixed(1)} GiB): ${(e as Error).message}. Use a smaller shape, or split the data into batches.`,
    );
  }
}

/** int32 values must be integers in the int32 range: no silent rounding or wraparound. */
function checkInt32(values: ArrayLike<number>, op: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) {
      throw new DTypeError(
        `${op}: int32 tensors hold integers; value ${v} at index ${i} is not one.`,
      );
    }
    if (v < INT32_MIN || v > INT32_MAX) {
      throw new DTypeError(
        `${op}: value ${v} at index ${i} does not fit in int32 (${INT32_MIN}..${INT32_MAX}); it would wrap around. Use 'float32' for large values.`,
      );
    }
  }
}

/**
 * Makes a tensor from numbers: nested arrays (shape inferred), or a flat array or typed
 * array with a shape. Int32Array gives int32 unless dtype says otherwise; everything else
 * is float32 by default.
 *
 * @param shape - defaults to the nested arrays' shape, or `[length]` for a typed array
 * @throws ShapeError if the values cannot fill `shape`, or nested arrays are ragged
 * @throws ArgumentError for values that are not numbers, or int32 values out of range
 * @example
 * ```ts
 * rc.tensor([[1, 2, 3], [4, 5, 6]]);                 // float32 [2, 3]
 * rc.tensor(Int32Array.from([0, 2, 1]));             // int32 [3]: class ids
 * rc.tensor(new Float32Array(784), [1, 28, 28, 1]);  // one NHWC image
 * ```
 */
export function tensor(values: TensorLike, shape?: number[], dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values;
    inferred = [values.length];
    dtype ??= values instanceof Int32Array ? 'int32' : 'float32';
  } else if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else if (Array.isArray(values)) {
    inferred = inferShape(values);
    const out: number[] = [];
    flatten(values, inferred, out);
    flat = out;
  } else {
    throw new ArgumentError(
      `tensor: values must be a number, nested arrays or a typed array, got ${typeof values}.`,
    );
  }
  dtype ??= 'float32';
  checkDType(dtype, 'tensor');
  const finalShape = shape ?? inferred;
  checkCreatable(finalShape, 'tensor');
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(
      `tensor: ${flat.length} values cannot fill shape ${fmtShape(finalShape)} (${sizeOf(finalShape)} values). ` +
        'Give as many values as the product of the shape.',
    );
  }
  if (dtype === 'int32') checkInt32(flat, 'tensor');
  const dt = dtype;
  return new Tensor(
    allocate('tensor', finalShape, () => backend().write(flat, dt)),
    [...finalShape],
    dtype,
  );
}

/**
 * A rank-0 tensor holding one value (`shape` is `[]`).
 */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor(value, [], dtype);
}

/**
 * A tensor of `shape` with every value `value` (float32 unless `dtype` says int32).
 * @throws ShapeError for a shape that is not a list of non-negative integers, or too large
 * @throws ArgumentError if `value` is not a number, or does not fit in int32 for `dtype` int32
 */
export function full(shape: number[], value: number, dtype: DType = 'float32'): Tensor {
  return filled('full', shape, value, dtype);
}

function filled(op: string, shape: number[], value: number, dtype: DType): Tensor {
  checkDType(dtype, op);
  const n = checkCreatable(shape, op);
  if (typeof value !== 'number')
    throw new ArgumentError(
      `${op}: the fill value must be a number, got ${JSON.stringify(value)}.`,
    );
  if (dtype === 'int32') checkInt32([value], op);
  return new Tensor(
    allocate(op, shape, () => backend().fill(n, value, dtype)),
    [...shape],
    dtype,
  );
}

/** A tensor of `shape` filled with 0 (float32 unless `dtype` says int32). */
export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  return filled('zeros', shape, 0, dtype);
}

/** A tensor of `shape` filled with 1 (float32 unless `dtype` says int32). */
export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  return filled('ones', shape, 1, dtype);
}

/** Zeros with the shape and dtype of `x`. */
export function zerosLike(x: Tensor): Tensor {
  return full(x.shape, 0, x.dtype);
}

/** Ones with the shape and dtype of `x`. */
export function onesLike(x: Tensor): Tensor {
  return full(x.shape, 1, x.dtype);
}

export interface RandomOptions {
  /** A seed makes the values repeat; without one the library's global generator is used. */
  seed?: number;
}

function rngFor(options: RandomOptions, op: string): Random {
  if (options.seed === undefined) return globalRandom;
  if (!Number.isInteger(options.seed))
    throw new ArgumentError(`${op}: seed must be an integer, got ${options.seed}.`);
  return new Random(options.seed);
}

function finite(value: number, name: string, op: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ArgumentError(`${op}: ${name} must be a finite number, got ${value}.`);
  return value;
}

/** Normal values with the given mean and standard deviation. */
export function randn(
  shape: number[],
  options: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  const n = checkCreatable(shape, 'randn');
  const { mean = 0, std = 1 } = options;
  finite(mean, 'mean', 'randn');
  if (!(finite(std, 'std', 'randn') >= 0))
    throw new ArgumentError(`randn: std must be >= 0 (a standard deviation), got ${std}.`);
  const rng = rngFor(options, 'randn');
  const v = allocate('randn', shape, () => new Float32Array(n));
  for (let i = 0; i < v.length; i++) v[i] = mean + std * rng.normal();
  return tensor(v, shape);
}

/** Uniform values in [min, max). */
export function randomUniform(
  shape: number[],
  options: RandomOptions & { min?: number; max?: number } = {},
): Tensor {
  const n = checkCreatable(shape, 'randomUniform');
  const { min = 0, max = 1 } = options;
  finite(min, 'min', 'randomUniform');
  finite(max, 'max', 'randomUniform');
  if (min > max)
    throw new ArgumentError(
      `randomUniform: min (${min}) is greater than max (${max}); give min <= max.`,
    );
  const rng = rngFor(options, 'randomUniform');
  const v = allocate('randomUniform', shape, () => new Float32Array(n));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(min, max);
  return tensor(v, shape);
}

/** Values 0, 1, ... n-1 (float32 unless dtype says int32). */
export function range(n: number, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new ArgumentError(`range: n must be a non-negative integer, got ${n}.`);
  checkCreatable([n], 'range');
  return tensor(
    Array.from({ length: n }, (_, i) => i),
    [n],
    dtype,
  );
}

/** One-hot rows: int class ids of shape [...] become float32 [..., depth]. */
export function oneHot(indices: Tensor | number[], depth: number): Tensor {
  const ids = indices instanceof Tensor ? indices : tensor(indices, undefined, 'int32');
  if (!Number.isInteger(depth) || depth < 1) {
    throw new ArgumentError(`oneHot: depth must be a positive integer, got ${depth}.`);
  }
  if (ids.dtype !== 'int32') {
    throw new DTypeError(
      `oneHot: indices must be int32 class ids, got ${ids.dtype}. Use rc.tensor(ids, shape, 'int32').`,
    );
  }
  const vals = ids.dataSync();
  for (let i = 0; i < vals.length; i++) {
    if (vals[i]! < 0 || vals[i]! >= depth) {
      throw new ArgumentError(
        `oneHot: index ${vals[i]} at position ${i} is outside 0..${depth - 1}.`,
      );
    }
  }
  return new Tensor(
    ids.storage.backend.oneHot(ids.storage, depth),
    [...ids.shape, depth],
    'float32',
  );
}

/**
 * Makes the tensors' values readable synchronously (dataSync) on a backend whose reads are
 * asynchronous (webgpu): each is copied to the CPU once and the copy kept. Elsewhere a no-op.
 * Model saving and export call it for the weights, then read them as on any backend.
 */
export async function makeReadable(tensors: Iterable<Tensor>): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const t of tensors) {
    const be = t.storage.backend;
    if (be.makeReadable) waits.push(be.makeReadable(t.storage));
  }
  await Promise.all(waits);
}
