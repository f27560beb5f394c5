/** Convolutions: conv2d (strides, padding, dilation, groups), depthwiseConv2d, conv2dTranspose. */
import { needsGrad, record } from '../autograd.js';
import type { ConvInfo, Storage } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { checkDataFormat, checkOptions } from '../util/options.js';
import { pair } from '../util/shape.js';
import {
  checkPadding,
  type Padding,
  spatialGeometry,
  transposedAxisGeometry,
} from './conv_geometry.js';
import { reshape, sumTo } from './shape.js';
import { be, expectFloat, expectTensor, wrap } from './util.js';

/** Options of {@link conv2d} (and, without `groups`, {@link depthwiseConv2d}). */
export interface Conv2DOptions {
  /**
   * Step of the window: one number for both axes, or [rows, columns].
   * @default 1
   */
  strides?: number | [number, number];
  /**
   * `'valid'`, `'same'`, pixels per side, or [[top, bottom], [left, right]]: see {@link Padding}.
   * @default 'valid'
   */
  padding?: Padding;
  /**
   * Spacing between the kernel's taps (atrous convolution): the kernel covers
   * dilation·(k − 1) + 1 pixels. One number or [rows, columns].
   * @default 1
   */
  dilationRate?: number | [number, number];
  /**
   * Split the channels into this many groups, each convolved on its own: the kernel is then
   * [kh, kw, inChannels / groups, filters], and both inChannels and filters must divide by it.
   * @default 1
   */
  groups?: number;
  /** Accepted for code written for TensorFlow.js: receptive is channels last (NHWC) only. */
  dataFormat?: 'channelsLast' | 'NHWC';
}

/** The options each convolution op takes; any other key is an error that names the closest. */
const CONV_KEYS = ['strides', 'padding', 'dilationRate', 'groups', 'dataFormat'];

function checkConvOptions(op: string, options: unknown, known: readonly string[]): void {
  checkDataFormat(op, options);
  checkOptions(op, options, known);
}

/**
 * dL/dx and dL/dw of conv2d(x, w) from dL/dy: the input and filter gradients, each only where
 * it is needed (the input of a network's first layer needs none).
 */
function convGrads(
  x: Tensor,
  w: Tensor,
  info: ConvInfo,
  dy: Tensor,
): [Tensor | null, Tensor | null] {
  return [
    needsGrad(x) ? wrap(be().conv2dBackwardInput(dy.storage, w.storage, info), x.shape) : null,
    needsGrad(w) ? wrap(be().conv2dBackwardFilter(x.storage, dy.storage, info), w.shape) : null,
  ];
}

function convOp(x: Tensor, info: ConvInfo, w: Tensor, outShape: number[], name: string): Tensor {
  const out = wrap(be().conv2d(x.storage, w.storage, info), outShape);
  return record(name, out, [x, w], (dy) => convGrads(x, w, info, dy));
}

/** The kernel's axes as each op lays them out, for messages. */
const KERNEL_AXES: Record<string, [string, string, string, string]> = {
  conv2dTranspose: ['kh', 'kw', 'filters', 'inChannels'],
  depthwiseConv2d: ['kh', 'kw', 'inChannels', 'depthMultiplier'],
};
const HWIO: [string, string, string, string] = ['kh', 'kw', 'inChannels/groups', 'filters'];

function checkConvArgs(op: string, x: Tensor, w: Tensor): void {
  expectFloat(expectTensor(x, op, 'x (NHWC input)', { rank: 4 }), op, 'x');
  expectFloat(expectTensor(w, op, 'kernel', { rank: 4 }), op, 'kernel');
  // A kernel with no taps or no channels has no meaningful output (backends would make up a
  // shape of zeros, and oneDNN refuses the descriptor): refuse it here, for every backend.
  const zero = w.shape.indexOf(0);
  if (zero >= 0) {
    const axes = KERNEL_AXES[op] ?? HWIO;
    throw new ShapeError(
      `${op}: the kernel ${fmtShape(w.shape)} ([${axes.join(', ')}]) has ${axes[zero]} = 0; every kernel dimension must be at least 1` +
        `${zero === 2 && x.shape[3] === 0 ? ` (the input ${fmtShape(x.shape)} has no channels)` : ''}. Check the kernel's shape (and the input's channels).`,
    );
  }
}

