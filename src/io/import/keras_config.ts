/**
 * Keras model configs (what `model.get_config()` gives, inside TensorFlow.js's model.json, a
 * Keras 3 `.keras` file's config.json and a Keras 2 `.h5` file's `model_config`) built as
 * receptive models. Each Keras layer class has one translation below: Keras's keys become
 * receptive's arguments explicitly; keys receptive has no use for are dropped only where their
 * value means nothing receptive would do differently (dtype float32, no regularizer,
 * channels_last ...), and any other value is a KerasImportError naming the layer and the key.
 * Initializers are dropped: the weights come from the file.
 */

import { Model } from '../../model/model.js';
import { Input } from '../../nn/functional.js';
import type { Layer, LayerConfig, SymbolicTensor } from '../../nn/layer.js';
import { registeredLayer } from '../../nn/layer.js';
import {
  ELU,
  HardSigmoid,
  HardSwish,
  PReLU,
  Softmax,
  Softplus,
} from '../../nn/layers/activations.js';
import { Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D } from '../../nn/layers/conv.js';
import { Activation, Dense, Dropout, Flatten, ReLU, Reshape } from '../../nn/layers/core.js';
import * as builtinLayers from '../../nn/layers/index.js';
import { Add, Concatenate, Maximum, Minimum, Multiply, Subtract } from '../../nn/layers/merge.js';
import { BatchNormalization } from '../../nn/layers/normalization.js';
import {
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  type Interpolation,
  MaxPooling2D,
  Resizing,
  UpSampling2D,
  ZeroPadding2D,
} from '../../nn/layers/pooling.js';
import { KerasImportError } from '../../util/errors.js';
import { noticeOnce } from '../../util/optional_packages.js';

/**
 * The Keras class of each model the reader built (Sequential or Functional; receptive builds
 * both as a functional Model): Keras 3 weights files name a nested model by its class.
 */
export const kerasClassOf = new WeakMap<Layer, string>();

/** What the reader needs to know about where a config came from. */
export interface KerasConfigContext {
  /** The file or URL, for messages. */
  where: string;
  /** Keras 3 wrote it (its hard_sigmoid differs from Keras 2's and TensorFlow.js's). */
  keras3: boolean;
  /**
   * TensorFlow.js runs it (a model.json): its bilinear UpSampling2D and its Resizing sample
   * other positions than Keras's, and the model is built to predict what TensorFlow.js does.
   */
  tfjs?: boolean;
}

type Json = Record<string, unknown>;
type Apply = (input: SymbolicTensor | SymbolicTensor[]) => SymbolicTensor;

