/**
 * Deterministic freeing of a training step's tensors. A backend whose tensors live outside the
 * JS heap (wasm memory) cannot rely on the garbage collector alone: it does not see that memory,
 * so it would collect too late. A step knows what it keeps (the weights, the optimizer's slots,
 * what it returns); everything else it made is freed when it ends. Storages an earlier step
 * kept and this one replaced (old weight values) are freed too. Backends without scopes (js)
 * leave it all to the garbage collector.
 */

import type { Storage } from '../backend/backend.js';
import { backend } from '../backend/registry.js';
import type { Tensor } from '../tensor.js';

/**
 * Runs fn in a scope of the backend in use. `keep(result)` lists the tensors that outlive it
 * (a softmax output's logits are kept with it); `retained` carries, from step to step of one
 * model, the storages that steps kept, so that the ones later replaced get freed.
 */
export function stepScope<T>(
  retained: Set<Storage> | null,
  keep: (result: T | undefined) => Iterable<Tensor | undefined>,
  fn: () => T,
): T {
  const be = backend();
  if (!be.beginScope || !be.endScope) return fn();
  be.beginScope();
  let result: T | undefined;
  try {
    result = fn();
    return result;
  } finally {
    const keepSet = new Set<Storage>();
    for (const t of keep(result)) {
      if (!t) continue;
      keepSet.add(t.storage);
      if (t.logits) keepSet.add(t.logits.storage);
    }
    // Without `retained` (predict), the results go to user code: out of the backend's memory.
    const kept = be.endScope(keepSet, retained === null);
    if (retained) {
      const gone = [...retained].filter((s) => !keepSet.has(s));
      be.free?.(gone);
      for (const s of gone) retained.delete(s);
      for (const s of kept) retained.add(s);
    }
  }
}

/**
 * Runs fn in a scope that keeps only the tensors it returns, then reads their values with
 * `data()`: computation that ends on the CPU (explanations), on every backend, webgpu's
 * asynchronous reads included.
 */
export async function scopedValues(fn: () => Tensor[]): Promise<Float32Array[]> {
  const kept = stepScope(null, (ts) => ts ?? [], fn);
  return Promise.all(
    kept.map(async (t) => {
      const v = await t.data();
      return v instanceof Float32Array ? v : Float32Array.from(v);
    }),
  );
}
