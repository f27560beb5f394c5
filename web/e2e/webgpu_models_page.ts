// What the webgpu backend must do with whole models, in the page (web/e2e/webgpu_models.mjs
// drives it): zoo models predict what they predict on wasm (the same seeded weights, the same
// input) and take the same training step, and LeNet-5 trains with fit on webgpu (losses on the GPU, read every few batches) with
// its loss falling, then evaluates, saves its weights' values and predicts without a single
// synchronous read failing.
import * as rc from '../../src/browser.js';

type Case = { name: string; make: () => rc.Model; input: number[] };
const ZOO: Case[] = [
  { name: 'lenet5', make: () => rc.models.lenet5(), input: [4, 28, 28, 1] },
  { name: 'lenet5BN', make: () => rc.models.lenet5BN(), input: [4, 28, 28, 1] },
  {
    name: 'vgg13Cifar (batch norm)',
    make: () => rc.models.vgg13Cifar({ batchNorm: true }),
    input: [2, 32, 32, 3],
  },
  {
    name: 'resnet18 (64×64)',
    make: () => rc.models.resnet18({ inputShape: [64, 64, 3], numClasses: 10 }),
    input: [2, 64, 64, 3],
  },
  {
    name: 'googlenet (64×64)',
    make: () => rc.models.googlenet({ inputShape: [64, 64, 3], numClasses: 10 }),
    input: [1, 64, 64, 3],
  },
  {
    name: 'densenet121 (64×64)',
    make: () => rc.models.densenet121({ inputShape: [64, 64, 3], numClasses: 10 }),
    input: [1, 64, 64, 3],
  },
];

function values(n: number, seed: number): Float32Array {
  const rng = new rc.Random(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(0, 1));
}

/** The largest |got − want| over arrays (infinite where got has a NaN) and want's largest |value|. */
function compare(
  want: ArrayLike<number>[],
  got: ArrayLike<number>[],
): { maxDiff: number; scale: number } {
  let maxDiff = 0;
  let scale = 0;
  want.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(got[k]![i]! - a[i]!);
      maxDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxDiff, d);
      scale = Math.max(scale, Math.abs(a[i]!));
    }
  });
  return { maxDiff, scale };
}

async function predictOn(backend: string, c: Case): Promise<Float32Array> {
  await rc.setBackend(backend);
  rc.setSeed(7);
  const model = c.make();
  const x = rc.tensor(
    values(
      c.input.reduce((a, b) => a * b, 1),
      3,
    ),
    c.input,
  );
  // Probabilities are squashed; compare the logits behind them where the model has them.
  const y = model.predict(x);
  return (await (y.logits ?? y).data()) as Float32Array;
}

/** Images of 3 classes told by where a bright bar is, in faint noise. */
function bars(n: number, seed: number) {
  const rng = new rc.Random(seed);
  const x = new Float32Array(n * 28 * 28);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let p = 0; p < 784; p++) x[i * 784 + p] = rng.uniform(0, 0.3);
    const row = 4 + c * 8 + rng.int(3);
    for (let col = 4; col < 24; col++) x[i * 784 + row * 28 + col] = 1;
  }
  return { x: rc.tensor(x, [n, 28, 28, 1]), y: rc.tensor(y, [n], 'int32') };
}

