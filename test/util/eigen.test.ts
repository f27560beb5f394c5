/**
 * The Jacobi eigensolver against known decompositions: a 2×2 matrix worked by hand, and
 * A = Q·diag(d)·Qᵀ built from a random orthogonal Q (Householder reflections) and chosen d.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { symmetricEigen } from '../../src/util/eigen.js';
import { ArgumentError } from '../../src/util/errors.js';
import { Random } from '../../src/util/random.js';

test('symmetricEigen: [[2, 1], [1, 2]] has 3 along (1, 1)/√2 and 1 along (1, −1)/√2', () => {
  const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
  assert.ok(Math.abs(values[0]! - 3) < 1e-14 && Math.abs(values[1]! - 1) < 1e-14);
  const r = Math.SQRT1_2;
  // Signs: the largest entry of each vector is positive (ties: the first).
  const want = [r, r, r, -r];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(vectors[i]! - want[i]!) < 1e-14, `${vectors}`);
});

/** A random n×n orthogonal matrix: the product of n Householder reflections. */
function randomOrthogonal(n: number, rng: Random): Float64Array {
  let q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let r = 0; r < n; r++) {
    const v = Array.from({ length: n }, () => rng.normal());
    const norm = Math.hypot(...v);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        h[i * n + j] = (i === j ? 1 : 0) - (2 * v[i]! * v[j]!) / norm ** 2;
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += q[i * n + k]! * h[k * n + j]!;
        next[i * n + j] = s;
      }
    q = next;
  }
  return q;
}

test('symmetricEigen: recovers Q·diag(d)·Qᵀ (12×12, spread eigenvalues, a repeated one)', () => {
  const n = 12;
  const rng = new Random(7);
  const q = randomOrthogonal(n, rng);
  const d = [50, 20, 9, 5, 5, 2, 1, 0.5, 0.1, 0.01, 1e-4, -3];
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k]! * d[k]! * q[j * n + k]!;
      a[i * n + j] = s;
    }
  // Exactly symmetric input, as a covariance is.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i]!;
  const { values, vectors } = symmetricEigen(a, n);
  const sorted = [...d].sort((x, y) => y - x);
  for (let i = 0; i < n; i++)
    assert.ok(Math.abs(values[i]! - sorted[i]!) < 1e-12 * 50, `λ${i} ${values[i]} vs ${sorted[i]}`);
  for (let i = 0; i < n; i++) {
    // A·v = λ·v and the vectors are orthonormal.
    for (let r = 0; r < n; r++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[r * n + k]! * vectors[i * n + k]!;
      assert.ok(Math.abs(av - values[i]! * vectors[i * n + r]!) < 1e-11, `A·v${i} row ${r}`);
    }
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += vectors[i * n + k]! * vectors[j * n + k]!;
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12, `v${i}·v${j} = ${dot}`);
    }
  }
  // A simple eigenvalue's vector is ± Q's column: compare |v·q| with 1 for λ = 50 and −3.
  for (const [row, col] of [
    [0, 0],
    [n - 1, n - 1],
  ] as const) {
    let dot = 0;
    for (let k = 0; k < n; k++) dot += vectors[row * n + k]! * q[k * n + col]!;
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-12);
  }
});

test('symmetricEigen: a diagonal matrix is its own decomposition; 1×1 works', () => {
  const { values, vectors } = symmetricEigen([1, 0, 0, 0, 3, 0, 0, 0, 2], 3);
  assert.deepEqual([...values], [3, 2, 1]);
  assert.deepEqual([...vectors], [0, 1, 0, 0, 0, 1, 1, 0, 0]);
  assert.deepEqual([...symmetricEigen([4], 1).values], [4]);
});

test('symmetricEigen: refuses a wrong size, a non-finite entry, an asymmetric matrix', () => {
  assert.throws(() => symmetricEigen([1, 2, 3], 2), ArgumentError);
  assert.throws(() => symmetricEigen([1], 0), ArgumentError);
  assert.throws(() => symmetricEigen([1, Number.NaN, Number.NaN, 1], 2), ArgumentError);
  assert.throws(() => symmetricEigen([1, 2, 3, 1], 2), /not symmetric/);
  assert.throws(() => symmetricEigen(null as never, 2), ArgumentError);
});