/** One Keras layer, translated: how to apply it (to one input, or a list for merge layers). */
interface Built {
  apply: Apply;
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The interpolation of a resizing layer: 'nearest' or 'bilinear'. */
function interpolationOf(k: Keys, fallback: Interpolation): Interpolation {
  const v = k.take('interpolation') ?? fallback;
  if (v !== 'nearest' && v !== 'bilinear')
    k.fail(`interpolation = ${JSON.stringify(v)} is not supported (nearest or bilinear).`);
  return v as Interpolation;
}

/** The keys of one layer's config, taken one by one; what is left at the end is checked. */
class Keys {
  private readonly left: Map<string, unknown>;
  constructor(
    readonly cfg: Json,
    readonly label: string,
    readonly ctx: KerasConfigContext,
    readonly warnings: string[],
  ) {
    this.left = new Map(Object.entries(cfg));
  }
  /** The value of `key` (undefined when absent), now consumed. */
  take(key: string): unknown {
    const v = this.left.get(key);
    this.left.delete(key);
    return v;
  }
  fail(message: string): never {
    throw new KerasImportError(`${this.ctx.where}: ${this.label}: ${message}`);
  }
  /** A value that must be one of `allowed` (the receptive behaviour); absent is fine. */
  only(key: string, allowed: unknown[], why: string): void {
    const v = this.take(key);
    if (v === undefined || v === null) return;
    if (!allowed.some((a) => JSON.stringify(a) === JSON.stringify(v)))
      this.fail(`${key} = ${JSON.stringify(v)} is not supported (${why}).`);
  }
  int(key: string): number | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (!Number.isInteger(v)) this.fail(`${key} must be an integer, got ${JSON.stringify(v)}.`);
    return v as number;
  }
  num(key: string): number | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      this.fail(`${key} must be a number, got ${JSON.stringify(v)}.`);
    return v;
  }
  bool(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean')
      this.fail(`${key} must be true or false, got ${JSON.stringify(v)}.`);
    return v;
  }
  /** An int or a list of ints (kernel_size, strides ...). */
  ints(key: string): number | number[] | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) return undefined;
    if (Number.isInteger(v)) return v as number;
    if (Array.isArray(v) && v.every((d) => Number.isInteger(d))) return v as number[];
    return this.fail(`${key} must be an integer or a list of them, got ${JSON.stringify(v)}.`);
  }
  /**
   * The keys every layer may carry, then a check that nothing else is left: dtype must be
   * float32, data_format channels_last; regularizers and constraints only shape training, so
   * they are dropped with a warning; initializers do not matter (the weights come from the file).
   */
  finish(): void {
    for (const k of ['name', 'trainable', 'batch_input_shape', 'batch_shape', 'input_shape'])
      this.left.delete(k);
    // Settings of newer Keras versions that mean nothing when unset (LoRA, quantization).
    for (const k of ['lora_rank', 'lora_alpha', 'quantization_config'])
      if (this.left.get(k) === null) this.left.delete(k);
    for (const k of ['input_dim', 'sparse', 'ragged', 'autocast', 'batch_size']) {
      const v = this.left.get(k);
      if (v === null || v === undefined || v === false || k === 'batch_size' || k === 'input_dim')
        this.left.delete(k);
    }
    const dtype = this.take('dtype');
    const dtypeName = isObj(dtype) && isObj(dtype.config) ? dtype.config.name : dtype;
    if (dtypeName !== undefined && dtypeName !== null && dtypeName !== 'float32')
      this.fail(
        `dtype ${JSON.stringify(dtypeName)} is not supported: receptive computes in float32.`,
      );
    const format = this.take('data_format');
    if (format !== undefined && format !== null && format !== 'channels_last')
      this.fail(
        `data_format ${JSON.stringify(format)} is not supported: receptive layers take channels last (NHWC). Save the Keras model with data_format='channels_last'.`,
      );
    for (const k of [...this.left.keys()]) {
      if (/_initializer$/.test(k)) this.left.delete(k);
      else if (/_(regularizer|constraint)$/.test(k)) {
        const v = this.left.get(k);
        this.left.delete(k);
        if (v !== null && v !== undefined) this.warnings.push(`${this.label}: ${k}`);
      }
    }
    if (this.left.size)
      this.fail(
        `option(s) ${[...this.left].map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')} not supported by receptive's reader.`,
      );
  }
}

/** Keras's activation names that receptive layers take as an `activation` argument. */
const INLINE: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  elu: 'elu',
  swish: 'swish',
  silu: 'swish',
  gelu: 'gelu',
};

/** The activation names Keras writes that become a layer of their own after the layer. */
function activationLayer(name: string, k: Keys, layerName: string): Layer | null {
  const n = `${layerName}_${name}`;
  switch (name) {
    case 'relu6':
      return new ReLU({ name: n, maxValue: 6 });
    case 'softplus':
      return new Softplus({ name: n });
    case 'hard_sigmoid':
    case 'hardSigmoid':
      // Keras 3: relu6(x + 3) / 6; Keras 2 and TensorFlow.js: clip(0.2·x + 0.5, 0, 1).
      return new HardSigmoid({ name: n, alpha: k.ctx.keras3 ? 1 / 6 : 0.2, beta: 0.5 });
    case 'hard_silu':
    case 'hard_swish':
      return new HardSwish({ name: n });
    case 'leaky_relu':
      return new ReLU({ name: n, negativeSlope: 0.2 });
    default:
      return null;
  }
}

const ACTIVATIONS = [
  ...Object.keys(INLINE),
  'relu6',
  'softplus',
  'hard_sigmoid',
  'hard_silu',
  'hard_swish',
  'leaky_relu',
];

