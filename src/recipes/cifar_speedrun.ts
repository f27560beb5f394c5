/**
 * Airbench94's CIFAR-10 recipe (Keller Jordan, arXiv 2404.00498) written with the public API:
 * its network, the patch-whitening and identity initializations, Nesterov SGD under Lookahead
 * with its schedules, label smoothing, alternating flip and translation, and multi-crop
 * test-time augmentation. Hyperparameters are airbench's, in its decoupled form (per 1024
 * examples), turned into the mean-loss SGD that receptive's losses give.
 */
import { alternatingFlip, normalize as normalizeImage, randomTranslate } from '../data/augment.js';
import { Dataset } from '../data/dataset.js';
import { checkImageSet, type ImageSet, spread } from '../data/image_set.js';
import { Sequential } from '../model/sequential.js';
import { layers } from '../nn/index.js';
import type { Layer } from '../nn/layer.js';
import { Lookahead } from '../optim/lookahead.js';
import type { LearningRateSchedule } from '../optim/schedules.js';
import { SGD } from '../optim/sgd.js';
import { type Tensor, tensor } from '../tensor.js';
import type { Logs } from '../train/callbacks.js';
import { sparseCategoricalCrossentropy } from '../train/losses.js';
import type { TestTimeAugmentation } from '../train/tta.js';
import '../train/trainer.js';
import { ArgumentError, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { Random } from '../util/random.js';
import { whiteningKernel } from './patch_whitening.js';

/** CIFAR-10's per-channel mean and standard deviation (airbench's constants), on 0..1 values. */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
/** See {@link CIFAR10_MEAN}. */
export const CIFAR10_STD = [0.247, 0.2435, 0.2616];

/** Options of {@link cifarSpeedrun}; every default is airbench94's. */
export interface CifarSpeedrunOptions {
  /**
   * Passes over the training set; a fraction stops part-way through the last one.
   * @default 9.9
   */
  epochs?: number;
  /**
   * Images per step (the last, smaller batch of an epoch is left out).
   * @default 1024
   */
  batchSize?: number;
  /**
   * The learning rate per 1024 examples in airbench's decoupled form; the SGD rate is
   * `learningRate · batchSize/1024 / (1 + 1/(1 − momentum))` for the batch's mean loss.
   * @default 11.5
   */
  learningRate?: number;
  /**
   * Nesterov momentum.
   * @default 0.85
   */
  momentum?: number;
  /**
   * The weight decay per 1024 examples (decoupled from the learning rate): each step shrinks
   * the weights by about `weightDecay · batchSize/1024 / (1 + 1/(1 − momentum))`.
   * @default 0.0153
   */
  weightDecay?: number;
  /**
   * How much faster BatchNorm's biases learn (their decay per step stays the others').
   * @default 64
   */
  biasScaler?: number;
  /**
   * Label smoothing of the cross-entropy.
   * @default 0.2
   */
  labelSmoothing?: number;
  /**
   * Epochs during which the whitening convolution's bias trains; frozen after.
   * @default 3
   */
  whitenBiasEpochs?: number;
  /**
   * The largest random translation, in pixels (reflect padding).
   * @default 2
   */
  translate?: number;
  /**
   * The test-time augmentation of {@link CifarSpeedrun.evaluate}.
   * @default 'flipTranslate'
   */
  tta?: TestTimeAugmentation;
  /**
   * Channels of the three blocks.
   * @default [64, 256, 256]
   */
  widths?: [number, number, number];
  /**
   * Classes of the output.
   * @default 10
   */
  numClasses?: number;
  /**
   * Training images used to compute the whitening filters (spread evenly over the set).
   * @default 5000
   */
  whiteningImages?: number;
  /**
   * Seeds the initial weights, the flip phases, the shuffling and the translations.
   * @default 0
   */
  seed?: number;
}

const KEYS: (keyof CifarSpeedrunOptions)[] = [
  'epochs',
  'batchSize',
  'learningRate',
  'momentum',
  'weightDecay',
  'biasScaler',
  'labelSmoothing',
  'whitenBiasEpochs',
  'translate',
  'tta',
  'widths',
  'numClasses',
  'whiteningImages',
  'seed',
];

/** The options with every default filled in. */
export type CifarSpeedrunSettings = Required<CifarSpeedrunOptions>;

const DEFAULTS: CifarSpeedrunSettings = {
  epochs: 9.9,
  batchSize: 1024,
  learningRate: 11.5,
  momentum: 0.85,
  weightDecay: 0.0153,
  biasScaler: 64,
  labelSmoothing: 0.2,
  whitenBiasEpochs: 3,
  translate: 2,
  tta: 'flipTranslate',
  widths: [64, 256, 256],
  numClasses: 10,
  whiteningImages: 5000,
  seed: 0,
};

/** One epoch of {@link CifarSpeedrun.train} (the last one may be a fraction of one). */
export interface SpeedrunEpoch {
  /** 0 first. */
  epoch: number;
  /** Steps made so far, all epochs together. */
  steps: number;
  /** The mean training loss over the epoch's batches. */
  loss: number;
  /** The training accuracy over the epoch's batches (augmented images). */
  accuracy: number;
  /** Seconds since train() began (the whitening initialization included). */
  seconds: number;
}

/** Options of {@link CifarSpeedrun.train}. */
export interface SpeedrunTrainOptions {
  /** Called after every epoch, awaited. */
  onEpoch?: (epoch: SpeedrunEpoch) => void | Promise<void>;
}

/** What {@link CifarSpeedrun.train} gives. */
export interface SpeedrunTrainResult {
  /** One entry per epoch. */
  epochs: SpeedrunEpoch[];
  /** Optimizer steps made. */
  steps: number;
  /** Wall time of the whole training, whitening initialization included. */
  seconds: number;
}

/** Options of {@link CifarSpeedrun.evaluate}. */
export interface SpeedrunEvaluateOptions {
  /** The test-time augmentation (default: the run's `tta` setting). */
  tta?: TestTimeAugmentation;
}

/** What {@link CifarSpeedrun.evaluate} gives. */
export interface SpeedrunEvaluation {
  /** The fraction of images classified right. */
  accuracy: number;
  /** The mean cross-entropy (label smoothing included). */
  loss: number;
  /** Wall time of the evaluation. */
  seconds: number;
}

/** The recipe, ready to run: {@link cifarSpeedrun} returns one. */
export interface CifarSpeedrun {
  /** The network (logits out), initialized as airbench's but for the whitening filters, which train() computes from the data. */
  readonly model: Sequential;
  /** The options in use, defaults filled in. */
  readonly settings: Readonly<CifarSpeedrunSettings>;
  /** The SGD learning rate at the peak of the schedule, for the mean loss of a batch. */
  readonly sgdLearningRate: number;
  /** The SGD weight decay (PyTorch's L2 form: added to the gradient as decay·w). */
  readonly sgdWeightDecay: number;
  /**
   * Initializes the whitening filters from `data`, then trains on it (normalized, alternating
   * flip, translation) for `settings.epochs`, and ends on Lookahead's slow weights. Once only.
   * @throws ShapeError for images other than 32×32×3; ArgumentError for fewer images than a
   * batch, labels outside the classes, or a second call
   */
  train(data: ImageSet, options?: SpeedrunTrainOptions): Promise<SpeedrunTrainResult>;
  /**
   * Accuracy and loss on `data` (normalized) with the test-time augmentation of
   * `settings.tta`, or of `options.tta`.
   */
  evaluate(data: ImageSet, options?: SpeedrunEvaluateOptions): Promise<SpeedrunEvaluation>;
}

function positive(where: string, name: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new ArgumentError(
      `${where}: ${name} must be a positive ${integer ? 'integer' : 'finite number'}, got ${String(v)}.`,
    );
  return v;
}

function settingsOf(options: CifarSpeedrunOptions): CifarSpeedrunSettings {
  const where = 'cifarSpeedrun';
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ArgumentError(
      `${where}: options must be an object such as { epochs: 9.9 }, got ${String(options)}.`,
    );
  checkOptions(where, options, KEYS);
  const s = { ...DEFAULTS, ...options } as CifarSpeedrunSettings;
  positive(where, 'epochs', s.epochs);
  positive(where, 'batchSize', s.batchSize, true);
  positive(where, 'learningRate', s.learningRate);
  positive(where, 'biasScaler', s.biasScaler);
  positive(where, 'numClasses', s.numClasses, true);
  positive(where, 'whiteningImages', s.whiteningImages, true);
  if (s.numClasses < 2)
    throw new ArgumentError(`${where}: numClasses must be at least 2, got ${s.numClasses}.`);
  if (typeof s.momentum !== 'number' || !(s.momentum >= 0 && s.momentum < 1))
    throw new ArgumentError(`${where}: momentum must be in [0, 1), got ${String(s.momentum)}.`);
  for (const k of ['weightDecay', 'whitenBiasEpochs', 'translate'] as const)
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k]) || s[k] < 0)
      throw new ArgumentError(`${where}: ${k} must be a finite number >= 0, got ${String(s[k])}.`);
  if (!Number.isInteger(s.translate))
    throw new ArgumentError(
      `${where}: translate must be a whole number of pixels, got ${s.translate}.`,
    );
  if (typeof s.labelSmoothing !== 'number' || !(s.labelSmoothing >= 0 && s.labelSmoothing < 1))
    throw new ArgumentError(
      `${where}: labelSmoothing must be in [0, 1), got ${String(s.labelSmoothing)}.`,
    );
  if (!['none', 'flip', 'flipTranslate'].includes(s.tta as string))
    throw new ArgumentError(
      `${where}: tta must be 'none', 'flip' or 'flipTranslate', got ${JSON.stringify(s.tta)}.`,
    );
  if (
    !Array.isArray(s.widths) ||
    s.widths.length !== 3 ||
    s.widths.some((w) => !Number.isInteger(w) || w < 1)
  )
    throw new ArgumentError(
      `${where}: widths must be three positive integers (the blocks' channels), got ${JSON.stringify(s.widths)}.`,
    );
  if (!Number.isSafeInteger(s.seed))
    throw new ArgumentError(`${where}: seed must be an integer, got ${String(s.seed)}.`);
  return { ...s, widths: [...s.widths] as [number, number, number] };
}

