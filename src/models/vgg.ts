/**
 * VGG (Simonyan and Zisserman 2014), configurations A, B, D, E = VGG11, 13, 16, 19: stacks of
 * 3×3 convolutions with 'same' padding, 2×2 max pooling between stages, then 4096-4096-classes.
 * With batchNorm, each convolution (bias kept, as torchvision's vgg*_bn) is followed by BN.
 * vgg13Cifar is the course notes' CIFAR-10 adaptation: 32×32 input, dense 256-128-10.
 */

import { Sequential } from '../model/sequential.js';
import { layers } from '../nn/index.js';
import type { Layer } from '../nn/layer.js';
import { checkZooOptions, type ZooOptions } from './lenet.js';

type Cfg = (number | 'M')[];
/** The paper's configurations: filters of each 3×3 convolution, 'M' for a 2×2 max pooling. */
export const VGG_CONFIGS: Record<'A' | 'B' | 'D' | 'E', Cfg> = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [
    64,
    64,
    'M',
    128,
    128,
    'M',
    256,
    256,
    256,
    256,
    'M',
    512,
    512,
    512,
    512,
    'M',
    512,
    512,
    512,
    512,
    'M',
  ],
};

/** Options of the VGG models (inputShape defaults to [224, 224, 3] and numClasses to 1000; vgg13Cifar: [32, 32, 3] and 10). */
export interface VGGOptions extends ZooOptions {
  /**
   * Batch normalization after each convolution (torchvision's vgg*_bn).
   * @default false
   */
  batchNorm?: boolean;
  /**
   * The dropout rate of the classifier's hidden dense layers.
   * @default 0.5
   */
  dropout?: number;
}

function features(cfg: Cfg, inputShape: number[], batchNorm: boolean): Layer[] {
  const out: Layer[] = [];
  let first = true;
  for (const v of cfg) {
    if (v === 'M') {
      out.push(new layers.MaxPooling2D({ poolSize: 2, strides: 2 }));
      continue;
    }
    out.push(
      new layers.Conv2D({
        filters: v,
        kernelSize: 3,
        padding: 'same',
        activation: batchNorm ? 'linear' : 'relu',
        kernelInitializer: 'heNormal',
        ...(first ? { inputShape } : {}),
      }),
    );
    if (batchNorm)
      out.push(new layers.BatchNormalization({ epsilon: 1e-5, momentum: 0.9 }), new layers.ReLU());
    first = false;
  }
  return out;
}

function vgg(cfgName: keyof typeof VGG_CONFIGS, name: string, options: VGGOptions): Sequential {
  checkZooOptions(name, options, ['batchNorm', 'dropout']);
  const {
    numClasses = 1000,
    inputShape = [224, 224, 3],
    batchNorm = false,
    dropout = 0.5,
  } = options;
  return new Sequential(
    [
      ...features(VGG_CONFIGS[cfgName], inputShape, batchNorm),
      new layers.Flatten(),
      new layers.Dense({ units: 4096, activation: 'relu' }),
      new layers.Dropout({ rate: dropout }),
      new layers.Dense({ units: 4096, activation: 'relu' }),
      new layers.Dropout({ rate: dropout }),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: batchNorm ? `${name}_bn` : name },
  );
}

/** VGG-11 (configuration A), 224×224×3 in by default. */
export const vgg11 = (o: VGGOptions = {}) => vgg('A', 'vgg11', o);
/** VGG-13 (configuration B). */
export const vgg13 = (o: VGGOptions = {}) => vgg('B', 'vgg13', o);
/** VGG-16 (configuration D): 138,357,544 parameters with 1000 classes. */
export const vgg16 = (o: VGGOptions = {}) => vgg('D', 'vgg16', o);
/** VGG-19 (configuration E). */
export const vgg19 = (o: VGGOptions = {}) => vgg('E', 'vgg19', o);

/** The notes' VGG13 for CIFAR-10: the ten convolutions of VGG13 on 32×32, then 256-128-10. 9,570,506 parameters. */
export function vgg13Cifar(options: VGGOptions = {}): Sequential {
  checkZooOptions('vgg13Cifar', options, ['batchNorm', 'dropout']);
  const { numClasses = 10, inputShape = [32, 32, 3], batchNorm = false, dropout = 0.5 } = options;
  return new Sequential(
    [
      ...features(VGG_CONFIGS.B, inputShape, batchNorm),
      new layers.Flatten(),
      new layers.Dense({ units: 256, activation: 'relu' }),
      new layers.Dropout({ rate: dropout }),
      new layers.Dense({ units: 128, activation: 'relu' }),
      new layers.Dropout({ rate: dropout }),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: batchNorm ? 'vgg13_cifar_bn' : 'vgg13_cifar' },
  );
}
