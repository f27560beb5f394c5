/**
 * Pictures of what a network holds: a grid of a convolution's filters, and the feature maps a
 * layer makes for one image. Both are tiles of small images, each normalized on its own
 * (min-max) so that its pattern shows whatever its scale, scaled up with crisp pixels and
 * separated by white gutters.
 */
import type { RawImage } from '../data/image_codec.js';
import type { Model } from '../model/model.js';
import { reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { layerOutput } from './model_graph.js';
import { toBytes } from './pixels.js';

/** How a grid picture is laid out. */
export interface GridOptions {
  /** Pixels per value (each weight or activation becomes a scale×scale block). Default: cells of about 48 px. */
  scale?: number;
  /** Gutter width in pixels, around and between the cells (default 2). */
  gutter?: number;
  /** Cells per row (default: about square). */
  columns?: number;
}

/** One cell of a grid: h × w × c bytes. */
interface Cell {
  height: number;
  width: number;
  data: Uint8Array;
}

/**
 * Tiles equal-sized cells row by row. Width = columns·(w·scale) + (columns + 1)·gutter, and
 * likewise the height with the number of rows.
 */
export function tile(
  cells: Cell[],
  channels: 1 | 3,
  options: { scale: number; gutter: number; columns: number },
): RawImage {
  const { scale, gutter, columns } = options;
  if (cells.length === 0) throw new ArgumentError('tile: nothing to draw.');
  const { height: h, width: w } = cells[0]!;
  const rows = Math.ceil(cells.length / columns);
  const cw = w * scale;
  const ch = h * scale;
  const W = columns * cw + (columns + 1) * gutter;
  const H = rows * ch + (rows + 1) * gutter;
  const data = new Uint8Array(W * H * channels).fill(255);
  cells.forEach((cell, i) => {
    const x0 = gutter + (i % columns) * (cw + gutter);
    const y0 = gutter + Math.floor(i / columns) * (ch + gutter);
    for (let y = 0; y < ch; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < cw; x++) {
        const src = (sy * w + Math.floor(x / scale)) * channels;
        const dst = ((y0 + y) * W + x0 + x) * channels;
        for (let k = 0; k < channels; k++) data[dst + k] = cell.data[src + k]!;
      }
    }
  });
  return { width: W, height: H, channels, data };
}

function checkInt(v: number, name: string, where: string, min: number): number {
  if (!Number.isInteger(v) || v < min)
    throw new ArgumentError(`${where}: ${name} must be an integer ≥ ${min}, got ${v}.`);
  return v;
}

function gridLayout(n: number, size: number, options: GridOptions, where: string) {
  return {
    scale: checkInt(options.scale ?? Math.max(1, Math.round(48 / size)), 'scale', where, 1),
    gutter: checkInt(options.gutter ?? 2, 'gutter', where, 0),
    columns: Math.min(n, checkInt(options.columns ?? Math.ceil(Math.sqrt(n)), 'columns', where, 1)),
  };
}

/**
 * A picture of a convolution kernel [kh, kw, inChannels, filters] (HWIO): one cell per filter.
 * With 3 input channels each filter is one RGB cell (a first layer on colour images); otherwise
 * each (input channel, filter) slice is a grey cell, a row per input channel and a column per
 * filter (with one input channel, the filters wrap into an about-square grid). Each filter is
 * min-max normalized over all of its weights, so its channels keep their relative strength.
 */
export function filterGrid(kernel: Tensor, options: GridOptions = {}): RawImage {
  const where = 'filterGrid';
  if (kernel?.rank !== 4) {
    throw new ShapeError(
      `${where}: expects a convolution kernel [kh, kw, inChannels, filters] (HWIO, e.g. layer.kernel), got ${kernel ? fmtShape(kernel.shape) : String(kernel)}.`,
    );
  }
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const v = kernel.dataSync();
  const at = (y: number, x: number, i: number, o: number) =>
    v[((y * kw + x) * cin + i) * cout + o]!;
  // Each filter's bytes, [kh, kw, cin], normalized over the whole filter.
  const filters: Uint8Array[] = [];
  for (let o = 0; o < cout; o++) {
    const f = new Float32Array(kh * kw * cin);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++) f[(y * kw + x) * cin + i] = at(y, x, i, o);
    filters.push(toBytes(f, 'minmax', '0..1', where));
  }
  const size = Math.max(kh, kw);
  if (cin === 3) {
    const cells = filters.map((data) => ({ height: kh, width: kw, data }));
    return tile(cells, 3, gridLayout(cout, size, options, where));
  }
  const grey = (o: number, i: number): Cell => {
    const data = new Uint8Array(kh * kw);
    for (let p = 0; p < kh * kw; p++) data[p] = filters[o]![p * cin + i]!;
    return { height: kh, width: kw, data };
  };
  if (cin === 1) {
    const cells = filters.map((_, o) => grey(o, 0));
    return tile(cells, 1, gridLayout(cout, size, options, where));
  }
  const cells: Cell[] = [];
  for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) cells.push(grey(o, i));
  const layout = gridLayout(cout, size, options, where);
  return tile(cells, 1, { ...layout, columns: cout });
}

/**
 * The feature maps of one layer for one image: `maps` is the layer's output [1, h, w, c], and
 * `picture` a grid with one grey cell per channel, each min-max normalized.
 */
export function featureMaps(
  model: Model,
  image: Tensor,
  layerName: string,
  options: GridOptions = {},
): {
  /** The layer's output, [1, h, w, c]. */
  maps: Tensor;
  /** One grey cell per channel, each min-max normalized. */
  picture: RawImage;
} {
  const where = 'featureMaps';
  if (!image || (image.rank !== 4 && image.rank !== 3)) {
    throw new ShapeError(
      `${where}: expects one image [1, h, w, c] (or [h, w, c]), got ${image ? fmtShape(image.shape) : String(image)}.`,
    );
  }
  const x = image.rank === 3 ? reshape(image, [1, ...image.shape]) : image;
  if (x.shape[0] !== 1)
    throw new ShapeError(
      `${where}: expects one image (batch 1), got a batch of ${x.shape[0]}; slice one out.`,
    );
  const maps = layerOutput(model, layerName, x);
  if (maps.rank !== 4) {
    throw new ShapeError(
      `${where}: layer '${layerName}' outputs ${fmtShape(maps.shape)}, not feature maps [1, h, w, c]; pick a convolution or pooling layer.`,
    );
  }
  const [, h, w, c] = maps.shape as [number, number, number, number];
  const v = maps.dataSync();
  const cells: Cell[] = [];
  for (let k = 0; k < c; k++) {
    const m = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) m[p] = v[p * c + k]!;
    cells.push({ height: h, width: w, data: toBytes(m, 'minmax', '0..1', where) });
  }
  const layout = gridLayout(
    c,
    Math.max(h, w),
    { scale: Math.max(1, Math.round(96 / Math.max(h, w))), ...options },
    where,
  );
  return { maps, picture: tile(cells, 1, layout) };
}
