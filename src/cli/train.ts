/**
 * `receptive train <model> --dataset ...`: trains a zoo model (or, with `--from DIR`, fine-tunes
 * a saved or imported one, optionally with a new classifier and a frozen body) with a progress bar, saves the
 * model, history.json and a plot of the curves, and checkpoints every epoch. Ctrl-C stops
 * after the current batch and saves a checkpoint that `--resume DIR` continues from exactly.
 * The checkpoints are the library's BackupAndRestore (train/backup.ts); this file only wires
 * the command's arguments to it, keeping them in the backup so that a resume rebuilds the run.
 */
import { setBackend } from '../backend/registry.js';
import * as augment from '../data/augment.js';
import { Dataset } from '../data/dataset.js';
import { toTensors } from '../data/image_set.js';
import { checkWritableDir, writeFileAtomic } from '../io/files.js';
import { outputsProbabilities } from '../model/head.js';
import type { Model } from '../model/model.js';
import { zooEntry } from '../models/registry.js';
import { getOptimizer } from '../optim/registry.js';
import { cosineDecay, type LearningRateSchedule, warmup } from '../optim/schedules.js';
import { BackupAndRestore, type BackupState } from '../train/backup.js';
import { sparseCategoricalCrossentropy } from '../train/losses.js';
import '../train/terminal_bar.js';
import '../train/trainer.js';
import { ArgumentError, IOError, MissingPackageError } from '../util/errors.js';
import { setSeed } from '../util/random.js';
import { spatialLayerNames } from '../vision/model_graph.js';
import { trainingCurves } from '../vision/plots.js';
import { trainingReport } from '../vision/report.js';
import { checkDataArgs, loadDataset } from './datasets.js';

export interface TrainArgs {
  model: string;
  /** Fine-tune this saved or imported model (a directory, or a file loadModel reads) instead of a zoo model. */
  from?: string;
  /** With `from`: a new classifier for this many classes in place of the model's own. */
  numClasses?: number;
  /** With `from`: 'body' freezes every layer but the classifier (and `trainable`); 'none' trains all. */
  freeze?: 'body' | 'none';
  /** With freeze 'body': layers that train as well as the classifier. */
  trainable?: string[];
  dataset: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr?: number;
  optimizer: string;
  /** Momentum of sgd or rmsprop (default 0). */
  momentum?: number;
  /** Nesterov's momentum (sgd with momentum). */
  nesterov?: boolean;
  /** L2 weight decay of sgd or adamw (default 0). */
  weightDecay?: number;
  /** The learning rate over the run: constant (default), or cosine down to 0 at the last step. */
  schedule?: 'constant' | 'cosine';
  /** Raise the learning rate linearly from 0 over this many epochs first (default 0). */
  warmupEpochs?: number;
  seed: number;
  backend?: string;
  out?: string;
  resume?: string;
  limit?: number;
  validation: boolean;
  imageSize?: [number, number];
  /** Standard augmentation: random crop with 4 pixels of padding and horizontal flips. */
  augment?: boolean;
  verbose: 0 | 1 | 2;
  /** Write a self-contained HTML report here at the end. */
  report?: string;
  /** The flags given on the command line (not defaults): --resume refuses those that differ. */
  given?: (keyof TrainArgs)[];
}

/** What a run is: flags that --resume may not change (the model, the data, the optimizer). */
const RUN_IDENTITY: (keyof TrainArgs)[] = [
  'model',
  'from',
  'numClasses',
  'freeze',
  'trainable',
  'dataset',
  'dataDir',
  'batchSize',
  'lr',
  'optimizer',
  'momentum',
  'nesterov',
  'weightDecay',
  'schedule',
  'warmupEpochs',
  'seed',
  'limit',
  'imageSize',
  'augment',
  'validation',
];

