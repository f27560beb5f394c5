/**
 * The part of the public API that runs anywhere (Node and browsers): tensors and ops,
 * autograd, backends, layers and models, the zoo, optimizers and training, the classic kernels.
 * src/index.ts (Node) and src/browser.ts (bundlers) each add their own data, io and vision,
 * and register where models are saved and loaded from (io/router.ts).
 */
import './autograd.js'; // installs Tensor.backward

export { checkNumerics, isGradEnabled, noGrad } from './autograd.js';
export type { Backend, ConvInfo, DType, PoolInfo, Storage } from './backend/backend.js';
export {
  backendNames,
  getBackend,
  getThreads,
  registerBackend,
  setBackend,
  setThreads,
  webgpuAdapter,
} from './backend/registry.js';
export type { GpuAdapterInfo } from './backend/webgpu/webgpu_backend.js';
export { type ModelFile, ModelFileError, type SaveOptions } from './io/model_format.js';
export { type LoadModelOptions, loadModel } from './io/router.js';
export * from './model/index.js';
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
export type { ResizeCoordinates, ResizeOptions } from './ops/resize.js';
export { resize } from './ops/resize.js';
export type { PadMode, PadOptions } from './ops/shape.js';
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
  LookaheadOptions,
  OptimizerConfig,
  OptimizerOptions,
  ParamMultiplier,
  RMSpropOptions,
  SGDOptions,
} from './optim/index.js';
export {
  Adam,
  AdamW,
  clipGradNorm,
  clipGradValue,
  getOptimizer,
  Lookahead,
  Optimizer,
  optimizerNames,
  RMSprop,
  SGD,
} from './optim/index.js';
export * as schedules from './optim/schedules.js';
export * as recipes from './recipes/index.js';
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
export * as kernels from './vision/kernels.js';
