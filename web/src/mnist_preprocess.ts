/**
 * A drawing → the 28×28 input that MNIST's digits look like (LeCun et al.): the ink's bounding box
 * is scaled, keeping its aspect ratio, to fit a 20×20 box (area-averaged, so strokes are
 * anti-aliased grey at their edges), then placed in a 28×28 field so that its centre of mass
 * sits at the centre. Ink is 1, paper 0 (white digits on black, as in the files).
 */

export const MNIST_SIZE = 28;
export const MNIST_BOX = 20;

/** ink: height × width values in 0..1. Returns 784 values, or null when nothing is drawn. */
export function mnistPreprocess(
  ink: ArrayLike<number>,
  width: number,
  height: number,
  threshold = 0.05,
): Float32Array | null {
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink[y * width + x]! > threshold) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
  if (bottom < 0) return null;
  const bw = right - left + 1;
  const bh = bottom - top + 1;
  const scale = MNIST_BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  // Area sampling: each target pixel averages the source area it covers (fractional edges weighted).
  const box = new Float32Array(tw * th);
  const sx = bw / tw;
  const sy = bh / th;
  for (let ty = 0; ty < th; ty++) {
    const y0 = ty * sy;
    const y1 = y0 + sy;
    for (let tx = 0; tx < tw; tx++) {
      const x0 = tx * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          if (wx <= 0) continue;
          sum += wx * wy * ink[(top + y) * width + left + x]!;
          area += wx * wy;
        }
      }
      box[ty * tw + tx] = area > 0 ? Math.min(1, sum / area) : 0;
    }
  }
  // Centre of mass of the box, in its own pixel coordinates.
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++) {
      const v = box[y * tw + x]!;
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  cx = mass > 0 ? cx / mass : (tw - 1) / 2;
  cy = mass > 0 ? cy / mass : (th - 1) / 2;
  // Shift so the centre of mass lands at (14, 14), where MNIST's digits have theirs on average,
  // keeping the box inside the field.
  const centre = MNIST_SIZE / 2;
  const ox = Math.min(MNIST_SIZE - tw, Math.max(0, Math.round(centre - cx)));
  const oy = Math.min(MNIST_SIZE - th, Math.max(0, Math.round(centre - cy)));
  const out = new Float32Array(MNIST_SIZE * MNIST_SIZE);
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++) out[(oy + y) * MNIST_SIZE + ox + x] = box[y * tw + x]!;
  return out;
}
