/** The learning rate `receptive train --schedule ... --warmup-epochs ...` follows, step by step. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learningRateFor, type TrainArgs } from '../../src/cli/train.js';

const args = (extra: Partial<TrainArgs>) =>
  ({ model: 'lenet5', optimizer: 'sgd', epochs: 4, ...extra }) as TrainArgs;
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≈ ${b}`);

test('constant without warm-up is the base rate itself', () => {
  assert.equal(learningRateFor(0.1, args({}), 10), 0.1);
  assert.equal(learningRateFor(0.1, args({ schedule: 'constant', warmupEpochs: 0 }), 10), 0.1);
});

test('cosine over 4 epochs of 10 steps after 1 epoch of warm-up: 0 → base at step 10 → base/2 at 25 → 0 at 40', () => {
  const lr = learningRateFor(0.1, args({ schedule: 'cosine', warmupEpochs: 1 }), 10);
  assert.equal(typeof lr, 'function');
  const at = lr as (s: number) => number;
  close(at(0), 0);
  close(at(5), 0.05);
  close(at(10), 0.1);
  // Halfway through the 30 steps of cosine: (1 + cos(pi / 2)) / 2 = 1/2.
  close(at(25), 0.05);
  close(at(10 + 10), 0.1 * 0.5 * (1 + Math.cos(Math.PI / 3)));
  close(at(40), 0);
  close(at(50), 0);
});

test('cosine without warm-up starts at the base rate; constant with warm-up holds it after', () => {
  const cos = learningRateFor(0.2, args({ schedule: 'cosine' }), 5) as (s: number) => number;
  close(cos(0), 0.2);
  close(cos(10), 0.1);
  close(cos(20), 0);
  const warm = learningRateFor(0.2, args({ warmupEpochs: 2 }), 5) as (s: number) => number;
  close(warm(0), 0);
  close(warm(5), 0.1);
  close(warm(10), 0.2);
  close(warm(19), 0.2);
});
