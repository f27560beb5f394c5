/** Activation functions by name, as layers take them (`activation: 'relu'`). */
import { elu, gelu, leakyRelu, relu, sigmoid, softmax, swish, tanh } from '../ops/activations.js';
import { mul } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { camelName, didYouMean, type SnakeCase } from '../util/options.js';

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

/** An activation as layers take it: receptive's name or Keras's ('leaky_relu'). */
export type ActivationArg = ActivationName | SnakeCase<ActivationName>;

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

/**
 * The activation's own name for `name`, which may be Keras's spelling ('leaky_relu'); an
 * unknown name is an ArgumentError that names `where` and the closest known name.
 */
export function activationName(name: string | undefined | null, where: string): ActivationName {
  const given = name ?? 'linear';
  const camel = typeof given === 'string' ? camelName(given) : '';
  if (typeof given === 'string' && Object.hasOwn(table, given)) return given as ActivationName;
  if (Object.hasOwn(table, camel)) return camel as ActivationName;
  throw new ArgumentError(
    `${where}: unknown activation '${String(name)}'.${typeof name === 'string' ? didYouMean(name, activationNames()) : ''} Known: ${activationNames().join(', ')}.`,
  );
}

export function getActivation(
  name: ActivationArg | undefined | null,
  where: string,
): (x: Tensor) => Tensor {
  return table[activationName(name, where)];
}
