/**
 * Activation layers with parameters, beyond `Activation` by name: Softmax / LogSoftmax over any
 * axis, ELU with its alpha, Clip, PReLU (a learned slope), HardSigmoid, HardSwish and Softplus
 * (MobileNetV3, EfficientNet and YOLO write these; ONNX has them as operators).
 */
import { elu, logSoftmax, relu, softmax } from '../../ops/activations.js';
import { abs, add, exp, log, maximum, minimum, mul, neg } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import { normalizeAxis } from '../../util/shape.js';
import type { LayerArgs, LayerConfig, Shape } from '../layer.js';
import { fmtSymShape, Layer, registerLayer } from '../layer.js';

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
  /** The axis the probabilities sum to 1 over (negative counts from the end). */
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
  /** No arguments of its own (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  override call(x: Tensor): Tensor {
    return logSoftmax(x, this.axis);
  }
}

/** The exponential linear unit with its alpha: x for x > 0, alpha·(eˣ − 1) below. */
export class ELU extends Layer {
  static override className = 'ELU';
  static override configFields = ['alpha'];
  /** The slope of the negative side: alpha·(eˣ − 1) for x ≤ 0. */
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
  /** min and max, written by its own getConfig (see {@link Layer.args}). */
  static override args = ['min', 'max'];
  /** The lower bound, or undefined for none. */
  readonly min?: number;
  /** The upper bound, or undefined for none. */
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

export interface HardSigmoidArgs extends LayerArgs {
  /** The slope (default 0.2, ONNX's and Keras's). */
  alpha?: number;
  /** The offset (default 0.5). */
  beta?: number;
}

/** max(0, min(1, alpha·x + beta)): a piecewise-linear sigmoid. */
export class HardSigmoid extends Layer {
  static override className = 'HardSigmoid';
  static override configFields = ['alpha', 'beta'];
  /** The slope. */
  readonly alpha: number;
  /** The offset. */
  readonly beta: number;
  constructor(args: HardSigmoidArgs = {}) {
    super(args);
    this.alpha = args.alpha ?? 0.2;
    this.beta = args.beta ?? 0.5;
    for (const k of ['alpha', 'beta'] as const)
      if (typeof this[k] !== 'number' || !Number.isFinite(this[k]))
        throw new ArgumentError(
          `${this.label}: ${k} must be a finite number, got ${JSON.stringify(args[k])}.`,
        );
  }
  call(x: Tensor): Tensor {
    return minimum(maximum(add(mul(x, this.alpha), this.beta), 0), 1);
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
}

/** x · max(0, min(1, x/6 + 1/2)) (MobileNetV3's hard swish). */
export class HardSwish extends Layer {
  static override className = 'HardSwish';
  /** No arguments of its own (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  call(x: Tensor): Tensor {
    return mul(x, minimum(maximum(add(mul(x, 1 / 6), 0.5), 0), 1));
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
}

/** log(1 + eˣ), computed as max(x, 0) + log(1 + e^−|x|) so large inputs do not overflow (Mish is x·tanh(softplus x)). */
export class Softplus extends Layer {
  static override className = 'Softplus';
  /** No arguments of its own (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  call(x: Tensor): Tensor {
    return add(relu(x), log(add(exp(neg(abs(x))), 1)));
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
}

export interface PReLUArgs extends LayerArgs {
  /** The shape of the learned slopes; they broadcast against each example (default [], one slope). */
  alphaShape?: number[];
}

/** max(x, 0) + alpha · min(x, 0) with learned slopes alpha (PyTorch's PReLU: one per channel, or one). */
export class PReLU extends Layer {
  static override className = 'PReLU';
  static override configFields = ['alphaShape'];
  /** The shape of the learned slopes (broadcast against each example). */
  readonly alphaShape: number[];
  /** The learned slopes of the negative side (a weight, made by build). */
  alpha!: Tensor;
  constructor(args: PReLUArgs = {}) {
    super(args);
    const s = args.alphaShape ?? [];
    if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 1))
      throw new ArgumentError(
        `${this.label}: alphaShape must be positive integers, got ${JSON.stringify(s)}.`,
      );
    this.alphaShape = [...s];
  }
  override build(s: Shape): void {
    this.computeOutputShape(s);
    this.alpha = this.addWeight('alpha', this.alphaShape, 'zeros');
  }
  call(x: Tensor): Tensor {
    return add(relu(x), mul(this.alpha, minimum(x, 0)));
  }
  computeOutputShape(s: Shape): Shape {
    const a = this.alphaShape;
    if (
      a.length >= s.length ||
      a.some(
        (d, i) =>
          d !== 1 && s[s.length - a.length + i] !== null && s[s.length - a.length + i] !== d,
      )
    )
      throw new ShapeError(
        `${this.label}: slopes of shape ${fmtSymShape(a)} do not broadcast against each example of the input ${fmtSymShape(s)}.`,
      );
    return s;
  }
}

for (const cls of [Softmax, LogSoftmax, ELU, Clip, HardSigmoid, HardSwish, Softplus, PReLU])
  registerLayer(cls);