/** Continues the run in args.resume: its own arguments, with those a resume may change. */
async function resumedArgs(args: TrainArgs): Promise<{ args: TrainArgs; state: BackupState }> {
  const path = await import('node:path');
  const dir = path.join(args.resume!, 'checkpoint');
  const state = await BackupAndRestore.read(dir);
  const saved = state?.extra?.args as TrainArgs | undefined;
  if (!state || !saved)
    throw new ArgumentError(
      `--resume ${args.resume}: there is no checkpoint of a receptive train run in ${dir}. Give the folder a run was saving to (its --out).`,
    );
  for (const key of args.given ?? []) {
    if (!RUN_IDENTITY.includes(key)) continue;
    if (JSON.stringify(orDefault(args, key)) !== JSON.stringify(orDefault(saved, key)))
      throw new ArgumentError(
        `--resume ${args.resume}: the run was started with --${flagName(key)} ${fmtArg(saved[key])}, but this command gives ${fmtArg(args[key])}. A resumed run keeps its model, data and optimizer: leave the flag out, or start a new run with another --out.`,
      );
  }
  // A cosine schedule spans the run's epochs: more of them would be a different schedule.
  if ((saved.schedule ?? 'constant') !== 'constant' && args.epochs > saved.epochs)
    throw new ArgumentError(
      `--resume ${args.resume}: the run's ${saved.schedule} schedule spans its ${saved.epochs} epochs, so it cannot be resumed for ${args.epochs}. Leave --epochs out, or start a new run with another --out.`,
    );
  return {
    state,
    // Only the number of epochs may grow; the backend, threads, output style and report may change.
    args: {
      ...saved,
      epochs: Math.max(args.epochs, saved.epochs),
      out: args.resume,
      resume: args.resume,
      verbose: args.verbose,
      backend: args.backend ?? saved.backend,
      report: args.report,
      given: [],
    },
  };
}

/** Flags whose absence means a value (a checkpoint from before the flag existed lacks them). */
const DEFAULTS: Partial<TrainArgs> = {
  momentum: 0,
  nesterov: false,
  weightDecay: 0,
  schedule: 'constant',
  warmupEpochs: 0,
};
const orDefault = (a: TrainArgs, key: keyof TrainArgs) => a[key] ?? DEFAULTS[key];

/** The optimizer options the arguments give, refused for an optimizer that has no such option. */
function optimizerOptions(args: TrainArgs): Record<string, number | boolean> {
  const name = args.optimizer.toLowerCase().replace(/_/g, '');
  const takes: [keyof TrainArgs, string[]][] = [
    ['momentum', ['sgd', 'rmsprop']],
    ['nesterov', ['sgd']],
    ['weightDecay', ['sgd', 'adamw']],
  ];
  const options: Record<string, number | boolean> = {};
  for (const [key, optimizers] of takes) {
    const v = args[key] as number | boolean | undefined;
    if (v === undefined || v === false) continue;
    if (!optimizers.includes(name))
      throw new ArgumentError(
        `train: --${flagName(key)} applies to ${optimizers.join(' and ')}, not ${args.optimizer}. Leave it out, or give --optimizer ${optimizers[0]}.`,
      );
    options[key] = v;
  }
  if (options.nesterov && !(args.momentum! > 0))
    throw new ArgumentError(
      'train: --nesterov needs momentum: give --momentum too (0.9 is usual).',
    );
  return options;
}

/**
 * The learning rate the run follows: `base` throughout (constant) or falling along a cosine to 0
 * at the last step, after `warmupEpochs` of linear rise from 0. Steps are optimizer updates.
 */
export function learningRateFor(
  base: number,
  args: TrainArgs,
  stepsPerEpoch: number,
): number | LearningRateSchedule {
  const warm = (args.warmupEpochs ?? 0) * stepsPerEpoch;
  const total = args.epochs * stepsPerEpoch;
  const after =
    args.schedule === 'cosine' ? cosineDecay({ initial: base, decaySteps: total - warm }) : base;
  return warm > 0 ? warmup(after, warm) : after;
}

