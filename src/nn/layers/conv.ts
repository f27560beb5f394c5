/**
 * Convolution layers: Conv2D (strides, padding, dilation, groups), DepthwiseConv2D,
 * SeparableConv2D (depthwise then pointwise), Conv2DTranspose, SpatialSeparableConv2D (k×1 then 1×k).
 */
import { conv2d, conv2dBias, conv2dTranspose, depthwiseConv2d } from '../../ops/conv.js';
import {
  axisGeometry,
  checkPadding,
  type Padding,
  transposedAxisGeometry,
} from '../../ops/conv_geometry.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import { pair } from '../../util/shape.js';
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
import type { LayerArgs, LayerConfig, Shape } from '../layer.js';
import { expectInputRank, fmtSymShape, knownDim, Layer, registerLayer } from '../layer.js';

/** Arguments every convolution layer takes. */
export interface ConvBaseArgs extends LayerArgs {
  /** The window: one number for a square kernel, or [height, width]. Required. */
  kernelSize: number | [number, number];
  /**
   * Step of the window: one number for both axes, or [rows, columns].
   * @default 1
   */
  strides?: number | [number, number];
  /**
   * `'valid'`, `'same'`, pixels per side, or [[top, bottom], [left, right]]: see {@link Padding}.
   * @default 'valid'
   */
  padding?: Padding;
  /**
   * Spacing between the kernel's taps (atrous convolution). One number or [rows, columns].
   * @default 1
   */
  dilationRate?: number | [number, number];
  /**
   * Applied to the output: `'relu'`, `'tanh'`, `'sigmoid'`, `'softmax'` (last axis), `'elu'`,
   * `'leakyRelu'`, `'gelu'`, `'swish'`, `'scaledTanh'` (LeCun's 1.7159·tanh(2x/3)) or `'linear'` (none).
   * @default 'linear'
   */
  activation?: ActivationArg;
  /**
   * Whether to add a learned bias per output channel.
   * @default true
   */
  useBias?: boolean;
  /**
   * How the kernel starts: a name ({@link InitializerName}) or a function of the shape.
   * @default 'glorotUniform'
   */
  kernelInitializer?: InitializerArg;
  /**
   * How the bias starts.
   * @default 'zeros'
   */
  biasInitializer?: InitializerArg;
}

/** The arguments every convolution layer takes, checked (ConvBase and OctaveConv2D share them). */
export interface ConvCommon {
  /** [height, width] of the kernel. */
  kernelSize: [number, number];
  /** [rows, columns] step. */
  strides: [number, number];
  /** [rows, columns] spacing of the taps. */
  dilationRate: [number, number];
  /** The padding, as given. */
  padding: Padding;
  /** The output's activation. */
  activation: ActivationName;
  /** Whether there is a bias. */
  useBias: boolean;
  /** The kernel's initializer. */
  kernelInit: InitializerName | Initializer;
  /** The bias's initializer. */
  biasInit: InitializerName | Initializer;
}

/** Checks and fills the common convolution arguments; the messages name `where`. */
export function convCommon(
  args: Omit<ConvBaseArgs, keyof LayerArgs>,
  where: string,
  defaultPadding: Padding = 'valid',
): ConvCommon {
  if (args?.kernelSize === undefined)
    throw new ArgumentError(`${where}: kernelSize is required (a number or [h, w]).`);
  const padding = args.padding ?? defaultPadding;
  checkPadding(padding, where);
  const activation = activationName(args.activation, where);
  // Unknown initializer names fail here, not later at the first call.
  const kernelInit = initializerName(args.kernelInitializer ?? 'glorotUniform', where);
  const biasInit = initializerName(args.biasInitializer ?? 'zeros', where);
  return {
    kernelSize: pair(args.kernelSize, 'kernelSize', where),
    strides: pair(args.strides ?? 1, 'strides', where),
    dilationRate: pair(args.dilationRate ?? 1, 'dilationRate', where),
    padding,
    activation,
    useBias: args.useBias ?? true,
    kernelInit,
    biasInit,
  };
}

