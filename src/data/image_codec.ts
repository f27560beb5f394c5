/**
 * Images in and out: PNG through pngjs, JPEG through jpeg-js (both pure JavaScript, so the
 * same code runs in Node and the browser), and a bilinear resize.
 * Pixels are HWC bytes, 0..255.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ArgumentError } from '../util/errors.js';
import { DataError } from './errors.js';

/** A decoded image: bytes, row-major, channels interleaved (what the codecs and pictures use). */
export interface RawImage {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /** height × width × channels bytes, row-major. */
  data: Uint8Array;
}

function isPng(b: Uint8Array): boolean {
  return b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}
function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8;
}

/** RGBA (from the codecs) to 1 or 3 channels; grey when asked or when R = G = B everywhere. */
function fromRgba(rgba: Uint8Array, width: number, height: number, channels?: 1 | 3): RawImage {
  const n = width * height;
  let grey = channels === 1;
  if (channels === undefined) {
    grey = true;
    for (let i = 0; i < n && grey; i++)
      grey = rgba[i * 4] === rgba[i * 4 + 1] && rgba[i * 4] === rgba[i * 4 + 2];
  }
  const c = grey ? 1 : 3;
  const data = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    if (c === 1) {
      const r = rgba[i * 4]!;
      const g = rgba[i * 4 + 1]!;
      const b = rgba[i * 4 + 2]!;
      data[i] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    } else {
      data[i * 3] = rgba[i * 4]!;
      data[i * 3 + 1] = rgba[i * 4 + 1]!;
      data[i * 3 + 2] = rgba[i * 4 + 2]!;
    }
  }
  return { width, height, channels: c, data };
}

/** Decodes PNG or JPEG bytes. `channels` forces grey (1) or RGB (3); by default grey images stay grey. */
export function decodeImage(
  bytes: Uint8Array,
  options: { channels?: 1 | 3; name?: string } = {},
): RawImage {
  const name = options.name ?? 'image';
  try {
    if (isPng(bytes)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return fromRgba(
        new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
        png.width,
        png.height,
        options.channels,
      );
    }
    if (isJpeg(bytes)) {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxMemoryUsageInMB: 1024,
      });
      return fromRgba(img.data, img.width, img.height, options.channels);
    }
  } catch (e) {
    throw new DataError(
      `${name}: the image could not be decoded (${(e as Error).message}); the file is corrupt or truncated.`,
    );
  }
  throw new DataError(
    `${name}: not a PNG or JPEG file (it starts with ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}).`,
  );
}

/** Encodes 1- or 3-channel bytes as PNG. */
export function encodePng(img: RawImage): Uint8Array {
  const { width, height, channels, data } = img;
  if (data.length !== width * height * channels) {
    throw new ArgumentError(
      `encodePng: ${data.length} bytes do not make a ${width}×${height}×${channels} image.`,
    );
  }
  const png = new PNG({
    width,
    height,
    colorType: channels === 1 ? 0 : 2,
    inputColorType: channels === 1 ? 0 : 2,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(
    PNG.sync.write(png, {
      colorType: channels === 1 ? 0 : 2,
      inputColorType: channels === 1 ? 0 : 2,
      inputHasAlpha: false,
    }),
  );
}

/** Bilinear resize (pixel centres aligned, as TensorFlow's half_pixel_centers and PIL do). */
export function resizeBilinear(img: RawImage, height: number, width: number): RawImage {
  if (img.height === height && img.width === width) return img;
  const c = img.channels;
  const out = new Uint8Array(height * width * c);
  const sy = img.height / height;
  const sx = img.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const p = (yy: number, xx: number) => img.data[(yy * img.width + xx) * c + k]!;
        const v =
          (1 - wy) * ((1 - wx) * p(y0, x0) + wx * p(y0, x1)) +
          wy * ((1 - wx) * p(y1, x0) + wx * p(y1, x1));
        out[(y * width + x) * c + k] = Math.round(v);
      }
    }
  }
  return { width, height, channels: c, data: out };
}
