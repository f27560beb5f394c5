/**
 * Lookahead against the paper's algorithm written out by hand (float64) over torch.optim.SGD's
 * Nesterov rule; config and state round trips; fit with it; bad options.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { constant, getOptimizer, Lookahead, SGD, stepDecay } from '../../src/optim/index.js';
import { assertClose, tempDirs } from '../helpers.js';

function param(values: number[]): rc.Tensor {
  const p = rc.tensor(values);
  p.requiresGrad = true;
  return p;
}

const values = (t: rc.Tensor) => Array.from(t.dataSync());

// The problem: L(w) = ½ Σ a_i (w_i − c_i)², so dL/dw = a ⊙ (w − c).
const A = [1, 3, 0.5];
const C = [2, -1, 0.25];
const W0 = [0, 0.5, -1];

/** Lookahead(k, alpha) over SGD(lr, momentum, nesterov), by hand in float64. */
function reference(steps: number, k: number, alpha: (t: number) => number): number[] {
  const lr = 0.1;
  const mom = 0.9;
  const w = [...W0];
  const slow = [...W0];
  const buf = [0, 0, 0];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < 3; i++) {
      const g = A[i]! * (w[i]! - C[i]!);
      buf[i] = mom * buf[i]! + g;
      w[i] = w[i]! - lr * (g + mom * buf[i]!);
    }
    if (t % k === 0) {
      for (let i = 0; i < 3; i++) {
        slow[i] = slow[i]! + alpha(t) * (w[i]! - slow[i]!);
        w[i] = slow[i]!;
      }
    }
  }
  return w;
}

/** The same through rc: autograd for the gradient, the optimizer for the step. */
function run(opt: rc.Optimizer, w: rc.Tensor, steps: number): void {
  const a = rc.tensor(A);
  const c = rc.tensor(C);
  for (let t = 0; t < steps; t++) {
    rc.mul(rc.sum(rc.mul(a, rc.square(rc.sub(w, c)))), 0.5).backward();
    opt.step([w]);
    opt.zeroGrad();
  }
}

const inner = () => new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true });

test('Lookahead follows the paper’s algorithm over Nesterov SGD, step by step', () => {
  for (const [k, alpha] of [
    [5, 0.5],
    [3, 0.8],
    [1, 0.3],
  ] as const) {
    for (let steps = 1; steps <= 12; steps++) {
      const w = param(W0);
      run(new Lookahead({ optimizer: inner(), k, alpha }), w, steps);
      assertClose(
        values(w),
        reference(steps, k, () => alpha),
        {
          rtol: 1e-5,
          atol: 1e-6,
          msg: `k ${k}, alpha ${alpha}, ${steps} steps`,
        },
      );
    }
  }
  // alpha 1 is the inner optimizer alone; the test can tell Lookahead from it.
  const plain = param(W0);
  run(inner(), plain, 12);
  const la1 = param(W0);
  run(new Lookahead({ optimizer: inner(), k: 5, alpha: 1 }), la1, 12);
  assertClose(values(la1), values(plain), { rtol: 1e-6 });
  const la = param(W0);
  run(new Lookahead({ optimizer: inner(), k: 5, alpha: 0.5 }), la, 12);
  assert.ok(Math.abs(values(la)[1]! - values(plain)[1]!) > 1e-3);
});

test('alpha may be a schedule of the inner iteration count (airbench’s), evaluated at each synchronization', () => {
  const schedule = stepDecay({ initial: 0.9, stepSize: 5, gamma: 0.5 });
  const w = param(W0);
  run(new Lookahead({ optimizer: inner(), k: 2, alpha: schedule }), w, 11);
  assertClose(
    values(w),
    reference(11, 2, (t) => schedule(t)),
    { rtol: 1e-5, atol: 1e-6 },
  );
  // assignSlowWeights: the weights of the last synchronization (step 10), as airbench ends.
  const slow = param(W0);
  const la = new Lookahead({ optimizer: inner(), k: 2, alpha: schedule });
  run(la, slow, 11);
  la.assignSlowWeights();
  assertClose(
    values(slow),
    reference(10, 2, (t) => schedule(t)),
    { rtol: 1e-5, atol: 1e-6 },
  );
  assert.notDeepEqual(values(slow), values(w));
  const bad = new Lookahead({ optimizer: inner(), k: 1, alpha: (() => 1.5) as never });
  assert.throws(
    () => run(bad, param(W0), 1),
    (e: Error) =>
      e instanceof rc.ArgumentError && /alpha schedule gave 1.5 at iteration 1/.test(e.message),
  );
});

