/** Resolves --dataset for the commands: 'mnist', 'cifar10', or a folder with train/ and test/ image folders. */
import { loadCifar10 } from '../data/cifar10.js';
import { DataNotFoundError } from '../data/errors.js';
import { loadImageFolder } from '../data/image_folder.js';
import { type ImageSet, spread } from '../data/image_set.js';
import { loadMnist } from '../data/mnist.js';

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

export async function loadDataset(args: DataArgs): Promise<LoadedData> {
  const { dataset, log } = args;
  let d: LoadedData;
  if (dataset === 'mnist') {
    const m = await loadMnist({ ...(args.dataDir ? { dataDir: args.dataDir } : {}), log });
    d = { name: 'mnist', ...m };
  } else if (dataset === 'cifar10') {
    const c = await loadCifar10({ ...(args.dataDir ? { dataDir: args.dataDir } : {}), log });
    d = { name: 'cifar10', ...c };
  } else {
    const path = await import('node:path');
    const fs = await import('node:fs/promises');
    const root = dataset;
    const trainDir = path.join(root, 'train');
    const testDir = path.join(root, 'test');
    for (const dir of [trainDir, testDir]) {
      try {
        await fs.access(dir);
      } catch {
        throw new DataNotFoundError(
          `--dataset ${root}: expected 'mnist', 'cifar10', or a folder holding train/ and test/ image folders (${dir} is missing). Each holds one sub-folder per class: train/<class>/<image>.png`,
        );
      }
    }
    const opts = args.imageSize ? { size: args.imageSize } : {};
    log(`Reading images from ${root} ...`);
    const train = await loadImageFolder(trainDir, opts);
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
