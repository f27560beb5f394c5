/**
 * The classic image kernels of the course notes, as HWIO tensors [kh, kw, 1, 1] ready for
 * rc.conv2d, plus helpers to spread one kernel over C channels and the Sobel gradient magnitude.
 *
 * Each kernel is a function that makes a fresh tensor rather than a constant: a tensor's storage
 * belongs to the backend current when it is made, so a constant made at import time would pick
 * the backend before the user's setBackend() and could be mutated by anyone holding it.
 */
import { conv2d, depthwiseConv2d } from '../ops/conv.js';
import type { Padding } from '../ops/conv_geometry.js';
import { add, sqrt, square } from '../ops/elementwise.js';
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';

/** A 2-D kernel as rows of numbers. */
export type KernelValues = number[][];

const third = 1 / 9;

/** The numbers of each named kernel (cross-correlation: what conv2d computes, no flip). */
export const values: Readonly<Record<string, KernelValues>> = {
  identity: [
    [0, 0, 0],
    [0, 1, 0],
    [0, 0, 0],
  ],
  // The notes' vertical-edge kernel: dark on the left, bright on the right gives a positive response.
  edgeVertical: [
    [-1, 0, 1],
    [-1, 0, 1],
    [-1, 0, 1],
  ],
  // Its transpose: responds to a change from top to bottom.
  edgeHorizontal: [
    [-1, -1, -1],
    [0, 0, 0],
    [1, 1, 1],
  ],
  boxBlur: [
    [third, third, third],
    [third, third, third],
    [third, third, third],
  ],
  sharpen: [
    [0, -1, 0],
    [-1, 5, -1],
    [0, -1, 0],
  ],
  emboss: [
    [-2, -1, 0],
    [-1, 1, 1],
    [0, 1, 2],
  ],
  gaussianBlur: [
    [1 / 16, 2 / 16, 1 / 16],
    [2 / 16, 4 / 16, 2 / 16],
    [1 / 16, 2 / 16, 1 / 16],
  ],
  laplacian: [
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 0],
  ],
  sobelX: [
    [-1, 0, 1],
    [-2, 0, 2],
    [-1, 0, 1],
  ],
  sobelY: [
    [-1, -2, -1],
    [0, 0, 0],
    [1, 2, 1],
  ],
};

/** A [kh, kw, 1, 1] HWIO kernel from rows of numbers; checks that they form a finite rectangle. */
export function fromArray(rows: KernelValues, where = 'kernels.fromArray'): Tensor {
  if (
    !Array.isArray(rows) ||
    rows.length === 0 ||
    !rows.every((r) => Array.isArray(r) && r.length === rows[0]!.length && r.length > 0)
  ) {
    throw new ArgumentError(
      `${where}: a kernel must be a non-empty rectangle of numbers like [[-1,0,1],[-2,0,2],[-1,0,1]], got ${JSON.stringify(rows)}.`,
    );
  }
  const flat = rows.flat();
  if (!flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ArgumentError(
      `${where}: every kernel value must be a finite number, got ${JSON.stringify(rows)}.`,
    );
  }
  return tensor(flat, [rows.length, rows[0]!.length, 1, 1]);
}

const make = (name: string) => () => fromArray(values[name]!);

/** [[0,0,0],[0,1,0],[0,0,0]]: the image unchanged. */
export const identity = make('identity');
/** [[-1,0,1]] × 3 rows: vertical edges (a change from left to right). */
export const edgeVertical = make('edgeVertical');
/** The transpose of edgeVertical: horizontal edges (a change from top to bottom). */
export const edgeHorizontal = make('edgeHorizontal');
/** 3×3 mean, weights 1/9: sums to 1, so brightness is kept. */
export const boxBlur = make('boxBlur');
/** [[0,-1,0],[-1,5,-1],[0,-1,0]]: the identity plus a negative Laplacian; sums to 1. */
export const sharpen = make('sharpen');
/** [[-2,-1,0],[-1,1,1],[0,1,2]]: a diagonal gradient on top of the image; sums to 1. */
export const emboss = make('emboss');
/** The 3×3 binomial 1-2-1 ⊗ 1-2-1, divided by 16. */
export const gaussianBlur = make('gaussianBlur');
/** [[0,1,0],[1,-4,1],[0,1,0]]: second derivative, lights up outlines; sums to 0. */
export const laplacian = make('laplacian');
/** Sobel's horizontal gradient (responds to vertical edges). */
export const sobelX = make('sobelX');
/** Sobel's vertical gradient (responds to horizontal edges). */
export const sobelY = make('sobelY');

/** A size×size Gaussian exp(-(x²+y²)/2σ²), normalized to sum 1. σ defaults to size/6 (±3σ fills the kernel). */
export function gaussian(size = 3, sigma = size / 6): Tensor {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new ArgumentError(
      `kernels.gaussian: size must be a positive odd integer (a centre pixel), got ${size}.`,
    );
  }
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new ArgumentError(`kernels.gaussian: sigma must be a positive number, got ${sigma}.`);
  }
  const r = (size - 1) / 2;
  const rows: number[][] = [];
  let total = 0;
  for (let y = -r; y <= r; y++) {
    const row: number[] = [];
    for (let x = -r; x <= r; x++) {
      const v = Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
      row.push(v);
      total += v;
    }
    rows.push(row);
  }
  return fromArray(rows.map((row) => row.map((v) => v / total)));
}

