/** Callbacks in fit(): EarlyStopping, LearningRateScheduler, TerminateOnNaN, ModelCheckpoint, custom hooks; BN in fit. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers } = rc;

const tmp = mkdtempSync(join(tmpdir(), 'receptive-callbacks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sameBits = (a: Float32Array[], b: Float32Array[]) =>
  a.length === b.length && a.every((w, i) => w.every((v, k) => Object.is(v, b[i]![k])));

/** A learnable toy task: the class is the index of the largest of 4 features. */
function argmaxTask(n: number, seed: number): [rc.Tensor, rc.Tensor] {
  const rng = new rc.Random(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = rng.normal();
    let best = 0;
    for (let j = 1; j < 4; j++) if (x[i * 4 + j]! > x[i * 4 + best]!) best = j;
    y[i] = best;
  }
  return [rc.tensor(x, [n, 4]), rc.tensor(y, [n], 'int32')];
}

function mlp(): rc.Sequential {
  return new rc.Sequential([
    new layers.Dense({ units: 16, activation: 'relu', inputShape: [4] }),
    new layers.Dense({ units: 4, activation: 'softmax' }),
  ]);
}

/** A metric that reports scripted values, one per call (one batch per epoch in these tests). */
function scripted(values: number[]): rc.metrics.MetricFn {
  let i = 0;
  const fn = () => ({ total: values[Math.min(i++, values.length - 1)]!, count: 1 });
  Object.defineProperty(fn, 'name', { value: 'scripted' });
  return fn as unknown as rc.metrics.MetricFn;
}

/** Keeps a copy of the weights at the end of every epoch. */
class Snapshots extends rc.Callback {
  weights: Float32Array[][] = [];
  override onEpochEnd(): void {
    this.weights.push(this.model.getWeights());
  }
}

const [x, y] = argmaxTask(64, 1);
const [xVal, yVal] = argmaxTask(64, 2);

test('EarlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
  rc.setSeed(1);
  const model = mlp();
  //            epoch: 0  1  2    3    4  5
  const values = [5, 4, 4.5, 4.2, 3, 2];
  model.compile({
    optimizer: 'sgd',
    loss: 'sparseCategoricalCrossentropy',
    metrics: [scripted(values)],
  });
  const es = new rc.EarlyStopping({ monitor: 'scripted', patience: 2, restoreBestWeights: true });
  const snaps = new Snapshots();
  const history = await model.fit(x, y, {
    epochs: 6,
    batchSize: 64,
    verbose: 0,
    callbacks: [snaps, es],
  });
  assert.deepEqual(history.epoch, [0, 1, 2, 3], 'epochs 2 and 3 did not improve on 4: stop');
  assert.deepEqual(history.history.scripted, [5, 4, 4.5, 4.2]);
  assert.equal(es.stoppedEpoch, 3);
  assert.equal(es.bestEpoch, 1);
  assert.ok(!sameBits(snaps.weights[3]!, snaps.weights[1]!), 'the weights moved after epoch 1');
  assert.ok(sameBits(model.getWeights(), snaps.weights[1]!), 'the best epoch is back');
});

test('EarlyStopping: patience 0 stops at the first epoch without improvement; minDelta; mode auto', async () => {
  const run = async (options: rc.EarlyStoppingOptions, values: number[]) => {
    const model = mlp();
    model.compile({
      optimizer: 'sgd',
      loss: 'sparseCategoricalCrossentropy',
      metrics: [scripted(values)],
    });
    const es = new rc.EarlyStopping({ monitor: 'scripted', ...options });
    const history = await model.fit(x, y, {
      epochs: 6,
      batchSize: 64,
      verbose: 0,
      callbacks: [es],
    });
    return history.epoch.length;
  };
  assert.equal(await run({ patience: 0 }, [3, 2, 2.5, 1, 1, 1]), 3);
  // Improvements smaller than minDelta do not count.
  assert.equal(await run({ patience: 2, minDelta: 0.5 }, [3, 2.9, 2.8, 1, 0, 0]), 3);
  assert.equal(await run({ patience: 2 }, [3, 2.9, 2.8, 2.7, 2.6, 2.5]), 6);
  assert.equal(await run({ patience: 1, mode: 'max' }, [1, 2, 1, 3, 3, 3]), 3);
  // Without restoreBestWeights nothing is restored; without the monitored value, a clear error.
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  await assert.rejects(
    model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [new rc.EarlyStopping()] }),
    (e: Error) =>
      e instanceof rc.ArgumentError && /'val_loss' is not in the logs \(loss\)/.test(e.message),
  );
});

