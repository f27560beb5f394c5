/**
 * Eigenvalues and eigenvectors of a small symmetric matrix by the cyclic Jacobi method
 * (Golub and Van Loan, §8.5): plane rotations zero the off-diagonal entries one pair at a
 * time until they vanish. Accurate to rounding for the small matrices it is meant for (patch
 * covariances, a dozen rows); the work grows as n³ per sweep.
 */
import { ArgumentError } from './errors.js';

/** A symmetric matrix's eigendecomposition, eigenvalues in decreasing order. */
export interface SymmetricEigen {
  /** The eigenvalues, largest first. */
  values: Float64Array;
  /** The eigenvectors, row-major n×n: row i is the unit eigenvector of `values[i]`. */
  vectors: Float64Array;
}

/**
 * The eigendecomposition of the symmetric n×n matrix `a` (row-major): A·v_i = λ_i·v_i with
 * orthonormal v_i, λ_1 ≥ … ≥ λ_n. Each eigenvector's sign is chosen so that its largest
 * entry in magnitude is positive, so the result does not depend on rounding.
 * @throws ArgumentError when a is not n×n, holds a non-finite value, or is not symmetric
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  const where = 'symmetricEigen';
  if (!Number.isInteger(n) || n < 1)
    throw new ArgumentError(`${where}: n must be a positive integer, got ${String(n)}.`);
  if (a?.length !== n * n)
    throw new ArgumentError(
      `${where}: expected an ${n}×${n} matrix (${n * n} values, row-major), got ${a?.length ?? String(a)} values.`,
    );
  const m = Float64Array.from(a);
  let scale = 0;
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(m[i]!))
      throw new ArgumentError(
        `${where}: entry (${Math.floor(i / n)}, ${i % n}) is ${m[i]}; the matrix must be finite.`,
      );
    scale = Math.max(scale, Math.abs(m[i]!));
  }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (Math.abs(m[i * n + j]! - m[j * n + i]!) > 1e-6 * scale)
        throw new ArgumentError(
          `${where}: the matrix is not symmetric: (${i}, ${j}) is ${m[i * n + j]} but (${j}, ${i}) is ${m[j * n + i]}.`,
        );
  // Symmetrize exactly, so the rotations see one value per pair.
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = (m[i * n + j]! + m[j * n + i]!) / 2;
      m[i * n + j] = s;
      m[j * n + i] = s;
    }
  // v's columns accumulate the rotations: at the end they are the eigenvectors.
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const off = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += m[i * n + j]! ** 2;
    return s;
  };
  let diag = 0;
  for (let i = 0; i < n; i++) diag += m[i * n + i]! ** 2;
  const tiny = (Number.EPSILON * Math.sqrt(diag + 2 * off())) ** 2;
  for (let sweep = 0; sweep < 100 && off() > tiny; sweep++) {
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        // The rotation that zeroes (p, q): tan θ = t, the smaller root for stability.
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => m[j * n + j]! - m[i * n + i]!,
  );
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, row) => {
    values[row] = m[col * n + col]!;
    let big = 0;
    for (let k = 0; k < n; k++)
      if (Math.abs(v[k * n + col]!) > Math.abs(big)) big = v[k * n + col]!;
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[row * n + k] = sign * v[k * n + col]!;
  });
  return { values, vectors };
}
