/** The zoo by name, as the command line uses it (`receptive train lenet5`). */
import type { Model } from '../nn/model.js';
import { ArgumentError } from '../util/errors.js';
import { lenet5, mnistCnn, type ZooOptions } from './lenet.js';

export interface ZooEntry {
  build: (options: ZooOptions) => Model;
  description: string;
  /** The input the model is meant for, when none is given. */
  defaultInput: number[];
}

const zoo = new Map<string, ZooEntry>([
  [
    'lenet5',
    {
      build: lenet5,
      description: "LeNet-5, the notes' Keras listing (tanh, average pooling, 120-84-10)",
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
]);

export function registerModel(name: string, entry: ZooEntry): void {
  zoo.set(name, entry);
}

export function modelNames(): string[] {
  return [...zoo.keys()];
}

export function zooEntry(name: string): ZooEntry {
  const e = zoo.get(name);
  if (!e)
    throw new ArgumentError(`unknown model '${name}'. Available: ${modelNames().join(', ')}.`);
  return e;
}

/** Builds a zoo model by name. */
export function createModel(name: string, options: ZooOptions = {}): Model {
  return zooEntry(name).build(options);
}
