/**
 * The base of every optimizer: which parameters to update, gradient clipping, the learning
 * rate (a number or a schedule of the iteration count), per-parameter state, and the
 * config/state round trips that checkpoints use. Subclasses supply only the update rule.
 *
 * A parameter is updated in place: its `storage` is replaced by the storage of the new value
 * (computed under noGrad), so the Tensor keeps its identity and layers, the tape and this
 * optimizer's state stay attached to it.
 */
import { noGrad } from '../autograd.js';
import { maximum, minimum, mul, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { makeReadable, Tensor, tensor, zerosLike } from '../tensor.js';
import {
  ArgumentError,
  BackendError,
  fmtShape,
  NonFiniteError,
  ShapeError,
} from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import {
  isSchedule,
  type LearningRateSchedule,
  type ScheduleConfig,
  scheduleFromConfig,
} from './schedules.js';

/** A fixed learning rate or a schedule evaluated at the optimizer's iteration count. */
export type LearningRate = number | LearningRateSchedule;

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /**
   * A number, or a schedule of the step count (see {@link schedules}). Defaults: 0.01 for SGD,
   * 0.001 for Adam, AdamW and RMSprop (Keras's).
   */
  learningRate?: LearningRate;
  /**
   * Scale all gradients together so that their global L2 norm is at most this
   * (torch.nn.utils.clip_grad_norm_; Keras calls this global_clipnorm).
   */
  clipNorm?: number;
  /** Clamp every gradient value to [-clipValue, clipValue] (torch.nn.utils.clip_grad_value_). */
  clipValue?: number;
  /**
   * Per-weight multipliers of the learning rate and of the weight decay, PyTorch's parameter
   * groups by weight name: the first rule whose `match` (a regular expression) matches a
   * weight's name (`'<layer>/<weight>'`, e.g. `'batch_normalization_1/beta'`) applies to it.
   * Airbench's BatchNorm biases: `[{ match: '/beta$', learningRate: 64, weightDecay: 1 / 64 }]`.
   */
  paramMultipliers?: ParamMultiplier[];
}

/** One rule of {@link OptimizerOptions.paramMultipliers}. */
export interface ParamMultiplier {
  /** A regular expression (source text) tested against the weight's name. */
  match: string;
  /**
   * The weight's learning rate is the optimizer's times this (> 0).
   * @default 1
   */
  learningRate?: number;
  /**
   * The weight's decay is the optimizer's `weightDecay` times this (>= 0; SGD and AdamW only).
   * @default 1
   */
  weightDecay?: number;
}

/** A JSON-safe description of an optimizer: `getConfig()` gives one, `fromConfig()` rebuilds. */
export interface OptimizerConfig {
  /** 'SGD', 'Adam', 'AdamW' or 'RMSprop'. */
  className: string;
  /** The learning rate, or a schedule's config. */
  learningRate: number | ScheduleConfig;
  /** The global-norm clipping, if set. */
  clipNorm?: number;
  /** The value clipping, if set. */
  clipValue?: number;
  /** The per-weight multipliers, if set. */
  paramMultipliers?: ParamMultiplier[];
  [hyperparameter: string]: unknown;
}

