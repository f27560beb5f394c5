/** Optimizers, gradient clipping and learning-rate schedules. */

export type { AdamOptions, AdamWOptions } from './adam.js';
export { Adam, AdamW } from './adam.js';
export type { LookaheadOptions } from './lookahead.js';
export { Lookahead } from './lookahead.js';
export type {
  LearningRate,
  OptimizerConfig,
  OptimizerOptions,
  ParamMultiplier,
  ParamState,
} from './optimizer.js';
export { clipGradNorm, clipGradValue, Optimizer } from './optimizer.js';
export { getOptimizer, optimizerNames } from './registry.js';
export type { RMSpropOptions } from './rmsprop.js';
export { RMSprop } from './rmsprop.js';
export type {
  CosineDecayOptions,
  ExponentialDecayOptions,
  LearningRateSchedule,
  ScheduleConfig,
  StepDecayOptions,
} from './schedules.js';
export {
  constant,
  cosineDecay,
  exponentialDecay,
  scheduleFromConfig,
  stepDecay,
  warmup,
} from './schedules.js';
export type { SGDOptions } from './sgd.js';
export { SGD } from './sgd.js';
