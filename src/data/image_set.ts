/**
 * A labelled set of images kept as bytes (0..255, NHWC), a quarter of the memory of float32:
 * loaders return it, and it turns into tensors or a Dataset when needed.
 */
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { DataError } from './errors.js';

/** A labelled set of images kept as bytes (what the loaders return). */
export interface ImageSet {
  /** Pixels, [count, height, width, channels] row-major, 0..255. */
  images: Uint8Array;
  /** One class id per image, 0..classNames.length − 1. */
  labels: Int32Array;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** The name of each class, by id. */
  classNames: string[];
}

/** Checks sizes and label range; `where` names the source in messages. */
export function checkImageSet(set: ImageSet, where: string): ImageSet {
  const [h, w, c] = set.shape;
  const n = set.labels.length;
  if (set.images.length !== n * h * w * c) {
    throw new DataError(
      `${where}: ${set.images.length} pixel bytes do not make ${n} images of ${h}×${w}×${c} (${n * h * w * c} bytes).`,
    );
  }
  const k = set.classNames.length;
  for (let i = 0; i < n; i++) {
    const l = set.labels[i]!;
    if (!(l >= 0 && l < k))
      throw new DataError(
        `${where}: label ${l} of example ${i} is outside 0..${k - 1} (${k} classes).`,
      );
  }
  return set;
}

/** The first `count` images (or a slice), sharing memory. */
export function subset(set: ImageSet, start: number, count: number): ImageSet {
  const n = set.labels.length;
  const end = Math.min(n, start + count);
  if (!(start >= 0 && start <= n))
    throw new ArgumentError(`subset: start ${start} is outside 0..${n}.`);
  const px = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    ...set,
    images: set.images.subarray(start * px, end * px),
    labels: set.labels.subarray(start, end),
  };
}

/**
 * `count` examples spread evenly over the set (every n/count-th one), copied. Image folders
 * are sorted by class, so the first N images would all be one class; an even spread keeps
 * every class in proportion, and is the same on every run.
 */
export function spread(set: ImageSet, count: number): ImageSet {
  const n = set.labels.length;
  if (!Number.isInteger(count) || count < 1)
    throw new ArgumentError(`spread: count must be a positive integer, got ${count}.`);
  if (count >= n) return set;
  const px = set.shape[0] * set.shape[1] * set.shape[2];
  const images = new Uint8Array(count * px);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const j = Math.floor((i * n) / count);
    images.set(set.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = set.labels[j]!;
  }
  return { ...set, images, labels };
}

/** Float32 images scaled to 0..1 ([n, h, w, c]) and int32 labels ([n]). */
export function toTensors(
  set: ImageSet,
  options: { scale?: number } = {},
): {
  /** Images as float32 [n, h, w, c], bytes times `scale`. */
  x: Tensor;
  /** Labels as int32 [n]. */
  y: Tensor;
} {
  const scale = options.scale ?? 1 / 255;
  const x = new Float32Array(set.images.length);
  for (let i = 0; i < x.length; i++) x[i] = set.images[i]! * scale;
  const n = set.labels.length;
  return { x: tensor(x, [n, ...set.shape]), y: tensor(Int32Array.from(set.labels), [n], 'int32') };
}
