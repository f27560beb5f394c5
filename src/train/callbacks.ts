/**
 * Callbacks, Keras-style: hooks into fit() at the start and end of training, epochs and
 * batches. `logs` carry the running loss and metrics ({ loss, accuracy, val_loss, ... }).
 */
import type { Model } from '../model/model.js';
import type { Optimizer } from '../optim/optimizer.js';
import { makeReadable } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { checkOptions, didYouMean } from '../util/options.js';

/** What callbacks receive: the running loss and metrics by name (`loss`, `accuracy`, `val_loss`, ...). */
export type Logs = Record<string, number>;

/** What fit tells callbacks before training (`callback.params`). */
export interface TrainingParams {
  /** The epochs fit runs up to. */
  epochs: number;
  /** Batches per epoch. */
  steps: number;
  /** Training examples per epoch (0 when a batch source does not say). */
  samples: number;
  /** fit's verbose option. */
  verbose: 0 | 1 | 2;
  /** The first epoch (non-zero when resuming). */
  initialEpoch: number;
}

/**
 * Where fit() is, as callbacks that back training up need it: the epoch, the batches of it
 * done, the exact running sums behind the logged averages, and the epochs recorded so far.
 */
export interface FitProgress {
  /** The epoch running (0-based); after the last one, the epoch count. */
  epoch: number;
  /** Batches of `epoch` done (a resumed epoch counts the ones done before the interruption). */
  batch: number;
  /** Per logged name: the sum over the epoch's examples so far, and their count. */
  sums(): Record<string, [number, number]>;
  /** The epochs completed so far, as History records them. */
  history: {
    /** The epoch numbers. */
    epoch: number[];
    /** Each logged value, one entry per epoch. */
    history: Record<string, number[]>;
  };
  /** 'running', then 'completed', 'stopped' (stopTraining: Ctrl-C, EarlyStopping) or 'failed' (an error). */
  state: 'running' | 'completed' | 'stopped' | 'failed';
}

/** A point fit() can continue from: what BackupAndRestore.resumePoint() gives back. */
export interface ResumePoint {
  /** The epoch to continue in. */
  epoch: number;
  /** The batches of it already done. */
  batch: number;
  /** The epoch's running sums and counts per logged name. */
  sums: Record<string, [number, number]>;
  /** The epochs completed before the interruption. */
  history: {
    /** The epoch numbers. */
    epoch: number[];
    /** Each logged value, one entry per epoch. */
    history: Record<string, number[]>;
  };
}

/**
 * The base of fit's callbacks: override the hooks you need. Each hook may return a promise,
 * which fit awaits. Set `this.model.stopTraining = true` to stop after the current batch.
 * fit also takes plain objects with the same hooks (`{ onEpochEnd(epoch, logs) {} }`).
 *
 * @example
 * ```ts
 * class PrintLoss extends rc.Callback {
 *   override onEpochEnd(epoch: number, logs: rc.Logs) { console.log(epoch, logs.loss); }
 * }
 * await model.fit(x, y, { epochs: 5, callbacks: [new PrintLoss()] });
 * ```
 */
export abstract class Callback {
  /** The model being trained (set by fit). */
  model!: Model;
  /** fit's parameters (set by fit). */
  params!: TrainingParams;
  /** Set by fit() before training begins. */
  progress!: FitProgress;
  /** Called by fit before training. */
  setModel(model: Model): void {
    this.model = model;
  }
  /** Called by fit before training. */
  setParams(params: TrainingParams): void {
    this.params = params;
  }
  /** Called by fit before training. */
  setProgress(progress: FitProgress): void {
    this.progress = progress;
  }
  /**
   * Asked once by fit() before training: a callback that restores an interrupted run returns
   * where to continue (fit then skips what was done and restores the epoch's running sums).
   */
  resumePoint(): Promise<ResumePoint | null> | ResumePoint | null {
    return null;
  }
  /** Before the first epoch. */
  onTrainBegin(_logs?: Logs): void | Promise<void> {}
  /** After the last epoch, also when training stopped early or failed. */
  onTrainEnd(_logs?: Logs): void | Promise<void> {}
  /** Before each epoch (0-based). */
  onEpochBegin(_epoch: number, _logs?: Logs): void | Promise<void> {}
  /** After each complete epoch: the epoch's mean loss and metrics, and the validation ones (`val_...`). */
  onEpochEnd(_epoch: number, _logs: Logs): void | Promise<void> {}
  /** Before each batch (0-based within the epoch). */
  onBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  /** After each batch: the epoch's running means so far, and `batchLoss`, this batch's loss. */
  onBatchEnd(_batch: number, _logs: Logs): void | Promise<void> {}
}