(globalThis as { __result?: unknown }).__result = (async () => {
  if ((await rc.setBackend('webgpu')) !== 'webgpu') return { error: 'no WebGPU adapter' };
  const zoo: { name: string; maxDiff: number; scale: number; error?: string }[] = [];
  for (const c of ZOO) {
    try {
      const want = await predictOn('wasm', c);
      const got = await predictOn('webgpu', c);
      zoo.push({ name: c.name, ...compare([want], [got]) });
    } catch (e) {
      zoo.push({
        name: c.name,
        maxDiff: Number.POSITIVE_INFINITY,
        scale: 0,
        error: String((e as Error).stack ?? e).slice(0, 400),
      });
    }
    console.log(JSON.stringify(zoo.at(-1)));
  }
  // One training step of zoo models (batch norm in training mode, dropout, residuals, concat):
  // the updated weights on webgpu against wasm's, from the same start, batch and dropout masks.
  const steps: {
    name: string;
    maxDiff: number;
    scale: number;
    updateDiff: number;
    error?: string;
  }[] = [];
  // The first batch-norm model also steps with Lookahead at alpha 1 (k 1): the slow weights copy
  // weights the GPU computed, and its moving statistics are averaged too.
  const stepCases = ZOO.filter((z) => /BN|batch norm|resnet18|densenet/.test(z.name)).map((c) => ({
    c,
    name: c.name,
    lookahead: false,
  }));
  if (stepCases[0])
    stepCases.splice(1, 0, {
      ...stepCases[0],
      name: `${stepCases[0].name} with Lookahead (alpha 1)`,
      lookahead: true,
    });
  for (const { c, name, lookahead } of stepCases) {
    try {
      const updates: Float32Array[][] = [];
      const after: Float32Array[][] = [];
      for (const backend of ['wasm', 'webgpu']) {
        await rc.setBackend(backend);
        rc.setSeed(7);
        const model = c.make();
        const before = await Promise.all(
          model.weights.map(async (w) => (await w.data()) as Float32Array),
        );
        const classes = model.outputs[0]!.shape.at(-1) as number;
        const sgd = new rc.SGD({ learningRate: 0.05 });
        const optimizer = lookahead ? new rc.Lookahead({ optimizer: sgd, k: 1, alpha: 1 }) : sgd;
        if (optimizer instanceof rc.Lookahead)
          optimizer.alsoAverage(
            model.layers.flatMap((l) =>
              l instanceof rc.layers.BatchNormalization ? [l.movingMean, l.movingVariance] : [],
            ),
          );
        model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
        const n = c.input[0]!;
        const x = rc.tensor(
          values(
            c.input.reduce((a, b) => a * b, 1),
            5,
          ),
          c.input,
        );
        const y = rc.tensor(
          Int32Array.from({ length: n }, (_, i) => i % classes),
          [n],
          'int32',
        );
        await model.fit(x, y, { epochs: 1, batchSize: n, verbose: 0, seed: 3 });
        const w1 = await Promise.all(
          model.weights.map(async (w) => (await w.data()) as Float32Array),
        );
        after.push(w1);
        updates.push(w1.map((w, k) => w.map((v, i) => v - before[k]![i]!)));
      }
      let maxDiff = 0;
      let scale = 0;
      let dd = 0;
      let nn = 0;
      after[0]!.forEach((w, k) => {
        for (let i = 0; i < w.length; i++) {
          const d = Math.abs(after[1]![k]![i]! - w[i]!);
          maxDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxDiff, d);
          scale = Math.max(scale, Math.abs(w[i]!));
          const u = updates[0]![k]![i]!;
          dd += (updates[1]![k]![i]! - u) ** 2;
          nn += u * u;
        }
      });
      const updateDiff = Number.isFinite(dd) ? Math.sqrt(dd / nn) : Number.POSITIVE_INFINITY;
      steps.push({ name, maxDiff, scale, updateDiff });
    } catch (e) {
      steps.push({
        name,
        maxDiff: Number.POSITIVE_INFINITY,
        scale: 0,
        updateDiff: Number.POSITIVE_INFINITY,
        error: String((e as Error).stack ?? e).slice(0, 400),
      });
    }
    console.log(JSON.stringify(steps.at(-1)));
  }
  // A checkpoint of a run on webgpu: BackupAndRestore (into IndexedDB) reads the optimizer's
  // state, which the GPU computed, so asynchronously (getStateAsync). The same seeded run on wasm
  // gives the reference state; getState() on webgpu must refuse, pointing to getStateAsync.
  let checkpoint: Record<string, unknown>;
  try {
    const states: Float32Array[][] = [];
    let refusal = '';
    for (const backend of ['wasm', 'webgpu']) {
      await rc.setBackend(backend);
      rc.setSeed(5);
      const model = rc.models.lenet5BN({ numClasses: 3 });
      const optimizer = new rc.Lookahead({
        optimizer: new rc.SGD({ learningRate: 0.05, momentum: 0.9 }),
        k: 2,
      });
      model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
      const data = bars(48, 4);
      await model.fit(data.x, data.y, {
        epochs: 2,
        batchSize: 16,
        verbose: 0,
        seed: 2,
        callbacks: [
          new rc.callbacks.BackupAndRestore({ backupDir: `indexeddb://backup-${backend}` }),
        ],
      });
      // One more step: the backup made the state it saved readable, the new state is not yet.
      await model.fit(data.x, data.y, { epochs: 1, batchSize: 16, verbose: 0, seed: 3 });
      if (backend === 'webgpu')
        try {
          optimizer.getState();
          refusal = 'getState() read the GPU state synchronously';
        } catch (e) {
          refusal = String((e as Error).message);
        }
      states.push(await optimizer.getStateAsync());
    }
    const [want, got] = states as [Float32Array[], Float32Array[]];
    checkpoint = { arrays: [want.length, got.length], ...compare(want, got), refusal };
  } catch (e) {
    checkpoint = { error: String((e as Error).stack ?? e).slice(0, 600) };
  }
  console.log(JSON.stringify(checkpoint));
  // Explanations on webgpu (they read the GPU's results asynchronously): the same maps as wasm's.
  const explanations: { name: string; maxDiff: number; scale: number; error?: string }[] = [];
  {
    const maps: Record<string, Float32Array[]> = {};
    try {
      for (const backend of ['wasm', 'webgpu']) {
        await rc.setBackend(backend);
        rc.setSeed(9);
        const model = rc.models.lenet5({ numClasses: 3 });
        const x = bars(2, 6).x;
        const results = [
          (await rc.vision.gradCam(model, x)).heatmap,
          (await rc.vision.saliency(model, x)).map,
          (await rc.vision.integratedGradients(model, x, { steps: 4 })).attributions,
          (await rc.vision.occlusion(model, x, { patch: 7, stride: 7 })).map,
        ];
        maps[backend] = await Promise.all(
          results.map(async (t) => (await t.data()) as Float32Array),
        );
      }
      ['gradCam', 'saliency', 'integratedGradients', 'occlusion'].forEach((name, k) => {
        explanations.push({ name, ...compare([maps.wasm![k]!], [maps.webgpu![k]!]) });
      });
    } catch (e) {
      explanations.push({
        name: 'explanations',
        maxDiff: Number.POSITIVE_INFINITY,
        scale: 0,
        error: String((e as Error).stack ?? e).slice(0, 400),
      });
    }
    console.log(JSON.stringify(explanations));
  }
  let training: Record<string, unknown>;
  try {
    await rc.setBackend('webgpu');
    rc.setSeed(1);
    const train = bars(384, 1);
    const test = bars(96, 2);
    const model = rc.models.lenet5({ numClasses: 3 });
    model.compile({
      optimizer: new rc.Adam({ learningRate: 0.003 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const t0 = performance.now();
    const h = await model.fit(train.x, train.y, { epochs: 3, batchSize: 32, verbose: 0, seed: 1 });
    const seconds = (performance.now() - t0) / 1000;
    const ev = await model.evaluate(test.x, test.y);
    const probs = await model.predict(test.x).data();
    // Test-time augmentation on webgpu: the moved copies are made from the batch's values.
    const evTta = await model.evaluate(test.x, test.y, { tta: 'flipTranslate' });
    const ttaRows = (await model.predict(test.x, { tta: 'flip' }).data()).length / 3;
    training = {
      loss: h.history.loss,
      accuracy: h.history.accuracy,
      test: ev,
      testTta: evTta,
      ttaRows,
      seconds,
      predicted: probs.length,
    };
  } catch (e) {
    training = { error: String((e as Error).stack ?? e).slice(0, 600) };
  }
  console.log(JSON.stringify(training));
  return { adapter: rc.webgpuAdapter(), zoo, steps, checkpoint, explanations, training };
})();
