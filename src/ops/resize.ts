/**
 * Resizing images [n, h, w, c] to [n, H, W, c], bilinear or nearest.
 *
 * Both are linear in the input and separable: along each axis the output is M · x for a
 * sparse [out, in] matrix of interpolation weights. So the op is composed, tinygrad-style,
 * from transpose and matmul (rows, then columns) and its gradient comes from theirs.
 */

import type { Tensor } from '../tensor.js';
import { tensor } from '../tensor.js';
import { ArgumentError, fmtShape } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './shape.js';
import { expectFloat, expectTensor } from './util.js';

/**
 * Where an output pixel samples the input, as PyTorch, TensorFlow and ONNX name the choices:
 * - `'half-pixel'`: pixel centres line up (`src = (i + 0.5)·in/out − 0.5`); PyTorch's
 *   `align_corners=False`, TensorFlow 2's `tf.image.resize`, Keras's bilinear UpSampling2D.
 * - `'align-corners'`: the corner pixels line up (`src = i·(in − 1)/(out − 1)`); PyTorch's
 *   `align_corners=True`.
 * - `'asymmetric'`: `src = i·in/out`; TensorFlow 1's default and PyTorch's `'nearest'`.
 */
export type ResizeCoordinates = 'half-pixel' | 'align-corners' | 'asymmetric';

/** Options of {@link resize}. */
export interface ResizeOptions {
  /**
   * `'bilinear'` blends the 2×2 nearest input pixels; `'nearest'` copies one (with
   * `'half-pixel'`, the input pixel that contains the output pixel's centre; with
   * `'asymmetric'`, `floor(i·in/out)`; with `'align-corners'`, the rounded position).
   * @default 'bilinear'
   */
  method?: 'bilinear' | 'nearest';
  /**
   * See {@link ResizeCoordinates}.
   * @default 'half-pixel'
   */
  coordinates?: ResizeCoordinates;
  /**
   * [height, width] factors, output over input, that the sampling positions of `'half-pixel'` and
   * `'asymmetric'` use where they are not the sizes' own ratio: a resize by a factor whose
   * product with the input size is not whole (PyTorch's `interpolate(scale_factor=0.6)` without
   * `recompute_scale_factor`, ONNX Resize's `scales`). `'align-corners'` does not use it.
   * @default [height / inHeight, width / inWidth]
   */
  scale?: [number, number];
}

const METHODS = ['bilinear', 'nearest'];
/** The coordinate modes of {@link resize}. */
export const RESIZE_COORDINATES: readonly ResizeCoordinates[] = [
  'half-pixel',
  'align-corners',
  'asymmetric',
];
/** Larger sides are almost surely a mistake (and [H, h] weight matrices would be huge). */
const MAX_SIDE = 1 << 16;

/**
 * Resizes images `[n, h, w, c]` to `[n, height, width, c]`, differentiably.
 *
 * @throws ShapeError if x is not rank 4
 * @throws ArgumentError for a size that is not two positive integers, or an unknown method or
 *   coordinates
 * @example
 * ```ts
 * const x = rc.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * rc.resize(x, [4, 4]).shape;                           // [1, 4, 4, 1]
 * rc.resize(x, [3, 3], { coordinates: 'align-corners' }).dataSync()[4];   // 2.5
 * ```
 */
