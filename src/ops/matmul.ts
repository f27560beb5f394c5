/** Matrix product: [m, k] · [k, n], or batched [b, m, k] · [b, k, n]. */
import { needsGrad, record } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { fmtShape, ShapeError } from '../util/errors.js';
import { be, expectFloat, expectTensor, wrap } from './util.js';

/**
 * Matrix product: `[m, k] · [k, n] → [m, n]`, or batched `[b, m, k] · [b, k, n] → [b, m, n]`.
 * `transposeA` / `transposeB` use aᵀ / bᵀ without copying them.
 *
 * @throws ShapeError if a and b are not both rank 2 or both rank 3, or their inner sizes or
 *   batch sizes differ
 * @throws DTypeError for int32 operands
 * @example
 * ```ts
 * rc.matmul(rc.tensor([[1, 2]]), rc.tensor([[3], [4]])).item();   // 11
 * ```
 */
export function matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  expectFloat(expectTensor(a, 'matmul', 'a', { rank: [2, 3] }), 'matmul', 'a');
  expectFloat(expectTensor(b, 'matmul', 'b', { rank: [2, 3] }), 'matmul', 'b');
  if (a.rank !== b.rank) {
    throw new ShapeError(
      `matmul: a and b must both be matrices or both batches of matrices, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}.`,
    );
  }
  const batched = a.rank === 3;
  const batch = batched ? a.shape[0]! : 1;
  if (batched && b.shape[0] !== batch) {
    throw new ShapeError(
      `matmul: batch sizes differ: a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}.`,
    );
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [k2, n] = transposeB ? [bc, br] : [br, bc];
  if (k !== k2) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a ${fmtShape(a.shape)}${transposeA ? 'ᵀ' : ''} has ${k} columns, b ${fmtShape(b.shape)}${transposeB ? 'ᵀ' : ''} has ${k2} rows.`,
    );
  }
  const shape = batched ? [batch, m, n] : [m, n];
  const out = wrap(
    be().matmul(a.storage, b.storage, { batch, m, n, k, transA: transposeA, transB: transposeB }),
    shape,
  );
  return record('matmul', out, [a, b], (dy) => [
    // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC; with transposed operands the roles swap.
    !needsGrad(a)
      ? null
      : transposeA
        ? matmul(b, dy, transposeB, true)
        : matmul(dy, b, false, !transposeB),
    !needsGrad(b)
      ? null
      : transposeB
        ? matmul(dy, a, true, transposeA)
        : matmul(a, dy, !transposeA, false),
  ]);
}
