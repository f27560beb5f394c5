/**
 * rc.recipes.cifarSpeedrun, airbench94's recipe: the whitening filters whiten the patches they
 * were computed from, the dirac initialization is the identity, the network has airbench94's
 * parameters (counted by bench/speedrun_torch.py, the PyTorch twin), a short training on a
 * small separable set learns it, and wrong options or data are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { diracInit } from '../../src/recipes/cifar_speedrun.js';
import { patchCovariance, whiteningKernel } from '../../src/recipes/patch_whitening.js';
import { ArgumentError, ReceptiveError, ShapeError } from '../../src/util/errors.js';
import { Random } from '../../src/util/random.js';

/** n images 32×32×3 with correlated pixels (a smooth random field per channel plus noise). */
function correlatedImages(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const x = new Float32Array(n * 32 * 32 * 3);
  for (let i = 0; i < n; i++) {
    const a = [rng.normal(), rng.normal(), rng.normal()];
    const fy = rng.uniform(0.1, 0.6);
    const fx = rng.uniform(0.1, 0.6);
    for (let y = 0; y < 32; y++)
      for (let xx = 0; xx < 32; xx++) {
        const base = Math.sin(fy * y + fx * xx + a[0]!);
        for (let c = 0; c < 3; c++)
          x[((i * 32 + y) * 32 + xx) * 3 + c] =
            base * (1 + 0.3 * c) + 0.5 * a[c]! + 0.1 * rng.normal();
      }
  }
  return x;
}

test('whiteningKernel: the convolution with it outputs unit, uncorrelated channels on its data', () => {
  const n = 40;
  const x = correlatedImages(n, 3);
  const images = { x, shape: [n, 32, 32, 3] as [number, number, number, number] };
  const { kernel, eigenvalues } = whiteningKernel(images, 2, 0);
  // The patches are strongly correlated: the whitening has real work to do.
  assert.ok(
    eigenvalues[0]! / eigenvalues[11]! > 100,
    `condition ${eigenvalues[0]! / eigenvalues[11]!}`,
  );
  const conv = new rc.layers.Conv2D({
    filters: 24,
    kernelSize: 2,
    useBias: false,
    inputShape: [32, 32, 3],
  });
  new rc.Sequential([conv]);
  conv.setWeights([kernel]);
  const out = conv.call(rc.tensor(x, [n, 32, 32, 3])).dataSync();
  const count = n * 31 * 31;
  for (let a = 0; a < 12; a++)
    for (let b = 0; b < 12; b++) {
      let s = 0;
      for (let p = 0; p < count; p++) s += out[p * 24 + a]! * out[p * 24 + b]!;
      const want = a === b ? 1 : 0;
      assert.ok(Math.abs(s / count - want) < 2e-3, `cov(${a}, ${b}) = ${s / count}`);
    }
  // Filters 12..23 are the negatives of 0..11.
  for (let p = 0; p < 1000; p++)
    for (let a = 0; a < 12; a++) assert.equal(out[p * 24 + 12 + a], -out[p * 24 + a]!);
  // With eps the variances are λ/(λ + eps), airbench's damping.
  const damped = whiteningKernel(images, 2, 5e-4);
  const k0 = damped.kernel;
  const ratio = k0[0]! / kernel[0]!;
  assert.ok(Math.abs(ratio - Math.sqrt(eigenvalues[0]! / (eigenvalues[0]! + 5e-4))) < 1e-5);
});

test('patchCovariance: a 2×2 image, 1 channel, k 1 and k 2 by hand', () => {
  const images = {
    x: Float32Array.of(1, 2, 3, 4),
    shape: [1, 2, 2, 1] as [number, number, number, number],
  };
  assert.deepEqual([...patchCovariance(images, 1)], [(1 + 4 + 9 + 16) / 4]);
  // One patch (1, 2, 3, 4): the covariance is its outer product.
  const c = patchCovariance(images, 2);
  const p = [1, 2, 3, 4];
  assert.deepEqual(
    [...c],
    p.flatMap((a) => p.map((b) => a * b)),
  );
  assert.throws(() => patchCovariance(images, 3), ArgumentError);
  assert.throws(
    () => patchCovariance({ x: new Float32Array(3), shape: [1, 2, 2, 1] }, 1),
    ShapeError,
  );
  assert.throws(() => whiteningKernel(images, 1, -1), ArgumentError);
});

