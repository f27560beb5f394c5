/**
 * ResNet (He et al. 2015) as torchvision builds it: a 7×7/2 stem and 3×3/2 max pool, four
 * stages of basic blocks (ResNet-18, 34) or bottleneck blocks (50, 101, 152), projection
 * shortcuts (1×1 convolution + BN) where the shape changes, global average pooling, one dense
 * layer. Padding is torchvision's (symmetric), so PyTorch weights give the same outputs.
 * `cifarStem` replaces the stem by a 3×3/1 convolution without pooling, for 32×32 images.
 */

import { Model } from '../model/model.js';
import { Input } from '../nn/functional.js';
import { layers } from '../nn/index.js';
import type { SymbolicTensor } from '../nn/layer.js';
import { convBN } from './blocks.js';
import { checkZooOptions, type ZooOptions } from './lenet.js';

/** Options of the ResNets (numClasses defaults to 1000). */
export interface ResNetOptions extends ZooOptions {
  /**
   * Replace the 7×7/2 stem and its pooling by a 3×3/1 convolution, for 32×32 images (inputShape
   * then defaults to [32, 32, 3] instead of [224, 224, 3]).
   * @default false
   */
  cifarStem?: boolean;
}

function basicBlock(
  x: SymbolicTensor,
  planes: number,
  stride: number,
  name: string,
): SymbolicTensor {
  let y = convBN(x, {
    filters: planes,
    kernelSize: 3,
    strides: stride,
    padding: 1,
    name: `${name}_1`,
  });
  y = convBN(y, { filters: planes, kernelSize: 3, padding: 1, relu: false, name: `${name}_2` });
  const inC = x.shape[3];
  const shortcut =
    stride !== 1 || inC !== planes
      ? convBN(x, {
          filters: planes,
          kernelSize: 1,
          strides: stride,
          padding: 0,
          relu: false,
          name: `${name}_down`,
        })
      : x;
  return new layers.ReLU({ name: `${name}_out` }).apply(
    new layers.Add({ name: `${name}_add` }).apply([y, shortcut]),
  );
}

function bottleneck(
  x: SymbolicTensor,
  planes: number,
  stride: number,
  name: string,
): SymbolicTensor {
  let y = convBN(x, { filters: planes, kernelSize: 1, padding: 0, name: `${name}_1` });
  y = convBN(y, { filters: planes, kernelSize: 3, strides: stride, padding: 1, name: `${name}_2` });
  y = convBN(y, { filters: planes * 4, kernelSize: 1, padding: 0, relu: false, name: `${name}_3` });
  const inC = x.shape[3];
  const shortcut =
    stride !== 1 || inC !== planes * 4
      ? convBN(x, {
          filters: planes * 4,
          kernelSize: 1,
          strides: stride,
          padding: 0,
          relu: false,
          name: `${name}_down`,
        })
      : x;
  return new layers.ReLU({ name: `${name}_out` }).apply(
    new layers.Add({ name: `${name}_add` }).apply([y, shortcut]),
  );
}

function resnet(
  name: string,
  block: 'basic' | 'bottleneck',
  counts: number[],
  options: ResNetOptions,
): Model {
  checkZooOptions(name, options, ['cifarStem']);
  const { numClasses = 1000, cifarStem = false } = options;
  const inputShape = options.inputShape ?? (cifarStem ? [32, 32, 3] : [224, 224, 3]);
  const input = Input(inputShape, { name: 'input' });
  let x: SymbolicTensor;
  if (cifarStem) {
    x = convBN(input, { filters: 64, kernelSize: 3, padding: 1, name: 'stem' });
  } else {
    x = convBN(input, { filters: 64, kernelSize: 7, strides: 2, padding: 3, name: 'stem' });
    x = new layers.MaxPooling2D({ poolSize: 3, strides: 2, padding: 1, name: 'stem_pool' }).apply(
      x,
    );
  }
  const make = block === 'basic' ? basicBlock : bottleneck;
  [64, 128, 256, 512].forEach((planes, stage) => {
    for (let i = 0; i < counts[stage]!; i++) {
      x = make(x, planes, i === 0 && stage > 0 ? 2 : 1, `stage${stage + 1}_block${i + 1}`);
    }
  });
  x = new layers.GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  const out = new layers.Dense({ units: numClasses, activation: 'softmax', name: 'fc' }).apply(x);
  return new Model({ inputs: input, outputs: out, name: cifarStem ? `${name}_cifar` : name });
}

/** ResNet-18: basic blocks [2, 2, 2, 2], 11,689,512 parameters with 1000 classes. */
export const resnet18 = (o: ResNetOptions = {}) => resnet('resnet18', 'basic', [2, 2, 2, 2], o);
/** ResNet-34: basic blocks [3, 4, 6, 3]. */
export const resnet34 = (o: ResNetOptions = {}) => resnet('resnet34', 'basic', [3, 4, 6, 3], o);
/** ResNet-50: bottleneck blocks [3, 4, 6, 3]. */
export const resnet50 = (o: ResNetOptions = {}) =>
  resnet('resnet50', 'bottleneck', [3, 4, 6, 3], o);
/** ResNet-101: bottleneck blocks [3, 4, 23, 3]. */
export const resnet101 = (o: ResNetOptions = {}) =>
  resnet('resnet101', 'bottleneck', [3, 4, 23, 3], o);
/** ResNet-152: bottleneck blocks [3, 8, 36, 3]. */
export const resnet152 = (o: ResNetOptions = {}) =>
  resnet('resnet152', 'bottleneck', [3, 8, 36, 3], o);