/**
 * What every convolution layer shares: its arguments, the output-shape arithmetic, and one
 * `call` (convolution, bias, activation). A layer says only how it convolves: convolutionOp.
 */
abstract class ConvBase extends Layer {
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args = [
    'kernelSize',
    'strides',
    'padding',
    'dilationRate',
    'activation',
    'useBias',
    'kernelInitializer',
    'biasInitializer',
  ];
  /** [height, width] of the kernel. */
  readonly kernelSize: [number, number];
  /** [rows, columns] step of the window. */
  readonly strides: [number, number];
  /** The padding (see {@link Padding}). */
  readonly padding: Padding;
  /** [rows, columns] spacing of the kernel's taps. */
  readonly dilationRate: [number, number];
  /** The activation applied to the output. */
  readonly activation: ActivationName;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  /** The kernel's initializer. */
  protected readonly kernelInit: InitializerName | Initializer;
  /** The bias's initializer. */
  protected readonly biasInit: InitializerName | Initializer;
  /** The bias, [filters]; null without useBias or before the layer is built. */
  bias: Tensor | null = null;
  /** convolutionOp adds the bias itself, in one op where the backend fuses it (Conv2D). */
  protected readonly fusesBias: boolean = false;

  constructor(args: ConvBaseArgs) {
    super(args);
    const c = convCommon(args, this.className);
    this.kernelSize = c.kernelSize;
    this.strides = c.strides;
    this.dilationRate = c.dilationRate;
    this.padding = c.padding;
    this.activation = c.activation;
    this.useBias = c.useBias;
    this.kernelInit = c.kernelInit;
    this.biasInit = c.biasInit;
  }

  /** The layer's convolution; `bias` is given (to add inside) only where fusesBias is set. */
  protected abstract convolutionOp(x: Tensor, bias: Tensor | null): Tensor;

  call(x: Tensor): Tensor {
    const fused = this.fusesBias && this.bias !== null;
    let y = this.convolutionOp(x, fused ? this.bias : null);
    if (this.bias && !fused) y = add(y, this.bias);
    return getActivation(this.activation, this.label)(y);
  }

  /** Spatial output size of a forward convolution, or null where the input size is unknown. */
  protected spatialOut(s: Shape): [number | null, number | null] {
    return [0, 1].map((a) => {
      const inSize = s[1 + a];
      if (inSize === null || inSize === undefined) return null;
      const g = axisGeometry(
        inSize,
        this.kernelSize[a]!,
        this.strides[a]!,
        this.dilationRate[a]!,
        this.padding,
        a as 0 | 1,
      );
      if (g.out < 1) {
        throw new ShapeError(
          `${this.label}: the ${this.kernelSize.join('x')} kernel (dilation ${this.dilationRate.join('x')}) does not fit in the input ${fmtSymShape(s)} with padding ${JSON.stringify(this.padding)}. Use padding 'same' or a smaller kernel.`,
        );
      }
      return g.out;
    }) as [number | null, number | null];
  }

  /** The constructor arguments, JSON-ready (with kernelSize, strides and dilation as pairs). */
  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: this.activation,
      useBias: this.useBias,
      ...(typeof this.kernelInit === 'string' ? { kernelInitializer: this.kernelInit } : {}),
      ...(typeof this.biasInit === 'string' ? { biasInitializer: this.biasInit } : {}),
    };
  }
}

/** Arguments of {@link Conv2D}. */
export interface Conv2DArgs extends ConvBaseArgs {
  /** The number of output channels (filters). Required. */
  filters: number;
  /**
   * Split channels into groups convolved separately (AlexNet's two-GPU split, ResNeXt): the
   * kernel is [kh, kw, inChannels / groups, filters]; filters and the input's channels must
   * divide by it.
   * @default 1
   */
  groups?: number;
}

