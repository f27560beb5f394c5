/** Training: losses, metrics, callbacks, and compile/fit/evaluate/predict on every Model. */
import './trainer.js';

export { BackupAndRestore, type BackupAndRestoreOptions, type BackupState } from './backup.js';
export { type Batch, type BatchSource, TensorBatches } from './batches.js';
export * as callbacks from './callback_namespace.js';
export {
  Callback,
  EarlyStopping,
  type EarlyStoppingOptions,
  type FitProgress,
  History,
  LearningRateScheduler,
  type Logs,
  ModelCheckpoint,
  type ModelCheckpointOptions,
  type ResumePoint,
  TerminateOnNaN,
  type TrainingParams,
} from './callbacks.js';
export * as losses from './losses.js';
export * as metrics from './metrics.js';
export { ProgressBar } from './progress.js';
export type { CompileConfig, EvaluateOptions, FitOptions, PredictOptions } from './trainer.js';
export type { TestTimeAugmentation } from './tta.js';