/** The activation of a layer: inline when receptive's layers have it, else a layer after it. */
function activationOf(k: Keys, layerName: string): { inline: string; after: Layer | null } {
  let v = k.take('activation');
  if (isObj(v)) v = v.class_name ?? v.config; // serialized as an object by some Keras versions
  if (v === undefined || v === null) return { inline: 'linear', after: null };
  if (typeof v !== 'string') return k.fail(`activation ${JSON.stringify(v)} is not a name.`);
  const snake = v.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if (INLINE[snake]) return { inline: INLINE[snake]!, after: null };
  const after = activationLayer(snake, k, layerName);
  if (after) return { inline: 'linear', after };
  return k.fail(
    `activation '${v}' is not supported. Supported activations: ${ACTIVATIONS.join(', ')}.`,
  );
}

/** A single-input application of `layer`, followed by `after` where the activation needs one. */
function chain(layer: Layer, after: Layer | null): Built {
  return {
    apply: (x) => {
      const y = layer.apply(x as SymbolicTensor) as SymbolicTensor;
      return after ? (after.apply(y) as SymbolicTensor) : y;
    },
  };
}

function padding(k: Keys): 'valid' | 'same' {
  const p = k.take('padding') ?? 'valid';
  if (p !== 'valid' && p !== 'same')
    k.fail(`padding ${JSON.stringify(p)} is not supported (valid, same).`);
  return p as 'valid' | 'same';
}

function convCommon(k: Keys) {
  const kernelSize = k.ints('kernel_size');
  if (kernelSize === undefined) k.fail('kernel_size is missing.');
  return {
    kernelSize: kernelSize as number | [number, number],
    strides: (k.ints('strides') ?? 1) as number | [number, number],
    padding: padding(k),
    dilationRate: (k.ints('dilation_rate') ?? 1) as number | [number, number],
    useBias: k.bool('use_bias') ?? true,
  };
}

function base(k: Keys): { name: string; trainable: boolean } {
  const name = k.cfg.name;
  if (typeof name !== 'string' || !name) k.fail('the layer has no name.');
  return { name: name as string, trainable: k.cfg.trainable !== false };
}

type Translator = (k: Keys) => Built;

