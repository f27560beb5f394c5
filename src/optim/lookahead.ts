/**
 * Lookahead (Zhang, Lucas, Hinton and Ba, 2019): an inner optimizer moves the weights ("fast
 * weights") for k steps, then the slow weights move a fraction alpha of the way towards them
 * and the fast weights restart from there. Airbench trains CIFAR-10 with it over Nesterov SGD.
 */
import { noGrad } from '../autograd.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { Tensor, tensor } from '../tensor.js';
import { ArgumentError, fmtShape } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import {
  checkNumber,
  type LearningRate,
  Optimizer,
  type OptimizerConfig,
  type ParamState,
  stateValues,
} from './optimizer.js';
import { getOptimizer } from './registry.js';
import { isSchedule, type LearningRateSchedule, scheduleFromConfig } from './schedules.js';

/** Options of {@link Lookahead}. */
export interface LookaheadOptions {
  /** The inner ("fast") optimizer: an instance, a name ('sgd') or a config. */
  optimizer: Optimizer | string | OptimizerConfig;
  /**
   * Inner steps between synchronizations (a positive integer).
   * @default 5
   */
  k?: number;
  /**
   * How far the slow weights move towards the fast ones at each synchronization, in (0, 1]
   * (1: plain inner optimizer). A number, or a schedule of the inner iteration count (see
   * {@link schedules}), evaluated when the synchronization happens.
   * @default 0.5
   */
  alpha?: number | LearningRateSchedule;
}

const KEYS = ['optimizer', 'k', 'alpha'];

/**
 * A tensor of p's values that stays as it is when p's storage is replaced: a new storage on p's
 * backend (x · 1 is exact), so a weight the GPU computed is copied there, never read back.
 */
function copyOf(p: Tensor): Tensor {
  return mul(p, 1);
}

function checkAlpha(where: string, alpha: unknown): number | LearningRateSchedule {
  if (isSchedule(alpha)) return alpha;
  return checkNumber(where, 'alpha', alpha, { min: 0, max: 1, minExclusive: true });
}

/**
 * Lookahead over any optimizer, as the paper's algorithm: every `k`-th step of the inner
 * optimizer, `slow = slow + alpha·(fast − slow)` and the weights are set to `slow`. The slow
 * weights start at the weights' values before their first update. The inner optimizer's state
 * (momentum, moments) carries on across synchronizations. The weights the optimizer updates are
 * averaged, and the tensors given to {@link Lookahead.alsoAverage} (BatchNorm's moving
 * statistics, as airbench does).
 *
 * @example
 * ```ts
 * const opt = new rc.Lookahead({
 *   optimizer: new rc.SGD({ learningRate: 0.1, momentum: 0.85, nesterov: true }),
 *   k: 5,
 *   alpha: 0.5,
 * });
 * model.compile({ optimizer: opt, loss: 'sparseCategoricalCrossentropy' });
 * ```
 */
export class Lookahead extends Optimizer {
  /** The class name configs and messages use. */
  static readonly className = 'Lookahead';
  readonly name = 'Lookahead';
  /** The inner optimizer, which makes every step. */
  readonly optimizer: Optimizer;
  /** Inner steps between synchronizations. */
  readonly k: number;
  /** The slow weights' step towards the fast ones (a number or a schedule). */
  readonly alpha: number | LearningRateSchedule;
  /** The slow weights, by parameter. */
  private readonly slow = new Map<Tensor, Tensor>();
  /** Tensors averaged at each synchronization that the inner optimizer does not update. */
  private readonly extra = new Set<Tensor>();

  /**
   * @throws ArgumentError for an unknown option, a missing or unknown inner optimizer, k not a
   * positive integer, alpha outside (0, 1], or options that belong to the inner optimizer
   */
  constructor(options: LookaheadOptions) {
    const where = 'Lookahead';
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new ArgumentError(
        `${where}: options must be an object such as { optimizer: new rc.SGD({ momentum: 0.9 }), k: 5, alpha: 0.5 }, got ${String(options)}.`,
      );
    for (const key of ['learningRate', 'clipNorm', 'clipValue', 'paramMultipliers'])
      if (key in options)
        throw new ArgumentError(
          `${where}: ${key} belongs to the inner optimizer; set it there (new rc.SGD({ ${key}: ... })).`,
        );
    checkOptions(where, options, KEYS);
    super(where, {}, 0);
    if (options.optimizer === undefined)
      throw new ArgumentError(
        `${where}: needs the inner optimizer, e.g. { optimizer: new rc.SGD({ momentum: 0.9 }) } or { optimizer: 'adam' }.`,
      );
    if (options.optimizer instanceof Lookahead)
      throw new ArgumentError(`${where}: the inner optimizer cannot itself be a Lookahead.`);
    this.optimizer = getOptimizer(options.optimizer);
    const k = options.k ?? 5;
    if (!Number.isInteger(k) || k < 1)
      throw new ArgumentError(
        `${where}: k must be a positive integer (inner steps between synchronizations), got ${String(k)}.`,
      );
    this.k = k;
    this.alpha = checkAlpha(where, options.alpha ?? 0.5);
  }

