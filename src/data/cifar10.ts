/**
 * CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test images, 32×32 RGB, 10 classes.
 * Reads the official binary batches: records of 3,073 bytes (a label byte, then 1024 red,
 * 1024 green and 1024 blue bytes), and batches.meta.txt for the class names. Looks in an
 * explicit dataDir, then the cache, then downloads the official tarball (checksum verified).
 */

import { toIOError } from '../io/files.js';
import { IOError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { download, offlineMessage, type RemoteFile } from './download.js';
import { DataError, DataNotFoundError } from './errors.js';
import { checkImageSet, type ImageSet } from './image_set.js';
import { cacheDir, exists, maybeGunzip, readFileBytes } from './node_io.js';

/** CIFAR-10's ten class names, by label. */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];
const RECORD = 3073;

export const CIFAR10_TARBALL: RemoteFile = {
  name: 'cifar-10-binary.tar.gz',
  urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
};

/** Parses one binary batch (any number of records) into NHWC bytes. */
export function parseCifarBatch(
  bytes: Uint8Array,
  name: string,
  classNames = CIFAR10_CLASSES,
): ImageSet {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DataError(
      `${name}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (${Math.floor(bytes.length / RECORD)} records and ${bytes.length % RECORD} bytes over); the file is truncated or not a CIFAR-10 binary batch.`,
    );
  }
  const n = bytes.length / RECORD;
  const labels = new Int32Array(n);
  const images = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    const r = i * RECORD;
    const label = bytes[r]!;
    if (label >= classNames.length) {
      throw new DataError(
        `${name}: record ${i} has label ${label}, outside 0..${classNames.length - 1}; the file is corrupt or not CIFAR-10 (CIFAR-100 records are 3,074 bytes).`,
      );
    }
    labels[i] = label;
    // Channel planes (CHW) to interleaved pixels (HWC).
    for (let p = 0; p < 1024; p++) {
      const o = i * 3072 + p * 3;
      images[o] = bytes[r + 1 + p]!;
      images[o + 1] = bytes[r + 1 + 1024 + p]!;
      images[o + 2] = bytes[r + 1 + 2048 + p]!;
    }
  }
  return checkImageSet({ images, labels, shape: [32, 32, 3], classNames }, name);
}

/** Class names from batches.meta.txt: one per line, blank lines ignored. */
export function parseMeta(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** One ImageSet of several with the same image shape (CIFAR-10's five training batches). */
export function concatSets(sets: ImageSet[]): ImageSet {
  const images = new Uint8Array(sets.reduce((a, s) => a + s.images.length, 0));
  const labels = new Int32Array(sets.reduce((a, s) => a + s.labels.length, 0));
  let pi = 0;
  let li = 0;
  for (const s of sets) {
    images.set(s.images, pi);
    labels.set(s.labels, li);
    pi += s.images.length;
    li += s.labels.length;
  }
  return { ...sets[0]!, images, labels };
}

const TRAIN = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];
const TEST = 'test_batch.bin';

async function loadDir(dir: string): Promise<{ train: ImageSet; test: ImageSet } | null> {
  const path = await import('node:path');
  // The tarball unpacks into cifar-10-batches-bin/; accept either level.
  for (const d of [dir, path.join(dir, 'cifar-10-batches-bin')]) {
    if (!(await exists(path.join(d, TEST)))) continue;
    const metaPath = path.join(d, 'batches.meta.txt');
    const names = (await exists(metaPath))
      ? parseMeta(new TextDecoder().decode(await readFileBytes(metaPath)))
      : CIFAR10_CLASSES;
    const read = async (f: string) =>
      parseCifarBatch(
        await maybeGunzip(await readFileBytes(path.join(d, f)), f),
        path.join(d, f),
        names,
      );
    const missing = [];
    for (const f of TRAIN) if (!(await exists(path.join(d, f)))) missing.push(f);
    if (missing.length)
      throw new DataNotFoundError(`CIFAR-10: ${d} has ${TEST} but lacks ${missing.join(', ')}.`);
    return { train: concatSets(await Promise.all(TRAIN.map(read))), test: await read(TEST) };
  }
  return null;
}

/** Options of {@link loadCifar10}. */
export interface Cifar10Options {
  /** A folder with the binary batches (or cifar-10-batches-bin/ inside it). */
  dataDir?: string;
  /** Override the cache folder (default $RECEPTIVE_CACHE or ~/.cache/receptive). */
  cacheDir?: string;
  /**
   * Allow downloading the tarball (163 MB).
   * @default true
   */
  download?: boolean;
  /** Progress messages. */
  log?: (line: string) => void;
}

function offlineCifar(cache: string, reasons: string[]): string {
  return offlineMessage(
    'CIFAR-10',
    [CIFAR10_TARBALL],
    cache,
    reasons,
    '',
    '(the tarball as downloaded, or the cifar-10-batches-bin folder it unpacks to)',
  );
}

/**
 * CIFAR-10's 50,000 training and 10,000 test images (32×32 RGB bytes, ten classes), from its
 * binary version: `dataDir`, else the cache, else downloaded (md5 checked) and unpacked into
 * the cache. Node only.
 * @throws DataNotFoundError when the files are nowhere and cannot be downloaded
 * @throws DataError for a truncated or foreign file
 */
export async function loadCifar10(options: Cifar10Options = {}): Promise<{
  /** The 50,000 training images, [32, 32, 3] each. */
  train: ImageSet;
  /** The 10,000 test images. */
  test: ImageSet;
  /** Where the files were found. */
  source: string;
}> {
  checkOptions('loadCifar10', options, ['dataDir', 'cacheDir', 'download', 'log']);
  const path = await import('node:path');
  if (options.dataDir) {
    const d = await loadDir(options.dataDir);
    if (!d)
      throw new DataNotFoundError(
        `CIFAR-10: ${options.dataDir} has no ${TEST}; put the binary batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin, batches.meta.txt) there.`,
      );
    return { ...d, source: options.dataDir };
  }
  const cache = path.join(await cacheDir(options.cacheDir), 'cifar10');
  const cached = await loadDir(cache);
  if (cached) return { ...cached, source: cache };
  if (options.download === false)
    throw new DataNotFoundError(offlineCifar(cache, ['downloads are turned off']));
  try {
    // A tarball placed in the cache by hand (as the offline message says) is unpacked as is.
    const placed = path.join(cache, CIFAR10_TARBALL.name);
    const tarPath = (await exists(placed))
      ? placed
      : await download(CIFAR10_TARBALL, cache, options.log);
    const tar = await import('tar');
    await tar.x({ file: tarPath, cwd: cache });
    const fs = await import('node:fs/promises');
    await fs.rm(tarPath, { force: true });
  } catch (e) {
    // A full or read-only cache is said as it is, not as "offline".
    if (e instanceof IOError) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E(NOSPC|DQUOT|ACCES|PERM|ROFS|NOTDIR|IO)$/.test(code))
      throw toIOError(e, 'CIFAR-10', 'write', cache);
    throw new DataNotFoundError(offlineCifar(cache, [(e as Error).message]));
  }
  const d = await loadDir(cache);
  if (!d)
    throw new DataError(
      `CIFAR-10: the downloaded tarball in ${cache} did not contain the binary batches.`,
    );
  return { ...d, source: cache };
}