/**
 * 2-D convolution over NHWC input with an HWIO kernel [kh, kw, inChannels / groups, filters],
 * plus a bias and an activation: [batch, h, w, inChannels] → [batch, outH, outW, filters].
 *
 * @throws ArgumentError at construction for a missing kernelSize, filters that is not a positive
 *   integer, groups that does not divide filters, an unknown activation or initializer
 * @example
 * ```ts
 * const conv = new rc.layers.Conv2D({ filters: 6, kernelSize: 5, activation: 'tanh' });
 * conv.apply(rc.zeros([1, 28, 28, 1])).shape;   // [1, 24, 24, 6]
 * ```
 */
export class Conv2D extends ConvBase {
  static override className = 'Conv2D';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args = ['filters', 'groups'];
  /** The number of output channels. */
  readonly filters: number;
  /** The number of channel groups. */
  readonly groups: number;
  /** The kernel, HWIO [kh, kw, inChannels / groups, filters] (made when the layer is built). */
  kernel!: Tensor;

  constructor(args: Conv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new ArgumentError(
        `${this.label}: filters must be a positive integer, got ${JSON.stringify(args.filters)}.`,
      );
    }
    this.filters = args.filters;
    this.groups = args.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1 || this.filters % this.groups !== 0) {
      throw new ArgumentError(
        `${this.label}: groups (${this.groups}) must be a positive integer that divides filters (${this.filters}).`,
      );
    }
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const inC = knownDim(this, s, 3, 'channel');
    if (inC % this.groups !== 0) {
      throw new ShapeError(
        `${this.label}: groups (${this.groups}) must divide the input channels (${inC}).`,
      );
    }
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, inC / this.groups, this.filters],
      this.kernelInit,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInit);
  }

  // With a bias, one op: a fast backend adds it as the convolution writes its output.
  protected override readonly fusesBias = true;

  protected convolutionOp(x: Tensor, bias: Tensor | null): Tensor {
    const options = {
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      groups: this.groups,
    };
    return bias ? conv2dBias(x, this.kernel, bias, options) : conv2d(x, this.kernel, options);
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [s[0] ?? null, ...this.spatialOut(s), this.filters];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), filters: this.filters, groups: this.groups };
  }
}

/** Arguments of {@link DepthwiseConv2D}. */
export interface DepthwiseConv2DArgs extends ConvBaseArgs {
  /**
   * Output channels per input channel: the output has inChannels · depthMultiplier channels.
   * @default 1
   */
  depthMultiplier?: number;
}

/** One kernel per input channel (times depthMultiplier); channels never mix. */
export class DepthwiseConv2D extends ConvBase {
  static override className = 'DepthwiseConv2D';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args = ['depthMultiplier'];
  /** Output channels per input channel. */
  readonly depthMultiplier: number;
  /** The kernel, [kh, kw, inChannels, depthMultiplier]. */
  kernel!: Tensor;

  constructor(args: DepthwiseConv2DArgs) {
    super(args);
    this.depthMultiplier = args.depthMultiplier ?? 1;
    if (!Number.isInteger(this.depthMultiplier) || this.depthMultiplier < 1) {
      throw new ArgumentError(
        `${this.label}: depthMultiplier must be a positive integer, got ${this.depthMultiplier}.`,
      );
    }
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const inC = knownDim(this, s, 3, 'channel');
    this.kernel = this.addWeight(
      'depthwise_kernel',
      [...this.kernelSize, inC, this.depthMultiplier],
      this.kernelInit,
    );
    if (this.useBias)
      this.bias = this.addWeight('bias', [inC * this.depthMultiplier], this.biasInit);
  }

  protected convolutionOp(x: Tensor): Tensor {
    return depthwiseConv2d(x, this.kernel, {
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
    });
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const c = s[3];
    return [
      s[0] ?? null,
      ...this.spatialOut(s),
      c === null || c === undefined ? null : c * this.depthMultiplier,
    ];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), depthMultiplier: this.depthMultiplier };
  }
}