/** PyTorch's default initialization of a convolution or linear weight: U(±1/√fan_in). */
function torchUniform(rng: Random, shape: number[], fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-bound, bound);
  return v;
}

/**
 * Airbench's "dirac" initialization of a 3×3 convolution kernel [kh, kw, in, out]: the first
 * min(in, out) filters pass their input channel through unchanged (a one at the centre tap),
 * the other filters keep their random values. With out ≥ in the layer starts as the identity
 * on its first `in` channels.
 */
export function diracInit(kernel: Float32Array, shape: [number, number, number, number]): void {
  const [kh, kw, cin, cout] = shape;
  if (kernel.length !== kh * kw * cin * cout)
    throw new ShapeError(
      `diracInit: the kernel has ${kernel.length} values, shape [${shape}] needs ${kh * kw * cin * cout}.`,
    );
  if (kh % 2 === 0 || kw % 2 === 0)
    throw new ShapeError(`diracInit: needs an odd kernel size to have a centre, got ${kh}×${kw}.`);
  const cy = (kh - 1) / 2;
  const cx = (kw - 1) / 2;
  for (let o = 0; o < Math.min(cin, cout); o++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++)
          kernel[((y * kw + x) * cin + i) * cout + o] = y === cy && x === cx && i === o ? 1 : 0;
}

