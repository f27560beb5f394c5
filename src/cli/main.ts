#!/usr/bin/env node
/** The `receptive` command. Each subcommand has --help. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { backendNames, setBackend, setThreads } from '../backend/registry.js';
import { toTensors } from '../data/image_set.js';
import { toIOError } from '../io/files.js';
import { loadModel } from '../io/handlers/node.js';
import { outputsProbabilities } from '../model/head.js';
import { modelNames, zooEntry } from '../models/registry.js';
import { buildShapesOnly } from '../nn/layer.js';
import { optimizerNames } from '../optim/registry.js';
import { sparseCategoricalCrossentropy } from '../train/losses.js';
import { ArgumentError, ReceptiveError } from '../util/errors.js';
import { didYouMean } from '../util/options.js';
import { nonNegativeInt, numberIn, positiveInt } from './arg_parsers.js';
import { convolveCommand } from './convolve.js';
import { checkDataArgs, loadDataset } from './datasets.js';
import { explainCommand } from './explain.js';
import { explainConvCommand } from './explain_conv.js';
import { registerExportCommand } from './export.js';
import { describeModel, importCommand } from './import.js';
import {
  classNames,
  imageInputShape,
  probabilities,
  readModelImage,
  topClassLines,
} from './model_image.js';
import { type TrainArgs, train } from './train.js';
import { trainSpeedrun } from './train_speedrun.js';
import { visualizeCommand } from './visualize.js';
import '../train/trainer.js';
import '../backend/native/register.js'; // the 'native' backend, the default where its addon loads

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number.');
  return n;
}
/**
 * --optimizer: a name getOptimizer knows (any case), checked as the command line is read.
 * Lookahead is left out: it wraps another optimizer, which one name cannot say.
 */
