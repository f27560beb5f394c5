/**
 * Explanations refuse bad input with a clear ReceptiveError: an unknown layer (the error lists
 * the layers that fit), a layer without image-like output, a class out of range, an input of
 * the wrong shape, NaN pixels, unknown options and bad settings. Nothing runs half-way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { vision } = rc;

function smallModel(): rc.Sequential {
  rc.setSeed(5);
  return new rc.Sequential([
    new rc.layers.Conv2D({
      filters: 3,
      kernelSize: 3,
      activation: 'relu',
      inputShape: [8, 8, 1],
      name: 'conv',
    }),
    new rc.layers.Flatten({ name: 'flat' }),
    new rc.layers.Dense({ units: 4, activation: 'softmax', name: 'out' }),
  ]);
}

const x = rc.randomUniform([2, 8, 8, 1], { seed: 1 });
const methods: [string, (m: rc.Model, x: rc.Tensor, o?: object) => Promise<unknown>][] = [
  ['gradCam', (m, t, o) => vision.gradCam(m, t, o)],
  ['saliency', (m, t, o) => vision.saliency(m, t, o)],
  ['integratedGradients', (m, t, o) => vision.integratedGradients(m, t, { steps: 2, ...o })],
  ['occlusion', (m, t, o) => vision.occlusion(m, t, o)],
];

test('every explanation: wrong input shape, NaN pixels, class out of range, unknown options', async () => {
  const model = smallModel();
  for (const [name, run] of methods) {
    await assert.rejects(
      run(model, rc.zeros([2, 9, 8, 1])),
      (e: Error) =>
        e instanceof rc.ShapeError &&
        /\[batch, 8, 8, 1\]/.test(e.message) &&
        e.message.includes(name),
      name,
    );
    await assert.rejects(
      run(model, rc.zeros([8, 8, 1])),
      (e: Error) => e instanceof rc.ShapeError && /Add the batch axis/.test(e.message),
      name,
    );
    await assert.rejects(run(model, rc.zeros([0, 8, 8, 1])), rc.ShapeError, name);
    const nan = rc.zeros([2, 8, 8, 1]).dataSync().slice();
    nan[70] = Number.NaN;
    await assert.rejects(
      run(model, rc.tensor(nan, [2, 8, 8, 1])),
      (e: Error) => e instanceof rc.NonFiniteError && /index 70/.test(e.message),
      name,
    );
    await assert.rejects(
      run(model, x, { classIndex: 4 }),
      (e: Error) =>
        e instanceof rc.ArgumentError && /0\.\.3/.test(e.message) && /4 classes/.test(e.message),
      name,
    );
    await assert.rejects(
      run(model, x, { classIndex: [1] }),
      (e: Error) => e instanceof rc.ArgumentError && /1 entries for 2 images/.test(e.message),
      name,
    );
    await assert.rejects(run(model, x, { classIndex: 1.5 }), rc.ArgumentError, name);
    await assert.rejects(
      run(model, x, { clas: 1 }),
      (e: Error) => e instanceof rc.ArgumentError && /unknown option 'clas'/.test(e.message),
      name,
    );
    await assert.rejects(run(model, [1, 2] as unknown as rc.Tensor), rc.ArgumentError, name);
    await assert.rejects(run({} as rc.Model, x), rc.ArgumentError, name);
  }
});

test('gradCam: unknown layer lists the layers; a flat layer is refused; bad method', async () => {
  const model = smallModel();
  await assert.rejects(
    vision.gradCam(model, x, { layer: 'nope' }),
    (e: Error) =>
      e instanceof rc.ArgumentError &&
      /no layer named 'nope'/.test(e.message) &&
      /conv/.test(e.message),
  );
  await assert.rejects(
    vision.gradCam(model, x, { layer: 'flat' }),
    (e: Error) =>
      e instanceof rc.ArgumentError &&
      /not image-like/.test(e.message) &&
      /choose one of: conv/.test(e.message),
  );
  await assert.rejects(
    vision.gradCam(model, x, { method: 'cam' as 'gradcam' }),
    /method must be 'gradcam' or 'gradcam\+\+'/,
  );
  const dense = new rc.Sequential([
    new rc.layers.Flatten({ inputShape: [8, 8, 1] }),
    new rc.layers.Dense({ units: 2 }),
  ]);
  await assert.rejects(
    vision.gradCam(dense, x),
    (e: Error) =>
      e instanceof rc.ArgumentError && /no layer with an image-like output/.test(e.message),
  );
  // A model whose output is not [batch, classes].
  const conv = new rc.Sequential([
    new rc.layers.Conv2D({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }),
  ]);
  await assert.rejects(
    vision.saliency(conv, x),
    (e: Error) => e instanceof rc.ShapeError && /class scores \[batch, classes\]/.test(e.message),
  );
});

test('saliency, integrated gradients, occlusion: bad settings', async () => {
  const model = smallModel();
  await assert.rejects(
    vision.saliency(model, x, { smoothGrad: { samples: 0 } }),
    /samples must be an integer/,
  );
  await assert.rejects(
    vision.saliency(model, x, { smoothGrad: { noise: -1 } }),
    /noise must be a number/,
  );
  await assert.rejects(
    vision.saliency(model, x, { smoothGrad: { sample: 3 } as object }),
    /unknown option 'sample'/,
  );
  await assert.rejects(
    vision.integratedGradients(model, x, { steps: 0 }),
    /steps must be an integer/,
  );
  await assert.rejects(
    vision.integratedGradients(model, x, { baseline: rc.zeros([3, 3]) }),
    (e: Error) => e instanceof rc.ShapeError && /baseline must be shaped like x/.test(e.message),
  );
  await assert.rejects(
    vision.integratedGradients(model, x, { baseline: Number.NaN }),
    /baseline must be finite/,
  );
  await assert.rejects(
    vision.occlusion(model, x, { patch: 9 }),
    /patch must be an integer in 1\.\.8/,
  );
  await assert.rejects(vision.occlusion(model, x, { patch: 0 }), /patch must be an integer/);
  await assert.rejects(
    vision.occlusion(model, x, { stride: [1, 2, 3] as unknown as number }),
    /stride must be a number or \[height, width\]/,
  );
  await assert.rejects(
    vision.occlusion(model, x, { fill: 'grey' as 'mean' }),
    /fill must be a finite number or 'mean'/,
  );
  await assert.rejects(
    vision.gradCam(model, x, { picture: { colormap: 'rainbow' as 'jet' } }),
    /colormap must be one of inferno, viridis, jet/,
  );
  await assert.rejects(
    vision.gradCam(model, x, { picture: { alpha: 2 } }),
    /alpha must be a number in 0\.\.1/,
  );
});

test('maximizeActivation: neither or both targets, unknown layer, filter out of range, bad settings', async () => {
  const model = smallModel();
  await assert.rejects(
    vision.maximizeActivation(model, {}),
    /either \{ layer, filter \} or \{ classIndex \}/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', classIndex: 1 }),
    /either/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'nope' }),
    /no layer named 'nope'/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', filter: 3 }),
    /filter must be an integer in 0\.\.2/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { classIndex: 4 }),
    /classIndex must be an integer in 0\.\.3/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', steps: -1 }),
    /steps must be an integer/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', range: [1, 0] }),
    /range must be \[low, high\]/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', inputShape: [9, 9, 1] }),
    /does not fit the model's input/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', objective: 'max' as 'mean' }),
    /objective must be 'mean' or 'centre', got "max"/,
  );
  await assert.rejects(
    vision.maximizeActivation(model, { layer: 'conv', filters: 1 } as object),
    /unknown option 'filters'/,
  );
  const r = await vision.maximizeActivation(model, {
    layer: 'conv',
    inputShape: [8, 8, 1],
    steps: 2,
  });
  assert.deepEqual(r.images.shape, [3, 8, 8, 1]);
});