  /** A Lookahead from getConfig()'s output; a `learningRate` there overrides the inner one's. */
  static override fromConfig<T extends Optimizer>(this: unknown, config: OptimizerConfig): T {
    if (config === null || typeof config !== 'object')
      throw new ArgumentError(
        `Lookahead.fromConfig: config must be an object, got ${String(config)}.`,
      );
    const { className, learningRate, optimizer, k, alpha, ...rest } = config;
    if (className !== undefined && className !== 'Lookahead')
      throw new ArgumentError(
        `Lookahead.fromConfig: the config describes a ${String(className)}. Use getOptimizer(config) to rebuild any optimizer.`,
      );
    const inner = getOptimizer(optimizer as OptimizerConfig);
    if (learningRate !== undefined)
      inner.learningRate =
        typeof learningRate === 'number' || isSchedule(learningRate)
          ? learningRate
          : scheduleFromConfig(learningRate);
    const a =
      alpha === undefined || typeof alpha === 'number' || isSchedule(alpha)
        ? alpha
        : scheduleFromConfig(alpha as never);
    return new Lookahead({
      ...rest,
      optimizer: inner,
      ...(k === undefined ? {} : { k: k as number }),
      ...(a === undefined ? {} : { alpha: a }),
    }) as unknown as T;
  }

  /** The inner optimizer's learning rate. */
  override get learningRate(): LearningRate {
    return this.optimizer.learningRate;
  }

  override set learningRate(lr: LearningRate) {
    this.optimizer.learningRate = lr;
  }

  /** The learning rate the inner optimizer's next step will use. */
  override currentLearningRate(): number {
    return this.optimizer.currentLearningRate();
  }

  /** The inner optimizer's slots; getState() writes the slow weights after them. */
  get slotNames(): readonly string[] {
    return this.optimizer.slotNames;
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { k: this.k };
  }

  protected update(): Tensor {
    throw new Error('Lookahead.update: unused; the inner optimizer updates the weights.');
  }

  /** The alpha of the synchronization at the inner iteration count `t`. */
  private alphaAt(t: number): number {
    const a = this.alpha;
    if (typeof a === 'number') return a;
    const v = a(t);
    if (typeof v !== 'number' || !(v > 0 && v <= 1))
      throw new ArgumentError(
        `Lookahead: the alpha schedule gave ${String(v)} at iteration ${t}; alpha must be in (0, 1].`,
      );
    return v;
  }

  /**
   * One step of the inner optimizer; every k-th, the synchronization of the slow weights.
   * Params seen for the first time get their slow weights (their values before this step).
   */
  override step(params?: Tensor[]): void {
    const list = this.resolveParams('Lookahead.step', params, true);
    noGrad(() => {
      for (const p of list)
        if (p.requiresGrad && p.grad !== null && !this.slow.has(p)) this.slow.set(p, copyOf(p));
    });
    this.optimizer.step(list);
    this.iterations = this.optimizer.iterations;
    this.params = list;
    if (this.iterations % this.k !== 0) return;
    const alpha = this.alphaAt(this.iterations);
    noGrad(() => {
      for (const p of new Set([...list, ...this.extra])) {
        const slow = this.slow.get(p);
        if (!slow) continue;
        const next = alpha === 1 ? copyOf(p) : add(slow, mul(sub(p, slow), alpha));
        // The weight and its slow copy may share the storage: storages are never written in place.
        this.slow.set(p, next);
        p.storage = next.storage;
      }
    });
  }