/** The schedule in words, for the log and the report. */
function describeSchedule(base: number, args: TrainArgs, stepsPerEpoch: number): string {
  const w = args.warmupEpochs ?? 0;
  const warm =
    w > 0
      ? `, after ${w} epoch${w === 1 ? '' : 's'} (${w * stepsPerEpoch} steps) of linear warm-up from 0`
      : '';
  return args.schedule === 'cosine'
    ? `cosine from ${base} to 0 over ${(args.epochs - w) * stepsPerEpoch} steps${warm}`
    : `${base}${warm}`;
}

function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function fmtArg(v: unknown): string {
  return v === undefined ? '(not given)' : Array.isArray(v) ? v.join(',') : String(v);
}

export async function train(
  args: TrainArgs,
  log: (line: string) => void = console.log,
): Promise<{ model: Model; testLoss: number; testAccuracy: number; out: string }> {
  const path = await import('node:path');
  let resumed: BackupState | null = null;
  if (args.resume) ({ args, state: resumed } = await resumedArgs(args));
  if (args.backend) await setBackend(args.backend);
  setSeed(args.seed);
  const label = args.from ? path.basename(path.resolve(args.from)) : args.model;
  const out = args.out ?? path.join('runs', `${label}-${path.basename(args.dataset)}`);
  // Every argument is checked before the data is read (a download, a long read): the model
  // (a model to fine-tune is loaded, its head replaced and its body frozen now), the optimizer
  // and its learning rate, the output folders, the dataset's arguments.
  const entry = args.from ? null : zooEntry(args.model);
  const tuned = args.from ? await fineTuneModel(args) : null;
  // A folder of images is read at the size of the model being fine-tuned, unless told otherwise.
  if (tuned && !args.imageSize && args.dataset !== 'mnist' && args.dataset !== 'cifar10') {
    const [h, w] = tuned.inputs[0]!.shape.slice(1) as number[];
    if (tuned.inputs[0]!.shape.length === 4) args = { ...args, imageSize: [h!, w!] };
  }
  let lr = args.lr;
  const adaptive =
    lr === undefined &&
    entry?.adaptiveLearningRate !== undefined &&
    ['adam', 'adamw', 'rmsprop'].includes(args.optimizer.toLowerCase());
  if (adaptive) lr = entry!.adaptiveLearningRate;
  const options = optimizerOptions(args);
  // Built now to check its options before the data is read; a schedule, which counts the
  // steps of an epoch, replaces it once the data's size is known.
  let optimizer = getOptimizer(
    args.optimizer,
    lr === undefined ? options : { ...options, learningRate: lr },
  );
  const baseRate = optimizer.learningRate as number;
  const scheduled = (args.schedule ?? 'constant') !== 'constant' || (args.warmupEpochs ?? 0) > 0;
  if (scheduled && (args.warmupEpochs ?? 0) >= args.epochs)
    throw new ArgumentError(
      `train: --warmup-epochs ${args.warmupEpochs} leaves no epoch after the warm-up in a run of ${args.epochs}. Give fewer warm-up epochs or more --epochs.`,
    );
  // Make sure the results can be written before the data is read and hours are spent
  // training; a dataset that then fails to load must not leave an empty run folder behind.
  const undoOut = await checkWritableDir(out, 'train --out');
  let data: Awaited<ReturnType<typeof loadDataset>>;
  try {
    if (args.report) {
      await checkWritableDir(path.dirname(args.report), 'train --report');
      const fs = await import('node:fs/promises');
      if ((await fs.stat(args.report).catch(() => null))?.isDirectory())
        throw new IOError(
          `train --report: cannot write '${args.report}': it is a folder, not a file. Give a file name, e.g. ${path.join(args.report, 'report.html')}.`,
          args.report,
          'EISDIR',
        );
    }
    await checkDataArgs(args);
    data = await loadDataset({ ...args, log });
  } catch (e) {
    await undoOut();
    throw e;
  }
  log(
    `Data: ${data.name} from ${data.source}: ${data.train.labels.length} training and ${data.test.labels.length} test images of ${data.train.shape.join('×')}, ${data.train.classNames.length} classes`,
  );
  const train = toTensors(data.train);
  const test = toTensors(data.test);
  const stepsPerEpoch = Math.ceil(data.train.labels.length / args.batchSize);
  if (scheduled) {
    optimizer = getOptimizer(args.optimizer, {
      ...options,
      learningRate: learningRateFor(baseRate, args, stepsPerEpoch),
    });
    if (!resumed) log(`Learning rate: ${describeSchedule(baseRate, args, stepsPerEpoch)}`);
  }

  // A resumed run builds the same model and optimizer as it started with; BackupAndRestore
  // then puts back the weights, the optimizer's state and the random generator.
  const model = tuned
    ? checkFits(tuned, args, data.train.shape, data.train.classNames.length)
    : entry!.build({
        numClasses: data.train.classNames.length,
        inputShape: data.train.shape,
      });
  if (adaptive && !resumed)
    log(`Learning rate ${lr}: ${args.model}'s default with ${args.optimizer} (--lr to change it)`);
  // An imported model often ends in logits (torchvision's do): the loss takes them as such.
  const lossFn = outputsProbabilities(model)
    ? 'sparseCategoricalCrossentropy'
    : sparseCategoricalCrossentropy({ fromLogits: true });
  model.compile({ optimizer, loss: lossFn, metrics: ['accuracy'] });
  if (resumed)
    log(`Resuming from ${args.resume}: epoch ${resumed.epoch + 1}, batch ${resumed.batch}`);
  else if (args.verbose > 0) model.summary({ print: log });

  const { given: _given, ...runArgs } = args;
  const backup = new BackupAndRestore({
    backupDir: path.join(out, 'checkpoint'),
    deleteCheckpoint: false,
    extra: { args: runArgs },
  });
  let history: Record<string, number[]> = {};
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    model.stopTraining = true;
  };
  // The message waits for fit to stop: a live progress bar redraws its line (restoring the
  // cursor) until then and would overwrite it. It comes before the backup is written.
  const announce = {
    onTrainEnd() {
      if (interrupted) log('Interrupted: saving a checkpoint (Ctrl-C again to quit at once) ...');
    },
  };
  process.on('SIGINT', onSigint);
  try {
    // fit() runs even when a resumed run has no epoch left: its BackupAndRestore puts the
    // trained weights back (a kill after the last epoch, before the final save).
    // With augmentation the examples go through the Dataset pipeline (new crops and flips
    // every epoch, repeatable for the seed); without, fit() gathers batches from tensors.
    const source = args.augment
      ? Dataset.fromImageSet(data.train)
          .shuffle(args.seed)
          .map(augment.randomCrop({ padding: 4 }), { seed: args.seed })
          .map(augment.horizontalFlip(), { seed: args.seed + 1 })
          .batch(args.batchSize)
      : null;
    const fitOptions = {
      epochs: args.epochs,
      batchSize: args.batchSize,
      seed: args.seed,
      verbose: args.verbose,
      callbacks: [announce, backup],
      ...(args.validation
        ? { validationData: [test.x, test.y] as [typeof test.x, typeof test.y] }
        : {}),
    };
    const h = await (source
      ? model.fit(source, fitOptions)
      : model.fit(train.x, train.y, fitOptions));
    history = h.history;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (interrupted) {
    // BackupAndRestore saved the checkpoint as fit stopped (partial epoch included).
    log(
      `Checkpoint saved in ${path.join(out, 'checkpoint')}. Continue with: receptive train --resume ${out}`,
    );
    process.exitCode = 130;
    return { model, testLoss: Number.NaN, testAccuracy: Number.NaN, out };
  }

  const { loss, accuracy } = await model.evaluate(test.x, test.y, { batchSize: 256 });
  log(
    `Test loss ${loss!.toFixed(4)}, test accuracy ${(accuracy! * 100).toFixed(2)}% (${data.test.labels.length} images)`,
  );
  await model.save(out);
  await writeFileAtomic(
    path.join(out, 'history.json'),
    JSON.stringify(
      { epochs: history.loss?.length ?? 0, history, test: { loss, accuracy } },
      null,
      1,
    ),
    'train',
  );
  const written = [path.join(out, 'model.json'), path.join(out, 'history.json')];
  if ((history.loss?.length ?? 0) > 0) {
    const chart = await trainingCurves(history, { title: `${label} on ${data.name}` });
    await writeFileAtomic(path.join(out, 'curves.svg'), chart.svg, 'train');
    written.push(path.join(out, 'curves.svg'));
    try {
      await writeFileAtomic(path.join(out, 'curves.png'), await chart.png(), 'train');
      written.push(path.join(out, 'curves.png'));
    } catch (e) {
      if (e instanceof IOError) throw e;
      // The PNG is a convenience: its renderer is an optional package.
      log(
        e instanceof MissingPackageError
          ? `(no curves.png: ${e.packages.join(' and ')} is not installed; npm install ${e.packages.join(' ')} draws it. curves.svg has the same plot)`
          : `(curves.png could not be drawn: ${(e as Error).message}; curves.svg has the same plot)`,
      );
    }
  }
  if (args.report) {
    const html = await trainingReport(model, test.x, test.y, history, {
      title: `${label} on ${data.name}`,
      classNames: data.test.classNames,
      facts: [
        [
          'Data',
          `${data.name}: ${data.train.labels.length.toLocaleString('en-US')} training and ${data.test.labels.length.toLocaleString('en-US')} test images of ${data.train.shape.join('×')}`,
        ],
        [
          'Training',
          `${history.loss?.length ?? 0} epoch${history.loss?.length === 1 ? '' : 's'}, batch size ${args.batchSize}, ${args.optimizer}${Object.keys(options).length > 0 ? ` ${JSON.stringify(options)}` : ''} (learning rate ${describeSchedule(baseRate, args, stepsPerEpoch)}), seed ${args.seed}`,
        ],
        ['Test loss', loss!.toFixed(4)],
      ],
      // Grad-CAM beside each sample, where the model has a layer with feature maps to weigh.
      gradCam: spatialLayerNames(model).length > 0,
    });
    await writeFileAtomic(args.report, html, 'train --report');
    written.push(args.report);
  }
  log(`Saved: ${written.join(', ')}`);
  return { model, testLoss: loss!, testAccuracy: accuracy!, out };
}

