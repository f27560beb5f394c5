/** Activation functions by name, as layers take them (`activation: 'relu'`). */
import { elu, gelu, leakyRelu, relu, sigmoid, softmax, swish, tanh } from '../ops/activations.js';
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
  | 'swish';

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
