/**
 * Image augmentation for Dataset.map: each returns a function (example, rng) → example on HWC
 * float values. Standard CIFAR training uses randomCrop({ padding: 4 }) and horizontalFlip().
 */

import { ArgumentError, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import type { Random } from '../util/random.js';
import type { Example } from './dataset.js';

function hwc(e: Example, where: string): [number, number, number] {
  if (e.shape.length !== 3)
    throw new ShapeError(
      `${where}: expects images [height, width, channels], got shape [${e.shape}].`,
    );
  return e.shape as [number, number, number];
}

/** Pads each side with zeros, then cuts a random window of the original size. */
export function randomCrop(options: { padding: number }): (e: Example, rng: Random) => Example {
  checkOptions('randomCrop', options, ['padding']);
  const p = options.padding;
  if (!Number.isInteger(p) || p < 0)
    throw new ArgumentError(`randomCrop: padding must be a non-negative integer, got ${p}.`);
  return (e, rng) => {
    const [h, w, c] = hwc(e, 'randomCrop');
    const dy = rng.int(2 * p + 1) - p;
    const dx = rng.int(2 * p + 1) - p;
    const x = new Float32Array(e.x.length);
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let xx = 0; xx < w; xx++) {
        const sx = xx + dx;
        if (sx < 0 || sx >= w) continue;
        for (let k = 0; k < c; k++) x[(y * w + xx) * c + k] = e.x[(sy * w + sx) * c + k]!;
      }
    }
    return { ...e, x };
  };
}

/** Mirrors left-right with probability p (default one half). */
export function horizontalFlip(
  options: { probability?: number } = {},
): (e: Example, rng: Random) => Example {
  checkOptions('horizontalFlip', options, ['probability']);
  const prob = options.probability ?? 0.5;
  return (e, rng) => {
    if (rng.next() >= prob) return e;
    const [h, w, c] = hwc(e, 'horizontalFlip');
    const x = new Float32Array(e.x.length);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        for (let k = 0; k < c; k++) x[(y * w + xx) * c + k] = e.x[(y * w + (w - 1 - xx)) * c + k]!;
      }
    }
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