function optimizerArg(v: string): string {
  const names = optimizerNames().filter((n) => n !== 'lookahead');
  if (!names.includes(v.toLowerCase().replace(/_/g, '')))
    throw new InvalidArgumentError(
      `unknown optimizer '${v}'.${didYouMean(v.toLowerCase(), names)} Known: ${names.join(', ')}.`,
    );
  return v;
}
/** --input-shape h,w,c: three positive integers. */
function inputShapeArg(v: string): number[] {
  const p = v.split(',').map(Number);
  if (p.length !== 3 || p.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError('give H,W,C (three positive integers), e.g. 32,32,3.');
  return p;
}
function size(v: string): [number, number] {
  const p = v.split(/[,x]/).map(Number);
  if (p.length !== 2 || p.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError('give H,W, e.g. 32,32.');
  return [p[0]!, p[1]!];
}

const program = new Command();
program
  .name('receptive')
  .description('Convolutional neural networks, end to end, in TypeScript.')
  .version('0.1.0');

const backendOption = () =>
  new Option('--backend <name>', 'kernel backend').choices(backendNames());
const threadsOption = () =>
  new Option(
    '--threads <n>',
    'threads for the kernels (default: every core, at most 8; or RECEPTIVE_THREADS)',
  ).argParser(positiveInt('--threads'));

// --threads applies before any command runs (the backend may start while data loads).
program.hook('preAction', (_program, action) => {
  const n = action.opts().threads as number | undefined;
  if (n !== undefined) setThreads(n);
});

program
  .command('train')
  .description(
    'train a zoo model on MNIST, CIFAR-10 or a folder of images, or fine-tune a saved or imported one (--from)',
  )
  .argument(
    '[model]',
    `model name: ${modelNames().join(', ')}; or cifar-speedrun, airbench94's recipe (rc.recipes.cifarSpeedrun: its own network, optimizer and augmentation)`,
  )
  .option(
    '--from <dir>',
    'fine-tune this model instead of a zoo one: a model directory (from import, train or model.save) or a file rc.loadModel reads (model.onnx ...)',
  )
  .option(
    '--num-classes <n>',
    "with --from: a new classifier for N classes (the dataset's) in place of the model's own",
    positiveInt('--num-classes'),
  )
  .addOption(
    new Option(
      '--freeze <part>',
      'with --from: body freezes every layer but the classifier (frozen batch norm keeps its statistics); none trains all',
    )
      .choices(['body', 'none'])
      .default('none'),
  )
  .option(
    '--trainable <layers>',
    'with --freeze body: comma-separated names of layers that train too (see receptive summary DIR)',
    (v) => v.split(',').filter((n) => n !== ''),
  )
  .option(
    '--dataset <name>',
    "'mnist', 'cifar10', or a folder with train/ and test/ image folders",
    'mnist',
  )
  .option(
    '--data-dir <dir>',
    "read the dataset's official files from DIR (any IDX dataset such as Fashion-MNIST with --dataset mnist)",
  )
  .option(
    '--epochs <n>',
    "epochs (default 10; with --resume, the run's own)",
    positiveInt('--epochs'),
  )
  .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 128)
  .option('--lr <rate>', 'learning rate (default: the optimizer default)', positive)
  .option('--optimizer <name>', 'sgd, adam, adamw or rmsprop', optimizerArg, 'adam')
  .option(
    '--momentum <m>',
    'momentum of sgd or rmsprop, in [0, 1) (default 0)',
    numberIn('--momentum', 0, 1),
  )
  .option('--nesterov', "Nesterov's momentum (sgd, with --momentum)")
  .option(
    '--weight-decay <w>',
    'L2 weight decay of sgd or adamw (default 0)',
    numberIn('--weight-decay', 0),
  )
  .addOption(
    new Option(
      '--schedule <name>',
      'the learning rate over the run: constant, or cosine (from --lr down to 0 at the last step)',
    )
      .choices(['constant', 'cosine'])
      .default('constant'),
  )
  .option(
    '--warmup-epochs <n>',
    'first raise the learning rate linearly from 0 to --lr over N epochs',
    nonNegativeInt('--warmup-epochs'),
  )
  .option(
    '--seed <n>',
    'random seed (weights, shuffling): runs repeat exactly',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new InvalidArgumentError('--seed must be an integer.');
      return n;
    },
    42,
  )
  .addOption(backendOption())
  .addOption(threadsOption())
  .option(
    '-o, --out <dir>',
    'where to save the model, history.json, curves.svg (and .png) and checkpoints (default runs/<model>-<dataset>)',
  )
  .option('--resume <dir>', 'continue an interrupted run from its checkpoint')
  .option(
    '--limit <n>',
    'use only N training images and N/6 test images, spread evenly over the set so every class stays (quick runs)',
    positiveInt('--limit'),
  )
  .option('--image-size <h,w>', 'resize folder images to H,W', size)
  .option('--augment', 'random crops (4 pixels of padding) and horizontal flips, new every epoch')
  .option('--no-validation', 'do not evaluate the test set after each epoch')
  .option('--quiet', 'one line per epoch instead of a progress bar')
  .option(
    '--report <file>',
    'also write a self-contained HTML report: curves, confusion matrix, sample predictions, model summary',
  )
  .action(async (model: string | undefined, o, cmd: Command) => {
    if (!model && !o.resume && !o.from)
      throw new InvalidArgumentError(
        `name a model (${modelNames().join(', ')}), give --from DIR (fine-tuning), or give --resume DIR`,
      );
    if (model && o.from)
      throw new InvalidArgumentError(`give a zoo model (${model}) or --from ${o.from}, not both.`);
    const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
    for (const k of ['numClasses', 'freeze', 'trainable'])
      if (given(k) && !o.from && !o.resume)
        throw new InvalidArgumentError(
          `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to fine-tuning: give --from DIR.`,
        );
    if (o.trainable && o.freeze !== 'body')
      throw new InvalidArgumentError(
        '--trainable names the layers that train besides the classifier when the rest is frozen: give --freeze body too.',
      );
    if (model === 'cifar-speedrun') {
      const not = [
        'from',
        'resume',
        'lr',
        'optimizer',
        'momentum',
        'nesterov',
        'weightDecay',
        'schedule',
        'warmupEpochs',
        'augment',
        'report',
        'validation',
        'numClasses',
        'freeze',
        'trainable',
      ];
      const bad = not.filter((k) => cmd.getOptionValueSource(k) === 'cli');
      if (bad.length > 0)
        throw new InvalidArgumentError(
          `train cifar-speedrun runs airbench94's recipe as it is: ${bad.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} do not apply (it takes --dataset, --data-dir, --epochs, --batch-size, --seed, --backend, --threads, --limit, --image-size, --out).`,
        );
      await trainSpeedrun({
        dataset: o.dataset,
        dataDir: o.dataDir,
        ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
        ...(cmd.getOptionValueSource('batchSize') === 'cli' ? { batchSize: o.batchSize } : {}),
        seed: o.seed,
        backend: o.backend,
        limit: o.limit,
        imageSize: o.imageSize,
        out: o.out,
      });
      return;
    }
    if (model) zooEntry(model);
    await train({
      model: model ?? '',
      ...(o.from ? { from: o.from, freeze: o.freeze } : {}),
      ...(o.numClasses !== undefined ? { numClasses: o.numClasses } : {}),
      ...(o.trainable ? { trainable: o.trainable } : {}),
      dataset: o.dataset,
      dataDir: o.dataDir,
      epochs: o.epochs ?? (o.resume ? 0 : 10),
      batchSize: o.batchSize,
      lr: o.lr,
      optimizer: o.optimizer,
      ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
      ...(o.nesterov ? { nesterov: true } : {}),
      ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
      schedule: o.schedule,
      ...(o.warmupEpochs !== undefined ? { warmupEpochs: o.warmupEpochs } : {}),
      seed: o.seed,
      backend: o.backend,
      out: o.out,
      resume: o.resume,
      limit: o.limit,
      validation: o.validation,
      imageSize: o.imageSize,
      augment: Boolean(o.augment),
      verbose: o.quiet ? 2 : 1,
      report: o.report,
      // What the user typed, not the defaults: a resumed run refuses a flag that contradicts it.
      given: [
        ...(model ? (['model'] as const) : []),
        ...Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli'),
      ] as (keyof TrainArgs)[],
    });
  });

