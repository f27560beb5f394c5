/** Training: losses, metrics, callbacks, and compile/fit/evaluate/predict on every Model. */
import './trainer.js';

export { type Batch, type BatchSource, TensorBatches } from './batches.js';
export {
  Callback,
  EarlyStopping,
  type EarlyStoppingOptions,
  History,
  LearningRateScheduler,
  type Logs,
  ModelCheckpoint,
  type ModelCheckpointOptions,
  TerminateOnNaN,
  type TrainingParams,
} from './callbacks.js';
export * as losses from './losses.js';
export * as metrics from './metrics.js';
export { ProgressBar } from './progress.js';
export type { CompileConfig, EvaluateOptions, FitOptions } from './trainer.js';