/** The network's layers that the recipe reaches into. */
interface Net {
  model: Sequential;
  whiten: Layer;
  whitenBias: Layer;
}

/** Airbench94's network, its weights initialized as airbench's (the whitening filters excepted). */
function buildNet(s: CifarSpeedrunSettings): Net {
  const rng = new Random(s.seed);
  const whiteWidth = 2 * 3 * 2 * 2;
  const whiten = new layers.Conv2D({
    name: 'whiten',
    filters: whiteWidth,
    kernelSize: 2,
    padding: 'valid',
    useBias: false,
    trainable: false,
    inputShape: [32, 32, 3],
  });
  // The bias on its own layer, so that it can be frozen apart from the (always frozen) filters.
  const whitenBias = new layers.ConstantArithmetic({
    name: 'whiten_bias',
    op: 'add',
    constantShape: [whiteWidth],
    trainableConstant: true,
  });
  const list: Layer[] = [whiten, whitenBias, new layers.Activation({ activation: 'gelu' })];
  let cin = whiteWidth;
  s.widths.forEach((width, b) => {
    const name = `block${b + 1}`;
    const bn = (k: number) =>
      new layers.BatchNormalization({
        name: `${name}_norm${k}`,
        momentum: 0.6,
        epsilon: 1e-12,
        scale: false,
      });
    list.push(
      new layers.Conv2D({
        name: `${name}_conv1`,
        filters: width,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
      }),
      new layers.MaxPooling2D({ poolSize: 2 }),
      bn(1),
      new layers.Activation({ activation: 'gelu' }),
      new layers.Conv2D({
        name: `${name}_conv2`,
        filters: width,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
      }),
      bn(2),
      new layers.Activation({ activation: 'gelu' }),
    );
    cin = width;
  });
  list.push(
    new layers.MaxPooling2D({ poolSize: 3 }),
    new layers.Flatten(),
    new layers.Dense({ name: 'head', units: s.numClasses, useBias: false }),
    new layers.ConstantArithmetic({ name: 'head_scale', op: 'multiply', constantShape: [] }),
  );
  void cin;
  const model = new Sequential(list, { name: 'cifar_speedrun' });
  for (const layer of model.layers) {
    if (layer instanceof layers.Conv2D && layer !== whiten) {
      const shape = layer.kernel.shape as [number, number, number, number];
      const k = torchUniform(rng, shape, shape[0] * shape[1] * shape[2]);
      diracInit(k, shape);
      layer.setWeights([k]);
    } else if (layer instanceof layers.Dense) {
      const shape = layer.kernel.shape;
      layer.setWeights([torchUniform(rng, shape, shape[0]!)]);
    } else if (layer.name === 'head_scale') {
      layer.setWeights([Float32Array.of(1 / 9)]);
    }
  }
  return { model, whiten, whitenBias };
}

