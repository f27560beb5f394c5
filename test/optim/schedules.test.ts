/** Learning-rate schedules: values at chosen steps, computed by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import {
  constant,
  cosineDecay,
  exponentialDecay,
  SGD,
  scheduleFromConfig,
  stepDecay,
  warmup,
} from '../../src/optim/index.js';

const close = (a: number, b: number, msg = '') =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${msg} ${a} vs ${b}`);

test('constant', () => {
  const s = constant(0.3);
  assert.equal(s(0), 0.3);
  assert.equal(s(1e6), 0.3);
});

test('stepDecay: initial * gamma^floor(step / stepSize)', () => {
  const s = stepDecay({ initial: 0.1, stepSize: 3, gamma: 0.5 });
  const want = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025];
  for (const [i, w] of want.entries()) close(s(i), w, `step ${i}`);
  close(s(30), 0.1 / 1024);
  // gamma defaults to 0.1 as PyTorch's StepLR
  close(stepDecay({ initial: 1, stepSize: 10 })(25), 0.01);
});

test('exponentialDecay: smooth and staircase', () => {
  const s = exponentialDecay({ initial: 2, decaySteps: 4, decayRate: 0.25 });
  close(s(0), 2);
  close(s(2), 1); // 2 * 0.25^0.5
  close(s(4), 0.5);
  close(s(6), 0.25); // 2 * 0.25^1.5
  const st = exponentialDecay({ initial: 2, decaySteps: 4, decayRate: 0.25, staircase: true });
  close(st(3), 2);
  close(st(4), 0.5);
  close(st(7), 0.5);
  close(st(8), 0.125);
});

test('cosineDecay: half way, the end, after the end, with alpha', () => {
  const s = cosineDecay({ initial: 1, decaySteps: 100 });
  close(s(0), 1);
  close(s(50), 0.5);
  close(s(25), 0.5 * (1 + Math.SQRT1_2));
  close(s(100), 0);
  close(s(1000), 0);
  const a = cosineDecay({ initial: 0.2, decaySteps: 10, alpha: 0.1 });
  close(a(0), 0.2);
  close(a(5), 0.2 * (0.9 * 0.5 + 0.1)); // 0.11
  close(a(10), 0.02);
  close(a(20), 0.02);
});

test('warmup: linear from 0 to the schedule, which then runs from its own step 0', () => {
  const s = warmup(stepDecay({ initial: 0.4, stepSize: 2, gamma: 0.5 }), 4);
  const want = [0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.2, 0.2, 0.1];
  for (const [i, w] of want.entries()) close(s(i), w, `step ${i}`);
  const n = warmup(0.01, 10); // a number warms up to a constant
  close(n(5), 0.005);
  close(n(10), 0.01);
  close(n(99), 0.01);
  close(warmup(constant(0.5), 0)(0), 0.5); // no warm-up
});

test('getConfig / scheduleFromConfig round-trip, nested warm-up included', () => {
  const schedules = [
    constant(0.1),
    stepDecay({ initial: 0.1, stepSize: 3, gamma: 0.5 }),
    exponentialDecay({ initial: 0.1, decaySteps: 7, decayRate: 0.9, staircase: true }),
    cosineDecay({ initial: 0.1, decaySteps: 20, alpha: 0.05 }),
    warmup(cosineDecay({ initial: 0.1, decaySteps: 20 }), 5),
  ];
  for (const s of schedules) {
    const cfg = JSON.parse(JSON.stringify(s.getConfig()));
    const back = scheduleFromConfig(cfg);
    assert.deepEqual(back.getConfig(), s.getConfig());
    for (const i of [0, 1, 4, 5, 9, 13, 30]) assert.equal(back(i), s(i), `${cfg.className} @${i}`);
  }
  assert.throws(
    () => scheduleFromConfig({ className: 'linear' } as never),
    /scheduleFromConfig: unknown schedule 'linear'.*cosineDecay/,
  );
});

test('an optimizer evaluates its schedule at its iteration count (0 on the first step)', () => {
  const p = rc.tensor([0]);
  p.requiresGrad = true;
  const opt = new SGD({ learningRate: stepDecay({ initial: 1, stepSize: 2, gamma: 0.5 }) });
  const lrs: number[] = [];
  for (let i = 0; i < 5; i++) {
    lrs.push(opt.currentLearningRate());
    p.grad = rc.tensor([1]); // the update is -lr
    opt.step([p]);
  }
  assert.deepEqual(lrs, [1, 1, 0.5, 0.5, 0.25]);
  assert.equal(p.item(), -3.25);
});

test('warm-up drives the first updates of an optimizer', () => {
  const p = rc.tensor([0]);
  p.requiresGrad = true;
  const opt = new SGD({ learningRate: warmup(0.1, 2) });
  const moves: number[] = [];
  for (let i = 0; i < 4; i++) {
    const before = p.item();
    p.grad = rc.tensor([-1]);
    opt.step([p]);
    moves.push(Number((p.item() - before).toFixed(6)));
  }
  assert.deepEqual(moves, [0, 0.05, 0.1, 0.1]);
});

test('bad schedule arguments throw ArgumentError naming the schedule and the argument', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => constant(-1), /constant: value/],
    [
      () => stepDecay({ initial: 0.1, stepSize: 0 }),
      /stepDecay: stepSize must be a positive integer/,
    ],
    [() => stepDecay({ initial: 0.1, stepSize: 1.5 }), /stepDecay: stepSize/],
    [() => stepDecay({ initial: -0.1, stepSize: 1 }), /stepDecay: initial/],
    [
      () => exponentialDecay({ initial: 0.1, decaySteps: 0, decayRate: 0.5 }),
      /exponentialDecay: decaySteps/,
    ],
    [
      () => exponentialDecay({ initial: 0.1, decaySteps: 10, decayRate: 0 }),
      /exponentialDecay: decayRate/,
    ],
    [() => cosineDecay({ initial: 0.1, decaySteps: 10, alpha: 2 }), /cosineDecay: alpha/],
    [() => warmup(constant(0.1), -1), /warmup: warmupSteps/],
    [() => warmup('fast' as never, 3), /warmup: schedule/],
    [() => constant(0.1)(-1), /constant: step/],
  ];
  for (const [fn, re] of cases)
    assert.throws(fn, (e) => e instanceof rc.ArgumentError && re.test((e as Error).message));
});
