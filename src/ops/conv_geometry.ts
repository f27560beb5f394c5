/**
 * Output sizes and padding of convolutions and pools, TensorFlow's way:
 *   out = floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1
 * 'same' pads so that out = ceil(in / stride), the odd pixel going after (bottom/right);
 * 'valid' pads nothing; a number pads every side; [[top, bottom], [left, right]] is explicit.
 */
import { ArgumentError, ShapeError } from '../util/errors.js';

/**
 * Padding of a convolution or pool, as TensorFlow and Keras define it:
 * - `'valid'`: none, so the output shrinks by dilation·(k − 1);
 * - `'same'`: out = ceil(in / stride), the odd pixel of padding going after (bottom/right);
 * - a number: that many pixels on every side;
 * - `[[top, bottom], [left, right]]`: explicit.
 *
 * The output size is floor((in + padBefore + padAfter − dilation·(k − 1) − 1) / stride) + 1.
 */
export type Padding = 'same' | 'valid' | number | [[number, number], [number, number]];

export interface Geometry1D {
  out: number;
  padBefore: number;
  padAfter: number;
}

function checkPadding(padding: unknown, op: string): void {
  const ok =
    padding === 'same' ||
    padding === 'valid' ||
    (typeof padding === 'number' && Number.isInteger(padding) && padding >= 0) ||
    (Array.isArray(padding) &&
      padding.length === 2 &&
      padding.every(
        (p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0),
      ));
  if (!ok) {
    throw new ArgumentError(
      `${op}: padding must be 'same', 'valid', a non-negative integer, or [[top, bottom], [left, right]], got ${JSON.stringify(padding)}.`,
    );
  }
}

/** One spatial axis of a forward convolution or pool. */
export function axisGeometry(
  inSize: number,
  k: number,
  stride: number,
  dilation: number,
  padding: Padding,
  axis: 0 | 1,
): Geometry1D {
  const span = dilation * (k - 1) + 1;
  let before: number;
  let after: number;
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + span - inSize, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else if (padding === 'valid') {
    before = after = 0;
  } else if (typeof padding === 'number') {
    before = after = padding;
  } else {
    [before, after] = padding[axis];
  }
  const out = Math.floor((inSize + before + after - span) / stride) + 1;
  return { out, padBefore: before, padAfter: after };
}

/** Both spatial axes; throws when the (dilated) window does not fit in the padded input. */
export function spatialGeometry(
  op: string,
  inH: number,
  inW: number,
  k: [number, number],
  stride: [number, number],
  dilation: [number, number],
  padding: Padding,
  /**
   * The operands, for the message: "input [1, 3, 3, 1] and kernel [5, 5, 1, 1]"; a function is
   * called only when there is a message (formatting shapes on every call costs a hot path, such
   * as a model's convolutions one after another, microseconds each).
   */
  operands: string | (() => string) = '',
): { h: Geometry1D; w: Geometry1D } {
  checkPadding(padding, op);
  const h = axisGeometry(inH, k[0], stride[0], dilation[0], padding, 0);
  const w = axisGeometry(inW, k[1], stride[1], dilation[1], padding, 1);
  if (h.out < 1 || w.out < 1) {
    const what = typeof operands === 'function' ? operands() : operands;
    const spanH = dilation[0] * (k[0] - 1) + 1;
    const spanW = dilation[1] * (k[1] - 1) + 1;
    throw new ShapeError(
      `${op}: the window (${k[0]}x${k[1]}, dilation ${dilation.join('x')}, so it spans ${spanH}x${spanW}) is larger than the ` +
        `padded input (${inH + h.padBefore + h.padAfter}x${inW + w.padBefore + w.padAfter} from ${inH}x${inW} with padding ${JSON.stringify(padding)})` +
        `${what ? ` for ${what}` : ''}. ` +
        "Use a smaller kernel or dilation, padding 'same', or a larger input.",
    );
  }
  return { h, w };
}

/**
 * Pooling windows must each hold at least one real pixel (a window wholly in the padding has
 * no maximum and no mean: max pooling would give −∞). Only explicit padding can do that, when
 * the padding on a side is as large as the window; 'same' never does. Throws naming `who`.
 */
export function checkPoolWindows(
  who: string,
  axis: 0 | 1,
  inSize: number,
  k: [number, number],
  stride: number,
  g: Geometry1D,
  /** The input's shape, for the message (a function: formatted only for a message). */
  input: string | (() => string),
): void {
  const lastStart = (g.out - 1) * stride - g.padBefore;
  if (g.padBefore >= k[axis] || lastStart >= inSize) {
    const shape = typeof input === 'function' ? input() : input;
    throw new ShapeError(
      `${who}: with padding ${g.padBefore} before and ${g.padAfter} after the ${axis === 0 ? 'height' : 'width'} of the input ${shape}, ` +
        `a ${k.join('x')} window lies wholly in the padding. Explicit padding must be smaller than the window on each side.`,
    );
  }
}

/**
 * One spatial axis of a transposed convolution: the size of the forward convolution's input
 * whose gradient it computes, and that convolution's padding. A negative padAfter means the
 * forward convolution never reaches the last rows (they get no contribution), as outputPadding gives.
 */
export function transposedAxisGeometry(
  inSize: number,
  k: number,
  stride: number,
  dilation: number,
  padding: Padding,
  outputPadding: number,
  axis: 0 | 1,
): Geometry1D {
  const span = dilation * (k - 1) + 1;
  let before: number;
  let after: number;
  let out: number;
  if (padding === 'same') {
    out = inSize * stride;
    const total = Math.max((inSize - 1) * stride + span - out, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else if (padding === 'valid') {
    out = (inSize - 1) * stride + span;
    before = after = 0;
  } else {
    [before, after] = typeof padding === 'number' ? [padding, padding] : padding[axis];
    out = (inSize - 1) * stride + span - before - after;
  }
  return { out: out + outputPadding, padBefore: before, padAfter: after - outputPadding };
}

export { checkPadding };
