/** Small building helpers the zoo shares: conv + batch norm + activation in the functional API. */
import { layers } from '../nn/index.js';
import type { SymbolicTensor } from '../nn/layer.js';
import type { Padding } from '../ops/conv_geometry.js';

export interface ConvBNArgs {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number;
  padding?: Padding;
  /** Apply ReLU after the normalization (default true). */
  relu?: boolean;
  /** Batch-norm epsilon: torchvision's ResNet and DenseNet use 1e-5. */
  epsilon?: number;
  name?: string;
}

/** Convolution without bias → BatchNormalization → ReLU, as torchvision builds its nets. */
export function convBN(x: SymbolicTensor, a: ConvBNArgs): SymbolicTensor {
  const conv = new layers.Conv2D({
    filters: a.filters,
    kernelSize: a.kernelSize,
    strides: a.strides ?? 1,
    padding: a.padding ?? 'same',
    useBias: false,
    kernelInitializer: 'heNormal',
    ...(a.name ? { name: `${a.name}_conv` } : {}),
  });
  let y = conv.apply(x);
  y = new layers.BatchNormalization({
    epsilon: a.epsilon ?? 1e-5,
    momentum: 0.9,
    ...(a.name ? { name: `${a.name}_bn` } : {}),
  }).apply(y);
  if (a.relu !== false) y = new layers.ReLU(a.name ? { name: `${a.name}_relu` } : {}).apply(y);
  return y;
}