test('diracInit: the convolution is the identity (out = in) and passes the first channels (out > in)', () => {
  const x = rc.randn([2, 5, 5, 4], { seed: 2 });
  for (const filters of [4, 6]) {
    const conv = new rc.layers.Conv2D({
      filters,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      inputShape: [5, 5, 4],
    });
    new rc.Sequential([conv]);
    const k = Float32Array.from(conv.kernel.dataSync());
    diracInit(k, [3, 3, 4, filters]);
    conv.setWeights([k]);
    const y = conv.call(x).dataSync();
    const xs = x.dataSync();
    for (let p = 0; p < 50; p++)
      for (let c = 0; c < 4; c++) assert.equal(y[p * filters + c], xs[p * 4 + c]);
  }
  assert.throws(() => diracInit(new Float32Array(8), [2, 2, 1, 2]), ShapeError);
  assert.throws(() => diracInit(new Float32Array(5), [3, 3, 1, 1]), ShapeError);
});

test("cifarSpeedrun: airbench94's network: parameters as the PyTorch twin's, dirac 3×3 convolutions, 1/9 head scale", () => {
  const run = rc.recipes.cifarSpeedrun();
  const m = run.model;
  const size = (ws: rc.Tensor[]) => ws.reduce((n, w) => n + w.size, 0);
  // From `/usr/bin/python3 bench/speedrun_torch.py --count`: {"total": 1972792, "trainable": 1971352,
  // "whitenFilters": 288, "batchNormScales": 1152}. receptive's BatchNorm without scale has no
  // scale weight, so the frozen BatchNorm scales (all ones) are the only difference.
  assert.equal(size(m.trainableWeights), 1971352);
  const whiten = m.getLayer('whiten');
  assert.equal(size(whiten.weights), 288);
  assert.equal(size(whiten.trainableWeights), 0);
  const stats = m.layers.filter((l) => l instanceof rc.layers.BatchNormalization);
  assert.equal(stats.length, 6);
  // All weights: trainable + whitening filters + BatchNorm moving means and variances + head scale.
  assert.equal(m.countParams(), 1972792 - 1152 + 2 * 1152 + 1);
  for (const name of ['block1_conv2', 'block2_conv2', 'block3_conv2', 'block2_conv1']) {
    const conv = m.getLayer(name) as rc.layers.Conv2D;
    const [kh, kw, cin, cout] = conv.kernel.shape as [number, number, number, number];
    const k = conv.kernel.dataSync();
    for (let o = 0; o < Math.min(cin, cout); o++)
      for (let t = 0; t < kh * kw * cin; t++) {
        const centre = t === (1 * kw + 1) * cin + o;
        assert.equal(k[t * cout + o], centre ? 1 : 0, `${name} filter ${o}`);
      }
  }
  assert.ok(Math.abs(m.getLayer('head_scale').getWeights()[0]![0]! - 1 / 9) < 1e-8);
  // airbench's SGD numbers for batch 1024: 11.5 / (1 + 1/0.15) and 0.0153 / 11.5.
  assert.ok(Math.abs(run.sgdLearningRate - 11.5 / (1 + 1 / 0.15)) < 1e-12);
  assert.ok(Math.abs(run.sgdWeightDecay - 0.0153 / 11.5) < 1e-15);
});

