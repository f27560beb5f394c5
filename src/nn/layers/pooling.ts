/** Pooling and resampling layers: max/average pooling, global pooling, padding, upsampling. */
import {
  axisGeometry,
  checkPadding,
  checkPoolWindows,
  type Padding,
} from '../../ops/conv_geometry.js';
import { avgPool2d, maxPool2d } from '../../ops/pool.js';
import { max, mean } from '../../ops/reduce.js';
import {
  RESIZE_COORDINATES as COORDINATES,
  type ResizeCoordinates,
  type ResizeOptions,
  resize,
} from '../../ops/resize.js';
import { broadcastTo, PAD_MODES, type PadMode, pad, reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import { pair } from '../../util/shape.js';
import type { LayerArgs, Shape } from '../layer.js';
import { expectInputRank, fmtSymShape, Layer, registerLayer } from '../layer.js';

/** Arguments of {@link MaxPooling2D} and {@link AveragePooling2D}. */
export interface Pooling2DArgs extends LayerArgs {
  /**
   * The window: one number for both axes, or [rows, columns].
   * @default 2
   */
  poolSize?: number | [number, number];
  /** Step of the window. Defaults to poolSize (windows side by side), as in Keras. */
  strides?: number | [number, number];
  /**
   * `'valid'` or `'same'` (see {@link Padding}); with `'same'`, average pooling divides by the
   * real pixels of each window only.
   * @default 'valid'
   */
  padding?: Padding;
}

abstract class Pooling2D extends Layer {
  static override configFields = ['poolSize', 'strides', 'padding'];
  /** [rows, columns] of the window. */
  readonly poolSize: [number, number];
  /** [rows, columns] step of the window. */
  readonly strides: [number, number];
  /** The padding. */
  readonly padding: Padding;
  /** [rows, columns] spacing of the window's taps (1: adjacent). */
  protected get dilation(): [number, number] {
    return [1, 1];
  }

  constructor(args: Pooling2DArgs = {}) {
    super(args);
    this.poolSize = pair(args.poolSize ?? 2, 'poolSize', this.className);
    this.strides = pair(args.strides ?? this.poolSize, 'strides', this.className);
    this.padding = args.padding ?? 'valid';
    checkPadding(this.padding, this.className);
  }

  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    const dilated = this.dilation[0] !== 1 || this.dilation[1] !== 1;
    const out = [0, 1].map((a) => {
      const d = s[1 + a];
      if (d === null || d === undefined) return null;
      const g = axisGeometry(
        d,
        this.poolSize[a]!,
        this.strides[a]!,
        this.dilation[a]!,
        this.padding,
        a as 0 | 1,
      );
      if (g.out < 1) {
        throw new ShapeError(
          `${this.label}: the ${this.poolSize.join('x')} window${dilated ? ` (dilation ${this.dilation.join('x')})` : ''} does not fit in the input ${fmtSymShape(s)}; use padding 'same' or a smaller poolSize.`,
        );
      }
      // (A dilated window's taps are checked when it runs: see maxPool2d.)
      if (!dilated)
        checkPoolWindows(
          this.label,
          a as 0 | 1,
          d,
          this.poolSize,
          this.strides[a]!,
          g,
          fmtSymShape(s),
        );
      return g.out;
    });
    return [s[0] ?? null, ...out, s[3] ?? null];
  }
}

/** Arguments of {@link MaxPooling2D}. */
export interface MaxPooling2DArgs extends Pooling2DArgs {
  /**
   * The spacing of the window's taps: one number for both axes, or [rows, columns] (PyTorch's
   * MaxPool2d `dilation`); a k-tap window spans dilation·(k − 1) + 1 pixels.
   * @default 1
   */
  dilationRate?: number | [number, number];
}

/**
 * The largest value of each window, per channel: [batch, h, w, c] → [batch, outH, outW, c].
 * Padding never wins (it counts as −∞); the gradient goes to the first maximum of a window.
 * @example
 * ```ts
 * new rc.layers.MaxPooling2D({ poolSize: 2 }).apply(rc.zeros([1, 28, 28, 6])).shape;   // [1, 14, 14, 6]
 * ```
 */
