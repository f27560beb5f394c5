/** The Optimizer contract: which params move, clipping, config and state round trips, errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import {
  Adam,
  AdamW,
  clipGradNorm,
  clipGradValue,
  getOptimizer,
  type Optimizer,
  optimizerNames,
  RMSprop,
  SGD,
  stepDecay,
  warmup,
} from '../../src/optim/index.js';
import { assertClose } from '../helpers.js';

function param(values: number[], shape?: number[]): rc.Tensor {
  const p = rc.tensor(values, shape);
  p.requiresGrad = true;
  return p;
}

const values = (t: rc.Tensor) => Array.from(t.dataSync());

/** A fresh instance of every optimizer, with non-default settings that keep state. */
const makers: [string, () => Optimizer][] = [
  ['SGD', () => new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['Adam', () => new Adam({ learningRate: 0.05, amsgrad: true })],
  ['AdamW', () => new AdamW({ learningRate: 0.05, weightDecay: 0.1, beta1: 0.8 })],
  ['RMSprop', () => new RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true })],
];

test('step updates in place: same Tensor, new storage, the old storage untouched', () => {
  const p = param([1, 2, 3]);
  const oldStorage = p.storage;
  const snapshot = p.detach();
  p.grad = rc.tensor([1, 1, 1]);
  new SGD({ learningRate: 0.5 }).step([p]);
  assert.notEqual(p.storage, oldStorage);
  assert.deepEqual(values(p), [0.5, 1.5, 2.5]);
  assert.deepEqual(values(snapshot), [1, 2, 3], 'a detached snapshot keeps the old values');
  assert.equal(p.requiresGrad, true);
  assert.equal(p.node, null);
});

test('params whose grad is null, or without requiresGrad, are skipped; their state stays empty', () => {
  for (const [name, make] of makers) {
    const opt = make();
    const a = param([1, 2]);
    const b = param([3, 4]);
    const frozen = rc.tensor([5, 6]); // requiresGrad false, even with a grad
    frozen.grad = rc.tensor([1, 1]);
    a.grad = rc.tensor([0.5, -0.5]);
    const bStorage = b.storage;
    opt.step([a, b, frozen]);
    assert.notDeepEqual(values(a), [1, 2], name);
    assert.equal(b.storage, bStorage, name);
    assert.deepEqual(values(frozen), [5, 6], name);
    assert.equal(opt.getParamState(a)?.step, 1, name);
    assert.equal(opt.getParamState(b), null, name);
    assert.equal(opt.getParamState(frozen), null, name);
    assert.equal(opt.iterations, 1, name);
  }
});

test('a param listed twice is updated once', () => {
  const p = param([1]);
  p.grad = rc.tensor([1]);
  new SGD({ learningRate: 0.25 }).step([p, p]);
  assert.deepEqual(values(p), [0.75]);
});

test('zeroGrad clears the given params, or those of the last step', () => {
  const a = param([1]);
  const b = param([2]);
  const c = param([3]);
  const opt = new SGD();
  opt.zeroGrad(); // nothing remembered yet: nothing to do
  for (const p of [a, b, c]) p.grad = rc.tensor([1]);
  opt.zeroGrad([c]);
  assert.equal(c.grad, null);
  assert.notEqual(a.grad, null);
  opt.step([a, b]);
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.equal(b.grad, null);
  // step() without params reuses the last list
  a.grad = rc.tensor([1]);
  const before = a.item();
  opt.step();
  assert.ok(a.item() < before);
  assert.equal(opt.iterations, 2);
});

test('step() after backward(): a tiny training loop through autograd', () => {
  const w = param([0.5, -0.5]);
  const x = rc.tensor([1, 2]);
  const opt = new SGD({ learningRate: 0.1 });
  const loss = rc.sum(rc.square(rc.sub(rc.mul(w, x), 1)));
  loss.backward();
  // dL/dw = 2 (w x - 1) x = [2 * -0.5 * 1, 2 * -2 * 2] = [-1, -8]
  assertClose(w.grad!.dataSync(), [-1, -8]);
  opt.step([w]);
  assertClose(w.dataSync(), [0.6, 0.3]);
});

test('clipGradNorm: the global norm, scaled as torch does, returned before clipping', () => {
  const a = param([0, 0]);
  const b = param([0]);
  const none = param([0]);
  a.grad = rc.tensor([3, 4]);
  b.grad = rc.tensor([12]);
  const norm = clipGradNorm([a, b, none], 6.5);
  assert.equal(norm, 13); // sqrt(9 + 16 + 144)
  const f = 6.5 / (13 + 1e-6);
  assertClose(a.grad.dataSync(), [3 * f, 4 * f], { atol: 1e-7, rtol: 0 });
  assertClose(b.grad.dataSync(), [12 * f], { atol: 1e-7, rtol: 0 });
  assert.equal(none.grad, null);
  // below the limit: untouched (the very same tensor)
  const g = b.grad;
  assert.ok(Math.abs(clipGradNorm([a, b], 100) - 6.5) < 1e-5);
  assert.equal(b.grad, g);
  // non-finite: reported when asked
  b.grad = rc.tensor([Number.NaN]);
  assert.ok(Number.isNaN(clipGradNorm([b], 1)));
  assert.throws(() => clipGradNorm([b], 1, { errorIfNonfinite: true }), rc.NonFiniteError);
});