/**
 * 2-D convolution (cross-correlation, as every deep-learning library computes it).
 * x: [batch, h, w, inC]; kernel: [kh, kw, inC / groups, filters] → [batch, outH, outW, filters].
 * Each output size is floor((in + pad − dilation·(k − 1) − 1) / stride) + 1.
 *
 * @param x - NHWC input, float32
 * @param kernel - HWIO filters, float32
 * @throws ShapeError if x or kernel is not rank 4, the channels do not match the kernel (with
 *   `groups`), or the kernel does not fit in the padded input
 * @throws ArgumentError for strides, dilation, groups or padding that are not positive integers
 *   (padding: not negative) or not one of the forms of {@link Padding}
 * @example
 * ```ts
 * const image = rc.reshape(rc.tensor([[2, 4, 1], [5, 9, 7], [3, 8, 6]]), [1, 3, 3, 1]);
 * const kernel = rc.reshape(rc.tensor([[-1, 0, 1], [-1, 2, 2], [0, 1, -1]]), [3, 3, 1, 1]);
 * rc.conv2d(image, kernel).item();                       // 28
 * rc.conv2d(image, kernel, { padding: 'same' }).shape;   // [1, 3, 3, 1]
 * ```
 */
export function conv2d(x: Tensor, kernel: Tensor, options: Conv2DOptions = {}): Tensor {
  const info = conv2dInfo('conv2d', x, kernel, options);
  return convOp(x, info, kernel, [info.batch, info.outH, info.outW, info.outC], 'conv2d');
}

/**
 * conv2d(x, kernel) + bias (one value per filter), one op: a backend with a fused kernel
 * (native) adds the bias as the output is written; elsewhere it runs conv2d and add. Conv2D
 * layers with a bias use it. (oneDNN can also sum the bias's gradient in the filter-gradient
 * pass, but measured slower than the separate sum on LeNet's first layer: 291 against 215 µs.)
 */
export function conv2dBias(
  x: Tensor,
  kernel: Tensor,
  bias: Tensor,
  options: Conv2DOptions = {},
): Tensor {
  const info = conv2dInfo('conv2dBias', x, kernel, options);
  expectFloat(expectTensor(bias, 'conv2dBias', 'bias', { rank: 1 }), 'conv2dBias', 'bias');
  if (bias.shape[0] !== info.outC) {
    throw new ShapeError(
      `conv2dBias: the bias ${fmtShape(bias.shape)} needs one value per filter: [${info.outC}] for kernel ${fmtShape(kernel.shape)}.`,
    );
  }
  const shape = [info.batch, info.outH, info.outW, info.outC];
  const y = convPlusBias(x, kernel, bias, info, shape);
  return record('conv2dBias', wrap(y, shape), [x, kernel, bias], (dy) => [
    ...convGrads(x, kernel, info, dy),
    needsGrad(bias) ? sumTo(dy, bias.shape) : null,
  ]);
}

/**
 * Inference only (it records no gradient): relu?(conv2d(x, kernel) + bias (+ residual)) in one
 * kernel where the backend has one (native: applied as the output is written), else the
 * separate ops. Model inference uses it for convolution → batch norm (→ Add) → ReLU chains,
 * with the normalization folded into kernel and bias (nn/inference_fusion.ts).
 */
export function conv2dFused(
  x: Tensor,
  kernel: Tensor,
  options: Conv2DOptions & { bias: Tensor; relu?: boolean; residual?: Tensor },
): Tensor {
  const info = conv2dInfo('conv2dFused', x, kernel, options, [
    ...CONV_KEYS,
    'bias',
    'relu',
    'residual',
  ]);
  const shape = [info.batch, info.outH, info.outW, info.outC];
  const { bias, relu = false, residual } = options;
  const b = be();
  const r = residual?.storage ?? null;
  const fused = b.conv2dFused?.(x.storage, kernel.storage, info, {
    bias: bias.storage,
    residual: r,
    relu,
  });
  if (fused) return wrap(fused, shape);
  // The pieces the backend has: conv + bias fused if it can, then the residual and ReLU.
  let y = convPlusBias(x, kernel, bias, info, shape);
  if (r) y = b.binary('add', y, shape, r, shape, shape);
  return wrap(relu ? b.unary('relu', y) : y, shape);
}

/** conv2d + bias as raw storage: the backend's fused kernel where it has one, else two kernels. */
function convPlusBias(
  x: Tensor,
  kernel: Tensor,
  bias: Tensor,
  info: ConvInfo,
  shape: number[],
): Storage {
  const b = be();
  const [xs, ks, bs] = [x.storage, kernel.storage, bias.storage];
  return (
    b.conv2dFused?.(xs, ks, info, { bias: bs }) ??
    b.binary('add', b.conv2d(xs, ks, info), shape, bs, bias.shape, shape)
  );
}

