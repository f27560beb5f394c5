/**
 * Concurrency in one process: fit() yields to the event loop after every step, so two
 * trainings (or a training and predictions) interleave step by step. Nothing one does may leak
 * into the other: no shared random stream (seeded fits draw shuffles and dropout masks from
 * their own generators), no shared training flag, no shared scratch memory in a backend.
 *
 * - Two models trained concurrently (Promise.all of two fit() calls) end with exactly the
 *   weights each gets when trained alone.
 * - A second, frozen model's predict(), called over and over from a setImmediate loop while
 *   another model trains, equals its predictions when idle.
 * - The training model's own predict() between its steps equals the predictions of a copy
 *   holding the same weights at that moment (no dropout, batch statistics from the moving
 *   averages: inference mode, whatever the training around it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers } = rc;

/** A small CNN with the layers that hold state or draw randomness: BatchNormalization, Dropout. */
function smallCnn(): rc.Sequential {
  return new rc.Sequential([
    new layers.Conv2D({ filters: 4, kernelSize: 3, inputShape: [28, 28, 1] }),
    new layers.BatchNormalization(),
    new layers.ReLU(),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.Flatten(),
    new layers.Dropout({ rate: 0.3 }),
    new layers.Dense({ units: 10, activation: 'softmax' }),
  ]);
}

const makers: Record<string, () => rc.Sequential> = {
  lenet5: () => rc.models.lenet5(),
  smallCnn,
};

/** A model of the given kind with weights drawn from `seed`, compiled with a fresh Adam. */
function fresh(kind: string, seed: number): rc.Sequential {
  rc.setSeed(seed);
  const m = makers[kind]!();
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function data(n: number, seed: number): [rc.Tensor, rc.Tensor] {
  const rng = new rc.Random(seed);
  const x = Float32Array.from({ length: n * 28 * 28 }, () => rng.uniform());
  const y = Int32Array.from({ length: n }, () => rng.int(10));
  return [rc.tensor(x, [n, 28, 28, 1]), rc.tensor(y, [n], 'int32')];
}

const sameBits = (a: Float32Array[], b: Float32Array[]) =>
  a.length === b.length &&
  a.every((w, i) => w.length === b[i]!.length && w.every((v, k) => Object.is(v, b[i]![k])));

/** Records the order in which the models' steps begin. */
class StepLog extends rc.Callback {
  constructor(
    private readonly tag: string,
    private readonly log: string[],
  ) {
    super();
  }
  override onBatchBegin(): void {
    this.log.push(this.tag);
  }
}

const jobs = [
  { kind: 'lenet5', init: 1, fitSeed: 11, data: data(96, 101) },
  { kind: 'smallCnn', init: 2, fitSeed: 22, data: data(96, 102) },
];
const fitOptions = (seed: number, callbacks: rc.Callback[] = []) => ({
  epochs: 2,
  batchSize: 32,
  seed,
  verbose: 0 as const,
  callbacks,
});

test('two models trained concurrently end with the same weights as each trained alone', async () => {
  const alone: Float32Array[][] = [];
  for (const j of jobs) {
    const m = fresh(j.kind, j.init);
    await m.fit(j.data[0], j.data[1], {
      ...fitOptions(j.fitSeed),
      validationData: [j.data[0], j.data[1]],
    });
    alone.push(m.getWeights());
  }

  const order: string[] = [];
  const models = jobs.map((j) => fresh(j.kind, j.init));
  await Promise.all(
    models.map((m, i) =>
      m.fit(jobs[i]!.data[0], jobs[i]!.data[1], {
        ...fitOptions(jobs[i]!.fitSeed, [new StepLog(String(i), order)]),
        validationData: [jobs[i]!.data[0], jobs[i]!.data[1]],
      }),
    ),
  );
  // The steps really interleaved (otherwise this test would test nothing).
  const switches = order.slice(1).filter((tag, k) => tag !== order[k]).length;
  assert.ok(switches >= 4, `the two fits interleaved: ${order.join('')}`);
  models.forEach((m, i) => {
    assert.ok(
      sameBits(m.getWeights(), alone[i]!),
      `${jobs[i]!.kind}: the weights after concurrent training differ from training alone`,
    );
  });
});

test("a frozen model's predictions while another model trains equal its predictions when idle", async () => {
  const frozen = fresh('smallCnn', 3);
  // Give the batch normalization non-trivial moving statistics first.
  const [xf, yf] = data(64, 103);
  await frozen.fit(xf, yf, fitOptions(33));
  const [x] = data(16, 104);
  const idle = frozen.predict(x).dataSync();

  const trainer = fresh(jobs[1]!.kind, jobs[1]!.init);
  let done = false;
  let checks = 0;
  let mismatch = '';
  const poll = () => {
    if (done) return;
    const p = frozen.predict(x).dataSync();
    checks++;
    if (!mismatch && !p.every((v, k) => Object.is(v, idle[k]))) mismatch = `check ${checks}`;
    setImmediate(poll);
  };
  setImmediate(poll);
  await trainer.fit(jobs[1]!.data[0], jobs[1]!.data[1], fitOptions(jobs[1]!.fitSeed));
  done = true;
  assert.equal(
    mismatch,
    '',
    `the frozen model's predictions changed during training at ${mismatch}`,
  );
  assert.ok(checks >= 4, `predict ran ${checks} times during training`);
});

test("the training model's own predict() between steps equals a copy with the same weights", async () => {
  const model = fresh('smallCnn', 4);
  const copy = fresh('smallCnn', 5);
  const [x] = data(8, 105);
  let done = false;
  let checks = 0;
  let mismatch = '';
  const poll = () => {
    if (done) return;
    const p = model.predict(x).dataSync();
    copy.setWeights(model.getWeights());
    const q = copy.predict(x).dataSync();
    checks++;
    if (!mismatch && !p.every((v, k) => Object.is(v, q[k]))) mismatch = `check ${checks}`;
    setImmediate(poll);
  };
  setImmediate(poll);
  await model.fit(jobs[1]!.data[0], jobs[1]!.data[1], fitOptions(44));
  done = true;
  assert.equal(mismatch, '', `predict() during training differs from the copy at ${mismatch}`);
  assert.ok(checks >= 4, `predict ran ${checks} times during training`);
});
