/** The classic kernels: their sums, the notes' edge kernels, and what they do to pixels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { kernels } = rc;
const sumOf = (t: rc.Tensor) => Array.from(t.dataSync()).reduce((a, b) => a + b, 0);

/** A [1, h, w, 1] image: 0 left of column `edge`, 1 from it on (a vertical edge). */
function verticalEdge(h: number, w: number, edge: number): rc.Tensor {
  const v = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = edge; x < w; x++) v[y * w + x] = 1;
  return rc.tensor(v, [1, h, w, 1]);
}

/** Mean absolute difference between neighbouring pixels, across and down (total variation per pair). */
function totalVariation(t: rc.Tensor): number {
  const [, h, w] = t.shape as [number, number, number];
  const v = t.dataSync();
  let s = 0;
  let n = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (x + 1 < w) {
        s += Math.abs(v[y * w + x + 1]! - v[y * w + x]!);
        n++;
      }
      if (y + 1 < h) {
        s += Math.abs(v[(y + 1) * w + x]! - v[y * w + x]!);
        n++;
      }
    }
  return s / n;
}

test('kernels sum as they should: blurs 1, sharpen 1, edges and Sobel 0', () => {
  const sums: [string, rc.Tensor, number][] = [
    ['identity', kernels.identity(), 1],
    ['boxBlur', kernels.boxBlur(), 1],
    ['gaussianBlur', kernels.gaussianBlur(), 1],
    ['gaussian(5, 1)', kernels.gaussian(5, 1), 1],
    ['gaussian(7)', kernels.gaussian(7), 1],
    ['sharpen', kernels.sharpen(), 1],
    ['emboss', kernels.emboss(), 1],
    ['edgeVertical', kernels.edgeVertical(), 0],
    ['edgeHorizontal', kernels.edgeHorizontal(), 0],
    ['sobelX', kernels.sobelX(), 0],
    ['sobelY', kernels.sobelY(), 0],
    ['laplacian', kernels.laplacian(), 0],
  ];
  for (const [name, k, want] of sums) {
    assert.ok(Math.abs(sumOf(k) - want) < 1e-6, `${name} sums to ${sumOf(k)}, expected ${want}`);
    assert.equal(k.shape[2], 1, `${name} is HWIO with one input channel`);
    assert.equal(k.shape[3], 1, `${name} has one filter`);
  }
  assert.deepEqual(kernels.gaussian(5, 1).shape, [5, 5, 1, 1]);
  assertClose(
    kernels.gaussianBlur().dataSync(),
    [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16),
  );
  // A Gaussian peaks in the middle and is symmetric.
  const g = kernels.gaussian(5, 1).dataSync();
  assert.equal(Math.max(...g), g[12]);
  assertClose([g[0]!, g[4]!, g[20]!], [g[24]!, g[24]!, g[24]!]);
});

test("edge kernels are the notes' [[-1,0,1]]×3 and its transpose: 4 and 10 on the worked example", () => {
  assert.deepEqual(kernels.edgeVertical().toArray(), [
    [[[-1]], [[0]], [[1]]],
    [[[-1]], [[0]], [[1]]],
    [[[-1]], [[0]], [[1]]],
  ]);
  const v = kernels.values.edgeVertical!;
  const h = kernels.values.edgeHorizontal!;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assert.equal(h[i]![j], v[j]![i]);
  const image = rc.reshape(
    rc.tensor([
      [2, 4, 1],
      [5, 9, 7],
      [3, 8, 6],
    ]),
    [1, 3, 3, 1],
  );
  assert.equal(rc.conv2d(image, kernels.edgeVertical()).item(), 4);
  assert.equal(rc.conv2d(image, kernels.edgeHorizontal()).item(), 10);
});

test('byName takes kebab-case and camelCase names, gaussian-SIZE, and lists the names when unknown', () => {
  assert.deepEqual(kernels.byName('sobel-x').toArray(), kernels.sobelX().toArray());
  assert.deepEqual(kernels.byName('sobelY').toArray(), kernels.sobelY().toArray());
  assert.deepEqual(kernels.byName('box-blur').toArray(), kernels.boxBlur().toArray());
  assert.deepEqual(kernels.byName('gaussian-5-1').toArray(), kernels.gaussian(5, 1).toArray());
  assert.deepEqual(kernels.byName('gaussian-5').shape, [5, 5, 1, 1]);
  assert.ok(kernels.kernelNames().includes('edge-vertical'));
  assert.throws(
    () => kernels.byName('sobel-z'),
    (e: Error) => {
      assert.ok(e instanceof rc.ArgumentError);
      assert.match(e.message, /unknown kernel 'sobel-z'. Known: .*gaussian-blur.*sobel-x/);
      return true;
    },
  );
  assert.throws(() => kernels.gaussian(4), rc.ArgumentError);
  assert.throws(() => kernels.fromArray([[1, 2], [3]]), rc.ArgumentError);
  assert.throws(() => kernels.fromArray([[1, Number.NaN]]), rc.ArgumentError);
});