test('EarlyStopping on a val_loss that rises (weights corrupted from epoch 2) restores the best epoch', async () => {
  rc.setSeed(2);
  const model = mlp();
  model.compile({
    optimizer: new rc.Adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const corrupt = new (class extends rc.Callback {
    override onEpochBegin(epoch: number): void {
      if (epoch >= 2)
        this.model.setWeights(this.model.getWeights().map((w) => w.map((v) => -20 * v)));
    }
  })();
  const es = new rc.EarlyStopping({ patience: 2, restoreBestWeights: true });
  const history = await model.fit(x, y, {
    epochs: 10,
    batchSize: 16,
    validationData: [xVal, yVal],
    verbose: 0,
    callbacks: [corrupt, es],
  });
  const val = history.history.val_loss!;
  assert.equal(val.length, 4, `stopped after epoch 3: ${val}`);
  assert.ok(val[2]! > val[1]! && val[3]! > val[1]!, `val_loss rose: ${val}`);
  const best = Math.min(...val);
  assert.equal(es.bestEpoch, val.indexOf(best));
  const now = await model.evaluate(xVal, yVal, { batchSize: 16 });
  assert.equal(now.loss, best, 'evaluate gives the best epoch val_loss again');
});

test('LearningRateScheduler sets the learning rate each epoch (and lr 0 freezes the weights)', async () => {
  rc.setSeed(3);
  const model = mlp();
  model.compile({
    optimizer: new rc.SGD({ learningRate: 0.5 }),
    loss: 'sparseCategoricalCrossentropy',
  });
  const seen: [number, number][] = [];
  const rates = [0.1, 0, 0.05];
  const scheduler = new rc.LearningRateScheduler((epoch, lr) => {
    seen.push([epoch, lr]);
    return rates[epoch]!;
  });
  const used: number[][] = [[], [], []];
  const spy = new (class extends rc.Callback {
    epoch = 0;
    override onEpochBegin(epoch: number): void {
      this.epoch = epoch;
    }
    override onBatchEnd(): void {
      used[this.epoch]!.push(this.model.optimizer!.currentLearningRate());
    }
  })();
  const snaps = new Snapshots();
  await model.fit(x, y, {
    epochs: 3,
    batchSize: 16,
    verbose: 0,
    callbacks: [scheduler, spy, snaps],
  });
  assert.deepEqual(seen, [
    [0, 0.5],
    [1, 0.1],
    [2, 0],
  ]);
  assert.deepEqual(used, [
    [0.1, 0.1, 0.1, 0.1],
    [0, 0, 0, 0],
    [0.05, 0.05, 0.05, 0.05],
  ]);
  assert.ok(sameBits(snaps.weights[0]!, snaps.weights[1]!), 'lr 0: epoch 1 changed nothing');
  assert.ok(!sameBits(snaps.weights[1]!, snaps.weights[2]!));
  const bad = new rc.LearningRateScheduler(() => Number.NaN);
  await assert.rejects(
    model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [bad] }),
    /returned NaN at epoch 0/,
  );
});

