/**
 * Layers for the tensor operations that imported graphs (ONNX) are made of and that Keras also
 * has as layers: Permute, Softmax / LogSoftmax over any axis, ELU with its alpha, Clip, and
 * arithmetic with a stored constant (a normalization's mean and scale, a bias on its own).
 */
import { elu, logSoftmax, softmax } from '../../ops/activations.js';
import { add, div, maximum, minimum, mul, sub } from '../../ops/elementwise.js';
import { transpose } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import { normalizeAxis } from '../../util/shape.js';
import type { LayerArgs, LayerConfig, Shape } from '../layer.js';
import { fmtSymShape, Layer, registerLayer } from '../layer.js';

export interface PermuteArgs extends LayerArgs {
  /** The new order of the axes of one example, counted from 1 (the batch axis stays first), as Keras's Permute. */
  dims: number[];
}

/** Reorders the axes of each example: dims [3, 1, 2] turns [batch, h, w, c] into [batch, c, h, w]. */
export class Permute extends Layer {
  static override className = 'Permute';
  static override configFields = ['dims'];
  readonly dims: number[];
  constructor(args: PermuteArgs) {
    super(args);
    const d = args?.dims;
    if (
      !Array.isArray(d) ||
      d.length === 0 ||
      [...d].sort((a, b) => a - b).some((v, i) => v !== i + 1)
    ) {
      throw new ArgumentError(
        `${this.label}: dims must be a permutation of 1..n (the axes of one example, the batch axis not counted), got ${JSON.stringify(d)}.`,
      );
    }
    this.dims = [...d];
  }
  call(x: Tensor): Tensor {
    this.computeOutputShape(x.shape);
    return transpose(x, [0, ...this.dims]);
  }
  computeOutputShape(s: Shape): Shape {
    if (s.length !== this.dims.length + 1) {
      throw new ShapeError(
        `${this.label}: dims ${JSON.stringify(this.dims)} permute examples of rank ${this.dims.length}, got input of shape ${fmtSymShape(s)}.`,
      );
    }
    return [s[0] ?? null, ...this.dims.map((a) => s[a] ?? null)];
  }
}

/** Checks an axis argument: an integer, not the batch axis (0). */
function checkAxis(layer: Layer, axis: unknown): number {
  if (!Number.isInteger(axis) || axis === 0) {
    throw new ArgumentError(
      `${layer.label}: axis must be a non-zero integer (negative counts from the end; 0 is the batch axis), got ${JSON.stringify(axis)}.`,
    );
  }
  return axis as number;
}

export interface SoftmaxArgs extends LayerArgs {
  /** The axis the probabilities sum to 1 over (default -1, the last). */
  axis?: number;
}

