/** Octave convolution (Chen et al. 2019, "Drop an Octave"): feature maps at two spatial frequencies. */
import { conv2d } from '../../ops/conv.js';
import { axisGeometry, type Padding } from '../../ops/conv_geometry.js';
import { add } from '../../ops/elementwise.js';
import { avgPool2d } from '../../ops/pool.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../../util/errors.js';
import { type ActivationArg, type ActivationName, getActivation } from '../activation_fns.js';
import type { Initializer, InitializerArg, InitializerName } from '../initializers.js';
import type { LayerArgs, LayerConfig, Shape } from '../layer.js';
import {
  expectInputRank,
  fmtSymShape,
  knownDim,
  Layer,
  registerLayer,
  uniqueName,
} from '../layer.js';
import { convCommon } from './conv.js';
import { upsampleNearest } from './pooling.js';

/** Arguments of {@link OctaveConv2D}; the convolution's as for {@link Conv2D}, but padding defaults to 'same'. */
export interface OctaveConv2DArgs extends LayerArgs {
  /** All output channels, high and low frequency together (split by alphaOut). */
  filters: number;
  /** The window: one number or [height, width]. Required. */
  kernelSize: number | [number, number];
  /** Fraction of the input channels that are low-frequency, in [0, 1). 0: one ordinary input. Default 0.5. */
  alphaIn?: number;
  /** Fraction of the output channels that are low-frequency, in [0, 1). 0: the last octave layer. Default 0.5. */
  alphaOut?: number;
  /** Which of the two outputs this layer computes. Default 'high'. OctaveConv2D.pair makes both. */
  output?: 'high' | 'low';
  /** 1 or 2 (as in the authors' code, a stride of 2 is done by 2×2 average pooling first). */
  strides?: number | [number, number];
  /** Default 'same'; any padding works as long as the high and low paths stay aligned. */
  padding?: Padding;
  /**
   * Applied to the output (see {@link ConvBaseArgs.activation}).
   * @default 'linear'
   */
  activation?: ActivationArg;
  /**
   * Whether to add a bias per output channel.
   * @default true
   */
  useBias?: boolean;
  /**
   * How the kernels start.
   * @default 'glorotUniform'
   */
  kernelInitializer?: InitializerArg;
  /**
   * How the bias starts.
   * @default 'zeros'
   */
  biasInitializer?: InitializerArg;
}

function checkAlpha(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new ArgumentError(
      `${where}: ${name} must be a fraction in [0, 1) (the share of low-frequency channels), got ${JSON.stringify(v)}.`,
    );
  }
  return v;
}

/** The authors' rounding: int(alpha · C) channels are low-frequency, the rest high. */
function octaveSplit(channels: number, alpha: number): { high: number; low: number } {
  const low = Math.floor(alpha * channels);
  return { high: channels - low, low };
}

/**
 * Octave convolution (Chen et al. 2019). A feature map is split into a high-frequency part at
 * full resolution and a low-frequency part at half the height and width, which holds the
 * slowly varying information at a quarter of the cost. With X = [X_H, X_L] and the output
 * Y = [Y_H, Y_L], four convolutions exchange information between the two:
 *
 *   Y_H = conv(X_H; W_H→H) + upsample2×(conv(X_L; W_L→H))       nearest-neighbour upsampling
 *   Y_L = conv(X_L; W_L→L) + conv(avgpool2×2(X_H); W_H→L)
 *
 * Channels split as in the authors' code: int(alpha · C) are low-frequency, the rest high
 * (alphaIn for the input, alphaOut for the `filters` outputs).
 *
 * **One layer per output.** A Layer returns one tensor, and the two outputs have different
 * spatial sizes, so they cannot be packed into one NHWC tensor without a private layout every
 * other layer would have to know. But Y_H and Y_L share no weights and no computation (W_H→H,
 * W_L→H make Y_H; W_L→L, W_H→L make Y_L), so an octave convolution is exactly two layers with
 * the same arguments: this class computes the output named by `output: 'high' | 'low'`,
 * and `OctaveConv2D.pair(args)` returns both. Their parameters add up to an ordinary
 * convolution's, k²·C_in·filters + filters, as the paper says.
 *
 * Inputs: with alphaIn = 0 one tensor (the first octave layer of a network); otherwise a list
 * [high, low], the low tensor half the height and width of the high one. With alphaOut = 0
 * only the 'high' output exists (the last octave layer, back to one ordinary tensor).
 *
 * ```ts
 * const x = rc.Input([32, 32, 3]);
 * const [h1, l1] = OctaveConv2D.pair({ filters: 16, kernelSize: 3, alphaIn: 0, alphaOut: 0.5 });
 * let h = h1.apply(x), l = l1.apply(x);
 * const [h2, l2] = OctaveConv2D.pair({ filters: 16, kernelSize: 3 });
 * [h, l] = [h2.apply([h, l]), l2.apply([h, l])];
 * const y = new OctaveConv2D({ filters: 16, kernelSize: 3, alphaOut: 0 }).apply([h, l]);
 * ```
 *
 * Weights: `kernel_h2h`, `kernel_l2h` (high output) or `kernel_h2l`, `kernel_l2l` (low output),
 * each [kh, kw, inChannels of that part, output channels], then one `bias`.
 */