test('TerminateOnNaN stops at the step whose loss is NaN; the NaN batch does not touch the weights', async (t) => {
  rc.setSeed(4);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const nanX = rc.full([8, 4], Number.NaN);
  // Five batches an epoch; the third batch of the second epoch is NaN: global step 5 + 3 = 8.
  const source: rc.BatchSource = {
    steps: 5,
    *batches(epoch: number) {
      for (let b = 0; b < 5; b++) {
        const xb = rc.slice(x, [b * 8, 0], [8, 4]);
        yield { x: epoch === 1 && b === 2 ? nanX : xb, y: rc.slice(y, [b * 8], [8]) };
      }
    },
  };
  const stop = new rc.TerminateOnNaN();
  const batches: string[] = [];
  let beforeNaN: Float32Array[] = [];
  const spy = new (class extends rc.Callback {
    epoch = 0;
    override onEpochBegin(epoch: number): void {
      this.epoch = epoch;
    }
    override onBatchEnd(batch: number): void {
      batches.push(`${this.epoch}:${batch}`);
      if (this.epoch === 1 && batch === 1) beforeNaN = this.model.getWeights();
    }
  })();
  const errors = t.mock.method(console, 'error', () => {});
  // TerminateOnNaN is for runs that turned fit's own check off (it would stop first, with an error).
  const history = await model.fit(source, {
    epochs: 4,
    verbose: 0,
    callbacks: [spy, stop],
    checkFinite: false,
  });
  assert.equal(stop.step, 8);
  assert.deepEqual(
    batches,
    ['0:0', '0:1', '0:2', '0:3', '0:4', '1:0', '1:1', '1:2'],
    'no batch after the NaN one',
  );
  // The epoch cut short is not an epoch: no onEpochEnd, so History has only the first.
  assert.deepEqual(history.epoch, [0]);
  assert.ok(Number.isFinite(history.history.loss![0]));
  assert.match(stop.message, /epoch 2, batch 3 \(step 8\): the loss is NaN/);
  assert.equal(errors.mock.callCount(), 1);
  assert.equal(errors.mock.calls[0]!.arguments[0], stop.message);
  assert.ok(sameBits(model.getWeights(), beforeNaN), 'the weights are those before the NaN batch');
  assert.ok(model.getWeights().every((w) => w.every(Number.isFinite)));
  // trainOnBatch refuses a NaN loss outright.
  assert.throws(
    () => model.trainOnBatch(nanX, rc.slice(y, [0], [8])),
    (e: Error) => e instanceof rc.NonFiniteError && /not updated/.test(e.message),
  );
  assert.ok(sameBits(model.getWeights(), beforeNaN));
});

test('ModelCheckpoint saves a loadable model every epoch ({epoch} in the path)', async () => {
  rc.setSeed(5);
  const model = mlp();
  model.compile({
    optimizer: new rc.Adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
  });
  const snaps = new Snapshots();
  const dir = join(tmp, 'every');
  const ckpt = new rc.ModelCheckpoint({ filepath: join(dir, 'epoch-{epoch}') });
  await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, callbacks: [snaps, ckpt] });
  assert.deepEqual(readdirSync(dir).sort(), ['epoch-1', 'epoch-2', 'epoch-3']);
  for (let e = 0; e < 3; e++) {
    const loaded = await rc.loadModel(join(dir, `epoch-${e + 1}`));
    assert.ok(sameBits(loaded.getWeights(), snaps.weights[e]!), `epoch ${e + 1}`);
    assert.deepEqual(
      Array.from(loaded.predict(xVal).dataSync()),
      Array.from(
        (() => {
          const m = mlp();
          m.setWeights(snaps.weights[e]!);
          return m.predict(xVal).dataSync();
        })(),
      ),
    );
  }
});

