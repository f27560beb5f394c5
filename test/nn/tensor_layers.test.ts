/**
 * The layers imported graphs are made of (Permute, Slice, ConstantArithmetic, Subtract, and the
 * activation layers Softmax, LogSoftmax, ELU, Clip, PReLU, HardSigmoid, HardSwish, Softplus):
 * the generic layer harness (shapes, config round trip, gradients, a training step), their
 * values against hand-computed ones, and their argument errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { type LayerCase, runLayerTest } from './layer_harness.js';

const L = rc.layers;

const cases: LayerCase[] = [
  {
    name: 'Permute [3, 1, 2]',
    make: () => new L.Permute({ dims: [3, 1, 2] }),
    input: [2, 3, 4, 5],
    params: 0,
  },
  {
    name: 'Slice of height and channels',
    make: () => new L.Slice({ begin: [1, 0, 2], size: [2, -1, 3] }),
    input: [2, 4, 3, 5],
    params: 0,
  },
  {
    name: 'Softmax over axis 1',
    make: () => new L.Softmax({ axis: 1 }),
    input: [2, 3, 4],
    params: 0,
  },
  {
    name: 'LogSoftmax over the last axis',
    make: () => new L.LogSoftmax(),
    input: [2, 5],
    params: 0,
  },
  { name: 'ELU alpha 2', make: () => new L.ELU({ alpha: 2 }), input: [2, 6], params: 0 },
  {
    name: 'Clip -0.5..0.7',
    make: () => new L.Clip({ min: -0.5, max: 0.7 }),
    input: [2, 6],
    params: 0,
    inputScale: 0.3,
  },
  {
    name: 'PReLU per channel',
    make: () => new L.PReLU({ alphaShape: [3] }),
    input: [2, 2, 2, 3],
    params: 3,
  },
  {
    name: 'HardSigmoid',
    make: () => new L.HardSigmoid({ alpha: 0.3, beta: 0.4 }),
    input: [2, 6],
    params: 0,
    inputScale: 0.5,
  },
  { name: 'HardSwish', make: () => new L.HardSwish(), input: [2, 6], params: 0 },
  { name: 'Softplus', make: () => new L.Softplus(), input: [2, 6], params: 0 },
  {
    name: 'ConstantArithmetic subtract, constant first, trainable',
    make: () =>
      new L.ConstantArithmetic({
        op: 'subtract',
        constantShape: [1, 3],
        constantFirst: true,
        trainableConstant: true,
      }),
    input: [2, 4, 3],
    params: 3,
  },
  {
    name: 'ConstantArithmetic divide',
    make: () =>
      new L.ConstantArithmetic({ op: 'divide', constantShape: [3], trainableConstant: true }),
    input: [2, 3],
    params: 3,
  },
  {
    name: 'Subtract',
    make: () => new L.Subtract(),
    input: [
      [2, 3],
      [2, 3],
    ],
    params: 0,
  },
];
for (const c of cases) test(`layer harness: ${c.name}`, () => runLayerTest(c));

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
    () => new L.ConstantArithmetic({ op: 'pow' as 'add', constantShape: [] }),
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
