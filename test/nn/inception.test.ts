/**
 * InceptionModule: GoogLeNet's parameter counts, the four branches against ops, the batch
 * normalization variant, and errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertTensorClose } from '../helpers.js';

const { InceptionModule } = rc.layers;

/** GoogLeNet's table: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj. */
const mixed = (f: [number, number, number, number, number, number], extra = {}) =>
  new InceptionModule({
    filters1x1: f[0],
    filters3x3Reduce: f[1],
    filters3x3: f[2],
    filters5x5Reduce: f[3],
    filters5x5: f[4],
    poolProjection: f[5],
    ...extra,
  });

test('InceptionModule (3a) on 192 channels has 163,696 parameters and 256 output channels', () => {
  const m = mixed([64, 96, 128, 16, 32, 32]);
  const out = m.apply(rc.Input([28, 28, 192]));
  assert.deepEqual(out.shape, [null, 28, 28, 256]);
  assert.equal(m.countParams(), 163_696);
  // (3b) on 256 channels: 128, 128 → 192, 32 → 96, 64 gives 480 channels.
  const b = mixed([128, 128, 192, 32, 96, 64]);
  assert.deepEqual(b.apply(out).shape, [null, 28, 28, 480]);
  assert.equal(
    b.countParams(),
    256 * 128 +
      128 +
      (256 * 128 + 128) +
      (9 * 128 * 192 + 192) +
      (256 * 32 + 32) +
      (25 * 32 * 96 + 96) +
      (256 * 64 + 64),
  );
  // With batch normalization: no conv biases (368 fewer), 4 values per conv channel (368 · 4 more).
  const bn = mixed([64, 96, 128, 16, 32, 32], { batchNorm: true });
  bn.apply(rc.Input([28, 28, 192]));
  assert.equal(bn.countParams(), 163_696 - 368 + 4 * 368);
  assert.equal(
    bn.trainableWeights.reduce((s, w) => s + w.size, 0),
    163_696 - 368 + 2 * 368,
  );
});

test('InceptionModule: the four branches, concatenated in order 1x1, 3x3, 5x5, pool', () => {
  const x = rc.randn([2, 5, 6, 3], { seed: 1 });
  const m = mixed([2, 3, 4, 2, 3, 2]);
  const y = m.apply(x);
  assert.deepEqual(y.shape, [2, 5, 6, 11]);
  const names = m.weights.map((w) => w.name!.slice(m.name.length + 1));
  assert.deepEqual(names, [
    '1x1/kernel',
    '1x1/bias',
    '3x3_reduce/kernel',
    '3x3_reduce/bias',
    '3x3/kernel',
    '3x3/bias',
    '5x5_reduce/kernel',
    '5x5_reduce/bias',
    '5x5/kernel',
    '5x5/bias',
    'pool_proj/kernel',
    'pool_proj/bias',
  ]);
  // Random biases, so that a missing or misplaced bias shows.
  m.setWeights(m.weights.map((w, i) => (i % 2 ? rc.randn(w.shape, { seed: 10 + i }) : w)));
  const [k1, b1, k3r, b3r, k3, b3, k5r, b5r, k5, b5, kp, bp] = m.weights as rc.Tensor[];
  const unit = (v: rc.Tensor, k: rc.Tensor, b: rc.Tensor) =>
    rc.relu(rc.add(rc.conv2d(v, k, { padding: 'same' }), b));
  const want = rc.concat(
    [
      unit(x, k1!, b1!),
      unit(unit(x, k3r!, b3r!), k3!, b3!),
      unit(unit(x, k5r!, b5r!), k5!, b5!),
      unit(rc.maxPool2d(x, { poolSize: 3, strides: 1, padding: 'same' }), kp!, bp!),
    ],
    3,
  );
  assertTensorClose(m.apply(x), want, { atol: 1e-6 });
});

test('InceptionModule with batchNorm: conv (no bias) → batch norm → activation, in both modes', () => {
  const x = rc.randn([4, 3, 3, 2], { seed: 2 });
  const m = mixed([1, 1, 2, 1, 1, 1], { batchNorm: true, activation: 'tanh' });
  m.apply(x);
  const branch = m.branch3x3;
  assert.equal(branch.conv.useBias, false);
  assert.ok(branch.bn);
  for (const training of [false, true]) {
    const y = m.apply(x, { training });
    // The 3x3 branch's channels are 1..2 of the output (after the one 1x1 channel).
    const reduce = m.branch3x3Reduce;
    const r = rc.tanh(reduce.bn!.apply(reduce.conv.apply(x), { training }));
    const want = rc.tanh(branch.bn!.apply(branch.conv.apply(r), { training }));
    assertTensorClose(rc.slice(y, [0, 0, 0, 1], [4, 3, 3, 2]), want, {
      atol: 1e-6,
      msg: `training ${training}`,
    });
  }
});

test('InceptionModule: clear errors', () => {
  assert.throws(
    () =>
      new InceptionModule({ filters1x1: 64 } as ConstructorParameters<typeof InceptionModule>[0]),
    (e: Error) =>
      e instanceof rc.ArgumentError &&
      /filters3x3Reduce must be a positive integer/.test(e.message),
  );
  assert.throws(
    () => mixed([1, 1, 1, 1, 1, 1], { activation: 'nope' }),
    /unknown activation 'nope'/,
  );
  const m = mixed([1, 1, 1, 1, 1, 1]);
  assert.throws(
    () => m.apply(rc.randn([2, 4])),
    (e: Error) => e.message.includes(`InceptionModule '${m.name}'`) && /rank 4/.test(e.message),
  );
  m.apply(rc.randn([1, 3, 3, 2]));
  assert.throws(
    () => m.apply(rc.randn([1, 3, 3, 5])),
    /built for input of shape \[batch, height, width, 2\]/,
  );
});