/** Arguments of {@link SeparableConv2D}: kernelSize, strides, padding and dilation are the depthwise step's. */
export interface SeparableConv2DArgs extends ConvBaseArgs {
  /** Output channels of the pointwise (1×1) step. Required. */
  filters: number;
  /**
   * Channels per input channel after the depthwise step.
   * @default 1
   */
  depthMultiplier?: number;
}

/** Depthwise convolution followed by a 1×1 pointwise convolution (Xception, MobileNet). */
export class SeparableConv2D extends ConvBase {
  static override className = 'SeparableConv2D';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args = ['filters', 'depthMultiplier'];
  /** Output channels. */
  readonly filters: number;
  /** Channels per input channel after the depthwise step. */
  readonly depthMultiplier: number;
  /** [kh, kw, inChannels, depthMultiplier]. */
  depthwiseKernel!: Tensor;
  /** [1, 1, inChannels · depthMultiplier, filters]. */
  pointwiseKernel!: Tensor;

  constructor(args: SeparableConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new ArgumentError(
        `${this.label}: filters must be a positive integer, got ${JSON.stringify(args.filters)}.`,
      );
    }
    this.filters = args.filters;
    this.depthMultiplier = args.depthMultiplier ?? 1;
    if (!Number.isInteger(this.depthMultiplier) || this.depthMultiplier < 1) {
      throw new ArgumentError(
        `${this.label}: depthMultiplier must be a positive integer, got ${this.depthMultiplier}.`,
      );
    }
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const inC = knownDim(this, s, 3, 'channel');
    this.depthwiseKernel = this.addWeight(
      'depthwise_kernel',
      [...this.kernelSize, inC, this.depthMultiplier],
      this.kernelInit,
    );
    this.pointwiseKernel = this.addWeight(
      'pointwise_kernel',
      [1, 1, inC * this.depthMultiplier, this.filters],
      this.kernelInit,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInit);
  }

  protected convolutionOp(x: Tensor): Tensor {
    const d = depthwiseConv2d(x, this.depthwiseKernel, {
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
    });
    return conv2d(d, this.pointwiseKernel);
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [s[0] ?? null, ...this.spatialOut(s), this.filters];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), filters: this.filters, depthMultiplier: this.depthMultiplier };
  }
}

/** Arguments of {@link Conv2DTranspose}: strides, padding and dilation are those of the convolution it transposes. */
export interface Conv2DTransposeArgs extends ConvBaseArgs {
  /** Output channels. Required. */
  filters: number;
  /**
   * Extra rows / columns at the output's bottom / right, each below its stride: picks among
   * the output sizes a strided convolution maps to the same input size.
   * @default 0
   */
  outputPadding?: number | [number, number];
}

/** Transposed ("de-")convolution: upsamples; kernel [kh, kw, filters, inChannels]. */
export class Conv2DTranspose extends ConvBase {
  static override className = 'Conv2DTranspose';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args = ['filters', 'outputPadding'];
  /** Output channels. */
  readonly filters: number;
  /** [rows, columns] added to the output's bottom / right. */
  readonly outputPadding: [number, number];
  /** The kernel, [kh, kw, filters, inChannels] (Keras's order). */
  kernel!: Tensor;

  constructor(args: Conv2DTransposeArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new ArgumentError(
        `${this.label}: filters must be a positive integer, got ${JSON.stringify(args.filters)}.`,
      );
    }
    this.filters = args.filters;
    const op = args.outputPadding ?? 0;
    this.outputPadding = typeof op === 'number' ? [op, op] : [op[0], op[1]];
    // Checked here too (the op checks at run time), so a symbolic model cannot accept it.
    this.outputPadding.forEach((p, a) => {
      if (!Number.isInteger(p) || p < 0 || p >= this.strides[a]!) {
        throw new ArgumentError(
          `${this.label}: outputPadding must be non-negative integers smaller than the strides (${this.strides.join(', ')}), got ${JSON.stringify(op)}.`,
        );
      }
    });
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const inC = knownDim(this, s, 3, 'channel');
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, this.filters, inC],
      this.kernelInit,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInit);
  }

  protected convolutionOp(x: Tensor): Tensor {
    return conv2dTranspose(x, this.kernel, {
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      outputPadding: this.outputPadding,
    });
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const out = [0, 1].map((a) => {
      const d = s[1 + a];
      if (d === null || d === undefined) return null;
      const size = transposedAxisGeometry(
        d,
        this.kernelSize[a]!,
        this.strides[a]!,
        this.dilationRate[a]!,
        this.padding,
        this.outputPadding[a]!,
        a as 0 | 1,
      ).out;
      if (size < 1) {
        throw new ShapeError(
          `${this.label}: padding ${JSON.stringify(this.padding)} crops away the whole output of the ${this.kernelSize.join('x')} kernel on the input ${fmtSymShape(s)}. Use less padding.`,
        );
      }
      return size;
    });
    return [s[0] ?? null, ...out, this.filters];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), filters: this.filters, outputPadding: this.outputPadding };
  }
}