test('Lookahead config and state round trips: a restored one continues the identical trajectory', () => {
  const make = () =>
    new Lookahead({
      optimizer: new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
      k: 3,
      alpha: constant(0.6),
    });
  const opt = make();
  const config = JSON.parse(JSON.stringify(opt.getConfig()));
  assert.equal(config.className, 'Lookahead');
  assert.equal(config.optimizer.className, 'SGD');
  assert.equal(config.learningRate, 0.05);
  assert.equal(config.k, 3);
  assert.deepEqual(getOptimizer(config).getConfig(), opt.getConfig());
  assert.deepEqual(Lookahead.fromConfig(config).getConfig(), opt.getConfig());
  // A learningRate override (getOptimizer(config, { learningRate })) goes to the inner optimizer.
  assert.equal(getOptimizer(config, { learningRate: 0.2 }).currentLearningRate(), 0.2);

  const a = param(W0);
  const b = param([5, 6]); // stepped once, then never again: its slow weights are kept
  b.grad = rc.tensor([1, 1]);
  opt.step([a, b]);
  opt.zeroGrad([a, b]);
  run(opt, a, 4); // 5 steps in all: past one synchronization, mid-way to the next
  const state = opt.getState([a, b]);
  // The inner SGD's arrays (iterations, then per param its count and momentum), then the slow weights.
  assert.equal(state.length, 1 + 2 * 2 + 2);
  assert.deepEqual(Array.from(state[0]!), [5, 0]);
  const restored = getOptimizer(config) as Lookahead;
  const a2 = param(values(a));
  const b2 = param(values(b));
  restored.setState(
    state.map((s) => Float32Array.from(s)),
    [a2, b2],
  );
  assert.equal(restored.iterations, 5);
  assert.deepEqual(values(restored.getSlowWeights(a2)!), values(opt.getSlowWeights(a)!));
  run(opt, a, 4);
  run(restored, a2, 4);
  assert.deepEqual(values(a2), values(a));
  // Without the slow weights (a fresh Lookahead over the restored inner state) the path differs.
  const cold = make();
  const a3 = param(values(a));
  cold.optimizer.setState(
    state.slice(0, 5).map((s) => Float32Array.from(s)),
    [a3, param(values(b))],
  );
  cold.iterations = 5;
  run(cold, a3, 4);
  assert.notDeepEqual(values(a3), values(a));
  assert.throws(
    () => restored.setState([new Float32Array(2)], [a2, b2]),
    (e: Error) => e instanceof rc.ArgumentError && /Lookahead.setState/.test(e.message),
  );
  assert.throws(
    () =>
      restored.setState([...state.slice(0, 5), new Float32Array(2), new Float32Array(1)], [a2, b2]),
    (e: Error) => e instanceof rc.ArgumentError && /slow weights of param 0/.test(e.message),
  );
});

test('learningRate reads and sets the inner optimizer’s (callbacks that schedule it keep working)', () => {
  const sgd = inner();
  const la = new Lookahead({ optimizer: sgd });
  assert.equal(la.learningRate, 0.1);
  la.learningRate = 0.02;
  assert.equal(sgd.learningRate, 0.02);
  assert.equal(la.currentLearningRate(), 0.02);
  assert.equal(la.k, 5);
  assert.equal(la.alpha, 0.5);
  assert.ok(new Lookahead({ optimizer: 'adam' }).optimizer instanceof rc.Adam);
});

