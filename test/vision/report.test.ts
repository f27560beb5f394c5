/** The HTML training report: self-contained (no scripts, no external URLs), with all its parts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers, vision } = rc;

test('trainingReport: curves, confusion matrix, sample images marked right/wrong, summary', async () => {
  rc.setSeed(1);
  const model = new rc.Sequential([
    new layers.Conv2D({ filters: 2, kernelSize: 3, inputShape: [6, 6, 1] }),
    new layers.Flatten(),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  const x = rc.randomUniform([9, 6, 6, 1], { seed: 2 });
  const y = rc.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2], [9], 'int32');
  const history = {
    loss: [1.2, 0.9],
    accuracy: [0.3, 0.5],
    val_loss: [1.1, 1.0],
    val_accuracy: [0.3, 0.4],
  };
  const html = await vision.trainingReport(model, x, y, history, {
    title: 'tiny <model>',
    classNames: ['zero', 'one', 'two'],
    samples: 6,
    facts: [['Data', 'nine random images']],
  });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(html.includes('<title>tiny &lt;model&gt;</title>'), 'text is escaped');
  assert.equal((html.match(/<svg/g) ?? []).length >= 2, true, 'curves and confusion matrix inline');
  assert.ok(html.includes('Training curves') && html.includes('Confusion matrix'));
  assert.ok(html.includes('nine random images'));
  assert.equal(model.countParams(), 119);
  assert.ok(html.includes('Total params: 119'), 'the model summary');
  // Self-contained: no scripts, stylesheets or images fetched from anywhere.
  assert.doesNotMatch(html, /<script|<link|(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(html, /url\(/);
  // Six samples, each an inline PNG that decodes to its test image.
  const imgs = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(imgs.length, 6);
  const first = vision.decodeImage(new Uint8Array(Buffer.from(imgs[0]!, 'base64')));
  assert.deepEqual([first.width, first.height, first.channels], [6, 6, 1]);
  const want = Array.from(x.dataSync().subarray(0, 36), (v) => Math.round(v * 255));
  assert.deepEqual(Array.from(first.data), want);
  const marks = (html.match(/<figure class="(right|wrong)">/g) ?? []).length;
  assert.equal(marks, 6);
  // The counts agree with a confusion matrix of the model's own predictions.
  const cm = vision.confusionCounts(y, model.predict(x));
  assert.ok(html.includes(`${(cm.accuracy * 100).toFixed(2)}% (9 images)`));
});

test('reportHtml escapes names; base64 matches Buffer', () => {
  const html = vision.reportHtml({
    title: 'a & b',
    facts: [],
    samples: [
      {
        png: new Uint8Array([1, 2, 3]),
        label: '<cat>',
        predicted: 'dog',
        probability: 0.5,
        right: false,
      },
    ],
    summary: 'x < y',
  });
  assert.ok(
    html.includes('a &amp; b') && html.includes('&lt;cat&gt;') && html.includes('x &lt; y'),
  );
  assert.ok(html.includes('✗ dog'));
  assert.equal(
    vision.base64(new Uint8Array([0, 255, 10])),
    Buffer.from([0, 255, 10]).toString('base64'),
  );
});

test('trainingReport with gradCam: each sample beside its Grad-CAM for the predicted class', async () => {
  rc.setSeed(3);
  const model = new rc.Sequential([
    new layers.Conv2D({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      inputShape: [8, 8, 1],
      name: 'c1',
    }),
    new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', name: 'c2' }),
    new layers.Flatten(),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  const x = rc.randomUniform([5, 8, 8, 1], { seed: 4 });
  const y = rc.tensor([0, 1, 2, 0, 1], [5], 'int32');
  const html = await vision.trainingReport(model, x, y, {}, { gradCam: true });
  const imgs = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(imgs.length, 10, 'five samples, each with its heat map');
  assert.ok(html.includes('its Grad-CAM at layer c2'), 'the default layer is named');
  const predicted = Array.from({ length: 5 }, (_, i) => {
    const p = model
      .predict(x)
      .dataSync()
      .subarray(i * 3, i * 3 + 3);
    return p.indexOf(Math.max(...p));
  });
  const cam = await vision.gradCam(model, x, { classIndex: predicted });
  for (let i = 0; i < 5; i++) {
    const heat = vision.decodeImage(new Uint8Array(Buffer.from(imgs[2 * i + 1]!, 'base64')));
    assert.deepEqual([heat.width, heat.height, heat.channels], [8, 8, 3]);
    assert.deepEqual(heat.data, cam.picture[i]!.data, `sample ${i}: its Grad-CAM`);
    assert.ok(html.includes(`alt="Grad-CAM of ${predicted[i]}"`));
  }
  const at = await vision.trainingReport(model, x, y, {}, { gradCam: 'c1' });
  assert.ok(at.includes('its Grad-CAM at layer c1'));
  // Without the option: no heat maps.
  const plain = await vision.trainingReport(model, x, y, {});
  assert.equal((plain.match(/data:image\/png/g) ?? []).length, 5);
  assert.doesNotMatch(plain, /Grad-CAM/);
  // A model without feature maps cannot have them; the error says why.
  const dense = new rc.Sequential([
    new layers.Flatten({ inputShape: [8, 8, 1] }),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  await assert.rejects(
    vision.trainingReport(dense, x, y, {}, { gradCam: true }),
    (e: Error) =>
      e instanceof rc.ArgumentError && /Grad-CAM needs a convolutional model/.test(e.message),
  );
  await assert.rejects(
    vision.trainingReport(model, x, y, {}, { gradCam: 'nope' }),
    (e: Error) => e instanceof rc.ArgumentError && /no layer named 'nope'/.test(e.message),
  );
});
