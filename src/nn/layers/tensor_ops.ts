/**
 * Layers for tensor operations that imported graphs (ONNX) are made of: Permute (as Keras's),
 * Slice (a box of each example), and arithmetic with a stored constant (a normalization's
 * mean and scale, a bias on its own).
 */
import { add, div, maximum, minimum, mul, pow, sub } from '../../ops/elementwise.js';
import { slice, transpose } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import type { LayerArgs, Shape } from '../layer.js';
import { fmtSymShape, Layer, registerLayer } from '../layer.js';

export interface PermuteArgs extends LayerArgs {
  /** The new order of the axes of one example, counted from 1 (the batch axis stays first), as Keras's Permute. */
  dims: number[];
}

/** Reorders the axes of each example: dims [3, 1, 2] turns [batch, h, w, c] into [batch, c, h, w]. */
export class Permute extends Layer {
  static override className = 'Permute';
  static override configFields = ['dims'];
  /** The new order of an example's axes, counted from 1. */
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

/** The operation ConstantArithmetic applies between its input and its constant. */
export type ArithmeticOp =
  | 'add'
  | 'subtract'
  | 'multiply'
  | 'divide'
  | 'maximum'
  | 'minimum'
  | 'power';

const ARITHMETIC: Record<ArithmeticOp, (a: Tensor, b: Tensor) => Tensor> = {
  add: (a, b) => add(a, b),
  subtract: (a, b) => sub(a, b),
  multiply: (a, b) => mul(a, b),
  divide: (a, b) => div(a, b),
  maximum: (a, b) => maximum(a, b),
  minimum: (a, b) => minimum(a, b),
  power: (a, b) => pow(a, b),
};

export interface ConstantArithmeticArgs extends LayerArgs {
  /** add, subtract, multiply, divide, maximum, minimum or power (x to the c). */
  op: ArithmeticOp;
  /** The constant's shape; it broadcasts against the input, axes aligned from the right. */
  constantShape: number[];
  /** constant ∘ x instead of x ∘ constant (matters for subtract and divide). */
  constantFirst?: boolean;
  /** Whether training changes the constant (default false: it is a fixed part of the model). */
  trainableConstant?: boolean;
}

/**
 * x + c, x − c, x·c, x / c, max(x, c), min(x, c) or x^c (or c ∘ x) for a constant c stored as
 * the layer's weight, so that it is saved with the model. Imported graphs use it for the
 * arithmetic a framework keeps outside its layers (input normalization, a scale, a bias on its
 * own, a clamp, a square).
 */
export class ConstantArithmetic extends Layer {
  static override className = 'ConstantArithmetic';
  static override configFields = ['op', 'constantShape', 'constantFirst', 'trainableConstant'];
  /** add, subtract, multiply, divide, maximum, minimum or power. */
  readonly op: ArithmeticOp;
  /** The constant's shape (it broadcasts against the input). */
  readonly constantShape: number[];
  /** Whether the constant is the left operand (c ∘ x). */
  readonly constantFirst: boolean;
  /** Whether training changes the constant. */
  readonly trainableConstant: boolean;
  /** The constant, a weight of the layer (saved with the model). */
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
      this.op === 'multiply' || this.op === 'divide' || this.op === 'power' ? 'ones' : 'zeros',
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

export interface SliceArgs extends LayerArgs {
  /** Where the box starts on each axis of one example (the batch axis not counted). */
  begin: number[];
  /** The box's size on each axis of one example; -1 runs to the end. */
  size: number[];
}

/** A box of each example: begin and size per axis (the batch axis kept whole). ONNX Slice and Split. */
export class Slice extends Layer {
  static override className = 'Slice';
  static override configFields = ['begin', 'size'];
  /** Where the box starts on each axis of one example. */
  readonly begin: number[];
  /** The box's size on each axis of one example (-1: to the end). */
  readonly size: number[];
  constructor(args: SliceArgs) {
    super(args);
    const { begin, size } = args ?? {};
    if (
      !Array.isArray(begin) ||
      !Array.isArray(size) ||
      begin.length !== size.length ||
      begin.some((b) => !Number.isInteger(b) || b < 0) ||
      size.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1))
    )
      throw new ArgumentError(
        `${this.label}: begin (non-negative integers) and size (positive integers or -1) need one entry per axis of an example, got begin ${JSON.stringify(begin)} and size ${JSON.stringify(size)}.`,
      );
    this.begin = [...begin];
    this.size = [...size];
  }
  call(x: Tensor): Tensor {
    this.computeOutputShape(x.shape);
    return slice(x, [0, ...this.begin], [-1, ...this.size]);
  }
  computeOutputShape(s: Shape): Shape {
    if (s.length !== this.begin.length + 1)
      throw new ShapeError(
        `${this.label}: begin ${JSON.stringify(this.begin)} is for examples of rank ${this.begin.length}, got input of shape ${fmtSymShape(s)}.`,
      );
    return [
      s[0] ?? null,
      ...this.begin.map((b, i) => {
        const d = s[i + 1];
        const n = this.size[i] === -1 ? (d == null ? null : d - b) : this.size[i]!;
        if (d != null && (n === null || n < 1 || b + n > d))
          throw new ShapeError(
            `${this.label}: axis ${i + 1} of the input ${fmtSymShape(s)} has no box from ${b} of size ${this.size[i]}.`,
          );
        return n;
      }),
    ];
  }
}

for (const cls of [Permute, Slice, ConstantArithmetic]) registerLayer(cls);
