/**
 * An image-folder dataset: root/<class>/<image>.png|jpg, classes from the folder names,
 * sorted. Reads the CIFAR-10 JPEG copy and anyone's own photos. Images of another size are
 * resized when `size` is given; otherwise a differing size is an error naming the file.
 */
import { checkOptions } from '../util/options.js';
import { DataError, DataNotFoundError } from './errors.js';
import { decodeImage, resizeBilinear } from './image_codec.js';
import { checkImageSet, type ImageSet } from './image_set.js';
import { readFileBytes } from './node_io.js';

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** Resize every image to [height, width]. */
  size?: [number, number];
  /** 1 = grey, 3 = RGB; by default grey when every image is grey, else RGB. */
  channels?: 1 | 3;
  /** Use these class names (and order) instead of the sorted folder names. */
  classNames?: string[];
  /** Read at most this many images per class. */
  limitPerClass?: number;
}

const IMAGE = /\.(png|jpe?g)$/i;

/**
 * The class folders of an image folder, sorted. Hidden folders (.ipynb_checkpoints, .git,
 * anything starting with '.') are not classes.
 */
export async function classFolders(root: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new DataNotFoundError(
        `image folder: ${root} does not exist or is not a folder. It should hold one sub-folder per class: ${root}/<class>/<image>.png`,
      );
    const { toIOError } = await import('../io/files.js');
    throw toIOError(e, 'image folder', 'list the folder', root);
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/**
 * Images in class folders, `root/<class>/<image>.png|jpg`, as an ImageSet (labels by the
 * sorted folder names unless classNames says otherwise). All images must end up one size:
 * give `size` to resize them. Node only.
 * @throws DataError when root has no class folders, fewer than two, no images, an image that
 *   does not decode, or sizes that differ without `size`
 * @throws DataNotFoundError for a class folder that is missing
 */
export async function loadImageFolder(
  root: string,
  options: ImageFolderOptions = {},
): Promise<ImageSet> {
  checkOptions('loadImageFolder', options, ['size', 'channels', 'classNames', 'limitPerClass']);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const found = await classFolders(root);
  const classNames = options.classNames ?? found;
  if (classNames.length === 0)
    throw new DataError(
      `image folder: ${root} has no class sub-folders; expected ${root}/<class>/<image>.png|jpg.`,
    );
  const files: { file: string; label: number }[] = [];
  for (const [label, cls] of classNames.entries()) {
    let names: string[];
    try {
      names = (await fs.readdir(path.join(root, cls))).filter((f) => IMAGE.test(f)).sort();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        const { toIOError } = await import('../io/files.js');
        throw toIOError(e, 'image folder', 'list the folder', path.join(root, cls));
      }
      throw new DataNotFoundError(
        `image folder: the class folder ${path.join(root, cls)} is missing.`,
      );
    }
    if (options.limitPerClass !== undefined) names = names.slice(0, options.limitPerClass);
    for (const n of names) files.push({ file: path.join(root, cls, n), label });
  }
  if (files.length === 0)
    throw new DataError(
      `image folder: ${root} has class folders (${classNames.join(', ')}) but no .png or .jpg images in them.`,
    );
  // One class is no classification: softmax over one unit is always 1, and accuracy meaningless.
  if (classNames.length < 2)
    throw new DataError(
      `image folder: ${root} has a single class ('${classNames[0]}'); a classifier needs at least two. ` +
        `Add a folder per class: ${root}/<class>/<image>.png.`,
    );

  let shape: [number, number, number] | null = null;
  let images: Uint8Array | null = null;
  const labels = new Int32Array(files.length);
  // Without options.channels, a grey picture among colour ones (CIFAR-10 has some) is stored
  // as RGB, and a colour one after grey ones turns the whole set into RGB.
  let channels = options.channels;
  for (const [i, { file, label }] of files.entries()) {
    let img = decodeImage(await readFileBytes(file), {
      name: file,
      ...(channels ? { channels } : {}),
    });
    if (options.size) img = resizeBilinear(img, options.size[0], options.size[1]);
    if (!shape) {
      shape = [img.height, img.width, img.channels];
      images = new Uint8Array(files.length * img.height * img.width * img.channels);
      if (img.channels === 3) channels = 3;
    } else if (img.height !== shape[0] || img.width !== shape[1]) {
      throw new DataError(
        `image folder: ${file} is ${img.height}×${img.width} but the first image was ${shape[0]}×${shape[1]}. Give a size to resize all images (--image-size H,W), or remove the odd one.`,
      );
    } else if (img.channels !== shape[2]) {
      images = greyToRgb(images!);
      shape = [shape[0], shape[1], 3];
      channels = 3;
    }
    images!.set(img.data, i * img.data.length);
    labels[i] = label;
  }
  return checkImageSet({ images: images!, labels, shape: shape!, classNames }, root);
}

/** Grey bytes to RGB bytes (each value three times). */
function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i]!;
  return rgb;
}
