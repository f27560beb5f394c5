/** Heat maps over images: the colormaps' ends, the blend, the PNG, and what each explanation's picture is. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { vision } = rc;

test('colormaps: the ends and the middle', () => {
  assert.deepEqual(vision.colormap(0, 'inferno'), [0, 0, 4]);
  assert.deepEqual(vision.colormap(1, 'inferno'), [252, 255, 164]);
  assert.deepEqual(vision.colormap(0.5, 'viridis'), [38, 130, 142]);
  assert.deepEqual(vision.colormap(0, 'jet'), [0, 0, 128]);
  assert.deepEqual(vision.colormap(1, 'jet'), [128, 0, 0]);
  assert.deepEqual(vision.colormap(0.5, 'jet'), [128, 255, 128]);
  // Clamped, and NaN is the bottom of the scale rather than a crash.
  assert.deepEqual(vision.colormap(7), vision.colormap(1));
  assert.deepEqual(vision.colormap(Number.NaN), vision.colormap(0));
  assert.throws(() => vision.colormap(0.5, 'rainbow' as 'jet'), rc.ArgumentError);
  assert.throws(() => vision.colormap('1' as unknown as number), /must be a number in 0\.\.1/);
});

test('overlayHeatmap blends (1 − alpha)·image + alpha·colour; heatmapPng decodes to it', () => {
  const img = rc.tensor([0, 1, 0, 1], [1, 2, 2, 1]);
  const heat = rc.tensor([0, 0, 1, 1], [1, 2, 2]);
  const [p] = vision.overlayHeatmap(img, heat, { alpha: 0.5 });
  assert.deepEqual([p!.width, p!.height, p!.channels], [2, 2, 3]);
  // Pixel 1: white image, heat 0 (inferno [0, 0, 4]).
  assert.deepEqual(Array.from(p!.data.slice(3, 6)), [128, 128, 130]);
  // Pixel 2: black image, heat 1 (inferno [252, 255, 164]).
  assert.deepEqual(Array.from(p!.data.slice(6, 9)), [126, 128, 82]);
  const png = vision.heatmapPng(img, heat, { alpha: 0.5 });
  assert.deepEqual(Array.from(vision.decodeImage(png).data), Array.from(p!.data));
  assert.throws(() => vision.overlayHeatmap(img, rc.zeros([1, 3, 2])), rc.ShapeError);
  assert.throws(() => vision.overlayHeatmap(rc.zeros([1, 2, 2, 2]), heat), rc.ShapeError);
  assert.throws(
    () => vision.overlayHeatmap(img, rc.tensor([0, Number.NaN, 0, 0], [1, 2, 2])),
    rc.NonFiniteError,
  );
  assert.throws(() => vision.heatmapPng(img, heat, { index: 1 }), /outside the batch of 1/);
});

test('each explanation gives one RGB picture per image at the input size', async () => {
  rc.setSeed(2);
  const model = new rc.Sequential([
    new rc.layers.Conv2D({
      filters: 2,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      inputShape: [6, 5, 3],
    }),
    new rc.layers.GlobalAveragePooling2D(),
    new rc.layers.Dense({ units: 3 }),
  ]);
  const x = rc.randomUniform([3, 6, 5, 3], { seed: 3 });
  const results = [
    (await vision.gradCam(model, x)).picture,
    (await vision.saliency(model, x)).picture,
    (await vision.integratedGradients(model, x, { steps: 4 })).picture,
    (await vision.occlusion(model, x, { patch: 2 })).picture,
  ];
  for (const pics of results) {
    assert.equal(pics.length, 3);
    for (const p of pics)
      assert.deepEqual([p.width, p.height, p.channels, p.data.length], [5, 6, 3, 90]);
  }
});
