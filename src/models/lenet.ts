/** LeNet-5 as the course notes list it in Keras, and the notes' simple MNIST CNN. */

import { Sequential } from '../model/sequential.js';
import { layers } from '../nn/index.js';
import { checkOptions } from '../util/options.js';

/** Options every zoo model takes. */
export interface ZooOptions {
  /** Units of the last layer (a softmax). Default: 10 for the MNIST and CIFAR models, 1000 for the ImageNet ones. */
  numClasses?: number;
  /** [height, width, channels] of one input image. */
  inputShape?: number[];
}

/** Refuses a key a zoo builder does not take (ZooOptions' and its own `extra`). */
export function checkZooOptions(where: string, options: unknown, extra: string[] = []): void {
  checkOptions(where, options, ['numClasses', 'inputShape', ...extra]);
}

/**
 * LeNet-5, the notes' Keras listing (LeCun et al. 1998, modernized: tanh, average pooling,
 * softmax): conv 6@5×5 → pool → conv 16@5×5 → pool → 120 → 84 → 10. 44,426 parameters on 28×28.
 */
export function lenet5(options: ZooOptions = {}): Sequential {
  checkZooOptions('lenet5', options);
  const { numClasses = 10, inputShape = [28, 28, 1] } = options;
  return new Sequential(
    [
      new layers.Conv2D({ filters: 6, kernelSize: 5, activation: 'tanh', inputShape }),
      new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
      new layers.Conv2D({ filters: 16, kernelSize: 5, activation: 'tanh' }),
      new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
      new layers.Flatten(),
      new layers.Dense({ units: 120, activation: 'tanh' }),
      new layers.Dense({ units: 84, activation: 'tanh' }),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: 'lenet5' },
  );
}

/** The notes' simple MNIST CNN: conv 32 → pool → conv 64 → pool → conv 64 → dense 64 → 10. 93,322 parameters. */
export function mnistCnn(options: ZooOptions = {}): Sequential {
  checkZooOptions('mnistCnn', options);
  const { numClasses = 10, inputShape = [28, 28, 1] } = options;
  return new Sequential(
    [
      new layers.Conv2D({ filters: 32, kernelSize: 3, activation: 'relu', inputShape }),
      new layers.MaxPooling2D({ poolSize: 2 }),
      new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
      new layers.MaxPooling2D({ poolSize: 2 }),
      new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
      new layers.Flatten(),
      new layers.Dense({ units: 64, activation: 'relu' }),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: 'mnist_cnn' },
  );
}

/**
 * LeNet-5 as LeCun et al. (1998) describe it and the notes retell it: 32×32 input, the scaled
 * tanh 1.7159·tanh(2x/3), average pooling, 120-84-10 with softmax. 61,706 parameters.
 */
export function lenet5Classic(options: ZooOptions = {}): Sequential {
  checkZooOptions('lenet5Classic', options);
  const { numClasses = 10, inputShape = [32, 32, 1] } = options;
  const scaledTanh = () => new layers.Activation({ activation: 'scaledTanh' });
  return new Sequential(
    [
      new layers.Conv2D({ filters: 6, kernelSize: 5, inputShape }),
      scaledTanh(),
      new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
      new layers.Conv2D({ filters: 16, kernelSize: 5 }),
      scaledTanh(),
      new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
      new layers.Flatten(),
      new layers.Dense({ units: 120 }),
      scaledTanh(),
      new layers.Dense({ units: 84 }),
      scaledTanh(),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: 'lenet5_classic' },
  );
}

/** The notes' LeNet-5 with BatchNormalization after each convolution, and ReLU. */
export function lenet5BN(options: ZooOptions = {}): Sequential {
  checkZooOptions('lenet5BN', options);
  const { numClasses = 10, inputShape = [28, 28, 1] } = options;
  return new Sequential(
    [
      new layers.Conv2D({ filters: 6, kernelSize: 5, inputShape }),
      new layers.BatchNormalization(),
      new layers.ReLU(),
      new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
      new layers.Conv2D({ filters: 16, kernelSize: 5 }),
      new layers.BatchNormalization(),
      new layers.ReLU(),
      new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
      new layers.Flatten(),
      new layers.Dense({ units: 120, activation: 'relu' }),
      new layers.Dense({ units: 84, activation: 'relu' }),
      new layers.Dense({ units: numClasses, activation: 'softmax' }),
    ],
    { name: 'lenet5_bn' },
  );
}
