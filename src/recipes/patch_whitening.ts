/**
 * Patch-whitening initialization of a first convolution (airbench; Coates and Ng 2011): its
 * filters are the eigenvectors of the covariance of the image patches it sees, each scaled by
 * 1/√(eigenvalue + eps), so that its outputs are decorrelated with unit variance on that data.
 */

import { symmetricEigen } from '../util/eigen.js';
import { ArgumentError, ShapeError } from '../util/errors.js';

/** Images as float values, NHWC row-major, with their shape. */
export interface FloatImages {
  /** The values, [count, height, width, channels] row-major. */
  x: Float32Array;
  /** [count, height, width, channels]. */
  shape: [number, number, number, number];
}

function checkImages(where: string, images: FloatImages, k: number): void {
  const s = images?.shape;
  if (!Array.isArray(s) || s.length !== 4 || s.some((d) => !Number.isInteger(d) || d < 1))
    throw new ShapeError(
      `${where}: images need a shape [count, height, width, channels] of positive integers, got ${JSON.stringify(s)}.`,
    );
  if (!(images.x instanceof Float32Array) || images.x.length !== s[0] * s[1] * s[2] * s[3])
    throw new ShapeError(
      `${where}: images.x must be a Float32Array of ${s[0] * s[1] * s[2] * s[3]} values for shape [${s}], got ${images.x instanceof Float32Array ? images.x.length : String(images.x)}.`,
    );
  if (!Number.isInteger(k) || k < 1 || k > s[1] || k > s[2])
    throw new ArgumentError(
      `${where}: the patch size must be a positive integer no larger than the images (${s[1]}×${s[2]}), got ${String(k)}.`,
    );
}

/**
 * The uncentered covariance E[p·pᵀ] of all k×k patches (stride 1, no padding) of the images,
 * each patch flattened as (row, column, channel), the order of a Conv2D kernel
 * [k, k, channels, filters]. Returns the d×d matrix row-major, d = k·k·channels.
 * @throws ShapeError for images whose values do not match their shape
 * @throws ArgumentError for a patch size that is not a positive integer within the images
 */
export function patchCovariance(images: FloatImages, k: number): Float64Array {
  checkImages('patchCovariance', images, k);
  const [n, h, w, c] = images.shape;
  const d = k * k * c;
  const sums = new Float64Array(d * d);
  const p = new Float64Array(d);
  const x = images.x;
  for (let i = 0; i < n; i++)
    for (let y = 0; y + k <= h; y++)
      for (let xx = 0; xx + k <= w; xx++) {
        let t = 0;
        for (let dy = 0; dy < k; dy++) {
          const row = ((i * h + y + dy) * w + xx) * c;
          for (let j = 0; j < k * c; j++) p[t++] = x[row + j]!;
        }
        for (let a = 0; a < d; a++) {
          const pa = p[a]!;
          for (let b = a; b < d; b++) sums[a * d + b] += pa * p[b]!;
        }
      }
  const count = n * (h - k + 1) * (w - k + 1);
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const v = sums[a * d + b]! / count;
      sums[a * d + b] = v;
      sums[b * d + a] = v;
    }
  return sums;
}

/** What {@link whiteningKernel} gives. */
export interface WhiteningKernel {
  /** The kernel [k, k, channels, 2·d] row-major: d whitening filters, then their negatives. */
  kernel: Float32Array;
  /** The covariance's eigenvalues, largest first (filter i's is eigenvalues[i]). */
  eigenvalues: Float64Array;
}

/**
 * Airbench's whitening filters from images: the eigenvectors of the covariance of their k×k
 * patches, largest eigenvalue first, each divided by √(eigenvalue + eps), followed by the same
 * filters negated (so that a GELU after them keeps both signs). A Conv2D with this kernel
 * (valid padding, stride 1) outputs, on these images, channels 0…d−1 with covariance
 * diag(λ/(λ + eps)): the identity up to eps.
 * @throws ShapeError or ArgumentError as {@link patchCovariance}; ArgumentError for eps < 0
 */
export function whiteningKernel(images: FloatImages, k: number, eps = 5e-4): WhiteningKernel {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps))
    throw new ArgumentError(
      `whiteningKernel: eps must be a finite number >= 0, got ${String(eps)}.`,
    );
  const cov = patchCovariance(images, k);
  const d = k * k * images.shape[3];
  const { values, vectors } = symmetricEigen(cov, d);
  const kernel = new Float32Array(d * 2 * d);
  for (let f = 0; f < d; f++) {
    const lambda = Math.max(values[f]!, 0);
    if (lambda + eps === 0)
      throw new ArgumentError(
        `whiteningKernel: the patches have no variance along eigenvector ${f} (eigenvalue ${values[f]}), so it cannot be scaled to unit variance; give eps > 0 or more varied images.`,
      );
    const s = 1 / Math.sqrt(lambda + eps);
    // kernel[(dy, dx, ch), filter]: the patch index t is the row, the filter the column.
    for (let t = 0; t < d; t++) {
      const v = vectors[f * d + t]! * s;
      kernel[t * 2 * d + f] = v;
      kernel[t * 2 * d + d + f] = -v;
    }
  }
  return { kernel, eigenvalues: values };
}
