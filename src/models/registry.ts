/** The zoo by name, as the command line uses it (`receptive train lenet5`, `receptive summary resnet50`). */
import type { Model } from '../model/model.js';
import { ArgumentError } from '../util/errors.js';
import { alexnet } from './alexnet.js';
import { densenet121, densenet169, densenet201, densenet264 } from './densenet.js';
import { googlenet } from './googlenet.js';
import { lenet5, lenet5BN, lenet5Classic, mnistCnn, type ZooOptions } from './lenet.js';
import { resnet18, resnet34, resnet50, resnet101, resnet152 } from './resnet.js';
import { vgg11, vgg13, vgg13Cifar, vgg16, vgg19 } from './vgg.js';

/** A zoo model by name: how to build it and what it is (the CLI's `summary` and `train` use these). */
export interface ZooEntry {
  /** Builds the model for the given classes and input shape. */
  build: (options: ZooOptions) => Model;
  /** One line about it. */
  description: string;
  /** The input the model is meant for, when none is given. */
  defaultInput: number[];
  /**
   * The learning rate `receptive train` uses with Adam, AdamW or RMSprop when none is given, for
   * networks that do not start learning with their default 1e-3.
   */
  adaptiveLearningRate?: number;
}

const IMAGENET = [224, 224, 3];
const entries: [string, ZooEntry][] = [
  [
    'lenet5',
    {
      build: lenet5,
      description: "LeNet-5, the notes' Keras listing (tanh, average pooling, 120-84-10)",
      defaultInput: [28, 28, 1],
    },
  ],
  [
    'lenet5-classic',
    {
      build: lenet5Classic,
      description: 'LeNet-5 as LeCun et al. 1998: 32×32, scaled tanh',
      defaultInput: [32, 32, 1],
    },
  ],
  [
    'lenet5-bn',
    {
      build: lenet5BN,
      description: 'LeNet-5 with batch normalization and ReLU',
      defaultInput: [28, 28, 1],
    },
  ],
  [
    'mnist-cnn',
    {
      build: mnistCnn,
      description: "the notes' simple MNIST CNN (32-64-64 conv 3×3, dense 64)",
      defaultInput: [28, 28, 1],
    },
  ],
  [
    'alexnet',
    {
      build: alexnet,
      description: 'AlexNet, one tower (Krizhevsky et al. 2012)',
      defaultInput: [227, 227, 3],
    },
  ],
  [
    'alexnet-groups2',
    {
      build: (o) => alexnet({ ...o, groups: 2 }),
      description: 'AlexNet with the two-GPU split (groups = 2)',
      defaultInput: [227, 227, 3],
    },
  ],
  ['vgg11', { build: vgg11, description: 'VGG configuration A', defaultInput: IMAGENET }],
  ['vgg13', { build: vgg13, description: 'VGG configuration B', defaultInput: IMAGENET }],
  ['vgg16', { build: vgg16, description: 'VGG configuration D', defaultInput: IMAGENET }],
  ['vgg19', { build: vgg19, description: 'VGG configuration E', defaultInput: IMAGENET }],
  [
    'vgg11-bn',
    {
      build: (o) => vgg11({ ...o, batchNorm: true }),
      description: 'VGG11 with batch normalization',
      defaultInput: IMAGENET,
    },
  ],
  [
    'vgg13-bn',
    {
      build: (o) => vgg13({ ...o, batchNorm: true }),
      description: 'VGG13 with batch normalization',
      defaultInput: IMAGENET,
    },
  ],
  [
    'vgg16-bn',
    {
      build: (o) => vgg16({ ...o, batchNorm: true }),
      description: 'VGG16 with batch normalization',
      defaultInput: IMAGENET,
    },
  ],
  [
    'vgg19-bn',
    {
      build: (o) => vgg19({ ...o, batchNorm: true }),
      description: 'VGG19 with batch normalization',
      defaultInput: IMAGENET,
    },
  ],
  [
    'vgg13-cifar',
    {
      build: vgg13Cifar,
      description: "the notes' VGG13 for CIFAR-10 (dense 256-128-10)",
      defaultInput: [32, 32, 3],
      // Ten plain convolutions without batch norm: with Adam's 1e-3 a CIFAR-10 epoch stayed at
      // chance (loss 2.30, 10%); with 1e-4 it reached 46% after one epoch and 60% after two.
      adaptiveLearningRate: 1e-4,
    },
  ],
  [
    'vgg13-cifar-bn',
    {
      build: (o) => vgg13Cifar({ ...o, batchNorm: true }),
      description: 'VGG13-CIFAR with batch normalization',
      defaultInput: [32, 32, 3],
    },
  ],
  [
    'googlenet',
    {
      build: googlenet,
      description: 'GoogLeNet / Inception v1 with auxiliary classifiers (training only)',
      defaultInput: IMAGENET,
    },
  ],
  [
    'resnet18',
    { build: resnet18, description: 'ResNet-18 (basic blocks)', defaultInput: IMAGENET },
  ],
  [
    'resnet34',
    { build: resnet34, description: 'ResNet-34 (basic blocks)', defaultInput: IMAGENET },
  ],
  [
    'resnet50',
    { build: resnet50, description: 'ResNet-50 (bottleneck blocks)', defaultInput: IMAGENET },
  ],
  ['resnet101', { build: resnet101, description: 'ResNet-101', defaultInput: IMAGENET }],
  ['resnet152', { build: resnet152, description: 'ResNet-152', defaultInput: IMAGENET }],
  [
    'resnet18-cifar',
    {
      build: (o) => resnet18({ ...o, cifarStem: true }),
      description: 'ResNet-18 with the CIFAR stem (3×3 conv, no max pool)',
      defaultInput: [32, 32, 3],
    },
  ],
  ['densenet121', { build: densenet121, description: 'DenseNet-121', defaultInput: IMAGENET }],
  ['densenet169', { build: densenet169, description: 'DenseNet-169', defaultInput: IMAGENET }],
  ['densenet201', { build: densenet201, description: 'DenseNet-201', defaultInput: IMAGENET }],
  ['densenet264', { build: densenet264, description: 'DenseNet-264', defaultInput: IMAGENET }],
];
const zoo = new Map<string, ZooEntry>(entries);

/** Adds (or replaces) a zoo entry, so that createModel and the command line know the name. */
export function registerModel(name: string, entry: ZooEntry): void {
  zoo.set(name, entry);
}

/** The zoo's names (`lenet5`, `resnet18-cifar`, ...), in the order of the listing. */
export function modelNames(): string[] {
  return [...zoo.keys()];
}

/**
 * The zoo entry of a name.
 * @throws ArgumentError for an unknown name, listing the known ones
 */
export function zooEntry(name: string): ZooEntry {
  const e = zoo.get(name);
  if (!e)
    throw new ArgumentError(`unknown model '${name}'. Available: ${modelNames().join(', ')}.`);
  return e;
}

/** Builds a zoo model by name (for the classes and input size of the data at hand). */
export function createModel(name: string, options: ZooOptions = {}): Model {
  const e = zooEntry(name);
  return e.build({ inputShape: e.defaultInput, ...options });
}