/** What an optimizer keeps for one parameter: its update count and its slot tensors. */
export interface ParamState {
  /** How many updates this parameter has had (PyTorch's per-parameter `step`). */
  step: number;
  /** Moment estimates and buffers, named by the optimizer's `slotNames`, shaped like the parameter. */
  slots: Record<string, Tensor>;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers shared by the optimizers.
// ---------------------------------------------------------------------------------------------

/** Throws unless `v` is a finite number in the range (bounds inclusive unless said otherwise). */
export function checkNumber(
  where: string,
  name: string,
  v: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  const { min, max, minExclusive = false, maxExclusive = false } = range;
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (min === undefined || (minExclusive ? v > min : v >= min)) &&
    (max === undefined || (maxExclusive ? v < max : v <= max));
  if (!ok) {
    let want = 'a finite number';
    if (min !== undefined && max !== undefined) {
      want = `a number in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
    } else if (min !== undefined) {
      want = `a finite number ${minExclusive ? '>' : '>='} ${min}`;
    } else if (max !== undefined) {
      want = `a finite number ${maxExclusive ? '<' : '<='} ${max}`;
    }
    throw new ArgumentError(`${where}: ${name} must be ${want}, got ${String(v)}.`);
  }
  return v as number;
}

export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new ArgumentError(`${where}: ${name} must be true or false, got ${String(v)}.`);
  }
  return v;
}

/** Throws on option names the optimizer does not know (a typo such as `lr` or `betas`). */
export function checkOptionNames(where: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(
      `${where}: options must be an object such as { learningRate: 0.01 }, got ${String(options)}.`,
    );
  }
  checkOptions(where, options, [
    'learningRate',
    'clipNorm',
    'clipValue',
    'paramMultipliers',
    ...known,
  ]);
}

const MULTIPLIER_KEYS = ['match', 'learningRate', 'weightDecay'];

/** Checks paramMultipliers' rules; returns copies, each with its compiled expression. */
function checkMultipliers(
  where: string,
  rules: unknown,
  hasWeightDecay: boolean,
): { rule: ParamMultiplier; re: RegExp }[] {
  const example = "[{ match: '/beta$', learningRate: 64 }]";
  if (!Array.isArray(rules))
    throw new ArgumentError(
      `${where}: paramMultipliers must be an array of rules such as ${example}, got ${String(rules)}.`,
    );
  return rules.map((r: unknown, i) => {
    const at = `${where}: paramMultipliers[${i}]`;
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw new ArgumentError(`${at} must be an object such as ${example}, got ${String(r)}.`);
    checkOptions(at, r, MULTIPLIER_KEYS);
    const { match, learningRate, weightDecay } = r as ParamMultiplier;
    if (typeof match !== 'string' || match === '')
      throw new ArgumentError(
        `${at}.match must be a regular expression (a non-empty string) tested against weight names, got ${String(match)}.`,
      );
    let re: RegExp;
    try {
      re = new RegExp(match);
    } catch (e) {
      throw new ArgumentError(
        `${at}.match '${match}' is not a regular expression: ${(e as Error).message}.`,
      );
    }
    const rule: ParamMultiplier = { match };
    if (learningRate !== undefined)
      rule.learningRate = checkNumber(at, 'learningRate', learningRate, {
        min: 0,
        minExclusive: true,
      });
    if (weightDecay !== undefined) {
      if (!hasWeightDecay)
        throw new ArgumentError(
          `${at}: weightDecay multiplies the optimizer's weight decay, and ${where} has none (SGD and AdamW do).`,
        );
      rule.weightDecay = checkNumber(at, 'weightDecay', weightDecay, { min: 0 });
    }
    return { rule, re };
  });
}

function checkLearningRate(where: string, lr: unknown): LearningRate {
  if (isSchedule(lr)) return lr;
  return checkNumber(where, 'learningRate', lr, { min: 0 });
}

// ---------------------------------------------------------------------------------------------
// Gradient clipping.
// ---------------------------------------------------------------------------------------------

/** The L2 norm of all the tensors together (as if concatenated). */
function globalNorm(grads: Tensor[]): number {
  let total = 0;
  noGrad(() => {
    for (const g of grads) total += sum(square(g)).item();
  });
  return Math.sqrt(total);
}

/** torch's factor: maxNorm / (norm + 1e-6), applied only where it is below 1. */
function clipFactor(norm: number, maxNorm: number): number {
  return maxNorm / (norm + 1e-6);
}

/**
 * Scales the gradients of `params` together so that their global L2 norm is at most
 * `maxNorm`, as torch.nn.utils.clip_grad_norm_ does (factor `maxNorm / (norm + 1e-6)` where
 * that is below 1). Replaces each `p.grad`; params whose grad is null are left out.
 * Returns the total norm before clipping.
 */
export function clipGradNorm(
  params: Tensor[],
  maxNorm: number,
  options: { errorIfNonfinite?: boolean } = {},
): number {
  checkParamList('clipGradNorm', params);
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { min: 0, minExclusive: true });
  const withGrad = params.filter((p) => p.grad !== null);
  const norm = globalNorm(withGrad.map((p) => p.grad!));
  if (!Number.isFinite(norm) && options.errorIfNonfinite) {
    throw new NonFiniteError(
      `clipGradNorm: the total gradient norm is ${norm}; some gradient holds NaN or infinity.`,
    );
  }
  const factor = clipFactor(norm, maxNorm);
  if (factor < 1) {
    noGrad(() => {
      for (const p of withGrad) p.grad = mul(p.grad!, factor);
    });
  }
  return norm;
}