test('fit with Lookahead trains, and BackupAndRestore-style state covers the slow weights', async () => {
  rc.setSeed(5);
  const model = new rc.Sequential([
    new rc.layers.Dense({ units: 4, inputShape: [2], activation: 'relu' }),
    new rc.layers.Dense({ units: 2 }),
  ]);
  const opt = new Lookahead({ optimizer: inner(), k: 2 });
  model.compile({
    optimizer: opt,
    loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
  });
  const x = rc.tensor([
    [1, 0],
    [0, 1],
    [1, 1],
    [0, 0],
  ]);
  const y = rc.tensor([0, 1, 0, 1], [4], 'int32');
  const before = (await model.evaluate(x, y)).loss!;
  await model.fit(x, y, { epochs: 25, batchSize: 2, verbose: 0, seed: 1 });
  const after = (await model.evaluate(x, y)).loss!;
  assert.ok(after < before, `loss ${before} → ${after}`);
  assert.equal(opt.iterations, 50);
  const state = opt.getState(model.trainableWeights);
  assert.equal(state.length, 1 + model.trainableWeights.length * 2 + model.trainableWeights.length);
  // Right after a synchronization (50 is a multiple of k) the weights are the slow weights.
  for (const w of model.trainableWeights)
    assert.deepEqual(values(opt.getSlowWeights(w)!), values(w));
});

test('alsoAverage averages tensors the optimizer does not step (BatchNorm statistics)', () => {
  // A stand-in for a moving statistic: the "forward pass" sets it to 10·t before step t.
  for (const [k, alpha] of [
    [5, 0.5],
    [2, 0.8],
  ] as const) {
    const w = param(W0);
    const stat = rc.tensor([0, 1]);
    const opt = new Lookahead({ optimizer: inner(), k, alpha });
    opt.alsoAverage([stat, w]); // w is a param too: still averaged once per synchronization
    const a = rc.tensor(A);
    const c = rc.tensor(C);
    let slow = [0, 1];
    for (let t = 1; t <= 11; t++) {
      stat.storage = rc.tensor([10 * t, -t]).storage;
      rc.mul(rc.sum(rc.mul(a, rc.square(rc.sub(w, c)))), 0.5).backward();
      opt.step([w]);
      opt.zeroGrad();
      let cur = [10 * t, -t];
      if (t % k === 0) {
        slow = slow.map((v, i) => v + alpha * (cur[i]! - v));
        cur = slow;
      }
      assertClose(values(stat), cur, { rtol: 1e-6, msg: `k ${k}, step ${t}` });
    }
    assertClose(
      values(w),
      reference(11, k, () => alpha),
      { rtol: 1e-5, atol: 1e-6 },
    );
    // The end of training: the statistic and the weights go back to their slow values.
    stat.storage = rc.tensor([99, 99]).storage;
    opt.assignSlowWeights();
    assertClose(values(stat), slow, { rtol: 1e-6 });
    assertClose(
      values(w),
      reference(10 - (10 % k), k, () => alpha),
      { rtol: 1e-5, atol: 1e-6 },
    );
  }
});

test('alsoAverage with BatchNorm in fit: the statistics end at their averaged values', async () => {
  const bn = new rc.layers.BatchNormalization({ momentum: 0.5 });
  const model = new rc.Sequential([
    new rc.layers.Dense({ units: 3, inputShape: [2] }),
    bn,
    new rc.layers.Dense({ units: 2 }),
  ]);
  const opt = new Lookahead({ optimizer: inner(), k: 3, alpha: 0.5 });
  model.compile({
    optimizer: opt,
    loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
  });
  const x = rc.tensor([
    [1, 0],
    [0, 2],
    [1, 1],
    [3, 0],
  ]);
  const y = rc.tensor([0, 1, 0, 1], [4], 'int32');
  model.build([null, 2]);
  opt.alsoAverage([bn.movingMean, bn.movingVariance]);
  await model.fit(x, y, { epochs: 4, batchSize: 2, verbose: 0, seed: 1 }); // 8 steps
  const slowMean = values(opt.getSlowWeights(bn.movingMean)!);
  assert.notDeepEqual(values(bn.movingMean), slowMean, 'two fast steps since the last sync');
  opt.assignSlowWeights();
  assert.deepEqual(values(bn.movingMean), slowMean);
  assert.deepEqual(values(bn.movingVariance), values(opt.getSlowWeights(bn.movingVariance)!));
  for (const v of values(bn.movingVariance)) assert.ok(v > 0 && Number.isFinite(v));
});