/** The hooks a plain-object callback may have (TensorFlow.js's custom-callback shape). */
export type CallbackHooks = Partial<
  Pick<
    Callback,
    'onTrainBegin' | 'onTrainEnd' | 'onEpochBegin' | 'onEpochEnd' | 'onBatchBegin' | 'onBatchEnd'
  >
>;

const HOOKS = [
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
] as const;

/** A plain object's hooks as a Callback: each is called with the object as `this`. */
class HookCallback extends Callback {
  constructor(hooks: CallbackHooks) {
    super();
    for (const name of HOOKS) {
      const fn = hooks[name];
      if (fn !== undefined)
        this[name] = (...args: unknown[]) =>
          (fn as (...a: unknown[]) => void | Promise<void>).apply(hooks, args);
    }
  }
}

/**
 * fit's callbacks option as Callbacks: Callback instances as they are, plain objects with hooks
 * ({ onEpochEnd(epoch, logs) {} }, as TensorFlow.js users write them) wrapped, one callback
 * or a list. Anything else is an error that says what was given.
 */
export function toCallbacks(given: unknown, where: string): Callback[] {
  if (given === undefined || given === null) return [];
  const list = Array.isArray(given) ? given : [given];
  return list.map((c, i) => {
    if (c instanceof Callback) return c;
    // A method named like a hook that is none (onEpochEnds) would never be called.
    if (typeof c === 'object' && c !== null)
      for (const [key, f] of Object.entries(c as Record<string, unknown>)) {
        if (
          typeof f === 'function' &&
          /^on[A-Z]/.test(key) &&
          !(HOOKS as readonly string[]).includes(key)
        )
          throw new ArgumentError(
            `${where}: callbacks[${i}].${key} is not a hook, so it would never be called.${didYouMean(key, HOOKS)} Hooks: ${HOOKS.join(', ')}.`,
          );
      }
    const known =
      typeof c === 'object' &&
      c !== null &&
      HOOKS.some((h) => typeof (c as never)[h] === 'function');
    if (!known)
      throw new ArgumentError(
        `${where}: callbacks[${i}] is ${c === null ? 'null' : typeof c === 'object' ? 'an object without hooks' : typeof c}; a callback is a Callback (rc.callbacks.EarlyStopping, ...) or an object with hooks such as { onEpochEnd(epoch, logs) {} } (${HOOKS.join(', ')}).`,
      );
    for (const h of HOOKS) {
      const f = (c as Record<string, unknown>)[h];
      if (f !== undefined && typeof f !== 'function')
        throw new ArgumentError(
          `${where}: callbacks[${i}].${h} must be a function, got ${typeof f}.`,
        );
    }
    return new HookCallback(c as CallbackHooks);
  });
}

