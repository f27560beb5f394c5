/**
 * Images ↔ tensors: PNG/JPEG bytes or a RawImage to an NHWC tensor [1, h, w, c], and a tensor
 * back to bytes for a PNG. Files are the caller's business (vision never writes to disk), so
 * the PNG helpers return bytes: write them with io's writeFileAtomic.
 */
import { decodeImage, encodePng, type RawImage } from '../data/image_codec.js';
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { type OverlayOptions, overlayHeatmap } from './heatmap.js';
import { type Normalize, type PixelScale, toBytes } from './pixels.js';

export { type Normalize, type PixelScale, toBytes } from './pixels.js';

/** Options of {@link imageToTensor}. */
export interface ImageToTensorOptions {
  /** '0..1' (default) divides the bytes by 255; '0..255' keeps them. */
  scale?: PixelScale;
  /** 1 = grey, 3 = RGB; by default as decoded (grey images stay grey). */
  channels?: 1 | 3;
}

/** PNG or JPEG bytes, or a RawImage, as an NHWC float32 tensor [1, height, width, channels]. */
export function imageToTensor(
  image: Uint8Array | RawImage,
  options: ImageToTensorOptions = {},
): Tensor {
  const scale = checkScale(options.scale ?? '0..1', 'imageToTensor');
  let img = image instanceof Uint8Array ? decodeImage(image) : image;
  if (!img || !(img.data instanceof Uint8Array)) {
    throw new ArgumentError(
      'imageToTensor: expects PNG/JPEG bytes (a Uint8Array) or a RawImage { width, height, channels, data }.',
    );
  }
  if (options.channels !== undefined && options.channels !== img.channels)
    img = convertChannels(img, options.channels);
  const k = scale === '0..1' ? 1 / 255 : 1;
  return tensor(
    Float32Array.from(img.data, (v) => v * k),
    [1, img.height, img.width, img.channels],
  );
}

/** Grey ↔ RGB: grey copies the value three times; RGB to grey uses the ITU-R 601 luma weights. */
export function convertChannels(img: RawImage, channels: 1 | 3): RawImage {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 3) {
      data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = img.data[i]!;
    } else {
      const r = img.data[3 * i]!;
      const g = img.data[3 * i + 1]!;
      const b = img.data[3 * i + 2]!;
      data[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  return { width: img.width, height: img.height, channels, data };
}

/** Options of {@link tensorToImage} and {@link tensorToPng}. */
export interface TensorToImageOptions {
  /** 'clip' (default), 'minmax' or 'abs'; see Normalize. */
  normalize?: Normalize;
  /** The range of the values for 'clip': '0..1' (default) or '0..255'. */
  scale?: PixelScale;
  /** Which image of the batch (default 0). */
  index?: number;
}

/**
 * A tensor as an image: [1, h, w, c] (or [h, w, c], [h, w]) with c = 1 (grey) or 3 (RGB).
 * Values become bytes as `normalize` says; NaN or infinite values are an error, not black pixels.
 */
export function tensorToImage(t: Tensor, options: TensorToImageOptions = {}): RawImage {
  const where = 'tensorToImage';
  const { normalize = 'clip', index = 0 } = options;
  const scale = checkScale(options.scale ?? '0..1', where);
  if (!['clip', 'minmax', 'abs'].includes(normalize)) {
    throw new ArgumentError(
      `${where}: normalize must be 'clip', 'minmax' or 'abs', got ${JSON.stringify(normalize)}.`,
    );
  }
  const s = t.shape;
  const [n, h, w, c] =
    s.length === 4 ? s : s.length === 3 ? [1, ...s] : s.length === 2 ? [1, ...s, 1] : [];
  if (n === undefined || (c !== 1 && c !== 3)) {
    throw new ShapeError(
      `${where}: expects [1, height, width, channels], [height, width, channels] or [height, width] with 1 or 3 channels, got ${fmtShape(s)}.` +
        (c !== undefined && c !== 1 && c !== 3
          ? ' For feature maps with many channels use featureMaps() or pick one channel with rc.slice.'
          : ''),
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new ArgumentError(`${where}: index ${index} is outside the batch of ${n}.`);
  }
  const size = h! * w! * c;
  const all = t.dataSync();
  const v = all.subarray(index * size, (index + 1) * size);
  const data = toBytes(v, normalize, scale, where);
  return { width: w!, height: h!, channels: c, data };
}

/** A tensor as PNG bytes (tensorToImage then encodePng). */
export function tensorToPng(t: Tensor, options: TensorToImageOptions = {}): Uint8Array {
  return encodePng(tensorToImage(t, options));
}

/** PNG bytes of one image's heat map over it (overlayHeatmap, then encodePng); `index` picks the image. */
export function heatmapPng(
  images: Tensor,
  heat: Tensor,
  options: OverlayOptions & { index?: number } = {},
): Uint8Array {
  const { index = 0, ...rest } = options;
  const pics = overlayHeatmap(images, heat, rest);
  if (!Number.isInteger(index) || index < 0 || index >= pics.length)
    throw new ArgumentError(`heatmapPng: index ${index} is outside the batch of ${pics.length}.`);
  return encodePng(pics[index]!);
}

/** Nearest-neighbour enlargement: each pixel becomes a factor×factor block (small images, crisp). */
export function zoom(img: RawImage, factor: number): RawImage {
  if (!Number.isInteger(factor) || factor < 1)
    throw new ArgumentError(`zoom: factor must be a positive integer, got ${factor}.`);
  if (factor === 1) return img;
  const { width, height, channels: c } = img;
  const W = width * factor;
  const out = new Uint8Array(W * height * factor * c);
  for (let y = 0; y < height * factor; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < W; x++) {
      const src = (sy * width + Math.floor(x / factor)) * c;
      const dst = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[dst + k] = img.data[src + k]!;
    }
  }
  return { width: W, height: height * factor, channels: c, data: out };
}

function checkScale(scale: string, where: string): PixelScale {
  if (scale !== '0..1' && scale !== '0..255')
    throw new ArgumentError(
      `${where}: scale must be '0..1' or '0..255', got ${JSON.stringify(scale)}.`,
    );
  return scale;
}
