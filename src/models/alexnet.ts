/**
 * AlexNet (Krizhevsky, Sutskever, Hinton 2012): 11×11/4, 5×5, three 3×3 convolutions, local
 * response normalization after the first two, overlapping 3×3/2 max pooling, and dropout in
 * the first two dense layers. `groups: 2` reproduces the two-GPU split (convolutions 2, 4
 * and 5 see only their own half of the channels): 60,965,224 parameters instead of 62,378,344.
 */

import { Sequential } from '../model/sequential.js';
import { layers } from '../nn/index.js';
import { checkZooOptions, type ZooOptions } from './lenet.js';

export function alexnet(
  options: ZooOptions & { groups?: 1 | 2; dropout?: number } = {},
): Sequential {
  checkZooOptions('alexnet', options, ['groups', 'dropout']);
  const { numClasses = 1000, inputShape = [227, 227, 3], groups = 1, dropout = 0.5 } = options;
  // The paper's LRN: k = 2, n = 5, α = 1e-4, β = 0.75 (α not divided by n).
  const lrn = () =>
    new layers.LocalResponseNormalization({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });
  const pool = () => new layers.MaxPooling2D({ poolSize: 3, strides: 2 });
  return new Sequential(
    [
      new layers.Conv2D({
        filters: 96,
        kernelSize: 11,
        strides: 4,
        activation: 'relu',
        inputShape,
      }),
      lrn(),
      pool(),
      new layers.Conv2D({ filters: 256, kernelSize: 5, padding: 2, groups, activation: 'relu' }),
      lrn(),
      pool(),
      new layers.Conv2D({ filters: 384, kernelSize: 3, padding: 1, activation: 'relu' }),
      new layers.Conv2D({ filters: 384, kernelSize: 3, padding: 1, groups, activation: 'relu' }),
      new layers.Conv2D({ filters: 256, kernelSize: 3, padding: 1, groups, activation: 'relu' }),
      pool(),
      new layers.Flatten(),
      new layers.Dropout({ rate: dropout }),
      new layers.Dense({ units: 4096, activation: 'relu' }),
      new layers.Dropout({ rate: dropout }),
      new layers.Dense({ units: 4096, activation: 'relu' }),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: groups === 2 ? 'alexnet_groups2' : 'alexnet' },
  );
}