/** A small set four classes apart by colour and stripes, noisy: a network must learn it. */
function separable(n: number, seed: number): rc.data.ImageSet {
  const rng = new Random(seed);
  const images = new Uint8Array(n * 32 * 32 * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    labels[i] = k;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++)
        for (let c = 0; c < 3; c++) {
          const stripe = k < 2 ? (y >> 2) & 1 : (x >> 2) & 1;
          const tint = c === k % 3 ? 60 : 0;
          const v = 100 + tint + 50 * stripe + 40 * rng.normal();
          images[((i * 32 + y) * 32 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
  }
  return { images, labels, shape: [32, 32, 3], classNames: ['a', 'b', 'c', 'd'] };
}

test('cifarSpeedrun: 3 short epochs on a small separable set reach far above chance (TTA)', async () => {
  const run = rc.recipes.cifarSpeedrun({
    epochs: 2.5,
    batchSize: 64,
    widths: [16, 32, 32],
    numClasses: 4,
    whiteningImages: 100,
    whitenBiasEpochs: 1,
    seed: 1,
  });
  const seen: rc.recipes.SpeedrunEpoch[] = [];
  const bias = () => [...run.model.getLayer('whiten_bias').getWeights()[0]!];
  const biases: number[][] = [];
  const before = await run.evaluate(separable(200, 9), { tta: 'none' });
  const result = await run.train(separable(512, 8), {
    onEpoch: (e) => {
      seen.push(e);
      biases.push(bias());
    },
  });
  // 8 steps an epoch, 2.5 epochs: 20 steps, the last epoch cut at half.
  assert.equal(result.steps, 20);
  assert.deepEqual(
    seen.map((e) => [e.epoch, e.steps]),
    [
      [0, 8],
      [1, 16],
      [2, 20],
    ],
  );
  for (const e of seen) assert.ok(Number.isFinite(e.loss) && e.seconds >= 0);
  const after = await run.evaluate(separable(200, 9));
  assert.ok(after.accuracy >= 0.9, `accuracy ${before.accuracy} → ${after.accuracy}`);
  // The whitening bias trained in its one epoch, then stayed.
  assert.ok(biases[0]!.some((v) => v !== 0));
  assert.deepEqual(bias(), biases[0]);
  assert.equal(run.model.getLayer('whiten_bias').trainable, false);
  await assert.rejects(run.train(separable(512, 8)), /trained already/);
});

test('cifarSpeedrun: refuses bad options and data with a ReceptiveError', async () => {
  const bad: unknown[] = [
    { epoch: 2 },
    { epochs: 0 },
    { epochs: Number.NaN },
    { batchSize: 1.5 },
    { momentum: 1 },
    { learningRate: -1 },
    { labelSmoothing: 1 },
    { tta: 'crop' },
    { widths: [64, 256] },
    { translate: 1.5 },
    { numClasses: 1 },
    { seed: 0.5 },
    null,
    [],
  ];
  for (const o of bad)
    assert.throws(() => rc.recipes.cifarSpeedrun(o as never), ArgumentError, JSON.stringify(o));
  const run = rc.recipes.cifarSpeedrun({ batchSize: 8, widths: [4, 4, 4], numClasses: 4 });
  const small = separable(8, 1);
  await assert.rejects(run.train({ ...small, shape: [16, 16, 3] } as never), ShapeError);
  await assert.rejects(run.train(separable(4, 1)), /at least 8 images/);
  await assert.rejects(run.train(null as never), ArgumentError);
  await assert.rejects(run.train(small, { onEpoch: 3 } as never), ArgumentError);
  await assert.rejects(run.train(small, { epochs: 3 } as never), ArgumentError);
  const labels = Int32Array.from(small.labels);
  labels[0] = 7;
  await assert.rejects(run.train({ ...small, labels }), ReceptiveError);
  await assert.rejects(run.evaluate(small, { tta: 'x' } as never), ArgumentError);
  const wide = { ...small, classNames: Array.from({ length: 12 }, (_, i) => `c${i}`) };
  await assert.rejects(run.evaluate(wide), /12 classes/);
});
