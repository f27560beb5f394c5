/**
 * The confusion matrix: counts of (true class, predicted class), and a Vega-Lite heatmap of
 * it with each count written in its cell (receptive's own SVG heatmap where vega is not installed). Rows are the true classes, columns the predictions,
 * as in scikit-learn, so the diagonal holds the right answers.
 */
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, NonFiniteError, ShapeError } from '../util/errors.js';
import { type Chart, vegaLiteOr } from './plots.js';
import { heatmapSvg } from './svg_charts.js';

/** Class ids from labels or predictions: int ids [n] as they are; scores [n, k] by their argmax. */
export function classIds(y: Tensor | ArrayLike<number>, what: string): Int32Array {
  if (!('dataSync' in y)) return Int32Array.from(y);
  if (y.rank === 1) return Int32Array.from(y.dataSync());
  if (y.rank === 2) {
    const [n, k] = y.shape as [number, number];
    const v = y.dataSync();
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 0; j < k; j++) {
        const s = v[i * k + j]!;
        // A NaN score has no argmax: counting it as class 0 would flatter a broken model.
        if (Number.isNaN(s))
          throw new NonFiniteError(
            `confusionMatrix: ${what}[${i}] holds NaN (class ${j}); the model's outputs are not numbers. Check its weights and inputs.`,
          );
        if (s > v[i * k + best]!) best = j;
      }
      ids[i] = best;
    }
    return ids;
  }
  throw new ShapeError(
    `confusionMatrix: ${what} must be class ids [n] or scores / one-hot rows [n, classes], got ${fmtShape(y.shape)}.`,
  );
}

/** A confusion matrix's numbers. */
export interface ConfusionCounts {
  /** counts[t][p]: how many examples of true class t were predicted as p. */
  counts: number[][];
  /** The class names, by id. */
  classNames: string[];
  /** The number of examples. */
  total: number;
  /** The diagonal over the total. */
  accuracy: number;
}

/**
 * Counts (true, predicted) pairs. yTrue, yPred: class ids, or rows of scores / one-hot (their
 * argmax). classNames: the names, or the number of classes (names '0', '1', ...); by default
 * one more than the largest id seen.
 */
export function confusionCounts(
  yTrue: Tensor | ArrayLike<number>,
  yPred: Tensor | ArrayLike<number>,
  classNames?: string[] | number,
): ConfusionCounts {
  const t = classIds(yTrue, 'yTrue');
  const p = classIds(yPred, 'yPred');
  if (t.length !== p.length) {
    throw new ShapeError(
      `confusionMatrix: yTrue has ${t.length} examples but yPred has ${p.length}; they must match one to one.`,
    );
  }
  let max = -1;
  for (let i = 0; i < t.length; i++) max = Math.max(max, t[i]!, p[i]!);
  const names =
    classNames === undefined
      ? Array.from({ length: max + 1 }, (_, i) => String(i))
      : typeof classNames === 'number'
        ? Array.from({ length: classNames }, (_, i) => String(i))
        : classNames;
  const k = names.length;
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let right = 0;
  for (let i = 0; i < t.length; i++) {
    const a = t[i]!;
    const b = p[i]!;
    if (!(a >= 0 && a < k && b >= 0 && b < k)) {
      throw new ArgumentError(
        `confusionMatrix: example ${i} has true class ${a} and prediction ${b}, but there are ${k} classes (0..${k - 1}).`,
      );
    }
    counts[a]![b]!++;
    if (a === b) right++;
  }
  return { counts, classNames: names, total: t.length, accuracy: t.length ? right / t.length : 0 };
}

/** The heatmap: darker for more, the count in each cell (white on dark cells), accuracy in the title. */
export function confusionChart(
  cm: ConfusionCounts,
  options: { title?: string } = {},
): Promise<Chart> {
  const rows = cm.counts.flatMap((row, t) =>
    row.map((count, p) => ({ actual: cm.classNames[t], predicted: cm.classNames[p], count })),
  );
  const max = Math.max(1, ...rows.map((r) => r.count));
  const cell = Math.max(22, Math.min(48, Math.round(480 / cm.classNames.length)));
  const axis = (title: string) => ({
    field: title === 'true class' ? 'actual' : 'predicted',
    type: 'ordinal',
    sort: cm.classNames,
    title,
  });
  const title =
    options.title ??
    `Confusion matrix: ${(cm.accuracy * 100).toFixed(2)}% right of ${cm.total.toLocaleString('en-US')}`;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: rows },
    width: cell * cm.classNames.length,
    height: cell * cm.classNames.length,
    encoding: {
      x: {
        ...axis('predicted class'),
        // Short names (digits) read best upright; long ones are tilted to fit their column.
        axis: { orient: 'top', labelAngle: cm.classNames.every((n) => n.length <= 3) ? 0 : -45 },
      },
      y: axis('true class'),
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'count',
            type: 'quantitative',
            scale: { scheme: 'blues', domain: [0, max] },
            legend: null,
          },
        },
      },
      {
        mark: { type: 'text', fontSize: Math.max(8, Math.round(cell / 3.2)) },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: {
            condition: { test: `datum.count > ${max / 2}`, value: 'white' },
            value: 'black',
          },
        },
      },
    ],
  };
  return vegaLiteOr(spec, () => heatmapSvg(cm.counts, cm.classNames, { title, cell }));
}

/** Counts and chart together: `confusionCounts` then `confusionChart`. */
export async function confusionMatrix(
  yTrue: Tensor | ArrayLike<number>,
  yPred: Tensor | ArrayLike<number>,
  classNames?: string[] | number,
  options: { title?: string } = {},
): Promise<
  ConfusionCounts & {
    /** The matrix drawn, SVG and PNG. */
    chart: Chart;
  }
> {
  const cm = confusionCounts(yTrue, yPred, classNames);
  return { ...cm, chart: await confusionChart(cm, options) };
}