export class MaxPooling2D extends Pooling2D {
  static override className = 'MaxPooling2D';
  /** Constructor arguments getConfig copies (see {@link Layer.configFields}): the base's, then dilationRate. */
  static override configFields = ['dilationRate'];
  /** [rows, columns] spacing of the window's taps. */
  readonly dilationRate: [number, number];
  protected override get dilation(): [number, number] {
    return this.dilationRate;
  }
  constructor(args: MaxPooling2DArgs = {}) {
    super(args);
    this.dilationRate = pair(args.dilationRate ?? 1, 'dilationRate', this.className);
  }
  call(x: Tensor): Tensor {
    return maxPool2d(x, {
      poolSize: this.poolSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
    });
  }
}

/** The mean of each window, per channel: [batch, h, w, c] → [batch, outH, outW, c] (LeNet-5's subsampling). */
export class AveragePooling2D extends Pooling2D {
  static override className = 'AveragePooling2D';
  static override args: readonly string[] = [];
  call(x: Tensor): Tensor {
    return avgPool2d(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }
}

/** Arguments of {@link GlobalAveragePooling2D} and {@link GlobalMaxPooling2D}. */
export interface GlobalPoolingArgs extends LayerArgs {
  /**
   * Keep the spatial axes as size 1: [batch, 1, 1, channels].
   * @default false
   */
  keepDims?: boolean;
}

abstract class GlobalPooling2D extends Layer {
  static override configFields = ['keepDims'];
  /** Whether the output keeps the spatial axes as size 1. */
  readonly keepDims: boolean;
  constructor(args: GlobalPoolingArgs = {}) {
    super(args);
    this.keepDims = args.keepDims ?? false;
    if (typeof this.keepDims !== 'boolean') {
      throw new ArgumentError(
        `${this.label}: keepDims must be true or false, got ${JSON.stringify(args.keepDims)}.`,
      );
    }
  }
  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return this.keepDims ? [s[0] ?? null, 1, 1, s[3] ?? null] : [s[0] ?? null, s[3] ?? null];
  }
}

/** Mean over height and width: [batch, h, w, c] → [batch, c]. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static override className = 'GlobalAveragePooling2D';
  static override args: readonly string[] = [];
  call(x: Tensor): Tensor {
    expectInputRank(this, x.shape, 4, '[batch, height, width, channels]');
    return mean(x, [1, 2], this.keepDims);
  }
}

/** Max over height and width: [batch, h, w, c] → [batch, c]. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static override className = 'GlobalMaxPooling2D';
  static override args: readonly string[] = [];
  call(x: Tensor): Tensor {
    expectInputRank(this, x.shape, 4, '[batch, height, width, channels]');
    return max(x, [1, 2], this.keepDims);
  }
}

/** Padding of a padding layer: a number (all sides), [h, w] (symmetric), or [[top, bottom], [left, right]]. */
export type Padding2DSizes = number | [number, number] | [[number, number], [number, number]];

/** Arguments of {@link ZeroPadding2D}. */
export interface ZeroPadding2DArgs extends LayerArgs {
  /** A number (all sides), [h, w] (symmetric), or [[top, bottom], [left, right]]. Default 1. */
  padding?: Padding2DSizes;
}

/** [[top, bottom], [left, right]] from a padding layer's argument; an ArgumentError for anything else. */
function paddingSizes(p: unknown, label: string): [[number, number], [number, number]] {
  const isInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const isPair = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(isInt);
  if (isInt(p))
    return [
      [p as number, p as number],
      [p as number, p as number],
    ];
  if (isPair(p)) {
    const [h, w] = p as [number, number];
    return [
      [h, h],
      [w, w],
    ];
  }
  if (Array.isArray(p) && p.length === 2 && p.every(isPair))
    return [[...(p[0] as [number, number])], [...(p[1] as [number, number])]];
  throw new ArgumentError(
    `${label}: padding must be a non-negative integer, [h, w] or [[top, bottom], [left, right]] of them, got ${JSON.stringify(p)}.`,
  );
}

