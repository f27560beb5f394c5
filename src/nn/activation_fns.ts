/** Activation functions by name, as layers take them (`activation: 'relu'`). */
import { elu, gelu, leakyRelu, relu, sigmoid, softmax, swish, tanh } from '../ops/activations.js';
import { mul } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';

export type ActivationName =
  | 'linear'
  | 'relu'
  | 'tanh'
  | 'sigmoid'
  | 'softmax'
  | 'elu'
  | 'leakyRelu'
  | 'gelu'
  | 'swish'
  | 'scaledTanh';

const table: Record<ActivationName, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu,
  tanh,
  sigmoid,
  softmax: (x) => softmax(x, -1),
  elu: (x) => elu(x),
  leakyRelu: (x) => leakyRelu(x),
  gelu,
  swish,
  // LeCun et al. 1998: 1.7159·tanh(2x/3), so that ±1 maps near ±1 and the slope at 0 is about 1.
  scaledTanh: (x) => mul(tanh(mul(x, 2 / 3)), 1.7159),
};

export function activationNames(): string[] {
  return Object.keys(table);
}

export function getActivation(
  name: ActivationName | undefined | null,
  where: string,
): (x: Tensor) => Tensor {
  const f = table[(name ?? 'linear') as ActivationName];
  if (!f) {
    throw new ArgumentError(
      `${where}: unknown activation '${String(name)}'. Known: ${activationNames().join(', ')}.`,
    );
  }
  return f;
}