/** One translation per Keras layer class. */
const TRANSLATORS: Record<string, Translator> = {
  Conv2D(k) {
    const filters = k.int('filters');
    if (filters === undefined) k.fail('filters is missing.');
    const c = convCommon(k);
    const groups = k.int('groups') ?? 1;
    const { inline, after } = activationOf(k, base(k).name);
    k.finish();
    const l = new Conv2D({
      ...base(k),
      ...c,
      filters: filters!,
      groups,
      activation: inline as 'relu',
    });
    return chain(l, after);
  },
  DepthwiseConv2D(k) {
    const c = convCommon(k);
    const depthMultiplier = k.int('depth_multiplier') ?? 1;
    const { inline, after } = activationOf(k, base(k).name);
    k.finish();
    return chain(
      new DepthwiseConv2D({ ...base(k), ...c, depthMultiplier, activation: inline as 'relu' }),
      after,
    );
  },
  SeparableConv2D(k) {
    const filters = k.int('filters');
    if (filters === undefined) k.fail('filters is missing.');
    const c = convCommon(k);
    const depthMultiplier = k.int('depth_multiplier') ?? 1;
    const { inline, after } = activationOf(k, base(k).name);
    k.finish();
    return chain(
      new SeparableConv2D({
        ...base(k),
        ...c,
        filters: filters!,
        depthMultiplier,
        activation: inline as 'relu',
      }),
      after,
    );
  },
  Conv2DTranspose(k) {
    const filters = k.int('filters');
    if (filters === undefined) k.fail('filters is missing.');
    const c = convCommon(k);
    const op = k.ints('output_padding');
    const { inline, after } = activationOf(k, base(k).name);
    k.finish();
    return chain(
      new Conv2DTranspose({
        ...base(k),
        ...c,
        filters: filters!,
        ...(op === undefined ? {} : { outputPadding: op as [number, number] }),
        activation: inline as 'relu',
      }),
      after,
    );
  },
  Dense(k) {
    const units = k.int('units');
    if (units === undefined) k.fail('units is missing.');
    const useBias = k.bool('use_bias') ?? true;
    const { inline, after } = activationOf(k, base(k).name);
    k.finish();
    return chain(
      new Dense({ ...base(k), units: units!, useBias, activation: inline as 'relu' }),
      after,
    );
  },
  BatchNormalization(k) {
    const axis = k.take('axis');
    const ax = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
    if (ax !== undefined && ax !== -1 && ax !== 3)
      k.fail(
        `axis ${JSON.stringify(axis)} is not supported: receptive normalizes the last axis (channels).`,
      );
    const momentum = k.num('momentum');
    const epsilon = k.num('epsilon');
    const center = k.bool('center');
    const scale = k.bool('scale');
    k.only('renorm', [false], 'batch renormalization is not implemented');
    for (const key of ['renorm_clipping', 'renorm_momentum', 'virtual_batch_size', 'adjustment'])
      k.only(key, [], 'not implemented');
    k.only('fused', [true, false], '');
    k.only('synchronized', [false], 'receptive trains on one device');
    k.finish();
    return chain(
      new BatchNormalization({
        ...base(k),
        ...(momentum === undefined ? {} : { momentum }),
        ...(epsilon === undefined ? {} : { epsilon }),
        ...(center === undefined ? {} : { center }),
        ...(scale === undefined ? {} : { scale }),
      }),
      null,
    );
  },
  MaxPooling2D: (k) => pooling(k, MaxPooling2D),
  AveragePooling2D: (k) => pooling(k, AveragePooling2D),
  GlobalAveragePooling2D: (k) => globalPooling(k, GlobalAveragePooling2D),
  GlobalMaxPooling2D: (k) => globalPooling(k, GlobalMaxPooling2D),
  ZeroPadding2D(k) {
    const p = k.take('padding') ?? 1;
    k.finish();
    return chain(new ZeroPadding2D({ ...base(k), padding: p as number }), null);
  },
  UpSampling2D(k) {
    const size = k.ints('size') ?? 2;
    const interpolation = interpolationOf(k, 'nearest');
    k.finish();
    // Keras samples bilinear upsampling at half pixels; TensorFlow.js asymmetrically.
    const coordinates = k.ctx.tfjs ? 'asymmetric' : 'half-pixel';
    return chain(
      new UpSampling2D({ ...base(k), size: size as [number, number], interpolation, coordinates }),
      null,
    );
  },
  Resizing(k) {
    const height = k.int('height');
    const width = k.int('width');
    if (height === undefined || width === undefined) k.fail('height and width are required.');
    const interpolation = interpolationOf(k, 'bilinear');
    k.only('crop_to_aspect_ratio', [false], 'receptive resizes without cropping');
    k.only('pad_to_aspect_ratio', [false], 'receptive resizes without padding');
    k.only('antialias', [false], 'receptive resizes without an antialiasing filter');
    // The fill of pad_to_aspect_ratio, which is off.
    k.take('fill_mode');
    k.take('fill_value');
    k.finish();
    // TensorFlow.js's Resizing aligns the corners (resizeBilinear with alignCorners true).
    const coordinates = k.ctx.tfjs ? 'align-corners' : 'half-pixel';
    return chain(
      new Resizing({ ...base(k), height: height!, width: width!, interpolation, coordinates }),
      null,
    );
  },
  Flatten(k) {
    k.finish();
    return chain(new Flatten(base(k)), null);
  },
  Reshape(k) {
    const t = k.take('target_shape');
    k.finish();
    return chain(new Reshape({ ...base(k), targetShape: t as number[] }), null);
  },
  Dropout(k) {
    const rate = k.num('rate') ?? 0;
    k.only('noise_shape', [], 'receptive drops single values');
    const seed = k.int('seed');
    k.finish();
    return chain(new Dropout({ ...base(k), rate, ...(seed === undefined ? {} : { seed }) }), null);
  },
  Activation(k) {
    const { name } = base(k);
    const { inline, after } = activationOf(k, name);
    k.finish();
    if (after) {
      // An activation receptive has as a layer of its own: that layer, with the Keras name.
      after.name = name;
      return chain(after, null);
    }
    return chain(new Activation({ ...base(k), activation: inline as 'relu' }), null);
  },
  ReLU(k) {
    const maxValue = k.num('max_value');
    const negativeSlope = k.num('negative_slope') ?? 0;
    k.only('threshold', [0], 'a shifted threshold is not implemented');
    k.finish();
    return chain(
      new ReLU({ ...base(k), ...(maxValue === undefined ? {} : { maxValue }), negativeSlope }),
      null,
    );
  },
  LeakyReLU(k) {
    // Keras 2 and TensorFlow.js call the slope alpha (default 0.3); Keras 3 negative_slope (0.3).
    const slope = k.num('negative_slope') ?? k.num('alpha') ?? 0.3;
    k.finish();
    return chain(new ReLU({ ...base(k), negativeSlope: slope }), null);
  },
  ELU(k) {
    const alpha = k.num('alpha') ?? 1;
    k.finish();
    return chain(new ELU({ ...base(k), alpha }), null);
  },
  PReLU(k) {
    // Keras's slopes have the shape of one example, 1 along shared_axes (counted with the batch
    // axis): made once the input shape is known.
    const shared = k.take('shared_axes');
    const axes = shared === undefined || shared === null ? [] : [shared].flat();
    if (!axes.every((a) => Number.isInteger(a) && (a as number) >= 1))
      k.fail(`shared_axes ${JSON.stringify(shared)} must be axes counted from 1 (0 is the batch).`);
    k.finish();
    const args = base(k);
    let l: PReLU | null = null;
    return {
      apply: (x) => {
        const s = (x as SymbolicTensor).shape;
        l ??= new PReLU({
          ...args,
          alphaShape: s.slice(1).map((d, i) => (axes.includes(i + 1) ? 1 : (d ?? 1))),
        });
        return l.apply(x as SymbolicTensor) as SymbolicTensor;
      },
    };
  },
  Softmax(k) {
    // Keras 3 may write the axis as a list of one.
    const given = k.take('axis');
    const axis = Array.isArray(given) && given.length === 1 ? given[0] : (given ?? -1);
    if (!Number.isInteger(axis) || axis === 0)
      k.fail(
        `axis ${JSON.stringify(given)} is not supported (one axis other than the batch axis).`,
      );
    k.finish();
    return chain(new Softmax({ ...base(k), axis: axis as number }), null);
  },
  Add: (k) => merge(k, Add),
  Subtract: (k) => merge(k, Subtract),
  Multiply: (k) => merge(k, Multiply),
  Maximum: (k) => merge(k, Maximum),
  Minimum: (k) => merge(k, Minimum),
  Concatenate(k) {
    const axis = k.int('axis') ?? -1;
    k.finish();
    const l = new Concatenate({ ...base(k), axis });
    return { apply: (x) => l.apply(x) as SymbolicTensor };
  },
};

