/** Optimizer trajectories against torch.optim (test/golden/make_optim_golden.py). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import {
  getOptimizer,
  type OptimizerOptions,
  type ScheduleConfig,
  scheduleFromConfig,
} from '../../src/optim/index.js';
import { assertClose, readJson } from '../helpers.js';

interface T {
  shape: number[];
  data: number[];
}

interface Case {
  name: string;
  optimizer: string;
  options: Record<string, unknown> & { learningRate?: number | ScheduleConfig };
  withoutGrad: [number, number][];
  trajectory: T[][];
}

const golden = readJson<{ params: T[]; grads: T[][]; cases: Case[] }>(
  'test/fixtures/golden/optim.json',
);

test('the fixture has the configurations it promises', () => {
  const names = golden.cases.map((c) => c.name);
  for (const n of [
    'sgd_plain',
    'sgd_momentum',
    'sgd_nesterov',
    'sgd_weight_decay',
    'adam',
    'adam_amsgrad',
    'adamw',
    'rmsprop',
    'rmsprop_centered',
    'rmsprop_momentum',
  ]) {
    assert.ok(names.includes(n), n);
  }
  assert.deepEqual(
    golden.params.map((p) => p.shape),
    [[3, 4], [5]],
  );
  assert.equal(golden.grads.length, 5);
});

for (const c of golden.cases) {
  test(`${c.name} follows torch.optim for 5 steps`, () => {
    const { learningRate, ...rest } = c.options;
    const options: OptimizerOptions & Record<string, unknown> = { ...rest };
    if (learningRate !== undefined) {
      options.learningRate =
        typeof learningRate === 'number' ? learningRate : scheduleFromConfig(learningRate);
    }
    const opt = getOptimizer(c.optimizer, options);
    const params = golden.params.map((p) => {
      const t = rc.tensor(p.data, p.shape);
      t.requiresGrad = true;
      return t;
    });
    const originals = [...params];
    c.trajectory.forEach((expected, step) => {
      params.forEach((p, j) => {
        const skip = c.withoutGrad.some(([s, k]) => s === step && k === j);
        const g = golden.grads[step]![j]!;
        p.grad = skip ? null : rc.tensor(g.data, g.shape);
      });
      opt.step(params);
      params.forEach((p, j) => {
        assertClose(p.dataSync(), expected[j]!.data, {
          atol: 1e-5,
          rtol: 0,
          msg: `${c.name} step ${step + 1} param ${j}`,
        });
      });
    });
    assert.equal(opt.iterations, 5);
    for (const [j, p] of params.entries())
      assert.equal(p, originals[j], 'params keep their identity');
  });
}