export class OctaveConv2D extends Layer {
  static override className = 'OctaveConv2D';
  static override args = [
    'filters',
    'kernelSize',
    'alphaIn',
    'alphaOut',
    'output',
    'strides',
    'padding',
    'activation',
    'useBias',
    'kernelInitializer',
    'biasInitializer',
  ];
  /** All output channels, high and low together. */
  readonly filters: number;
  /** [height, width] of the kernels. */
  readonly kernelSize: [number, number];
  /** The low-frequency share of the input channels. */
  readonly alphaIn: number;
  /** The low-frequency share of the output channels. */
  readonly alphaOut: number;
  /** Which output this layer computes. */
  readonly output: 'high' | 'low';
  /** [rows, columns] stride (1 or 2). */
  readonly strides: [number, number];
  /** The padding. */
  readonly padding: Padding;
  /** The activation applied to the output. */
  readonly activation: ActivationName;
  /** Whether a bias is added. */
  readonly useBias: boolean;
  private readonly kernelInit: InitializerName | Initializer;
  private readonly biasInit: InitializerName | Initializer;
  /** The convolution applied to the high-frequency input (W_H→H or W_H→L). */
  kernelFromHigh: Tensor | null = null;
  /** The convolution applied to the low-frequency input (W_L→H or W_L→L); null when alphaIn = 0. */
  kernelFromLow: Tensor | null = null;
  /** The bias of this output's channels; null without useBias. */
  bias: Tensor | null = null;

  /** How `channels` split for a low-frequency share alpha: int(alpha · C) low, the rest high. */
  static split(
    channels: number,
    alpha: number,
  ): {
    /** High-frequency channels. */
    high: number;
    /** Low-frequency channels. */
    low: number;
  } {
    return octaveSplit(channels, alpha);
  }

  /** Both halves of one octave convolution: [high-output layer, low-output layer]. */
  static pair(args: Omit<OctaveConv2DArgs, 'output'>): [OctaveConv2D, OctaveConv2D] {
    const base = args.name ?? uniqueName('octave_conv2d');
    return [
      new OctaveConv2D({ ...args, output: 'high', name: `${base}_high` }),
      new OctaveConv2D({ ...args, output: 'low', name: `${base}_low` }),
    ];
  }

  constructor(args: OctaveConv2DArgs) {
    super(args);
    const where = this.label;
    if (!Number.isInteger(args?.filters) || args.filters < 1) {
      throw new ArgumentError(
        `${where}: filters must be a positive integer, got ${JSON.stringify(args?.filters)}.`,
      );
    }
    // The arguments every convolution layer takes, checked as ConvBase checks them.
    const c = convCommon(args, where, 'same');
    this.filters = args.filters;
    this.kernelSize = c.kernelSize;
    this.alphaIn = checkAlpha(where, 'alphaIn', args.alphaIn ?? 0.5);
    this.alphaOut = checkAlpha(where, 'alphaOut', args.alphaOut ?? 0.5);
    this.output = args.output ?? 'high';
    if (this.output !== 'high' && this.output !== 'low') {
      throw new ArgumentError(
        `${where}: output must be 'high' or 'low', got ${JSON.stringify(args.output)}.`,
      );
    }
    if (this.output === 'low' && this.outChannels === 0) {
      throw new ArgumentError(
        `${where}: alphaOut ${this.alphaOut} of ${this.filters} filters leaves no low-frequency channels ` +
          `(int(${this.alphaOut}·${this.filters}) = 0); raise alphaOut or filters, or use output 'high' only.`,
      );
    }
    this.strides = c.strides;
    if (this.strides[0] !== this.strides[1] || this.strides[0] > 2) {
      throw new ArgumentError(
        `${where}: strides must be 1 or 2 on both axes (the two frequencies must stay a factor 2 apart), got ${JSON.stringify(args.strides)}.`,
      );
    }
    this.padding = c.padding;
    this.activation = c.activation;
    this.useBias = c.useBias;
    this.kernelInit = c.kernelInit;
    this.biasInit = c.biasInit;
  }