/** The model `--from` names, with its new classifier (--num-classes) and frozen body (--freeze body). */
async function fineTuneModel(args: TrainArgs): Promise<Model> {
  const { loadModel } = await import('../io/handlers/node.js');
  let model = await loadModel(args.from!);
  if (args.numClasses !== undefined) model = model.replaceHead(args.numClasses);
  // 'none' trains every layer, also those a saved model kept frozen.
  if (args.freeze === 'body') model.freeze({ except: ['head', ...(args.trainable ?? [])] });
  else model.unfreeze();
  return model;
}

/** Checks that the data fits the model being fine-tuned: its input size and its classes. */
function checkFits(model: Model, args: TrainArgs, shape: number[], classes: number): Model {
  const want = model.inputs[0]!.shape.slice(1) as number[];
  if (want.length !== shape.length || want.some((d, i) => d !== shape[i]))
    throw new ArgumentError(
      `train --from ${args.from}: the model takes images of ${want.join('×')}, the dataset's are ${shape.join('×')}.` +
        (args.dataset === 'mnist' || args.dataset === 'cifar10'
          ? ' Use a folder dataset (resized with --image-size) or a model for these images.'
          : ` Leave --image-size out (the images are then read at the model's size) or give --image-size ${want[0]},${want[1]}.`),
    );
  const out = model.outputs[0]!.shape;
  const scores = out[out.length - 1];
  if (scores !== classes)
    throw new ArgumentError(
      `train --from ${args.from}: the model scores ${scores} classes, the dataset has ${classes}. Give --num-classes ${classes} to put a new classifier in place of the model's own.`,
    );
  return model;
}
