/**
 * Image augmentation for Dataset.map: each returns a function (example, rng, place) → example
 * on HWC float values. Standard CIFAR training uses randomCrop({ padding: 4 }) and
 * horizontalFlip(); airbench uses alternatingFlip() and randomTranslate({ padding: 2 }).
 */

import { ArgumentError, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import type { Random } from '../util/random.js';
import type { Example, MapPlace } from './dataset.js';
import { flipInto, type TranslateFill, translateInto } from './image_shift.js';

export type { TranslateFill } from './image_shift.js';

function hwc(e: Example, where: string): [number, number, number] {
  if (e.shape.length !== 3)
    throw new ShapeError(
      `${where}: expects images [height, width, channels], got shape [${e.shape}].`,
    );
  return e.shape as [number, number, number];
}

/** An augmentation for Dataset.map: an example in, an example out. */
export type Augmentation = (e: Example, rng: Random, place?: MapPlace) => Example;

function checkPadding(where: string, p: unknown): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0)
    throw new ArgumentError(`${where}: padding must be a non-negative integer, got ${String(p)}.`);
  return p;
}

/** Pads each side with zeros, then cuts a random window of the original size. */
export function randomCrop(options: { padding: number }): Augmentation {
  checkOptions('randomCrop', options, ['padding']);
  const p = checkPadding('randomCrop', options.padding);
  return (e, rng) => {
    const [h, w, c] = hwc(e, 'randomCrop');
    const dy = rng.int(2 * p + 1) - p;
    const dx = rng.int(2 * p + 1) - p;
    const x = new Float32Array(e.x.length);
    translateInto(e.x, x, h, w, c, dy, dx, 'zeros');
    return { ...e, x };
  };
}

/** Options of {@link randomTranslate}. */
export interface RandomTranslateOptions {
  /** The largest shift, in pixels, along each axis (airbench: 2); each shift is uniform in [−padding, padding]. */
  padding: number;
  /**
   * What comes in at the edges: the image mirrored about its edge (`'reflect'`, PyTorch's
   * reflect padding, airbench's choice) or zeros (`'zeros'`, what randomCrop does).
   * @default 'reflect'
   */
  fill?: TranslateFill;
}

/**
 * Moves the image by a random whole number of pixels along each axis, in [−padding, padding]:
 * the random crop of the image padded by `padding` on each side, with reflect padding by default
 * (airbench's translate). The content is kept, only moved.
 * @throws ArgumentError for padding not a non-negative integer, an unknown fill, or (when called)
 * a reflect padding not smaller than the image
 */
export function randomTranslate(options: RandomTranslateOptions): Augmentation {
  checkOptions('randomTranslate', options, ['padding', 'fill']);
  const p = checkPadding('randomTranslate', options?.padding);
  const fill = options.fill ?? 'reflect';
  if (fill !== 'reflect' && fill !== 'zeros')
    throw new ArgumentError(
      `randomTranslate: fill must be 'reflect' or 'zeros', got ${JSON.stringify(fill)}.`,
    );
  return (e, rng) => {
    const [h, w, c] = hwc(e, 'randomTranslate');
    if (fill === 'reflect' && p >= Math.min(h, w))
      throw new ArgumentError(
        `randomTranslate: reflect padding ${p} needs images larger than ${p} pixels on each side, got ${h}×${w}. Use a smaller padding or fill: 'zeros'.`,
      );
    const dy = rng.int(2 * p + 1) - p;
    const dx = rng.int(2 * p + 1) - p;
    if (dy === 0 && dx === 0) return e;
    const x = new Float32Array(e.x.length);
    translateInto(e.x, x, h, w, c, dy, dx, fill);
    return { ...e, x };
  };
}

/** Mirrors left-right with probability p (default one half). */
export function horizontalFlip(options: { probability?: number } = {}): Augmentation {
  checkOptions('horizontalFlip', options, ['probability']);
  const prob = options.probability ?? 0.5;
  if (typeof prob !== 'number' || !(prob >= 0 && prob <= 1))
    throw new ArgumentError(
      `horizontalFlip: probability must be a number in [0, 1], got ${String(prob)}.`,
    );
  return (e, rng) => {
    if (rng.next() >= prob) return e;
    const [h, w, c] = hwc(e, 'horizontalFlip');
    const x = new Float32Array(e.x.length);
    flipInto(e.x, x, h, w, c);
    return { ...e, x };
  };
}

/** One pseudo-random bit per (seed, index): a fixed phase for each image, no state to keep. */
function phaseBit(seed: number, index: number): number {
  let z = (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) & 1;
}

/**
 * Airbench's derandomized flip: each image is mirrored on alternate epochs, its phase (mirrored
 * on even or on odd epochs) drawn once from `seed` and its index, so that in any two consecutive
 * epochs every image is seen both ways, half of them mirrored in each epoch. The image's identity
 * is its position in the stream: map it before `shuffle`
 * (`Dataset.fromImageSet(train).map(alternatingFlip()).shuffle(seed)`).
 * @throws ArgumentError for a seed that is not an integer, or (when called) outside Dataset.map
 */
export function alternatingFlip(options: { seed?: number } = {}): Augmentation {
  checkOptions('alternatingFlip', options, ['seed']);
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    throw new ArgumentError(`alternatingFlip: seed must be an integer, got ${String(seed)}.`);
  return (e, _rng, place) => {
    if (!place || !Number.isInteger(place.epoch) || !Number.isInteger(place.index))
      throw new ArgumentError(
        "alternatingFlip: needs the epoch and the example's index; use it through Dataset.map (before shuffle).",
      );
    if ((phaseBit(seed, place.index) ^ (place.epoch & 1)) === 0) return e;
    const [h, w, c] = hwc(e, 'alternatingFlip');
    const x = new Float32Array(e.x.length);
    flipInto(e.x, x, h, w, c);
    return { ...e, x };
  };
}

/** (x − mean[c]) / std[c] per channel. */
export function normalize(options: { mean: number[]; std: number[] }): (e: Example) => Example {
  const { mean, std } = options;
  if (mean.length !== std.length || std.some((s) => !(s > 0))) {
    throw new ArgumentError(
      `normalize: mean and std need one entry per channel and std must be positive, got mean [${mean}] std [${std}].`,
    );
  }
  return (e) => {
    const c = e.shape[e.shape.length - 1]!;
    if (c !== mean.length)
      throw new ShapeError(
        `normalize: images have ${c} channels but mean/std have ${mean.length}.`,
      );
    const x = new Float32Array(e.x.length);
    for (let i = 0; i < x.length; i++) x[i] = (e.x[i]! - mean[i % c]!) / std[i % c]!;
    return { ...e, x };
  };
}

/** Per-channel mean and standard deviation of HWC images in 0..1, for normalize(). */
export function channelStats(
  images: Uint8Array,
  channels: number,
): {
  /** Per channel, in 0..1. */
  mean: number[];
  /** Per channel (population standard deviation). */
  std: number[];
} {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let i = 0; i < images.length; i++) {
    const v = images[i]! / 255;
    sum[i % channels] += v;
    sq[i % channels] += v * v;
  }
  const n = images.length / channels;
  const mean = [...sum].map((s) => s / n);
  // Rounding can make the variance of a constant channel a tiny negative number: clamp at 0.
  return { mean, std: [...sq].map((s, k) => Math.sqrt(Math.max(0, s / n - mean[k]! ** 2))) };
}
