/**
 * fit, evaluate and predict on a backend whose reads are asynchronous (webgpu's contract,
 * `Backend.deferReads`), checked in Node with the js kernels behind a backend that refuses
 * every synchronous read of a computed value, as webgpu does: training and evaluation must never
 * make one (losses and metrics stay on the device and are read every few batches), and give the
 * same history as the plain js backend. A NaN loss is still named by its batch; what cannot work
 * without a synchronous read says so.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Storage } from '../../src/backend/backend.js';
import { JsBackend } from '../../src/backend/js/js_backend.js';
import * as rc from '../../src/index.js';
import { tempDirs } from '../helpers.js';

const tmp = tempDirs('receptive-deferred-');

/** The js kernels, with reads as webgpu allows them: values from the CPU only, or awaited. */
class AsyncReadsJs extends JsBackend {
  override readonly name = 'js-async-reads';
  readonly deferReads = true;
  private readonly fromCpu = new WeakSet<Storage>();
  syncReads = 0;
  override write(values: ArrayLike<number>, dtype: rc.DType): Storage {
    const s = super.write(values, dtype);
    this.fromCpu.add(s);
    return s;
  }
  override read(s: Storage): Float32Array | Int32Array {
    if (!this.fromCpu.has(s)) {
      this.syncReads++;
      throw new rc.BackendError('js-async-reads: a synchronous read of a computed value');
    }
    return super.read(s);
  }
  override firstNonFinite(s: Storage): number {
    if (!this.fromCpu.has(s)) throw new rc.BackendError('js-async-reads: firstNonFinite');
    return super.firstNonFinite(s);
  }
  async readAsync(s: Storage): Promise<Float32Array | Int32Array> {
    return super.read(s);
  }
  async makeReadable(s: Storage): Promise<void> {
    this.fromCpu.add(s);
  }
}

const be = new AsyncReadsJs();
rc.registerBackend('js-async-reads', () => be);
const before = rc.getBackend();
after(() => rc.setBackend(before));

function data(n: number, seed: number) {
  const rng = new rc.Random(seed);
  const x = new Float32Array(n * 8 * 8);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let p = 0; p < 64; p++) x[i * 64 + p] = rng.uniform(0, 0.3) + (p % 3 === y[i] ? 0.5 : 0);
  }
  return { x: rc.tensor(x, [n, 8, 8, 1]), y: rc.tensor(y, [n], 'int32') };
}

