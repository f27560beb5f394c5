/**
 * Losses and metrics kept on the device, for backends whose reads are asynchronous (webgpu,
 * `Backend.deferReads`): reading a scalar after every batch would make the CPU wait for the GPU
 * each step. Each batch leaves its loss and metric totals as scalar tensors; every few batches
 * (and at the end of an epoch) they are read in one transfer, in batch order, so a non-finite
 * loss is still named by its batch.
 */
import { noGrad } from '../autograd.js';
import { backend } from '../backend/registry.js';
import { mul } from '../ops/elementwise.js';
import { stack } from '../ops/shape.js';
import { persistTensor } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import type { StepPlace } from './data_checks.js';

/** Batches whose values are read together. */
export const READ_EVERY = 16;

/** One batch's values, still on the device. */
export interface PendingBatch {
  place: StepPlace;
  /** Examples in the batch. */
  n: number;
  /** Its mean loss, a scalar tensor. */
  loss: Tensor;
  /** Each metric's total over the batch, a scalar tensor, and its count. */
  metrics: { name: string; total: Tensor; count: number }[];
}

/**
 * A batch's values, taken out of the step scope that is making them (call it inside the scope:
 * the scope would free them when it ends); the loss without its autograd graph, which would
 * otherwise live as long as the value.
 */
export function pendingBatch(
  place: StepPlace,
  n: number,
  loss: Tensor,
  metrics: { name: string; total: Tensor; count: number }[],
): PendingBatch {
  const b = { place, n, loss: persistTensor(noGrad(() => mul(loss, 1))), metrics };
  for (const m of metrics) persistTensor(m.total);
  return b;
}

export class PendingReads {
  private batches: PendingBatch[] = [];

  get size(): number {
    return this.batches.length;
  }

  /** Queues a batch's values (made by pendingBatch inside its step scope) to be read. */
  add(b: PendingBatch): void {
    this.batches.push(b);
  }

  /**
   * Reads every pending value in one transfer and hands them on in batch order: `onBatch` gets
   * each batch's loss (and may throw, which stops the rest), `add` each sum and count.
   */
  async drain(
    onBatch: (loss: number, place: StepPlace) => void,
    add: (name: string, total: number, count: number) => void,
  ): Promise<number | null> {
    const list = this.batches;
    this.batches = [];
    if (list.length === 0) return null;
    const scalars = list.flatMap((b) => [b.loss, ...b.metrics.map((m) => m.total)]);
    const all = noGrad(() => stack(scalars));
    const values = await all.data();
    // Freed now rather than by the collector: a long run's GPU memory stays flat step by step.
    backend().free?.([...scalars.map((t) => t.storage), all.storage]);
    let k = 0;
    let last: number | null = null;
    for (const b of list) {
      const loss = values[k++]!;
      onBatch(loss, b.place);
      add('loss', loss * b.n, b.n);
      for (const m of b.metrics) add(m.name, values[k++]!, m.count);
      last = loss;
    }
    return last;
  }
}
