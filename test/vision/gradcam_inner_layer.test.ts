/**
 * Grad-CAM at any layer of a residual network: gradCam runs the model up to the layer as
 * inference (fused where the backend fuses) and differentiates the rest, which may reach back
 * past the layer (a skip connection). Checked against the plain definition computed here: the
 * whole graph run on the tape, the layer's output watched as it is computed, the Grad-CAM
 * formula written out, at layers inside a block, at its addition and at a block's output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { valueAndGrads } from '../../src/autograd.js';
import * as rc from '../../src/index.js';
import { runGraph } from '../../src/vision/model_graph.js';
import { assertClose } from '../helpers.js';

function referenceCam(model: rc.Model, x: rc.Tensor, layer: string, classes: number[]): number[] {
  const node = model.graphNodes.find((t) => t.layer.name === layer && t.inputs.length > 0)!;
  let a: rc.Tensor | undefined;
  const { grads } = valueAndGrads((watch) => {
    const out = runGraph(model, x, [model.outputs[0]!], (n, v) =>
      n === node ? (a = watch(v)) : v,
    )[0]!;
    const logits = out.logits ?? out;
    return rc.sum(rc.mul(logits, rc.oneHot(classes, logits.shape[1]!)));
  });
  const [n, h, w, k] = a!.shape as [number, number, number, number];
  const A = a!.dataSync();
  const G = grads[0]!.dataSync();
  const cam: number[] = [];
  for (let i = 0; i < n; i++) {
    const weights = new Array(k).fill(0);
    for (let p = 0; p < h * w; p++)
      for (let c = 0; c < k; c++) weights[c] += G[(i * h * w + p) * k + c]! / (h * w);
    const maps = Array.from({ length: h * w }, (_, p) =>
      Math.max(
        0,
        weights.reduce((s, wc, c) => s + wc * A[(i * h * w + p) * k + c]!, 0),
      ),
    );
    const hi = Math.max(...maps);
    cam.push(...maps.map((v) => (hi > 0 ? v / hi : 0)));
  }
  return cam;
}

test(`Grad-CAM inside residual blocks equals the definition run on the whole graph (${rc.getBackend()})`, async () => {
  rc.setSeed(3);
  const model = rc.models.resnet18({ numClasses: 10, inputShape: [32, 32, 3] });
  const x = rc.randomUniform([2, 32, 32, 3], { seed: 4 });
  const layers = [
    'stage2_block1_add',
    'stage3_block2_1_conv',
    'stage3_block2_1_relu',
    'stage3_block2_2_bn',
    'stage3_block2_out',
  ];
  for (const layer of layers) {
    assert.ok(rc.vision.spatialLayerNames(model).includes(layer), `no layer ${layer}`);
    const r = await rc.vision.gradCam(model, x, { layer, classIndex: [1, 2] });
    const ref = referenceCam(model, x, layer, [1, 2]);
    assert.ok(
      ref.some((v) => v > 0),
      `${layer}: the reference map is all zero`,
    );
    assertClose(r.layerHeatmap.dataSync(), ref, { atol: 1e-4, rtol: 0, msg: layer });
  }
  for (const w of model.weights) assert.equal(w.grad, null);
});
