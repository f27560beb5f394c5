/** Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay (PyTorch's rule). */
import { add, mul, sub } from '../ops/elementwise.js';
import { wrap } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import {
  checkBoolean,
  checkNumber,
  checkOptionNames,
  Optimizer,
  type OptimizerOptions,
  type ParamState,
} from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  /** Default 0.01 (as Keras). */
  learningRate?: OptimizerOptions['learningRate'];
  /** Momentum factor in [0, 1] (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient: g + weightDecay * p (default 0). */
  weightDecay?: number;
}

/**
 * SGD as torch.optim.SGD computes it (dampening 0):
 * `g = grad + weightDecay * p; buf = momentum * buf + g` (buf = g on the first step);
 * `d = nesterov ? g + momentum * buf : buf` (or `g` without momentum); `p = p - lr * d`.
 */
export class SGD extends Optimizer {
  /** The class name configs and messages use. */
  static readonly className = 'SGD';
  readonly name = 'SGD';
  /** The momentum factor (0: plain SGD). */
  readonly momentum: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  /** The L2 penalty added to the gradient. */
  readonly weightDecay: number;

  constructor(options: SGDOptions = {}) {
    checkOptionNames('SGD', options, ['momentum', 'nesterov', 'weightDecay']);
    super('SGD', options, 0.01);
    const { momentum = 0, nesterov = false, weightDecay = 0 } = options;
    this.momentum = checkNumber('SGD', 'momentum', momentum, { min: 0, max: 1 });
    this.nesterov = checkBoolean('SGD', 'nesterov', nesterov);
    this.weightDecay = checkNumber('SGD', 'weightDecay', weightDecay, { min: 0 });
    if (this.nesterov && this.momentum === 0) {
      throw new ArgumentError(
        'SGD: nesterov needs momentum > 0, got momentum 0. Set momentum (0.9 is usual) or nesterov: false.',
      );
    }
  }

  get slotNames(): readonly string[] {
    return this.momentum > 0 ? ['momentum'] : [];
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected override hasWeightDecay(): boolean {
    return true;
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, lr: number, decay: number): Tensor {
    const wd = this.weightDecay * decay;
    // A backend with a fused step (native) does all of the below in one pass over memory.
    const buf0 = this.momentum > 0 ? state.slots.momentum! : null;
    const fused = p.storage.backend.sgdUpdate?.(p.storage, grad.storage, buf0?.storage ?? null, {
      learningRate: lr,
      momentum: this.momentum,
      nesterov: this.nesterov,
      weightDecay: wd,
    });
    if (fused) {
      if (fused.buf) state.slots.momentum = wrap(fused.buf, p.shape);
      return wrap(fused.p, p.shape);
    }
    let g = wd !== 0 ? add(grad, mul(p, wd)) : grad;
    if (this.momentum > 0) {
      // The buffer starts at zero, so the first step gives buf = g exactly as PyTorch's clone.
      const buf = add(mul(state.slots.momentum!, this.momentum), g);
      state.slots.momentum = buf;
      g = this.nesterov ? add(g, mul(buf, this.momentum)) : buf;
    }
    return sub(p, mul(g, lr));
  }
}