  /**
   * Also averages `tensors` at each synchronization, though the inner optimizer does not update
   * them: BatchNorm's moving statistics, which follow the fast weights, so that the statistics
   * the weights end with belong to the slow weights (airbench averages the model's whole state).
   * Their slow copies start at their values now (call it before training); {@link
   * assignSlowWeights} without arguments assigns them too. They are not part of getState().
   *
   * @example
   * ```ts
   * const stats = model.layers.flatMap((l) =>
   *   l instanceof rc.layers.BatchNormalization ? [l.movingMean, l.movingVariance] : []);
   * lookahead.alsoAverage(stats);
   * ```
   * @throws ArgumentError for anything but an array of float32 tensors
   */
  alsoAverage(tensors: Tensor[]): void {
    const where = 'Lookahead.alsoAverage';
    if (!Array.isArray(tensors))
      throw new ArgumentError(
        `${where}: expects an array of tensors (such as BatchNorm's movingMean and movingVariance), got ${String(tensors)}.`,
      );
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor) || t.dtype !== 'float32')
        throw new ArgumentError(
          `${where}: tensors[${i}] must be a float32 tensor, got ${t instanceof Tensor ? `a ${t.dtype} tensor` : String(t)}.`,
        );
    });
    noGrad(() => {
      for (const t of tensors) {
        this.extra.add(t);
        if (!this.slow.has(t)) this.slow.set(t, copyOf(t));
      }
    });
  }

  /** Sets grad = null on params (default: the params of the last step). */
  override zeroGrad(params?: Tensor[]): void {
    this.optimizer.zeroGrad(params ?? this.params);
  }

  /** The inner optimizer's slots and the slow weights. */
  override slotTensors(): Tensor[] {
    return [...this.optimizer.slotTensors(), ...this.slow.values()];
  }

  /** The inner optimizer's state of one parameter. */
  override getParamState(param: Tensor): ParamState | null {
    return this.optimizer.getParamState(param);
  }

  /**
   * Sets the weights to their slow weights (default: the params of the last step and the
   * tensors of {@link alsoAverage}), as airbench does once training ends, where the last steps
   * since a synchronization are then dropped.
   */
  assignSlowWeights(params?: Tensor[]): void {
    const list = this.resolveParams('Lookahead.assignSlowWeights', params ?? this.params, false);
    for (const p of params === undefined ? new Set([...list, ...this.extra]) : list) {
      const slow = this.slow.get(p);
      if (slow) p.storage = slow.storage;
    }
  }

  /** The slow weights of one parameter (null before its first update). */
  getSlowWeights(param: Tensor): Tensor | null {
    return this.slow.get(param) ?? null;
  }

  /** className 'Lookahead', the inner optimizer's config and learning rate, k and alpha. */
  override getConfig(): OptimizerConfig {
    const inner = this.optimizer.getConfig();
    const a = this.alpha;
    let alpha: unknown = a;
    if (typeof a !== 'number') {
      if (typeof a.getConfig !== 'function')
        throw new ArgumentError(
          'Lookahead.getConfig: alpha is a plain function, which cannot be saved. Use one of the schedules.',
        );
      alpha = a.getConfig();
    }
    return {
      className: 'Lookahead',
      learningRate: inner.learningRate,
      optimizer: inner,
      k: this.k,
      alpha,
    };
  }

  /**
   * The inner optimizer's getState() arrays, then each param's slow weights (its current
   * values where it has had no update yet).
   */
  override getState(params?: Tensor[]): Float32Array[] {
    const list = this.resolveParams('Lookahead.getState', params ?? this.params, false);
    return [
      ...this.optimizer.getState(list),
      ...list.map((p) => stateValues('Lookahead.getState', this.slow.get(p) ?? p)),
    ];
  }

  /** Restores getState()'s arrays onto params (default: those of the last step). */
  override setState(state: Float32Array[], params?: Tensor[]): void {
    const where = 'Lookahead.setState';
    const list = this.resolveParams(where, params, true);
    if (!Array.isArray(state) || state.length < list.length)
      throw new ArgumentError(
        `${where}: expected the inner optimizer's arrays, then ${list.length} arrays of slow weights, got ${Array.isArray(state) ? state.length : String(state)}.`,
      );
    const cut = state.length - list.length;
    const slows = list.map((p, i) => {
      const a = state[cut + i];
      if (!(a instanceof Float32Array) || a.length !== p.size)
        throw new ArgumentError(
          `${where}: state[${cut + i}] (the slow weights of param ${i}, shape ${fmtShape(p.shape)}) must be a Float32Array of ${p.size} values, got ${a instanceof Float32Array ? `${a.length} values` : String(a)}.`,
        );
      return tensor(Float32Array.from(a), p.shape);
    });
    this.optimizer.setState(state.slice(0, cut), list);
    this.slow.clear();
    list.forEach((p, i) => {
      this.slow.set(p, slows[i]!);
    });
    this.iterations = this.optimizer.iterations;
    this.params = list;
  }
}