/** The shape of an image [batch, h, w, c] after padding. */
function paddedShape(
  layer: Layer,
  s: Shape,
  [[t, b], [l, r]]: [[number, number], [number, number]],
): Shape {
  expectInputRank(layer, s, 4, '[batch, height, width, channels]');
  return [
    s[0] ?? null,
    s[1] === null ? null : s[1]! + t + b,
    s[2] === null ? null : s[2]! + l + r,
    s[3] ?? null,
  ];
}

/**
 * Adds rows and columns of zeros around each image: [batch, h, w, c] → [batch, h + top + bottom,
 * w + left + right, c].
 * @throws ArgumentError at construction for padding that is not non-negative integers in one of the three forms
 */
export class ZeroPadding2D extends Layer {
  static override className = 'ZeroPadding2D';
  static override configFields = ['padding'];
  /** [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];
  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    this.padding = paddingSizes(args.padding ?? 1, this.label);
  }
  call(x: Tensor): Tensor {
    expectInputRank(this, x.shape, 4, '[batch, height, width, channels]');
    return pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }
  computeOutputShape(s: Shape): Shape {
    return paddedShape(this, s, this.padding);
  }
}

/** Arguments of {@link Padding2D}. */
export interface Padding2DArgs extends LayerArgs {
  /**
   * A number (all sides), [h, w] (symmetric), or [[top, bottom], [left, right]].
   * @default 1
   */
  padding?: Padding2DSizes;
  /**
   * What fills the border (see {@link PadMode}): `'constant'` (`value`), `'reflect'` (the image
   * mirrored at its edge, the edge row not repeated: PyTorch's ReflectionPad2d) or `'edge'` (the
   * edge row repeated: PyTorch's ReplicationPad2d).
   * @default 'reflect'
   */
  mode?: PadMode;
  /**
   * The fill of mode `'constant'`.
   * @default 0
   */
  value?: number;
}

/**
 * Pads the height and width of each image by reflection, edge copies or a constant (ONNX Pad's
 * modes; PyTorch's ReflectionPad2d, ReplicationPad2d and ConstantPad2d): [batch, h, w, c] →
 * [batch, h + top + bottom, w + left + right, c]. The gradient of each copied pixel flows back to
 * the pixel it copies.
 * @throws ArgumentError at construction for bad padding, an unknown mode, or a value that is not a number (or given with another mode than 'constant')
 * @throws ShapeError when a reflection is as wide as the image or wider (at most its size less one)
 * @example
 * ```ts
 * new rc.layers.Padding2D({ padding: 1, mode: 'reflect' }).apply(rc.zeros([1, 28, 28, 3])).shape;   // [1, 30, 30, 3]
 * ```
 */
export class Padding2D extends Layer {
  static override className = 'Padding2D';
  static override configFields = ['padding', 'mode', 'value'];
  /** [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];
  /** How the border is filled. */
  readonly mode: PadMode;
  /** The fill of mode 'constant'. */
  readonly value: number;
  constructor(args: Padding2DArgs = {}) {
    super(args);
    this.padding = paddingSizes(args.padding ?? 1, this.label);
    this.mode = args.mode ?? 'reflect';
    if (!PAD_MODES.includes(this.mode))
      throw new ArgumentError(
        `${this.label}: mode must be one of ${PAD_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(args.mode)}.`,
      );
    this.value = args.value ?? 0;
    if (typeof this.value !== 'number' || Number.isNaN(this.value))
      throw new ArgumentError(
        `${this.label}: value must be a number, got ${JSON.stringify(args.value)}.`,
      );
    if (this.mode !== 'constant' && this.value !== 0)
      throw new ArgumentError(
        `${this.label}: value ${this.value} is the fill of mode 'constant'; mode '${this.mode}' takes its values from the image.`,
      );
  }
  call(x: Tensor): Tensor {
    this.computeOutputShape(x.shape);
    const [h, w] = this.padding;
    return pad(x, [[0, 0], h, w, [0, 0]], { mode: this.mode, value: this.value });
  }
  computeOutputShape(s: Shape): Shape {
    const out = paddedShape(this, s, this.padding);
    if (this.mode === 'reflect') {
      for (const a of [0, 1]) {
        const d = s[1 + a];
        const [before, after] = this.padding[a]!;
        if (d !== null && d !== undefined && Math.max(before, after) > d - 1)
          throw new ShapeError(
            `${this.label}: mode 'reflect' pads the ${a === 0 ? 'height' : 'width'} by at most its size less one (${d - 1}) each side, got [${before}, ${after}] for the input ${fmtSymShape(s)}; use a smaller padding or mode 'edge'.`,
          );
      }
    }
    if (this.mode === 'edge' && (s[1] === 0 || s[2] === 0))
      throw new ShapeError(
        `${this.label}: mode 'edge' cannot pad an empty image ${fmtSymShape(s)}.`,
      );
    return out;
  }
}

/** How {@link UpSampling2D} and {@link Resizing} fill in pixels between the input's. */
export type Interpolation = 'nearest' | 'bilinear';

const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear'];

function checkInterpolation(v: unknown, label: string): Interpolation {
  if (!INTERPOLATIONS.includes(v as Interpolation))
    throw new ArgumentError(
      `${label}: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(v)}.`,
    );
  return v as Interpolation;
}

function checkCoordinates(v: unknown, label: string): ResizeCoordinates {
  if (!COORDINATES.includes(v as ResizeCoordinates))
    throw new ArgumentError(
      `${label}: coordinates must be one of ${COORDINATES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(v)}.`,
    );
  return v as ResizeCoordinates;
}

/** Arguments of {@link UpSampling2D}. */
export interface UpSampling2DArgs extends LayerArgs {
  /**
   * The factor: one number for both axes, or [rows, columns].
   * @default 2
   */
  size?: number | [number, number];
  /**
   * `'nearest'` repeats each pixel; `'bilinear'` blends the nearest four with pixel centres
   * aligned (half-pixel coordinates: Keras's and TensorFlow's `tf.image.resize`, PyTorch's
   * `align_corners=False`).
   * @default 'nearest'
   */
  interpolation?: Interpolation;
  /**
   * Where output pixels sample the input (see {@link ResizeCoordinates}): `'half-pixel'` is
   * Keras's; TensorFlow.js's bilinear UpSampling2D and ONNX's Upsample sample `'asymmetric'`ally.
   * Nearest upsampling repeats pixels with either; `'align-corners'` moves its samples too.
   * @default 'half-pixel'
   */
  coordinates?: ResizeCoordinates;
}

/**
 * Upsampling by whole factors: [batch, h, w, c] → [batch, h·size[0], w·size[1], c], each pixel
 * repeated (nearest) or blended with its neighbours (bilinear).
 */
export class UpSampling2D extends Layer {
  static override className = 'UpSampling2D';
  static override configFields = ['size', 'interpolation', 'coordinates'];
  /** [rows, columns] factor. */
  readonly size: [number, number];
  /** Nearest neighbour or bilinear. */
  readonly interpolation: Interpolation;
  /** Where output pixels sample the input. */
  readonly coordinates: ResizeCoordinates;
  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    this.size = pair(args.size ?? 2, 'size', 'UpSampling2D');
    this.interpolation = checkInterpolation(args.interpolation ?? 'nearest', this.label);
    this.coordinates = checkCoordinates(args.coordinates ?? 'half-pixel', this.label);
  }
  call(x: Tensor): Tensor {
    expectInputRank(this, x.shape, 4, '[batch, height, width, channels]');
    // Nearest by whole factors picks floor(i / k) at half-pixel and asymmetric coordinates alike.
    if (this.interpolation === 'nearest' && this.coordinates !== 'align-corners')
      return upsampleNearest(x, this.size);
    const [, h, w] = x.shape as [number, number, number, number];
    return resize(x, [h * this.size[0], w * this.size[1]], {
      method: this.interpolation,
      coordinates: this.coordinates,
    });
  }
  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    return [
      s[0] ?? null,
      s[1] === null ? null : s[1]! * this.size[0],
      s[2] === null ? null : s[2]! * this.size[1],
      s[3] ?? null,
    ];
  }
}