function model(): rc.Sequential {
  rc.setSeed(3);
  const m = new rc.Sequential([
    new rc.layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
    new rc.layers.MaxPooling2D({ poolSize: 2 }),
    new rc.layers.Flatten(),
    new rc.layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({
    optimizer: new rc.Adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy', 'top5Accuracy'],
  });
  return m;
}

async function run(name: string) {
  await rc.setBackend(name);
  const train = data(150, 1);
  const val = data(40, 2);
  const m = model();
  const batches: number[] = [];
  const h = await m.fit(train.x, train.y, {
    epochs: 2,
    batchSize: 8,
    verbose: 0,
    seed: 1,
    validationData: [val.x, val.y],
    callbacks: { onBatchEnd: (b: number) => void batches.push(b) },
  });
  const ev = await m.evaluate(val.x, val.y, { batchSize: 16 });
  const p = await m.predict(val.x).data();
  return { history: h.history, ev, p, batches };
}

test('fit, evaluate and predict make no synchronous read and match the js backend', async () => {
  const ref = await run('js');
  const got = await run('js-async-reads');
  assert.equal(be.syncReads, 0);
  assert.deepEqual(Object.keys(got.history).sort(), Object.keys(ref.history).sort());
  for (const [k, v] of Object.entries(ref.history))
    v.forEach((e, i) => {
      assert.ok(
        Math.abs(got.history[k]![i]! - e) <= 1e-6 * (1 + Math.abs(e)),
        `${k}[${i}]: ${got.history[k]![i]} vs ${e}`,
      );
    });
  for (const [k, v] of Object.entries(ref.ev)) assert.ok(Math.abs(got.ev[k]! - v) <= 1e-6);
  assert.deepEqual(Array.from(got.p), Array.from(ref.p));
  // Every batch still ends with onBatchEnd, in order (19 a epoch of 150 at 8).
  assert.deepEqual(got.batches, ref.batches);
  assert.ok(ref.history.loss![1]! < ref.history.loss![0]!, 'the loss falls');
});

test('a NaN loss is named by its batch, and says the update ran before the read', async () => {
  await rc.setBackend('js-async-reads');
  const { x, y } = data(64, 4);
  const v = x.dataSync().slice();
  const m = model();
  // Weights blown up by hand (finite, but their products overflow): the first loss is NaN.
  m.setWeights(m.getWeights().map((w) => w.map((_, i) => (i % 2 ? 3e38 : -3e38))));
  await assert.rejects(
    m.fit(rc.tensor(v, x.shape), y, { batchSize: 8, verbose: 0 }),
    (e: Error) =>
      e instanceof rc.NonFiniteError &&
      /epoch 1, batch 1: the loss is NaN/.test(e.message) &&
      /updated by this batch and those after it before its loss was read/.test(e.message),
  );
});

test('what needs a synchronous read says so', async () => {
  await rc.setBackend('js-async-reads');
  const { x, y } = data(16, 5);
  const m = model();
  assert.throws(() => m.trainOnBatch(x, y), /cannot read without stalling the GPU; use model.fit/);
  const custom = model();
  custom.compile({
    optimizer: 'sgd',
    loss: 'sparseCategoricalCrossentropy',
    metrics: [Object.assign((_t: rc.Tensor, _p: rc.Tensor) => ({ total: 0, count: 1 }), {})],
  });
  await assert.rejects(
    custom.fit(x, y, { verbose: 0 }),
    /reads its values synchronously, which the js-async-reads backend cannot do/,
  );
});

test('after training there: save, load, ONNX export and EarlyStopping read the weights', async () => {
  await rc.setBackend('js-async-reads');
  const train = data(48, 6);
  const m = model();
  const stop = new rc.callbacks.EarlyStopping({
    monitor: 'loss',
    patience: 5,
    restoreBestWeights: true,
  });
  await m.fit(train.x, train.y, { epochs: 2, batchSize: 8, verbose: 0, callbacks: [stop] });
  const dir = tmp();
  await m.save(dir);
  await m.exportOnnx(`${dir}/model.onnx`);
  const back = await rc.loadModel(dir);
  const a = await m.predict(train.x).data();
  const b = await back.predict(train.x).data();
  assert.deepEqual(Array.from(b), Array.from(a));
  assert.equal(be.syncReads, 0);
});

test('BackupAndRestore there: stopped, resumed, ends as the uninterrupted run; getState says to await', async () => {
  await rc.setBackend('js-async-reads');
  const train = data(48, 7);
  const reads = be.syncReads;
  const fit = (m: rc.Sequential, callbacks: rc.Callback[]) =>
    m.fit(train.x, train.y, { epochs: 3, batchSize: 8, verbose: 0, seed: 4, callbacks });
  const whole = model();
  await fit(whole, []);
  // Without a backup nothing made the state readable: the synchronous read refuses, and says what to use.
  assert.throws(
    () => whole.optimizer!.getState(),
    (e: unknown) =>
      e instanceof rc.BackendError && /Adam.getState: .*getStateAsync/.test(e.message),
  );
  const want = await whole.predict(train.x).data();
  const dir = tmp();
  class StopAfterFirst extends rc.Callback {
    override onEpochEnd(): void {
      this.model.stopTraining = true;
    }
  }
  const stopAfterFirst = new StopAfterFirst();
  const first = model();
  await fit(first, [new rc.callbacks.BackupAndRestore({ backupDir: dir }), stopAfterFirst]);
  const resumed = model();
  await fit(resumed, [new rc.callbacks.BackupAndRestore({ backupDir: dir })]);
  assert.deepEqual(Array.from(await resumed.predict(train.x).data()), Array.from(want));
  assert.equal(be.syncReads - reads, 1, 'the one refused getState above, no other');
});

test("explanations there (Grad-CAM, saliency, SmoothGrad, integrated gradients, occlusion, maximized activations, the training report) give the js backend's", async () => {
  const explain = async (name: string) => {
    await rc.setBackend(name);
    const m = model();
    const { x } = data(2, 8);
    const reads = be.syncReads;
    const cam = await rc.vision.gradCam(m, x);
    const sal = await rc.vision.saliency(m, x, { classIndex: 1 });
    const smooth = await rc.vision.saliency(m, x, { smoothGrad: { samples: 2, seed: 1 } });
    const ig = await rc.vision.integratedGradients(m, x, {
      steps: 3,
      baseline: rc.zeros([8, 8, 1]),
    });
    const occ = await rc.vision.occlusion(m, x, { patch: 4, stride: 4 });
    const max = await rc.vision.maximizeActivation(m, { classIndex: [0, 2], steps: 2, seed: 1 });
    const labels = rc.tensor([0, 2], [2], 'int32');
    // The same report but for the names of the model and its layers (numbered as they are made).
    const report = (await rc.vision.trainingReport(m, x, labels, { loss: [1, 0.5] }))
      .replace(/\b([a-z][a-z0-9_]*?)_\d+\b/g, '$1')
      .replace(/ +/g, ' ');
    return {
      reads: name === 'js-async-reads' ? be.syncReads - reads : 0,
      values: await Promise.all(
        [
          cam.heatmap,
          cam.layerHeatmap,
          sal.map,
          smooth.map,
          ig.attributions,
          occ.map,
          max.images,
        ].map(async (t) => Array.from(await t.data())),
      ),
      classes: [cam.classIndex, sal.classIndex, smooth.classIndex, ig.classIndex, occ.classIndex],
      scores: ig.scoreDifference,
      report,
    };
  };
  const want = await explain('js');
  const got = await explain('js-async-reads');
  assert.equal(got.reads, 0, 'no synchronous read of a computed value');
  assert.deepEqual(got.classes, want.classes);
  assert.deepEqual(got.scores, want.scores);
  assert.equal(got.report, want.report, 'the training report');
  for (const [i, v] of got.values.entries()) assert.deepEqual(v, want.values[i], `result ${i}`);
  assert.ok(
    want.values.every((v) => v.some((e) => e !== 0)),
    'every result has signal',
  );
});

test("fit and evaluate there take inputs computed there (normalized with ops): the js backend's history", async () => {
  const run = async (name: string) => {
    await rc.setBackend(name);
    const train = data(40, 9);
    const val = data(16, 10);
    // Computed on the backend, as images normalized with ops would be: not from the CPU.
    const x = rc.mul(train.x, 2);
    const vx = rc.mul(val.x, 2);
    const m = model();
    const h = await m.fit(x, train.y, {
      epochs: 2,
      batchSize: 8,
      verbose: 0,
      seed: 2,
      validationData: [vx, val.y],
    });
    const split = await model().fit(x, train.y, { epochs: 1, verbose: 0, validationSplit: 0.25 });
    return { history: h.history, split: split.history, ev: await m.evaluate(vx, val.y) };
  };
  const want = await run('js');
  const got = await run('js-async-reads');
  assert.deepEqual(got, want);
});
