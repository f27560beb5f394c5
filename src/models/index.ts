/** The model zoo: every network in the notes, faithful to its paper. */
export { alexnet } from './alexnet.js';
export {
  type DenseNetOptions,
  densenet121,
  densenet169,
  densenet201,
  densenet264,
} from './densenet.js';
export { type GoogLeNetOptions, googlenet } from './googlenet.js';
export { lenet5, lenet5BN, lenet5Classic, mnistCnn, type ZooOptions } from './lenet.js';
export { createModel, modelNames, registerModel, type ZooEntry, zooEntry } from './registry.js';
export {
  type ResNetOptions,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
} from './resnet.js';
export { VGG_CONFIGS, type VGGOptions, vgg11, vgg13, vgg13Cifar, vgg16, vgg19 } from './vgg.js';
