/** The convolution lab's built-in images: a few MNIST test digits and some drawn by formula. */

export interface GreyImage {
  height: number;
  width: number;
  /** height × width values in 0..1. */
  data: Float32Array;
}

function make(size: number, f: (y: number, x: number) => number): GreyImage {
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = f(y, x);
  return { height: size, width: size, data };
}

/** Images drawn by formula: sharp edges, curves and smooth ramps to try kernels on. */
export const procedural: Record<string, () => GreyImage> = {
  square: () => make(32, (y, x) => (y >= 8 && y < 24 && x >= 8 && x < 24 ? 1 : 0)),
  checkerboard: () => make(32, (y, x) => ((Math.floor(y / 4) + Math.floor(x / 4)) % 2 ? 1 : 0)),
  circle: () =>
    make(40, (y, x) => {
      // anti-aliased disk: 4×4 samples per pixel
      let inside = 0;
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          const dy = y + (i + 0.5) / 4 - 20;
          const dx = x + (j + 0.5) / 4 - 20;
          if (dy * dy + dx * dx <= 13 * 13) inside++;
        }
      return inside / 16;
    }),
  gradient: () => make(32, (_y, x) => x / 31),
  stripes: () => make(32, (y, x) => (Math.floor((x + y) / 3) % 2 ? 1 : 0.2)),
};

export interface MnistSample {
  label: number;
  index: number;
  width: number;
  height: number;
  /** base64 of height × width bytes */
  data: string;
}

export function fromMnistSample(s: MnistSample): GreyImage {
  const bin = atob(s.data);
  const data = new Float32Array(bin.length);
  for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i) / 255;
  return { height: s.height, width: s.width, data };
}

/** samples.json (written by web/scripts/prepare-data.mjs); empty when it is missing. */
export async function loadMnistSamples(): Promise<MnistSample[]> {
  try {
    const res = await fetch(new URL('data/samples.json', document.baseURI));
    return res.ok ? ((await res.json()) as MnistSample[]) : [];
  } catch {
    return [];
  }
}

/** An uploaded picture as grey values, scaled down so its longer side is at most maxSide. */
export async function fromFile(file: Blob, maxSide = 96): Promise<GreyImage> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++)
    data[i] = (0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!) / 255;
  return { height, width, data };
}