test('sobelX on a vertical edge peaks exactly on the edge columns and is zero in flat regions', () => {
  // Columns 0..4 dark, 5..9 bright. 'valid': output column j sees input columns j..j+2.
  const x = verticalEdge(6, 10, 5);
  const gx = rc.conv2d(x, kernels.sobelX());
  assert.deepEqual(gx.shape, [1, 4, 8, 1]);
  const rows = gx.toArray() as number[][][][];
  for (const row of rows[0]!) {
    const cols = row.map((c) => c[0]!);
    // The windows over columns 3..5 and 4..6 straddle the edge: 1 + 2 + 1 = 4 each.
    assert.deepEqual(cols, [0, 0, 0, 4, 4, 0, 0, 0]);
  }
  // 'same' keeps the size: the peak sits on columns 4 and 5, either side of the edge.
  const same = rc.conv2d(x, kernels.sobelX(), { padding: 'same' }).toArray() as number[][][][];
  const middle = same[0]![2]!.map((c) => c[0]!);
  assert.deepEqual(middle.slice(1, 9), [0, 0, 0, 4, 4, 0, 0, 0]);
  // No horizontal edge here: sobelY is zero away from the padded border.
  const gy = rc.conv2d(x, kernels.sobelY());
  assert.ok(Array.from(gy.dataSync()).every((v) => v === 0));
  // The magnitude is |gx| here, per channel.
  assertClose(kernels.sobelMagnitude(x).dataSync(), gx.dataSync());
});

test('sobelMagnitude works per channel; bad input says how to fix it', () => {
  const grey = verticalEdge(5, 7, 3);
  const rgb = rc.concat([grey, rc.mul(grey, 2), rc.zerosLike(grey)], 3);
  const m = kernels.sobelMagnitude(rgb);
  assert.deepEqual(m.shape, [1, 3, 5, 3]);
  const v = m.dataSync();
  // Column 1 of the output straddles the edge: 4, 8 and 0 on R, G, B.
  assertClose([v[3]!, v[4]!, v[5]!], [4, 8, 0]);
  assert.throws(() => kernels.sobelMagnitude(rc.zeros([5, 5, 1])), /Add the batch axis/);
});

test('a blurred noisy image has lower total variation than the original', () => {
  const noisy = rc.randomUniform([1, 24, 24, 1], { seed: 7 });
  const tv = totalVariation(noisy);
  for (const [name, k] of [
    ['boxBlur', kernels.boxBlur()],
    ['gaussianBlur', kernels.gaussianBlur()],
    ['gaussian(5)', kernels.gaussian(5, 1.2)],
  ] as const) {
    const blurred = rc.conv2d(noisy, k);
    const after = totalVariation(blurred);
    assert.ok(after < 0.6 * tv, `${name}: total variation ${after} should be well below ${tv}`);
    // Blurs keep the mean brightness (they sum to 1).
    assert.ok(Math.abs(rc.mean(blurred).item() - rc.mean(noisy).item()) < 0.03);
  }
  // Sharpening does the opposite.
  assert.ok(totalVariation(rc.conv2d(noisy, kernels.sharpen())) > tv);
});

test('depthwise and acrossChannels spread one kernel over C channels (worked example 2: 84)', () => {
  const k = kernels.fromArray([
    [-1, 0, 1],
    [-1, 2, 2],
    [0, 1, -1],
  ]);
  const one = rc.reshape(
    rc.tensor([
      [2, 4, 1],
      [5, 9, 7],
      [3, 8, 6],
    ]),
    [1, 3, 3, 1],
  );
  const x = rc.concat([one, one, one], 3);
  const dw = kernels.depthwise(k, 3);
  assert.deepEqual(dw.shape, [3, 3, 3, 1]);
  assert.deepEqual(Array.from(rc.depthwiseConv2d(x, dw).dataSync()), [28, 28, 28]);
  const across = kernels.acrossChannels(k, 3);
  assert.deepEqual(across.shape, [3, 3, 3, 1]);
  assert.equal(rc.conv2d(x, across).item(), 84);
  assert.ok(
    Math.abs(rc.conv2d(x, kernels.acrossChannels(k, 3, { average: true })).item() - 28) < 1e-4,
  );
  assert.deepEqual(kernels.applyPerChannel(x, k).shape, [1, 1, 1, 3]);
  assert.throws(() => kernels.depthwise(kernels.depthwise(k, 3), 3), /single-channel kernel/);
  assert.throws(() => kernels.acrossChannels(k, 0), rc.ArgumentError);
});
