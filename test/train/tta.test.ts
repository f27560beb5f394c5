/**
 * Test-time augmentation in evaluate and predict. The golden averages are airbench's infer()
 * in torch 1.13 with the identity as the network, on the images X below (NCHW there):
 *   mirror(i) = ½ i + ½ i.flip(−1);
 *   flipTranslate(i) = ½ mirror(i) + ½ mean(mirror(p[:, :, 0:3, 0:4]), mirror(p[:, :, 2:5, 2:6])),
 *   p = F.pad(i, (1, 1, 1, 1), 'reflect').
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';
import type { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { assertClose, withBackend } from '../helpers.js';

const { layers } = rc;

const SHAPE = [2, 3, 4, 2];
const X = Array.from({ length: 48 }, (_, i) => ((i * 7) % 13) - 6);
const FLIP = [
  -4.5, 2.5, -4.5, 2.5, -4.5, 2.5, -4.5, 2.5, -0.5, 0.0, -0.5, 0.0, -0.5, 0.0, -0.5, 0.0, 3.5, -2.5,
  3.5, -2.5, 3.5, -2.5, 3.5, -2.5, 1.0, 1.5, -5.5, 1.5, -5.5, 1.5, 1.0, 1.5, -1.5, -1.0, -1.5, 5.5,
  -1.5, 5.5, -1.5, -1.0, 2.5, -3.5, 2.5, -3.5, 2.5, -3.5, 2.5, -3.5,
];
const FLIP_TRANSLATE = [
  -2.5, 1.25, -2.5, 1.25, -2.5, 1.25, -2.5, 1.25, -0.5, 0.0, -0.5, 0.0, -0.5, 0.0, -0.5, 0.0, 1.5,
  -1.25, 1.5, -1.25, 1.5, -1.25, 1.5, -1.25, -0.25, 3.5, -3.5, 1.875, -3.5, 1.875, -0.25, 3.5, -1.5,
  -1.0, 0.125, 2.25, 0.125, 2.25, -1.5, -1.0, 0.5, 1.0, 0.5, -0.625, 0.5, -0.625, 0.5, 1.0,
];

/** Flatten then a Dense layer with the identity as kernel: the output is the image itself. */
function identityNet(activation: 'linear' | 'softmax' = 'linear'): rc.Sequential {
  const dense = new layers.Dense({ units: 24, useBias: false, activation });
  const model = new rc.Sequential([new layers.Flatten({ inputShape: [3, 4, 2] }), dense]);
  const eye = new Float32Array(24 * 24);
  for (let i = 0; i < 24; i++) eye[i * 24 + i] = 1;
  dense.setWeights([eye]);
  return model;
}

function softmaxRows(v: number[], k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / k; r++) {
    const row = v.slice(r * k, (r + 1) * k);
    const m = Math.max(...row);
    const e = row.map((z) => Math.exp(z - m));
    const s = e.reduce((a, b) => a + b);
    out.push(...e.map((z) => z / s));
  }
  return out;
}

test('predict with tta averages as airbench does (PyTorch golden), in one batch or several', () => {
  const model = identityNet();
  const x = rc.tensor(X, SHAPE);
  assertClose(model.predict(x).dataSync(), X);
  assertClose(model.predict(x, { tta: 'none' }).dataSync(), X);
  assertClose(model.predict(x, { tta: 'flip' }).dataSync(), FLIP);
  assertClose(model.predict(x, { tta: 'flipTranslate' }).dataSync(), FLIP_TRANSLATE);
  assertClose(model.predict(x, { tta: 'flipTranslate', batchSize: 1 }).dataSync(), FLIP_TRANSLATE);
});

test('a softmax output averages the logits, then softmax (airbench averages logits)', () => {
  const model = identityNet('softmax');
  const x = rc.tensor(X, SHAPE);
  const p = model.predict(x, { tta: 'flipTranslate' });
  assertClose(p.dataSync(), softmaxRows(FLIP_TRANSLATE, 24), { atol: 1e-6 });
  assertClose(p.logits!.dataSync(), FLIP_TRANSLATE);
});

