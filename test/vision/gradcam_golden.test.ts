/**
 * Grad-CAM and Grad-CAM++ equal PyTorch's computation of the same definition on a fixed model
 * (test/golden/gradcam_golden.py wrote the weights, the input and the heat maps before and
 * after bilinear upsampling), to 1e-4, on the backend in use; the weights get no gradient.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose, readJson } from '../helpers.js';

interface Golden {
  inputShape: number[];
  x: number[];
  weights: Record<string, [number[], number[]]>;
  layerShape: number[];
  cases: {
    method: 'gradcam' | 'gradcam++';
    classIndex: number[] | null;
    expectedClassIndex: number[];
    layer: number[];
    input: number[];
  }[];
}

const golden = readJson<Golden>('test/fixtures/golden/gradcam.json');

function fixedModel(): rc.Model {
  const input = rc.Input([9, 9, 3]);
  let h = new rc.layers.Conv2D({
    filters: 4,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    name: 'conv_a',
  }).apply(input);
  h = new rc.layers.Conv2D({ filters: 6, kernelSize: 3, activation: 'relu', name: 'conv_b' }).apply(
    h,
  );
  h = new rc.layers.GlobalAveragePooling2D().apply(h);
  h = new rc.layers.Dense({ units: 5, activation: 'softmax', name: 'head' }).apply(h);
  const model = new rc.Model({ inputs: input, outputs: h });
  for (const [name, [k, b]] of Object.entries(golden.weights))
    model.getLayer(name).setWeights([Float32Array.from(k), Float32Array.from(b)]);
  return model;
}

test(`Grad-CAM and Grad-CAM++ match PyTorch to 1e-4 (${rc.getBackend()})`, async () => {
  const model = fixedModel();
  const x = rc.tensor(Float32Array.from(golden.x), golden.inputShape);
  assert.equal(golden.cases.length, 4);
  for (const c of golden.cases) {
    const r = await rc.vision.gradCam(model, x, {
      layer: 'conv_b',
      method: c.method,
      ...(c.classIndex ? { classIndex: c.classIndex } : {}),
    });
    const what = `${c.method}, classIndex ${c.classIndex ?? 'predicted'}`;
    assert.deepEqual(r.classIndex, c.expectedClassIndex, what);
    assert.equal(r.layer, 'conv_b');
    assert.deepEqual(r.layerHeatmap.shape, golden.layerShape);
    assert.deepEqual(r.heatmap.shape, golden.inputShape.slice(0, 3));
    assertClose(r.layerHeatmap.dataSync(), c.layer, { atol: 1e-4, rtol: 0 });
    assertClose(r.heatmap.dataSync(), c.input, { atol: 1e-4, rtol: 0 });
    const hv = r.heatmap.dataSync();
    assert.ok(
      hv.every((v) => v >= 0 && v <= 1),
      `${what}: heat in 0..1`,
    );
    assert.equal(r.picture.length, 2);
    assert.deepEqual(
      [r.picture[0]!.width, r.picture[0]!.height, r.picture[0]!.channels],
      [9, 9, 3],
    );
  }
  // Explanations take no gradient for the weights, and leave them as they were.
  for (const w of model.weights) assert.equal(w.grad, null, `${w.name} got a gradient`);
  for (const [name, [k]] of Object.entries(golden.weights))
    assert.deepEqual(
      Array.from(model.getLayer(name).getWeights()[0]!),
      Array.from(Float32Array.from(k)),
    );
  // The default layer is the last one with an image-like output: conv_b.
  assert.equal((await rc.vision.gradCam(model, x)).layer, 'conv_b');
});
