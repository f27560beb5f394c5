/**
 * The browser-safe subset of the public API, for bundlers (the playground in web/ uses it).
 * Everything of src/index.ts that does not touch Node: tensors and ops, layers and models,
 * the zoo, optimizers and training, the classic kernels, the convolution explainer, the IDX
 * parser and safetensors. Left out: file-system loaders (rc.data.loadMnist, rc.loadModel,
 * model.save), PNG/JPEG codecs (pngjs), the charts and report (vega) and ONNX export; decode
 * images with the browser's own canvas instead.
 */
import './autograd.js'; // installs Tensor.backward

export { checkNumerics, isGradEnabled, noGrad } from './autograd.js';
export type { Backend, ConvInfo, DType, PoolInfo, Storage } from './backend/backend.js';
export { backendNames, getBackend, registerBackend, setBackend } from './backend/registry.js';

import { Dataset } from './data/dataset.js';
import { parseIdx } from './data/idx.js';

/** The data pieces that need no file system: the Dataset pipeline and the IDX parser. */
export const data = { Dataset, parseIdx };

export {
  type DecodeOptions,
  decodeSafetensors,
  type EncodableArray,
  encodeSafetensors,
  FormatError,
  type NamedArray,
} from './io/safetensors.js';
export type { ModelFile } from './io/save_load.js';
export * as models from './models/index.js';
export * from './nn/index.js';
export {
  elu,
  gelu,
  leakyRelu,
  logSoftmax,
  relu,
  sigmoid,
  softmax,
  swish,
  tanh,
} from './ops/activations.js';
export type { Conv2DOptions, Conv2DTransposeOptions, DepthwiseConv2DOptions } from './ops/conv.js';
export { conv2d, conv2dTranspose, depthwiseConv2d } from './ops/conv.js';
export type { Padding } from './ops/conv_geometry.js';
export { dropout } from './ops/dropout.js';
export {
  abs,
  add,
  div,
  equal,
  erf,
  exp,
  greater,
  log,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  rsqrt,
  sign,
  sqrt,
  square,
  sub,
  where,
} from './ops/elementwise.js';
export { softmaxCrossEntropy } from './ops/loss.js';
export { matmul } from './ops/matmul.js';
export type { LRNOptions } from './ops/norm.js';
export { batchNorm, localResponseNorm, moments } from './ops/norm.js';
export type { Pool2DOptions } from './ops/pool.js';
export { avgPool2d, maxPool2d } from './ops/pool.js';
export { argMax, max, mean, min, sum } from './ops/reduce.js';
export {
  broadcastTo,
  cast,
  concat,
  expandDims,
  pad,
  reshape,
  slice,
  squeeze,
  stack,
  transpose,
} from './ops/shape.js';
export type {
  AdamOptions,
  AdamWOptions,
  LearningRate,
  LearningRateSchedule,
  OptimizerConfig,
  OptimizerOptions,
  RMSpropOptions,
  SGDOptions,
} from './optim/index.js';
export {
  Adam,
  AdamW,
  clipGradNorm,
  clipGradValue,
  getOptimizer,
  Optimizer,
  optimizerNames,
  RMSprop,
  SGD,
} from './optim/index.js';
export * as schedules from './optim/schedules.js';
export type { NestedArray, TensorLike } from './tensor.js';
export {
  full,
  oneHot,
  ones,
  onesLike,
  randn,
  randomUniform,
  range,
  scalar,
  Tensor,
  tensor,
  zeros,
  zerosLike,
} from './tensor.js';
export * from './train/index.js';
export * from './util/errors.js';
export { Random, setSeed } from './util/random.js';

import {
  describePadding,
  explainConv,
  fmtNumber,
  OUTPUT_SIZE_FORMULA,
  outputSize,
} from './vision/explain.js';
import { firstConvLayer, layerOutput, spatialLayerNames } from './vision/model_graph.js';

/** The pictures' arithmetic without the image codecs: the convolution explainer and layer outputs. */
export const vision = {
  describePadding,
  explainConv,
  fmtNumber,
  OUTPUT_SIZE_FORMULA,
  outputSize,
  firstConvLayer,
  layerOutput,
  spatialLayerNames,
};
export * as kernels from './vision/kernels.js';