/** Clamps every gradient value of `params` to [-clipValue, clipValue] (replaces `p.grad`). */
export function clipGradValue(params: Tensor[], clipValue: number): void {
  checkParamList('clipGradValue', params);
  checkNumber('clipGradValue', 'clipValue', clipValue, { min: 0, minExclusive: true });
  noGrad(() => {
    for (const p of params) if (p.grad) p.grad = clampValues(p.grad, clipValue);
  });
}

function clampValues(g: Tensor, v: number): Tensor {
  return minimum(maximum(g, -v), v);
}

/**
 * A copy of an optimizer's state tensor for getState(). Where reads are asynchronous (webgpu)
 * and the GPU computed it, the refusal says to use getStateAsync(), which copies it first.
 */
export function stateValues(where: string, t: Tensor): Float32Array {
  try {
    return Float32Array.from(t.dataSync());
  } catch (e) {
    if (!(e instanceof BackendError) || !t.storage.backend.deferReads) throw e;
    throw new BackendError(
      `${where}: the optimizer's state lives on the '${t.storage.backend.name}' backend, which reads it only asynchronously. Use \`await optimizer.getStateAsync()\` (checkpoints do). (${e.message})`,
    );
  }
}

function checkParamList(where: string, params: unknown): asserts params is Tensor[] {
  if (!Array.isArray(params)) {
    throw new ArgumentError(
      `${where}: params must be an array of Tensors (such as model.trainableWeights), got ${String(params)}.`,
    );
  }
  params.forEach((p, i) => {
    if (!(p instanceof Tensor)) {
      throw new ArgumentError(
        `${where}: params[${i}] must be a Tensor, got ${p === null ? 'null' : typeof p}.`,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Counters in checkpoints: float32 holds integers exactly only up to 2^24, so a count is
// written as two float32 words, low 24 bits and the rest.
// ---------------------------------------------------------------------------------------------

const WORD = 2 ** 24;

function encodeCount(n: number): Float32Array {
  return new Float32Array([n % WORD, Math.floor(n / WORD)]);
}

function decodeCount(where: string, what: string, a: unknown): number {
  const ok =
    a instanceof Float32Array &&
    a.length === 2 &&
    Number.isInteger(a[0]) &&
    Number.isInteger(a[1]) &&
    a[0]! >= 0 &&
    a[1]! >= 0;
  if (!ok) {
    throw new ArgumentError(
      `${where}: ${what} must be a Float32Array of 2 non-negative integers (low 24 bits, high part), ` +
        `got ${a instanceof Float32Array ? `[${Array.from(a).join(', ')}]` : String(a)}.`,
    );
  }
  return a[0]! + a[1]! * WORD;
}

// ---------------------------------------------------------------------------------------------
// Rebuilding from a config.
// ---------------------------------------------------------------------------------------------

/** A concrete optimizer class: constructible from its options, named by className. */
type OptimizerClass<T> = (new (options: never) => T) & { readonly className?: string };

function buildFromConfig<T>(cls: OptimizerClass<T>, config: OptimizerConfig): T {
  if (config === null || typeof config !== 'object') {
    throw new ArgumentError(`fromConfig: config must be an object, got ${String(config)}.`);
  }
  const { className, learningRate, ...rest } = config;
  if (cls.className === undefined) {
    throw new ArgumentError(
      'Optimizer.fromConfig: Optimizer is abstract; call it on a class (Adam.fromConfig(config)) or use getOptimizer(config).',
    );
  }
  if (className !== undefined && className !== cls.className) {
    throw new ArgumentError(
      `${cls.className}.fromConfig: the config describes a ${String(className)}. Use getOptimizer(config) to rebuild any optimizer.`,
    );
  }
  const lr =
    learningRate === undefined || typeof learningRate === 'number' || isSchedule(learningRate)
      ? learningRate
      : scheduleFromConfig(learningRate);
  const options = lr === undefined ? rest : { ...rest, learningRate: lr };
  return new cls(options as never);
}

// ---------------------------------------------------------------------------------------------
// The optimizer.
// ---------------------------------------------------------------------------------------------

/**
 * The base of every optimizer ({@link SGD}, {@link Adam}, {@link AdamW}, {@link RMSprop}).
 * `compile` takes one (or a name); in a custom loop, call `step(params)` after `backward()`
 * and `zeroGrad()` before the next one. Updates follow PyTorch's rules, defaults Keras's.
 *
 * @example
 * ```ts
 * const opt = new rc.Adam({ learningRate: 1e-3, clipNorm: 1 });
 * rc.sum(rc.square(model.call(x))).backward();
 * opt.step(model.trainableWeights);
 * opt.zeroGrad();
 * ```
 */
export abstract class Optimizer {
  /** The class name used in configs and messages: 'SGD', 'Adam', 'AdamW', 'RMSprop'. */
  abstract readonly name: string;
  /** How many times step() has run; schedules are evaluated at this count. */
  iterations = 0;
  /** The global L2 norm gradients are scaled down to, if set. */
  readonly clipNorm: number | undefined;
  /** The bound gradient values are clamped to, if set. */
  readonly clipValue: number | undefined;
  /** Per-parameter state, keyed by the parameter Tensor (whose identity never changes). */
  protected readonly state = new Map<Tensor, ParamState>();
  /** The parameters of the last step (or setState): zeroGrad() and step() use them by default. */
  protected params: Tensor[] = [];
  private _learningRate: LearningRate;
  private readonly multipliers: { rule: ParamMultiplier; re: RegExp }[];
  /** Each parameter's [learning-rate, weight-decay] multipliers, found once by its name. */
  private readonly multiplierOf = new Map<Tensor, [number, number]>();

  protected constructor(where: string, options: OptimizerOptions, defaultLearningRate: number) {
    this._learningRate = checkLearningRate(where, options.learningRate ?? defaultLearningRate);
    if (options.clipNorm !== undefined && options.clipValue !== undefined) {
      throw new ArgumentError(
        `${where}: give clipNorm or clipValue, not both (got clipNorm ${options.clipNorm}, clipValue ${options.clipValue}). ` +
          'Call clipGradValue(params, v) yourself before step() to combine them.',
      );
    }
    this.clipNorm =
      options.clipNorm === undefined
        ? undefined
        : checkNumber(where, 'clipNorm', options.clipNorm, { min: 0, minExclusive: true });
    this.clipValue =
      options.clipValue === undefined
        ? undefined
        : checkNumber(where, 'clipValue', options.clipValue, { min: 0, minExclusive: true });
    this.multipliers =
      options.paramMultipliers === undefined
        ? []
        : checkMultipliers(where, options.paramMultipliers, this.hasWeightDecay());
  }

  /** Whether the update has a weight decay that paramMultipliers' `weightDecay` can scale. */
  protected hasWeightDecay(): boolean {
    return false;
  }

  /** The [learning-rate, weight-decay] multipliers of `p`: its first matching rule's, or 1s. */
  private multipliersFor(p: Tensor): [number, number] {
    let m = this.multiplierOf.get(p);
    if (!m) {
      const hit = this.multipliers.find(({ re }) => p.name !== undefined && re.test(p.name));
      m = [hit?.rule.learningRate ?? 1, hit?.rule.weightDecay ?? 1];
      this.multiplierOf.set(p, m);
    }
    return m;
  }

  /** The names of the per-parameter slots, in the order getState() writes them. */
  abstract get slotNames(): readonly string[];

  /** The hyperparameters other than learningRate and clipping, for getConfig(). */
  protected abstract hyperparameters(): Record<string, number | boolean>;

  /**
   * The new value of `param` after one update with gradient `grad` (already clipped) and
   * learning rate `lr` (its paramMultipliers' included). `state.step` already counts this
   * update. `decay` multiplies the optimizer's weight decay for this param (paramMultipliers).
   * Runs under noGrad; it may replace the tensors in `state.slots` but must not modify any storage.
   */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    lr: number,
    decay: number,
  ): Tensor;

  /** The learning rate: a number, or a schedule evaluated at `iterations`. */
  get learningRate(): LearningRate {
    return this._learningRate;
  }

  /** @throws ArgumentError for a negative or non-finite number, or something that is not a schedule */
  set learningRate(lr: LearningRate) {
    this._learningRate = checkLearningRate(this.name, lr);
  }

  /** The learning rate the next step() will use. */
  currentLearningRate(): number {
    const lr = this._learningRate;
    if (typeof lr === 'number') return lr;
    const v = lr(this.iterations);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ArgumentError(
        `${this.name}: the learning-rate schedule gave ${String(v)} at iteration ${this.iterations}; ` +
          'a schedule must return a finite number >= 0.',
      );
    }
    return v;
  }

  /**
   * One update of every param that has requiresGrad and a gradient (params whose grad is
   * null are skipped; their state does not advance). Without an argument, the params of
   * the last step. Each updated param keeps its identity: its storage is replaced.
   */
  step(params?: Tensor[]): void {
    const where = `${this.name}.step`;
    const list = this.resolveParams(where, params, true);
    const active = list.filter((p) => p.requiresGrad && p.grad !== null);
    active.forEach((p) => {
      const g = p.grad!;
      if (!(g instanceof Tensor) || g.shape.length !== p.shape.length || g.size !== p.size) {
        throw new ShapeError(
          `${where}: the gradient of ${p.name ?? 'a parameter'} has shape ${g instanceof Tensor ? fmtShape(g.shape) : String(g)}, ` +
            `the parameter ${fmtShape(p.shape)}. Gradients must have their parameter's shape.`,
        );
      }
      if (!g.shape.every((d, i) => d === p.shape[i])) {
        throw new ShapeError(
          `${where}: the gradient of ${p.name ?? 'a parameter'} has shape ${fmtShape(g.shape)}, ` +
            `the parameter ${fmtShape(p.shape)}. Gradients must have their parameter's shape.`,
        );
      }
    });
    const lr = this.currentLearningRate();
    noGrad(() => {
      let grads = active.map((p) => p.grad!);
      if (this.clipValue !== undefined) {
        const v = this.clipValue;
        grads = grads.map((g) => clampValues(g, v));
      }
      if (this.clipNorm !== undefined) {
        const factor = clipFactor(globalNorm(grads), this.clipNorm);
        if (factor < 1) grads = grads.map((g) => mul(g, factor));
      }
      active.forEach((p, i) => {
        const st = this.stateFor(p);
        st.step += 1;
        const [lrMul, decayMul] = this.multipliersFor(p);
        p.storage = this.update(p, grads[i]!, st, lr * lrMul, decayMul).storage;
      });
    });
    this.iterations += 1;
    this.params = list;
  }

  /** Sets grad = null on params (default: the params of the last step). */
  zeroGrad(params?: Tensor[]): void {
    for (const p of this.resolveParams(`${this.name}.zeroGrad`, params, false)) p.grad = null;
  }

  /** Every slot tensor of every parameter (what a training step must keep besides the weights). */
  slotTensors(): Tensor[] {
    const out: Tensor[] = [];
    for (const st of this.state.values()) out.push(...Object.values(st.slots));
    return out;
  }

  /** The state of one parameter (null before its first update). */
  getParamState(param: Tensor): ParamState | null {
    return this.state.get(param) ?? null;
  }

  /** A JSON-safe description: className, learningRate (or its schedule's config), hyperparameters. */
  getConfig(): OptimizerConfig {
    const lr = this._learningRate;
    let learningRate: number | ScheduleConfig;
    if (typeof lr === 'number') {
      learningRate = lr;
    } else if (typeof lr.getConfig === 'function') {
      learningRate = lr.getConfig();
    } else {
      throw new ArgumentError(
        `${this.name}.getConfig: the learning rate is a plain function, which cannot be saved. ` +
          'Use one of the schedules (stepDecay, exponentialDecay, cosineDecay, warmup, constant).',
      );
    }
    const config: OptimizerConfig = {
      className: this.name,
      learningRate,
      ...this.hyperparameters(),
    };
    if (this.clipNorm !== undefined) config.clipNorm = this.clipNorm;
    if (this.clipValue !== undefined) config.clipValue = this.clipValue;
    if (this.multipliers.length > 0)
      config.paramMultipliers = this.multipliers.map(({ rule }) => ({ ...rule }));
    return config;
  }

  /**
   * Rebuilds an optimizer from getConfig() (no state): `Adam.fromConfig(config)`. To pick the
   * class from `config.className`, use `getOptimizer(config)`.
   */
  static fromConfig<T extends Optimizer>(this: OptimizerClass<T>, config: OptimizerConfig): T {
    // biome-ignore lint/complexity/noThisInStatic: fromConfig builds the class it is called on.
    return buildFromConfig(this, config);
  }

  /**
   * The state as plain arrays, for checkpoints. Layout: the iteration count, then for each
   * param in order its update count and one array per slot (slotNames order, the param's
   * row-major values; zeros before its first update). Counts are Float32Arrays of two
   * integers [n mod 2^24, floor(n / 2^24)] so that they stay exact. Default params: those of
   * the last step.
   */
  getState(params?: Tensor[]): Float32Array[] {
    const list = this.resolveParams(`${this.name}.getState`, params, false);
    const out: Float32Array[] = [encodeCount(this.iterations)];
    for (const p of list) {
      const st = this.state.get(p);
      out.push(encodeCount(st?.step ?? 0));
      for (const name of this.slotNames) {
        const slot = st?.slots[name];
        out.push(slot ? stateValues(`${this.name}.getState`, slot) : new Float32Array(p.size));
      }
    }
    return out;
  }

  /**
   * getState() on every backend: where reads are asynchronous (webgpu), whose dataSync()
   * refuses a tensor the GPU computed, the slots and params are first copied to the CPU.
   * Checkpoints (BackupAndRestore) use it.
   */
  async getStateAsync(params?: Tensor[]): Promise<Float32Array[]> {
    const list = this.resolveParams(`${this.name}.getStateAsync`, params, false);
    await makeReadable([...this.slotTensors(), ...list]);
    return this.getState(list);
  }

  /**
   * Restores getState()'s arrays onto params (default: those of the last step); a fresh
   * optimizer with the same config then continues exactly where the saved one stopped.
   */
  setState(state: Float32Array[], params?: Tensor[]): void {
    const where = `${this.name}.setState`;
    const list = this.resolveParams(where, params, true);
    const slots = this.slotNames;
    const expected = 1 + list.length * (1 + slots.length);
    if (!Array.isArray(state) || state.length !== expected) {
      throw new ArgumentError(
        `${where}: expected ${expected} arrays for ${list.length} params (the iteration count, then per param ` +
          `its update count and the slots ${slots.length ? slots.join(', ') : '(none)'}), ` +
          `got ${Array.isArray(state) ? state.length : String(state)}. Was it saved from an optimizer with the same config and params?`,
      );
    }
    const iterations = decodeCount(where, 'state[0] (the iteration count)', state[0]);
    const restored = new Map<Tensor, ParamState>();
    let k = 1;
    list.forEach((p, i) => {
      const step = decodeCount(where, `state[${k}] (the update count of param ${i})`, state[k++]);
      const st: ParamState = { step, slots: {} };
      for (const name of slots) {
        const a = state[k];
        if (!(a instanceof Float32Array) || a.length !== p.size) {
          throw new ArgumentError(
            `${where}: state[${k}] (slot '${name}' of param ${i}, shape ${fmtShape(p.shape)}) must be a Float32Array of ` +
              `${p.size} values, got ${a instanceof Float32Array ? `${a.length} values` : String(a)}.`,
          );
        }
        st.slots[name] = tensor(Float32Array.from(a), p.shape);
        k++;
      }
      restored.set(p, st);
    });
    this.state.clear();
    for (const [p, st] of restored) this.state.set(p, st);
    this.iterations = iterations;
    this.params = list;
  }

  /** The state of `p`, made (slots at zero) on its first update. */
  private stateFor(p: Tensor): ParamState {
    let st = this.state.get(p);
    if (!st) {
      st = { step: 0, slots: {} };
      for (const name of this.slotNames) st.slots[name] = zerosLike(p);
      this.state.set(p, st);
    }
    return st;
  }

  /** The given params (checked, deduplicated) or, without them, those of the last step. */
  protected resolveParams(
    where: string,
    params: Tensor[] | undefined,
    required: boolean,
  ): Tensor[] {
    if (params === undefined) {
      if (required && this.params.length === 0) {
        throw new ArgumentError(
          `${where}: no params given and none remembered from an earlier step. Pass them: ${where}(model.trainableWeights).`,
        );
      }
      return this.params;
    }
    checkParamList(where, params);
    params.forEach((p) => {
      if (p.dtype !== 'float32') {
        throw new ArgumentError(
          `${where}: ${p.name ?? 'a parameter'} is ${p.dtype}; only float32 tensors can be optimized.`,
        );
      }
    });
    return [...new Set(params)];
  }
}
