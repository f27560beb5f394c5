/**
 * Learning-rate schedules: functions of the optimizer's iteration count (0 on the first
 * update) that also describe themselves, so that an optimizer's config can be saved and
 * rebuilt. Formulas follow Keras (exponential and cosine decay) and PyTorch (StepLR).
 */

import { ArgumentError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';

/** A plain description of a schedule: JSON-safe, rebuilt by `scheduleFromConfig`. */
export interface ScheduleConfig {
  /** Which schedule. */
  className: 'constant' | 'stepDecay' | 'exponentialDecay' | 'cosineDecay' | 'warmup';
  /** Its options (a warm-up holds the schedule it leads into). */
  config: Record<string, number | boolean | ScheduleConfig>;
}

/** A learning rate as a function of the iteration count (0 for the first update). */
export interface LearningRateSchedule {
  (step: number): number;
  /** The schedule's description, JSON-safe (optimizer configs and checkpoints store it). */
  getConfig(): ScheduleConfig;
}

function check(
  ok: boolean,
  where: string,
  name: string,
  value: unknown,
  expected: string,
): asserts ok {
  if (!ok) {
    throw new ArgumentError(`${where}: ${name} must be ${expected}, got ${String(value)}.`);
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const nonNegative = (v: unknown): v is number => isNum(v) && v >= 0;
const positive = (v: unknown): v is number => isNum(v) && v > 0;
const positiveInt = (v: unknown): v is number => positive(v) && Number.isInteger(v);

function makeSchedule(
  where: string,
  fn: (step: number) => number,
  config: ScheduleConfig,
): LearningRateSchedule {
  const schedule = ((step: number) => {
    check(nonNegative(step), where, 'step', step, 'a non-negative number');
    return fn(step);
  }) as LearningRateSchedule;
  schedule.getConfig = () => structuredClone(config);
  return schedule;
}

/** The same learning rate at every step. */
export function constant(value: number): LearningRateSchedule {
  check(nonNegative(value), 'constant', 'value', value, 'a finite number >= 0');
  return makeSchedule('constant', () => value, { className: 'constant', config: { value } });
}

/** Options of {@link stepDecay}. */
export interface StepDecayOptions {
  /** The learning rate at step 0. */
  initial: number;
  /** Steps between drops. */
  stepSize: number;
  /** Factor applied at each drop (default 0.1, as PyTorch's StepLR). */
  gamma?: number;
}

/** `initial * gamma ^ floor(step / stepSize)` (PyTorch's StepLR, counted in optimizer steps). */
export function stepDecay(options: StepDecayOptions): LearningRateSchedule {
  checkOptions('stepDecay', options, ['initial', 'stepSize', 'gamma']);
  const { initial, stepSize, gamma = 0.1 } = options ?? ({} as StepDecayOptions);
  check(nonNegative(initial), 'stepDecay', 'initial', initial, 'a finite number >= 0');
  check(positiveInt(stepSize), 'stepDecay', 'stepSize', stepSize, 'a positive integer');
  check(nonNegative(gamma), 'stepDecay', 'gamma', gamma, 'a finite number >= 0');
  return makeSchedule('stepDecay', (s) => initial * gamma ** Math.floor(s / stepSize), {
    className: 'stepDecay',
    config: { initial, stepSize, gamma },
  });
}

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** The learning rate at step 0. */
  initial: number;
  /** The steps over which the rate is multiplied by decayRate once. */
  decaySteps: number;
  /** The factor per decaySteps steps (> 0; below 1 decays). */
  decayRate: number;
  /** Decay in whole intervals of decaySteps (default false: smoothly). */
  staircase?: boolean;
}

/** `initial * decayRate ^ (step / decaySteps)`, the exponent floored when `staircase` (Keras). */
export function exponentialDecay(options: ExponentialDecayOptions): LearningRateSchedule {
  checkOptions('exponentialDecay', options, ['initial', 'decaySteps', 'decayRate', 'staircase']);
  const {
    initial,
    decaySteps,
    decayRate,
    staircase = false,
  } = options ?? ({} as ExponentialDecayOptions);
  const where = 'exponentialDecay';
  check(nonNegative(initial), where, 'initial', initial, 'a finite number >= 0');
  check(positive(decaySteps), where, 'decaySteps', decaySteps, 'a number > 0');
  check(positive(decayRate), where, 'decayRate', decayRate, 'a finite number > 0');
  check(typeof staircase === 'boolean', where, 'staircase', staircase, 'a boolean');
  return makeSchedule(
    where,
    (s) => {
      const p = s / decaySteps;
      return initial * decayRate ** (staircase ? Math.floor(p) : p);
    },
    { className: 'exponentialDecay', config: { initial, decaySteps, decayRate, staircase } },
  );
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** The learning rate at step 0. */
  initial: number;
  /** Steps over which the rate falls; it stays at `alpha * initial` after. */
  decaySteps: number;
  /** The final rate as a fraction of `initial` (default 0). */
  alpha?: number;
}

/**
 * Keras's cosine decay: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decaySteps) /
 * decaySteps)) + alpha)`.
 */
export function cosineDecay(options: CosineDecayOptions): LearningRateSchedule {
  checkOptions('cosineDecay', options, ['initial', 'decaySteps', 'alpha']);
  const { initial, decaySteps, alpha = 0 } = options ?? ({} as CosineDecayOptions);
  const where = 'cosineDecay';
  check(nonNegative(initial), where, 'initial', initial, 'a finite number >= 0');
  check(positive(decaySteps), where, 'decaySteps', decaySteps, 'a number > 0');
  check(isNum(alpha) && alpha >= 0 && alpha <= 1, where, 'alpha', alpha, 'a number in [0, 1]');
  return makeSchedule(
    where,
    (s) => {
      const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(s, decaySteps)) / decaySteps));
      return initial * ((1 - alpha) * cos + alpha);
    },
    { className: 'cosineDecay', config: { initial, decaySteps, alpha } },
  );
}