  /** Channels this layer outputs: its share of `filters`. */
  get outChannels(): number {
    const split = octaveSplit(this.filters, this.alphaOut);
    return this.output === 'high' ? split.high : split.low;
  }

  /** [high, low] input shapes (low null when alphaIn = 0), after checking their form. */
  private inputShapes(inputs: Shape | Shape[]): [Shape, Shape | null] {
    const isList = Array.isArray(inputs[0]);
    if (this.alphaIn === 0) {
      if (isList) {
        throw new ArgumentError(
          `${this.label}: alphaIn is 0, so it takes one input tensor, got a list of ${inputs.length}. ` +
            'Set alphaIn to the low-frequency share of the inputs to take [high, low].',
        );
      }
      expectInputRank(this, inputs as Shape, 4, '[batch, height, width, channels]');
      return [inputs as Shape, null];
    }
    if (!isList || inputs.length !== 2) {
      throw new ArgumentError(
        `${this.label}: alphaIn is ${this.alphaIn}, so it takes a list [high, low] of two tensors, got ${
          isList ? `a list of ${inputs.length}` : `one tensor ${fmtSymShape(inputs as Shape)}`
        }. Use alphaIn: 0 for an ordinary input.`,
      );
    }
    const [hi, lo] = inputs as [Shape, Shape];
    expectInputRank(this, hi, 4, 'high: [batch, height, width, channels]');
    expectInputRank(this, lo, 4, 'low: [batch, height / 2, width / 2, channels]');
    for (const a of [1, 2]) {
      if (hi[a] !== null && lo[a] !== null && hi[a] !== 2 * lo[a]!) {
        throw new ShapeError(
          `${this.label}: the low-frequency input must be half the height and width of the high one, got high ${fmtSymShape(hi)} and low ${fmtSymShape(lo)}.`,
        );
      }
    }
    return [hi, lo];
  }

  /** Spatial output size along one axis for an input of size n: the paths must agree. */
  private outSize(
    high: number | null,
    low: number | null,
    axis: 0 | 1,
    /** The input shapes, for messages. */
    inputs: string,
  ): number | null {
    if (high === null) return null;
    const s = this.strides[0];
    const k = this.kernelSize[axis]!;
    const conv = (n: number) => axisGeometry(n, k, 1, 1, this.padding, axis).out;
    // Each path: how much it pools its input first, and whether it upsamples the result.
    const paths: { name: string; n: number; pool: number; up: boolean }[] =
      this.output === 'high'
        ? [
            { name: 'H→H', n: high, pool: s, up: false },
            ...(low === null ? [] : [{ name: 'L→H', n: low, pool: 1, up: s === 1 }]),
          ]
        : [
            { name: 'H→L', n: high, pool: 2 * s, up: false },
            ...(low === null ? [] : [{ name: 'L→L', n: low, pool: s, up: false }]),
          ];
    const sizes = paths.map((p) => {
      if (p.n % p.pool !== 0) {
        throw new ShapeError(
          `${this.label}: the ${p.name} path pools by ${p.pool}, so the ${axis === 0 ? 'height' : 'width'} ` +
            `${p.n} must be divisible by ${p.pool} (input ${inputs}). Use input sizes divisible by ${2 * s}.`,
        );
      }
      const out = conv(p.n / p.pool);
      if (out < 1) {
        throw new ShapeError(
          `${this.label}: the ${this.kernelSize.join('x')} kernel does not fit the ${p.name} path's input of size ${p.n / p.pool} (input ${inputs}); use padding 'same'.`,
        );
      }
      return p.up ? 2 * out : out;
    });
    if (sizes.some((v) => v !== sizes[0])) {
      throw new ShapeError(
        `${this.label}: with padding ${JSON.stringify(this.padding)} the paths ${paths.map((p) => p.name).join(' and ')} give ` +
          `sizes ${sizes.join(' and ')} along the ${axis === 0 ? 'height' : 'width'} (input ${inputs}), which cannot be added. Use padding 'same'.`,
      );
    }
    return sizes[0]!;
  }