/** Runs a list of callbacks in order. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}
  async call<
    K extends
      | 'onTrainBegin'
      | 'onTrainEnd'
      | 'onEpochBegin'
      | 'onEpochEnd'
      | 'onBatchBegin'
      | 'onBatchEnd',
  >(hook: K, ...args: Parameters<Callback[K]>): Promise<void> {
    for (const cb of this.callbacks) {
      const r = (cb[hook] as (...a: unknown[]) => void | Promise<void>).apply(cb, args);
      if (r) await r;
    }
  }
}

/** The record fit() returns: each metric per epoch (Keras's History). */
export class History extends Callback {
  /** The epoch numbers recorded (0-based). */
  epoch: number[] = [];
  /** Each logged value, one entry per epoch: `history.loss`, `history.val_accuracy`, ... */
  history: Record<string, number[]> = {};
  override onEpochEnd(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
  /** `{ epoch, history }`, as `JSON.stringify(history)` writes it (the CLI's history.json). */
  toJSON(): {
    /** The epoch numbers. */
    epoch: number[];
    /** Each logged value per epoch. */
    history: Record<string, number[]>;
  } {
    return { epoch: this.epoch, history: this.history };
  }
}

type Mode = 'min' | 'max' | 'auto';

/** Constructor options checked up front: a typo must not surface epochs later, or never. */
function checkMode(mode: unknown, where: string): Mode {
  if (mode === undefined) return 'auto';
  if (mode !== 'min' && mode !== 'max' && mode !== 'auto')
    throw new ArgumentError(
      `${where}: mode must be 'min', 'max' or 'auto', got ${JSON.stringify(mode)}.`,
    );
  return mode;
}

function checkMonitor(monitor: unknown, where: string): string {
  if (monitor === undefined) return 'val_loss';
  if (typeof monitor !== 'string' || monitor.length === 0)
    throw new ArgumentError(
      `${where}: monitor must be the name of a logged value (e.g. 'val_loss'), got ${JSON.stringify(monitor)}.`,
    );
  return monitor;
}
function better(mode: Mode, monitor: string): (a: number, b: number, delta: number) => boolean {
  const m = mode === 'auto' ? (/acc|auc|precision|recall/i.test(monitor) ? 'max' : 'min') : mode;
  return m === 'min' ? (a, b, d) => a < b - d : (a, b, d) => a > b + d;
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /**
   * The logged value to watch (`'loss'`, `'val_accuracy'`, ...).
   * @default 'val_loss'
   */
  monitor?: string;
  /**
   * Smallest change that counts as an improvement.
   * @default 0
   */
  minDelta?: number;
  /**
   * Stop after this many epochs in a row without improvement (Keras, TensorFlow.js); 0 stops at the first.
   * @default 0
   */
  patience?: number;
  /**
   * Whether smaller (`'min'`) or larger (`'max'`) is better; `'auto'` picks max for names with
   * acc, auc, precision or recall in them, else min.
   * @default 'auto'
   */
  mode?: Mode;
  /**
   * At the end, put back the weights of the best epoch (TensorFlow.js lacks this).
   * @default false
   */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored value stops improving.
 * @throws ArgumentError at construction for a bad monitor, mode, minDelta or patience, and
 *   at the end of an epoch whose logs lack the monitored value
 * @example
 * ```ts
 * const stop = new rc.callbacks.EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true });
 * await model.fit(x, y, { epochs: 100, validationSplit: 0.1, callbacks: [stop] });
 * ```
 */
export class EarlyStopping extends Callback {
  /** The logged value watched. */
  readonly monitor: string;
  /** Smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Whether the best epoch's weights are put back at the end. */
  readonly restoreBestWeights: boolean;
  private readonly improved: (a: number, b: number, d: number) => boolean;
  private best = Number.NaN;
  private bestWeights: Float32Array[] | null = null;
  private wait = 0;
  /** The epoch after which training stopped, or −1. */
  stoppedEpoch = -1;
  /** The epoch with the best monitored value so far, or −1. */
  bestEpoch = -1;

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    checkOptions('EarlyStopping', options, [
      'monitor',
      'minDelta',
      'patience',
      'mode',
      'restoreBestWeights',
    ]);
    this.monitor = checkMonitor(options.monitor, 'EarlyStopping');
    const { minDelta = 0, patience = 0 } = options;
    if (typeof minDelta !== 'number' || !Number.isFinite(minDelta))
      throw new ArgumentError(
        `EarlyStopping: minDelta must be a finite number (the smallest change that counts), got ${minDelta}.`,
      );
    if (typeof patience !== 'number' || !Number.isInteger(patience) || patience < 0)
      throw new ArgumentError(
        `EarlyStopping: patience must be a non-negative integer (epochs without improvement), got ${patience}.`,
      );
    this.minDelta = Math.abs(minDelta);
    this.patience = patience;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.improved = better(checkMode(options.mode, 'EarlyStopping'), this.monitor);
  }

  override onTrainBegin(): void {
    this.best = Number.NaN;
    this.wait = 0;
    this.bestWeights = null;
    this.stoppedEpoch = -1;
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const v = logs[this.monitor];
    if (v === undefined) {
      throw new ArgumentError(
        `EarlyStopping: the monitored value '${this.monitor}' is not in the logs (${Object.keys(logs).join(', ')}). ` +
          "Monitor 'loss', or give fit() validationData for 'val_loss'.",
      );
    }
    if (Number.isNaN(this.best) || this.improved(v, this.best, this.minDelta)) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        await makeReadable(this.model.weights);
        this.bestWeights = this.model.getWeights();
      }
      return;
    }
    this.wait++;
    // Keras and TensorFlow.js stop once `patience` epochs in a row have not improved.
    if (this.wait >= this.patience) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.stoppedEpoch >= 0)
      this.model.setWeights(this.bestWeights);
  }
}

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions {
  /** Directory to save into; `{epoch}` is replaced by the epoch number (1-based). Required. */
  filepath: string;
  /**
   * The logged value that decides "better" with saveBestOnly.
   * @default 'val_loss'
   */
  monitor?: string;
  /**
   * Save only when the monitored value improves.
   * @default false
   */
  saveBestOnly?: boolean;
  /**
   * Whether smaller (`'min'`) or larger (`'max'`) is better; `'auto'` picks max for names with
   * acc, auc, precision or recall in them, else min.
   * @default 'auto'
   */
  mode?: Mode;
}

