/**
 * Losses, by Keras's names. Each takes (yTrue, yPred) and returns the mean loss over the batch.
 * Cross-entropy on probabilities that came straight out of a softmax is computed from the
 * softmax's logits instead (as Keras does), which is exact and never takes log(0).
 */
import { logSoftmax } from '../ops/activations.js';
import { abs, add, exp, log, maximum, minimum, mul, neg, square, sub } from '../ops/elementwise.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { oneHot, type Tensor } from '../tensor.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../util/errors.js';
import { checkOptions, didYouMean, lookupName } from '../util/options.js';

/** A loss: labels and predictions in, a scalar tensor (the batch's mean) out; gradients flow through yPred. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
/** The losses by name (Keras's snake_case names and `'mse'`, `'mae'` work too). */
export type LossName =
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'meanSquaredError'
  | 'meanAbsoluteError';

const EPS = 1e-7;

/**
 * Labels that are probabilities (one-hot rows, soft targets) must lie in [0, max]: a negative
 * target makes cross-entropy reward confident mistakes, and NaN poisons the mean.
 */
function checkTargets(op: string, labels: Tensor, max = Number.POSITIVE_INFINITY): void {
  const v = labels.dataSync();
  for (let i = 0; i < v.length; i++) {
    const t = v[i]!;
    if (!(t >= 0 && t <= max)) {
      const row = labels.rank > 1 ? Math.floor(i / labels.shape[labels.rank - 1]!) : i;
      throw new ArgumentError(
        `${op}: label ${t} (row ${row} of the batch, ${fmtShape(labels.shape)}) is outside ${max === Number.POSITIVE_INFINITY ? '0 and above' : `0..${max}`}; ${max === 1 ? 'binary labels are probabilities of the positive class, 0..1' : 'one-hot or probability targets cannot be negative or NaN'}.`,
      );
    }
  }
}

/** The logits behind a softmax output, if yPred was made by softmax over its last axis. */
function softmaxLogits(yPred: Tensor): Tensor | null {
  return yPred.logits ?? null;
}

function clip(p: Tensor): Tensor {
  return minimum(maximum(p, EPS), 1 - EPS);
}

function checkSameShape(name: string, yTrue: Tensor, yPred: Tensor): void {
  if (
    yTrue.shape.length !== yPred.shape.length ||
    yTrue.shape.some((d, i) => d !== yPred.shape[i])
  ) {
    throw new ShapeError(
      `${name}: labels ${fmtShape(yTrue.shape)} and predictions ${fmtShape(yPred.shape)} must have the same shape.` +
        (yTrue.rank === 1 && yPred.rank === 2
          ? " For integer class ids use 'sparseCategoricalCrossentropy', or one-hot encode the labels with rc.oneHot."
          : ''),
    );
  }
}

/** Options of the cross-entropy losses. */
export interface CrossentropyOptions {
  /**
   * yPred are logits (no softmax/sigmoid applied). Without it, a softmax or sigmoid output's
   * logits are used anyway where the op kept them, so log(0) never happens.
   * @default false
   */
  fromLogits?: boolean;
  /**
   * Spread this much probability evenly over all classes of the target (e.g. 0.1): the target
   * becomes `(1 − ε)·target + ε / classes`, as Keras's label_smoothing and PyTorch's
   * `F.cross_entropy(label_smoothing=ε)`. A number in [0, 1).
   * @default 0
   */
  labelSmoothing?: number;
}

/** Options of {@link sparseCategoricalCrossentropy}: those of {@link categoricalCrossentropy}. */
export type SparseCrossentropyOptions = CrossentropyOptions;

/** Checks the cross-entropy options once, when the loss is made: unknown keys, fromLogits, labelSmoothing. */
function crossentropyOptions(
  where: string,
  options: CrossentropyOptions,
): Required<CrossentropyOptions> {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ArgumentError(
      `${where}: options must be an object such as { fromLogits: true }, got ${String(options)}.`,
    );
  checkOptions(where, options, ['fromLogits', 'labelSmoothing']);
  const { fromLogits = false, labelSmoothing = 0 } = options;
  if (typeof fromLogits !== 'boolean')
    throw new ArgumentError(
      `${where}: fromLogits must be true or false, got ${String(fromLogits)}.`,
    );
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1))
    throw new ArgumentError(
      `${where}: labelSmoothing must be a number in [0, 1) (the probability spread over all classes, 0.1 is usual), got ${String(labelSmoothing)}.`,
    );
  return { fromLogits, labelSmoothing };
}

/**
 * Cross-entropy against one-hot (or soft) targets [n, classes]: the mean over examples of
 * −Σ target·log(p), the target smoothed first when `labelSmoothing` is set.
 * @throws ArgumentError for an unknown option or labelSmoothing outside [0, 1)
 * @throws ShapeError (when called) if targets and predictions differ in shape
 */
export function categoricalCrossentropy(options: CrossentropyOptions = {}): LossFn {
  const { fromLogits, labelSmoothing } = crossentropyOptions('categoricalCrossentropy', options);
  return crossentropyAgainst(fromLogits, labelSmoothing, true);
}

/**
 * categoricalCrossentropy's loss; `checkLabels` false for one-hot rows made from checked class
 * ids (sparseCategoricalCrossentropy's), which need no reading back.
 */
