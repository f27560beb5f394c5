/**
 * Heat maps drawn over images: a colormap for values in 0..1 and the blend of a heat map over
 * the image it explains (what Grad-CAM, saliency, integrated gradients and occlusion return as
 * their `picture`, and what the command line writes to PNG with images.ts's heatmapPng). No
 * image codec here: the pictures are drawn in browsers too.
 */
import type { RawImage } from '../data/image_codec.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, NonFiniteError, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { type Normalize, toBytes } from './pixels.js';

/** How heat becomes colour: 'inferno' (default; dark to bright, readable in grey), 'viridis' or 'jet'. */
export type Colormap = 'inferno' | 'viridis' | 'jet';

// Nine colours at 0, 1/8, ..., 1 of matplotlib's maps, linearly interpolated between them.
const ANCHORS: Record<'inferno' | 'viridis', number[][]> = {
  inferno: [
    [0, 0, 4],
    [31, 12, 72],
    [85, 15, 109],
    [136, 34, 106],
    [186, 54, 85],
    [227, 89, 51],
    [249, 140, 10],
    [249, 201, 50],
    [252, 255, 164],
  ],
  viridis: [
    [68, 1, 84],
    [72, 40, 120],
    [62, 74, 137],
    [49, 104, 142],
    [38, 130, 142],
    [31, 158, 137],
    [53, 183, 121],
    [110, 206, 88],
    [253, 231, 37],
  ],
};

const COLORMAPS: Colormap[] = ['inferno', 'viridis', 'jet'];

/**
 * The colour of a value v in 0..1 (clamped; NaN is 0) under a colormap, as [r, g, b] bytes.
 * @throws ArgumentError for an unknown colormap or a value that is not a number
 */
export function colormap(v: number, name: Colormap = 'inferno'): [number, number, number] {
  if (typeof v !== 'number')
    throw new ArgumentError(`colormap: the value must be a number in 0..1, got ${String(v)}.`);
  const t = Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
  if (name === 'jet') {
    // The classic piecewise-linear jet: blue, cyan, yellow, red.
    const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - x))));
    return [c(3), c(2), c(1)];
  }
  const table = ANCHORS[name];
  if (!table)
    throw new ArgumentError(
      `colormap: unknown colormap ${JSON.stringify(name)}; use one of ${COLORMAPS.join(', ')}.`,
    );
  const x = t * 8;
  const i = Math.min(7, Math.floor(x));
  const f = x - i;
  const a = table[i]!;
  const b = table[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + f * (b[k]! - a[k]!))) as [number, number, number];
}

const tables = new Map<Colormap, Uint8Array>();

/** The colormap at 256 levels, [r, g, b] each (pictures look up a pixel's colour there). */
function colorTable(name: Colormap): Uint8Array {
  let t = tables.get(name);
  if (!t) {
    t = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) t.set(colormap(i / 255, name), 3 * i);
    tables.set(name, t);
  }
  return t;
}

/** Options of {@link overlayHeatmap} and {@link heatmapPng}. */
export interface OverlayOptions {
  /** The colormap of the heat (default 'inferno'). */
  colormap?: Colormap;
  /** How much of the heat's colour shows over the image, 0..1 (default 0.5). */
  alpha?: number;
  /**
   * How the image's values become bytes (see Normalize): 'minmax' (default) stretches each
   * image to 0..255, right whatever its scale (0..1, 0..255 or normalized); 'clip' takes values
   * in 0..1 as they are.
   */
  normalize?: Normalize;
}

const OVERLAY_KEYS = ['colormap', 'alpha', 'normalize'];

/**
 * Heat maps blended over their images: RGB pictures, one per image, at the images' size.
 * `images` is [n, H, W, c] (c = 1 or 3), `heat` [n, H, W] with values in 0..1 (values outside
 * are clamped: scale a map to 0..1 first, as the explanations do for their pictures). Each
 * pixel is (1 − alpha)·image + alpha·colormap(heat).
 * @throws ShapeError if the shapes do not fit together
 * @throws NonFiniteError for NaN or infinite values
 */
export function overlayHeatmap(
  images: Tensor,
  heat: Tensor,
  options: OverlayOptions = {},
): RawImage[] {
  const where = 'overlayHeatmap';
  checkOptions(where, options, OVERLAY_KEYS);
  const { colormap: cmap = 'inferno', alpha = 0.5, normalize = 'minmax' } = options;
  if (!COLORMAPS.includes(cmap))
    throw new ArgumentError(
      `${where}: colormap must be one of ${COLORMAPS.join(', ')}, got ${JSON.stringify(cmap)}.`,
    );
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1))
    throw new ArgumentError(`${where}: alpha must be a number in 0..1, got ${alpha}.`);
  if (images?.rank !== 4 || (images.shape[3] !== 1 && images.shape[3] !== 3)) {
    throw new ShapeError(
      `${where}: images must be [n, height, width, 1 or 3], got ${images?.shape ? fmtShape(images.shape) : String(images)}.`,
    );
  }
  const [n, h, w, c] = images.shape as [number, number, number, number];
  if (heat?.rank !== 3 || heat.shape[0] !== n || heat.shape[1] !== h || heat.shape[2] !== w) {
    throw new ShapeError(
      `${where}: the heat map must be [${n}, ${h}, ${w}] to fit the images ${fmtShape(images.shape)}, got ${heat?.shape ? fmtShape(heat.shape) : String(heat)}.`,
    );
  }
  const pix = images.dataSync();
  const hv = heat.dataSync();
  const lut = colorTable(cmap);
  const out: RawImage[] = [];
  for (let i = 0; i < n; i++) {
    const base = toBytes(
      pix.subarray(i * h * w * c, (i + 1) * h * w * c),
      normalize,
      '0..1',
      where,
    );
    const data = new Uint8Array(h * w * 3);
    for (let p = 0; p < h * w; p++) {
      const v = hv[i * h * w + p]!;
      if (!Number.isFinite(v))
        throw new NonFiniteError(`${where}: heat value ${p} of image ${i} is ${v}.`);
      const at = 3 * Math.round(Math.min(1, Math.max(0, v)) * 255);
      for (let k = 0; k < 3; k++) {
        const b = base[p * c + (c === 3 ? k : 0)]!;
        data[p * 3 + k] = Math.round((1 - alpha) * b + alpha * lut[at + k]!);
      }
    }
    out.push({ width: w, height: h, channels: 3, data });
  }
  return out;
}

/**
 * Scales each image's map to 0..1 for a picture: divides by the image's largest value after
 * `prep` (an all-zero map stays zero). Returns new values.
 */
export function scalePerImage(
  v: Float32Array,
  n: number,
  prep: (x: number) => number = (x) => x,
): Float32Array {
  const size = v.length / n;
  const out = new Float32Array(v.length);
  for (let i = 0; i < n; i++) {
    let hi = 0;
    for (let p = 0; p < size; p++) hi = Math.max(hi, prep(v[i * size + p]!));
    if (hi > 0) for (let p = 0; p < size; p++) out[i * size + p] = prep(v[i * size + p]!) / hi;
  }
  return out;
}
