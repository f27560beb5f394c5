/** Forward values small enough to check by hand, on the default backend (float32). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import * as convOps from '../../src/ops/conv.js';
import { assertClose } from '../helpers.js';

const vals = (t: rc.Tensor) => Array.from(t.dataSync());

/** A [1, h, w, 1] NHWC image from a 2-D array. */
const img = (a: number[][]) => rc.tensor(a.flat(), [1, a.length, a[0]!.length, 1]);

// ---------------------------------------------------------------------------------------------
// Broadcasting arithmetic
// ---------------------------------------------------------------------------------------------

test('broadcasting: row vector, column vector, scalar, outer product', () => {
  const a = rc.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const row = rc.tensor([10, 20, 30]);
  const col = rc.tensor([[100], [200]]);
  let y = rc.add(a, row);
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(y.toArray(), [
    [11, 22, 33],
    [14, 25, 36],
  ]);
  y = rc.sub(a, col);
  assert.deepEqual(y.toArray(), [
    [-99, -98, -97],
    [-196, -195, -194],
  ]);
  assert.deepEqual(rc.mul(a, 2).toArray(), [
    [2, 4, 6],
    [8, 10, 12],
  ]);
  assert.deepEqual(rc.div(12, a).toArray(), [
    [12, 6, 4],
    [3, 2.4000000953674316, 2], // 12/5 in float32
  ]);
  // [2, 1] ⊗ [1, 3] → [2, 3]
  const outer = rc.mul(rc.tensor([[1], [2]]), rc.tensor([[3, 4, 5]]));
  assert.deepEqual(outer.shape, [2, 3]);
  assert.deepEqual(outer.toArray(), [
    [3, 4, 5],
    [6, 8, 10],
  ]);
  // Rank-3 with a [3, 1] operand: broadcast over the leading axis and the last.
  const b = rc.add(rc.zeros([2, 3, 2]), rc.tensor([[1], [2], [3]]));
  assert.deepEqual(b.shape, [2, 3, 2]);
  assert.deepEqual(vals(b), [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  // Scalar tensor with scalar tensor stays a scalar.
  const s = rc.add(rc.scalar(2), rc.scalar(3));
  assert.deepEqual(s.shape, []);
  assert.equal(s.item(), 5);
});

test('elementwise math and comparisons', () => {
  const x = rc.tensor([-2, -0.5, 0, 1, 4]);
  assert.deepEqual(vals(rc.neg(x)), [2, 0.5, -0, -1, -4]);
  assert.deepEqual(vals(rc.abs(x)), [2, 0.5, 0, 1, 4]);
  assert.deepEqual(vals(rc.relu(x)), [0, 0, 0, 1, 4]);
  assert.deepEqual(vals(rc.square(x)), [4, 0.25, 0, 1, 16]);
  assert.deepEqual(vals(rc.sign(x)), [-1, -1, 0, 1, 1]);
  assert.deepEqual(vals(rc.maximum(x, 0.5)), [0.5, 0.5, 0.5, 1, 4]);
  assert.deepEqual(vals(rc.minimum(x, 0.5)), [-2, -0.5, 0, 0.5, 0.5]);
  assert.deepEqual(vals(rc.greater(x, 0)), [0, 0, 0, 1, 1]);
  assert.deepEqual(vals(rc.equal(x, 1)), [0, 0, 0, 1, 0]);
  assert.deepEqual(vals(rc.pow(rc.tensor([2, 3, 4]), 2)), [4, 9, 16]);
  assert.deepEqual(vals(rc.sqrt(rc.tensor([4, 9, 16]))), [2, 3, 4]);
  assert.deepEqual(vals(rc.rsqrt(rc.tensor([4, 16]))), [0.5, 0.25]);
  assertClose(vals(rc.leakyRelu(x, 0.1)), [-0.2, -0.05, 0, 1, 4]);
  assertClose(vals(rc.sigmoid(rc.tensor([0]))), [0.5]);
  assertClose(vals(rc.erf(rc.tensor([0, 1, -3]))), [0, 0.8427007929, -0.9999779095]);
  assert.deepEqual(
    vals(rc.where(rc.tensor([1, 0, 1]), rc.tensor([1, 2, 3]), rc.tensor([7, 8, 9]))),
    [1, 8, 3],
  );
});

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

test('sum, mean, max, min, argMax over axes, with keepDims', () => {
  const x = rc.tensor([
    [1, 5, 3],
    [4, 2, 6],
  ]);
  assert.equal(rc.sum(x).item(), 21);
  assert.deepEqual(rc.sum(x).shape, []);
  assert.deepEqual(vals(rc.sum(x, 0)), [5, 7, 9]);
  assert.deepEqual(vals(rc.sum(x, 1)), [9, 12]);
  assert.deepEqual(vals(rc.sum(x, -1)), [9, 12]);
  assert.deepEqual(rc.sum(x, 1, true).shape, [2, 1]);
  assert.deepEqual(rc.sum(x, 1, true).toArray(), [[9], [12]]);
  assert.deepEqual(rc.sum(x, [0, 1], true).shape, [1, 1]);
  assert.equal(rc.mean(x).item(), 3.5);
  assert.deepEqual(vals(rc.mean(x, 0)), [2.5, 3.5, 4.5]);
  assert.deepEqual(rc.mean(x, 1, true).toArray(), [[3], [4]]);
  assert.equal(rc.max(x).item(), 6);
  assert.deepEqual(vals(rc.max(x, 0)), [4, 5, 6]);
  assert.deepEqual(vals(rc.max(x, 1)), [5, 6]);
  assert.deepEqual(rc.max(x, 0, true).shape, [1, 3]);
  assert.equal(rc.min(x).item(), 1);
  assert.deepEqual(vals(rc.min(x, 1)), [1, 2]);
  assert.deepEqual(rc.min(x, 1, true).toArray(), [[1], [2]]);
  const am = rc.argMax(x, 1);
  assert.equal(am.dtype, 'int32');
  assert.deepEqual(vals(am), [1, 2]);
  assert.deepEqual(vals(rc.argMax(x, 0)), [1, 0, 1]);
  // First index on ties.
  assert.deepEqual(vals(rc.argMax(rc.tensor([3, 7, 7, 1]))), [1]);

  // Rank 3, two axes at once: [2, 2, 3] over [0, 2] keeps axis 1.
  const y = rc.reshape(rc.range(12), [2, 2, 3]);
  // axis 1 index 0: 0,1,2 and 6,7,8 → 24; index 1: 3,4,5 and 9,10,11 → 42
  assert.deepEqual(vals(rc.sum(y, [0, 2])), [24, 42]);
  assert.deepEqual(rc.sum(y, [0, 2], true).shape, [1, 2, 1]);
  assert.deepEqual(vals(rc.mean(y, [2, 0])), [4, 7]);
  assert.deepEqual(vals(rc.max(y, [0, 2])), [8, 11]);
  assert.deepEqual(vals(rc.min(y, [0, 2])), [0, 3]);
  assert.deepEqual(vals(rc.sum(y, 0)), [6, 8, 10, 12, 14, 16]);
});

// ---------------------------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------------------------

test('softmax rows sum to 1; softmax and logSoftmax are stable at logits ±1000', () => {
  const x = rc.tensor([
    [1, 2, 3],
    [0, 0, 0],
    [-1, 0.5, 10],
  ]);
  const p = rc.softmax(x);
  assertClose(vals(rc.sum(p, 1)), [1, 1, 1], { atol: 1e-6 });
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const z = e[0]! + e[1]! + e[2]!;
  assertClose(vals(p).slice(0, 3), [e[0]! / z, e[1]! / z, e[2]! / z], { atol: 1e-7 });
  assertClose(vals(p).slice(3, 6), [1 / 3, 1 / 3, 1 / 3], { atol: 1e-7 });
  // Along axis 0 the columns sum to 1.
  assertClose(vals(rc.sum(rc.softmax(x, 0), 0)), [1, 1, 1], { atol: 1e-6 });

  const big = rc.tensor([
    [1000, 0, -1000],
    [-1000, -1000, -1000],
    [1000, 1000, -1000],
  ]);
  const pb = vals(rc.softmax(big));
  assert.ok(pb.every(Number.isFinite), `softmax gave ${pb}`);
  assertClose(pb, [1, 0, 0, 1 / 3, 1 / 3, 1 / 3, 0.5, 0.5, 0], { atol: 1e-7 });
  const lb = vals(rc.logSoftmax(big));
  assert.ok(lb.every(Number.isFinite), `logSoftmax gave ${lb}`);
  assertClose(
    lb,
    [
      0,
      -1000,
      -2000,
      -Math.log(3),
      -Math.log(3),
      -Math.log(3),
      -Math.LN2,
      -Math.LN2,
      -2000 - Math.LN2,
    ],
    {
      atol: 1e-4,
    },
  );
  // And the loss built on it.
  const loss = rc.softmaxCrossEntropy(big, rc.tensor([2, 0, 1], [3], 'int32'));
  assert.ok(Number.isFinite(loss.item()));
  assertClose([loss.item()], [(2000 + Math.log(3) + Math.LN2) / 3], { rtol: 1e-6 });
});

// ---------------------------------------------------------------------------------------------
// Data movement
// ---------------------------------------------------------------------------------------------

test('transpose, slice, concat, pad, stack, reshape with -1, squeeze, expandDims', () => {
  const x = rc.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(rc.transpose(x).toArray(), [
    [1, 4],
    [2, 5],
    [3, 6],
  ]);
  const y = rc.reshape(rc.range(24), [2, 3, 4]);
  const t = rc.transpose(y, [2, 0, 1]);
  assert.deepEqual(t.shape, [4, 2, 3]);
  // t[k, i, j] = y[i, j, k] = 12i + 4j + k
  assert.deepEqual(vals(t).slice(0, 6), [0, 4, 8, 12, 16, 20]);
  assert.deepEqual(vals(t).slice(6, 12), [1, 5, 9, 13, 17, 21]);

  assert.deepEqual(rc.slice(x, [0, 1], [2, 2]).toArray(), [
    [2, 3],
    [5, 6],
  ]);
  assert.deepEqual(rc.slice(x, [1, 0], [1, -1]).toArray(), [[4, 5, 6]]);
  assert.deepEqual(rc.slice(x, [0, 2]).toArray(), [[3], [6]]);

  assert.deepEqual(rc.concat([x, rc.tensor([[7, 8, 9]])], 0).toArray(), [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(rc.concat([x, rc.tensor([[0], [-1]])], 1).toArray(), [
    [1, 2, 3, 0],
    [4, 5, 6, -1],
  ]);
  assert.deepEqual(rc.concat([x, x], -1).shape, [2, 6]);

  assert.deepEqual(
    rc
      .pad(
        rc.tensor([
          [1, 2],
          [3, 4],
        ]),
        [
          [1, 0],
          [0, 2],
        ],
      )
      .toArray(),
    [
      [0, 0, 0, 0],
      [1, 2, 0, 0],
      [3, 4, 0, 0],
    ],
  );
  assert.deepEqual(vals(rc.pad(rc.tensor([1, 2]), [[1, 1]], 9)), [9, 1, 2, 9]);
  assert.deepEqual(vals(rc.pad(rc.tensor([1, 2]), [[1, 1]], { value: -1 })), [-1, 1, 2, -1]);
  // Reflection and edge copies, as numpy.pad's 'reflect' and 'edge' give them.
  const x23 = rc.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(
    vals(rc.pad(rc.tensor([1, 2, 3]), [[2, 2]], { mode: 'reflect' })),
    [3, 2, 1, 2, 3, 2, 1],
  );
  assert.deepEqual(
    vals(rc.pad(rc.tensor([1, 2, 3]), [[2, 2]], { mode: 'edge' })),
    [1, 1, 1, 2, 3, 3, 3],
  );
  assert.deepEqual(
    rc
      .pad(
        x23,
        [
          [1, 1],
          [2, 1],
        ],
        { mode: 'reflect' },
      )
      .toArray(),
    [
      [6, 5, 4, 5, 6, 5],
      [3, 2, 1, 2, 3, 2],
      [6, 5, 4, 5, 6, 5],
      [3, 2, 1, 2, 3, 2],
    ],
  );
  assert.deepEqual(
    rc
      .pad(
        x23,
        [
          [1, 2],
          [0, 2],
        ],
        { mode: 'edge' },
      )
      .toArray(),
    [
      [1, 2, 3, 3, 3],
      [1, 2, 3, 3, 3],
      [4, 5, 6, 6, 6],
      [4, 5, 6, 6, 6],
      [4, 5, 6, 6, 6],
    ],
  );

  const a = rc.tensor([1, 2]);
  const b = rc.tensor([3, 4]);
  assert.deepEqual(rc.stack([a, b]).toArray(), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(rc.stack([a, b], 1).toArray(), [
    [1, 3],
    [2, 4],
  ]);
  assert.deepEqual(rc.stack([a, b], -1).shape, [2, 2]);

  assert.deepEqual(rc.reshape(y, [-1, 4]).shape, [6, 4]);
  assert.deepEqual(rc.reshape(y, [4, -1]).shape, [4, 6]);
  assert.deepEqual(rc.reshape(y, [-1]).shape, [24]);
  assert.deepEqual(vals(rc.reshape(y, [-1])), vals(y));
  assert.deepEqual(rc.squeeze(rc.zeros([1, 3, 1, 2])).shape, [3, 2]);
  assert.deepEqual(rc.squeeze(rc.zeros([1, 3, 1, 2]), [0]).shape, [3, 1, 2]);
  assert.deepEqual(rc.expandDims(rc.zeros([3, 2]), 1).shape, [3, 1, 2]);
  assert.deepEqual(rc.expandDims(rc.zeros([3, 2]), -1).shape, [3, 2, 1]);
  assert.deepEqual(rc.broadcastTo(rc.tensor([[1], [2]]), [2, 3]).toArray(), [
    [1, 1, 1],
    [2, 2, 2],
  ]);
  const c = rc.cast(rc.tensor([1.7, -1.7, 2]), 'int32');
  assert.equal(c.dtype, 'int32');
  assert.deepEqual(vals(c), [1, -1, 2]);
});

test('oneHot', () => {
  const h = rc.oneHot([2, 0, 1], 4);
  assert.deepEqual(h.shape, [3, 4]);
  assert.equal(h.dtype, 'float32');
  assert.deepEqual(h.toArray(), [
    [0, 0, 1, 0],
    [1, 0, 0, 0],
    [0, 1, 0, 0],
  ]);
  const h2 = rc.oneHot(rc.tensor([[1], [0]], undefined, 'int32'), 2);
  assert.deepEqual(h2.shape, [2, 1, 2]);
  assert.deepEqual(vals(h2), [0, 1, 1, 0]);
});

// ---------------------------------------------------------------------------------------------
// Pooling, LRN
// ---------------------------------------------------------------------------------------------

test('maxPool2d with dilated windows equals PyTorch (max_pool2d with dilation)', () => {
  // torch.nn.functional.max_pool2d(x, (2, 3), stride=(2, 1), padding=(1, 1), dilation=(2, 2)),
  // torch 1.13, on x[c, i] = ((i·7 + c) mod 23) − 11 as NCHW [1, 2, 5, 6]; here NHWC.
  const x = rc.tensor(
    [
      -11, -8, -4, -1, 3, 6, 10, -10, -6, -3, 1, 4, 8, 11, -8, -5, -1, 2, 6, 9, -10, -7, -3, 0, 4,
      7, 11, -9, -5, -2, 2, 5, 9, -11, -7, -4, 0, 3, 7, 10, -9, -6, -2, 1, 5, 8, -11, -8, -4, -1, 3,
      6, 10, -10, -6, -3, 1, 4, 8, 11,
    ],
    [1, 5, 6, 2],
  );
  const y = rc.maxPool2d(x, { poolSize: [2, 3], strides: [2, 1], padding: 1, dilationRate: 2 });
  assert.deepEqual(y.shape, [1, 3, 4, 2]);
  assert.deepEqual(
    vals(y),
    [6, 9, 8, 11, 6, 9, -1, 2, 7, 10, 8, 11, 7, 10, 5, 8, 7, 10, 5, 8, 7, 10, 5, 8],
  );
  // Dilation 1 is the plain window.
  const plain = rc.maxPool2d(x, { poolSize: 2, strides: 1 });
  assert.deepEqual(
    vals(rc.maxPool2d(x, { poolSize: 2, strides: 1, dilationRate: 1 })),
    vals(plain),
  );
});

test("maxPool2d 'same': padding never wins, even when every value is negative", () => {
  const x = img([
    [-5, -4, -3],
    [-2, -9, -8],
    [-7, -6, -1],
  ]);
  // k2 s2 'same' on 3x3: out 2x2, pad 0 before and 1 after; windows at the right and bottom
  // edges hold padding, which counts as -∞.
  const y = rc.maxPool2d(x, { poolSize: 2, strides: 2, padding: 'same' });
  assert.deepEqual(y.shape, [1, 2, 2, 1]);
  assert.deepEqual(vals(y), [-2, -3, -6, -1]);
  // k3 s1 'same': pad 1 all round; each output is the max of the real neighbours.
  const z = rc.maxPool2d(x, { poolSize: 3, strides: 1, padding: 'same' });
  assert.deepEqual(z.shape, [1, 3, 3, 1]);
  assert.deepEqual(vals(z), [-2, -2, -3, -2, -1, -1, -2, -1, -1]);
  // Gradient goes to the winner only, never lost in the padding.
  const xg = img([
    [-5, -4, -3],
    [-2, -9, -8],
    [-7, -6, -1],
  ]);
  xg.requiresGrad = true;
  rc.sum(rc.maxPool2d(xg, { poolSize: 2, strides: 2, padding: 'same' })).backward();
  assert.deepEqual(vals(xg.grad!), [0, 0, 1, 1, 0, 0, 0, 1, 1]);
});

test("avgPool2d 'same' divides by the number of real pixels only", () => {
  const ones = rc.ones([1, 3, 3, 1]);
  assert.deepEqual(
    vals(rc.avgPool2d(ones, { poolSize: 3, strides: 1, padding: 'same' })),
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
  );
  assert.deepEqual(
    vals(rc.avgPool2d(ones, { poolSize: 2, strides: 2, padding: 'same' })),
    [1, 1, 1, 1],
  );
  const x = img([
    [1, 2],
    [3, 4],
  ]);
  // k2 s1 'same' on 2x2: pad 0 before, 1 after.
  assert.deepEqual(
    vals(rc.avgPool2d(x, { poolSize: 2, strides: 1, padding: 'same' })),
    [2.5, 3, 3.5, 4],
  );
  // 'valid' 2x2 over 3x3 with stride 1.
  const v = rc.avgPool2d(
    img([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]),
    { poolSize: 2, strides: 1 },
  );
  assert.deepEqual(vals(v), [3, 4, 6, 7]);
});

test('localResponseNorm by hand on a 1x1x1x3 input', () => {
  const x = rc.tensor([1, 2, 3], [1, 1, 1, 3]);
  // radius 1, bias 1, alpha 1, beta 0.5: windows {0,1}, {0,1,2}, {1,2}
  // squares 1+4 = 5, 1+4+9 = 14, 4+9 = 13 → x / sqrt(1 + s)
  const y = rc.localResponseNorm(x, { depthRadius: 1, bias: 1, alpha: 1, beta: 0.5 });
  assert.deepEqual(y.shape, [1, 1, 1, 3]);
  assertClose(vals(y), [1 / Math.sqrt(6), 2 / Math.sqrt(15), 3 / Math.sqrt(14)], { atol: 1e-7 });
  // radius 0, bias 2, alpha 0.5, beta 1: x / (2 + 0.5 x²)
  const z = rc.localResponseNorm(x, { depthRadius: 0, bias: 2, alpha: 0.5, beta: 1 });
  assertClose(vals(z), [1 / 2.5, 2 / 4, 3 / 6.5], { atol: 1e-7 });
});

test('batchNorm by hand', () => {
  const x = rc.tensor([
    [1, 10],
    [3, 30],
  ]);
  const y = rc.batchNorm(
    x,
    rc.tensor([2, 20]),
    rc.tensor([1, 100]),
    rc.tensor([1, 2]),
    rc.tensor([0, 5]),
    1e-12,
  );
  assertClose(vals(y), [-1, 5 - 2, 1, 5 + 2], { atol: 1e-5 });
  const { mean, variance } = rc.moments(x, 0);
  assert.deepEqual(vals(mean), [2, 20]);
  assert.deepEqual(vals(variance), [1, 100]);
});

// ---------------------------------------------------------------------------------------------
// Tensors: creation, round trips, dtypes, random
// ---------------------------------------------------------------------------------------------

test('tensor() / toArray() / dataSync() round trips', () => {
  const nested = [
    [
      [1, 2],
      [3, 4],
    ],
    [
      [5, 6],
      [7, 8],
    ],
  ];
  const t = rc.tensor(nested);
  assert.deepEqual(t.shape, [2, 2, 2]);
  assert.equal(t.dtype, 'float32');
  assert.equal(t.size, 8);
  assert.equal(t.rank, 3);
  assert.deepEqual(t.toArray(), nested);
  const d = t.dataSync();
  assert.ok(d instanceof Float32Array);
  assert.deepEqual(Array.from(d), [1, 2, 3, 4, 5, 6, 7, 8]);
  // dataSync is a copy: writing to it leaves the tensor alone.
  d[0] = 99;
  assert.equal(t.dataSync()[0], 1);
  // Flat values with a shape, and typed arrays.
  assert.deepEqual(rc.tensor([1, 2, 3, 4, 5, 6], [3, 2]).toArray(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(rc.tensor(new Float32Array([0.5, 1.5]), [2, 1]).toArray(), [[0.5], [1.5]]);
  assert.deepEqual(rc.tensor(rc.tensor(nested).dataSync(), [2, 4]).shape, [2, 4]);
  // float32 rounding is visible in the data.
  assert.equal(rc.tensor([0.1]).dataSync()[0], Math.fround(0.1));
  // Scalars.
  const s = rc.scalar(3);
  assert.deepEqual(s.shape, []);
  assert.equal(s.toArray(), 3);
  assert.equal(rc.tensor(7).item(), 7);
  // Creation helpers.
  assert.deepEqual(vals(rc.zeros([2, 2])), [0, 0, 0, 0]);
  assert.deepEqual(vals(rc.ones([3])), [1, 1, 1]);
  assert.deepEqual(vals(rc.full([2], 2.5)), [2.5, 2.5]);
  assert.deepEqual(vals(rc.zerosLike(t)), new Array(8).fill(0));
  assert.deepEqual(rc.onesLike(t).shape, [2, 2, 2]);
  assert.deepEqual(vals(rc.range(4)), [0, 1, 2, 3]);
  assert.deepEqual(rc.zeros([2, 0, 3]).size, 0);
});

test('int32 tensors', () => {
  const i = rc.tensor([1, -2, 3], [3], 'int32');
  assert.equal(i.dtype, 'int32');
  const d = i.dataSync();
  assert.ok(d instanceof Int32Array);
  assert.deepEqual(Array.from(d), [1, -2, 3]);
  assert.deepEqual(i.toArray(), [1, -2, 3]);
  const fromTyped = rc.tensor(new Int32Array([4, 5]));
  assert.equal(fromTyped.dtype, 'int32');
  assert.equal(rc.range(3, 'int32').dtype, 'int32');
  assert.equal(rc.zeros([2], 'int32').dtype, 'int32');
  // Non-integers are refused, never truncated silently.
  assert.throws(() => rc.tensor([1.5], [1], 'int32'), rc.DTypeError);
  // Movement ops keep the dtype.
  assert.equal(rc.reshape(i, [1, 3]).dtype, 'int32');
  assert.equal(rc.transpose(rc.reshape(i, [1, 3])).dtype, 'int32');
  assert.equal(rc.slice(i, [1], [2]).dtype, 'int32');
  assert.deepEqual(vals(rc.slice(i, [1], [2])), [-2, 3]);
  assert.equal(rc.concat([i, i]).dtype, 'int32');
  // And int32 cannot ask for gradients.
  assert.throws(() => {
    i.requiresGrad = true;
  }, rc.DTypeError);
  const f = rc.cast(i, 'float32');
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(vals(f), [1, -2, 3]);
});

test('randn and randomUniform repeat with a seed and have the right mean and spread', () => {
  const a = rc.randn([1000], { seed: 11 });
  const b = rc.randn([1000], { seed: 11 });
  const c = rc.randn([1000], { seed: 12 });
  assert.deepEqual(vals(a), vals(b));
  assert.notDeepEqual(vals(a), vals(c));

  const stats = (v: number[]) => {
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length);
    return { m, sd };
  };
  const n = rc.randn([20000], { seed: 1, mean: 2, std: 3 });
  const sn = stats(vals(n));
  assert.ok(Math.abs(sn.m - 2) < 0.1, `randn mean ${sn.m}`);
  assert.ok(Math.abs(sn.sd - 3) < 0.1, `randn std ${sn.sd}`);

  const u = rc.randomUniform([20000], { seed: 2, min: -1, max: 3 });
  const uv = vals(u);
  assert.ok(
    uv.every((x) => x >= -1 && x < 3),
    'uniform values in [min, max)',
  );
  const su = stats(uv);
  assert.ok(Math.abs(su.m - 1) < 0.05, `uniform mean ${su.m}`);
  // std of U(a, b) = (b − a) / √12
  assert.ok(Math.abs(su.sd - 4 / Math.sqrt(12)) < 0.05, `uniform std ${su.sd}`);
  assert.deepEqual(
    vals(rc.randomUniform([5], { seed: 9 })),
    vals(rc.randomUniform([5], { seed: 9 })),
  );

  // The global generator repeats after setSeed.
  rc.setSeed(123);
  const g1 = vals(rc.randn([4]));
  rc.setSeed(123);
  assert.deepEqual(vals(rc.randn([4])), g1);

  // Dropout with a seed: the same mask, survivors scaled by 1 / (1 − rate).
  const ones = rc.ones([1000]);
  const d1 = vals(rc.dropout(ones, 0.25, { seed: 4 }));
  assert.deepEqual(vals(rc.dropout(ones, 0.25, { seed: 4 })), d1);
  assert.ok(d1.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  const kept = d1.filter((v) => v !== 0).length;
  assert.ok(kept > 700 && kept < 800, `kept ${kept} of 1000 at rate 0.25`);
});

// ---------------------------------------------------------------------------------------------
// Autograd mechanics
// ---------------------------------------------------------------------------------------------

test('noGrad records nothing and restores recording, even after a throw', () => {
  const x = rc.tensor([1, 2, 3]);
  x.requiresGrad = true;
  assert.equal(rc.isGradEnabled(), true);
  const y = rc.noGrad(() => {
    assert.equal(rc.isGradEnabled(), false);
    return rc.mul(x, 2);
  });
  assert.equal(y.node, null);
  assert.equal(y.requiresGrad, false);
  assert.equal(rc.isGradEnabled(), true);
  assert.throws(() => rc.sum(y).backward(), rc.GradientError);
  assert.throws(() =>
    rc.noGrad(() => {
      throw new Error('boom');
    }),
  );
  assert.equal(rc.isGradEnabled(), true);
  // Outside noGrad the same op is recorded.
  const z = rc.mul(x, 2);
  assert.ok(z.node);
  assert.equal(z.node.op, 'mul');
  // Ops on tensors that need no gradient record nothing either.
  assert.equal(rc.mul(rc.tensor([1]), 2).node, null);
});

test('backward accumulates into .grad over two backward calls', () => {
  const x = rc.tensor([1, 2, 3]);
  x.requiresGrad = true;
  rc.sum(rc.mul(x, x)).backward(); // d/dx Σx² = 2x
  assert.deepEqual(vals(x.grad!), [2, 4, 6]);
  rc.sum(rc.mul(x, 3)).backward(); // + 3
  assert.deepEqual(vals(x.grad!), [5, 7, 9]);
  x.grad = null;
  rc.mean(x).backward();
  assertClose(vals(x.grad!), [1 / 3, 1 / 3, 1 / 3]);
  // A leaf used twice in one graph gets both contributions.
  x.grad = null;
  rc.sum(rc.add(x, rc.mul(x, 2))).backward();
  assert.deepEqual(vals(x.grad!), [3, 3, 3]);
  // Intermediates keep no .grad; a non-scalar can start from an explicit upstream gradient.
  x.grad = null;
  const y = rc.mul(x, rc.tensor([1, 10, 100]));
  y.backward(rc.tensor([1, 2, 3]));
  assert.equal(y.grad, null);
  assert.deepEqual(vals(x.grad!), [1, 20, 300]);
});

test('backward on a non-scalar or on nothing differentiable throws GradientError', () => {
  const x = rc.tensor([1, 2, 3]);
  x.requiresGrad = true;
  const y = rc.mul(x, 2);
  assert.throws(
    () => y.backward(),
    (e: unknown) => {
      assert.ok(e instanceof rc.GradientError);
      assert.match((e as Error).message, /backward/);
      assert.match((e as Error).message, /\[3\]/);
      return true;
    },
  );
  assert.throws(() => rc.sum(rc.tensor([1, 2])).backward(), rc.GradientError);
  // An upstream gradient of the wrong shape.
  assert.throws(() => rc.mul(x, 2).backward(rc.ones([2])), rc.ShapeError);
  assert.equal(x.grad, null);
});

test('conv2dBias equals conv2d then add (fused on backends that have it), and checks the bias', () => {
  const x = rc.randn([2, 9, 8, 3], { seed: 5 });
  const w = rc.randn([3, 3, 3, 5], { seed: 6 });
  const b = rc.randn([5], { seed: 7 });
  for (const options of [{}, { padding: 'same' as const, strides: 2 }]) {
    const fused = convOps.conv2dBias(x, w, b, options).toArray() as number[][][][];
    const apart = rc.add(rc.conv2d(x, w, options), b).toArray() as number[][][][];
    const a = fused.flat(3);
    const e = apart.flat(3);
    assert.equal(a.length, e.length);
    for (let i = 0; i < e.length; i++) assert.ok(Math.abs(a[i]! - e[i]!) < 1e-5, `at ${i}`);
  }
  assert.throws(
    () => convOps.conv2dBias(x, w, rc.zeros([4])),
    (e: Error) =>
      e instanceof rc.ShapeError && /conv2dBias/.test(e.message) && /\[5\]/.test(e.message),
  );
});