/** Whether the backend in use runs conv2dFused as one kernel (else fusing gains nothing). */
export function hasFusedConv2d(): boolean {
  // Folding batch norm into the kernel reads the weights on the CPU, which a backend whose
  // reads are asynchronous (webgpu) cannot do in the middle of a forward pass.
  const b = be();
  return b.conv2dFused !== undefined && !b.deferReads;
}

/** Checks conv2d's arguments and works out its geometry (TensorFlow's padding rules). */
function conv2dInfo(
  op: string,
  x: Tensor,
  kernel: Tensor,
  options: Conv2DOptions,
  known: readonly string[] = CONV_KEYS,
): ConvInfo {
  checkConvOptions(op, options, known);
  options ??= {};
  checkConvArgs(op, x, kernel);
  const { padding = 'valid', groups = 1 } = options;
  const strides = pair(options.strides ?? 1, 'strides', op);
  const dilation = pair(options.dilationRate ?? 1, 'dilationRate', op);
  const [batch, inH, inW, inC] = x.shape as [number, number, number, number];
  const [kh, kw, kIn, outC] = kernel.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1)
    throw new ArgumentError(`${op}: groups must be a positive integer, got ${groups}.`);
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new ShapeError(
      `${op}: groups = ${groups} must divide both the input channels (${inC}, input ${fmtShape(x.shape)}) and the filters (${outC}, kernel ${fmtShape(kernel.shape)}).`,
    );
  }
  if (kIn !== inC / groups) {
    throw new ShapeError(
      `${op}: the input ${fmtShape(x.shape)} has ${inC} channels, so with groups = ${groups} the kernel needs ${inC / groups} input channels, ` +
        `but kernel ${fmtShape(kernel.shape)} (HWIO: [kh, kw, inChannels/groups, filters]) has ${kIn}.`,
    );
  }
  const g = spatialGeometry(
    op,
    inH,
    inW,
    [kh, kw],
    strides,
    dilation,
    padding,
    () => `input ${fmtShape(x.shape)} and kernel ${fmtShape(kernel.shape)}`,
  );
  const info: ConvInfo = {
    batch,
    inH,
    inW,
    inC,
    outH: g.h.out,
    outW: g.w.out,
    outC,
    kh,
    kw,
    strideH: strides[0],
    strideW: strides[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
    padTop: g.h.padBefore,
    padBottom: g.h.padAfter,
    padLeft: g.w.padBefore,
    padRight: g.w.padAfter,
    groups,
  };
  return info;
}

/** Options of {@link depthwiseConv2d}: strides, padding and dilation as for {@link conv2d}. */
export type DepthwiseConv2DOptions = Omit<Conv2DOptions, 'groups'>;

/**
 * Depthwise convolution: each input channel is convolved with its own `depthMultiplier`
 * kernels and channels never mix. kernel: [kh, kw, inC, depthMultiplier] →
 * output channel c·depthMultiplier + m. It is a grouped convolution with groups = inC.
 *
 * @throws ShapeError if the kernel's third axis is not the input's channel count, or the
 *   kernel does not fit in the padded input
 */
export function depthwiseConv2d(
  x: Tensor,
  kernel: Tensor,
  options: DepthwiseConv2DOptions = {},
): Tensor {
  const op = 'depthwiseConv2d';
  checkConvOptions(
    op,
    options,
    CONV_KEYS.filter((k) => k !== 'groups'),
  );
  options ??= {};
  checkConvArgs(op, x, kernel);
  const [kh, kw, kc, mult] = kernel.shape as [number, number, number, number];
  const inC = x.shape[3]!;
  if (kc !== inC) {
    throw new ShapeError(
      `${op}: the input ${fmtShape(x.shape)} has ${inC} channels but the kernel ${fmtShape(kernel.shape)} ([kh, kw, inChannels, depthMultiplier]) has ${kc}.`,
    );
  }
  // Check the options here so that messages name depthwiseConv2d and its own kernel shape.
  spatialGeometry(
    op,
    x.shape[1]!,
    x.shape[2]!,
    [kh, kw],
    pair(options.strides ?? 1, 'strides', op),
    pair(options.dilationRate ?? 1, 'dilationRate', op),
    options.padding ?? 'valid',
    () => `input ${fmtShape(x.shape)} and kernel ${fmtShape(kernel.shape)}`,
  );
  return conv2d(x, reshape(kernel, [kh, kw, 1, inC * mult]), { ...options, groups: inC });
}