test('clipGradValue clamps each value', () => {
  const a = param([0, 0, 0]);
  a.grad = rc.tensor([-3, 0.2, 5]);
  clipGradValue([a], 1);
  assert.deepEqual(values(a.grad), [-1, Math.fround(0.2), 1]);
});

test('clipNorm on an optimizer clips the update but leaves p.grad as it was', () => {
  const p = param([0, 0]);
  p.grad = rc.tensor([3, 4]);
  new SGD({ learningRate: 1, clipNorm: 1 }).step([p]);
  assertClose(p.dataSync(), [-0.6, -0.8], { atol: 1e-6, rtol: 0 });
  assert.deepEqual(values(p.grad), [3, 4]);
  const q = param([0, 0]);
  q.grad = rc.tensor([3, -0.25]);
  new SGD({ learningRate: 1, clipValue: 0.5 }).step([q]);
  assert.deepEqual(values(q), [-0.5, 0.25]);
});

test('getConfig / fromConfig round-trip, through JSON, for every optimizer', () => {
  const all: Optimizer[] = [
    ...makers.map(([, m]) => m()),
    new SGD(),
    new Adam({ learningRate: warmup(stepDecay({ initial: 0.1, stepSize: 5 }), 3), clipNorm: 2 }),
    new RMSprop({ rho: 0.8, clipValue: 0.1 }),
  ];
  for (const opt of all) {
    const cfg = JSON.parse(JSON.stringify(opt.getConfig()));
    const cls = opt.constructor as unknown as { fromConfig(c: unknown): Optimizer };
    const back = cls.fromConfig(cfg);
    assert.equal(back.constructor, opt.constructor);
    assert.deepEqual(back.getConfig(), opt.getConfig());
    assert.deepEqual(getOptimizer(cfg).getConfig(), opt.getConfig(), 'getOptimizer(config)');
  }
  assert.deepEqual(new AdamW().getConfig(), {
    className: 'AdamW',
    learningRate: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    amsgrad: false,
    weightDecay: 0.004,
  });
  assert.deepEqual(new SGD().getConfig(), {
    className: 'SGD',
    learningRate: 0.01,
    momentum: 0,
    nesterov: false,
    weightDecay: 0,
  });
  assert.throws(
    () => SGD.fromConfig(new Adam().getConfig()),
    /SGD.fromConfig: the config describes a Adam/,
  );
  const custom = new SGD({
    learningRate: Object.assign((s: number) => 1 / (s + 1), { getConfig: undefined }) as never,
  });
  assert.throws(() => custom.getConfig(), /plain function, which cannot be saved/);
});

test('getState / setState: a restored optimizer continues the identical trajectory', () => {
  for (const [name, make] of makers) {
    const grads = Array.from({ length: 5 }, (_, i) => [
      rc.randn([2, 3], { seed: 10 + i }),
      rc.randn([4], { seed: 20 + i }),
    ]);
    const a = [param(values(rc.randn([2, 3], { seed: 1 })), [2, 3]), param([1, -1, 2, -2])];
    const opt = make();
    const run = (o: Optimizer, ps: rc.Tensor[], from: number, to: number) => {
      for (let i = from; i < to; i++) {
        ps.forEach((p, j) => {
          p.grad = i === 1 && j === 1 ? null : grads[i]![j]!; // one skipped update along the way
        });
        o.step(ps);
      }
    };
    run(opt, a, 0, 3);
    const state = opt.getState();
    assert.ok(state.every((s) => s instanceof Float32Array));
    assert.equal(state.length, 1 + 2 * (1 + opt.slotNames.length), name);
    assert.deepEqual(Array.from(state[0]!), [3, 0], 'iterations');
    assert.deepEqual(
      Array.from(state[1 + 1 + opt.slotNames.length]!),
      [2, 0],
      'param 1 had 2 updates',
    );
    // A fresh optimizer and fresh params with the same values, as after loading a checkpoint.
    const b = a.map((p) => param(values(p), p.shape));
    const restored = (
      opt.constructor as unknown as { fromConfig(c: unknown): Optimizer }
    ).fromConfig(JSON.parse(JSON.stringify(opt.getConfig())));
    restored.setState(
      state.map((s) => Float32Array.from(s)),
      b,
    );
    assert.equal(restored.iterations, 3);
    run(opt, a, 3, 5);
    run(restored, b, 3, 5);
    for (const [j, p] of a.entries())
      assert.deepEqual(values(b[j]!), values(p), `${name} param ${j}`);
    assert.deepEqual(restored.getState(), opt.getState(), name);
    // Without the state, the continuation differs (the test can tell).
    const c = a.map((p) => param(values(p), p.shape));
    const cold = make();
    cold.iterations = 3;
    run(cold, c, 3, 5);
    assert.notDeepEqual(values(c[0]!), values(a[0]!), `${name}: state matters`);
  }
});