const kebab = (camel: string) => camel.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/** The names byName accepts, kebab-case: 'sobel-x', 'box-blur', ... */
export function kernelNames(): string[] {
  return Object.keys(values).map(kebab);
}

/**
 * A named kernel: kebab-case ('sobel-x', 'edge-vertical', 'gaussian-blur') or camelCase
 * ('sobelX'). 'gaussian-5' (or 'gaussian-5-1.5' for σ = 1.5) makes gaussian(5) (gaussian(5, 1.5)).
 */
export function byName(name: string): Tensor {
  const key = Object.keys(values).find((k) => k === name || kebab(k) === name.toLowerCase());
  if (key) return fromArray(values[key]!);
  const g = /^gaussian-(\d+)(?:-(\d*\.?\d+))?$/.exec(name.toLowerCase());
  if (g) return g[2] ? gaussian(Number(g[1]), Number(g[2])) : gaussian(Number(g[1]));
  throw new ArgumentError(
    `kernels.byName: unknown kernel '${name}'. Known: ${kernelNames().join(', ')}, and gaussian-SIZE[-SIGMA] (e.g. gaussian-5).`,
  );
}

/** The single-channel [kh, kw] values of a [kh, kw, 1, 1] kernel, checked. */
function plane(kernel: Tensor, where: string): { kh: number; kw: number; data: Float32Array } {
  if (kernel.rank !== 4 || kernel.shape[2] !== 1 || kernel.shape[3] !== 1) {
    throw new ShapeError(
      `${where}: expects a single-channel kernel [kh, kw, 1, 1] (e.g. kernels.sobelX()), got ${fmtShape(kernel.shape)}.`,
    );
  }
  if (!Number.isInteger(kernel.shape[0]) || kernel.shape[0]! < 1)
    throw new ShapeError(`${where}: the kernel is empty: ${fmtShape(kernel.shape)}.`);
  return {
    kh: kernel.shape[0]!,
    kw: kernel.shape[1]!,
    data: Float32Array.from(kernel.dataSync()),
  };
}

function checkChannels(channels: number, where: string): void {
  if (!Number.isInteger(channels) || channels < 1)
    throw new ArgumentError(`${where}: channels must be a positive integer, got ${channels}.`);
}

/**
 * Per channel: a [kh, kw, C, 1] depthwise kernel for rc.depthwiseConv2d, the same 2-D kernel on
 * each channel, channels kept apart (a C-channel output).
 */
export function depthwise(kernel: Tensor, channels: number): Tensor {
  checkChannels(channels, 'kernels.depthwise');
  const { kh, kw, data } = plane(kernel, 'kernels.depthwise');
  const out = new Float32Array(kh * kw * channels);
  for (let i = 0; i < kh * kw; i++) out.fill(data[i]!, i * channels, (i + 1) * channels);
  return tensor(out, [kh, kw, channels, 1]);
}

/**
 * Across channels: a [kh, kw, C, 1] kernel for rc.conv2d whose every input channel holds the 2-D
 * kernel, so the C responses are added into one output channel (the notes' worked example 2:
 * 28 on each of R, G, B gives 84). With `average`, each copy is divided by C, which keeps a
 * blur's brightness: the result is the kernel applied to the mean of the channels.
 */
export function acrossChannels(
  kernel: Tensor,
  channels: number,
  options: { average?: boolean } = {},
): Tensor {
  checkChannels(channels, 'kernels.acrossChannels');
  const { kh, kw, data } = plane(kernel, 'kernels.acrossChannels');
  const scale = options.average ? 1 / channels : 1;
  const out = new Float32Array(kh * kw * channels);
  for (let i = 0; i < kh * kw; i++) out.fill(data[i]! * scale, i * channels, (i + 1) * channels);
  return tensor(out, [kh, kw, channels, 1]);
}

/**
 * The Sobel gradient magnitude sqrt(gx² + gy²) of an NHWC image, per channel: [n, h', w', c].
 * Padding 'valid' by default, so no false edge appears where zero padding meets the border.
 */
export function sobelMagnitude(image: Tensor, options: { padding?: Padding } = {}): Tensor {
  if (image.rank !== 4) {
    throw new ShapeError(
      `sobelMagnitude: expects an NHWC image [batch, height, width, channels], got ${fmtShape(image.shape)}.` +
        (image.rank === 3 ? ' Add the batch axis: rc.expandDims(image, 0).' : ''),
    );
  }
  const c = image.shape[3]!;
  const padding = options.padding ?? 'valid';
  const gx = depthwiseConv2d(image, depthwise(sobelX(), c), { padding });
  const gy = depthwiseConv2d(image, depthwise(sobelY(), c), { padding });
  return sqrt(add(square(gx), square(gy)));
}

/** Convolves every channel of an NHWC image with one 2-D kernel (a convenience over conv2d). */
export function applyPerChannel(
  image: Tensor,
  kernel: Tensor,
  options: { strides?: number | [number, number]; padding?: Padding; dilationRate?: number } = {},
): Tensor {
  if (image.rank !== 4) {
    throw new ShapeError(
      `kernels.applyPerChannel: expects an NHWC image [batch, height, width, channels], got ${fmtShape(image.shape)}.`,
    );
  }
  const c = image.shape[3]!;
  return c === 1
    ? conv2d(image, kernel, options)
    : depthwiseConv2d(image, depthwise(kernel, c), options);
}
