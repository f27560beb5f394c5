/** Numbers to pixels: grey images, diverging weights, heat maps, and a zoomed canvas with crisp pixels. */
import { vision } from './rc.js';

export type Normalize = 'abs' | 'clip' | 'minmax';

/** Values → bytes 0..255, as rc.vision.tensorToImage's `normalize` options do. */
export function toBytes(values: ArrayLike<number>, normalize: Normalize): Uint8ClampedArray {
  const n = values.length;
  const out = new Uint8ClampedArray(n);
  if (normalize === 'clip') {
    for (let i = 0; i < n; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
    return out;
  }
  if (normalize === 'abs') {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(values[i]!));
    const s = m > 0 ? 255 / m : 0;
    for (let i = 0; i < n; i++) out[i] = Math.round(Math.abs(values[i]!) * s);
    return out;
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  const s = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < n; i++) out[i] = Math.round((values[i]! - lo) * s);
  return out;
}

/** Grey bytes (h × w) as RGBA ImageData. */
export function greyImageData(bytes: ArrayLike<number>, height: number, width: number): ImageData {
  const img = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = bytes[i]!;
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  return img;
}

/** Weights as colours: red for positive, blue for negative, white for 0 (scaled by the largest |w|). */
export function divergingImageData(
  values: ArrayLike<number>,
  height: number,
  width: number,
  maxAbs?: number,
): ImageData {
  let m = maxAbs ?? 0;
  if (maxAbs === undefined)
    for (let i = 0; i < height * width; i++) m = Math.max(m, Math.abs(values[i]!));
  const img = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const t = m > 0 ? Math.max(-1, Math.min(1, values[i]! / m)) : 0;
    const fade = Math.round(255 * (1 - Math.abs(t)));
    img.data[4 * i] = t >= 0 ? 255 : fade;
    img.data[4 * i + 1] = fade;
    img.data[4 * i + 2] = t <= 0 ? 255 : fade;
    img.data[4 * i + 3] = 255;
  }
  return img;
}

/** The library's heat colormap ('inferno', as its pictures use) at 256 levels, [r, g, b] each. */
const heatColors = Array.from({ length: 256 }, (_, i) => vision.colormap(i / 255));

/**
 * A heat map (values in 0..1) blended over a grey image (values in 0..1) as the library's
 * pictures are (rc.vision.overlayHeatmap): (1 − alpha)·image + alpha·colormap(heat).
 */
export function heatImageData(
  heat: ArrayLike<number>,
  grey: ArrayLike<number>,
  height: number,
  width: number,
  alpha = 0.5,
): ImageData {
  const img = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const c = heatColors[Math.round(Math.min(1, Math.max(0, heat[i]!)) * 255)]!;
    const g = 255 * Math.min(1, Math.max(0, grey[i]!));
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = Math.round((1 - alpha) * g + alpha * c[k]!);
    img.data[4 * i + 3] = 255;
  }
  return img;
}

/** Draws ImageData into a canvas scaled by `zoom` with nearest-neighbour pixels. */
export function drawZoomed(canvas: HTMLCanvasElement, img: ImageData, zoom: number): void {
  canvas.width = img.width * zoom;
  canvas.height = img.height * zoom;
  const ctx = canvas.getContext('2d')!;
  const tmp = document.createElement('canvas');
  tmp.width = img.width;
  tmp.height = img.height;
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

/** A new canvas showing one grey map (values normalized min..max), zoomed. */
export function mapCanvas(
  values: ArrayLike<number>,
  height: number,
  width: number,
  zoom: number,
  normalize: Normalize = 'minmax',
): HTMLCanvasElement {
  const c = document.createElement('canvas');
  drawZoomed(c, greyImageData(toBytes(values, normalize), height, width), zoom);
  return c;
}
