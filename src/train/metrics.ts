/**
 * Metrics, by Keras's names. Each returns the batch's sum and count so that fit() and
 * evaluate() can average over an epoch exactly, whatever the batch sizes.
 */
import { noGrad } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { didYouMean, lookupName } from '../util/options.js';

/** A metric: per batch, the sum of its per-example values and the example count, so that epochs average exactly. */
export interface MetricFn {
  /** The name in the logs (`accuracy`, ...). */
  name: string;
  /** Sum of the per-example metric over the batch, and the number of examples. */
  (
    yTrue: Tensor,
    yPred: Tensor,
  ): {
    /** The sum over the batch. */
    total: number;
    /** The examples counted. */
    count: number;
  };
}

/** Class ids from labels: int32 ids as they are, one-hot rows by their argmax. */
function trueClasses(yTrue: Tensor, k: number): Int32Array {
  const v = yTrue.dataSync();
  if (yTrue.dtype === 'int32') return Int32Array.from(v);
  const n = v.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (v[i * k + j]! > v[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}

function named(
  name: string,
  fn: (yTrue: Tensor, yPred: Tensor) => { total: number; count: number },
): MetricFn {
  Object.defineProperty(fn, 'name', { value: name });
  return fn as MetricFn;
}

/**
 * Whether class `t` is among the k highest scores of `row` (offset `o`, `c` classes). Ties go
 * to the lower index, as argmax's first maximum does (Keras: argmax(prediction) == label), so
 * a model that scores every class the same is right about class 0 only. A row holding NaN is a
 * miss: a broken prediction never counts as a hit.
 */
function inTopK(p: ArrayLike<number>, o: number, c: number, t: number, k: number): boolean {
  if (!(t >= 0 && t < c)) return false;
  const target = p[o + t]!;
  let ahead = 0;
  for (let j = 0; j < c; j++) {
    const v = p[o + j]!;
    if (Number.isNaN(v)) return false;
    if (v > target || (v === target && j < t)) ahead++;
  }
  return ahead < k;
}

/**
 * Fraction of examples whose true class is among the k highest predictions. Ties are ranked
 * by class index, so for k = 1 this is Keras's argmax(prediction) == label; TensorFlow's
 * in_top_k instead counts every class of a tie that straddles the k-th place, which scores a
 * model that outputs a constant as always right.
 */
export function topKCategoricalAccuracy(
  k = 5,
  name = k === 1 ? 'accuracy' : `top${k}Accuracy`,
): MetricFn {
  return named(name, (yTrue, yPred) =>
    noGrad(() => {
      if (yPred.rank !== 2)
        throw new ShapeError(
          `${name}: predictions must be [batch, classes], got ${fmtShape(yPred.shape)}.`,
        );
      const [n, c] = yPred.shape as [number, number];
      const ids = trueClasses(yTrue, c);
      if (ids.length !== n)
        throw new ShapeError(
          `${name}: labels ${fmtShape(yTrue.shape)} do not match predictions ${fmtShape(yPred.shape)}.`,
        );
      const p = yPred.dataSync();
      let hits = 0;
      for (let i = 0; i < n; i++) if (inTopK(p, i * c, c, ids[i]!, k)) hits++;
      return { total: hits, count: n };
    }),
  );
}

/** Fraction of predictions on the right side of 0.5 (binary labels of any shape); NaN is a miss. */
export function binaryAccuracy(threshold = 0.5): MetricFn {
  return named('accuracy', (yTrue, yPred) =>
    noGrad(() => {
      const t = yTrue.dataSync();
      const p = yPred.dataSync();
      let hits = 0;
      for (let i = 0; i < p.length; i++) {
        const v = p[i]!;
        if (!Number.isNaN(v) && v > threshold === t[i]! > 0.5) hits++;
      }
      return { total: hits, count: p.length };
    }),
  );
}

/** 'accuracy' as Keras resolves it: by the kind of labels and predictions. */
export function accuracy(): MetricFn {
  const top1 = topKCategoricalAccuracy(1, 'accuracy');
  const binary = binaryAccuracy();
  return named('accuracy', (yTrue, yPred) =>
    yPred.shape[yPred.rank - 1] === 1 ? binary(yTrue, yPred) : top1(yTrue, yPred),
  );
}

/** The metrics by name (`'categoricalAccuracy'` and `'sparseCategoricalAccuracy'` mean `'accuracy'`). */
export type MetricName =
  | 'accuracy'
  | 'acc'
  | 'topKCategoricalAccuracy'
  | 'top5Accuracy'
  | 'binaryAccuracy';

/** The metrics by name; Keras's snake_case spellings are found by lookupName. */
const byName: Record<string, () => MetricFn> = {
  accuracy,
  acc: accuracy,
  categoricalAccuracy: accuracy,
  sparseCategoricalAccuracy: accuracy,
  binaryAccuracy: () => binaryAccuracy(),
  topKCategoricalAccuracy: () => topKCategoricalAccuracy(5),
  top5Accuracy: () => topKCategoricalAccuracy(5),
};

/**
 * The metric for a name (a function passes through).
 * @throws ArgumentError for an unknown name
 */
export function getMetric(m: MetricName | string | MetricFn): MetricFn {
  if (typeof m === 'function') return m;
  const make = typeof m === 'string' ? lookupName(byName, m) : undefined;
  if (!make)
    throw new ArgumentError(
      `compile: unknown metric '${String(m)}'.${typeof m === 'string' ? didYouMean(m, Object.keys(byName)) : ''} Known: accuracy, binaryAccuracy, topKCategoricalAccuracy (top5Accuracy), or a function.`,
    );
  return make();
}
