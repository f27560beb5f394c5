/** Data: the Dataset pipeline, MNIST / CIFAR-10 / image-folder loaders, augmentation, image codecs. */
export * as augment from './augment.js';
export { CIFAR10_CLASSES, concatSets, loadCifar10, parseCifarBatch, parseMeta } from './cifar10.js';
export { BatchedDataset, Dataset, type Example, type MapPlace } from './dataset.js';
export { download, type RemoteFile, verifyChecksum } from './download.js';
export { DataError, DataNotFoundError } from './errors.js';
export { parseIdx } from './idx.js';
export { decodeImage, encodePng, type RawImage, resizeBilinear } from './image_codec.js';
export { type ImageFolderOptions, loadImageFolder } from './image_folder.js';
export { checkImageSet, type ImageSet, spread, subset, toTensors } from './image_set.js';
export { loadMnist, MNIST_FILES, type Mnist, type MnistOptions } from './mnist.js';
