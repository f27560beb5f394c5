/** Max and average pooling over NHWC input. */
import { record } from '../autograd.js';
import type { PoolInfo } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { pair } from '../util/shape.js';
import { checkPoolWindows, type Padding, spatialGeometry } from './conv_geometry.js';
import { maximum } from './elementwise.js';
import { pad, slice } from './shape.js';
import { be, expectFloat, expectTensor, wrap } from './util.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2DOptions {
  /**
   * The window: one number for both axes, or [rows, columns].
   * @default 2
   */
  poolSize?: number | [number, number];
  /** Step of the window. Defaults to poolSize (windows side by side), as in Keras. */
  strides?: number | [number, number];
  /**
   * `'valid'` or `'same'` (see {@link Padding}); average pooling with `'same'` divides by the
   * real pixels of each window only.
   * @default 'valid'
   */
  padding?: Padding;
  /**
   * Max pooling only: the spacing of the window's taps (PyTorch's MaxPool2d `dilation`, ONNX
   * MaxPool's `dilations`); a k-tap window spans dilation·(k − 1) + 1 pixels.
   * @default 1
   */
  dilationRate?: number | [number, number];
}

/** The kernel's description of the pooling, and the window's dilation (the kernels take 1 only). */
function poolInfo(
  op: string,
  x: Tensor,
  options: Pool2DOptions,
): { info: PoolInfo; dilation: [number, number] } {
  expectFloat(expectTensor(x, op, 'x (NHWC input)', { rank: 4 }), op, 'x');
  checkOptions(op, options, ['poolSize', 'strides', 'padding', 'dilationRate']);
  const k = pair(options.poolSize ?? 2, 'poolSize', op);
  const s = pair(options.strides ?? k, 'strides', op);
  const d = pair(options.dilationRate ?? 1, 'dilationRate', op);
  if (op !== 'maxPool2d' && (d[0] !== 1 || d[1] !== 1))
    throw new ArgumentError(
      `${op}: dilationRate ${JSON.stringify(options.dilationRate)}: only max pooling has dilated windows.`,
    );
  const [batch, inH, inW, channels] = x.shape as [number, number, number, number];
  const g = spatialGeometry(
    op,
    inH,
    inW,
    k,
    s,
    d,
    options.padding ?? 'valid',
    () => `input ${fmtShape(x.shape)}`,
  );
  if (d[0] === 1 && d[1] === 1) {
    checkPoolWindows(op, 0, inH, k, s[0], g.h, () => fmtShape(x.shape));
    checkPoolWindows(op, 1, inW, k, s[1], g.w, () => fmtShape(x.shape));
  } else {
    checkDilatedWindows(op, 0, inH, k, s[0], d[0], g.h.out, g.h.padBefore, fmtShape(x.shape));
    checkDilatedWindows(op, 1, inW, k, s[1], d[1], g.w.out, g.w.padBefore, fmtShape(x.shape));
  }
  const info: PoolInfo = {
    batch,
    inH,
    inW,
    channels,
    outH: g.h.out,
    outW: g.w.out,
    kh: k[0],
    kw: k[1],
    strideH: s[0],
    strideW: s[1],
    padTop: g.h.padBefore,
    padBottom: g.h.padAfter,
    padLeft: g.w.padBefore,
    padRight: g.w.padAfter,
  };
  return { info, dilation: d };
}

/** Every dilated window must hold a real pixel among its taps (else its maximum is −∞). */
function checkDilatedWindows(
  op: string,
  axis: 0 | 1,
  inSize: number,
  k: [number, number],
  stride: number,
  dilation: number,
  out: number,
  padBefore: number,
  input: string,
): void {
  for (let o = 0; o < out; o++) {
    const start = o * stride - padBefore;
    let real = false;
    for (let j = 0; j < k[axis]! && !real; j++) {
      const i = start + j * dilation;
      real = i >= 0 && i < inSize;
    }
    if (!real)
      throw new ShapeError(
        `${op}: with padding ${padBefore} before the ${axis === 0 ? 'height' : 'width'} of the input ${input}, the taps of window ${o} of a ${k.join('x')} window with dilation ${dilation} all fall in the padding. Use less padding.`,
      );
  }
}

/**
 * Dilated max pooling, composed: the input padded with −∞, then for each tap of the window a
 * strided view of the padded input (a slice, then a 1×1 max pool to step by the stride), and
 * the elementwise maximum of the views. Ties go to the earlier tap, as the kernel's first maximum.
 */
function dilatedMaxPool(x: Tensor, info: PoolInfo, [dh, dw]: [number, number]): Tensor {
  const padded = pad(
    x,
    [
      [0, 0],
      [info.padTop, Math.max(info.padBottom, 0)],
      [info.padLeft, Math.max(info.padRight, 0)],
      [0, 0],
    ],
    Number.NEGATIVE_INFINITY,
  );
  const spanH = (info.outH - 1) * info.strideH + 1;
  const spanW = (info.outW - 1) * info.strideW + 1;
  let out: Tensor | null = null;
  for (let a = 0; a < info.kh; a++) {
    for (let b = 0; b < info.kw; b++) {
      let tap = slice(padded, [0, a * dh, b * dw, 0], [info.batch, spanH, spanW, info.channels]);
      if (info.strideH > 1 || info.strideW > 1)
        tap = maxPool2d(tap, { poolSize: 1, strides: [info.strideH, info.strideW] });
      out = out ? maximum(out, tap) : tap;
    }
  }
  return out!;
}

/**
 * Largest value of each window; padding never wins (it counts as −∞). With `dilationRate`, the
 * window's taps are spaced apart (composed of slices and maxima, so its gradient is theirs).
 */
export function maxPool2d(x: Tensor, options: Pool2DOptions = {}): Tensor {
  const { info, dilation } = poolInfo('maxPool2d', x, options);
  if (dilation[0] !== 1 || dilation[1] !== 1) return dilatedMaxPool(x, info, dilation);
  const out = wrap(be().maxPool(x.storage, info), [
    info.batch,
    info.outH,
    info.outW,
    info.channels,
  ]);
  return record('maxPool2d', out, [x], (dy) => [
    wrap(be().maxPoolBackward(dy.storage, x.storage, info), x.shape),
  ]);
}

/** Mean of each window over its real pixels ('same' padding is not counted). */
export function avgPool2d(x: Tensor, options: Pool2DOptions = {}): Tensor {
  const { info } = poolInfo('avgPool2d', x, options);
  const out = wrap(be().avgPool(x.storage, info), [
    info.batch,
    info.outH,
    info.outW,
    info.channels,
  ]);
  return record('avgPool2d', out, [x], (dy) => [
    wrap(be().avgPoolBackward(dy.storage, info), x.shape),
  ]);
}
