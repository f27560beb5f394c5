/**
 * compile / fit / evaluate / predict / trainOnBatch / testOnBatch, Keras-style: the training
 * loop as functions of a model. rc.Model's methods (src/model/model.ts) call them; the model
 * is seen here only as a type, so train imports nothing above it.
 */
import { backwardReleasing, noGrad } from '../autograd.js';
import type { Storage } from '../backend/backend.js';
import { backend } from '../backend/registry.js';
import type { Model } from '../model/model.js';
import { add, mul } from '../ops/elementwise.js';
import { concat } from '../ops/shape.js';
import type { Optimizer } from '../optim/optimizer.js';
import { getOptimizer } from '../optim/registry.js';
import { makeReadable, Tensor, zeros } from '../tensor.js';
import { ArgumentError, BackendError, NonFiniteError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { globalRandom, Random } from '../util/random.js';
import { type Batch, type BatchSource, checkXY, isBatchSource, TensorBatches } from './batches.js';
import {
  type Callback,
  type CallbackHooks,
  CallbackList,
  type FitProgress,
  History,
  type Logs,
  type ResumePoint,
  toCallbacks,
} from './callbacks.js';
import {
  checkClassIds,
  checkFiniteBatch,
  checkFiniteRows,
  checkFiniteWeights,
  nonFiniteLoss,
  outputClasses,
  type StepPlace,
} from './data_checks.js';
import { type PendingBatch, PendingReads, pendingBatch, READ_EVERY } from './deferred.js';
import { getLoss, type LossFn, type LossName } from './losses.js';
import { getMetric, type MetricFn, type MetricName } from './metrics.js';
import { ProgressBar } from './progress.js';
import { stepScope } from './step_scope.js';
import { callWithTta, checkTta, type TestTimeAugmentation } from './tta.js';

/**
 * What `model.compile` takes: how to train.
 * @example
 * ```ts
 * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * model.compile({ optimizer: new rc.SGD({ learningRate: 0.01, momentum: 0.9 }), loss: 'categoricalCrossentropy' });
 * ```
 */
export interface CompileConfig {
  /**
   * An optimizer instance, or a name with its default settings: `'sgd'`, `'adam'`, `'adamw'`,
   * `'rmsprop'` (any case; see {@link optimizerNames}).
   */
  optimizer: string | Optimizer;
  /**
   * The loss: `'sparseCategoricalCrossentropy'` (int32 class ids), `'categoricalCrossentropy'`
   * (one-hot), `'binaryCrossentropy'` (labels in 0..1), `'meanSquaredError'`,
   * `'meanAbsoluteError'`, or a function `(yTrue, yPred) => scalar tensor`.
   */
  loss: LossName | string | LossFn;
  /**
   * Reported in the logs and history: `'accuracy'` (`'acc'`), `'topKCategoricalAccuracy'`,
   * `'top5Accuracy'`, `'binaryAccuracy'`, or functions `(yTrue, yPred) => number`.
   * @default []
   */
  metrics?: (MetricName | string | MetricFn)[];
  /** For models with several outputs: the weight of each output's loss (GoogLeNet's 1, 0.3, 0.3). */
  lossWeights?: number[];
}

/** Options of `model.fit`; the defaults are Keras's. */
export interface FitOptions {
  /**
   * Passes over the training data.
   * @default 1
   */
  epochs?: number;
  /**
   * Examples per training step (the last batch may be smaller).
   * @default 32
   */
  batchSize?: number;
  /** Data to evaluate at the end of each epoch: [x, y] tensors or a batch source. */
  validationData?: [Tensor, Tensor] | BatchSource;
  /** Hold out this fraction of the examples (the last ones, before shuffling) for validation. */
  validationSplit?: number;
  /**
   * Shuffle the examples before each epoch.
   * @default true
   */
  shuffle?: boolean;
  /** Callbacks, or plain objects with hooks ({ onEpochEnd(epoch, logs) {} }); one or a list. */
  callbacks?: Callback | CallbackHooks | (Callback | CallbackHooks)[];
  /**
   * 0 silent, 1 progress bar, 2 one line per epoch.
   * @default 1
   */
  verbose?: 0 | 1 | 2;
  /** Start counting epochs here (when resuming). */
  initialEpoch?: number;
  /** Skip this many batches of the first epoch (resuming mid-epoch: with a seed the order repeats). */
  initialBatch?: number;
  /** Seed for the shuffling order: each epoch's order then depends only on the seed and the epoch. */
  seed?: number;
  /**
   * Stop with a NonFiniteError when the data hold NaN or infinity (checked once, naming the
   * example), when a batch's loss is not a number (naming the epoch and batch), or when an
   * epoch leaves a weight non-finite. Default true; false skips the checks, and a NaN loss
   * then only skips that batch's update.
   */
  checkFinite?: boolean;
}

/** The keys each call accepts: any other is an error that names the closest. */
const COMPILE_KEYS = ['optimizer', 'loss', 'metrics', 'lossWeights'];
const FIT_KEYS = [
  'epochs',
  'batchSize',
  'validationData',
  'validationSplit',
  'shuffle',
  'callbacks',
  'verbose',
  'initialEpoch',
  'initialBatch',
  'seed',
  'checkFinite',
];
const EVALUATE_KEYS = ['batchSize', 'verbose', 'checkFinite', 'tta'];

/** Options of `model.evaluate`. */
export interface EvaluateOptions {
  /**
   * Examples per step (memory, not results, depends on it).
   * @default 32
   */
  batchSize?: number;
  /** Accepted for Keras compatibility; evaluate prints nothing. */
  verbose?: 0 | 1;
  /** Stop with a NonFiniteError on NaN or infinite data or loss (default true); see FitOptions. */
  checkFinite?: boolean;
  /**
   * Test-time augmentation of image inputs: `'flip'` averages the outputs for each image and
   * its mirror image, `'flipTranslate'` adds copies moved by a pixel (airbench's). See
   * {@link TestTimeAugmentation}.
   * @default 'none'
   */
  tta?: TestTimeAugmentation;
}

/** Options of `model.predict`. */
export interface PredictOptions {
  /**
   * Examples per step (memory, not results, depends on it).
   * @default 32
   */
  batchSize?: number;
  /**
   * Test-time augmentation of image inputs, as in {@link EvaluateOptions.tta}.
   * @default 'none'
   */
  tta?: TestTimeAugmentation;
}

export interface Compiled {
  optimizer: Optimizer;
  loss: LossFn;
  metrics: MetricFn[];
  lossWeights: number[] | null;
  /** Storages that training steps kept (weights, slots): freed once a later step replaces them. */
  retained: Set<Storage>;
}

/** Lets timers, I/O and signal handlers run between batches (Ctrl-C, progress redraws). */
const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : () => new Promise((r) => setTimeout(r, 0));

function compiledOf(model: Model, where: string): Compiled {
  if (!model.compiled) {
    throw new ArgumentError(
      `${model.label}.${where}: the model is not compiled. Call model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] }) first.`,
    );
  }
  return model.compiled;
}

/** The (weighted) loss of a batch, from all outputs. */
function batchLoss(model: Model, c: Compiled, outputs: Tensor[], y: Tensor): Tensor {
  if (outputs.length === 1) return c.loss(y, outputs[0]!);
  const w = c.lossWeights ?? model.lossWeights ?? outputs.map(() => 1);
  if (w.length !== outputs.length) {
    throw new ArgumentError(
      `${model.label}: lossWeights has ${w.length} entries but the model has ${outputs.length} outputs.`,
    );
  }
  return outputs.map((o, i) => mul(c.loss(y, o), w[i]!)).reduce((a, b) => add(a, b));
}

/** Sums of loss and metrics over batches, weighted by batch size. */
class Averager {
  private sums = new Map<string, number>();
  private counts = new Map<string, number>();
  /** Starts from saved sums (a resumed epoch), so its averages cover the whole epoch. */
  constructor(from?: Record<string, [number, number]>) {
    for (const [k, [sum, count]] of Object.entries(from ?? {})) {
      this.sums.set(k, sum);
      this.counts.set(k, count);
    }
  }
  snapshot(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    for (const [k, sum] of this.sums) out[k] = [sum, this.counts.get(k)!];
    return out;
  }
  add(name: string, total: number, count: number): void {
    this.sums.set(name, (this.sums.get(name) ?? 0) + total);
    this.counts.set(name, (this.counts.get(name) ?? 0) + count);
  }
  logs(prefix = ''): Logs {
    const out: Logs = {};
    for (const [k, s] of this.sums) out[prefix + k] = s / this.counts.get(k)!;
    return out;
  }
}

/**
 * `fn` in a step scope: the weights and the optimizer's slots outlive it; every other tensor it
 * makes is freed when it ends (but what it returns).
 */
function inStepScope<T>(model: Model, c: Compiled, fn: () => T): T {
  return stepScope(c.retained, () => [...model.weights, ...c.optimizer.slotTensors()], fn);
}

/** One batch's outputs and loss: with the tape when training, else with test-time augmentation. */
function forwardBatch(
  model: Model,
  c: Compiled,
  { x, y }: Batch,
  train: boolean,
  rng?: Random,
  tta: TestTimeAugmentation = 'none',
): { outputs: Tensor[]; loss: Tensor } {
  if (!train)
    return noGrad(() => {
      const outputs = callWithTta(model, x, tta, `${model.label}.evaluate`);
      return { outputs, loss: batchLoss(model, c, outputs, y) };
    });
  const outputs = model.callAll(x, rng ? { training: true, rng } : { training: true });
  return { outputs, loss: batchLoss(model, c, outputs, y) };
}

/** The backward pass from a batch's loss (freeing as it goes) and the optimizer's step. */
function update(model: Model, c: Compiled, loss: Tensor, outputs: Tensor[]): void {
  backwardReleasing(loss, outputs);
  c.optimizer.step(model.trainableWeights);
  c.optimizer.zeroGrad();
}

/** One batch of training (or evaluation), in a step scope; a non-finite loss skips the update. */
function runBatch(
  model: Model,
  c: Compiled,
  batch: Batch,
  train: boolean,
  acc: Averager,
  rng?: Random,
  tta: TestTimeAugmentation = 'none',
): number {
  return inStepScope(model, c, () => {
    const { outputs, loss } = forwardBatch(model, c, batch, train, rng, tta);
    const lossValue = loss.item();
    if (train && Number.isFinite(lossValue)) update(model, c, loss, outputs);
    const n = batch.x.shape[0]!;
    acc.add('loss', lossValue * n, n);
    for (const m of c.metrics) {
      const r = m(batch.y, outputs[0]!);
      acc.add(m.name, r.total, r.count);
    }
    return lossValue;
  });
}

/**
 * The same on a backend whose reads are asynchronous: the loss and the metric totals stay on
 * the device (kept past the scope by PendingReads.add), and the update runs whatever the loss.
 */
function runBatchDeferred(
  model: Model,
  c: Compiled,
  batch: Batch,
  train: boolean,
  place: StepPlace,
  rng?: Random,
  tta: TestTimeAugmentation = 'none',
): PendingBatch {
  return inStepScope(model, c, () => {
    const { outputs, loss } = forwardBatch(model, c, batch, train, rng, tta);
    if (train) update(model, c, loss, outputs);
    return pendingBatch(
      place,
      batch.x.shape[0]!,
      loss,
      c.metrics.map((m) => ({ name: m.name, ...m.onDevice!(batch.y, outputs[0]!) })),
    );
  });
}

/** Whether the backend in use reads asynchronously only; then every metric must run on the device. */
function deferredReads(model: Model, c: Compiled, where: string): boolean {
  if (!backend().deferReads) return false;
  const bad = c.metrics.find((m) => !m.onDevice);
  if (bad)
    throw new ArgumentError(
      `${model.label}.${where}: the metric '${bad.name}' reads its values synchronously, which the ${backend().name} backend cannot do; use the built-in metrics ('accuracy', 'binaryAccuracy', 'topKCategoricalAccuracy') or give the function an onDevice form (see MetricFn.onDevice).`,
    );
  return true;
}

/** Frees a batch that fit's own TensorBatches gathered (no one else holds it). */
function freeOwnBatch(source: BatchSource, batch: Batch): void {
  if (source instanceof TensorBatches) backend().free?.([batch.x.storage, batch.y.storage]);
}

function toSource(
  model: Model,
  where: string,
  x: Tensor | BatchSource,
  y: Tensor | undefined,
  batchSize: number,
  rng: ((epoch: number) => Random) | null,
  range?: [number, number],
): BatchSource {
  if (isBatchSource(x)) return x;
  if (!(x instanceof Tensor))
    throw new ArgumentError(
      `${model.label}.${where}: x must be a Tensor (or a dataset that yields { x, y }), got ${typeof x}.`,
    );
  // fit(x, { epochs }) lands the options in y's place: say that labels are missing, not crash on them.
  if (!(y instanceof Tensor))
    throw new ArgumentError(
      `${model.label}.${where}: needs labels y with x (or a dataset that yields { x, y }), e.g. model.${where.split(' ')[0]}(x, y, options).`,
    );
  checkXY(`${model.label}.${where}`, x, y);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ArgumentError(
      `${model.label}.${where}: batchSize must be a positive integer, got ${batchSize}.`,
    );
  return new TensorBatches(x, y, batchSize, rng, range);
}

/** The checks on x and y tensors a user handed in, once before any step (see data_checks). */
function checkSource(
  model: Model,
  where: string,
  source: BatchSource,
  checkFinite: boolean,
  prefix = '',
): void {
  if (!(source instanceof TensorBatches)) return;
  checkClassIds(`${model.label}.${where}`, source.ys, outputClasses(model));
  if (!checkFinite) return;
  checkFiniteRows(`${model.label}.${where}`, `${prefix}x`, source.xs);
  checkFiniteRows(`${model.label}.${where}`, `${prefix}y`, source.ys);
}

export function compile(model: Model, config: CompileConfig): void {
  if (!config || config.optimizer === undefined || config.loss === undefined) {
    throw new ArgumentError(
      `${model.label}.compile: needs { optimizer, loss }, e.g. { optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] }.`,
    );
  }
  checkOptions(`${model.label}.compile`, config, COMPILE_KEYS);
  const optimizer = getOptimizer(config.optimizer);
  model.optimizer = optimizer;
  model.compiled = {
    optimizer,
    loss: getLoss(config.loss),
    metrics: (config.metrics ?? []).map(getMetric),
    lossWeights: config.lossWeights ?? null,
    retained: new Set(),
  };
}

export async function fit(
  model: Model,
  x: Tensor | BatchSource,
  yOrOptions?: Tensor | FitOptions,
  maybeOptions?: FitOptions,
): Promise<History> {
  const c = compiledOf(model, 'fit');
  const y = isBatchSource(x) ? undefined : (yOrOptions as Tensor);
  const options = ((isBatchSource(x) ? yOrOptions : maybeOptions) ?? {}) as FitOptions;
  checkOptions(`${model.label}.fit`, options, FIT_KEYS);
  const {
    epochs = 1,
    batchSize = 32,
    shuffle = true,
    verbose = 1,
    initialEpoch = 0,
    checkFinite = true,
  } = options;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new ArgumentError(
      `${model.label}.fit: epochs must be a positive integer, got ${epochs}.`,
    );
  const seed = options.seed;
  if (seed !== undefined && !Number.isSafeInteger(seed))
    throw new ArgumentError(`${model.label}.fit: seed must be an integer, got ${seed}.`);
  const rng = shuffle
    ? seed === undefined
      ? () => globalRandom
      : (e: number) => new Random(seed * 1000003 + e)
    : null;

  // Batches are cut on the CPU: tensors computed where reads are asynchronous (inputs normalized
  // with ops on webgpu) are copied back first; elsewhere this does nothing.
  const vd = options.validationData;
  await makeReadable(
    [x, y, ...(Array.isArray(vd) ? vd : [])].filter((t): t is Tensor => t instanceof Tensor),
  );
  let train: BatchSource;
  let validation: BatchSource | null = null;
  const split = options.validationSplit ?? 0;
  if (split) {
    if (isBatchSource(x) || !y)
      throw new ArgumentError(
        `${model.label}.fit: validationSplit needs x and y tensors; give a dataset validationData instead.`,
      );
    if (!(split > 0 && split < 1))
      throw new ArgumentError(
        `${model.label}.fit: validationSplit must be in (0, 1), got ${split}.`,
      );
    const n = x.shape[0]!;
    const cut = Math.floor(n * (1 - split));
    if (cut === 0 || cut === n)
      throw new ArgumentError(
        `${model.label}.fit: validationSplit ${split} of ${n} examples leaves ${cut} for training and ${n - cut} for validation; each needs at least one. Use more data or another split.`,
      );
    train = toSource(model, 'fit', x, y, batchSize, rng, [0, cut]);
    validation = toSource(model, 'fit', x, y, batchSize, null, [cut, n]);
  } else {
    train = toSource(model, 'fit', x, y, batchSize, rng);
  }
  if (vd) {
    validation = isBatchSource(vd)
      ? vd
      : toSource(model, 'fit (validationData)', vd[0], vd[1], batchSize, null);
  }
  checkSource(model, 'fit', train, checkFinite);
  // Held-out rows of validationSplit keep their indices in x; validationData is named as such.
  if (validation)
    checkSource(
      model,
      'fit',
      validation,
      checkFinite,
      options.validationData ? 'validationData ' : '',
    );
  // Batches a dataset makes are new each epoch: those are checked one by one.
  const checkBatches = checkFinite && !(train instanceof TensorBatches);

  const history = new History();
  const callbacks = new CallbackList([
    ...(verbose > 0 ? [new ProgressBar()] : []),
    ...toCallbacks(options.callbacks, `${model.label}.fit`),
    history,
  ]);
  const steps = train.steps ?? 0;
  let acc = new Averager();
  const progress: FitProgress = {
    epoch: initialEpoch,
    batch: options.initialBatch ?? 0,
    sums: () => acc.snapshot(),
    history,
    state: 'running',
  };
  for (const cb of callbacks.callbacks) {
    cb.setModel(model);
    cb.setProgress(progress);
  }
  // A callback that backs training up (BackupAndRestore) may say where an earlier run stopped.
  let resume: ResumePoint | null = null;
  for (const cb of callbacks.callbacks) resume ??= await cb.resumePoint();
  const startEpoch = resume ? resume.epoch : initialEpoch;
  const startBatch = resume ? resume.batch : (options.initialBatch ?? 0);
  if (resume) {
    history.epoch = [...resume.history.epoch];
    history.history = Object.fromEntries(
      Object.entries(resume.history.history).map(([k, v]) => [k, [...v]]),
    );
  }
  for (const cb of callbacks.callbacks)
    cb.setParams({ epochs, steps, samples: train.size ?? 0, verbose, initialEpoch: startEpoch });
  model.stopTraining = false;
  const deferred = deferredReads(model, c, 'fit');
  const pending = new PendingReads();
  const readPending = () =>
    pending.drain(
      (loss, place) => {
        if (checkFinite && !Number.isFinite(loss))
          throw nonFiniteLoss(`${model.label}.fit`, loss, place, true, true);
      },
      (name, total, count) => acc.add(name, total, count),
    );
  await callbacks.call('onTrainBegin', {});
  try {
    for (let epoch = startEpoch; epoch < epochs && !model.stopTraining; epoch++) {
      const first = epoch === startEpoch;
      acc = new Averager(first && resume ? resume.sums : undefined);
      const skip = first ? startBatch : 0;
      progress.epoch = epoch;
      progress.batch = skip;
      await callbacks.call('onEpochBegin', epoch, {});
      let batchIndex = skip;
      let cutShort = false;
      const epochBatches =
        train instanceof TensorBatches ? train.batches(epoch, skip) : train.batches(epoch);
      let toSkip = train instanceof TensorBatches ? 0 : skip;
      for await (const batch of epochBatches) {
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
        await callbacks.call('onBatchBegin', batchIndex, {});
        // With a seed, each step's dropout masks depend only on (seed, epoch, batch).
        const stepRng =
          seed === undefined
            ? undefined
            : new Random((seed * 1000003 + epoch) * 1000033 + batchIndex);
        const place: StepPlace = { epoch, batch: batchIndex };
        if (checkBatches) {
          checkFiniteBatch(`${model.label}.fit`, 'x', batch.x, place);
          checkFiniteBatch(`${model.label}.fit`, 'y', batch.y, place);
        }
        let lossValue: number | null;
        if (deferred) {
          pending.add(runBatchDeferred(model, c, batch, true, place, stepRng));
          lossValue = pending.size >= READ_EVERY ? await readPending() : null;
        } else {
          lossValue = runBatch(model, c, batch, true, acc, stepRng);
          if (checkFinite && !Number.isFinite(lossValue))
            throw nonFiniteLoss(`${model.label}.fit`, lossValue, place, true);
        }
        freeOwnBatch(train, batch);
        progress.batch = batchIndex + 1;
        // With deferred reads the logs are those of the batches read so far (every READ_EVERY).
        await callbacks.call(
          'onBatchEnd',
          batchIndex,
          lossValue === null ? acc.logs() : { ...acc.logs(), batchLoss: lossValue },
        );
        batchIndex++;
        if (model.stopTraining) {
          cutShort = true;
          break;
        }
        await yieldToEventLoop();
      }
      if (deferred) await readPending();
      // An epoch cut short (Ctrl-C, TerminateOnNaN) is not an epoch: no validation, no onEpochEnd.
      if (cutShort) break;
      if (checkFinite) await checkFiniteWeights(`${model.label}.fit`, model, { epoch });
      let logs = acc.logs();
      if (validation)
        logs = {
          ...logs,
          ...(await evaluateSource(model, c, validation, 'val_', checkFinite, epoch)),
        };
      // The epoch is done: a backup taken from here on continues with the next one.
      progress.epoch = epoch + 1;
      progress.batch = 0;
      acc = new Averager();
      await callbacks.call('onEpochEnd', epoch, logs);
    }
    progress.state = model.stopTraining ? 'stopped' : 'completed';
  } catch (e) {
    progress.state = 'failed';
    throw e;
  } finally {
    await callbacks.call('onTrainEnd', {});
  }
  return history;
}

async function evaluateSource(
  model: Model,
  c: Compiled,
  source: BatchSource,
  prefix = '',
  checkFinite = true,
  epoch?: number,
  tta: TestTimeAugmentation = 'none',
): Promise<Logs> {
  const acc = new Averager();
  const where = `${model.label}.${epoch === undefined ? 'evaluate' : 'fit'}`;
  const checkBatches = checkFinite && !(source instanceof TensorBatches);
  const deferred = deferredReads(model, c, epoch === undefined ? 'evaluate' : 'fit');
  const pending = new PendingReads();
  const readPending = () =>
    pending.drain(
      (loss, place) => {
        if (checkFinite && !Number.isFinite(loss)) throw nonFiniteLoss(where, loss, place, false);
      },
      (name, total, count) => acc.add(name, total, count),
    );
  let seen = 0;
  for await (const batch of source.batches(0)) {
    const place: StepPlace =
      epoch === undefined ? { batch: seen } : { epoch, batch: seen, phase: 'validation' };
    if (checkBatches) {
      checkFiniteBatch(where, 'x', batch.x, place);
      checkFiniteBatch(where, 'y', batch.y, place);
    }
    if (deferred) {
      pending.add(runBatchDeferred(model, c, batch, false, place, undefined, tta));
      if (pending.size >= READ_EVERY) await readPending();
    } else {
      const lossValue = runBatch(model, c, batch, false, acc, undefined, tta);
      if (checkFinite && !Number.isFinite(lossValue))
        throw nonFiniteLoss(where, lossValue, place, false);
    }
    freeOwnBatch(source, batch);
    if (++seen % 16 === 0) await yieldToEventLoop();
  }
  if (deferred) await readPending();
  if (seen === 0) throw new ArgumentError(`${model.label}.evaluate: the data yielded no batches.`);
  return acc.logs(prefix);
}

export async function evaluate(
  model: Model,
  x: Tensor | BatchSource,
  yOrOptions?: Tensor | EvaluateOptions,
  maybeOptions?: EvaluateOptions,
): Promise<Logs> {
  const c = compiledOf(model, 'evaluate');
  const y = isBatchSource(x) ? undefined : (yOrOptions as Tensor);
  const options = ((isBatchSource(x) ? yOrOptions : maybeOptions) ?? {}) as EvaluateOptions;
  checkOptions(`${model.label}.evaluate`, options, EVALUATE_KEYS);
  const checkFinite = options.checkFinite ?? true;
  const tta = checkTta(`${model.label}.evaluate`, options.tta);
  await makeReadable([x, y].filter((t): t is Tensor => t instanceof Tensor)); // as in fit
  const source = toSource(model, 'evaluate', x, y, options.batchSize ?? 32, null);
  checkSource(model, 'evaluate', source, checkFinite);
  return evaluateSource(model, c, source, '', checkFinite, undefined, tta);
}

export function predict(model: Model, x: Tensor, options: PredictOptions = {}): Tensor {
  checkOptions(`${model.label}.predict`, options, ['batchSize', 'tta']);
  options ??= {};
  const where = `${model.label}.predict`;
  const tta = checkTta(where, options.tta);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ArgumentError(
      `${model.label}.predict: batchSize must be a positive integer, got ${batchSize}.`,
    );
  if (!(x instanceof Tensor))
    throw new ArgumentError(
      `${model.label}.predict: x must be a Tensor [batch, ...]` +
        (Array.isArray(x) ? '; for a model with several inputs use model.callAll([a, b]).' : '.'),
    );
  const n = x.shape[0];
  if (n === undefined) throw new ArgumentError(`${model.label}.predict: x needs a batch axis.`);
  if (n === 0) {
    // No examples, no predictions: the output's shape comes from one zero example.
    const one = noGrad(() =>
      model.callAll(zeros([1, ...x.shape.slice(1)], x.dtype), { training: false }),
    )[0]!;
    return zeros([0, ...one.shape.slice(1)], one.dtype);
  }
  // In a scope: only the result outlives the call (batch outputs are freed once concatenated).
  return stepScope(
    null,
    (out) => [out],
    () =>
      noGrad(() => {
        if (n <= batchSize) return callWithTta(model, x, tta, where)[0]!;
        const rows = new TensorBatches(x, x, batchSize, null);
        const outs: Tensor[] = [];
        for (const b of rows.batches()) outs.push(callWithTta(model, b.x, tta, where)[0]!);
        return concat(outs, 0);
      }),
  );
}

/** trainOnBatch and testOnBatch return their logs at once: a backend that reads only asynchronously cannot. */
function refuseDeferred(model: Model, where: string): void {
  if (backend().deferReads)
    throw new BackendError(
      `${model.label}.${where} returns the batch's loss at once, which the ${backend().name} backend cannot read without stalling the GPU; use model.fit (one epoch of your batches) or a CPU backend.`,
    );
}

export function trainOnBatch(model: Model, x: Tensor, y: Tensor): Logs {
  const c = compiledOf(model, 'trainOnBatch');
  refuseDeferred(model, 'trainOnBatch');
  checkXY(`${model.label}.trainOnBatch`, x, y);
  const acc = new Averager();
  const loss = runBatch(model, c, { x, y }, true, acc);
  if (!Number.isFinite(loss))
    throw new NonFiniteError(
      `${model.label}.trainOnBatch: the loss is ${loss}; the weights were not updated.`,
    );
  return acc.logs();
}

export function testOnBatch(model: Model, x: Tensor, y: Tensor): Logs {
  const c = compiledOf(model, 'testOnBatch');
  refuseDeferred(model, 'testOnBatch');
  checkXY(`${model.label}.testOnBatch`, x, y);
  const acc = new Averager();
  runBatch(model, c, { x, y }, false, acc);
  return acc.logs();
}
