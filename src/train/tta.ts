/**
 * Test-time augmentation for evaluate and predict: the model sees each image and some moved
 * copies of it, and the outputs are averaged, as airbench's multi-crop evaluation does.
 */
import { flipInto, translateInto } from '../data/image_shift.js';
import type { Model } from '../model/model.js';
import { softmax } from '../ops/activations.js';
import { add, mul } from '../ops/elementwise.js';
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { stepScope } from './step_scope.js';

/**
 * Test-time augmentation of images [batch, height, width, channels]:
 * - `'none'`: the image alone;
 * - `'flip'`: the mean of the outputs for the image and its mirror image;
 * - `'flipTranslate'`: airbench's: ½ of 'flip' of the image plus ¼ of 'flip' of each of its two
 *   copies moved by one pixel diagonally (reflect padding), up-left and down-right.
 */
export type TestTimeAugmentation = 'none' | 'flip' | 'flipTranslate';

const MODES: readonly TestTimeAugmentation[] = ['none', 'flip', 'flipTranslate'];

/** Checks a `tta` option. */
export function checkTta(where: string, tta: unknown): TestTimeAugmentation {
  if (tta === undefined) return 'none';
  if (!MODES.includes(tta as TestTimeAugmentation))
    throw new ArgumentError(
      `${where}: tta must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(tta) ?? String(tta)}.`,
    );
  return tta as TestTimeAugmentation;
}

/**
 * The views of x, each made when asked for (so that one view's copy at a time exists), and their
 * weights in the average.
 */
function views(where: string, x: Tensor, mode: TestTimeAugmentation): [() => Tensor, number][] {
  if (x.rank !== 4)
    throw new ShapeError(
      `${where}: tta '${mode}' needs images [batch, height, width, channels], got x of shape ${fmtShape(x.shape)}.`,
    );
  const [n, h, w, c] = x.shape as [number, number, number, number];
  if (mode === 'flipTranslate' && (h < 2 || w < 2))
    throw new ShapeError(
      `${where}: tta 'flipTranslate' moves images by one pixel with reflect padding, which needs at least 2×2 pixels; got ${h}×${w}. Use tta: 'flip'.`,
    );
  const src = x.dataSync() as Float32Array;
  const px = h * w * c;
  /** Applies an image move to every image of the batch. */
  const each = (from: Float32Array, move: (s: Float32Array, d: Float32Array) => void) => {
    const out = new Float32Array(from.length);
    for (let i = 0; i < n; i++)
      move(from.subarray(i * px, (i + 1) * px), out.subarray(i * px, (i + 1) * px));
    return out;
  };
  const flip = (from: Float32Array) => each(from, (s, d) => flipInto(s, d, h, w, c));
  const moved = (d: number) => each(src, (s, t) => translateInto(s, t, h, w, c, d, d, 'reflect'));
  const shape = x.shape;
  const mirrored = () => tensor(flip(src), shape);
  if (mode === 'flip')
    return [
      [() => x, 0.5],
      [mirrored, 0.5],
    ];
  return [
    [() => x, 0.25],
    [mirrored, 0.25],
    ...[-1, 1].flatMap((d): [() => Tensor, number][] => [
      [() => tensor(moved(d), shape), 0.125],
      [() => tensor(flip(moved(d)), shape), 0.125],
    ]),
  ];
}

/** The weighted mean of the tensors. */
function weightedMean(parts: [Tensor, number][]): Tensor {
  return parts.map(([t, wt]) => mul(t, wt)).reduce((a, b) => add(a, b));
}

/**
 * The model's outputs for x (inference mode) with test-time augmentation: each output is the
 * weighted mean over the views; a softmax output is the softmax of the mean of its logits
 * (airbench averages logits). Call under noGrad.
 */
export function callWithTta(
  model: Model,
  x: Tensor,
  mode: TestTimeAugmentation,
  where: string,
): Tensor[] {
  if (mode === 'none') return model.callAll(x, { training: false });
  const vs = views(where, x, mode);
  // Each view is made and run in a scope of its own that keeps only its outputs: on backends
  // that free by scope, one view's copy and activations exist at a time, not six.
  const outs = vs.map(([view]) =>
    stepScope(
      null,
      (o) => o ?? [],
      () => model.callAll(view(), { training: false }),
    ),
  );
  return outs[0]!.map((_, k) => {
    const per = outs.map((o) => o[k]!);
    if (per.every((o) => o.logits !== undefined))
      return softmax(weightedMean(per.map((o, i) => [o.logits!, vs[i]![1]])), -1);
    return weightedMean(per.map((o, i) => [o, vs[i]![1]]));
  });
}
