/** The course notes' hand-worked convolutions, with the checked values of shared/worked-examples.md. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const image = [
  [2, 4, 1],
  [5, 9, 7],
  [3, 8, 6],
];
const kernel = [
  [-1, 0, 1],
  [-1, 2, 2],
  [0, 1, -1],
];

/** A [1, h, w, 1] NHWC tensor from a 2-D array. */
const img1 = (a: number[][]) => rc.reshape(rc.tensor(a), [1, a.length, a[0]!.length, 1]);
/** A [kh, kw, 1, 1] HWIO kernel from a 2-D array. */
const k1 = (a: number[][]) => rc.reshape(rc.tensor(a), [a.length, a[0]!.length, 1, 1]);

test('1. single channel, single kernel: 28 (the notes print 29)', () => {
  const y = rc.conv2d(img1(image), k1(kernel));
  assert.deepEqual(y.shape, [1, 1, 1, 1]);
  assert.equal(y.item(), 28);
});

test('2. three channels, one kernel repeated on each: 84 (the notes print 87)', () => {
  const x = rc.concat([img1(image), img1(image), img1(image)], 3); // [1,3,3,3]
  const w = rc.concat([k1(kernel), k1(kernel), k1(kernel)], 2); // [3,3,3,1]
  const y = rc.conv2d(x, w);
  assert.deepEqual(y.shape, [1, 1, 1, 1]);
  assert.equal(y.item(), 84);
  // Depthwise keeps the channels apart: one 28 per channel, not their sum.
  const d = rc.depthwiseConv2d(x, rc.reshape(w, [3, 3, 3, 1]));
  assert.deepEqual(Array.from(d.dataSync()), [28, 28, 28]);
});

test('3. one channel, two kernels: [4, 10] as two output channels (not added)', () => {
  const vertical = [
    [-1, 0, 1],
    [-1, 0, 1],
    [-1, 0, 1],
  ];
  const horizontal = [
    [-1, -1, -1],
    [0, 0, 0],
    [1, 1, 1],
  ];
  const w = rc.concat([k1(vertical), k1(horizontal)], 3); // [3,3,1,2]
  const y = rc.conv2d(img1(image), w);
  assert.deepEqual(y.shape, [1, 1, 1, 2]);
  assert.deepEqual(Array.from(y.dataSync()), [4, 10]);
});

test('4. output sizes: LeNet-5 on 32x32 and on 28x28, and same padding', () => {
  const trace = (size: number) => {
    let x = rc.zeros([1, size, size, 1]);
    const sizes = [size];
    x = rc.conv2d(x, rc.zeros([5, 5, 1, 6]));
    sizes.push(x.shape[1]!);
    x = rc.avgPool2d(x, { poolSize: 2, strides: 2 });
    sizes.push(x.shape[1]!);
    x = rc.conv2d(x, rc.zeros([5, 5, 6, 16]));
    sizes.push(x.shape[1]!);
    x = rc.avgPool2d(x, { poolSize: 2, strides: 2 });
    sizes.push(x.shape[1]!);
    return { sizes, features: x.size };
  };
  assert.deepEqual(trace(32), { sizes: [32, 28, 14, 10, 5], features: 400 });
  assert.deepEqual(trace(28), { sizes: [28, 24, 12, 8, 4], features: 256 });
  for (const k of [1, 3, 5, 7]) {
    const y = rc.conv2d(rc.zeros([1, 9, 9, 1]), rc.zeros([k, k, 1, 1]), { padding: 'same' });
    assert.deepEqual(y.shape, [1, 9, 9, 1], `k=${k}`);
    const p = (k - 1) / 2;
    assert.deepEqual(
      rc.conv2d(rc.zeros([1, 9, 9, 1]), rc.zeros([k, k, 1, 1]), { padding: p }).shape,
      [1, 9, 9, 1],
    );
  }
  // floor((in - k + 2p) / s) + 1 with a stride that does not divide evenly.
  assert.deepEqual(
    rc.conv2d(rc.zeros([1, 10, 10, 1]), rc.zeros([3, 3, 1, 1]), { strides: 3, padding: 1 }).shape,
    [1, 4, 4, 1],
  );
});

test('5. gradient of a convolution: dL/dw00 = x00+x01+x10+x11, dL/db = 4, dL/dx11 = Σw', () => {
  const xv = [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 10],
  ];
  const wv = [
    [0.5, -1],
    [2, 3],
  ];
  const x = img1(xv);
  const w = k1(wv);
  const b = rc.tensor([0.25]);
  x.requiresGrad = true;
  w.requiresGrad = true;
  b.requiresGrad = true;
  const o = rc.add(rc.conv2d(x, w), b);
  assert.deepEqual(o.shape, [1, 2, 2, 1]);
  // o00 = x00·w00 + x01·w01 + x10·w10 + x11·w11 + b
  assert.equal(o.dataSync()[0], 1 * 0.5 + 2 * -1 + 4 * 2 + 5 * 3 + 0.25);
  rc.sum(o).backward();
  const dw = Array.from(w.grad!.dataSync());
  assert.equal(dw[0], 1 + 2 + 4 + 5);
  assert.equal(b.grad!.item(), 4);
  const dx = x.grad!.toArray() as number[][][][];
  assert.equal(dx[0]![1]![1]![0], 0.5 - 1 + 2 + 3);
});