/** Images of a set as normalized float values [n, 32, 32, 3]. */
function normalizedImages(set: ImageSet): Float32Array {
  const x = new Float32Array(set.images.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % 3;
    x[i] = (set.images[i]! / 255 - CIFAR10_MEAN[c]!) / CIFAR10_STD[c]!;
  }
  return x;
}

function checkData(
  where: string,
  set: ImageSet,
  s: CifarSpeedrunSettings,
  minImages: number,
): void {
  if (set === null || typeof set !== 'object' || !(set.images instanceof Uint8Array))
    throw new ArgumentError(
      `${where}: expects an ImageSet ({ images, labels, shape, classNames }, as rc.data.loadCifar10 gives), got ${String(set)}.`,
    );
  const sh = set.shape;
  if (!Array.isArray(sh) || sh[0] !== 32 || sh[1] !== 32 || sh[2] !== 3)
    throw new ShapeError(
      `${where}: the recipe's network takes 32×32 RGB images, got images of shape ${JSON.stringify(sh)}. Resize them (--image-size 32,32 on the command line).`,
    );
  checkImageSet(set, where);
  if (set.classNames.length > s.numClasses)
    throw new ArgumentError(
      `${where}: the data has ${set.classNames.length} classes, the network ${s.numClasses} outputs; set numClasses.`,
    );
  if (set.labels.length < minImages)
    throw new ArgumentError(
      `${where}: needs at least ${minImages} images (one batch of batchSize ${s.batchSize}), got ${set.labels.length}. Use a smaller batchSize.`,
    );
}