function pooling(k: Keys, cls: typeof MaxPooling2D | typeof AveragePooling2D): Built {
  const poolSize = (k.ints('pool_size') ?? 2) as [number, number];
  const strides = k.ints('strides') as [number, number] | undefined;
  const p = padding(k);
  k.finish();
  return chain(
    new cls({ ...base(k), poolSize, ...(strides === undefined ? {} : { strides }), padding: p }),
    null,
  );
}

function globalPooling(
  k: Keys,
  cls: typeof GlobalAveragePooling2D | typeof GlobalMaxPooling2D,
): Built {
  const keepDims = k.bool('keepdims') ?? false;
  k.finish();
  return chain(new cls({ ...base(k), keepDims }), null);
}

function merge(
  k: Keys,
  cls: typeof Add | typeof Subtract | typeof Multiply | typeof Maximum | typeof Minimum,
): Built {
  k.finish();
  const l = new cls(base(k));
  return { apply: (x) => l.apply(x) as SymbolicTensor };
}

/** The Keras layer classes the reader builds. */
export function supportedKerasLayers(): string[] {
  return ['InputLayer', ...Object.keys(TRANSLATORS)];
}

/**
 * A layer class the user registered with rc.registerLayer under the Keras class name: its
 * fromConfig gets the Keras config as it is (snake_case keys).
 */
