/** Adam (with AMSGrad) and AdamW, by PyTorch's update rule with Keras's default epsilon. */
import { add, div, maximum, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { wrap } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import {
  checkBoolean,
  checkNumber,
  checkOptionNames,
  Optimizer,
  type OptimizerOptions,
  type ParamState,
} from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  /** Default 0.001. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Decay of the first-moment average, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to the denominator; default 1e-7 as Keras (PyTorch's default is 1e-8). */
  epsilon?: number;
  /** Divide by the largest second moment so far (AMSGrad; default false). */
  amsgrad?: boolean;
}

/**
 * Adam as torch.optim.Adam computes it (per-parameter step t):
 * `m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g²`;
 * `p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)`,
 * with `max(v)` over the steps in place of `v` when amsgrad. Epsilon defaults to Keras's 1e-7.
 */
export class Adam extends Optimizer {
  /** The class name configs and messages use. */
  static readonly className: string = 'Adam';
  /** The option names this class takes besides learningRate, clipNorm and clipValue. */
  static readonly optionNames: readonly string[] = ['beta1', 'beta2', 'epsilon', 'amsgrad'];
  readonly name: string = 'Adam';
  /** Decay of the first-moment average. */
  readonly beta1: number;
  /** Decay of the second-moment average. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly epsilon: number;
  /** Whether the largest second moment so far is used (AMSGrad). */
  readonly amsgrad: boolean;

  constructor(options: AdamOptions = {}) {
    // Messages name the class being built ('AdamW: beta1 ...' from AdamW).
    const cls = new.target as typeof Adam;
    const where = cls.className;
    checkOptionNames(where, options, cls.optionNames);
    super(where, options, 0.001);
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, amsgrad = false } = options;
    this.beta1 = checkNumber(where, 'beta1', beta1, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = checkNumber(where, 'beta2', beta2, { min: 0, max: 1, maxExclusive: true });
    this.epsilon = checkNumber(where, 'epsilon', epsilon, { min: 0, minExclusive: true });
    this.amsgrad = checkBoolean(where, 'amsgrad', amsgrad);
  }

  get slotNames(): readonly string[] {
    return this.amsgrad ? ['m', 'v', 'vMax'] : ['m', 'v'];
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return {
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      amsgrad: this.amsgrad,
    };
  }

  protected update(p: Tensor, g: Tensor, state: ParamState, lr: number, _decay = 1): Tensor {
    const { beta1, beta2 } = this;
    const s = state.slots;
    const t = state.step;
    // A backend with a fused step (native, wasm) does all of the below in one pass over memory.
    const fused = p.storage.backend.adamUpdate?.(
      p.storage,
      g.storage,
      s.m!.storage,
      s.v!.storage,
      this.amsgrad ? s.vMax!.storage : null,
      {
        beta1,
        beta2,
        epsilon: this.epsilon,
        sqrtBias2: Math.sqrt(1 - beta2 ** t),
        stepSize: lr / (1 - beta1 ** t),
      },
    );
    if (fused) {
      s.m = wrap(fused.m, p.shape);
      s.v = wrap(fused.v, p.shape);
      if (fused.vMax) s.vMax = wrap(fused.vMax, p.shape);
      return wrap(fused.p, p.shape);
    }
    const m = add(mul(s.m!, beta1), mul(g, 1 - beta1));
    const v = add(mul(s.v!, beta2), mul(square(g), 1 - beta2));
    s.m = m;
    s.v = v;
    let second = v;
    if (this.amsgrad) second = s.vMax = maximum(s.vMax!, v);
    const stepSize = lr / (1 - beta1 ** t);
    const denom = add(div(sqrt(second), Math.sqrt(1 - beta2 ** t)), this.epsilon);
    return sub(p, mul(div(m, denom), stepSize));
  }
}

export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay (default 0.004 as Keras; PyTorch's default is 0.01). */
  weightDecay?: number;
}

/**
 * AdamW (Loshchilov & Hutter) as torch.optim.AdamW computes it: first
 * `p = p * (1 - lr * weightDecay)`, then the Adam update. weightDecay defaults to Keras's
 * 0.004 (PyTorch's default is 0.01); epsilon to 1e-7.
 */
export class AdamW extends Adam {
  /** The class name configs and messages use. */
  static override readonly className: string = 'AdamW';
  static override readonly optionNames: readonly string[] = [...Adam.optionNames, 'weightDecay'];
  override readonly name: string = 'AdamW';
  /** The decoupled weight decay per unit of learning rate. */
  readonly weightDecay: number;

  constructor(options: AdamWOptions = {}) {
    super(options);
    this.weightDecay = checkNumber('AdamW', 'weightDecay', options.weightDecay ?? 0.004, {
      min: 0,
    });
  }

  protected override hyperparameters(): Record<string, number | boolean> {
    return { ...super.hyperparameters(), weightDecay: this.weightDecay };
  }

  protected override hasWeightDecay(): boolean {
    return true;
  }

  protected override update(
    p: Tensor,
    g: Tensor,
    state: ParamState,
    lr: number,
    decay: number,
  ): Tensor {
    const wd = this.weightDecay * decay;
    const decayed = wd !== 0 ? mul(p, 1 - lr * wd) : p;
    return super.update(decayed, g, state, lr, decay);
  }
}