/** Saves the model (topology + weights, atomically) at the end of epochs. */
export class ModelCheckpoint extends Callback {
  /** The directory pattern saved into. */
  readonly filepath: string;
  /** The logged value watched. */
  readonly monitor: string;
  /** Whether only improvements are saved. */
  readonly saveBestOnly: boolean;
  private readonly improved: (a: number, b: number, d: number) => boolean;
  private best = Number.NaN;

  constructor(options: ModelCheckpointOptions) {
    super();
    checkOptions('ModelCheckpoint', options, ['filepath', 'monitor', 'saveBestOnly', 'mode']);
    if (!options?.filepath || typeof options.filepath !== 'string')
      throw new ArgumentError('ModelCheckpoint: filepath (a directory) is required.');
    this.filepath = options.filepath;
    this.monitor = checkMonitor(options.monitor, 'ModelCheckpoint');
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.improved = better(checkMode(options.mode, 'ModelCheckpoint'), this.monitor);
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (this.saveBestOnly) {
      const v = logs[this.monitor];
      if (v === undefined)
        throw new ArgumentError(
          `ModelCheckpoint: '${this.monitor}' is not in the logs (${Object.keys(logs).join(', ')}).`,
        );
      if (!Number.isNaN(this.best) && !this.improved(v, this.best, 0)) return;
      this.best = v;
    }
    await this.model.save(this.filepath.replace('{epoch}', String(epoch + 1)));
  }
}

/** Sets the optimizer's learning rate at the start of each epoch from schedule(epoch, currentLr). */
export class LearningRateScheduler extends Callback {
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {
    super();
    if (typeof schedule !== 'function')
      throw new ArgumentError('LearningRateScheduler: expects a function (epoch, lr) => newLr.');
  }
  override onEpochBegin(epoch: number): void {
    const opt = (this.model as unknown as { optimizer?: Optimizer }).optimizer;
    if (!opt)
      throw new ArgumentError(
        'LearningRateScheduler: the model has no optimizer; call compile() first.',
      );
    const lr = this.schedule(epoch, opt.currentLearningRate());
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ArgumentError(
        `LearningRateScheduler: the schedule returned ${lr} at epoch ${epoch}; it must be a finite number >= 0.`,
      );
    }
    opt.learningRate = lr;
  }
}

/** Stops training at the first batch whose loss is NaN or infinite, and says which. */
export class TerminateOnNaN extends Callback {
  /** The global step (batches since training began) at which a non-finite loss appeared, or -1. */
  step = -1;
  private seen = 0;
  private epoch = 0;
  /** What was printed when training stopped (empty until then). */
  message = '';
  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  override onBatchEnd(batch: number, logs: Logs): void {
    this.seen++;
    const loss = logs.batchLoss ?? logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.step = this.seen;
      this.message = `TerminateOnNaN: epoch ${this.epoch + 1}, batch ${batch + 1} (step ${this.seen}): the loss is ${loss}; training stopped.`;
      console.error(this.message);
      this.model.stopTraining = true;
    }
  }
}
