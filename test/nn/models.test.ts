/**
 * The convolution variants inside models: a Sequential stack and a functional graph build,
 * print a summary with the right counts, round-trip their configs, and train a step.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const L = rc.layers;

test('Sequential with SqueezeExcite, CBAM and an InceptionModule: build, summary, config round trip', () => {
  const model = new rc.Sequential([
    new L.Conv2D({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      inputShape: [8, 8, 3],
    }),
    new L.SqueezeExcite({ ratio: 4 }),
    new L.CBAM({ ratio: 4, kernelSize: 3 }),
    new L.InceptionModule({
      filters1x1: 4,
      filters3x3Reduce: 4,
      filters3x3: 6,
      filters5x5Reduce: 2,
      filters5x5: 3,
      poolProjection: 3,
      batchNorm: true,
    }),
    new L.GlobalAveragePooling2D(),
    new L.Dense({ units: 5, activation: 'softmax' }),
  ]);
  const counts = [
    9 * 3 * 8 + 8,
    8 * 2 + 2 + 2 * 8 + 8,
    8 * 2 + 2 * 8 + 2 * 3 * 3,
    8 * 4 + 8 * 4 + 9 * 4 * 6 + 8 * 2 + 25 * 2 * 3 + 8 * 3 + 4 * (4 + 4 + 6 + 2 + 3 + 3),
    0,
    16 * 5 + 5,
  ];
  assert.deepEqual(
    model.layers.map((l) => l.countParams()),
    counts,
  );
  const total = counts.reduce((a, b) => a + b, 0);
  assert.equal(model.countParams(), total);
  const text = model.summary({ print: false });
  for (const cls of ['SqueezeExcite', 'CBAM', 'InceptionModule'])
    assert.match(text, new RegExp(`\\(${cls}\\)`));
  assert.match(text, /\(None, 8, 8, 16\)/); // the inception module's 4 + 6 + 3 + 3 channels
  assert.match(text, new RegExp(`Total params: ${total.toLocaleString('en-US')} `));
  // Batch normalization's moving statistics are the non-trainable ones.
  assert.match(text, new RegExp(`Non-trainable params: ${2 * 22} `));

  const x = rc.randn([2, 8, 8, 3], { seed: 1 });
  const y = model.apply(x);
  assert.deepEqual(y.shape, [2, 5]);
  const clone = rc.layerFromConfig({
    className: 'Sequential',
    config: JSON.parse(JSON.stringify(model.getConfig())),
  });
  clone.setWeights(model.getWeights());
  assert.deepEqual(clone.apply(x).dataSync(), y.dataSync());

  // A training step reaches every trainable weight.
  rc.mean(rc.square(model.apply(x, { training: true }))).backward();
  for (const w of model.trainableWeights) assert.ok(w.grad, `${w.name} got no gradient`);
});

test('functional model: inception module and attention on parallel branches', () => {
  const input = rc.Input([6, 6, 4]);
  const stem = new L.Conv2D({ filters: 6, kernelSize: 1 }).apply(input);
  const se = new L.SqueezeExcite({ ratio: 2 }).apply(stem);
  const mixed = new L.InceptionModule({
    filters1x1: 2,
    filters3x3Reduce: 2,
    filters3x3: 2,
    filters5x5Reduce: 1,
    filters5x5: 1,
    poolProjection: 1,
  }).apply(stem);
  const joined = new L.Concatenate().apply([se, mixed]);
  const out = new L.Dense({ units: 2 }).apply(
    new L.GlobalMaxPooling2D().apply(new L.CBAM({ ratio: 4 }).apply(joined)),
  );
  const model = new rc.Model({ inputs: input, outputs: out });
  assert.deepEqual(joined.shape, [null, 6, 6, 12]);
  const text = model.summary({ print: false });
  assert.match(text, /Connected to/);
  assert.match(text, /\(InceptionModule\)/);
  assert.match(text, new RegExp(`Total params: ${model.countParams().toLocaleString('en-US')} `));
  const x = rc.randn([3, 6, 6, 4], { seed: 2 });
  const y = model.apply(x);
  assert.deepEqual(y.shape, [3, 2]);
  const clone = rc.layerFromConfig({
    className: 'Functional',
    config: JSON.parse(JSON.stringify(model.getConfig())),
  });
  clone.apply(x);
  clone.setWeights(model.getWeights());
  assert.deepEqual(clone.apply(x).dataSync(), y.dataSync());
});

test('a model with octave, attention and inception layers saves and loads with identical predictions', async () => {
  const input = rc.Input([8, 8, 3]);
  const [hi, lo] = L.OctaveConv2D.pair({
    filters: 8,
    kernelSize: 3,
    alphaIn: 0,
    activation: 'relu',
  });
  const [h, l] = [hi.apply(input), lo.apply(input)];
  const y = new L.OctaveConv2D({ filters: 6, kernelSize: 3, alphaOut: 0 }).apply([h, l]);
  const z = new L.CBAM({ ratio: 2 }).apply(new L.SqueezeExcite({ ratio: 2 }).apply(y));
  const out = new L.InceptionModule({
    filters1x1: 2,
    filters3x3Reduce: 2,
    filters3x3: 2,
    filters5x5Reduce: 1,
    filters5x5: 1,
    poolProjection: 1,
    batchNorm: true,
  }).apply(z);
  const model = new rc.Model({ inputs: input, outputs: out });
  const x = rc.randn([2, 8, 8, 3], { seed: 3 });
  model.apply(x, { training: true }); // moves the batch-norm statistics away from their initial values
  const dir = mkdtempSync(join(tmpdir(), 'receptive-nn-'));
  try {
    await model.save(dir);
    const back = await rc.loadModel(dir);
    assert.equal(back.countParams(), model.countParams());
    assert.deepEqual(back.apply(x).dataSync(), model.apply(x).dataSync());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