/** Arguments of {@link SpatialSeparableConv2D}. */
export interface SpatialSeparableConv2DArgs extends Omit<ConvBaseArgs, 'kernelSize'> {
  /** Output channels (of both steps). Required. */
  filters: number;
  /**
   * `k`: a k×1 convolution, then a 1×k one (fewer weights than one k×k: 2k instead of k²);
   * `[kh, kw]`: kh×1 then 1×kw.
   */
  kernelSize: number | [number, number];
}

/** A k×k convolution factored into k×1 then 1×k (Inception v3's spatial factorization). */
export class SpatialSeparableConv2D extends ConvBase {
  static override className = 'SpatialSeparableConv2D';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args = ['filters'];
  /** Output channels. */
  readonly filters: number;
  /** The vertical kernel, [kh, 1, inChannels, filters]. */
  kernelV!: Tensor;
  /** The horizontal kernel, [1, kw, filters, filters]. */
  kernelH!: Tensor;

  constructor(args: SpatialSeparableConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new ArgumentError(
        `${this.label}: filters must be a positive integer, got ${JSON.stringify(args.filters)}.`,
      );
    }
    this.filters = args.filters;
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const inC = knownDim(this, s, 3, 'channel');
    const [kh, kw] = this.kernelSize;
    this.kernelV = this.addWeight('kernel_vertical', [kh, 1, inC, this.filters], this.kernelInit);
    this.kernelH = this.addWeight(
      'kernel_horizontal',
      [1, kw, this.filters, this.filters],
      this.kernelInit,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInit);
  }

  private parts(): [Padding, Padding] {
    // Explicit padding [[t, b], [l, r]] splits: the k×1 pads rows, the 1×k pads columns.
    const p = this.padding;
    if (Array.isArray(p))
      return [
        [p[0], [0, 0]],
        [[0, 0], p[1]],
      ];
    if (typeof p === 'number')
      return [
        [
          [p, p],
          [0, 0],
        ],
        [
          [0, 0],
          [p, p],
        ],
      ];
    return [p, p];
  }

  protected convolutionOp(x: Tensor): Tensor {
    // The layer's own message (the whole kernel, the input) rather than one of the two convolutions'.
    this.computeOutputShape(x.shape);
    const [pv, ph] = this.parts();
    const v = conv2d(x, this.kernelV, {
      strides: [this.strides[0], 1],
      padding: pv,
      dilationRate: [this.dilationRate[0], 1],
    });
    return conv2d(v, this.kernelH, {
      strides: [1, this.strides[1]],
      padding: ph,
      dilationRate: [1, this.dilationRate[1]],
    });
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [s[0] ?? null, ...this.spatialOut(s), this.filters];
  }

  override getConfig(): LayerConfig {
    const [kh, kw] = this.kernelSize;
    return { ...super.getConfig(), kernelSize: kh === kw ? kh : [kh, kw], filters: this.filters };
  }
}

for (const cls of [
  Conv2D,
  DepthwiseConv2D,
  SeparableConv2D,
  Conv2DTranspose,
  SpatialSeparableConv2D,
])
  registerLayer(cls);
