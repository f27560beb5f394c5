/** rc.callbacks: every callback under one name, as Keras has keras.callbacks. */
export { BackupAndRestore, type BackupAndRestoreOptions } from './backup.js';
export {
  Callback,
  EarlyStopping,
  History,
  LearningRateScheduler,
  ModelCheckpoint,
  TerminateOnNaN,
} from './callbacks.js';
export { ProgressBar } from './progress.js';
