/**
 * Layer: the unit users build networks from, Keras-style.
 *
 * - Lazy build: weights are made on first use, from the input shape (`build`).
 * - `call(inputs, { training })` computes on concrete tensors; `apply` also accepts symbolic
 *   tensors (from `Input`) and then only infers the output shape, recording the graph.
 * - `computeOutputShape` infers shapes without running anything.
 * - `getConfig()` / `fromConfig()` round-trip the constructor arguments through JSON.
 */
import type { Backend, Storage } from '../backend/backend.js';
import { Tensor, tensor } from '../tensor.js';
import {
  ArgumentError,
  fmtShape,
  NonFiniteError,
  ReceptiveError,
  ShapeError,
} from '../util/errors.js';
import { firstNonFinite, fmtNonFinite } from '../util/finite.js';
import { checkDataFormat, checkOptions } from '../util/options.js';
import type { Random } from '../util/random.js';
import { sizeOf } from '../util/shape.js';
import { getInitializer, type Initializer, type InitializerName } from './initializers.js';

/** A shape whose batch axis (and possibly others) may be unknown: null. */
export type Shape = (number | null)[];

export function fmtSymShape(shape: Shape): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** Arguments every layer takes (each layer's own `...Args` extends these). */
export interface LayerArgs {
  /**
   * The layer's name, unique within a model. Default: Keras's automatic name from the class
   * (`conv2d`, `conv2d_1`, ...; {@link clearSession} restarts the count).
   */
  name?: string;
  /**
   * Whether fit updates the layer's weights; false freezes them.
   * @default true
   */
  trainable?: boolean;
  /** Shape of one example (no batch axis): lets a Sequential model build before it sees data. */
  inputShape?: number[];
  /** A fixed batch size, rarely needed. */
  batchSize?: number;
  /**
   * Accepted for code written for Keras: 'channelsLast' only, since receptive is channels
   * last (NHWC) throughout; 'channelsFirst' is an error that says how to convert.
   */
  dataFormat?: 'channelsLast';
}

/** The arguments every layer takes (LayerArgs). */
const BASE_ARGS = ['name', 'trainable', 'inputShape', 'batchSize', 'dataFormat'] as const;

/** Options of a layer's or model's `call` / `apply` on concrete tensors. */
export interface CallOptions {
  /** Training mode: dropout drops, batch normalization uses batch statistics and updates its moving ones. */
  training?: boolean;
  /**
   * Randomness for this call (dropout masks). fit() passes a generator seeded per step, so a
   * seeded run repeats exactly even while other models train in the same process.
   */
  rng?: Random;
}

/**
 * A layer's constructor arguments as JSON-ready values (what `getConfig` returns and `fromConfig`
 * takes); `name` and `trainable` are always there.
 */
export type LayerConfig = Record<string, unknown> & {
  /** The layer's name. */
  name: string;
  /** Whether its weights train. */
  trainable: boolean;
};

let shapesOnly = 0;

/**
 * Runs `build` with layers making their weights as shapes without values: enough for
 * summaries and parameter counts (`receptive summary vgg16` without 528 MB of random
 * numbers), not for computing. Using such a weight's values is an error that says so.
 */
export function buildShapesOnly<T>(build: () => T): T {
  shapesOnly++;
  try {
    return build();
  } finally {
    shapesOnly--;
  }
}

/** Storage that has a size and no values: anything asked of its backend throws. */
function shapeOnlyStorage(size: number, label: string): Storage {
  const refuse = new Proxy({} as Backend, {
    get(_, key) {
      if (key === 'then' || typeof key === 'symbol') return undefined;
      throw new ArgumentError(
        `${label}: this weight was made for its shape only (buildShapesOnly, for summaries); it has no values to compute with. Build the model without buildShapesOnly to use it.`,
      );
    },
  });
  return { backend: refuse, size, dtype: 'float32' };
}

/** A placeholder tensor in a functional model: a shape and where it came from. */
export class SymbolicTensor {
  constructor(
    /** The shape, batch axis (usually null: any size) first. */
    readonly shape: Shape,
    /** The layer whose output this is (an InputLayer for model inputs). */
    readonly layer: Layer,
    /** The symbolic inputs of that layer application. */
    readonly inputs: SymbolicTensor[],
    /** Which application of `layer` made it (a layer can be applied more than once). */
    readonly nodeIndex: number,
    /** Whether the layer was given a list of inputs (merge layers) or one. */
    readonly listInput = false,
  ) {}

  /** The number of axes, batch axis included. */
  get rank(): number {
    return this.shape.length;
  }

  /** `SymbolicTensor([null, 28, 28, 1], from 'input_1')`. */
  toString(): string {
    return `SymbolicTensor(${fmtSymShape(this.shape)}, from '${this.layer.name}')`;
  }
}

const nameCounters = new Map<string, number>();

/** Keras-style unique names: conv2d, conv2d_1, conv2d_2, ... */
export function uniqueName(base: string): string {
  const n = nameCounters.get(base) ?? 0;
  nameCounters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Resets automatic layer names (conv2d, conv2d_1 ...), like keras.backend.clear_session(). */
export function clearSession(): void {
  nameCounters.clear();
}

/** Keras's to_snake_case: Conv2D → conv2d, AveragePooling2D → average_pooling2d. */
function snakeCase(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

type LayerClass = { className: string; fromConfig(config: LayerConfig): Layer };
const registry = new Map<string, LayerClass>();

/** Makes a layer class known to deserialization (fromConfig / loadModel). */
export function registerLayer(cls: LayerClass): void {
  registry.set(cls.className, cls);
}

/** The layer class registered under `className` (built in, or by {@link registerLayer}), if any. */
export function registeredLayer(className: string): LayerClass | undefined {
  return registry.get(className);
}

/**
 * Makes a layer from a `{ className, config }` entry of a saved model (`model.json`).
 * @throws ArgumentError for a class name that is neither built in nor registered with {@link registerLayer}
 */
export function layerFromConfig(spec: { className: string; config: LayerConfig }): Layer {
  const cls = registry.get(spec.className);
  if (!cls) {
    throw new ArgumentError(
      `Unknown layer class '${spec.className}'. Known: ${[...registry.keys()].sort().join(', ')}. ` +
        'Custom layers must be registered with rc.registerLayer(MyLayer) before loading.',
    );
  }
  return cls.fromConfig(spec.config);
}

/** A layer class and its parents up to (not including) Layer, the base first. */
function classChain(cls: typeof Layer): (typeof Layer)[] {
  const chain: (typeof Layer)[] = [];
  for (let k = cls; k !== Layer && k; k = Object.getPrototypeOf(k)) chain.unshift(k);
  return chain;
}

/**
 * The keys a layer class's constructor accepts: each class's configFields and args, then
 * LayerArgs'. Null where a class in the chain declares neither (a custom layer written without
 * them): its keys are unknown, so none is refused.
 */
export function layerArgNames(cls: typeof Layer): string[] | null {
  const names = new Set<string>();
  // The class's own arguments first, then its parents', then LayerArgs: the order a message's
  // reader looks for them in.
  for (const k of classChain(cls).reverse()) {
    if (!Object.hasOwn(k, 'configFields') && !Object.hasOwn(k, 'args')) return null;
    for (const f of Object.hasOwn(k, 'configFields') ? k.configFields : []) names.add(f);
    for (const f of Object.hasOwn(k, 'args') ? k.args : []) names.add(f);
  }
  for (const f of BASE_ARGS) names.add(f);
  return [...names];
}

/**
 * The base of every layer (and of models, which are layers too), Keras-style.
 *
 * Weights are made on first use from the input shape (lazy build), or at construction when
 * `inputShape` is given. `apply` works on symbolic tensors (from {@link Input}: records a graph for
 * a functional {@link Model}) and on concrete ones (computes); `call` is the computation itself.
 * `getConfig` / `fromConfig` round-trip the constructor arguments through JSON.
 *
 * A custom layer extends Layer, sets `static className`, implements `call` and
 * `computeOutputShape` (and `build` for weights, made with `addWeight`), and is registered with
 * {@link registerLayer} so that {@link loadModel} can make it.
 */
export abstract class Layer {
  /** The class name used in configs and summaries; each subclass sets it. */
  static className = 'Layer';
  /**
   * Constructor arguments that getConfig copies from the fields of the same name (a subclass
   * lists its own; its parents' come first). A layer whose config needs more overrides getConfig.
   */
  static configFields: readonly string[] = [];
  /**
   * Constructor arguments that are not configFields (a layer whose getConfig writes them
   * itself lists them here; a layer without arguments of its own, []). With configFields and
   * LayerArgs, they are the keys a constructor accepts: any other key is an error that names
   * the closest one. A class that declares neither is not checked.
   */
  static args: readonly string[] = [];
  /** The layer's name (unique in a model; weights are named `<layer>/<weight>`). */
  name: string;
  /**
   * Whether its weights train; {@link Layer.setTrainable} also updates the weights and sublayers.
   */
  trainable: boolean;
  /** Whether the weights exist yet (made on the first call or apply, or from `inputShape`). */
  built = false;
  /** The `inputShape` argument: one example's shape, no batch axis. */
  readonly inputShape?: number[];
  /** The `batchSize` argument, if given. */
  readonly batchSize?: number;
  /** Each symbolic application: its inputs and its output. */
  readonly inboundNodes: {
    /** The symbolic tensors it was applied to. */
    inputs: SymbolicTensor[];
    /** What that application produced. */
    output: SymbolicTensor;
  }[] = [];
  /** Weights this layer made itself with addWeight (not those of its sublayers). */
  protected ownWeights: Tensor[] = [];
  /** Layers used inside this one, registered with addSublayer. */
  protected sublayers: Layer[] = [];
  /** The input shape a single-input layer was built for by apply (its weights fit its last axis). */
  private builtFor: Shape | null = null;

  constructor(args: LayerArgs = {}) {
    const cls = new.target as unknown as typeof Layer;
    checkDataFormat(cls.className, args);
    const known = layerArgNames(cls);
    if (known) checkOptions(cls.className, args, known);
    this.name = args.name ?? uniqueName(snakeCase(this.className));
    this.trainable = args.trainable ?? true;
    if (args.inputShape !== undefined) {
      if (
        !Array.isArray(args.inputShape) ||
        args.inputShape.some((d) => !Number.isInteger(d) || d < 1)
      ) {
        throw new ArgumentError(
          `${this.className}: inputShape must be positive integers (one example, no batch axis), got ${JSON.stringify(args.inputShape)}.`,
        );
      }
      this.inputShape = [...args.inputShape];
    }
    if (args.batchSize !== undefined) this.batchSize = args.batchSize;
  }

  /** The class's registered name (`'Conv2D'`), as configs and summaries write it. */
  get className(): string {
    return (this.constructor as typeof Layer).className;
  }

  /** `Conv2D 'conv2d_1'`, for messages. */
  get label(): string {
    return `${this.className} '${this.name}'`;
  }

  /** Makes the weights for this input shape (batch axis included, possibly null). */
  build(_inputShape: Shape | Shape[]): void {
    this.built = true;
  }

  /** The computation on concrete tensors. */
  abstract call(inputs: Tensor | Tensor[], options: CallOptions): Tensor;

  /** The output shape for this input shape, without computing anything. */
  abstract computeOutputShape(inputShape: Shape | Shape[]): Shape;

  /**
   * The layer again from getConfig()'s output. One definition for every layer: each
   * constructor takes its own config as its arguments (Keras's default from_config).
   */
  static fromConfig(config: LayerConfig): Layer {
    // `this` is the class it is called on: Dense.fromConfig builds a Dense. A subclass whose
    // config is not its constructor's arguments (Model, Sequential) overrides this.
    // biome-ignore lint/complexity/noThisInStatic: the class it is called on, not Layer.
    const cls = this as unknown;
    if (typeof cls !== 'function')
      throw new ArgumentError(
        'fromConfig: call it on the layer class (Dense.fromConfig(config)), not as a detached function.',
      );
    return new (cls as new (args: LayerConfig) => Layer)(config);
  }

  /** The constructor arguments, JSON-ready. Subclasses add theirs to the base config. */
  getConfig(): LayerConfig {
    const c: LayerConfig = { name: this.name, trainable: this.trainable };
    if (this.inputShape) c.inputShape = this.inputShape;
    if (this.batchSize !== undefined) c.batchSize = this.batchSize;
    // Each class's configFields, the base class's first: fields named as the arguments.
    const self = this as unknown as Record<string, unknown>;
    for (const k of classChain(this.constructor as typeof Layer))
      if (Object.hasOwn(k, 'configFields')) for (const f of k.configFields) c[f] = self[f];
    return c;
  }

  /** Applies the layer: to symbolic tensors (records the graph) or to concrete tensors (computes). */
  apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor;
  apply(inputs: Tensor | Tensor[], options?: CallOptions): Tensor;
  apply(
    inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[],
    options: CallOptions = {},
  ): SymbolicTensor | Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length > 0 && list.every((x) => x instanceof SymbolicTensor)) {
      const syms = list as SymbolicTensor[];
      const shapes = Array.isArray(inputs) ? syms.map((s) => s.shape) : syms[0]!.shape;
      const out = this.withContext(() => {
        this.ensureBuilt(shapes);
        this.checkBuiltFor(shapes);
        return this.computeOutputShape(shapes);
      });
      const t = new SymbolicTensor(
        out,
        this,
        syms,
        this.inboundNodes.length,
        Array.isArray(inputs),
      );
      this.inboundNodes.push({ inputs: syms, output: t });
      return t;
    }
    if (list.some((x) => x instanceof SymbolicTensor)) {
      throw new ArgumentError(
        `${this.label}: inputs mix symbolic tensors (from rc.Input) and concrete tensors; use one kind.`,
      );
    }
    const stray = list.find((x) => !(x instanceof Tensor));
    if (stray !== undefined)
      throw new ArgumentError(
        `${this.label}: expects ${Array.isArray(inputs) ? 'a list of Tensors' : 'a Tensor'}, got ${Array.isArray(stray) ? 'an array' : stray === null ? 'null' : typeof stray}. Make one with rc.tensor(values, shape).`,
      );
    return this.withContext(() => {
      const shapes = Array.isArray(inputs)
        ? (inputs as Tensor[]).map((t) => t.shape)
        : (inputs as Tensor).shape;
      this.ensureBuilt(shapes);
      return this.call(inputs as Tensor | Tensor[], options);
    });
  }

  /** Builds once; later calls only check that the shape still fits. */
  protected ensureBuilt(shapes: Shape | Shape[]): void {
    if (!this.built) {
      this.build(shapes);
      this.built = true;
      if (!Array.isArray(shapes[0])) this.builtFor = [...(shapes as Shape)];
    }
  }

  /**
   * A layer with weights applied again (a shared layer) must get the last axis it was built
   * for: its weights have that size. Concrete calls fail in the kernels with their own message;
   * this catches a symbolic application, which computes nothing.
   */
  private checkBuiltFor(shapes: Shape | Shape[]): void {
    const was = this.builtFor;
    if (!was || Array.isArray(shapes[0]) || this.weights.length === 0) return;
    const s = shapes as Shape;
    const [c, d] = [was[was.length - 1], s[s.length - 1]];
    if (c !== null && c !== undefined && d !== null && d !== undefined && c !== d) {
      throw new ShapeError(
        `${this.label}: its weights were built for input of shape ${fmtSymShape(was)} (last axis ${c}), got ${fmtSymShape(s)}. ` +
          'A layer applied twice shares its weights, so both inputs need the same last axis; use a new layer for the other.',
      );
    }
  }

  /** Prefixes errors from inside the layer with its name, so the message says where. */
  protected withContext<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (
        e instanceof ReceptiveError &&
        !e.message.startsWith(`${this.label}:`) &&
        !e.message.includes(`'${this.name}'`)
      ) {
        e.message = `${this.label}: ${e.message}`;
      }
      throw e;
    }
  }

  /** Creates a weight tensor owned by this layer. */
  protected addWeight(
    name: string,
    shape: number[],
    initializer: InitializerName | Initializer,
    trainable = true,
  ): Tensor {
    const w =
      shapesOnly > 0
        ? new Tensor(shapeOnlyStorage(sizeOf(shape), this.label), [...shape])
        : getInitializer(initializer, this.label)(shape);
    w.name = `${this.name}/${name}`;
    w.requiresGrad = trainable && this.trainable;
    (w as Tensor & { trainable?: boolean }).trainable = trainable;
    this.ownWeights.push(w);
    return w;
  }

  /** Registers a layer used inside this one, so its weights count as this layer's. */
  protected addSublayer<L extends Layer>(layer: L): L {
    this.sublayers.push(layer);
    return layer;
  }

  /** All weights, own then sublayers', in a stable order (the order of save files). */
  get weights(): Tensor[] {
    return [...this.ownWeights, ...this.sublayers.flatMap((l) => l.weights)];
  }

  /**
   * The weights fit updates: none when the layer is frozen; not batch normalization's moving statistics.
   */
  get trainableWeights(): Tensor[] {
    if (!this.trainable) return [];
    return [
      ...this.ownWeights.filter((w) => (w as Tensor & { trainable?: boolean }).trainable !== false),
      ...this.sublayers.flatMap((l) => l.trainableWeights),
    ];
  }

  /** The weights fit does not update: moving statistics, and every weight of a frozen layer. */
  get nonTrainableWeights(): Tensor[] {
    const t = new Set(this.trainableWeights);
    return this.weights.filter((w) => !t.has(w));
  }

  /** Freezing a layer stops gradients to its weights. */
  setTrainable(trainable: boolean): void {
    this.trainable = trainable;
    for (const l of this.sublayers) l.setTrainable(trainable);
    for (const w of this.ownWeights)
      w.requiresGrad = trainable && (w as Tensor & { trainable?: boolean }).trainable !== false;
  }

  /** The number of weight values, trainable or not (Keras's count_params). */
  countParams(): number {
    return this.weights.reduce((n, w) => n + w.size, 0);
  }

  /** Copies of the weight values, in `weights` order. */
  getWeights(): Float32Array[] {
    return this.weights.map((w) => w.dataSync() as Float32Array);
  }

  /**
   * Replaces the weight values (same shapes, same order as getWeights). Every array is checked
   * before any is set, so a refused call changes nothing.
   * @throws ShapeError for the wrong number of arrays or an array of the wrong size
   * @throws NonFiniteError for a value that is NaN or infinite
   */
  setWeights(values: (Float32Array | Tensor)[]): void {
    const ws = this.weights;
    if (values.length !== ws.length) {
      throw new ShapeError(
        `${this.label}: setWeights got ${values.length} arrays, the layer has ${ws.length} weights.`,
      );
    }
    // Every array is checked before any is set: a refused call leaves the weights as they were.
    const arrays = ws.map((w, i) => {
      const v = values[i]!;
      const data = v instanceof Float32Array ? v : (v.dataSync() as Float32Array);
      if (data.length !== w.size) {
        throw new ShapeError(
          `${this.label}: weight ${w.name} has shape ${fmtShape(w.shape)} (${w.size} values), setWeights got ${data.length} values.`,
        );
      }
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        // A NaN weight turns every prediction into NaN: refuse it where it enters.
        throw new NonFiniteError(
          `${this.label}: weight ${w.name} ${fmtShape(w.shape)} holds ${fmtNonFinite(data[bad]!)} at flat index ${bad}; weights must be finite numbers. Check the file or the arrays it came from.`,
        );
      }
      return data;
    });
    ws.forEach((w, i) => {
      w.storage = tensor(arrays[i]!, w.shape).storage;
    });
  }

  /** `Conv2D 'conv2d_1'`. */
  toString(): string {
    return `${this.label}`;
  }
}

/** Checks an input's rank and (optionally) its last axis; the message names the layer. */
export function expectInputRank(layer: Layer, shape: Shape, rank: number, what: string): void {
  if (shape.length !== rank) {
    throw new ShapeError(
      `${layer.label}: expected input of rank ${rank} (${what}), got shape ${fmtSymShape(shape)}.` +
        (rank === 4 && shape.length === 2
          ? ' Put a Reshape layer first, e.g. new layers.Reshape({ targetShape: [28, 28, 1] }).'
          : '') +
        (rank === 2 && shape.length > 2 ? ' Put a Flatten layer first.' : ''),
    );
  }
}

export function knownDim(layer: Layer, shape: Shape, axis: number, what: string): number {
  const d = shape[axis < 0 ? shape.length + axis : axis];
  if (d === null || d === undefined) {
    throw new ShapeError(
      `${layer.label}: the ${what} axis of the input ${fmtSymShape(shape)} must be known to build the layer.`,
    );
  }
  return d;
}

export { sizeOf };
