/**
 * Metrics, by Keras's names. Each returns the batch's sum and count so that fit() and
 * evaluate() can average over an epoch exactly, whatever the batch sizes.
 */
import { noGrad } from '../autograd.js';
import { add, equal, greater, mul, where } from '../ops/elementwise.js';
import { argMax, min, sum } from '../ops/reduce.js';
import { cast, reshape } from '../ops/shape.js';
import { type Tensor, tensor, zerosLike } from '../tensor.js';
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
  /**
   * The same computed with tensor ops, its total left on the device as a scalar tensor: what
   * fit and evaluate use on a backend whose reads are asynchronous (webgpu), which read the
   * totals every few batches. The built-in metrics have it; a metric without it cannot run there.
   */
  onDevice?(
    yTrue: Tensor,
    yPred: Tensor,
  ): {
    /** The sum over the batch, a scalar tensor. */
    total: Tensor;
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

/**
 * Labels are int32 class ids, [n] or [n, 1] (Keras's sparse labels), or float one-hot rows of
 * the predictions' shape [n, classes].
 */
function checkLabelShape(name: string, yTrue: Tensor, yPred: Tensor): void {
  const n = yPred.shape[0]!;
  if (yTrue.dtype === 'int32') {
    if (
      yTrue.size !== n ||
      yTrue.rank < 1 ||
      yTrue.rank > 2 ||
      (yTrue.shape[1] !== undefined && yTrue.shape[1] !== 1)
    )
      throw new ShapeError(
        `${name}: class ids must be [${n}] or [${n}, 1] for predictions ${fmtShape(yPred.shape)}, got ${fmtShape(yTrue.shape)}.`,
      );
    return;
  }
  if (yTrue.rank !== 2 || yTrue.shape[0] !== yPred.shape[0] || yTrue.shape[1] !== yPred.shape[1])
    throw new ShapeError(
      `${name}: one-hot labels must have the predictions' shape ${fmtShape(yPred.shape)}, got ${fmtShape(yTrue.shape)}; give class ids as an int32 tensor [batch] instead.`,
    );
}

function named(
  name: string,
  fn: (yTrue: Tensor, yPred: Tensor) => { total: number; count: number },
  onDevice?: (yTrue: Tensor, yPred: Tensor) => { total: Tensor; count: number },
): MetricFn {
  Object.defineProperty(fn, 'name', { value: name });
  if (onDevice) Object.defineProperty(fn, 'onDevice', { value: onDevice });
  return fn as MetricFn;
}

/** 1 where a row of [n, c] holds no NaN, else 0: [n]. */
function rowsWithoutNaN(p: Tensor): Tensor {
  return min(equal(p, p), 1);
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
  return named(
    name,
    (yTrue, yPred) =>
      noGrad(() => {
        if (yPred.rank !== 2)
          throw new ShapeError(
            `${name}: predictions must be [batch, classes], got ${fmtShape(yPred.shape)}.`,
          );
        const [n, c] = yPred.shape as [number, number];
        checkLabelShape(name, yTrue, yPred);
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
    (yTrue, yPred) =>
      noGrad(() => {
        if (yPred.rank !== 2)
          throw new ShapeError(
            `${name}: predictions must be [batch, classes], got ${fmtShape(yPred.shape)}.`,
          );
        const [n, c] = yPred.shape as [number, number];
        checkLabelShape(name, yTrue, yPred);
        const ids = yTrue.dtype === 'int32' ? reshape(yTrue, [n]) : argMax(yTrue, -1);
        if (ids.rank !== 1 || ids.shape[0] !== n)
          throw new ShapeError(
            `${name}: labels ${fmtShape(yTrue.shape)} do not match predictions ${fmtShape(yPred.shape)}.`,
          );
        // inTopK with tensor ops: the classes ranked ahead of the true one (higher, or equal
        // and of a lower index) number fewer than k; a label outside 0..c−1 or a row with NaN
        // is a miss.
        const t = reshape(cast(ids, 'float32'), [n, 1]);
        const classes = tensor(
          Float32Array.from({ length: c }, (_, j) => j),
          [1, c],
        );
        const isTrue = equal(t, classes);
        const target = sum(where(isTrue, yPred, zerosLike(yPred)), 1, true);
        const ahead = sum(
          add(greater(yPred, target), mul(equal(yPred, target), greater(t, classes))),
          1,
        );
        const hit = mul(mul(greater(k, ahead), sum(isTrue, 1)), rowsWithoutNaN(yPred));
        return { total: sum(hit), count: n };
      }),
  );
}

/**
 * Binary labels and predictions hold one value per prediction ([n] against [n, 1] is fine):
 * otherwise the CPU form would read past the labels and the tensor form would broadcast, and
 * either would score a mismatch as hits.
 */
function checkBinaryShapes(yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.size !== yPred.size)
    throw new ShapeError(
      `binaryAccuracy: labels ${fmtShape(yTrue.shape)} do not match predictions ${fmtShape(yPred.shape)}: expected one label per prediction (${yPred.size}), got ${yTrue.size}.`,
    );
}

/** Fraction of predictions on the right side of 0.5 (binary labels of any shape); NaN is a miss. */
export function binaryAccuracy(threshold = 0.5): MetricFn {
  return named(
    'accuracy',
    (yTrue, yPred) =>
      noGrad(() => {
        checkBinaryShapes(yTrue, yPred);
        const t = yTrue.dataSync();
        const p = yPred.dataSync();
        let hits = 0;
        for (let i = 0; i < p.length; i++) {
          const v = p[i]!;
          if (!Number.isNaN(v) && v > threshold === t[i]! > 0.5) hits++;
        }
        return { total: hits, count: p.length };
      }),
    (yTrue, yPred) =>
      noGrad(() => {
        checkBinaryShapes(yTrue, yPred);
        const t = reshape(yTrue, yPred.shape);
        return {
          total: sum(mul(equal(greater(yPred, threshold), greater(t, 0.5)), equal(yPred, yPred))),
          count: yPred.size,
        };
      }),
  );
}

/** 'accuracy' as Keras resolves it: by the kind of labels and predictions. */
export function accuracy(): MetricFn {
  const top1 = topKCategoricalAccuracy(1, 'accuracy');
  const binary = binaryAccuracy();
  const isBinary = (yPred: Tensor) => yPred.shape[yPred.rank - 1] === 1;
  return named(
    'accuracy',
    (yTrue, yPred) => (isBinary(yPred) ? binary(yTrue, yPred) : top1(yTrue, yPred)),
    (yTrue, yPred) =>
      isBinary(yPred) ? binary.onDevice!(yTrue, yPred) : top1.onDevice!(yTrue, yPred),
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