function custom(className: string, cfg: Json, label: string, ctx: KerasConfigContext): Built {
  const cls = registeredLayer(className);
  // receptive's own layers of other names take receptive's options, not Keras's.
  const builtIn = Object.values(builtinLayers).includes(cls as never);
  if (!cls || builtIn)
    throw new KerasImportError(
      `${ctx.where}: ${label}: Unknown layer class '${className}': receptive cannot build it${builtIn ? ` from a Keras config (receptive's ${className} is not Keras's)` : ''}. ` +
        `Supported: ${supportedKerasLayers().join(', ')}. For a custom layer, register a receptive layer class whose className is '${className}' with rc.registerLayer (its fromConfig receives the Keras config).`,
    );
  const l = cls.fromConfig({ ...cfg, trainable: cfg.trainable !== false } as LayerConfig);
  return { apply: (x) => l.apply(x) as SymbolicTensor };
}

function buildLayer(spec: Json, ctx: KerasConfigContext, warnings: string[], depth: number): Built {
  const className = spec.class_name;
  const cfg = spec.config;
  if (typeof className !== 'string' || !isObj(cfg))
    throw new KerasImportError(
      `${ctx.where}: a layer entry has no class_name and config: ${JSON.stringify(spec).slice(0, 200)}.`,
    );
  const label = `layer '${String(cfg.name)}' (${className})`;
  if (isModelClass(className)) {
    // A model used as a layer (a pretrained base inside a Sequential): built the same way.
    const sub = buildModel(spec, ctx, warnings, depth + 1);
    return { apply: (x) => sub.apply(x) as SymbolicTensor };
  }
  const t = Object.hasOwn(TRANSLATORS, className) ? TRANSLATORS[className] : undefined;
  // A receptive layer's own error (a bad value, a shape it cannot take) names the file and the
  // Keras layer too.
  const named = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof KerasImportError) throw e;
      const m = (e as Error).message;
      throw new KerasImportError(
        `${ctx.where}: ${label}: ${e instanceof RangeError ? `its weights are too large to allocate (${m}).` : m}`,
      );
    }
  };
  const built = named(() =>
    t ? t(new Keys(cfg, label, ctx, warnings)) : custom(className, cfg, label, ctx),
  );
  return { apply: (x) => named(() => built.apply(x)) };
}

/** One example's shape from an InputLayer's (or a first layer's) batch shape. */
function inputShapeOf(cfg: Json, label: string, ctx: KerasConfigContext): number[] | undefined {
  const batch = cfg.batch_input_shape ?? cfg.batch_shape;
  if (batch === undefined || batch === null) return undefined;
  const shape = Array.isArray(batch) ? batch.slice(1) : null;
  if (!shape || shape.some((d) => !Number.isInteger(d) || (d as number) < 1))
    throw new KerasImportError(
      `${ctx.where}: ${label}: the input shape ${JSON.stringify(batch)} has unknown sizes; receptive needs every size of one example (height, width, channels). Give the Keras Input a full shape.`,
    );
  return shape as number[];
}

/** `[name, nodeIndex, tensorIndex]` of Keras 2 / TF.js, or a Keras 3 `__keras_tensor__`. */
function tensorRef(v: unknown, where: string): [string, number, number] {
  if (isObj(v) && isObj(v.config) && Array.isArray(v.config.keras_history))
    v = v.config.keras_history;
  if (Array.isArray(v) && typeof v[0] === 'string')
    return [v[0], Number(v[1] ?? 0), Number(v[2] ?? 0)];
  throw new KerasImportError(
    `${where}: an inbound node refers to ${JSON.stringify(v)}, not a layer.`,
  );
}

/** Each node's inputs (and whether they were passed as a list) from `inbound_nodes`. */
function inboundNodes(
  spec: Json,
  where: string,
): { refs: [string, number, number][]; list: boolean }[] {
  const nodes = spec.inbound_nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (isObj(node)) {
      // Keras 3: { args: [tensor] } or { args: [[tensor, tensor]] } (merge layers).
      const args = Array.isArray(node.args) ? node.args : [];
      const first = args[0];
      if (Array.isArray(first) && !(typeof first[0] === 'string'))
        return { refs: first.map((t) => tensorRef(t, where)), list: true };
      return { refs: args.map((t) => tensorRef(t, where)), list: args.length > 1 };
    }
    if (!Array.isArray(node))
      throw new KerasImportError(`${where}: an inbound node is not a list.`);
    const refs = node.map((t) => tensorRef(t, where));
    return { refs, list: refs.length > 1 };
  });
}