export function resize(x: Tensor, size: [number, number], options: ResizeOptions = {}): Tensor {
  expectFloat(expectTensor(x, 'resize', 'x', { rank: 4 }), 'resize', 'x');
  checkOptions('resize', options, ['method', 'coordinates', 'scale']);
  const { method = 'bilinear', coordinates = 'half-pixel', scale } = options;
  if (!METHODS.includes(method))
    throw new ArgumentError(
      `resize: method must be one of ${METHODS.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(method)}.`,
    );
  if (!RESIZE_COORDINATES.includes(coordinates))
    throw new ArgumentError(
      `resize: coordinates must be one of ${RESIZE_COORDINATES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(coordinates)}.`,
    );
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((s) => Number.isInteger(s) && s > 0 && s <= MAX_SIDE)
  )
    throw new ArgumentError(
      `resize: size must be [height, width], two integers from 1 to ${MAX_SIDE}, got ${JSON.stringify(size)}.`,
    );
  if (
    scale !== undefined &&
    (!Array.isArray(scale) ||
      scale.length !== 2 ||
      !scale.every((f) => typeof f === 'number' && Number.isFinite(f) && f > 0))
  )
    throw new ArgumentError(
      `resize: scale must be [height, width], two positive factors, got ${JSON.stringify(scale)}.`,
    );
  const [, h, w] = x.shape as [number, number, number, number];
  if (h === 0 || w === 0)
    throw new ArgumentError(`resize: x ${fmtShape(x.shape)} has no pixels to interpolate from.`);
  let y = x;
  // An axis of the same size is the input itself, unless a factor of its own moves its samples.
  const moves = (a: 0 | 1, d: number) =>
    size[a] !== d || (scale !== undefined && coordinates !== 'align-corners' && scale[a] !== 1);
  if (moves(0, h)) y = alongAxis(y, 1, weights(h, size[0], method, coordinates, scale?.[0]));
  if (moves(1, w)) y = alongAxis(y, 2, weights(w, size[1], method, coordinates, scale?.[1]));
  return y;
}

/** The [out, in] interpolation matrix of one axis (`factor`: output over input, where given). */
function weights(
  inSize: number,
  outSize: number,
  method: 'bilinear' | 'nearest',
  coordinates: ResizeCoordinates,
  factor?: number,
): Tensor {
  const m = new Float32Array(outSize * inSize);
  // Input pixels per output pixel.
  const scale = factor === undefined ? inSize / outSize : 1 / factor;
  for (let i = 0; i < outSize; i++) {
    const row = i * inSize;
    if (method === 'nearest') {
      m[row + nearestSource(i, inSize, outSize, coordinates, factor)] = 1;
      continue;
    }
    let src =
      coordinates === 'align-corners'
        ? outSize > 1
          ? (i * (inSize - 1)) / (outSize - 1)
          : 0
        : coordinates === 'half-pixel'
          ? (i + 0.5) * scale - 0.5
          : i * scale;
    // Samples beyond the edge take the edge pixel (as PyTorch, TensorFlow and ONNX do).
    src = Math.min(Math.max(src, 0), inSize - 1);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const f = src - i0;
    m[row + i0] += 1 - f;
    m[row + i1] += f;
  }
  return tensor(m, [outSize, inSize]);
}

/**
 * The input pixel that output pixel `i` of one axis copies in mode 'nearest' (`factor`: output
 * over input, where given); ONNX import matches ONNX's rounding modes against it.
 */
export function nearestSource(
  i: number,
  inSize: number,
  outSize: number,
  coordinates: ResizeCoordinates,
  factor?: number,
): number {
  const scale = factor === undefined ? inSize / outSize : 1 / factor;
  const src =
    coordinates === 'align-corners'
      ? Math.round(outSize > 1 ? (i * (inSize - 1)) / (outSize - 1) : 0)
      : Math.floor(coordinates === 'half-pixel' ? (i + 0.5) * scale : i * scale);
  return Math.min(src, inSize - 1);
}

/** M · x along one axis of x: that axis moved to the front, flattened, multiplied, moved back. */
function alongAxis(x: Tensor, axis: number, m: Tensor): Tensor {
  const others = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const front = transpose(x, [axis, ...others]);
  const rest = others.map((i) => x.shape[i]!);
  const flat = reshape(front, [x.shape[axis]!, rest.reduce((a, b) => a * b, 1)]);
  const out = reshape(matmul(m, flat), [m.shape[0]!, ...rest]);
  const inverse = new Array<number>(x.rank);
  [axis, ...others].forEach((a, i) => {
    inverse[a] = i;
  });
  return transpose(out, inverse);
}
