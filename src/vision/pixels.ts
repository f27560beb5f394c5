/**
 * Numbers to pixel bytes, by one of the normalizations the pictures use. No image codec here,
 * so that what draws pictures in a browser (heat maps, grids) does not bundle one.
 */
import { NonFiniteError } from '../util/errors.js';

/** The range pixel values are in: `'0..1'` (what models take) or `'0..255'` (bytes). */
export type PixelScale = '0..1' | '0..255';

/**
 * How tensor values become bytes:
 * - 'clip': values in the scale's range map linearly to 0..255, values outside are clipped
 *   (right for images and for kernels that keep brightness: blur, sharpen);
 * - 'minmax': the smallest value becomes 0 and the largest 255 (feature maps, filters);
 * - 'abs': |v| scaled so that the largest |v| is 255 (edge responses, whose sign is direction).
 */
export type Normalize = 'clip' | 'minmax' | 'abs';

/** Numbers to bytes by one of the normalizations (shared by the pictures). */
export function toBytes(
  v: ArrayLike<number>,
  normalize: Normalize,
  scale: PixelScale = '0..1',
  where = 'toBytes',
): Uint8Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let absMax = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) {
      throw new NonFiniteError(
        `${where}: value ${i} is ${x}; an image needs finite values. Check the input for NaN (e.g. a division by zero upstream).`,
      );
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (Math.abs(x) > absMax) absMax = Math.abs(x);
  }
  const out = new Uint8Array(v.length);
  const byte = (x: number) => Math.min(255, Math.max(0, Math.round(x)));
  if (normalize === 'clip') {
    const k = scale === '0..1' ? 255 : 1;
    for (let i = 0; i < v.length; i++) out[i] = byte(v[i]! * k);
  } else if (normalize === 'minmax') {
    // A constant map has no contrast to stretch: it shows as black.
    const range = hi - lo;
    if (range > 0) for (let i = 0; i < v.length; i++) out[i] = byte(((v[i]! - lo) / range) * 255);
  } else if (absMax > 0) {
    for (let i = 0; i < v.length; i++) out[i] = byte((Math.abs(v[i]!) / absMax) * 255);
  }
  return out;
}
