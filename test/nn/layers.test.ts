/**
 * Every layer class exported from src/nn/layers through the generic harness
 * (test/nn/layer_harness.ts): shapes, hand-counted parameters, config round trip, gradient
 * check and one training step, over a table of configurations. The last test fails when an
 * exported layer class has no row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { type LayerCase, runLayerTest } from './layer_harness.js';
import { TENSOR_LAYER_CASES } from './tensor_layer_cases.js';

const L = rc.layers;

// Parameter counts are written out as the hand computation: kh·kw·in·out + bias, etc.
const CASES: LayerCase[] = [
  // ---- core
  {
    name: 'InputLayer',
    make: () => new L.InputLayer({ inputShape: [3, 4] }),
    input: [2, 3, 4],
    params: 0,
  },
  {
    name: 'Dense relu',
    make: () => new L.Dense({ units: 5, activation: 'relu' }),
    input: [3, 4],
    params: 4 * 5 + 5,
  },
  {
    name: 'Dense tanh, useBias false',
    make: () => new L.Dense({ units: 2, activation: 'tanh', useBias: false }),
    input: [3, 6],
    params: 6 * 2,
  },
  {
    name: 'Dense sigmoid on a rank-3 input',
    make: () => new L.Dense({ units: 3, activation: 'sigmoid' }),
    input: [2, 3, 4],
    params: 4 * 3 + 3,
  },
  {
    name: 'Dense softmax, heNormal',
    make: () => new L.Dense({ units: 4, activation: 'softmax', kernelInitializer: 'heNormal' }),
    input: [2, 3],
    params: 3 * 4 + 4,
  },
  { name: 'Flatten', make: () => new L.Flatten(), input: [2, 3, 2, 2], params: 0 },
  {
    name: 'Reshape with -1',
    make: () => new L.Reshape({ targetShape: [4, -1] }),
    input: [2, 3, 4],
    params: 0,
  },
  {
    name: 'Reshape to images',
    make: () => new L.Reshape({ targetShape: [2, 3, 2] }),
    input: [2, 12],
    params: 0,
  },
  {
    name: 'Activation tanh',
    make: () => new L.Activation({ activation: 'tanh' }),
    input: [2, 5],
    params: 0,
  },
  {
    name: 'Activation softmax',
    make: () => new L.Activation({ activation: 'softmax' }),
    input: [2, 3, 4],
    params: 0,
  },
  {
    name: 'Activation gelu',
    make: () => new L.Activation({ activation: 'gelu' }),
    input: [2, 4],
    params: 0,
  },
  { name: 'ReLU', make: () => new L.ReLU(), input: [2, 3, 3], params: 0 },
  {
    name: 'ReLU capped and leaky',
    make: () => new L.ReLU({ maxValue: 1, negativeSlope: 0.1 }),
    input: [2, 10],
    params: 0,
  },
  {
    name: 'ReLU with a slope above 1',
    make: () => new L.ReLU({ negativeSlope: 1.5 }),
    input: [2, 6],
    params: 0,
  },
  {
    name: 'Dropout (seeded, training too)',
    make: () => new L.Dropout({ rate: 0.5, seed: 3 }),
    input: [2, 3, 4],
    params: 0,
    gradTraining: true,
  },

  // ---- convolutions
  {
    name: 'Conv2D 3x3 valid',
    make: () => new L.Conv2D({ filters: 3, kernelSize: 3 }),
    input: [2, 6, 6, 2],
    params: 3 * 3 * 2 * 3 + 3,
  },
  {
    name: 'Conv2D stride 2, same (odd size: asymmetric padding), relu',
    make: () =>
      new L.Conv2D({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
    input: [2, 7, 7, 3],
    params: 3 * 3 * 3 * 4 + 4,
  },
  {
    name: 'Conv2D dilation 2, same, no bias',
    make: () =>
      new L.Conv2D({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false }),
    input: [1, 7, 6, 2],
    params: 3 * 3 * 2 * 2,
  },
  {
    name: 'Conv2D groups 2, 3x2 kernel, tanh',
    make: () => new L.Conv2D({ filters: 6, kernelSize: [3, 2], groups: 2, activation: 'tanh' }),
    input: [2, 5, 5, 4],
    params: 3 * 2 * (4 / 2) * 6 + 6,
  },
  {
    name: 'Conv2D explicit padding, strides [2, 1]',
    make: () =>
      new L.Conv2D({
        filters: 2,
        kernelSize: 3,
        strides: [2, 1],
        padding: [
          [1, 0],
          [2, 1],
        ],
      }),
    input: [1, 5, 5, 2],
    params: 3 * 3 * 2 * 2 + 2,
  },
  {
    name: 'DepthwiseConv2D multiplier 2, stride 2, same',
    make: () =>
      new L.DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
    input: [2, 6, 6, 3],
    params: 3 * 3 * 3 * 2 + 3 * 2,
  },
  {
    name: 'DepthwiseConv2D dilation 2, valid, no bias',
    make: () => new L.DepthwiseConv2D({ kernelSize: 3, dilationRate: 2, useBias: false }),
    input: [1, 7, 7, 2],
    params: 3 * 3 * 2,
  },
  {
    name: 'SeparableConv2D multiplier 2, same, relu',
    make: () =>
      new L.SeparableConv2D({
        filters: 4,
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        activation: 'relu',
      }),
    input: [2, 5, 5, 3],
    params: 3 * 3 * 3 * 2 + 1 * 1 * 6 * 4 + 4,
  },
  {
    name: 'SeparableConv2D stride 2, valid, no bias',
    make: () => new L.SeparableConv2D({ filters: 3, kernelSize: 3, strides: 2, useBias: false }),
    input: [1, 7, 7, 2],
    params: 3 * 3 * 2 + 1 * 1 * 2 * 3,
  },
  {
    name: 'Conv2DTranspose stride 2, same',
    make: () => new L.Conv2DTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
    input: [2, 3, 3, 2],
    params: 3 * 3 * 3 * 2 + 3,
  },
  {
    name: 'Conv2DTranspose stride 2, valid, outputPadding 1, no bias',
    make: () =>
      new L.Conv2DTranspose({
        filters: 2,
        kernelSize: 3,
        strides: 2,
        outputPadding: 1,
        useBias: false,
      }),
    input: [1, 3, 4, 2],
    params: 3 * 3 * 2 * 2,
  },
  {
    name: 'Conv2DTranspose dilation 2, sigmoid',
    make: () =>
      new L.Conv2DTranspose({ filters: 2, kernelSize: 2, dilationRate: 2, activation: 'sigmoid' }),
    input: [1, 3, 3, 3],
    params: 2 * 2 * 2 * 3 + 2,
  },
  {
    name: 'SpatialSeparableConv2D 3, same',
    make: () => new L.SpatialSeparableConv2D({ filters: 3, kernelSize: 3, padding: 'same' }),
    input: [2, 5, 5, 2],
    params: 3 * 1 * 2 * 3 + 1 * 3 * 3 * 3 + 3,
  },
  {
    name: 'SpatialSeparableConv2D stride 2, valid, explicit padding',
    make: () =>
      new L.SpatialSeparableConv2D({
        filters: 2,
        kernelSize: 3,
        strides: 2,
        padding: [
          [1, 1],
          [0, 2],
        ],
      }),
    input: [1, 7, 6, 2],
    params: 3 * 1 * 2 * 2 + 1 * 3 * 2 * 2 + 2,
  },

  {
    name: 'SpatialSeparableConv2D [3, 2] kernel, dilation 2, relu',
    make: () =>
      new L.SpatialSeparableConv2D({
        filters: 2,
        kernelSize: [3, 2],
        dilationRate: 2,
        padding: 'same',
        activation: 'relu',
      }),
    input: [2, 5, 4, 3],
    params: 3 * 1 * 3 * 2 + 1 * 2 * 2 * 2 + 2,
  },

  // ---- pooling and resampling
  { name: 'MaxPooling2D 2x2', make: () => new L.MaxPooling2D(), input: [2, 4, 4, 3], params: 0 },
  {
    name: 'MaxPooling2D 3x3 stride 2, same',
    make: () => new L.MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }),
    input: [1, 5, 6, 2],
    params: 0,
  },
  {
    name: 'MaxPooling2D dilated 2x3 window, explicit padding',
    make: () =>
      new L.MaxPooling2D({ poolSize: [2, 3], strides: [2, 1], padding: 1, dilationRate: [2, 2] }),
    input: [1, 6, 7, 2],
    params: 0,
  },
  {
    name: 'AveragePooling2D 2x2 stride 1',
    make: () => new L.AveragePooling2D({ poolSize: 2, strides: 1 }),
    input: [2, 4, 5, 2],
    params: 0,
  },
  {
    name: 'AveragePooling2D 3x3 stride 2, same (divides by real pixels)',
    make: () => new L.AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' }),
    input: [1, 5, 5, 2],
    params: 0,
  },
  {
    name: 'GlobalAveragePooling2D',
    make: () => new L.GlobalAveragePooling2D(),
    input: [2, 3, 4, 5],
    params: 0,
  },
  {
    name: 'GlobalAveragePooling2D keepDims',
    make: () => new L.GlobalAveragePooling2D({ keepDims: true }),
    input: [2, 3, 3, 2],
    params: 0,
  },
  {
    name: 'GlobalMaxPooling2D',
    make: () => new L.GlobalMaxPooling2D(),
    input: [2, 3, 3, 4],
    params: 0,
  },
  {
    name: 'GlobalMaxPooling2D keepDims',
    make: () => new L.GlobalMaxPooling2D({ keepDims: true }),
    input: [1, 2, 3, 2],
    params: 0,
  },
  {
    name: 'ZeroPadding2D default',
    make: () => new L.ZeroPadding2D(),
    input: [1, 3, 3, 2],
    params: 0,
  },
  {
    name: 'ZeroPadding2D asymmetric',
    make: () =>
      new L.ZeroPadding2D({
        padding: [
          [1, 0],
          [2, 1],
        ],
      }),
    input: [2, 2, 3, 1],
    params: 0,
  },
  {
    name: 'Padding2D reflect, asymmetric',
    make: () =>
      new L.Padding2D({
        padding: [
          [2, 1],
          [0, 2],
        ],
      }),
    input: [2, 3, 4, 2],
    params: 0,
  },
  {
    name: 'Padding2D edge',
    make: () => new L.Padding2D({ padding: [1, 3], mode: 'edge' }),
    input: [1, 2, 3, 2],
    params: 0,
  },
  {
    name: 'Padding2D constant value',
    make: () => new L.Padding2D({ padding: 1, mode: 'constant', value: -2.5 }),
    input: [1, 2, 2, 3],
    params: 0,
  },
  {
    name: 'UpSampling2D 2x3',
    make: () => new L.UpSampling2D({ size: [2, 3] }),
    input: [1, 2, 2, 2],
    params: 0,
  },
  {
    name: 'UpSampling2D bilinear 2x3 (half-pixel)',
    make: () => new L.UpSampling2D({ size: [2, 3], interpolation: 'bilinear' }),
    input: [2, 3, 2, 2],
    params: 0,
  },
  {
    name: 'UpSampling2D bilinear asymmetric',
    make: () =>
      new L.UpSampling2D({ size: 2, interpolation: 'bilinear', coordinates: 'asymmetric' }),
    input: [1, 2, 3, 2],
    params: 0,
  },
  {
    name: 'UpSampling2D nearest align-corners',
    make: () => new L.UpSampling2D({ size: [3, 2], coordinates: 'align-corners' }),
    input: [1, 2, 3, 1],
    params: 0,
  },
  {
    name: 'Resizing bilinear, up and down',
    make: () => new L.Resizing({ height: 7, width: 2 }),
    input: [2, 3, 5, 2],
    params: 0,
  },
  {
    name: 'Resizing bilinear align-corners',
    make: () => new L.Resizing({ height: 5, width: 4, coordinates: 'align-corners' }),
    input: [1, 3, 3, 2],
    params: 0,
  },
  {
    name: 'Resizing nearest',
    make: () => new L.Resizing({ height: 5, width: 2, interpolation: 'nearest' }),
    input: [1, 3, 4, 2],
    params: 0,
  },
  {
    name: 'Resizing with factors of its own',
    make: () =>
      new L.Resizing({ height: 5, width: 3, coordinates: 'asymmetric', scale: [1.7, 0.6] }),
    input: [1, 3, 5, 2],
    params: 0,
  },

  // ---- normalization
  {
    name: 'BatchNormalization on images',
    make: () => new L.BatchNormalization(),
    input: [4, 3, 3, 5],
    params: 4 * 5,
    gradTraining: true,
  },
  {
    name: 'BatchNormalization without center and scale',
    make: () => new L.BatchNormalization({ center: false, scale: false }),
    input: [6, 4],
    params: 2 * 4,
    gradTraining: true,
  },
  {
    name: 'BatchNormalization scale false, momentum 0.9',
    make: () => new L.BatchNormalization({ scale: false, momentum: 0.9, epsilon: 1e-5 }),
    input: [3, 2, 2, 3],
    params: 3 * 3,
    gradTraining: true,
  },
  {
    name: 'LocalResponseNormalization',
    make: () =>
      new L.LocalResponseNormalization({ depthRadius: 2, bias: 2, alpha: 0.1, beta: 0.75 }),
    input: [1, 3, 3, 6],
    params: 0,
  },

  // ---- merging
  {
    name: 'Add of three',
    make: () => new L.Add(),
    input: [
      [2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ],
    params: 0,
  },
  {
    name: 'Multiply',
    make: () => new L.Multiply(),
    input: [
      [2, 2, 2, 3],
      [2, 2, 2, 3],
    ],
    params: 0,
  },
  {
    name: 'Multiply broadcasting gates [b, 1, 1, c]',
    make: () => new L.Multiply(),
    input: [
      [2, 3, 3, 4],
      [2, 1, 1, 4],
    ],
    params: 0,
  },
  {
    name: 'Add broadcasting a row and a column',
    make: () => new L.Add(),
    input: [
      [3, 4],
      [1, 4],
      [3, 1],
    ],
    params: 0,
  },
  {
    name: 'Concatenate channels',
    make: () => new L.Concatenate(),
    input: [
      [2, 2, 2, 3],
      [2, 2, 2, 1],
    ],
    params: 0,
  },
  {
    name: 'Concatenate axis 1',
    make: () => new L.Concatenate({ axis: 1 }),
    input: [
      [2, 1, 3],
      [2, 2, 3],
    ],
    params: 0,
  },

  // ---- attention
  {
    name: 'SqueezeExcite ratio 4',
    make: () => new L.SqueezeExcite({ ratio: 4 }),
    input: [2, 3, 3, 8],
    params: 8 * 2 + 2 + 2 * 8 + 8,
  },
  {
    name: 'SqueezeExcite reduction 16 on 6 channels (one hidden unit)',
    make: () => new L.SqueezeExcite({ reduction: 16 }),
    input: [2, 2, 3, 6],
    params: 6 * 1 + 1 + 1 * 6 + 6,
  },
  {
    name: 'CBAM defaults (r 8, 7x7)',
    make: () => new L.CBAM(),
    input: [2, 5, 5, 16],
    params: 16 * 2 + 2 * 16 + 7 * 7 * 2,
  },
  {
    name: 'CBAM r 2, 3x3, MLP biases',
    make: () => new L.CBAM({ ratio: 2, kernelSize: 3, useBias: true }),
    input: [1, 4, 4, 4],
    params: 4 * 2 + 2 + 2 * 4 + 4 + 3 * 3 * 2,
  },

  // ---- octave convolution (high and low halves; C_low = int(alpha·C))
  {
    name: 'OctaveConv2D first layer, high output',
    make: () => new L.OctaveConv2D({ filters: 4, kernelSize: 3, alphaIn: 0, alphaOut: 0.5 }),
    input: [2, 4, 4, 3],
    params: 3 * 3 * 3 * 2 + 2,
  },
  {
    name: 'OctaveConv2D first layer, low output, relu',
    make: () =>
      new L.OctaveConv2D({
        filters: 4,
        kernelSize: 3,
        alphaIn: 0,
        alphaOut: 0.5,
        output: 'low',
        activation: 'relu',
      }),
    input: [2, 4, 4, 3],
    params: 3 * 3 * 3 * 2 + 2,
  },
  {
    name: 'OctaveConv2D middle, high output',
    make: () => new L.OctaveConv2D({ filters: 6, kernelSize: 3 }),
    input: [
      [2, 4, 4, 2],
      [2, 2, 2, 2],
    ],
    params: 3 * 3 * 2 * 3 + 3 * 3 * 2 * 3 + 3,
  },
  {
    name: 'OctaveConv2D middle, low output',
    make: () => new L.OctaveConv2D({ filters: 6, kernelSize: 3, output: 'low' }),
    input: [
      [2, 4, 4, 2],
      [2, 2, 2, 2],
    ],
    params: 3 * 3 * 2 * 3 + 3 * 3 * 2 * 3 + 3,
  },
  {
    name: 'OctaveConv2D last layer (alphaOut 0), 1x1 valid, alphaIn 0.25, no bias',
    make: () =>
      new L.OctaveConv2D({
        filters: 3,
        kernelSize: 1,
        alphaIn: 0.25,
        alphaOut: 0,
        padding: 'valid',
        useBias: false,
      }),
    input: [
      [1, 4, 4, 3],
      [1, 2, 2, 1],
    ],
    params: 1 * 1 * 3 * 3 + 1 * 1 * 1 * 3,
  },
  {
    name: 'OctaveConv2D stride 2, high output',
    make: () => new L.OctaveConv2D({ filters: 4, kernelSize: 3, strides: 2 }),
    input: [
      [1, 4, 4, 2],
      [1, 2, 2, 2],
    ],
    params: 3 * 3 * 2 * 2 + 3 * 3 * 2 * 2 + 2,
  },
  {
    name: 'OctaveConv2D stride 2, low output, tanh',
    make: () =>
      new L.OctaveConv2D({
        filters: 4,
        kernelSize: 3,
        strides: 2,
        output: 'low',
        activation: 'tanh',
      }),
    input: [
      [1, 8, 8, 2],
      [1, 4, 4, 2],
    ],
    params: 3 * 3 * 2 * 2 + 3 * 3 * 2 * 2 + 2,
  },

  // ---- inception
  {
    name: 'InceptionModule (2, 2→3, 1→2, 2)',
    make: () =>
      new L.InceptionModule({
        filters1x1: 2,
        filters3x3Reduce: 2,
        filters3x3: 3,
        filters5x5Reduce: 1,
        filters5x5: 2,
        poolProjection: 2,
      }),
    input: [2, 4, 4, 3],
    // 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection
    params:
      3 * 2 + 2 + (3 * 2 + 2) + (9 * 2 * 3 + 3) + (3 * 1 + 1) + (25 * 1 * 2 + 2) + (3 * 2 + 2),
  },
  {
    name: 'InceptionModule with batch normalization, tanh',
    make: () =>
      new L.InceptionModule({
        filters1x1: 2,
        filters3x3Reduce: 2,
        filters3x3: 3,
        filters5x5Reduce: 1,
        filters5x5: 2,
        poolProjection: 2,
        batchNorm: true,
        activation: 'tanh',
      }),
    input: [2, 3, 3, 3],
    // The same kernels without biases, and 4 values (gamma, beta, moving mean, variance) per conv channel.
    params: 3 * 2 + 3 * 2 + 9 * 2 * 3 + 3 * 1 + 25 * 1 * 2 + 3 * 2 + 4 * (2 + 2 + 3 + 1 + 2 + 2),
    gradTraining: true,
  },
];

CASES.push(...TENSOR_LAYER_CASES);

for (const c of CASES) {
  test(`layer harness: ${c.name}`, () => runLayerTest(c));
}

test('layer harness: every layer class exported from rc.layers has a row', () => {
  const exported = Object.entries(rc.layers).filter(
    ([, v]) => typeof v === 'function' && v.prototype instanceof rc.Layer,
  );
  assert.ok(exported.length >= 27, `expected the built-in layers, found ${exported.length}`);
  const tested = new Set(CASES.map((c) => c.make().constructor));
  const missing = exported.filter(([, cls]) => !tested.has(cls)).map(([name]) => name);
  assert.deepEqual(missing, [], `layer classes without a harness row: ${missing.join(', ')}`);
});
