/** Resolves --dataset for the commands: 'mnist', 'cifar10', or a folder with train/ and test/ image folders. */
import { loadCifar10 } from '../data/cifar10.js';
import { DataError, DataNotFoundError } from '../data/errors.js';
import { classFolders, loadImageFolder } from '../data/image_folder.js';
import { type ImageSet, spread } from '../data/image_set.js';
import { loadMnist } from '../data/mnist.js';
import { ArgumentError } from '../util/errors.js';

export interface LoadedData {
  name: string;
  train: ImageSet;
  test: ImageSet;
  source: string;
}

export interface DataArgs {
  dataset: string;
  dataDir?: string;
  imageSize?: [number, number];
  limit?: number;
  log: (line: string) => void;
}

/**
 * Checks --dataset, --data-dir and --image-size without reading any data, so that a command
 * refuses a wrong argument at once rather than after a download or a long read.
 */
export async function checkDataArgs(args: Omit<DataArgs, 'log'>): Promise<void> {
  const { dataset } = args;
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const builtIn = dataset === 'mnist' || dataset === 'cifar10';
  if (builtIn && args.imageSize)
    throw new ArgumentError(
      `--image-size resizes the images of a folder dataset; ${dataset}'s images have one size (${dataset === 'mnist' ? '28×28' : '32×32'}). Leave it out.`,
    );
  if (builtIn && args.dataDir !== undefined) {
    const st = await fs.stat(args.dataDir).catch(() => null);
    if (!st?.isDirectory())
      throw new DataNotFoundError(
        `--data-dir ${args.dataDir}: ${st ? 'is a file, not a folder' : 'the folder does not exist'}. Give the folder that holds the ${dataset} files.`,
      );
  }
  if (builtIn) return;
  if (args.dataDir !== undefined)
    throw new ArgumentError(
      `--data-dir reads the files of mnist or cifar10; --dataset ${dataset} is a folder already. Leave --data-dir out.`,
    );
  for (const dir of [path.join(dataset, 'train'), path.join(dataset, 'test')]) {
    if (!(await fs.stat(dir).catch(() => null))?.isDirectory())
      throw new DataNotFoundError(
        `--dataset ${dataset}: expected 'mnist', 'cifar10', or a folder holding train/ and test/ image folders (${dir} is missing). Each holds one sub-folder per class: train/<class>/<image>.png`,
      );
  }
}

export async function loadDataset(args: DataArgs): Promise<LoadedData> {
  const { dataset, log } = args;
  await checkDataArgs(args);
  let d: LoadedData;
  if (dataset === 'mnist') {
    const m = await loadMnist({ ...(args.dataDir ? { dataDir: args.dataDir } : {}), log });
    d = { name: 'mnist', ...m };
  } else if (dataset === 'cifar10') {
    const c = await loadCifar10({ ...(args.dataDir ? { dataDir: args.dataDir } : {}), log });
    d = { name: 'cifar10', ...c };
  } else {
    const path = await import('node:path');
    const root = dataset;
    const trainDir = path.join(root, 'train');
    const testDir = path.join(root, 'test');
    const opts = args.imageSize ? { size: args.imageSize } : {};
    log(`Reading images from ${root} ...`);
    const train = await loadImageFolder(trainDir, opts);
    // A test class the model never saw cannot be scored: say so rather than skip its images.
    const unknown = (await classFolders(testDir)).filter((c) => !train.classNames.includes(c));
    if (unknown.length > 0)
      throw new DataError(
        `--dataset ${root}: the test split has ${unknown.length === 1 ? 'a class' : 'classes'} that train/ lacks: ${unknown.map((c) => `'${c}'`).join(', ')} (train/ has ${train.classNames.join(', ')}). ` +
          `Add ${unknown.map((c) => path.join(trainDir, c)).join(', ')} with training images, or remove ${unknown.length === 1 ? 'it' : 'them'} from test/.`,
      );
    const test = await loadImageFolder(testDir, {
      ...opts,
      classNames: train.classNames,
      channels: train.shape[2] as 1 | 3,
    });
    d = { name: path.basename(path.resolve(root)), train, test, source: root };
  }
  if (args.limit !== undefined)
    d = {
      ...d,
      train: spread(d.train, args.limit),
      test: spread(d.test, Math.max(1, Math.ceil(args.limit / 6))),
    };
  return d;
}
