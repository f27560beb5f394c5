/** Normalization: batchNorm with given statistics, moments, and AlexNet's local response normalization. */
import { record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { normalizeAxes } from '../util/shape.js';
import { square, sub } from './elementwise.js';
import { mean } from './reduce.js';
import { reshape } from './shape.js';
import { be, expectFiniteNumber, expectFloat, expectTensor, wrap } from './util.js';

/**
 * (x − mean) / sqrt(variance + epsilon) · gamma + beta, per channel (the last axis).
 * mean, variance, gamma and beta have shape [channels]. Gradients flow to all five, so batch
 * statistics computed with rc.moments give the full training-mode gradient.
 */
export function batchNorm(
  x: Tensor,
  meanT: Tensor,
  variance: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon = 1e-3,
): Tensor {
  const op = 'batchNorm';
  expectFloat(expectTensor(x, op, 'x'), op, 'x');
  if (x.rank < 1) throw new ShapeError(`${op}: x must have a channel axis, got a scalar.`);
  const c = x.shape[x.rank - 1]!;
  const stats: [string, Tensor][] = [
    ['mean', meanT],
    ['variance', variance],
    ['gamma', gamma],
    ['beta', beta],
  ];
  for (const [name, t] of stats) {
    expectFloat(expectTensor(t, op, name), op, name);
    if (t.rank !== 1 || t.shape[0] !== c) {
      throw new ShapeError(
        `${op}: ${name} must have shape [${c}] (one value per channel of x ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}.`,
      );
    }
  }
  expectFiniteNumber(epsilon, op, 'epsilon');
  if (epsilon <= 0) throw new ArgumentError(`${op}: epsilon must be positive, got ${epsilon}.`);
  const out = wrap(
    be().batchNorm(
      x.storage,
      meanT.storage,
      variance.storage,
      gamma.storage,
      beta.storage,
      c,
      epsilon,
    ),
    x.shape,
  );
  return record(op, out, [x, meanT, variance, gamma, beta], (dy) => {
    const g = be().batchNormBackward(
      dy.storage,
      x.storage,
      meanT.storage,
      variance.storage,
      gamma.storage,
      c,
      epsilon,
    );
    return [
      wrap(g.dx, x.shape),
      wrap(g.dMean, [c]),
      wrap(g.dVariance, [c]),
      wrap(g.dGamma, [c]),
      wrap(g.dBeta, [c]),
    ];
  });
}

/** Mean and (biased) variance over `axes`, as batch normalization uses them. */
export function moments(
  x: Tensor,
  axes: number | number[],
  keepDims = false,
): {
  /** The mean over `axes`. */
  mean: Tensor;
  /** The mean squared deviation over `axes` (divided by n, not n − 1). */
  variance: Tensor;
} {
  expectTensor(x, 'moments', 'x');
  const ax = normalizeAxes(axes, x.rank, 'moments');
  const m = mean(x, ax, true);
  const v = mean(square(sub(x, m)), ax, keepDims);
  // The mean once: without keepDims it is the kept one with its axes of size 1 dropped.
  return { mean: keepDims ? m : reshape(m, v.shape), variance: v };
}

/**
 * Training-mode batch normalization over the last axis (channels) with x's own batch
 * statistics: the value and gradients (to x, gamma and beta) of
 * batchNorm(x, moments(x, all axes but the last), gamma, beta, epsilon), and the statistics
 * themselves, without gradient, for the moving averages. Where the backend has moments and
 * batchNormTrainingBackward, one pass for the statistics and one backward kernel (which carries
 * the statistics' own gradient into dx); elsewhere (webgpu) those ops composed, as before.
 */
export function batchNormTraining(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon = 1e-3,
): {
  /** The normalized, scaled and shifted x. */
  y: Tensor;
  /** The batch mean of each channel, [channels] (no gradient). */
  mean: Tensor;
  /** The batch's biased variance of each channel, [channels] (no gradient). */
  variance: Tensor;
} {
  const op = 'batchNorm';
  expectFloat(expectTensor(x, op, 'x'), op, 'x');
  if (x.rank < 1) throw new ShapeError(`${op}: x must have a channel axis, got a scalar.`);
  const c = x.shape[x.rank - 1]!;
  const b = be();
  if (x.dtype === 'float32' && c > 0 && b.moments && b.batchNormTrainingBackward) {
    for (const [name, t] of [
      ['gamma', gamma],
      ['beta', beta],
    ] as const) {
      expectFloat(expectTensor(t, op, name), op, name);
      if (t.rank !== 1 || t.shape[0] !== c) {
        throw new ShapeError(
          `${op}: ${name} must have shape [${c}] (one value per channel of x ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}.`,
        );
      }
    }
    expectFiniteNumber(epsilon, op, 'epsilon');
    if (epsilon <= 0) throw new ArgumentError(`${op}: epsilon must be positive, got ${epsilon}.`);
    const stats = b.moments(x.storage, c);
    const out = wrap(
      b.batchNorm(x.storage, stats.mean, stats.variance, gamma.storage, beta.storage, c, epsilon),
      x.shape,
    );
    const y = record(op, out, [x, gamma, beta], (dy) => {
      const g = be().batchNormTrainingBackward!(
        dy.storage,
        x.storage,
        stats.mean,
        stats.variance,
        gamma.storage,
        c,
        epsilon,
      );
      return [wrap(g.dx, x.shape), wrap(g.dGamma, [c]), wrap(g.dBeta, [c])];
    });
    return { y, mean: wrap(stats.mean, [c]), variance: wrap(stats.variance, [c]) };
  }
  const { mean: m, variance: v } = moments(
    x,
    x.shape.slice(0, -1).map((_, i) => i),
  );
  return { y: batchNorm(x, m, v, gamma, beta, epsilon), mean: m.detach(), variance: v.detach() };
}

/** Options of {@link localResponseNorm}, named and defaulted as TensorFlow's `tf.nn.local_response_normalization`. */
export interface LRNOptions {
  /**
   * Half-width of the channel window (TensorFlow's depth_radius): channels c − r .. c + r.
   * @default 5
   */
  depthRadius?: number;
  /**
   * The constant added before the power (AlexNet's k).
   * @default 1
   */
  bias?: number;
  /**
   * The scale of the sum of squares (not divided by the window size, unlike PyTorch).
   * @default 1
   */
  alpha?: number;
  /**
   * The exponent.
   * @default 0.5
   */
  beta?: number;
}

/**
 * TensorFlow's local response normalization across channels:
 * out = x / (bias + alpha · Σ x² over channels [c − r, c + r]) ^ beta.
 * (PyTorch divides alpha by the window size 2r + 1; AlexNet's k=2, n=5, α=1e-4, β=0.75 is
 * depthRadius 2, bias 2, alpha 1e-4 / 5 here if you follow PyTorch, 1e-4 if you follow the paper.)
 */
export function localResponseNorm(x: Tensor, options: LRNOptions = {}): Tensor {
  const op = 'localResponseNorm';
  expectFloat(expectTensor(x, op, 'x (NHWC input)', { rank: 4 }), op, 'x');
  const { depthRadius = 5, bias = 1, alpha = 1, beta = 0.5 } = options;
  if (!Number.isInteger(depthRadius) || depthRadius < 0) {
    throw new ArgumentError(
      `${op}: depthRadius must be a non-negative integer, got ${depthRadius}.`,
    );
  }
  for (const [name, v] of Object.entries({ bias, alpha, beta })) expectFiniteNumber(v, op, name);
  const c = x.shape[3]!;
  const out = wrap(be().lrn(x.storage, c, depthRadius, bias, alpha, beta), x.shape);
  return record(op, out, [x], (dy) => [
    wrap(be().lrnBackward(x.storage, dy.storage, c, depthRadius, bias, alpha, beta), x.shape),
  ]);
}
