/**
 * `receptive train <model> --dataset ...`: trains a zoo model with a progress bar, saves the
 * model, history.json and a plot of the curves, and checkpoints every epoch. Ctrl-C stops
 * after the current batch and saves a checkpoint that `--resume DIR` continues from exactly.
 */
import { setBackend } from '../backend/registry.js';
import * as augment from '../data/augment.js';
import { Dataset } from '../data/dataset.js';
import { toTensors } from '../data/image_set.js';
import { checkWritableDir, writeFileAtomic } from '../io/files.js';
import { loadModelFull } from '../io/save_load.js';
import { zooEntry } from '../models/registry.js';
import type { Model } from '../nn/model.js';
import { getOptimizer } from '../optim/registry.js';
import { Callback, type Logs } from '../train/callbacks.js';
import '../train/trainer.js';
import { ArgumentError, IOError } from '../util/errors.js';
import { globalRandom, setSeed } from '../util/random.js';
import { trainingCurves } from '../vision/plots.js';
import { trainingReport } from '../vision/report.js';
import { loadDataset } from './datasets.js';

export interface TrainArgs {
  model: string;
  dataset: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr?: number;
  optimizer: string;
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
}

interface CheckpointState {
  args: TrainArgs;
  /** The epoch to continue, and how many of its batches are done. */
  epoch: number;
  batch: number;
  optimizer: Record<string, unknown>;
  random: number[];
  history: Record<string, number[]>;
}

/** Tracks where training is, for checkpoints; saves one at the end of every epoch. */
class Checkpointer extends Callback {
  epoch = 0;
  batch = 0;
  history: Record<string, number[]>;
  constructor(
    private readonly dir: string,
    private readonly args: TrainArgs,
    history: Record<string, number[]>,
  ) {
    super();
    this.history = history;
  }
  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  override onBatchEnd(batch: number): void {
    this.batch = batch + 1;
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
    this.epoch = epoch + 1;
    this.batch = 0;
    await this.save();
  }
  async save(): Promise<void> {
    const path = await import('node:path');
    const opt = this.model.optimizer!;
    const state: CheckpointState = {
      args: this.args,
      epoch: this.epoch,
      batch: this.batch,
      optimizer: opt.getConfig() as unknown as Record<string, unknown>,
      random: globalRandom.getState(),
      history: this.history,
    };
    const params = this.model.trainableWeights;
    const slots = opt.iterations > 0 ? opt.getState(params) : [];
    await this.model.save(path.join(this.dir, 'checkpoint'), {
      extra: { checkpoint: state, optimizerSlots: slots.length },
      extraWeights: slots.map((data, i) => ({
        name: `optimizer/${i}`,
        shape: [data.length],
        data,
      })),
    });
  }
}

export async function train(
  args: TrainArgs,
  log: (line: string) => void = console.log,
): Promise<{ model: Model; testLoss: number; testAccuracy: number; out: string }> {
  const path = await import('node:path');
  let history: Record<string, number[]> = {};
  let startEpoch = 0;
  let startBatch = 0;
  let model: Model;
  let resumed: Awaited<ReturnType<typeof loadModelFull>> | null = null;

  if (args.resume) {
    resumed = await loadModelFull(path.join(args.resume, 'checkpoint'));
    const ck = resumed.file.extra?.checkpoint as CheckpointState | undefined;
    if (!ck)
      throw new ArgumentError(`--resume ${args.resume}: the checkpoint has no training state.`);
    // The run continues as it was started; only the number of epochs may grow.
    args = {
      ...ck.args,
      epochs: Math.max(args.epochs, ck.args.epochs),
      out: args.resume,
      resume: args.resume,
      verbose: args.verbose,
      ...(args.report ? { report: args.report } : {}),
    };
    history = ck.history;
    startEpoch = ck.epoch;
    startBatch = ck.batch;
    model = resumed.model;
  }
  if (args.backend) setBackend(args.backend);
  setSeed(args.seed);
  const out = args.out ?? path.join('runs', `${args.model}-${path.basename(args.dataset)}`);
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

  let lr = args.lr;
  if (!resumed) {
    const entry = zooEntry(args.model);
    model = entry.build({ numClasses: data.train.classNames.length, inputShape: data.train.shape });
    if (
      lr === undefined &&
      entry.adaptiveLearningRate !== undefined &&
      ['adam', 'adamw', 'rmsprop'].includes(args.optimizer.toLowerCase())
    ) {
      lr = entry.adaptiveLearningRate;
      log(
        `Learning rate ${lr}: ${args.model}'s default with ${args.optimizer} (--lr to change it)`,
      );
    }
  }
  model = model!;
  const optimizer = resumed
    ? getOptimizer((resumed.file.extra!.checkpoint as CheckpointState).optimizer as never)
    : getOptimizer(args.optimizer, lr === undefined ? {} : { learningRate: lr });
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  if (resumed) {
    const ck = resumed.file.extra!.checkpoint as CheckpointState;
    const n = Number(resumed.file.extra!.optimizerSlots ?? 0);
    if (n > 0)
      optimizer.setState(
        Array.from({ length: n }, (_, i) => resumed!.extraWeights.get(`optimizer/${i}`)!),
        model.trainableWeights,
      );
    globalRandom.setState(ck.random);
    log(`Resuming from ${args.resume}: epoch ${startEpoch + 1}, batch ${startBatch}`);
  } else if (args.verbose > 0) {
    model.summary({ print: log });
  }

  const checkpointer = new Checkpointer(out, args, history);
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    model.stopTraining = true;
    log('\nStopping after this batch and saving a checkpoint (Ctrl-C again to quit at once) ...');
  };
  process.on('SIGINT', onSigint);
  try {
    if (startEpoch < args.epochs) {
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
        initialEpoch: startEpoch,
        initialBatch: startBatch,
        seed: args.seed,
        verbose: args.verbose,
        callbacks: [checkpointer],
        ...(args.validation
          ? { validationData: [test.x, test.y] as [typeof test.x, typeof test.y] }
          : {}),
      };
      await (source ? model.fit(source, fitOptions) : model.fit(train.x, train.y, fitOptions));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (interrupted) {
    await checkpointer.save();
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
    const chart = await trainingCurves(history, { title: `${args.model} on ${data.name}` });
    await writeFileAtomic(path.join(out, 'curves.svg'), chart.svg, 'train');
    try {
      await writeFileAtomic(path.join(out, 'curves.png'), await chart.png(), 'train');
      written.push(path.join(out, 'curves.png'));
    } catch (e) {
      if (e instanceof IOError) throw e;
      log(`(curves.png could not be drawn: ${(e as Error).message}; curves.svg has the same plot)`);
    }
  }
  if (args.report) {
    const html = await trainingReport(model, test.x, test.y, history, {
      title: `${args.model} on ${data.name}`,
      classNames: data.test.classNames,
      facts: [
        [
          'Data',
          `${data.name}: ${data.train.labels.length.toLocaleString('en-US')} training and ${data.test.labels.length.toLocaleString('en-US')} test images of ${data.train.shape.join('×')}`,
        ],
        [
          'Training',
          `${history.loss?.length ?? 0} epoch${history.loss?.length === 1 ? '' : 's'}, batch size ${args.batchSize}, ${args.optimizer}${lr === undefined ? '' : ` (learning rate ${lr})`}, seed ${args.seed}`,
        ],
        ['Test loss', loss!.toFixed(4)],
      ],
    });
    await writeFileAtomic(args.report, html, 'train --report');
    written.push(args.report);
  }
  log(`Saved: ${written.join(', ')}`);
  return { model, testLoss: loss!, testAccuracy: accuracy!, out };
}