test('alsoAverage refuses what is not an array of float32 tensors', () => {
  const opt = new Lookahead({ optimizer: inner() });
  assert.throws(() => opt.alsoAverage(rc.tensor([1]) as never), /expects an array of tensors/);
  assert.throws(() => opt.alsoAverage([[1, 2]] as never), /tensors\[0\] must be a float32 tensor/);
  assert.throws(
    () => opt.alsoAverage([rc.tensor([1], [1], 'int32')]),
    /tensors\[0\] must be a float32 tensor, got a int32 tensor/,
  );
});

test('bad Lookahead options are ArgumentErrors that say what to do', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new Lookahead(undefined as never), /options must be an object/],
    [() => new Lookahead({} as never), /needs the inner optimizer/],
    [() => new Lookahead({ optimizer: 'sgdd' }), /unknown optimizer 'sgdd'/],
    [() => new Lookahead({ optimizer: inner(), k: 0 }), /k must be a positive integer/],
    [() => new Lookahead({ optimizer: inner(), k: 2.5 }), /k must be a positive integer/],
    [() => new Lookahead({ optimizer: inner(), alpha: 0 }), /alpha must be a number in \(0, 1\]/],
    [() => new Lookahead({ optimizer: inner(), alpha: 1.1 }), /alpha must be a number in \(0, 1\]/],
    [() => new Lookahead({ optimizer: inner(), alpha: Number.NaN }), /alpha/],
    [() => new Lookahead({ optimizer: inner(), syncPeriod: 5 } as never), /syncPeriod/],
    [
      () => new Lookahead({ optimizer: inner(), learningRate: 0.1 } as never),
      /belongs to the inner optimizer/,
    ],
    [
      () => new Lookahead({ optimizer: new Lookahead({ optimizer: inner() }) }),
      /cannot itself be a Lookahead/,
    ],
    [() => getOptimizer('lookahead'), /wraps another optimizer/],
    [() => Lookahead.fromConfig({ className: 'SGD', learningRate: 1 }), /describes a SGD/],
    [() => new Lookahead({ optimizer: inner() }).step(), /no params given/],
  ];
  for (const [f, re] of cases)
    assert.throws(f, (e: Error) => e instanceof rc.ArgumentError && re.test(e.message), String(re));
  assert.ok(getOptimizer('lookahead', { optimizer: 'sgd' } as never) instanceof Lookahead);
});

test('BackupAndRestore with Lookahead: stopped mid-way between synchronizations, resumed, bit for bit the uninterrupted run', async () => {
  const dirs = tempDirs('rc-lookahead-');
  const make = () => {
    rc.setSeed(11);
    const m = new rc.Sequential([
      new rc.layers.Dense({ units: 8, activation: 'relu', inputShape: [4] }),
      new rc.layers.Dense({ units: 3, activation: 'softmax' }),
    ]);
    m.compile({
      optimizer: new Lookahead({ optimizer: inner(), k: 3, alpha: 0.5 }),
      loss: 'sparseCategoricalCrossentropy',
    });
    return m;
  };
  const r = new rc.Random(5);
  const x = rc.tensor(
    Float32Array.from({ length: 40 * 4 }, () => r.normal()),
    [40, 4],
  );
  const y = rc.tensor(
    Int32Array.from({ length: 40 }, (_, i) => (i * 7) % 3),
    [40],
    'int32',
  );
  const options = { epochs: 3, batchSize: 8, seed: 3, verbose: 0 as const };
  const bits = (m: rc.Model) => m.getWeights().map((w) => Buffer.from(w.buffer).toString('hex'));
  const straight = make();
  await straight.fit(x, y, options);
  const dir = join(dirs(), 'backup');
  const first = make();
  // Stop after the 7th step (epoch 1, batch 1): one step past a synchronization.
  const stop = {
    onBatchEnd() {
      if (first.optimizer!.iterations === 7) first.stopTraining = true;
    },
  };
  await first.fit(x, y, {
    ...options,
    callbacks: [stop, new rc.callbacks.BackupAndRestore({ backupDir: dir })],
  });
  assert.equal(first.optimizer!.iterations, 7);
  const second = make();
  await second.fit(x, y, {
    ...options,
    callbacks: [new rc.callbacks.BackupAndRestore({ backupDir: dir })],
  });
  assert.equal(second.optimizer!.iterations, 15);
  assert.deepEqual(bits(second), bits(straight));
});
