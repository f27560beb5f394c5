/** Resolves --dataset for the commands: 'mnist', 'cifar10', or a folder with train/ and test/ image folders. */
import { loadCifar10 } from '../data/cifar10.js';
import { DataError, DataNotFoundError } from '../data/errors.js';
import { classFolders, loadImageFolder } from '../data/image_folder.js';
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
