/** Core layers: InputLayer, Dense, Flatten, Reshape, Activation, ReLU, Dropout. */
import { relu as reluOp } from '../../ops/activations.js';
import { dropout } from '../../ops/dropout.js';
import { add, maximum, minimum, mul } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import {
  type ActivationArg,
  type ActivationName,
  activationName,
  getActivation,
} from '../activation_fns.js';
import {
  type Initializer,
  type InitializerArg,
  type InitializerName,
  initializerName,
} from '../initializers.js';
import type { CallOptions, LayerArgs, LayerConfig, Shape } from '../layer.js';
import { fmtSymShape, knownDim, Layer, registerLayer } from '../layer.js';

/** The start of a functional model: it passes its input through. Made by rc.Input(). */
export class InputLayer extends Layer {
  static override className = 'InputLayer';
  static override args: readonly string[] = [];
  constructor(args: LayerArgs & { inputShape: number[] }) {
    super(args);
    if (this.inputShape === undefined) {
      throw new ArgumentError(
        `${this.label}: inputShape (one example, no batch axis) is required, e.g. rc.Input([28, 28, 1]).`,
      );
    }
    this.built = true;
  }
  call(x: Tensor): Tensor {
    this.computeOutputShape(x.shape);
    return x;
  }
  computeOutputShape(s: Shape): Shape {
    const want = this.inputShape!;
    if (s.length !== want.length + 1 || want.some((d, i) => s[i + 1] !== null && s[i + 1] !== d)) {
      throw new ShapeError(
        `${this.label}: expects input of shape ${fmtSymShape([null, ...want])}, got ${fmtSymShape(s)}.`,
      );
    }
    return s;
  }
}

/** Arguments of {@link Dense}. */
export interface DenseArgs extends LayerArgs {
  /** Output size (the last axis of the output). Required. */
  units: number;
  /**
   * Applied to the output: `'relu'`, `'tanh'`, `'softmax'`, ... (see {@link ConvBaseArgs.activation}).
   * A softmax output lets cross-entropy work from its logits, exactly.
   * @default 'linear'
   */
  activation?: ActivationArg;
  /**
   * Whether to add a learned bias.
   * @default true
   */
  useBias?: boolean;
  /**
   * How the kernel [inputs, units] starts: a name ({@link InitializerName}) or a function.
   * @default 'glorotUniform'
   */
  kernelInitializer?: InitializerArg;
  /**
   * How the bias starts.
   * @default 'zeros'
   */
  biasInitializer?: InitializerArg;
}

/**
 * Fully connected: y = activation(x · kernel + bias), over the last axis
 * ([..., inputs] → [..., units]). Put a {@link Flatten} before it to feed it feature maps.
 * @throws ArgumentError at construction for units that is not a positive integer, or an
 *   unknown activation or initializer
 */
export class Dense extends Layer {
  static override className = 'Dense';
  static override args = ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer'];
  /** Output size. */
  readonly units: number;
  /** The activation applied to the output. */
  readonly activation: ActivationName;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  private readonly kernelInit: InitializerName | Initializer;
  private readonly biasInit: InitializerName | Initializer;
  /** [inputs, units] (made when the layer is built). */
  kernel!: Tensor;
  /** [units]; null without useBias. */
  bias: Tensor | null = null;

  constructor(args: DenseArgs) {
    super(args);
    if (!Number.isInteger(args?.units) || args.units < 1) {
      throw new ArgumentError(
        `Dense: units must be a positive integer, got ${JSON.stringify(args?.units)}.`,
      );
    }
    this.units = args.units;
    this.activation = activationName(args.activation, this.label);
    this.useBias = args.useBias ?? true;
    this.kernelInit = initializerName(args.kernelInitializer ?? 'glorotUniform', this.label);
    this.biasInit = initializerName(args.biasInitializer ?? 'zeros', this.label);
  }