/** A schedule of this run only: it cannot be saved with the optimizer (the model can). */
function recipeSchedule(fn: (t: number) => number): LearningRateSchedule {
  return Object.assign(fn, {
    getConfig: (): never => {
      throw new ArgumentError(
        "cifarSpeedrun: the recipe's schedules cannot be saved with the optimizer; save the model alone.",
      );
    },
  });
}

const lossOf = (s: CifarSpeedrunSettings) =>
  sparseCategoricalCrossentropy({ fromLogits: true, labelSmoothing: s.labelSmoothing });

/**
 * Airbench94's CIFAR-10 training recipe, to run on any 32×32 RGB image set:
 *
 * - the network: a 2×2 convolution of 24 frozen filters (12 patch-whitening filters computed
 *   from the training images and their negatives) with a bias trained for the first epochs,
 *   GELU, then three blocks of conv 3×3 → max-pool → BatchNorm → GELU → conv 3×3 → BatchNorm
 *   → GELU (64, 256, 256 channels; BatchNorm momentum 0.6 in Keras's sense, epsilon 1e-12,
 *   scale frozen at one), a 3×3 max-pool and a linear layer without bias scaled by 1/9.
 *   The 3×3 convolutions start as the identity on their first channels (dirac).
 * - training: Nesterov SGD (momentum 0.85, weight decay, BatchNorm biases at 64× the rate)
 *   under Lookahead (every 5 steps; the slow weights' step 1 − 0.95⁵·(t/T)³), a linear
 *   warm-up from 0.2× to 1× over the first 23% of the steps then down to 0.07×, label
 *   smoothing 0.2, alternating flip and reflect translation by up to 2 pixels; the weights
 *   and BatchNorm's moving statistics end at Lookahead's slow (averaged) values.
 * - evaluation: multi-crop test-time augmentation (image, mirror, moved copies).
 *
 * @example
 * ```ts
 * const { train, test } = await rc.data.loadCifar10();
 * const run = rc.recipes.cifarSpeedrun();
 * await run.train(train, { onEpoch: (e) => console.log(e.epoch, e.accuracy, e.seconds) });
 * const { accuracy } = await run.evaluate(test); // with TTA
 * ```
 * @throws ArgumentError for an unknown option or a value out of range
 */
