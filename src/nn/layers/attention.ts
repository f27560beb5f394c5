/**
 * Attention blocks that reweight feature maps: SqueezeExcite (channel attention, Hu et al. 2018)
 * and CBAM (channel then spatial attention, Woo et al. 2018). Both keep the input's shape, so
 * they drop into any convolutional network after a block.
 */
import { sigmoid } from '../../ops/activations.js';
import { add, mul } from '../../ops/elementwise.js';
import { max, mean } from '../../ops/reduce.js';
import { concat, reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../../util/errors.js';
import { pair } from '../../util/shape.js';
import type { CallOptions, LayerArgs, Shape } from '../layer.js';
import { expectInputRank, knownDim, Layer, registerLayer } from '../layer.js';
import { Conv2D } from './conv.js';
import { Dense } from './core.js';
import { buildSublayer, reducedUnits } from './sublayers.js';

function checkRatio(where: string, ratio: unknown): number {
  if (typeof ratio !== 'number' || !Number.isInteger(ratio) || ratio < 1) {
    throw new ArgumentError(
      `${where}: ratio (the reduction ratio r) must be a positive integer, got ${JSON.stringify(ratio)}.`,
    );
  }
  return ratio;
}

/** Throws when a built attention block is called on a different number of channels. */
function checkChannels(layer: Layer, x: Tensor, channels: number): void {
  if (x.rank !== 4 || x.shape[3] !== channels) {
    throw new ShapeError(
      `${layer.label}: built for input of shape [batch, height, width, ${channels}], got ${fmtShape(x.shape)}.`,
    );
  }
}

export interface SqueezeExciteArgs extends LayerArgs {
  /** Reduction ratio r: the bottleneck has floor(C / r) units (at least 1). Default 16, as in the paper. */
  ratio?: number;
  /** Another name for ratio (the paper's "reduction ratio"); give one or the other. */
  reduction?: number;
}

/**
 * Squeeze-and-Excitation (Hu et al. 2018): learns one gate in (0, 1) per channel from the
 * whole feature map and rescales the channels with it, so the network can stress informative
 * channels and damp the others at almost no cost.
 *
 * squeeze: z = global average pool of x                   [batch, C]
 * excite:  s = sigmoid(W2 · relu(W1 · z + b1) + b2)         W1: C → C/r, W2: C/r → C
 * scale:   y = x · s (per channel)                          same shape as x
 *
 * The two fully connected layers are Dense sublayers named `<name>/reduce` and `<name>/expand`;
 * parameters: C·(C/r) + C/r + (C/r)·C + C.
 */
export class SqueezeExcite extends Layer {
  static override className = 'SqueezeExcite';
  static override configFields = ['ratio'];
  static override args = ['reduction'];
  /** Channel reduction ratio of the bottleneck. */
  readonly ratio: number;
  /** The bottleneck's first Dense (channels → channels / ratio, ReLU). */
  reduce: Dense | null = null;
  /** The second Dense (back to channels, sigmoid): the gates. */
  expand: Dense | null = null;

  constructor(args: SqueezeExciteArgs = {}) {
    super(args);
    if (args.ratio !== undefined && args.reduction !== undefined && args.ratio !== args.reduction) {
      throw new ArgumentError(
        `${this.label}: ratio (${args.ratio}) and reduction (${args.reduction}) are two names for the same thing; give one.`,
      );
    }
    this.ratio = checkRatio(this.label, args.ratio ?? args.reduction ?? 16);
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const c = knownDim(this, s, 3, 'channel');
    const units = reducedUnits(c, this.ratio);
    const common = { trainable: this.trainable };
    this.reduce = this.addSublayer(
      new Dense({ ...common, units, activation: 'relu', name: `${this.name}/reduce` }),
    );
    this.expand = this.addSublayer(
      new Dense({ ...common, units: c, activation: 'sigmoid', name: `${this.name}/expand` }),
    );
    buildSublayer(this.expand, buildSublayer(this.reduce, [s[0] ?? null, c]));
  }

  call(x: Tensor, options: CallOptions): Tensor {
    const c = this.expand!.units;
    checkChannels(this, x, c);
    const z = mean(x, [1, 2]);
    const gates = this.expand!.apply(this.reduce!.apply(z, options), options);
    return mul(x, reshape(gates, [x.shape[0]!, 1, 1, c]));
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [...s];
  }
}

export interface CBAMArgs extends LayerArgs {
  /** Reduction ratio r of the shared MLP: floor(C / r) hidden units (at least 1). Default 8. */
  ratio?: number;
  /** Size of the spatial-attention convolution. Default 7 (the paper's best). */
  kernelSize?: number | [number, number];
  /**
   * Biases in the shared MLP. Default false: the paper's Eq. 2 is W1(δ(W0 F)) with no bias
   * terms. The authors' code uses biased nn.Linear layers; pass true to match it.
   */
  useBias?: boolean;
}

/**
 * Convolutional Block Attention Module (Woo et al. 2018): channel attention, then spatial
 * attention, each a multiplicative gate.
 *
 * channel: Mc = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))     one MLP for both, C → C/r → C,
 *          x' = x · Mc                                          relu after the first layer
 * spatial: Ms = sigmoid(conv_k×k([mean_c(x'); max_c(x')]))     'same' padding, 2 → 1 channel
 *          y  = x' · Ms
 *
 * As in the paper, the spatial convolution has no bias and no batch normalization (the
 * authors' code adds a BatchNorm there; the equations do not), and the MLP has no biases
 * unless `useBias` is set. Sublayers: `<name>/mlp_reduce`, `<name>/mlp_expand`,
 * `<name>/spatial_conv`. Parameters: 2·C·(C/r) + 2·k² (+ C/r + C with useBias).
 */
export class CBAM extends Layer {
  static override className = 'CBAM';
  static override configFields = ['ratio', 'kernelSize', 'useBias'];
  /** Channel reduction ratio of the shared MLP. */
  readonly ratio: number;
  /** [height, width] of the spatial attention's convolution. */
  readonly kernelSize: [number, number];
  /** Whether the MLP's layers have biases. */
  readonly useBias: boolean;
  /** The shared MLP's first layer (channels → channels / ratio). */
  mlpReduce: Dense | null = null;
  /** The shared MLP's second layer (back to channels). */
  mlpExpand: Dense | null = null;
  /** The spatial attention's convolution over [mean, max] of the channels (2 → 1 channel, no bias). */
  spatialConv: Conv2D | null = null;

  constructor(args: CBAMArgs = {}) {
    super(args);
    this.ratio = checkRatio(this.label, args.ratio ?? 8);
    this.kernelSize = pair(args.kernelSize ?? 7, 'kernelSize', this.label);
    this.useBias = args.useBias ?? false;
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const c = knownDim(this, s, 3, 'channel');
    const units = reducedUnits(c, this.ratio);
    const common = { trainable: this.trainable, useBias: this.useBias };
    this.mlpReduce = this.addSublayer(
      new Dense({ ...common, units, activation: 'relu', name: `${this.name}/mlp_reduce` }),
    );
    this.mlpExpand = this.addSublayer(
      new Dense({ ...common, units: c, name: `${this.name}/mlp_expand` }),
    );
    this.spatialConv = this.addSublayer(
      new Conv2D({
        filters: 1,
        kernelSize: this.kernelSize,
        padding: 'same',
        useBias: false,
        trainable: this.trainable,
        name: `${this.name}/spatial_conv`,
      }),
    );
    buildSublayer(this.mlpExpand, buildSublayer(this.mlpReduce, [s[0] ?? null, c]));
    buildSublayer(this.spatialConv, [s[0] ?? null, s[1] ?? null, s[2] ?? null, 2]);
  }

  call(x: Tensor, options: CallOptions): Tensor {
    const c = this.mlpExpand!.units;
    checkChannels(this, x, c);
    const mlp = (v: Tensor) => this.mlpExpand!.apply(this.mlpReduce!.apply(v, options), options);
    const channelGate = sigmoid(add(mlp(mean(x, [1, 2])), mlp(max(x, [1, 2]))));
    const refined = mul(x, reshape(channelGate, [x.shape[0]!, 1, 1, c]));
    const pooled = concat([mean(refined, 3, true), max(refined, 3, true)], 3);
    const spatialGate = sigmoid(this.spatialConv!.apply(pooled, options));
    return mul(refined, spatialGate);
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [...s];
  }
}

for (const cls of [SqueezeExcite, CBAM]) registerLayer(cls);