function refList(v: unknown, where: string): [string, number, number][] {
  if (!Array.isArray(v) || v.length === 0)
    throw new KerasImportError(`${where}: the model has no input_layers / output_layers.`);
  if (typeof v[0] === 'string') return [tensorRef(v, where)];
  return v.map((r) => tensorRef(r, where));
}

/** The `{ class_name, config }` of the model inside the ways it is kept. */
export function modelConfigOf(topology: unknown, where: string): Json {
  let t = topology;
  if (isObj(t) && isObj(t.model_config)) t = t.model_config;
  if (!isObj(t) || typeof t.class_name !== 'string')
    throw new KerasImportError(`${where}: no Keras model config (class_name and config) found.`);
  return t;
}

function warn(warnings: string[], where: string): void {
  if (warnings.length)
    noticeOnce(
      `receptive: ${where}: regularizers and constraints are not imported (they only shape training): ${warnings.join(', ')}.`,
    );
}

const isModelClass = (c: unknown) => c === 'Sequential' || c === 'Functional' || c === 'Model';

/** The input shape a Sequential's first layer declares, looking inside a nested model. */
function firstInputShape(spec: Json, ctx: KerasConfigContext): number[] | undefined {
  const c = (isObj(spec.config) ? spec.config : {}) as Json;
  if (!isModelClass(spec.class_name))
    return inputShapeOf(c, `layer '${String(c.name)}' (${String(spec.class_name)})`, ctx);
  const inner = Array.isArray(c.layers) ? (c.layers as unknown[]) : [];
  const first =
    spec.class_name === 'Sequential'
      ? inner[0]
      : inner.find((l) => isObj(l) && l.class_name === 'InputLayer');
  return isObj(first) ? firstInputShape(first, ctx) : undefined;
}

function buildSequential(
  cfg: Json,
  ctx: KerasConfigContext,
  warnings: string[],
  depth: number,
): Model {
  const specs = (Array.isArray(cfg) ? cfg : cfg.layers) as unknown;
  if (!Array.isArray(specs) || specs.length === 0)
    throw new KerasImportError(`${ctx.where}: the Sequential model has no layers.`);
  let x: SymbolicTensor | null = null;
  let rest = specs as Json[];
  const first = rest[0]!;
  if (!rest.every(isObj))
    throw new KerasImportError(`${ctx.where}: the Sequential model's layers are not all objects.`);
  if (first.class_name === 'InputLayer') {
    const c = (first.config ?? {}) as Json;
    const shape = inputShapeOf(c, `layer '${String(c.name)}' (InputLayer)`, ctx);
    if (!shape) throw new KerasImportError(`${ctx.where}: the InputLayer has no batch_shape.`);
    x = Input(shape, { name: String(c.name) });
    rest = rest.slice(1);
  } else {
    const c = (first.config ?? {}) as Json;
    const shape = firstInputShape(first, ctx);
    if (!shape)
      throw new KerasImportError(
        `${ctx.where}: the Sequential model's first layer has no input shape; receptive needs it to build the model.`,
      );
    x = Input(shape, { name: `${String(c.name)}_input` });
  }
  const input = x;
  for (const spec of rest) x = buildLayer(spec, ctx, warnings, depth).apply(x);
  const name = !Array.isArray(cfg) && typeof cfg.name === 'string' ? cfg.name : 'sequential';
  return new Model({ inputs: input, outputs: x, name });
}

