/**
 * Layer-harness rows for the layers imported graphs are made of (Permute, Slice,
 * ConstantArithmetic, the two-input merges, and the activation layers); layers.test.ts runs them with
 * every other layer's.
 */
import * as rc from '../../src/index.js';
import type { LayerCase } from './layer_harness.js';

const L = rc.layers;

export const TENSOR_LAYER_CASES: LayerCase[] = [
  {
    name: 'Permute [3, 1, 2]',
    make: () => new L.Permute({ dims: [3, 1, 2] }),
    input: [2, 3, 4, 5],
    params: 0,
  },
  {
    name: 'Slice of height and channels',
    make: () => new L.Slice({ begin: [1, 0, 2], size: [2, -1, 3] }),
    input: [2, 4, 3, 5],
    params: 0,
  },
  {
    name: 'Softmax over axis 1',
    make: () => new L.Softmax({ axis: 1 }),
    input: [2, 3, 4],
    params: 0,
  },
  {
    name: 'LogSoftmax over the last axis',
    make: () => new L.LogSoftmax(),
    input: [2, 5],
    params: 0,
  },
  { name: 'ELU alpha 2', make: () => new L.ELU({ alpha: 2 }), input: [2, 6], params: 0 },
  {
    name: 'Clip -0.5..0.7',
    make: () => new L.Clip({ min: -0.5, max: 0.7 }),
    input: [2, 6],
    params: 0,
    inputScale: 0.3,
  },
  {
    name: 'PReLU per channel',
    make: () => new L.PReLU({ alphaShape: [3] }),
    input: [2, 2, 2, 3],
    params: 3,
  },
  {
    name: 'HardSigmoid',
    make: () => new L.HardSigmoid({ alpha: 0.3, beta: 0.4 }),
    input: [2, 6],
    params: 0,
    inputScale: 0.5,
  },
  { name: 'HardSwish', make: () => new L.HardSwish(), input: [2, 6], params: 0 },
  { name: 'Softplus', make: () => new L.Softplus(), input: [2, 6], params: 0 },
  {
    name: 'ConstantArithmetic subtract, constant first, trainable',
    make: () =>
      new L.ConstantArithmetic({
        op: 'subtract',
        constantShape: [1, 3],
        constantFirst: true,
        trainableConstant: true,
      }),
    input: [2, 4, 3],
    params: 3,
  },
  {
    name: 'ConstantArithmetic divide',
    make: () =>
      new L.ConstantArithmetic({ op: 'divide', constantShape: [3], trainableConstant: true }),
    input: [2, 3],
    params: 3,
  },
  {
    name: 'Subtract',
    make: () => new L.Subtract(),
    input: [
      [2, 3],
      [2, 3],
    ],
    params: 0,
  },
  {
    name: 'Maximum of three, broadcasting',
    make: () => new L.Maximum(),
    input: [
      [2, 3, 4, 2],
      [2, 1, 4, 2],
      [2, 3, 4, 1],
    ],
    params: 0,
  },
  {
    name: 'Minimum',
    make: () => new L.Minimum(),
    input: [
      [2, 5],
      [2, 5],
    ],
    params: 0,
  },
  {
    name: 'Divide, broadcasting the divisor',
    make: () => new L.Divide(),
    input: [
      [2, 3, 3, 2],
      [2, 1, 1, 2],
    ],
    params: 0,
    inputScale: 0.3,
    inputShift: 2,
  },
  {
    name: 'Power',
    make: () => new L.Power(),
    input: [
      [2, 4],
      [2, 4],
    ],
    params: 0,
    inputScale: 0.3,
    inputShift: 1.5,
  },
  {
    name: 'ConstantArithmetic power, trainable',
    make: () =>
      new L.ConstantArithmetic({ op: 'power', constantShape: [3], trainableConstant: true }),
    input: [2, 3],
    params: 3,
    inputScale: 0.3,
    inputShift: 1.5,
  },
  {
    name: 'ConstantArithmetic maximum',
    make: () => new L.ConstantArithmetic({ op: 'maximum', constantShape: [2, 1] }),
    input: [2, 2, 3],
    params: 2,
  },
  {
    name: 'ConstantArithmetic minimum, constant first',
    make: () =>
      new L.ConstantArithmetic({
        op: 'minimum',
        constantShape: [],
        constantFirst: true,
        trainableConstant: true,
      }),
    input: [2, 3],
    params: 1,
  },
];