function crossentropyAgainst(
  fromLogits: boolean,
  labelSmoothing: number,
  checkLabels: boolean,
): LossFn {
  return (yTrue, yPred) => {
    checkSameShape('categoricalCrossentropy', yTrue, yPred);
    if (yTrue.dtype !== 'float32')
      throw new DTypeError(
        `categoricalCrossentropy: one-hot labels must be float32, got ${yTrue.dtype}.`,
      );
    const k = yPred.shape[yPred.rank - 1]!;
    if (checkLabels) checkTargets('categoricalCrossentropy', yTrue);
    const logits = fromLogits ? yPred : softmaxLogits(yPred);
    const target =
      labelSmoothing > 0 ? add(mul(yTrue, 1 - labelSmoothing), labelSmoothing / k) : yTrue;
    if (logits && logits.rank === 2) return softmaxCrossEntropy(logits, target);
    const logp = logits ? logSoftmax(logits, -1) : log(clip(yPred));
    return mean(neg(sum(mul(target, logp), -1)));
  };
}

/**
 * Cross-entropy against int32 class ids [n]: categoricalCrossentropy of their one-hot rows
 * (smoothed by `labelSmoothing`, as PyTorch's `F.cross_entropy(logits, ids, label_smoothing=ε)`).
 * @throws ArgumentError for an unknown option or labelSmoothing outside [0, 1)
 * @throws ArgumentError (when called) for a class id outside the predictions' classes, naming it
 */
export function sparseCategoricalCrossentropy(options: SparseCrossentropyOptions = {}): LossFn {
  const { fromLogits, labelSmoothing } = crossentropyOptions(
    'sparseCategoricalCrossentropy',
    options,
  );
  // oneHot checks the ids: its rows need no second check (which would read them back).
  const cce = crossentropyAgainst(fromLogits, labelSmoothing, false);
  return (yTrue, yPred) => {
    if (yTrue.dtype !== 'int32') {
      throw new DTypeError(
        `sparseCategoricalCrossentropy: labels must be int32 class ids, got ${yTrue.dtype}. Make them with rc.tensor(ids, [n], 'int32').`,
      );
    }
    const ids = yTrue.rank === yPred.rank ? reshape(yTrue, yTrue.shape.slice(0, -1)) : yTrue;
    if (ids.rank !== yPred.rank - 1 || ids.shape.some((d, i) => d !== yPred.shape[i])) {
      throw new ShapeError(
        `sparseCategoricalCrossentropy: labels ${fmtShape(yTrue.shape)} do not match predictions ${fmtShape(yPred.shape)} (expected ${fmtShape(yPred.shape.slice(0, -1))}).`,
      );
    }
    return cce(oneHot(ids, yPred.shape[yPred.rank - 1]!), yPred);
  };
}

/**
 * Binary cross-entropy, −(y·log p + (1 − y)·log(1 − p)) averaged, for sigmoid outputs and labels
 * in 0..1; `labelSmoothing` ε makes the labels `(1 − ε)·y + ε / 2` (Keras's rule).
 * @throws ArgumentError for an unknown option or labelSmoothing outside [0, 1)
 * @throws ArgumentError (when called) for labels outside 0..1
 */
export function binaryCrossentropy(options: CrossentropyOptions = {}): LossFn {
  const { fromLogits, labelSmoothing } = crossentropyOptions('binaryCrossentropy', options);
  return (yTrue, yPred) => {
    checkSameShape('binaryCrossentropy', yTrue, yPred);
    checkTargets('binaryCrossentropy', yTrue, 1);
    const y = labelSmoothing > 0 ? add(mul(yTrue, 1 - labelSmoothing), labelSmoothing / 2) : yTrue;
    if (fromLogits) {
      // max(x, 0) − x·y + log(1 + exp(−|x|)): stable for large |x|.
      const x = yPred;
      return mean(add(sub(maximum(x, 0), mul(x, y)), log(add(1, expNeg(abs(x))))));
    }
    const p = clip(yPred);
    return mean(neg(add(mul(y, log(p)), mul(sub(1, y), log(sub(1, p))))));
  };
}

function expNeg(x: Tensor): Tensor {
  return exp(neg(x));
}

/** The mean of (yPred − yTrue)². */
export function meanSquaredError(): LossFn {
  return (yTrue, yPred) => {
    checkSameShape('meanSquaredError', yTrue, yPred);
    return mean(square(sub(yPred, yTrue)));
  };
}

/** The mean of |yPred − yTrue|. */
export function meanAbsoluteError(): LossFn {
  return (yTrue, yPred) => {
    checkSameShape('meanAbsoluteError', yTrue, yPred);
    return mean(abs(sub(yPred, yTrue)));
  };
}

const byName: Record<LossName, () => LossFn> = {
  categoricalCrossentropy: () => categoricalCrossentropy(),
  sparseCategoricalCrossentropy: () => sparseCategoricalCrossentropy(),
  binaryCrossentropy: () => binaryCrossentropy(),
  meanSquaredError,
  meanAbsoluteError,
};

/** Keras's short names (its snake_case names are found by lookupName). */
const aliases: Record<string, LossName> = {
  mse: 'meanSquaredError',
  mae: 'meanAbsoluteError',
};

/**
 * The loss for a name (a function passes through).
 * @throws ArgumentError for an unknown name, listing the known ones
 */
export function getLoss(loss: LossName | string | LossFn): LossFn {
  if (typeof loss === 'function') return loss;
  const make =
    typeof loss === 'string'
      ? lookupName(byName, Object.hasOwn(aliases, loss) ? aliases[loss]! : loss)
      : undefined;
  if (!make)
    throw new ArgumentError(
      `compile: unknown loss '${String(loss)}'.${typeof loss === 'string' ? didYouMean(loss, Object.keys(byName)) : ''} Known: ${Object.keys(byName).join(', ')} (Keras's snake_case names such as 'categorical_crossentropy' work too), or a function (yTrue, yPred) => Tensor.`,
    );
  return make();
}