program
  .command('evaluate')
  .description('evaluate a saved model on a dataset')
  .argument('<dir>', 'a model directory (from train --out or model.save)')
  .option('--dataset <name>', "'mnist', 'cifar10', or a folder with train/ and test/", 'mnist')
  .option('--data-dir <dir>', 'read the dataset from DIR')
  .option('--image-size <h,w>', 'resize folder images to H,W', size)
  .addOption(backendOption())
  .addOption(threadsOption())
  .action(async (dir: string, o) => {
    if (o.backend) await setBackend(o.backend);
    await checkDataArgs(o);
    const model = await loadModel(dir);
    const data = await loadDataset({
      dataset: o.dataset,
      dataDir: o.dataDir,
      imageSize: o.imageSize,
      log: console.log,
    });
    const { x, y } = toTensors(data.test);
    model.compile({
      optimizer: 'sgd',
      loss: outputsProbabilities(model)
        ? 'sparseCategoricalCrossentropy'
        : sparseCategoricalCrossentropy({ fromLogits: true }),
      metrics: ['accuracy'],
    });
    const { loss, accuracy } = await model.evaluate(x, y, { batchSize: 256 });
    console.log(
      `test loss ${loss!.toFixed(4)}, test accuracy ${(accuracy! * 100).toFixed(2)}% (${data.test.labels.length} images)`,
    );
  });

program
  .command('predict')
  .description('top-5 classes of an image with their probabilities')
  .argument('<dir>', 'a model directory')
  .argument('<image>', 'a PNG or JPEG file')
  .option(
    '--classes <names>',
    'comma-separated class names (default: the model has them or 0..N-1)',
  )
  .action(async (dir: string, image: string, o) => {
    const model = await loadModel(dir);
    imageInputShape(model, 'predict');
    // --classes must name every class the model scores: checked before the image is read.
    const names = classNames(model, o.classes, 'predict');
    const { x } = await readModelImage(model, image, 'predict');
    for (const line of topClassLines(probabilities(model, x), names)) console.log(line);
  });

program
  .command('summary')
  .description(
    "print a model's layers, output shapes and parameter counts: a zoo model, or a saved or imported one",
  )
  .argument(
    '<model>',
    `model name (${modelNames().join(', ')}), or a model directory or file (from import, train, model.save; model.onnx ...)`,
  )
  .option('--input-shape <h,w,c>', 'zoo models: input shape, e.g. 32,32,3', inputShapeArg)
  .option('--classes <n>', 'zoo models: number of classes', positiveInt('--classes'))
  .action(async (name: string, o: { inputShape?: number[]; classes?: number }) => {
    if (!modelNames().includes(name)) {
      const fs = await import('node:fs/promises');
      if (await fs.stat(name).catch(() => null)) {
        if (o.inputShape || o.classes)
          throw new ArgumentError(
            `summary: --input-shape and --classes build a zoo model; ${name} is a saved model with its own. Leave them out.`,
          );
        const model = await loadModel(name);
        model.summary();
        console.log(describeModel(model));
        return;
      }
      if (/[/\\.]/.test(name))
        throw new ArgumentError(
          `summary: ${name} does not exist; give a zoo model name (${modelNames().join(', ')}) or a model directory or file.`,
        );
    }
    const entry = zooEntry(name);
    const inputShape = o.inputShape ?? entry.defaultInput;
    // Shapes and counts only: VGG16's 138 million weights are never drawn.
    const model = buildShapesOnly(() =>
      entry.build({ inputShape, ...(o.classes ? { numClasses: o.classes } : {}) }),
    );
    model.summary();
  });

program.addCommand(importCommand());
program.addCommand(convolveCommand());
program.addCommand(explainCommand());
program.addCommand(explainConvCommand());
program.addCommand(visualizeCommand());

registerExportCommand(program);

/** Errors that are the user's to fix (bad data, bad arguments, a missing file): a message, not a stack trace. */
function isUserError(e: unknown): e is Error {
  if (e instanceof ReceptiveError || e instanceof CommanderError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return (
    e instanceof Error &&
    typeof code === 'string' &&
    /^E[A-Z]+$/.test(code) &&
    typeof (e as { syscall?: unknown }).syscall === 'string'
  );
}

// One line, no stack trace, exit code 1. A system error that escaped the library's own
// mapping (it should not) is still said in words and names its path.
program.parseAsync(process.argv).catch((e: unknown) => {
  if (isUserError(e)) {
    const path = (e as { path?: unknown }).path;
    const err =
      e instanceof ReceptiveError || e instanceof CommanderError || typeof path !== 'string'
        ? e
        : (toIOError(
            e,
            'receptive',
            /read|open|stat|scandir/.test(String((e as { syscall?: unknown }).syscall))
              ? 'read'
              : 'write',
            path,
          ) as Error);
    console.error(`receptive: ${err.message}`);
    process.exit(1);
  }
  throw e;
});