/**
 * Linear warm-up: the rate rises from 0 at step 0 to `schedule(0)` at `warmupSteps`, then
 * follows `schedule(step - warmupSteps)`, so the wrapped schedule runs its whole course
 * after the warm-up (as Keras's CosineDecay with warmup_steps). The first update (step 0)
 * therefore has rate 0, as in Keras and Hugging Face's linear warm-up.
 */
export function warmup(
  schedule: LearningRateSchedule | number,
  warmupSteps: number,
): LearningRateSchedule {
  const inner = typeof schedule === 'number' ? constant(schedule) : schedule;
  check(
    typeof inner === 'function' && typeof inner.getConfig === 'function',
    'warmup',
    'schedule',
    schedule,
    'a learning-rate schedule (stepDecay, cosineDecay, ...) or a number',
  );
  check(
    nonNegative(warmupSteps) && Number.isInteger(warmupSteps),
    'warmup',
    'warmupSteps',
    warmupSteps,
    'a non-negative integer',
  );
  return makeSchedule(
    'warmup',
    (s) => (s < warmupSteps ? (inner(0) * s) / warmupSteps : inner(s - warmupSteps)),
    { className: 'warmup', config: { schedule: inner.getConfig(), warmupSteps } },
  );
}

/** Rebuilds a schedule from `schedule.getConfig()`. */
export function scheduleFromConfig(config: ScheduleConfig): LearningRateSchedule {
  const c = (config?.config ?? {}) as Record<string, unknown>;
  switch (config?.className) {
    case 'constant':
      return constant(c.value as number);
    case 'stepDecay':
      return stepDecay(c as unknown as StepDecayOptions);
    case 'exponentialDecay':
      return exponentialDecay(c as unknown as ExponentialDecayOptions);
    case 'cosineDecay':
      return cosineDecay(c as unknown as CosineDecayOptions);
    case 'warmup':
      return warmup(scheduleFromConfig(c.schedule as ScheduleConfig), c.warmupSteps as number);
    default:
      throw new ArgumentError(
        `scheduleFromConfig: unknown schedule '${String(config?.className)}'. ` +
          'Known: constant, stepDecay, exponentialDecay, cosineDecay, warmup.',
      );
  }
}

/** Whether a value can serve as a learning-rate schedule (a function of the step). */
export function isSchedule(v: unknown): v is LearningRateSchedule {
  return typeof v === 'function';
}
