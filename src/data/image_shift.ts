/**
 * Mirroring and translating one HWC image (row-major [height, width, channels] values): the
 * moves that augmentation (augment.ts) and test-time augmentation (train/tta.ts) share.
 */

/** How a translation fills the pixels it brings in from outside the image. */
export type TranslateFill = 'reflect' | 'zeros';

/** `dst` = `src` mirrored left-right. */
export function flipInto(
  src: Float32Array,
  dst: Float32Array,
  h: number,
  w: number,
  c: number,
): void {
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const from = row + (w - 1 - x) * c;
      const to = row + x * c;
      for (let k = 0; k < c; k++) dst[to + k] = src[from + k]!;
    }
  }
}

/** PyTorch's 'reflect' padding: index −1 reads 1, index n reads n − 2 (the edge is not repeated). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * `dst[y, x] = src[y + dy, x + dx]`: the image moved by (−dy, −dx), which is the window at
 * offset (p + dy, p + dx) of the image padded by p on each side. Pixels from outside the image
 * are zeros or, with 'reflect', mirrored about the edge (PyTorch's F.pad(mode='reflect')).
 */
export function translateInto(
  src: Float32Array,
  dst: Float32Array,
  h: number,
  w: number,
  c: number,
  dy: number,
  dx: number,
  fill: TranslateFill,
): void {
  for (let y = 0; y < h; y++) {
    let sy = y + dy;
    if (sy < 0 || sy >= h) {
      if (fill === 'zeros') {
        dst.fill(0, y * w * c, (y + 1) * w * c);
        continue;
      }
      sy = reflect(sy, h);
    }
    for (let x = 0; x < w; x++) {
      let sx = x + dx;
      const to = (y * w + x) * c;
      if (sx < 0 || sx >= w) {
        if (fill === 'zeros') {
          dst.fill(0, to, to + c);
          continue;
        }
        sx = reflect(sx, w);
      }
      const from = (sy * w + sx) * c;
      for (let k = 0; k < c; k++) dst[to + k] = src[from + k]!;
    }
  }
}