/** Options of {@link conv2dTranspose}. */
export interface Conv2DTransposeOptions {
  /**
   * The stride of the convolution this one transposes: the output is about `strides` times
   * larger. One number or [rows, columns].
   * @default 1
   */
  strides?: number | [number, number];
  /**
   * The padding of the convolution this one transposes: `'same'` gives out = in·stride.
   * @default 'valid'
   */
  padding?: Padding;
  /**
   * Extra rows / columns added to the output's bottom / right (a strided convolution maps
   * several input sizes to one output size; this picks the larger). Each must be below its stride
   * (or its dilation).
   * @default 0
   */
  outputPadding?: number | [number, number];
  /**
   * Spacing between the kernel's taps. One number or [rows, columns].
   * @default 1
   */
  dilationRate?: number | [number, number];
  /** Accepted for code written for TensorFlow.js: receptive is channels last (NHWC) only. */
  dataFormat?: 'channelsLast' | 'NHWC';
}

/**
 * Transposed convolution: the gradient of conv2d with respect to its input.
 * x: [batch, h, w, inC]; kernel: [kh, kw, filters, inC] (Keras order) → [batch, outH, outW, filters]
 * with 'same': out = in·stride; 'valid': out = (in − 1)·stride + dilation·(k − 1) + 1; plus outputPadding.
 *
 * @throws ShapeError if the kernel's last axis is not the input's channel count
 * @throws ArgumentError for an outputPadding that is not an integer in 0..stride − 1
 */
export function conv2dTranspose(
  x: Tensor,
  kernel: Tensor,
  options: Conv2DTransposeOptions = {},
): Tensor {
  const op = 'conv2dTranspose';
  checkConvOptions(op, options, [
    'strides',
    'padding',
    'outputPadding',
    'dilationRate',
    'dataFormat',
  ]);
  options ??= {};
  checkConvArgs(op, x, kernel);
  const { padding = 'valid' } = options;
  checkPadding(padding, op);
  const strides = pair(options.strides ?? 1, 'strides', op);
  const dilation = pair(options.dilationRate ?? 1, 'dilationRate', op);
  const outPad =
    options.outputPadding === undefined
      ? [0, 0]
      : typeof options.outputPadding === 'number'
        ? [options.outputPadding, options.outputPadding]
        : options.outputPadding;
  const [batch, inH, inW, inC] = x.shape as [number, number, number, number];
  const [kh, kw, filters, kIn] = kernel.shape as [number, number, number, number];
  if (kIn !== inC) {
    throw new ShapeError(
      `${op}: the input ${fmtShape(x.shape)} has ${inC} channels but the kernel ${fmtShape(kernel.shape)} ([kh, kw, filters, inChannels]) expects ${kIn}.`,
    );
  }
  outPad.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= strides[i]!) {
      throw new ArgumentError(
        `${op}: outputPadding must be a non-negative integer smaller than the stride (${strides[i]}), got ${p}.`,
      );
    }
  });
  const h = transposedAxisGeometry(inH, kh, strides[0], dilation[0], padding, outPad[0]!, 0);
  const w = transposedAxisGeometry(inW, kw, strides[1], dilation[1], padding, outPad[1]!, 1);
  if (h.out < 1 || w.out < 1) {
    throw new ShapeError(
      `${op}: the padding ${JSON.stringify(padding)} crops away the whole output (${h.out}x${w.out}) of input ${fmtShape(x.shape)}.`,
    );
  }
  // The forward convolution that maps [batch, h.out, w.out, filters] to x's shape.
  const info: ConvInfo = {
    batch,
    inH: h.out,
    inW: w.out,
    inC: filters,
    outH: inH,
    outW: inW,
    outC: inC,
    kh,
    kw,
    strideH: strides[0],
    strideW: strides[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
    padTop: h.padBefore,
    padBottom: h.padAfter,
    padLeft: w.padBefore,
    padRight: w.padAfter,
    groups: 1,
  };
  const outShape = [batch, h.out, w.out, filters];
  const out = wrap(be().conv2dBackwardInput(x.storage, kernel.storage, info), outShape);
  return record(op, out, [x, kernel], (dy) => [
    needsGrad(x) ? wrap(be().conv2d(dy.storage, kernel.storage, info), x.shape) : null,
    needsGrad(kernel)
      ? wrap(be().conv2dBackwardFilter(dy.storage, x.storage, info), kernel.shape)
      : null,
  ]);
}