test('getStateAsync gives getState: every optimizer, with and without params, and Lookahead', async () => {
  const all: [string, () => Optimizer][] = [
    ...makers,
    ['Lookahead', () => new rc.Lookahead({ optimizer: new SGD({ momentum: 0.9 }), k: 2 })],
  ];
  for (const [name, make] of all) {
    const ps = [param([1, -2, 3]), param([0.5, 4])];
    const opt = make();
    for (let i = 0; i < 3; i++) {
      ps.forEach((p, j) => {
        p.grad = rc.randn(p.shape, { seed: 3 * i + j });
      });
      opt.step(ps);
    }
    const want = opt.getState();
    assert.ok(want.length > 1, name);
    assert.deepEqual(await opt.getStateAsync(), want, name);
    assert.deepEqual(await opt.getStateAsync(ps), opt.getState(ps), name);
    await assert.rejects(
      opt.getStateAsync([1 as never]),
      /getStateAsync: params\[0\] must be a Tensor/,
      name,
    );
  }
  // Before any step: the iteration count alone, as getState gives.
  assert.deepEqual(await new SGD().getStateAsync(), new SGD().getState());
});

test('large iteration counts survive getState exactly', () => {
  const opt = new SGD();
  const p = param([1]);
  p.grad = rc.tensor([1]);
  opt.step([p]);
  opt.iterations = 2 ** 24 * 3 + 12345;
  const state = opt.getState();
  const other = new SGD();
  other.setState(state, [p]);
  assert.equal(other.iterations, 2 ** 24 * 3 + 12345);
});

test('setState rejects state that does not fit', () => {
  const p = param([1, 2]);
  const opt = new Adam();
  p.grad = rc.tensor([1, 1]);
  opt.step([p]);
  const state = opt.getState();
  assert.throws(() => new Adam().setState(state), /Adam.setState: no params given/);
  assert.throws(
    () => new Adam({ amsgrad: true }).setState(state, [p]),
    /expected 5 arrays for 1 params.*got 4/,
  );
  assert.throws(
    () => new Adam().setState(state, [param([1, 2, 3])]),
    /slot 'm' of param 0, shape \[3\]/,
  );
  assert.throws(
    () => new Adam().setState([new Float32Array([0.5, 0]), ...state.slice(1)], [p]),
    /iteration count/,
  );
});

test('each optimizer minimizes a quadratic', () => {
  const target = rc.tensor([1, -2, 3, 0.5]);
  const all: Optimizer[] = [
    new SGD({ learningRate: 0.1 }),
    new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }),
    new Adam({ learningRate: 0.1 }),
    new Adam({ learningRate: 0.1, amsgrad: true }),
    new AdamW({ learningRate: 0.1, weightDecay: 0.01 }),
    new RMSprop({ learningRate: 0.05 }),
    new RMSprop({ learningRate: 0.02, momentum: 0.5, centered: true }),
  ];
  for (const opt of all) {
    const w = param([0, 0, 0, 0]);
    const losses: number[] = [];
    for (let i = 0; i < 150; i++) {
      const loss = rc.sum(rc.square(rc.sub(w, target)));
      losses.push(loss.item());
      loss.backward();
      opt.step([w]);
      opt.zeroGrad();
    }
    const name = JSON.stringify(opt.getConfig());
    assert.ok(losses.at(-1)! < 0.01 * losses[0]!, `${name}: ${losses[0]} -> ${losses.at(-1)}`);
    assert.ok(losses[10]! < losses[0]!, name);
  }
});