test('ModelCheckpoint with saveBestOnly saves only when the monitored value improves', async () => {
  rc.setSeed(6);
  const model = mlp();
  //            epoch: 1  2  3  4  5   (1-based, as in the file names)
  const values = [3, 4, 2, 2, 5];
  model.compile({
    optimizer: new rc.Adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: [scripted(values)],
  });
  const snaps = new Snapshots();
  const perEpoch = join(tmp, 'best-each');
  const single = join(tmp, 'best');
  const callbacks = [
    snaps,
    new rc.ModelCheckpoint({
      filepath: join(perEpoch, 'e{epoch}'),
      monitor: 'scripted',
      saveBestOnly: true,
    }),
    new rc.ModelCheckpoint({ filepath: single, monitor: 'scripted', saveBestOnly: true }),
  ];
  await model.fit(x, y, { epochs: 5, batchSize: 64, verbose: 0, callbacks });
  assert.deepEqual(readdirSync(perEpoch).sort(), ['e1', 'e3']);
  const best = await rc.loadModel(single);
  assert.ok(sameBits(best.getWeights(), snaps.weights[2]!), 'the file holds epoch 3');
  assert.equal(readdirSync(single).filter((f) => f.startsWith('weights-')).length, 1);
  assert.ok(!existsSync(join(perEpoch, 'e5')));
  assert.throws(
    () => new rc.ModelCheckpoint({} as rc.ModelCheckpointOptions),
    /filepath \(a directory\) is required/,
  );
});

test('a custom Callback sees every hook in order, with params and logs; stopTraining ends fit', async () => {
  rc.setSeed(7);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const events: string[] = [];
  let params: rc.TrainingParams | undefined;
  let epochLogs: rc.Logs[] = [];
  const recorder = new (class extends rc.Callback {
    override onTrainBegin(): void {
      params = this.params;
      events.push('trainBegin');
    }
    override async onEpochBegin(epoch: number): Promise<void> {
      await new Promise((r) => setTimeout(r, 1)); // async hooks are awaited
      events.push(`epochBegin ${epoch}`);
    }
    override onBatchBegin(batch: number): void {
      events.push(`batchBegin ${batch}`);
    }
    override onBatchEnd(batch: number, logs: rc.Logs): void {
      assert.ok(Number.isFinite(logs.loss) && Number.isFinite(logs.batchLoss));
      events.push(`batchEnd ${batch}`);
    }
    override onEpochEnd(epoch: number, logs: rc.Logs): void {
      epochLogs.push(logs);
      events.push(`epochEnd ${epoch}`);
    }
    override onTrainEnd(): void {
      events.push('trainEnd');
    }
  })();
  await model.fit(x, y, {
    epochs: 2,
    batchSize: 32,
    validationData: [xVal, yVal],
    verbose: 0,
    callbacks: [recorder],
  });
  assert.deepEqual(events, [
    'trainBegin',
    'epochBegin 0',
    'batchBegin 0',
    'batchEnd 0',
    'batchBegin 1',
    'batchEnd 1',
    'epochEnd 0',
    'epochBegin 1',
    'batchBegin 0',
    'batchEnd 0',
    'batchBegin 1',
    'batchEnd 1',
    'epochEnd 1',
    'trainEnd',
  ]);
  assert.deepEqual(params, { epochs: 2, steps: 2, samples: 64, verbose: 0, initialEpoch: 0 });
  assert.deepEqual(Object.keys(epochLogs[0]!).sort(), [
    'accuracy',
    'loss',
    'val_accuracy',
    'val_loss',
  ]);

  // Setting model.stopTraining in a batch ends fit after that batch; onTrainEnd still runs.
  events.length = 0;
  epochLogs = [];
  const stopper = new (class extends rc.Callback {
    override onBatchEnd(batch: number): void {
      events.push(`batchEnd ${batch}`);
      if (batch === 2) this.model.stopTraining = true;
    }
    override onTrainEnd(): void {
      events.push('trainEnd');
    }
  })();
  const history = await model.fit(x, y, {
    epochs: 3,
    batchSize: 8,
    verbose: 0,
    callbacks: [stopper],
  });
  assert.deepEqual(events, ['batchEnd 0', 'batchEnd 1', 'batchEnd 2', 'trainEnd']);
  assert.deepEqual(history.epoch, [], 'the cut epoch gets no onEpochEnd');
  // An error in a callback ends fit, and onTrainEnd still runs.
  events.length = 0;
  const thrower = new (class extends rc.Callback {
    override onEpochEnd(): void {
      throw new Error('boom');
    }
    override onTrainEnd(): void {
      events.push('trainEnd');
    }
  })();
  await assert.rejects(model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [thrower] }), /boom/);
  assert.deepEqual(events, ['trainEnd']);
});

