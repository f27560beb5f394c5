/**
 * Step scopes, for backends that free a training step's tensors as soon as it ends (native,
 * wasm; a GPU backend will too): which storages each open scope made, which of them a scope
 * keeps (passed to the enclosing scope), and which leave every scope (persist). The backend
 * says how a storage is made and freed; this is only the bookkeeping, written once.
 */
import { BackendError } from '../../util/errors.js';
import type { Storage } from '../backend.js';

export class ScopeTracker<S extends Storage> {
  /** Storages made inside each open scope, innermost last. */
  private readonly scopes: S[][] = [];

  /** How many scopes are open (0: outside every step). */
  get depth(): number {
    return this.scopes.length;
  }

  begin(): void {
    this.scopes.push([]);
  }

  /** Records a storage made now: the innermost open scope frees it unless it is kept. */
  record(s: S): void {
    this.scopes.at(-1)?.push(s);
  }

  /**
   * Ends the innermost scope: calls `free` on every storage made in it that is not in `keep`,
   * and returns those that are; they pass to the enclosing scope, if one is open.
   */
  end(keep: Set<Storage>, free: (s: S) => void): S[] {
    const made = this.scopes.pop() ?? [];
    const kept: S[] = [];
    for (const s of made) {
      if (keep.has(s)) kept.push(s);
      else free(s);
    }
    this.scopes.at(-1)?.push(...kept);
    return kept;
  }

  /** Takes a storage out of the open scopes: no scope frees it; the collector does. */
  persist(s: S): void {
    for (const list of this.scopes) {
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
    }
  }
}

/** What using a tensor a step has freed says, on every backend that frees them. */
export function freedTensorError(): BackendError {
  return new BackendError(
    'This tensor was freed at the end of the training step that made it (fit, trainOnBatch, evaluate and predict free ' +
      'their intermediate tensors). Keep values past a step with dataSync() or clone().',
  );
}