/** softmax along one axis (Keras's Softmax layer). */
export class Softmax extends Layer {
  static override className = 'Softmax';
  static override configFields = ['axis'];
  readonly axis: number;
  constructor(args: SoftmaxArgs = {}) {
    super(args);
    this.axis = checkAxis(this, args.axis ?? -1);
  }
  call(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
  computeOutputShape(s: Shape): Shape {
    normalizeAxis(this.axis, s.length, this.label);
    return s;
  }
}

/** log(softmax) along one axis, computed without forming the softmax (stable for large logits). */
export class LogSoftmax extends Softmax {
  static override className = 'LogSoftmax';
  override call(x: Tensor): Tensor {
    return logSoftmax(x, this.axis);
  }
}

/** The exponential linear unit with its alpha: x for x > 0, alpha·(eˣ − 1) below. */
export class ELU extends Layer {
  static override className = 'ELU';
  static override configFields = ['alpha'];
  readonly alpha: number;
  constructor(args: LayerArgs & { alpha?: number } = {}) {
    super(args);
    this.alpha = args.alpha ?? 1;
    if (typeof this.alpha !== 'number' || !Number.isFinite(this.alpha))
      throw new ArgumentError(
        `${this.label}: alpha must be a finite number, got ${JSON.stringify(args.alpha)}.`,
      );
  }
  call(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
}

export interface ClipArgs extends LayerArgs {
  /** The lower bound (none when left out). */
  min?: number;
  /** The upper bound (none when left out). */
  max?: number;
}

/** Limits values to [min, max] (ReLU6 is Clip 0..6; a ReLU with maxValue is the usual way to write that). */
export class Clip extends Layer {
  static override className = 'Clip';
  readonly min?: number;
  readonly max?: number;
  constructor(args: ClipArgs = {}) {
    super(args);
    for (const k of ['min', 'max'] as const) {
      const v = args[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ArgumentError(
          `${this.label}: ${k} must be a finite number (or left out for no bound), got ${JSON.stringify(v)}.`,
        );
      this[k] = v;
    }
    if (this.min !== undefined && this.max !== undefined && this.min > this.max)
      throw new ArgumentError(`${this.label}: min (${this.min}) is above max (${this.max}).`);
  }
  call(x: Tensor): Tensor {
    let y = x;
    if (this.min !== undefined) y = maximum(y, this.min);
    if (this.max !== undefined) y = minimum(y, this.max);
    return y;
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      ...(this.min !== undefined ? { min: this.min } : {}),
      ...(this.max !== undefined ? { max: this.max } : {}),
    };
  }
}

const ARITHMETIC = {
  add: (a: Tensor, b: Tensor) => add(a, b),
  subtract: (a: Tensor, b: Tensor) => sub(a, b),
  multiply: (a: Tensor, b: Tensor) => mul(a, b),
  divide: (a: Tensor, b: Tensor) => div(a, b),
};
export type ArithmeticOp = keyof typeof ARITHMETIC;

export interface ConstantArithmeticArgs extends LayerArgs {
  op: ArithmeticOp;
  /** The constant's shape; it broadcasts against the input, axes aligned from the right. */
  constantShape: number[];
  /** constant ∘ x instead of x ∘ constant (matters for subtract and divide). */
  constantFirst?: boolean;
  /** Whether training changes the constant (default false: it is a fixed part of the model). */
  trainableConstant?: boolean;
}

/**
 * x + c, x − c, x·c or x / c (or c ∘ x) for a constant c stored as the layer's weight, so that
 * it is saved with the model. Imported graphs use it for the arithmetic a framework keeps
 * outside its layers (input normalization, a scale, a bias on its own).
 */
export class ConstantArithmetic extends Layer {
  static override className = 'ConstantArithmetic';
  static override configFields = ['op', 'constantShape', 'constantFirst', 'trainableConstant'];
  readonly op: ArithmeticOp;
  readonly constantShape: number[];
  readonly constantFirst: boolean;
  readonly trainableConstant: boolean;
  constant!: Tensor;
  constructor(args: ConstantArithmeticArgs) {
    super(args);
    if (!Object.hasOwn(ARITHMETIC, args?.op))
      throw new ArgumentError(
        `${this.label}: op must be one of ${Object.keys(ARITHMETIC).join(', ')}, got ${JSON.stringify(args?.op)}.`,
      );
    const s = args.constantShape;
    if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 1))
      throw new ArgumentError(
        `${this.label}: constantShape must be positive integers ([] for a scalar), got ${JSON.stringify(s)}.`,
      );
    this.op = args.op;
    this.constantShape = [...s];
    this.constantFirst = args.constantFirst ?? false;
    this.trainableConstant = args.trainableConstant ?? false;
  }
  override build(s: Shape): void {
    this.computeOutputShape(s);
    this.constant = this.addWeight(
      'constant',
      this.constantShape,
      this.op === 'multiply' || this.op === 'divide' ? 'ones' : 'zeros',
      this.trainableConstant,
    );
  }
  call(x: Tensor): Tensor {
    const f = ARITHMETIC[this.op];
    return this.constantFirst ? f(this.constant, x) : f(x, this.constant);
  }
  computeOutputShape(s: Shape): Shape {
    const c = this.constantShape;
    // The batch axis is the input's own: a constant reaches it only with size 1.
    if (c.length > s.length || (c.length === s.length && c[0] !== 1))
      throw new ShapeError(
        `${this.label}: the constant ${fmtSymShape(c)} must broadcast against each example of the input ${fmtSymShape(s)} (rank at most ${s.length - 1}, or a leading 1).`,
      );
    const out = [...s];
    for (let k = 1; k <= c.length; k++) {
      const i = s.length - k;
      const [d, e] = [s[i], c[c.length - k]!];
      if (e === 1) continue;
      if (d !== null && d !== 1 && d !== e)
        throw new ShapeError(
          `${this.label}: the constant ${fmtSymShape(c)} does not broadcast against the input ${fmtSymShape(s)}: axis ${i} has ${d} and ${e}.`,
        );
      out[i] = e;
    }
    return out;
  }
}

for (const cls of [Permute, Softmax, LogSoftmax, ELU, Clip, ConstantArithmetic]) registerLayer(cls);