test('BatchNormalization in a model: fit moves the moving statistics; evaluate and predict do not', async () => {
  rc.setSeed(8);
  const model = new rc.Sequential([
    new layers.Dense({ units: 6, inputShape: [4] }),
    new layers.BatchNormalization({ momentum: 0.9 }),
    new layers.Activation({ activation: 'relu' }),
    new layers.Dense({ units: 4, activation: 'softmax' }),
  ]);
  const bn = model.layers[1] as rc.layers.BatchNormalization;
  assert.equal(model.trainableWeights.length, 6, 'the moving statistics are not trainable');
  assert.equal(model.nonTrainableWeights.length, 2);
  model.compile({
    optimizer: 'adam',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const stats = () => [bn.movingMean.dataSync(), bn.movingVariance.dataSync()] as Float32Array[];
  const initial = stats();
  assert.deepEqual(Array.from(initial[0]!), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(initial[1]!), [1, 1, 1, 1, 1, 1]);
  await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
  const trained = stats();
  assert.ok(!sameBits(trained, initial), 'fit updated the moving statistics');
  await model.evaluate(xVal, yVal);
  model.predict(xVal);
  model.testOnBatch(xVal, yVal);
  assert.ok(sameBits(stats(), trained), 'evaluate, predict and testOnBatch left them alone');
  // Inference uses the moving statistics: an example's prediction does not depend on its batch.
  const one = model.predict(rc.slice(xVal, [0, 0], [1, 4])).dataSync();
  const all = model.predict(xVal).dataSync().slice(0, 4);
  assert.deepEqual(Array.from(one), Array.from(all));
  model.trainOnBatch(xVal, yVal);
  assert.ok(!sameBits(stats(), trained), 'trainOnBatch updates them');
});

test("plain-object callbacks (TensorFlow.js's shape): hooks get the epoch and logs, `this` is the object", async () => {
  rc.setSeed(21);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const seen: string[] = [];
  const hooks = {
    name: 'mine',
    onTrainBegin() {
      seen.push(`begin ${this.name}`);
    },
    async onEpochEnd(epoch: number, logs?: rc.Logs) {
      await new Promise((r) => setTimeout(r, 1)); // awaited before the next epoch
      seen.push(`epoch ${epoch} ${typeof logs?.loss} ${typeof logs?.accuracy}`);
    },
  };
  const h = await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, callbacks: [hooks] });
  assert.deepEqual(seen, ['begin mine', 'epoch 0 number number', 'epoch 1 number number']);
  assert.equal(h.epoch.length, 2);
  // One callback without a list, and a Callback instance beside an object.
  let batches = 0;
  await model.fit(x, y, {
    epochs: 1,
    batchSize: 8,
    verbose: 0,
    callbacks: {
      onBatchEnd: () => {
        batches++;
      },
    },
  });
  assert.equal(batches, 8); // 64 examples in batches of 8
  const stop = new rc.EarlyStopping({ monitor: 'loss', patience: 0 });
  await model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [stop, { onEpochEnd() {} }] });
});

test('a callback that is neither a Callback nor an object with hooks is an error that says what it got', async () => {
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const fit = (callbacks: unknown) =>
    model.fit(x, y, { verbose: 0, callbacks: callbacks as rc.Callback[] });
  await assert.rejects(
    fit([42]),
    /callbacks\[0\] is number; a callback is a Callback .* or an object with hooks/,
  );
  await assert.rejects(fit([{ onEpochEnd: 'later' }]), /callbacks\[0\] is an object without hooks/);
  await assert.rejects(
    fit([{ onEpochEnd() {}, onBatchEnd: 3 }]),
    /callbacks\[0\]\.onBatchEnd must be a function, got number/,
  );
  await assert.rejects(fit([null]), /callbacks\[0\] is null/);
});
