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

export type NestedArray = number | NestedArray[];
export type TensorLike = NestedArray | Float32Array | Int32Array | Float64Array | Uint8Array;

let backwardImpl: ((t: Tensor, grad?: Tensor) => void) | null = null;
/** autograd.ts installs the backward walk here (tensor.ts may not import it: one direction). */
export function installBackward(fn: (t: Tensor, grad?: Tensor) => void): void {
  backwardImpl = fn;
}

export class Tensor {
  readonly shape: number[];
  readonly dtype: DType;
  /** Replaced (never mutated) when a weight is updated; see nn/variable.ts. */
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

  get size(): number {
    return this.storage.size;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Whether gradients flow to this tensor: set it on leaves; ops set it on their outputs. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

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
    const flat = this.dataSync();
    if (this.shape.length === 0) return flat[0]!;
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim]!;
      const inner = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        out.push(
          dim === this.shape.length - 1 ? flat[offset + i]! : build(dim + 1, offset + i * inner),
        );
      }
      return out;
    };
    return build(0, 0);
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

/**
 * Makes a tensor from numbers: nested arrays (shape inferred), or a flat array or typed
 * array with a shape. Int32Array gives int32 unless dtype says otherwise.
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
  const finalShape = shape ?? inferred;
  checkShape(finalShape, 'tensor');
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(
      `tensor: ${flat.length} values cannot fill shape ${fmtShape(finalShape)} (${sizeOf(finalShape)} values). ` +
        'Give as many values as the product of the shape.',
    );
  }
  if (dtype === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i])) {
        throw new DTypeError(
          `tensor: int32 tensors hold integers; value ${flat[i]} at index ${i} is not one.`,
        );
      }
    }
  }
  return new Tensor(backend().write(flat, dtype), [...finalShape], dtype);
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor(value, [], dtype);
}

export function full(shape: number[], value: number, dtype: DType = 'float32'): Tensor {
  checkShape(shape, 'full');
  return new Tensor(backend().fill(sizeOf(shape), value, dtype), [...shape], dtype);
}

export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  checkShape(shape, 'zeros');
  return full(shape, 0, dtype);
}

export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  checkShape(shape, 'ones');
  return full(shape, 1, dtype);
}

export function zerosLike(x: Tensor): Tensor {
  return full(x.shape, 0, x.dtype);
}

export function onesLike(x: Tensor): Tensor {
  return full(x.shape, 1, x.dtype);
}

export interface RandomOptions {
  /** A seed makes the values repeat; without one the library's global generator is used. */
  seed?: number;
}

function rngFor(options: RandomOptions): Random {
  return options.seed === undefined ? globalRandom : new Random(options.seed);
}

/** Normal values with the given mean and standard deviation. */
export function randn(
  shape: number[],
  options: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  checkShape(shape, 'randn');
  const rng = rngFor(options);
  const { mean = 0, std = 1 } = options;
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = mean + std * rng.normal();
  return tensor(v, shape);
}

/** Uniform values in [min, max). */
export function randomUniform(
  shape: number[],
  options: RandomOptions & { min?: number; max?: number } = {},
): Tensor {
  checkShape(shape, 'randomUniform');
  const rng = rngFor(options);
  const { min = 0, max = 1 } = options;
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(min, max);
  return tensor(v, shape);
}

/** Values 0, 1, ... n-1 (float32 unless dtype says int32). */
export function range(n: number, dtype: DType = 'float32'): Tensor {
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