function buildFunctional(
  cfg: Json,
  ctx: KerasConfigContext,
  warnings: string[],
  depth: number,
): Model {
  const specs = cfg.layers;
  if (!Array.isArray(specs) || specs.length === 0)
    throw new KerasImportError(`${ctx.where}: the functional model has no layers.`);
  const made = new Map<string, SymbolicTensor>(); // "name:node" → output
  const pending: {
    spec: Json;
    built: Built;
    node: { refs: [string, number, number][]; list: boolean };
    index: number;
  }[] = [];
  for (const spec of specs as Json[]) {
    if (!isObj(spec))
      throw new KerasImportError(
        `${ctx.where}: a layer entry is ${JSON.stringify(spec)}, not an object.`,
      );
    const c = (isObj(spec.config) ? spec.config : {}) as Json;
    const name = String(spec.name ?? c.name);
    if (spec.class_name === 'InputLayer') {
      const shape = inputShapeOf(c, `layer '${name}' (InputLayer)`, ctx);
      if (!shape)
        throw new KerasImportError(`${ctx.where}: InputLayer '${name}' has no batch shape.`);
      made.set(`${name}:0`, Input(shape, { name }));
      continue;
    }
    const built = buildLayer({ ...spec, config: { ...c, name } }, ctx, warnings, depth);
    inboundNodes(spec, `${ctx.where}: layer '${name}'`).forEach((node, index) => {
      pending.push({ spec: { ...spec, name }, built, node, index });
    });
  }
  // Apply each node once its inputs exist (a layer applied twice shares its weights).
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      const ins = p.node.refs.map(([n, k, t]) => {
        if (t !== 0)
          throw new KerasImportError(
            `${ctx.where}: layer '${String(p.spec.name)}' takes output ${t} of '${n}'; receptive layers have one output.`,
          );
        return made.get(`${n}:${k}`);
      });
      if (ins.some((t) => !t)) continue;
      const syms = ins as SymbolicTensor[];
      made.set(`${String(p.spec.name)}:${p.index}`, p.built.apply(p.node.list ? syms : syms[0]!));
      pending.splice(i--, 1);
      progress = true;
    }
  }
  if (pending.length)
    throw new KerasImportError(
      `${ctx.where}: the layer graph cannot be built: the inputs of '${String(pending[0]!.spec.name)}' (${pending[0]!.node.refs.map((r) => r[0]).join(', ')}) never appear.`,
    );
  const ref = ([n, k]: [string, number, number]) => {
    const t = made.get(`${n}:${k}`);
    if (!t) throw new KerasImportError(`${ctx.where}: the model refers to a missing layer '${n}'.`);
    return t;
  };
  const inputs = refList(cfg.input_layers, ctx.where).map(ref);
  const outputs = refList(cfg.output_layers, ctx.where).map(ref);
  return new Model({
    inputs: inputs.length === 1 ? inputs[0]! : inputs,
    outputs: outputs.length === 1 ? outputs[0]! : outputs,
    name: typeof cfg.name === 'string' ? cfg.name : 'model',
  });
}

/**
 * Builds a receptive model from a Keras model config (`{ class_name: 'Sequential' |
 * 'Functional' | 'Model', config }`, or the topology that holds one as `model_config`), with
 * the Keras layer names (weights named `<layer>/<weight>`, as Keras names them). Its weights
 * are initial values until the caller loads the file's.
 * @throws KerasImportError naming the layer and the class or option receptive cannot build
 */
export function modelFromKerasConfig(topology: unknown, ctx: KerasConfigContext): Model {
  try {
    const warnings: string[] = [];
    const model = buildModel(topology, ctx, warnings, 0);
    warn(warnings, ctx.where);
    return model;
  } catch (e) {
    if (e instanceof KerasImportError) throw e;
    // A config no Keras wrote (weights too large to allocate, values of the wrong kind).
    throw new KerasImportError(
      `${ctx.where}: the model cannot be built from its config: ${(e as Error).message}.`,
    );
  }
}

function buildModel(
  topology: unknown,
  ctx: KerasConfigContext,
  warnings: string[],
  depth: number,
): Model {
  if (depth > 32) throw new KerasImportError(`${ctx.where}: models are nested more than 32 deep.`);
  const top = modelConfigOf(topology, ctx.where);
  const cfg = top.config as Json;
  let model: Model;
  if (top.class_name === 'Sequential') model = buildSequential(cfg, ctx, warnings, depth);
  else if (top.class_name === 'Functional' || top.class_name === 'Model')
    model = buildFunctional(cfg, ctx, warnings, depth);
  else
    throw new KerasImportError(
      `${ctx.where}: the model class '${top.class_name}' is not supported (Sequential, Functional, Model). A subclassed Keras model has no config to rebuild; save it as a functional model.`,
    );
  kerasClassOf.set(model, top.class_name === 'Model' ? 'Functional' : top.class_name);
  return model;
}
