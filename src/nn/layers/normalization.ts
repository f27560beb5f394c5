/** BatchNormalization and AlexNet's LocalResponseNormalization. */
import { noGrad } from '../../autograd.js';
import { add, mul } from '../../ops/elementwise.js';
import {
  batchNorm,
  batchNormTraining,
  type LRNOptions,
  localResponseNorm,
} from '../../ops/norm.js';
import { expectFiniteNumber } from '../../ops/util.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../../util/errors.js';
import type { CallOptions, LayerArgs, Shape } from '../layer.js';
import { expectInputRank, knownDim, Layer, registerLayer } from '../layer.js';

/** Arguments of {@link BatchNormalization}; the defaults are Keras's. */
export interface BatchNormalizationArgs extends LayerArgs {
  /**
   * Weight of the old value in the moving averages, in [0, 1) (PyTorch's momentum 0.1 is 0.9 here).
   * @default 0.99
   */
  momentum?: number;
  /**
   * Added to the variance before the square root, > 0.
   * @default 1e-3
   */
  epsilon?: number;
  /**
   * Learn beta (a per-channel offset); without it beta stays 0.
   * @default true
   */
  center?: boolean;
  /**
   * Learn gamma (a per-channel scale); without it gamma stays 1 (airbench's BatchNorm). To
   * train beta faster than the other weights, see the optimizers' `paramMultipliers`.
   * @default true
   */
  scale?: boolean;
}

/**
 * Normalizes each channel (the last axis). Training: batch mean and variance, and the moving
 * averages move toward them. Inference: the moving averages, nothing updated.
 * @throws ArgumentError at construction for momentum outside [0, 1), epsilon not > 0, or center
 * or scale not a boolean
 */
export class BatchNormalization extends Layer {
  static override className = 'BatchNormalization';
  static override configFields = ['momentum', 'epsilon', 'center', 'scale'];
  /** Weight of the old value in the moving averages. */
  readonly momentum: number;
  /** Added to the variance. */
  readonly epsilon: number;
  /** Whether beta is learned. */
  readonly center: boolean;
  /** Whether gamma is learned. */
  readonly scale: boolean;
  /** The per-channel scale, [channels]. */
  gamma!: Tensor;
  /** The per-channel offset, [channels]. */
  beta!: Tensor;
  /** The moving mean inference uses, [channels] (not trained by gradients). */
  movingMean!: Tensor;
  /** The moving variance inference uses, [channels]. */
  movingVariance!: Tensor;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum < 1))
      throw new ArgumentError(
        `${this.label}: momentum must be a number in [0, 1), got ${JSON.stringify(args.momentum)}.`,
      );
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0 && Number.isFinite(this.epsilon)))
      throw new ArgumentError(
        `${this.label}: epsilon must be a positive finite number, got ${String(args.epsilon)}.`,
      );
    // A string 'false' would be truthy: the weight would train when the user froze it.
    for (const k of ['center', 'scale'] as const)
      if (typeof this[k] !== 'boolean')
        throw new ArgumentError(
          `${this.label}: ${k} must be true or false, got ${JSON.stringify(args[k])}.`,
        );
  }

  override build(s: Shape): void {
    if (s.length < 2) expectInputRank(this, s, 2, '[batch, ..., channels]');
    const c = knownDim(this, s, -1, 'channel');
    // gamma/beta exist even when not learned (fixed 1 and 0), so the kernel always gets four vectors.
    this.gamma = this.addWeight('gamma', [c], 'ones', this.scale);
    this.beta = this.addWeight('beta', [c], 'zeros', this.center);
    this.movingMean = this.addWeight('moving_mean', [c], 'zeros', false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'ones', false);
    if (!this.scale) this.ownWeights = this.ownWeights.filter((w) => w !== this.gamma);
    if (!this.center) this.ownWeights = this.ownWeights.filter((w) => w !== this.beta);
  }

  call(x: Tensor, options: CallOptions): Tensor {
    const c = this.movingMean.shape[0]!;
    if (x.rank < 2 || x.shape[x.rank - 1] !== c) {
      throw new ShapeError(
        `${this.label}: built for ${c} channels (the last axis), got input of shape ${fmtShape(x.shape)}.`,
      );
    }
    // A frozen layer runs in inference mode even in training (Keras's rule): fine-tuning on top
    // of it keeps the statistics it learned, and its normalization does not drift.
    if (!options.training || !this.trainable) {
      return batchNorm(
        x,
        this.movingMean,
        this.movingVariance,
        this.gamma,
        this.beta,
        this.epsilon,
      );
    }
    // The batch statistics and their gradient: one backend pass each way where it can.
    const { y, mean, variance } = batchNormTraining(x, this.gamma, this.beta, this.epsilon);
    noGrad(() => {
      const m = this.momentum;
      this.movingMean.storage = add(mul(this.movingMean, m), mul(mean.detach(), 1 - m)).storage;
      this.movingVariance.storage = add(
        mul(this.movingVariance, m),
        mul(variance.detach(), 1 - m),
      ).storage;
    });
    return y;
  }

  computeOutputShape(s: Shape): Shape {
    return s;
  }
}

/** Arguments of {@link LocalResponseNormalization}: those of {@link localResponseNorm}. */
export type LocalResponseNormalizationArgs = LayerArgs & LRNOptions;

/** TensorFlow's LRN across channels (AlexNet): x / (bias + alpha·Σx²)^beta over 2·depthRadius + 1 channels. */
export class LocalResponseNormalization extends Layer {
  static override className = 'LocalResponseNormalization';
  static override configFields = ['depthRadius', 'bias', 'alpha', 'beta'];
  /** Half-width of the channel window. */
  readonly depthRadius: number;
  /** The constant added before the power. */
  readonly bias: number;
  /** The scale of the sum of squares. */
  readonly alpha: number;
  /** The exponent. */
  readonly beta: number;
  constructor(args: LocalResponseNormalizationArgs = {}) {
    super(args);
    this.depthRadius = args.depthRadius ?? 5;
    this.bias = args.bias ?? 1;
    this.alpha = args.alpha ?? 1;
    this.beta = args.beta ?? 0.5;
    // The op checks these too, but only at the first call; a model should not build with them.
    if (!Number.isInteger(this.depthRadius) || this.depthRadius < 0) {
      throw new ArgumentError(
        `${this.label}: depthRadius must be a non-negative integer, got ${String(args.depthRadius)}.`,
      );
    }
    for (const k of ['bias', 'alpha', 'beta'] as const) expectFiniteNumber(this[k], this.label, k);
  }
  call(x: Tensor): Tensor {
    return localResponseNorm(x, {
      depthRadius: this.depthRadius,
      bias: this.bias,
      alpha: this.alpha,
      beta: this.beta,
    });
  }
  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return s;
  }
}

for (const cls of [BatchNormalization, LocalResponseNormalization]) registerLayer(cls);