  override build(inputs: Shape | Shape[]): void {
    const [hi, lo] = this.inputShapes(inputs);
    const inHigh = knownDim(this, hi, 3, 'high-frequency channel');
    const inLow = lo === null ? 0 : knownDim(this, lo, 3, 'low-frequency channel');
    const expected = octaveSplit(inHigh + inLow, this.alphaIn).low;
    if (inLow !== expected) {
      throw new ShapeError(
        `${this.label}: alphaIn ${this.alphaIn} of ${inHigh + inLow} input channels means int(${this.alphaIn}·${inHigh + inLow}) = ${expected} ` +
          `low-frequency channels, got high ${inHigh} and low ${inLow}. Set alphaIn to match the previous layer's alphaOut.`,
      );
    }
    const out = this.outChannels;
    const [fromHigh, fromLow] = this.output === 'high' ? ['h2h', 'l2h'] : ['h2l', 'l2l'];
    this.kernelFromHigh = this.addWeight(
      `kernel_${fromHigh}`,
      [...this.kernelSize, inHigh, out],
      this.kernelInit,
    );
    if (inLow > 0) {
      this.kernelFromLow = this.addWeight(
        `kernel_${fromLow}`,
        [...this.kernelSize, inLow, out],
        this.kernelInit,
      );
    }
    if (this.useBias) this.bias = this.addWeight('bias', [out], this.biasInit);
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    // Checks the form of the inputs (and that they match the built weights) with the layer's messages.
    this.computeOutputShape(Array.isArray(inputs) ? list.map((t) => t.shape) : list[0]!.shape);
    const [xHigh, xLow] = [list[0]!, this.alphaIn === 0 ? null : list[1]!];
    if (
      xHigh.shape[3] !== this.kernelFromHigh!.shape[2] ||
      (xLow && xLow.shape[3] !== this.kernelFromLow!.shape[2])
    ) {
      throw new ShapeError(
        `${this.label}: built for ${this.kernelFromHigh!.shape[2]} high and ${this.kernelFromLow?.shape[2] ?? 0} low-frequency channels, ` +
          `got ${list.map((t) => fmtShape(t.shape)).join(' and ')}.`,
      );
    }
    const s = this.strides[0];
    const pool = (x: Tensor, p: number) =>
      p === 1 ? x : avgPool2d(x, { poolSize: p, strides: p });
    const conv = (x: Tensor, w: Tensor) => conv2d(x, w, { padding: this.padding });
    let y: Tensor;
    if (this.output === 'high') {
      y = conv(pool(xHigh, s), this.kernelFromHigh!);
      if (xLow) {
        const fromLow = conv(xLow, this.kernelFromLow!);
        y = add(y, s === 1 ? upsampleNearest(fromLow, [2, 2]) : fromLow);
      }
    } else {
      y = conv(pool(xHigh, 2 * s), this.kernelFromHigh!);
      if (xLow) y = add(y, conv(pool(xLow, s), this.kernelFromLow!));
    }
    if (this.bias) y = add(y, this.bias);
    return getActivation(this.activation, this.label)(y);
  }

  computeOutputShape(inputs: Shape | Shape[]): Shape {
    const [hi, lo] = this.inputShapes(inputs);
    const shown = lo === null ? fmtSymShape(hi) : `${fmtSymShape(hi)} and ${fmtSymShape(lo)}`;
    return [
      hi[0] ?? null,
      this.outSize(hi[1] ?? null, lo?.[1] ?? null, 0, shown),
      this.outSize(hi[2] ?? null, lo?.[2] ?? null, 1, shown),
      this.outChannels,
    ];
  }

  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      alphaIn: this.alphaIn,
      alphaOut: this.alphaOut,
      output: this.output,
      strides: this.strides,
      padding: this.padding,
      activation: this.activation,
      useBias: this.useBias,
      ...(typeof this.kernelInit === 'string' ? { kernelInitializer: this.kernelInit } : {}),
      ...(typeof this.biasInit === 'string' ? { biasInitializer: this.biasInit } : {}),
    };
  }
}

registerLayer(OctaveConv2D);
