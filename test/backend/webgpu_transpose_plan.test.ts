/**
 * The WebGPU transpose's plan (kernels/movement.ts simplifyTranspose): dropping axes of size 1
 * and merging input axes that stay adjacent must describe the same permutation, checked with
 * the js reference transpose on every permutation of a few shapes. (The kernels themselves
 * run in Chromium: web/e2e.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transpose } from '../../src/backend/js/movement.js';
import { simplifyTranspose } from '../../src/backend/webgpu/kernels/movement.js';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

test('simplifyTranspose: the same values, no axes of size 1, no adjacent input axes left', () => {
  for (const shape of [[2, 3, 4, 5], [1, 3, 1, 4], [2, 1, 3, 1, 2], [5], [1, 1], [3, 2, 2, 1, 2]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, (_, i) => i);
    for (const perm of permutations(shape.length)) {
      const expected = new Float32Array(n);
      transpose(x, shape, perm, expected);
      const t = simplifyTranspose(shape, perm);
      const where = `${shape} by ${perm} → ${t.shape} by ${t.perm}`;
      assert.equal(
        t.shape.reduce((a, b) => a * b, 1),
        n,
        where,
      );
      assert.ok(
        t.shape.every((d) => d > 1),
        `no axis of size 1: ${where}`,
      );
      assert.deepEqual(
        [...t.perm].sort(),
        t.shape.map((_, i) => i),
        `a permutation: ${where}`,
      );
      for (let i = 1; i < t.perm.length; i++)
        assert.notEqual(t.perm[i], t.perm[i - 1]! + 1, `adjacent axes merged: ${where}`);
      const actual = new Float32Array(n);
      transpose(x, t.shape, t.perm, actual);
      assert.deepEqual(actual, expected, where);
    }
  }
});