test('evaluate with tta: loss and metrics of the averaged outputs', async () => {
  const model = identityNet();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = rc.tensor(X, SHAPE);
  const target = rc.tensor(FLIP_TRANSLATE, [2, 24]);
  const logs = await model.evaluate(x, target, { tta: 'flipTranslate', batchSize: 1 });
  assert.ok(logs.loss! < 1e-10, `loss ${logs.loss}`);
  const plain = await model.evaluate(x, target);
  assert.ok(plain.loss! > 1, 'without tta the outputs differ from the averages');
  // Accuracy of a classifier whose mirror view votes the other way: only the average decides.
  const clf = identityNet('softmax');
  clf.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const ids = rc.tensor([argmax(FLIP.slice(0, 24)), argmax(FLIP.slice(24))], [2], 'int32');
  const withFlip = await clf.evaluate(x, ids, { tta: 'flip' });
  assert.equal(withFlip.accuracy, 1);
  const without = await clf.evaluate(x, ids);
  assert.ok(without.accuracy! < 1, `accuracy without tta ${without.accuracy}`);
});

function argmax(v: number[]): number {
  return v.indexOf(Math.max(...v));
}

test('a network that is mirror-invariant by construction gives the same output with tta flip; one that is not does not', () => {
  rc.setSeed(4);
  const invariant = new rc.Sequential([
    new layers.GlobalAveragePooling2D({ inputShape: [5, 6, 3] }),
    new layers.Dense({ units: 4 }),
  ]);
  const x = rc.randn([3, 5, 6, 3], { seed: 2 });
  assertClose(invariant.predict(x, { tta: 'flip' }).dataSync(), invariant.predict(x).dataSync(), {
    atol: 1e-6,
  });
  const conv = new rc.Sequential([
    new layers.Conv2D({ filters: 4, kernelSize: 3, inputShape: [5, 6, 3] }),
    new layers.Flatten(),
  ]);
  const a = conv.predict(x, { tta: 'flip' }).dataSync();
  const b = conv.predict(x).dataSync();
  assert.ok(
    a.some((v, i) => Math.abs(v - b[i]!) > 1e-3),
    'a convolution is not mirror-invariant',
  );
});

test('bad tta values and inputs that are not images are clear errors', async () => {
  const model = identityNet();
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = rc.tensor(X, SHAPE);
  for (const bad of ['mirror', 2, null, 'FLIP'])
    assert.throws(
      () => model.predict(x, { tta: bad as never }),
      (e: Error) =>
        e instanceof rc.ArgumentError &&
        /tta must be one of 'none', 'flip', 'flipTranslate'/.test(e.message),
    );
  await assert.rejects(
    model.evaluate(x, rc.zeros([2, 24]), { tta: 'crop' as never }),
    (e: Error) => e instanceof rc.ArgumentError && /evaluate: tta must be one of/.test(e.message),
  );
  const flat = new rc.Sequential([new layers.Dense({ units: 2, inputShape: [3] })]);
  assert.throws(
    () => flat.predict(rc.zeros([2, 3]), { tta: 'flip' }),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      /needs images \[batch, height, width, channels\]/.test(e.message),
  );
  const tiny = new rc.Sequential([new layers.Flatten({ inputShape: [1, 4, 1] })]);
  assert.throws(
    () => tiny.predict(rc.zeros([1, 1, 4, 1]), { tta: 'flipTranslate' }),
    (e: Error) => e instanceof rc.ShapeError && /at least 2×2 pixels/.test(e.message),
  );
  assert.equal(tiny.predict(rc.zeros([1, 1, 4, 1]), { tta: 'flip' }).shape[1], 4);
});

test('native: TTA holds about one view of activations at a time (each view frees its activations as it goes)', {
  skip: !loadNativeAddon().addon && 'no native addon',
}, () => {
  withBackend('native', () => {
    const be = backendByName('native') as NativeBackend;
    rc.setSeed(9);
    const model = new rc.Sequential([
      new layers.InputLayer({ inputShape: [16, 16, 8] }),
      new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new layers.GlobalAveragePooling2D(),
      new layers.Dense({ units: 10, activation: 'softmax' }),
    ]);
    const x = rc.randomUniform([32, 16, 16, 8], { seed: 10 });
    const peak = (tta: 'none' | 'flipTranslate') => {
      model.predict(x, { batchSize: 32, tta });
      be.resetPeakMemory();
      model.predict(x, { batchSize: 32, tta });
      return be.memoryUsage().peakScopeBytes;
    };
    const one = peak('none');
    const six = peak('flipTranslate');
    // The views' inputs are not scoped tensors; six views at once would hold six times one.
    assert.ok(six < 1.5 * one, `TTA peaked at ${six} bytes, one view at ${one}`);
  });
});
