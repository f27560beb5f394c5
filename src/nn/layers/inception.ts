/** GoogLeNet's inception module ("mixed" layer): four parallel branches joined on channels. */
import { maxPool2d } from '../../ops/pool.js';
import { concat } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../../util/errors.js';
import {
  type ActivationArg,
  type ActivationName,
  activationName,
  getActivation,
} from '../activation_fns.js';
import type { CallOptions, LayerArgs, Shape } from '../layer.js';
import { expectInputRank, knownDim, Layer, registerLayer } from '../layer.js';
import { Conv2D } from './conv.js';
import { BatchNormalization } from './normalization.js';
import { buildSublayer } from './sublayers.js';

/** Arguments of {@link InceptionModule}: the filters of each branch, as the GoogLeNet paper's table lists them. */
export interface InceptionModuleArgs extends LayerArgs {
  /** Filters of the 1×1 branch. */
  filters1x1: number;
  /** Filters of the 1×1 reduction before the 3×3 convolution. */
  filters3x3Reduce: number;
  /** Filters of the 3×3 convolution. */
  filters3x3: number;
  /** Filters of the 1×1 reduction before the 5×5 convolution. */
  filters5x5Reduce: number;
  /** Filters of the 5×5 convolution. */
  filters5x5: number;
  /** Filters of the 1×1 projection after the 3×3 max pool. */
  poolProjection: number;
  /**
   * After every convolution.
   * @default 'relu'
   */
  activation?: ActivationArg;
  /**
   * Batch-normalize every convolution's output before the activation (the convolutions then have no bias).
   * @default false
   */
  batchNorm?: boolean;
}

const FILTER_ARGS = [
  'filters1x1',
  'filters3x3Reduce',
  'filters3x3',
  'filters5x5Reduce',
  'filters5x5',
  'poolProjection',
] as const;

/** A convolution followed by (batch normalization and) the activation. */
interface ConvUnit {
  conv: Conv2D;
  bn: BatchNormalization | null;
}

/**
 * The inception module of GoogLeNet (Szegedy et al. 2014): the same input goes through
 * four branches that see different receptive fields, and their outputs are concatenated on
 * the channel axis in this order:
 *
 * 1. 1×1 convolution                                        filters1x1
 * 2. 1×1 convolution (reduce) → 3×3 convolution             filters3x3Reduce → filters3x3
 * 3. 1×1 convolution (reduce) → 5×5 convolution             filters5x5Reduce → filters5x5
 * 4. 3×3 max pool, stride 1, 'same' → 1×1 convolution       poolProjection
 *
 * The 1×1 reductions are what make it affordable: they shrink the channels before the
 * expensive 3×3 and 5×5 convolutions. Every convolution uses 'same' padding and stride 1,
 * so the spatial size is kept; each is followed by the activation (ReLU), or, with
 * `batchNorm`, by batch normalization (no convolution bias) and then the activation.
 * Sublayers are named like the original Caffe model: `<name>/1x1`, `<name>/3x3_reduce`,
 * `<name>/3x3`, `<name>/5x5_reduce`, `<name>/5x5`, `<name>/pool_proj` (and `..._bn`).
 * Inception (3a) on 192 channels (64, 96 → 128, 16 → 32, 32) has 163,696 parameters.
 */
export class InceptionModule extends Layer {
  static override className = 'InceptionModule';
  static override configFields = [
    'filters1x1',
    'filters3x3Reduce',
    'filters3x3',
    'filters5x5Reduce',
    'filters5x5',
    'poolProjection',
    'activation',
    'batchNorm',
  ];
  /** Filters of the 1×1 branch. */
  readonly filters1x1: number;
  /** Filters of the reduction before the 3×3. */
  readonly filters3x3Reduce: number;
  /** Filters of the 3×3. */
  readonly filters3x3: number;
  /** Filters of the reduction before the 5×5. */
  readonly filters5x5Reduce: number;
  /** Filters of the 5×5. */
  readonly filters5x5: number;
  /** Filters of the projection after the max pool. */
  readonly poolProjection: number;
  /** The activation after every convolution. */
  readonly activation: ActivationName;
  /** Whether every convolution is batch-normalized. */
  readonly batchNorm: boolean;
  /** The 1×1 branch's convolution (and its batch norm). */
  readonly branch1x1: ConvUnit;
  /** The 1×1 reduction before the 3×3. */
  readonly branch3x3Reduce: ConvUnit;
  /** The 3×3 convolution. */
  readonly branch3x3: ConvUnit;
  /** The 1×1 reduction before the 5×5. */
  readonly branch5x5Reduce: ConvUnit;
  /** The 5×5 convolution. */
  readonly branch5x5: ConvUnit;
  /** The 1×1 projection after the pool. */
  readonly branchPoolProj: ConvUnit;
  private inChannels: number | null = null;