/** Arguments of {@link Resizing}. */
export interface ResizingArgs extends LayerArgs {
  /** The output's height. */
  height: number;
  /** The output's width. */
  width: number;
  /**
   * `'bilinear'` or `'nearest'`.
   * @default 'bilinear'
   */
  interpolation?: Interpolation;
  /**
   * Where output pixels sample the input (see {@link ResizeCoordinates}).
   * @default 'half-pixel'
   */
  coordinates?: ResizeCoordinates;
  /**
   * [height, width] factors, output over input, for the sampling positions where they are not
   * the sizes' ratio (see {@link ResizeOptions.scale}); ONNX Resize by `scales` whose product
   * with the input size is not whole.
   */
  scale?: [number, number];
}

/**
 * Resizes each image to a fixed height and width, bilinear or nearest (Keras's Resizing, without
 * cropping): [batch, h, w, c] → [batch, height, width, c], for any input size. Differentiable.
 * @throws ArgumentError at construction for a size that is not a positive integer, an unknown interpolation or coordinates, or a bad scale
 * @example
 * ```ts
 * new rc.layers.Resizing({ height: 224, width: 224 }).apply(rc.zeros([1, 160, 120, 3])).shape;   // [1, 224, 224, 3]
 * ```
 */
export class Resizing extends Layer {
  static override className = 'Resizing';
  static override configFields = ['height', 'width', 'interpolation', 'coordinates', 'scale'];
  /** The output's height. */
  readonly height: number;
  /** The output's width. */
  readonly width: number;
  /** Bilinear or nearest. */
  readonly interpolation: Interpolation;
  /** Where output pixels sample the input. */
  readonly coordinates: ResizeCoordinates;
  /** Factors for the sampling positions, where not the sizes' ratio. */
  readonly scale: [number, number] | undefined;
  constructor(args: ResizingArgs) {
    super(args);
    for (const key of ['height', 'width'] as const) {
      const v = args?.[key];
      if (!Number.isInteger(v) || v < 1 || v > 65536)
        throw new ArgumentError(
          `${this.label}: ${key} must be an integer from 1 to 65536, got ${JSON.stringify(v)}.`,
        );
    }
    this.height = args.height;
    this.width = args.width;
    this.interpolation = checkInterpolation(args.interpolation ?? 'bilinear', this.label);
    this.coordinates = checkCoordinates(args.coordinates ?? 'half-pixel', this.label);
    const sc = args.scale;
    if (
      sc !== undefined &&
      (!Array.isArray(sc) ||
        sc.length !== 2 ||
        !sc.every((f) => typeof f === 'number' && Number.isFinite(f) && f > 0))
    )
      throw new ArgumentError(
        `${this.label}: scale must be [height, width], two positive factors, got ${JSON.stringify(sc)}.`,
      );
    this.scale = sc === undefined ? undefined : [sc[0], sc[1]];
  }
  call(x: Tensor): Tensor {
    this.computeOutputShape(x.shape);
    const options: ResizeOptions = {
      method: this.interpolation,
      coordinates: this.coordinates,
    };
    if (this.scale) options.scale = this.scale;
    return resize(x, [this.height, this.width], options);
  }
  computeOutputShape(s: Shape): Shape {
    expectInputRank(this, s, 4, '[batch, height, width, channels]');
    if (s[1] === 0 || s[2] === 0)
      throw new ShapeError(`${this.label}: the input ${fmtSymShape(s)} has no pixels to resize.`);
    return [s[0] ?? null, this.height, this.width, s[3] ?? null];
  }
}

/** [n, h, w, c] → [n, h·sh, w·sw, c] by repeating pixels (a broadcast, so its gradient sums blocks). */
export function upsampleNearest(x: Tensor, [sh, sw]: [number, number]): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const expanded = broadcastTo(reshape(x, [n, h, 1, w, 1, c]), [n, h, sh, w, sw, c]);
  return reshape(expanded, [n, h * sh, w * sw, c]);
}

for (const cls of [
  MaxPooling2D,
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  ZeroPadding2D,
  Padding2D,
  UpSampling2D,
  Resizing,
]) {
  registerLayer(cls);
}
