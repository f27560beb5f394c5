/**
 * The layers imported graphs are made of (Permute, Slice, ConstantArithmetic, Subtract, and the
 * activation layers Softmax, LogSoftmax, ELU, Clip, PReLU, HardSigmoid, HardSwish, Softplus):
 * their values against hand-computed ones, and their argument errors. Their harness rows
 * (shapes, config round trip, gradients, a training step) are in tensor_layer_cases.ts, run by
 * layers.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const L = rc.layers;

test('values: Permute, Slice, Clip, HardSigmoid, HardSwish, Softplus, PReLU, ConstantArithmetic', () => {
  const x = rc.tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  assert.deepEqual([...new L.Permute({ dims: [2, 1] }).apply(x).dataSync()], [1, 4, 2, 5, 3, 6]);
  assert.deepEqual([...new L.Slice({ begin: [1, 1], size: [1, -1] }).apply(x).dataSync()], [5, 6]);
  const v = rc.tensor([-4, -1, 0, 1, 4, 100], [1, 6]);
  assert.deepEqual([...new L.Clip({ min: -1, max: 2 }).apply(v).dataSync()], [-1, -1, 0, 1, 2, 2]);
  assert.deepEqual(
    [...new L.HardSigmoid().apply(v).dataSync()].map((a) => +a.toFixed(6)),
    [0, 0.3, 0.5, 0.7, 1, 1],
  );
  assert.deepEqual(
    [...new L.HardSwish().apply(v).dataSync()].map((a) => +a.toFixed(5) + 0),
    [0, -0.33333, 0, 0.66667, 4, 100],
  );
  const sp = new L.Softplus().apply(v).dataSync();
  const softplus = (a: number) => (a > 50 ? a : Math.log1p(Math.exp(a)));
  [-4, -1, 0, 1, 4, 100].forEach((a, i) => {
    assert.ok(Math.abs(sp[i]! - softplus(a)) < 1e-5, `softplus(${a}) = ${sp[i]}`);
  });
  const p = new L.PReLU({ alphaShape: [6] });
  p.apply(rc.Input([6]));
  p.setWeights([Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])]);
  assert.deepEqual([...p.apply(v).dataSync()], [-2, -0.5, 0, 1, 4, 100]);
  const c = new L.ConstantArithmetic({ op: 'divide', constantShape: [], constantFirst: true });
  c.apply(rc.Input([6]));
  c.setWeights([Float32Array.from([8])]);
  assert.deepEqual(
    [...c.apply(rc.tensor([1, 2, 4, 8, 16, -8], [1, 6])).dataSync()],
    [8, 4, 2, 1, 0.5, -1],
  );
  assert.equal(c.trainableWeights.length, 0, 'the constant is not trained unless asked');
});

test('argument and shape errors name the layer and what is wrong', () => {
  assert.throws(() => new L.Permute({ dims: [0, 1] }), /permutation of 1..n/);
  assert.throws(() => new L.Permute({ dims: [2, 1] }).apply(rc.Input([2, 3, 4])), rc.ShapeError);
  assert.throws(() => new L.Slice({ begin: [0], size: [0] }), /size/);
  assert.throws(() => new L.Slice({ begin: [2], size: [3] }).apply(rc.Input([4])), /no box/);
  assert.throws(() => new L.Softmax({ axis: 0 }), /batch axis/);
  assert.throws(() => new L.Softmax({ axis: 3 }).apply(rc.Input([4])), /out of range/);
  assert.throws(() => new L.ELU({ alpha: Number.NaN }), /alpha/);
  assert.throws(() => new L.Clip({ min: 2, max: 1 }), /above max/);
  assert.throws(() => new L.Clip({ max: Number.POSITIVE_INFINITY }), /finite/);
  assert.throws(() => new L.HardSigmoid({ beta: Number.NaN }), /beta/);
  assert.throws(() => new L.PReLU({ alphaShape: [4] }).apply(rc.Input([2, 3])), /do not broadcast/);
  assert.throws(
    () => new L.ConstantArithmetic({ op: 'modulo' as 'add', constantShape: [] }),
    /op must be/,
  );
  assert.throws(() => new L.ConstantArithmetic({ op: 'add', constantShape: [0] }), /constantShape/);
  assert.throws(
    () => new L.ConstantArithmetic({ op: 'add', constantShape: [2, 3] }).apply(rc.Input([3])),
    rc.ShapeError,
  );
  assert.throws(
    () => new L.Subtract().apply([rc.Input([3]), rc.Input([3]), rc.Input([3])]),
    /exactly two/,
  );
});
