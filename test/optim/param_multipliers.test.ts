/**
 * paramMultipliers: PyTorch's parameter groups by weight name. The reference is one optimizer
 * per group with the group's learning rate and weight decay (each optimizer is checked against
 * torch.optim in golden.test.ts), which is what torch does with param_groups.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { AdamW, getOptimizer, type Optimizer, SGD } from '../../src/optim/index.js';

function param(name: string, values: number[]): rc.Tensor {
  const p = rc.tensor(values);
  p.requiresGrad = true;
  p.name = name;
  return p;
}

const values = (t: rc.Tensor) => Array.from(t.dataSync());

/** Steps `opts[i]` on `params[i]` with the same fixed gradients, `n` times. */
function steps(opts: Optimizer[], params: rc.Tensor[][], n: number): void {
  for (let t = 0; t < n; t++) {
    opts.forEach((o, i) => {
      for (const p of params[i]!)
        p.grad = rc.tensor(p.dataSync().map((v, j) => Math.sin(v + j + t)));
      o.step(params[i]!);
    });
  }
}

test('a matched weight gets the rule’s learning rate and weight decay, as a separate parameter group would (SGD, AdamW)', () => {
  const cases: [(m?: rc.ParamMultiplier[]) => Optimizer, (lr: number, wd: number) => Optimizer][] =
    [
      [
        (m) =>
          new SGD({
            learningRate: 0.1,
            momentum: 0.85,
            nesterov: true,
            weightDecay: 5e-3,
            ...(m ? { paramMultipliers: m } : {}),
          }),
        (lr, wd) => new SGD({ learningRate: lr, momentum: 0.85, nesterov: true, weightDecay: wd }),
      ],
      [
        (m) =>
          new AdamW({
            learningRate: 0.01,
            weightDecay: 0.1,
            ...(m ? { paramMultipliers: m } : {}),
          }),
        (lr, wd) => new AdamW({ learningRate: lr, weightDecay: wd }),
      ],
    ];
  for (const [withRules, group] of cases) {
    const rules = [
      { match: '/beta$', learningRate: 64, weightDecay: 1 / 64 },
      { match: '^conv', learningRate: 0.5 },
      { match: 'beta', learningRate: 1000 }, // never used: an earlier rule matches first
    ];
    const mk = () => [
      param('bn/beta', [0.1, -0.2]),
      param('conv/kernel', [0.3, 0.4, -0.5]),
      param('dense/bias', [1, 2]),
    ];
    const [beta, kernel, bias] = mk();
    const opt = withRules(rules);
    steps([opt], [[beta!, kernel!, bias!]], 6);
    const [beta2, kernel2, bias2] = mk();
    const base = withRules();
    const lr0 = base.currentLearningRate();
    const wd0 = (base as unknown as { weightDecay: number }).weightDecay;
    steps(
      [group(lr0 * 64, wd0 / 64), group(lr0 * 0.5, wd0), group(lr0, wd0)],
      [[beta2!], [kernel2!], [bias2!]],
      6,
    );
    assert.deepEqual(values(beta!), values(beta2!), `${opt.name} beta`);
    assert.deepEqual(values(kernel!), values(kernel2!), `${opt.name} kernel`);
    assert.deepEqual(values(bias!), values(bias2!), `${opt.name} bias`);
    // The rules change the result (the test can tell).
    const [beta3] = mk();
    steps([withRules()], [[beta3!]], 6);
    assert.notDeepEqual(values(beta3!), values(beta!));
  }
});

test('paramMultipliers survive getConfig / fromConfig through JSON, and apply to model weights by their names', async () => {
  const opt = new SGD({
    learningRate: 0.1,
    paramMultipliers: [{ match: '/beta$', learningRate: 64, weightDecay: 0.5 }],
  });
  const config = JSON.parse(JSON.stringify(opt.getConfig()));
  assert.deepEqual(config.paramMultipliers, [
    { match: '/beta$', learningRate: 64, weightDecay: 0.5 },
  ]);
  assert.deepEqual(getOptimizer(config).getConfig(), opt.getConfig());
  assert.equal(new SGD().getConfig().paramMultipliers, undefined);

  // A BatchNorm with a frozen scale (scale: false) whose bias learns 64× faster.
  rc.setSeed(1);
  const make = () =>
    new rc.Sequential([
      new rc.layers.Dense({ units: 3, inputShape: [2], name: 'd' }),
      new rc.layers.BatchNormalization({ scale: false, name: 'bn' }),
    ]);
  const x = rc.tensor([
    [1, 2],
    [3, -1],
    [0, 1],
  ]);
  const y = rc.tensor([
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ]);
  const run = async (m?: rc.ParamMultiplier[]) => {
    rc.setSeed(1);
    const model = make();
    model.compile({
      optimizer: new SGD({ learningRate: 0.01, ...(m ? { paramMultipliers: m } : {}) }),
      loss: 'mse',
    });
    await model.fit(x, y, { epochs: 1, batchSize: 3, verbose: 0, shuffle: false });
    return model;
  };
  const plain = await run();
  const fast = await run([{ match: '^bn/beta$', learningRate: 64 }]);
  assert.deepEqual(
    plain.trainableWeights.map((w) => w.name),
    ['d/kernel', 'd/bias', 'bn/beta'],
    'scale: false leaves gamma out of the trained weights',
  );
  const [, , betaPlain] = plain.trainableWeights.map(values);
  const [kFast, bFast, betaFast] = fast.trainableWeights.map(values);
  const [kPlain, bPlain] = plain.trainableWeights.map(values);
  assert.deepEqual(kFast, kPlain);
  assert.deepEqual(bFast, bPlain);
  // One step from beta = 0: the step is 64 times as long.
  for (const [i, v] of betaFast!.entries())
    assert.ok(Math.abs(v - 64 * betaPlain![i]!) <= 1e-6 * Math.abs(v) + 1e-9, `beta ${i}`);
  assert.ok(betaPlain!.some((v) => v !== 0));
});

test('bad paramMultipliers are ArgumentErrors naming the rule', () => {
  const cases: [unknown, RegExp][] = [
    ['/beta$', /paramMultipliers must be an array/],
    [[null], /paramMultipliers\[0\] must be an object/],
    [[{ learningRate: 2 }], /paramMultipliers\[0\].match must be a regular expression/],
    [[{ match: '(' }], /paramMultipliers\[0\].match '\(' is not a regular expression/],
    [[{ match: 'a', learningRate: 0 }], /paramMultipliers\[0\]: learningRate must be/],
    [[{ match: 'a', learningRate: Number.POSITIVE_INFINITY }], /learningRate must be/],
    [[{ match: 'a', weightDecay: -1 }], /weightDecay must be/],
    [[{ match: 'a', lr: 2 }], /paramMultipliers\[0\].*'lr'/],
  ];
  for (const [rules, re] of cases)
    assert.throws(
      () => new SGD({ paramMultipliers: rules as never }),
      (e: Error) => e instanceof rc.ArgumentError && re.test(e.message),
      String(re),
    );
  assert.throws(
    () => new rc.Adam({ paramMultipliers: [{ match: 'a', weightDecay: 2 }] }),
    (e: Error) =>
      e instanceof rc.ArgumentError && /Adam has none \(SGD and AdamW do\)/.test(e.message),
  );
  // Adam takes learning-rate multipliers.
  assert.ok(new rc.Adam({ paramMultipliers: [{ match: 'a', learningRate: 2 }] }));
});