  override build(s: Shape): void {
    if (s.length < 2)
      throw new ShapeError(
        `${this.label}: expected input of rank >= 2 [batch, features], got ${fmtSymShape(s)}.`,
      );
    const inDim = knownDim(this, s, -1, 'last');
    this.kernel = this.addWeight('kernel', [inDim, this.units], this.kernelInit);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInit);
  }

  call(x: Tensor): Tensor {
    const inDim = this.kernel.shape[0]!;
    if (x.shape[x.rank - 1] !== inDim) {
      throw new ShapeError(
        `${this.label}: built for ${inDim} input features, got input of shape [${x.shape.join(', ')}].`,
      );
    }
    const flat = x.rank === 2 ? x : reshape(x, [-1, inDim]);
    let y = matmul(flat, this.kernel);
    if (this.bias) y = add(y, this.bias);
    if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return getActivation(this.activation, this.label)(y);
  }

  computeOutputShape(s: Shape): Shape {
    if (s.length < 2)
      throw new ShapeError(
        `${this.label}: expected input of rank >= 2 [batch, features], got ${fmtSymShape(s)}.`,
      );
    const inDim = this.built && this.kernel ? this.kernel.shape[0]! : null;
    const d = s[s.length - 1];
    if (inDim !== null && d !== null && d !== inDim) {
      throw new ShapeError(
        `${this.label}: built for ${inDim} input features (kernel [${this.kernel.shape.join(', ')}]), got input of shape ${fmtSymShape(s)}.`,
      );
    }
    return [...s.slice(0, -1), this.units];
  }

  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      ...(typeof this.kernelInit === 'string' ? { kernelInitializer: this.kernelInit } : {}),
      ...(typeof this.biasInit === 'string' ? { biasInitializer: this.biasInit } : {}),
    };
  }
}

/** Flattens every axis but the batch axis. */
export class Flatten extends Layer {
  static override className = 'Flatten';
  static override args: readonly string[] = [];
  call(x: Tensor): Tensor {
    return reshape(x, [x.shape[0]!, -1]);
  }
  computeOutputShape(s: Shape): Shape {
    const rest = s.slice(1);
    return [
      s[0] ?? null,
      rest.some((d) => d === null) ? null : rest.reduce<number>((a, d) => a * (d as number), 1),
    ];
  }
}

/** Arguments of {@link Reshape}. */
export interface ReshapeArgs extends LayerArgs {
  /** The shape of one example (no batch axis); one entry may be -1. */
  targetShape: number[];
}

/** Reshapes each example (the batch axis stays). */
export class Reshape extends Layer {
  static override className = 'Reshape';
  static override configFields = ['targetShape'];
  /** The shape of one example, as given (one entry may be −1). */
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    super(args);
    if (!Array.isArray(args?.targetShape))
      throw new ArgumentError('Reshape: targetShape (one example, no batch axis) is required.');
    const t = args.targetShape;
    if (
      t.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) ||
      t.filter((d) => d === -1).length > 1
    ) {
      throw new ArgumentError(
        `${this.label}: targetShape must be positive integers with at most one -1 (inferred), got ${JSON.stringify(t)}.`,
      );
    }
    this.targetShape = [...t];
  }
  call(x: Tensor): Tensor {
    this.computeOutputShape(x.shape); // the layer's message: the example's shape and targetShape
    return reshape(x, [x.shape[0]!, ...this.targetShape]);
  }
  computeOutputShape(s: Shape): Shape {
    const inSize = s
      .slice(1)
      .reduce<number | null>((a, d) => (a === null || d === null ? null : a * d), 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    const out = this.targetShape.map((d) =>
      d === -1 ? (inSize === null ? null : inSize / known) : d,
    );
    if (
      inSize !== null &&
      (out.some((d) => d !== null && !Number.isInteger(d)) ||
        (!this.targetShape.includes(-1) && known !== inSize))
    ) {
      throw new ShapeError(
        `${this.label}: cannot reshape examples of shape ${fmtSymShape(s.slice(1))} (${inSize} values) into ${fmtSymShape(this.targetShape)}.`,
      );
    }
    return [s[0] ?? null, ...out];
  }
}