export function cifarSpeedrun(options: CifarSpeedrunOptions = {}): CifarSpeedrun {
  const s = settingsOf(options);
  const net = buildNet(s);
  const { model } = net;
  const stepScale = 1 + 1 / (1 - s.momentum);
  const sgdLearningRate = (s.learningRate * s.batchSize) / 1024 / stepScale;
  const sgdWeightDecay = s.weightDecay / s.learningRate;
  let trained = false;

  async function train(
    data: ImageSet,
    trainOptions: SpeedrunTrainOptions = {},
  ): Promise<SpeedrunTrainResult> {
    const where = 'cifarSpeedrun.train';
    checkOptions(where, trainOptions, ['onEpoch']);
    const onEpoch = trainOptions.onEpoch;
    if (onEpoch !== undefined && typeof onEpoch !== 'function')
      throw new ArgumentError(`${where}: onEpoch must be a function, got ${typeof onEpoch}.`);
    if (trained)
      throw new ArgumentError(
        `${where}: this run has trained already; make a new one with rc.recipes.cifarSpeedrun().`,
      );
    checkData(where, data, s, s.batchSize);
    trained = true;
    const start = performance.now();
    const seconds = () => (performance.now() - start) / 1000;

    // Whitening filters from (normalized, unaugmented) training images spread over the set.
    const few = spread(data, Math.min(s.whiteningImages, data.labels.length));
    const { kernel } = whiteningKernel(
      { x: normalizedImages(few), shape: [few.labels.length, 32, 32, 3] },
      2,
    );
    net.whiten.setWeights([kernel]);

    const stepsPerEpoch = Math.floor(data.labels.length / s.batchSize);
    const total = Math.ceil(stepsPerEpoch * s.epochs);
    const warm = Math.floor(total * 0.23);
    const lrFactor = (t: number) =>
      t < warm ? 0.2 + (0.8 * t) / warm : 1 - (0.93 * (t - warm)) / Math.max(1, total - warm);
    const lr = recipeSchedule((t) => sgdLearningRate * lrFactor(Math.min(t, total)));
    const optimizer = new Lookahead({
      optimizer: new SGD({
        learningRate: lr,
        momentum: s.momentum,
        nesterov: s.momentum > 0,
        weightDecay: sgdWeightDecay,
        paramMultipliers: [
          { match: '_norm\\d/beta$', learningRate: s.biasScaler, weightDecay: 1 / s.biasScaler },
        ],
      }),
      k: 5,
      // airbench's decay 0.95⁵·(t/T)³ of the slow weights is a step 1 − decay towards the fast ones.
      alpha: recipeSchedule((t) => 1 - 0.95 ** 5 * Math.min(1, t / total) ** 3),
    });
    // As airbench's Lookahead averages the whole state: the moving statistics the slow weights
    // end with are averaged as they are, not those of the last fast weights.
    optimizer.alsoAverage(
      model.layers.flatMap((l) =>
        l instanceof layers.BatchNormalization ? [l.movingMean, l.movingVariance] : [],
      ),
    );
    model.compile({ optimizer, loss: lossOf(s), metrics: ['accuracy'] });

    const ds = Dataset.fromImageSet(data)
      .map(normalizeImage({ mean: CIFAR10_MEAN, std: CIFAR10_STD }))
      .map(alternatingFlip({ seed: s.seed }))
      .shuffle(s.seed)
      .map(randomTranslate({ padding: s.translate }), { seed: s.seed })
      .batch(s.batchSize, { dropRemainder: true });

    const epochs: SpeedrunEpoch[] = [];
    let steps = 0;
    let last: Logs = {};
    const record = async (epoch: number, logs: Logs) => {
      const e: SpeedrunEpoch = {
        epoch,
        steps,
        loss: logs.loss ?? Number.NaN,
        accuracy: logs.accuracy ?? Number.NaN,
        seconds: seconds(),
      };
      epochs.push(e);
      if (onEpoch) await onEpoch(e);
    };
    let current = 0;
    await model.fit(ds, {
      epochs: Math.ceil(s.epochs),
      verbose: 0,
      callbacks: {
        onEpochBegin: (epoch: number) => {
          current = epoch;
          net.whitenBias.setTrainable(epoch < s.whitenBiasEpochs);
        },
        onBatchEnd: async (_batch: number, logs: Logs) => {
          steps++;
          last = logs;
          // A fractional last epoch: fit reports no epoch it cuts short, so the recipe does.
          if (steps >= total) {
            model.stopTraining = true;
            await record(current, last);
          }
        },
        onEpochEnd: (epoch: number, logs: Logs) => record(epoch, logs),
      },
    });
    optimizer.assignSlowWeights();
    return { epochs, steps, seconds: seconds() };
  }

  async function evaluate(
    data: ImageSet,
    evalOptions: SpeedrunEvaluateOptions = {},
  ): Promise<SpeedrunEvaluation> {
    const where = 'cifarSpeedrun.evaluate';
    checkOptions(where, evalOptions, ['tta']);
    checkData(where, data, s, 1);
    if (!model.compiled)
      model.compile({ optimizer: 'sgd', loss: lossOf(s), metrics: ['accuracy'] });
    const start = performance.now();
    const n = data.labels.length;
    const x: Tensor = tensor(normalizedImages(data), [n, 32, 32, 3]);
    const y: Tensor = tensor(Int32Array.from(data.labels), [n], 'int32');
    const logs = await model.evaluate(x, y, {
      batchSize: 500,
      verbose: 0,
      tta: evalOptions.tta ?? s.tta,
    });
    return {
      accuracy: logs.accuracy ?? Number.NaN,
      loss: logs.loss ?? Number.NaN,
      seconds: (performance.now() - start) / 1000,
    };
  }

  return { model, settings: s, sgdLearningRate, sgdWeightDecay, train, evaluate };
}