test('getOptimizer: names in any case, overrides, instances, unknown names', () => {
  assert.deepEqual(optimizerNames(), ['sgd', 'adam', 'adamw', 'rmsprop', 'lookahead']);
  assert.ok(getOptimizer('sgd') instanceof SGD);
  assert.ok(getOptimizer('Adam') instanceof Adam);
  assert.ok(getOptimizer('ADAMW') instanceof AdamW);
  assert.ok(getOptimizer('RMSProp') instanceof RMSprop);
  const sgd = getOptimizer('sgd', { learningRate: 0.2, momentum: 0.5 }) as SGD;
  assert.equal(sgd.learningRate, 0.2);
  assert.equal(sgd.momentum, 0.5);
  const inst = new Adam();
  assert.equal(getOptimizer(inst), inst);
  assert.throws(() => getOptimizer(inst, { learningRate: 1 }), rc.ArgumentError);
  for (const bad of ['adm', 'constructor', 'toString']) {
    assert.throws(
      () => getOptimizer(bad),
      (e) =>
        e instanceof rc.ArgumentError &&
        e.message.includes(`unknown optimizer '${bad}'`) &&
        /sgd, adam, adamw, rmsprop/.test(e.message),
    );
  }
  assert.throws(() => getOptimizer(42 as never), rc.ArgumentError);
  assert.throws(() => getOptimizer({ learningRate: 1 } as never), /needs a className/);
});

test('bad hyperparameters throw ArgumentError naming the optimizer and the parameter', () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => new SGD({ learningRate: -0.1 }),
      /^SGD: learningRate must be a finite number >= 0, got -0.1/,
    ],
    [() => new SGD({ learningRate: Number.NaN }), /^SGD: learningRate/],
    [() => new SGD({ momentum: -0.5 }), /^SGD: momentum must be a number in \[0, 1\]/],
    [() => new SGD({ nesterov: true }), /^SGD: nesterov needs momentum > 0/],
    [() => new SGD({ weightDecay: -1 }), /^SGD: weightDecay/],
    [
      () => new SGD({ nesterov: 'yes' as never, momentum: 0.9 }),
      /^SGD: nesterov must be true or false/,
    ],
    [() => new Adam({ beta1: 1 }), /^Adam: beta1 must be a number in \[0, 1\), got 1/],
    [() => new Adam({ beta2: -0.1 }), /^Adam: beta2/],
    [() => new Adam({ epsilon: 0 }), /^Adam: epsilon/],
    [() => new Adam({ amsgrad: 1 as never }), /^Adam: amsgrad/],
    [
      () => new Adam({ lr: 0.1 } as never),
      /^Adam: unknown option 'lr'. Known options: learningRate/,
    ],
    [() => new Adam({ weightDecay: 0.1 } as never), /^Adam: unknown option 'weightDecay'/],
    [() => new AdamW({ beta1: 1.5 }), /^AdamW: beta1/],
    [() => new AdamW({ weightDecay: -0.01 }), /^AdamW: weightDecay/],
    [() => new AdamW({ learningRate: -1 }), /^AdamW: learningRate/],
    [() => new RMSprop({ rho: 1 }), /^RMSprop: rho must be a number in \[0, 1\)/],
    [() => new RMSprop({ momentum: 2 }), /^RMSprop: momentum/],
    [() => new RMSprop({ epsilon: -1 }), /^RMSprop: epsilon/],
    [() => new RMSprop({ alpha: 0.9 } as never), /^RMSprop: unknown option 'alpha'/],
    [() => new SGD({ clipNorm: 0 }), /^SGD: clipNorm/],
    [() => new SGD({ clipValue: -1 }), /^SGD: clipValue/],
    [() => new SGD({ clipNorm: 1, clipValue: 1 }), /^SGD: give clipNorm or clipValue, not both/],
    [() => new SGD().step(), /^SGD.step: no params given/],
    [() => new SGD().step([1 as never]), /^SGD.step: params\[0\] must be a Tensor/],
    [() => new SGD().step('w' as never), /^SGD.step: params must be an array/],
    [
      () => {
        const o = new Adam();
        o.learningRate = -1;
      },
      /^Adam: learningRate/,
    ],
    [() => clipGradNorm([], -1), /^clipGradNorm: maxNorm/],
    [() => clipGradValue([], 0), /^clipGradValue: clipValue/],
  ];
  for (const [fn, re] of cases) {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof rc.ArgumentError, `${re}: got ${e}`);
      assert.match((e as Error).message, re);
      return true;
    });
  }
  // a schedule that misbehaves is caught at the step that uses it
  const p = param([1]);
  p.grad = rc.tensor([1]);
  const opt = new SGD({ learningRate: (() => Number.NaN) as never });
  assert.throws(() => opt.step([p]), /SGD: the learning-rate schedule gave NaN at iteration 0/);
  assert.deepEqual(values(p), [1]);
});

test('a gradient of the wrong shape is a ShapeError naming the optimizer', () => {
  const p = param([1, 2, 3]);
  p.name = 'dense/kernel';
  p.grad = rc.tensor([1, 2]);
  assert.throws(
    () => new Adam().step([p]),
    (e) =>
      e instanceof rc.ShapeError &&
      /Adam.step: the gradient of dense\/kernel has shape \[2\], the parameter \[3\]/.test(
        e.message,
      ),
  );
  p.grad = rc.tensor([[1, 2, 3]]);
  assert.throws(() => new Adam().step([p]), rc.ShapeError);
});