  constructor(args: InceptionModuleArgs) {
    super(args);
    for (const key of FILTER_ARGS) {
      const v = args?.[key];
      if (!Number.isInteger(v) || (v as number) < 1) {
        throw new ArgumentError(
          `${this.label}: ${key} must be a positive integer, got ${JSON.stringify(v)}. ` +
            'Give all six: filters1x1, filters3x3Reduce, filters3x3, filters5x5Reduce, filters5x5, poolProjection.',
        );
      }
    }
    this.filters1x1 = args.filters1x1;
    this.filters3x3Reduce = args.filters3x3Reduce;
    this.filters3x3 = args.filters3x3;
    this.filters5x5Reduce = args.filters5x5Reduce;
    this.filters5x5 = args.filters5x5;
    this.poolProjection = args.poolProjection;
    this.activation = activationName(args.activation ?? 'relu', this.label);
    this.batchNorm = args.batchNorm ?? false;
    this.branch1x1 = this.unit('1x1', this.filters1x1, 1);
    this.branch3x3Reduce = this.unit('3x3_reduce', this.filters3x3Reduce, 1);
    this.branch3x3 = this.unit('3x3', this.filters3x3, 3);
    this.branch5x5Reduce = this.unit('5x5_reduce', this.filters5x5Reduce, 1);
    this.branch5x5 = this.unit('5x5', this.filters5x5, 5);
    this.branchPoolProj = this.unit('pool_proj', this.poolProjection, 1);
  }

  private unit(suffix: string, filters: number, kernelSize: number): ConvUnit {
    const name = `${this.name}/${suffix}`;
    const conv = this.addSublayer(
      new Conv2D({
        filters,
        kernelSize,
        padding: 'same',
        useBias: !this.batchNorm,
        activation: this.batchNorm ? 'linear' : this.activation,
        trainable: this.trainable,
        name,
      }),
    );
    const bn = this.batchNorm
      ? this.addSublayer(new BatchNormalization({ trainable: this.trainable, name: `${name}_bn` }))
      : null;
    return { conv, bn };
  }

  private buildUnit(u: ConvUnit, s: Shape): Shape {
    const out = buildSublayer(u.conv, s);
    return u.bn ? buildSublayer(u.bn, out) : out;
  }

  private runUnit(u: ConvUnit, x: Tensor, options: CallOptions): Tensor {
    const y = u.conv.apply(x, options);
    return u.bn ? getActivation(this.activation, this.label)(u.bn.apply(y, options)) : y;
  }

  override build(s: Shape): void {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    this.inChannels = knownDim(this, s, 3, 'channel');
    this.buildUnit(this.branch1x1, s);
    this.buildUnit(this.branch3x3, this.buildUnit(this.branch3x3Reduce, s));
    this.buildUnit(this.branch5x5, this.buildUnit(this.branch5x5Reduce, s));
    this.buildUnit(this.branchPoolProj, s);
  }

  call(x: Tensor, options: CallOptions): Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new ShapeError(
        `${this.label}: built for input of shape [batch, height, width, ${this.inChannels}], got ${fmtShape(x.shape)}.`,
      );
    }
    const run = (u: ConvUnit, v: Tensor) => this.runUnit(u, v, options);
    const pooled = maxPool2d(x, { poolSize: 3, strides: 1, padding: 'same' });
    return concat(
      [
        run(this.branch1x1, x),
        run(this.branch3x3, run(this.branch3x3Reduce, x)),
        run(this.branch5x5, run(this.branch5x5Reduce, x)),
        run(this.branchPoolProj, pooled),
      ],
      3,
    );
  }

  /** Channels of the output: the four branches' filters added. */
  get outputChannels(): number {
    return this.filters1x1 + this.filters3x3 + this.filters5x5 + this.poolProjection;
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [s[0] ?? null, s[1] ?? null, s[2] ?? null, this.outputChannels];
  }
}

registerLayer(InceptionModule);
