/**
 * The WebGPU reductions' geometry (kernels/reduce.ts reduceGeometry): axes of size 1 dropped,
 * neighbouring axes of one kind merged, and each output row's values found at keptOffset(row) +
 * redOffset(r) the way the WGSL splits row and r. Checked against the js reference reduction
 * on every set of axes of a few shapes (integer values: the sums are exact in any order).
 * (The kernels themselves run in Chromium: web/e2e.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reduce } from '../../src/backend/js/reduce.js';
import { type Dims, reduceGeometry } from '../../src/backend/webgpu/kernels/reduce.js';

/** The offset of flat index q over `dims`, as the kernel's offsetFn computes it. */
function offset(q: number, dims: Dims): number {
  let off = 0;
  for (let d = dims.length - 1; d > 0; d--) {
    off += (q % dims[d]![0]) * dims[d]![1];
    q = Math.floor(q / dims[d]![0]);
  }
  return dims.length === 0 ? 0 : off + q * dims[0]![1];
}

function subsets(n: number): number[][] {
  const all: number[][] = [];
  for (let m = 0; m < 1 << n; m++) all.push([...Array(n).keys()].filter((d) => m & (1 << d)));
  return all;
}

test('reduceGeometry: every set of axes gives the reference sums, merged and without axes of size 1', () => {
  for (const shape of [[3, 4, 5, 6], [2, 1, 3, 1, 2], [1, 7, 1], [4, 3, 2, 5], [5], []]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, (_, i) => (i * 37) % 11);
    for (const axes of subsets(shape.length)) {
      const outSize = shape.reduce((a, s, d) => (axes.includes(d) ? a : a * s), 1);
      const expected = new Float32Array(outSize);
      reduce('sum', x, shape, axes, expected);
      const g = reduceGeometry(shape, axes);
      const where = `${shape} over [${axes}] → kept ${JSON.stringify(g.kept)} reduced ${JSON.stringify(g.red)}`;
      const rows = g.kept.reduce((a, [s]) => a * s, 1);
      const rowLen = g.red.reduce((a, [s]) => a * s, 1);
      assert.equal(rows, outSize, where);
      assert.equal(rows * rowLen, n, where);
      for (const dims of [g.kept, g.red])
        assert.ok(
          dims.every(([s]) => s > 1),
          `size 1 left: ${where}`,
        );
      // Merged: no two neighbouring input axes of one kind stay apart (strides would chain).
      for (const dims of [g.kept, g.red])
        for (let d = 1; d < dims.length; d++)
          assert.notEqual(dims[d - 1]![1], dims[d]![0] * dims[d]![1], `not merged: ${where}`);
      const got = new Float32Array(rows);
      for (let o = 0; o < rows; o++)
        for (let r = 0; r < rowLen; r++)
          got[o] = got[o]! + x[offset(o, g.kept) + offset(r, g.red)]!;
      assert.deepEqual(got, expected, where);
      const innermost = [...shape.keys()].filter((d) => shape[d] !== 1).pop();
      if (innermost !== undefined)
        assert.equal(g.innerKept, !axes.includes(innermost), `innerKept: ${where}`);
    }
  }
});

test('reduceGeometry: batch-norm statistics over NHWC axes [0, 1, 2] are one column reduction', () => {
  assert.deepEqual(reduceGeometry([64, 16, 16, 32], [0, 1, 2]), {
    kept: [[32, 1]],
    red: [[64 * 16 * 16, 32]],
    innerKept: true,
  });
});
