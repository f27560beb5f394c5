/**
 * DenseNet-BC (Huang et al. 2017) as torchvision builds it: growth rate 32, each dense layer
 * BN → ReLU → 1×1 convolution to 4·growth channels → BN → ReLU → 3×3 convolution to growth
 * channels, its output concatenated to its input; transitions halve the channels (compression
 * 0.5) and pool 2×2; BN → ReLU → global average pooling → dense at the end.
 */

import { Model } from '../model/model.js';
import { Input } from '../nn/functional.js';
import { layers } from '../nn/index.js';
import type { SymbolicTensor } from '../nn/layer.js';
import { convBN } from './blocks.js';
import { checkZooOptions, type ZooOptions } from './lenet.js';

/** Options of the DenseNets (inputShape defaults to [224, 224, 3], numClasses to 1000). */
export interface DenseNetOptions extends ZooOptions {
  /**
   * Channels each dense layer adds.
   * @default 32
   */
  growthRate?: number;
}

function bnRelu(x: SymbolicTensor, name: string): SymbolicTensor {
  const y = new layers.BatchNormalization({
    epsilon: 1e-5,
    momentum: 0.9,
    name: `${name}_bn`,
  }).apply(x);
  return new layers.ReLU({ name: `${name}_relu` }).apply(y);
}

function conv(x: SymbolicTensor, filters: number, k: number, name: string): SymbolicTensor {
  return new layers.Conv2D({
    filters,
    kernelSize: k,
    padding: k === 1 ? 0 : 1,
    useBias: false,
    kernelInitializer: 'heNormal',
    name,
  }).apply(x);
}

function densenet(name: string, blocks: number[], options: DenseNetOptions): Model {
  checkZooOptions(name, options, ['growthRate']);
  const { numClasses = 1000, inputShape = [224, 224, 3], growthRate: k = 32 } = options;
  const input = Input(inputShape, { name: 'input' });
  let x = convBN(input, { filters: 64, kernelSize: 7, strides: 2, padding: 3, name: 'stem' });
  x = new layers.MaxPooling2D({ poolSize: 3, strides: 2, padding: 1, name: 'stem_pool' }).apply(x);
  let channels = 64;
  blocks.forEach((n, b) => {
    for (let i = 0; i < n; i++) {
      const p = `block${b + 1}_layer${i + 1}`;
      let y = conv(bnRelu(x, `${p}_a`), 4 * k, 1, `${p}_conv1`);
      y = conv(bnRelu(y, `${p}_b`), k, 3, `${p}_conv2`);
      x = new layers.Concatenate({ name: `${p}_concat` }).apply([x, y]);
      channels += k;
    }
    if (b < blocks.length - 1) {
      channels = Math.floor(channels / 2);
      x = conv(bnRelu(x, `transition${b + 1}`), channels, 1, `transition${b + 1}_conv`);
      x = new layers.AveragePooling2D({
        poolSize: 2,
        strides: 2,
        name: `transition${b + 1}_pool`,
      }).apply(x);
    }
  });
  x = bnRelu(x, 'final');
  x = new layers.GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  const out = new layers.Dense({ units: numClasses, activation: 'softmax', name: 'fc' }).apply(x);
  return new Model({ inputs: input, outputs: out, name });
}

/** DenseNet-121: dense blocks of [6, 12, 24, 16] layers. */
export const densenet121 = (o: DenseNetOptions = {}) => densenet('densenet121', [6, 12, 24, 16], o);
/** DenseNet-169: [6, 12, 32, 32]. */
export const densenet169 = (o: DenseNetOptions = {}) => densenet('densenet169', [6, 12, 32, 32], o);
/** DenseNet-201: [6, 12, 48, 32]. */
export const densenet201 = (o: DenseNetOptions = {}) => densenet('densenet201', [6, 12, 48, 32], o);
/** DenseNet-264: [6, 12, 64, 48]. */
export const densenet264 = (o: DenseNetOptions = {}) => densenet('densenet264', [6, 12, 64, 48], o);
