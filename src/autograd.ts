/**
 * The tape. Each op that runs while gradients are recorded attaches a GradNode to its
 * output (its inputs and a backward closure). backward() sorts the graph that leads to the
 * loss, walks it from the loss back, and adds each gradient into the inputs' running sums,
 * so a tensor used twice (a residual connection) receives both contributions.
 */

import type { Storage } from './backend/backend.js';
import { type GradNode, installBackward, onesLike, Tensor, zerosLike } from './tensor.js';
import { fmtShape, GradientError, NonFiniteError, ShapeError } from './util/errors.js';
import { firstNonFinite } from './util/finite.js';
import { sameShape } from './util/shape.js';

let recording = true;
/**
 * Inside valueAndGrads: the tensors whose gradients are wanted. Only they (and what is computed
 * from them) go on the tape; weights' requiresGrad is ignored, so they get no gradient.
 */
let targets: Set<Tensor> | null = null;
let checking =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.RECEPTIVE_CHECK_NUMERICS === '1';

/**
 * Debugging aid: when on, every op checks its output and throws a NonFiniteError naming the
 * first op that turned finite inputs into NaN or Infinity (slow: it reads every result).
 * Also on with the environment variable RECEPTIVE_CHECK_NUMERICS=1.
 */
export function checkNumerics(enabled: boolean): void {
  checking = enabled;
}

/** Where a float tensor's first NaN or infinity is (-1: none; int32 tensors have none). */
function firstNonFiniteOf(t: Tensor): number {
  return t.dtype === 'float32' ? firstNonFinite(t.dataSync()) : -1;
}

function checkOutput(op: string, out: Tensor, inputs: Tensor[]): void {
  const bad = firstNonFiniteOf(out);
  if (bad < 0 || inputs.some((t) => firstNonFiniteOf(t) >= 0)) return;
  throw new NonFiniteError(
    `${op} produced ${out.dataSync()[bad]} at index ${bad} of its output ${fmtShape(out.shape)} from finite inputs ` +
      `${inputs.map((t) => fmtShape(t.shape)).join(', ')}. Look at what feeds it: a log or division of zero, an overflow (lower the learning rate), or a variance that is not positive.`,
  );
}

/** Whether ops record themselves on the tape now. */
export function isGradEnabled(): boolean {
  return recording;
}

