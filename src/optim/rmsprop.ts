/** RMSprop, plain or centered, with optional momentum (PyTorch's rule, Keras's epsilon). */
import { add, div, maximum, mul, sqrt, square, sub } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import {
  checkBoolean,
  checkNumber,
  checkOptionNames,
  Optimizer,
  type OptimizerOptions,
  type ParamState,
} from './optimizer.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Default 0.001. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Decay of the average of squared gradients, in [0, 1) (PyTorch's alpha; default 0.9 as Keras). */
  rho?: number;
  /** Momentum factor in [0, 1] (default 0). */
  momentum?: number;
  /** Added to the denominator; default 1e-7 as Keras (PyTorch's default is 1e-8). */
  epsilon?: number;
  /** Divide by an estimate of the variance instead of the uncentered second moment (default false). */
  centered?: boolean;
}

/**
 * RMSprop as torch.optim.RMSprop computes it (alpha = rho):
 * `s = rho s + (1 - rho) g²`; centered: `a = rho a + (1 - rho) g`, `d = sqrt(s - a²) + eps`,
 * else `d = sqrt(s) + eps`; with momentum `buf = momentum buf + g / d; p = p - lr buf`,
 * else `p = p - lr g / d`. (s - a² is clamped at 0 so that rounding cannot make a NaN.)
 */
export class RMSprop extends Optimizer {
  /** The class name configs and messages use. */
  static readonly className = 'RMSprop';
  readonly name = 'RMSprop';
  /** Decay of the average of squared gradients. */
  readonly rho: number;
  /** The momentum factor. */
  readonly momentum: number;
  /** Added to the denominator. */
  readonly epsilon: number;
  /** Whether the variance estimate is centered. */
  readonly centered: boolean;

  constructor(options: RMSpropOptions = {}) {
    const where = 'RMSprop';
    checkOptionNames(where, options, ['rho', 'momentum', 'epsilon', 'centered']);
    super(where, options, 0.001);
    const { rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false } = options;
    this.rho = checkNumber(where, 'rho', rho, { min: 0, max: 1, maxExclusive: true });
    this.momentum = checkNumber(where, 'momentum', momentum, { min: 0, max: 1 });
    this.epsilon = checkNumber(where, 'epsilon', epsilon, { min: 0, minExclusive: true });
    this.centered = checkBoolean(where, 'centered', centered);
  }

  get slotNames(): readonly string[] {
    const names = ['squareAvg'];
    if (this.centered) names.push('gradAvg');
    if (this.momentum > 0) names.push('momentum');
    return names;
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return {
      rho: this.rho,
      momentum: this.momentum,
      epsilon: this.epsilon,
      centered: this.centered,
    };
  }

  protected update(p: Tensor, g: Tensor, state: ParamState, lr: number): Tensor {
    const { rho } = this;
    const s = state.slots;
    const squareAvg = add(mul(s.squareAvg!, rho), mul(square(g), 1 - rho));
    s.squareAvg = squareAvg;
    let variance = squareAvg;
    if (this.centered) {
      const gradAvg = add(mul(s.gradAvg!, rho), mul(g, 1 - rho));
      s.gradAvg = gradAvg;
      variance = maximum(sub(squareAvg, square(gradAvg)), 0);
    }
    const denom = add(sqrt(variance), this.epsilon);
    if (this.momentum > 0) {
      const buf = add(mul(s.momentum!, this.momentum), div(g, denom));
      s.momentum = buf;
      return sub(p, mul(buf, lr));
    }
    return sub(p, mul(div(g, denom), lr));
  }
}