/** Applies a named activation function. */
export class Activation extends Layer {
  static override className = 'Activation';
  static override configFields = ['activation'];
  /** The activation it applies. */
  readonly activation: ActivationName;
  constructor(args: LayerArgs & { activation: ActivationArg }) {
    super(args);
    if (args?.activation === undefined) {
      throw new ArgumentError(
        `${this.label}: activation is required, e.g. new layers.Activation({ activation: 'relu' }).`,
      );
    }
    this.activation = activationName(args.activation, this.label);
  }
  call(x: Tensor): Tensor {
    return getActivation(this.activation, this.label)(x);
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
}

/** Arguments of {@link ReLU}. */
export interface ReLUArgs extends LayerArgs {
  /** Caps the output (6 gives ReLU6). */
  maxValue?: number;
  /** Slope below zero (leaky ReLU). */
  negativeSlope?: number;
}

/** max(x, 0), optionally capped (maxValue) or leaky (negativeSlope). */
export class ReLU extends Layer {
  static override className = 'ReLU';
  static override args = ['maxValue', 'negativeSlope'];
  /** The cap of the output, if any. */
  readonly maxValue?: number;
  /** The slope below zero (0: plain ReLU). */
  readonly negativeSlope: number;
  constructor(args: ReLUArgs = {}) {
    super(args);
    for (const [key, v] of [
      ['maxValue', args.maxValue],
      ['negativeSlope', args.negativeSlope],
    ] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new ArgumentError(`${this.label}: ${key} must be a finite number >= 0, got ${v}.`);
      }
    }
    if (args.maxValue !== undefined) this.maxValue = args.maxValue;
    this.negativeSlope = args.negativeSlope ?? 0;
  }
  call(x: Tensor): Tensor {
    const s = this.negativeSlope;
    // max(x, s·x) is the leaky ReLU for s <= 1; for a steeper slope it is min(x, s·x).
    let y = s === 0 ? reluOp(x) : s <= 1 ? maximum(x, mul(x, s)) : minimum(x, mul(x, s));
    if (this.maxValue !== undefined) y = minimum(y, this.maxValue);
    return y;
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      ...(this.maxValue !== undefined ? { maxValue: this.maxValue } : {}),
      negativeSlope: this.negativeSlope,
    };
  }
}

/** Arguments of {@link Dropout}. */
export interface DropoutArgs extends LayerArgs {
  /** The fraction of values zeroed in training, in [0, 1). Required. */
  rate: number;
  /**
   * Makes the masks repeat: each call draws the next mask of a sequence fixed by the seed.
   * Without it, fit's per-step generator is used (repeatable with fit's `seed`).
   */
  seed?: number;
}

/** Inverted dropout in training; the identity in inference. */
export class Dropout extends Layer {
  static override className = 'Dropout';
  static override args = ['rate', 'seed'];
  /** The fraction dropped in training. */
  readonly rate: number;
  /** The seed of the masks, if given. */
  readonly seed?: number;
  private calls = 0;
  constructor(args: DropoutArgs) {
    super(args);
    if (typeof args?.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ArgumentError(
        `Dropout: rate must be in [0, 1), got ${JSON.stringify(args?.rate)}.`,
      );
    }
    this.rate = args.rate;
    if (args.seed !== undefined) {
      if (!Number.isSafeInteger(args.seed)) {
        throw new ArgumentError(
          `${this.label}: seed must be an integer, got ${JSON.stringify(args.seed)}.`,
        );
      }
      this.seed = args.seed;
    }
  }
  call(x: Tensor, options: CallOptions): Tensor {
    if (!options.training) return x;
    // A seeded layer draws a new, repeatable mask on every call.
    const seed = this.seed === undefined ? undefined : this.seed + this.calls++;
    if (seed !== undefined) return dropout(x, this.rate, { seed });
    return dropout(x, this.rate, options.rng ? { rng: options.rng } : {});
  }
  computeOutputShape(s: Shape): Shape {
    return s;
  }
  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      rate: this.rate,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    };
  }
}

for (const cls of [InputLayer, Dense, Flatten, Reshape, Activation, ReLU, Dropout])
  registerLayer(cls);