/** Runs fn without recording: inference, weight updates, metrics. */
export function noGrad<T>(fn: () => T): T {
  const prev = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

/** Whether a tensor takes part in gradients: a leaf that asks for them, or an op's output that depends on one. */
export function needsGrad(t: Tensor): boolean {
  return t.node !== null || (targets ? targets.has(t) : t.requiresGrad);
}

/**
 * Called by every op after computing `out` from `inputs`: puts it on the tape if any input
 * needs a gradient. `backward(dy)` returns one gradient per input (null where none).
 */
export function record(
  op: string,
  out: Tensor,
  inputs: Tensor[],
  backward: GradNode['backward'],
): Tensor {
  if (checking) checkOutput(op, out, inputs);
  if (recording && inputs.some(needsGrad)) {
    out.node = { op, inputs, backward };
  }
  return out;
}

/** Adds two gradients of the same shape without recording (gradients are not differentiated again). */
function accumulate(a: Tensor | undefined, b: Tensor): Tensor {
  if (!a) return b;
  const be = a.storage.backend;
  return new Tensor(be.binary('add', a.storage, a.shape, b.storage, b.shape, a.shape), a.shape);
}

/**
 * What a releasing backward pass (see {@link backwardReleasing}) frees as it goes, on a backend
 * with step scopes: each rule's temporaries when the rule returns (a scope around it), a
 * gradient once it has been handed on, and a forward tensor once the last rule that reads it
 * has run. Never a leaf's storage, a `.grad`, a kept tensor's, or one that a tensor still
 * waiting on the tape shares (a reshape's output shares its input's array).
 */
class Releaser {
  private readonly be: Required<Pick<Storage['backend'], 'beginScope' | 'endScope' | 'free'>>;
  /** Storages that must outlive the pass: the kept tensors', the leaves', the `.grad`s. */
  private readonly kept = new Set<Storage>();
  /** Storages this pass made (gradients): the only gradients it may free. */
  private readonly made = new Set<Storage>();
  /** For each storage, how many tensors on the tape that have not been walked yet hold it. */
  private readonly pending = new Map<Storage, number>();

  constructor(be: Storage['backend'], order: Tensor[], keep: Iterable<Tensor | undefined>) {
    this.be = be as Releaser['be'];
    for (const t of keep) {
      if (!t) continue;
      this.kept.add(t.storage);
      if (t.logits) this.kept.add(t.logits.storage);
    }
    for (const t of order) {
      if (!t.node) this.kept.add(t.storage);
      this.pending.set(t.storage, (this.pending.get(t.storage) ?? 0) + 1);
    }
  }

  /** Whether a backend can free tensors as the pass goes (one with step scopes). */
  static usable(be: Storage['backend']): boolean {
    return !!(be.beginScope && be.endScope && be.free);
  }

  /** Runs a gradient rule in a scope of its own: all it made but its results is freed. */
  run(rule: () => (Tensor | null)[]): (Tensor | null)[] {
    this.be.beginScope();
    let out: (Tensor | null)[] = [];
    try {
      out = rule();
    } finally {
      const keep = new Set<Storage>();
      for (const g of out) if (g) keep.add(g.storage);
      for (const s of this.be.endScope(keep)) this.made.add(s);
    }
    return out;
  }

  /** A gradient this pass made outside a rule (a sum of two, the seed). */
  madeHere(t: Tensor): void {
    this.made.add(t.storage);
  }

  /** A storage that must outlive the pass (a leaf's `.grad`). */
  keep(t: Tensor): void {
    this.kept.add(t.storage);
  }

  /** The walk has passed `t`: one tensor fewer on the tape holds its storage. */
  walked(t: Tensor): void {
    this.pending.set(t.storage, (this.pending.get(t.storage) ?? 1) - 1);
  }

  /**
   * Frees what no one needs any more among `gradients` (made by this pass) and `forward`
   * (walked tensors), unless a gradient still in `live` or a tensor still on the tape holds it.
   */
  release(gradients: Tensor[], forward: Tensor | null, live: Iterable<Tensor>): void {
    const held = new Set<Storage>();
    for (const g of live) held.add(g.storage);
    const free: Storage[] = [];
    const ok = (s: Storage) =>
      !this.kept.has(s) && !held.has(s) && (this.pending.get(s) ?? 0) <= 0 && !free.includes(s);
    for (const g of gradients) if (this.made.has(g.storage) && ok(g.storage)) free.push(g.storage);
    if (forward && ok(forward.storage)) free.push(forward.storage);
    for (const s of free) this.made.delete(s);
    if (free.length > 0) this.be.free(free);
  }
}

function runBackward(
  root: Tensor,
  seed?: Tensor,
  collect?: Map<Tensor, Tensor>,
  keep?: Iterable<Tensor | undefined>,
): void {
  if (!needsGrad(root)) {
    throw new GradientError(
      'backward: this tensor does not depend on any tensor with requiresGrad = true, so there is nothing to differentiate. ' +
        'Set requiresGrad on the weights (layers do this for you) and compute the loss outside noGrad().',
    );
  }
  if (seed) {
    if (!sameShape(seed.shape, root.shape)) {
      throw new ShapeError(
        `backward: the upstream gradient has shape ${fmtShape(seed.shape)}, the tensor ${fmtShape(root.shape)}.`,
      );
    }
  } else if (root.size !== 1) {
    throw new GradientError(
      `backward: called on a tensor of shape ${fmtShape(root.shape)}; it needs a scalar loss. ` +
        'Reduce it first (rc.sum or rc.mean), or pass the upstream gradient: t.backward(dy).',
    );
  }

  // Topological order by depth-first search (iterative, so deep nets don't overflow the stack).
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const inp of t.node?.inputs ?? [])
      if (!seen.has(inp) && needsGrad(inp)) stack.push([inp, false]);
  }

  const be = root.storage.backend;
  const rel =
    keep && !collect && Releaser.usable(be) ? new Releaser(be, order, [root, ...keep]) : null;
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seed ?? onesLike(root));
  if (rel && !seed) rel.madeHere(grads.get(root)!);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (!g) {
        rel?.walked(t);
        continue;
      }
      if (collect && targets?.has(t)) collect.set(t, g);
      if (t.node) {
        const node = t.node;
        const inGrads = rel ? rel.run(() => node.backward(g)) : node.backward(g);
        const done: Tensor[] = [g];
        t.node.inputs.forEach((inp, k) => {
          const ig = inGrads[k];
          if (!ig) return;
          if (!needsGrad(inp)) {
            done.push(ig);
            return;
          }
          if (!sameShape(ig.shape, inp.shape)) {
            throw new GradientError(
              `backward: the gradient rule of '${t.node!.op}' returned shape ${fmtShape(ig.shape)} for an input of shape ${fmtShape(inp.shape)} (a bug in receptive; please report it).`,
            );
          }
          const prev = grads.get(inp);
          const sum = accumulate(prev, ig);
          if (prev && rel) {
            rel.madeHere(sum);
            done.push(prev, ig);
          }
          grads.set(inp, sum);
        });
        // Free the graph as we go, as PyTorch does: intermediates can be collected.
        t.node = null;
        grads.delete(t);
        if (rel) {
          rel.walked(t);
          rel.release(done, t, grads.values());
        }
      } else {
        rel?.walked(t);
      }
      if (t.requiresGrad && !collect) {
        t.grad = accumulate(t.grad ?? undefined, g);
        rel?.keep(t.grad);
      }
    }
  });
}

/**
 * backward() for a training step inside a step scope (train/step_scope.ts): the same gradients,
 * but tensors are freed as soon as the pass is done with them (see Releaser) instead of when the
 * step ends, so that a step's peak memory is about its forward activations, not those plus every
 * gradient and every rule's temporaries. `keep` lists the tensors read after the pass (the
 * model's outputs, with their logits; the loss is kept anyway). Any other tensor made on the
 * tape must not be read afterwards: freed, it throws. On backends without scopes (js) it is
 * backward().
 */
export function backwardReleasing(loss: Tensor, keep: Iterable<Tensor | undefined>): void {
  runBackward(loss, undefined, undefined, keep);
}

installBackward(runBackward);

/** What {@link valueAndGrads} returns. */
export interface ValueAndGrads {
  /** The function's value (a scalar tensor, off the tape). */
  value: Tensor;
  /** The gradient of the value with respect to each watched tensor, in watch order. */
  grads: Tensor[];
}

/**
 * The value of a scalar function and its gradients with respect to chosen tensors only, which
 * `fn` marks with `watch(t)` (an input, or an inner layer's output as it is computed). Weights
 * take no part: they get no `.grad` and their gradients are never computed (a convolution
 * computes only its input's gradient), which is what explanations need (Grad-CAM, saliency).
 * Returns one gradient per watched tensor, in watch order (zeros where the value does not
 * depend on it).
 * @throws GradientError if `fn` returns a tensor that is not a scalar
 */
export function valueAndGrads(fn: (watch: (t: Tensor) => Tensor) => Tensor): ValueAndGrads {
  const prevTargets = targets;
  const prevRecording = recording;
  const watched: Tensor[] = [];
  targets = new Set();
  recording = true;
  try {
    const value = fn((t) => {
      // A tensor already on the tape would carry its history (and the weights') along: cut it.
      const leaf = t.node ? t.detach() : t;
      targets!.add(leaf);
      watched.push(leaf);
      return leaf;
    });
    if (value.size !== 1) {
      throw new GradientError(
        `valueAndGrads: the function returned a tensor of shape ${fmtShape(value.shape)}; it must return a scalar (reduce it with rc.sum).`,
      );
    }
    const collect = new Map<Tensor, Tensor>();
    if (value.node !== null || targets.has(value)) runBackward(value, undefined, collect);
    const grads = watched.map((t) => collect.get(t) ?? zerosLike(t));
    return { value: value.detach(), grads };
  } finally {
    targets = prevTargets;
    recording = prevRecording;
  }
}
