/**
 * Inference for "Draw a digit": LeNet-5 trained on MNIST, its probabilities and feature maps,
 * then why it answered: Grad-CAM, saliency and occlusion heat maps of one class.
 */
import type { DigitReply, DigitRequest, Explanation, FeatureMap } from '../protocol.js';
import { loadModel, type Model, type Tensor, tensor, vision } from '../rc.js';
import { scope, startBackend } from './env.js';

let model: Model | null = null;
let mapLayers: string[] = [];
const post = (m: DigitReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

/** A map's values scaled to 0..1 by its largest (negative values, where there are any, as 0). */
function toUnit(t: Tensor): Float32Array {
  const v = new Float32Array(t.dataSync());
  let hi = 0;
  for (let i = 0; i < v.length; i++) hi = Math.max(hi, v[i]!);
  for (let i = 0; i < v.length; i++) v[i] = hi > 0 ? Math.max(0, v[i]!) / hi : 0;
  return v;
}

async function explain(
  x: Tensor,
  classIndex: number,
  layer: string | null,
  occlude: boolean,
): Promise<Explanation> {
  const m = model!;
  const t0 = performance.now();
  // Default layer: the library's (LeNet-5's last pooling output, 4×4).
  const cam = await vision.gradCam(m, x, layer === null ? { classIndex } : { classIndex, layer });
  const gradCam = new Float32Array(cam.heatmap.dataSync());
  const t1 = performance.now();
  const saliency = toUnit((await vision.saliency(m, x, { classIndex })).map);
  const t2 = performance.now();
  // A 4×4 grey patch every 2 pixels: 13 × 13 positions, one batch of 169 small images.
  const occlusion = occlude
    ? toUnit((await vision.occlusion(m, x, { classIndex, patch: 4, stride: 2 })).map)
    : null;
  const t3 = performance.now();
  return {
    classIndex,
    gradCam,
    layer: cam.layer,
    saliency,
    occlusion,
    ms: { gradCam: t1 - t0, saliency: t2 - t1, occlusion: t3 - t2 },
  };
}

scope.onmessage = async (e: MessageEvent<DigitRequest>) => {
  const msg = e.data;
  try {
    if (msg.type === 'init') {
      const env = startBackend();
      model = await loadModel(msg.modelUrl);
      mapLayers = vision.spatialLayerNames(model);
      post({ type: 'ready', env, params: model.countParams(), layers: mapLayers });
    } else if (msg.type === 'predict') {
      if (!model) throw new Error('the model is not loaded yet');
      const t0 = performance.now();
      const x = tensor(msg.pixels, [1, 28, 28, 1]);
      const probs = model.predict(x).dataSync() as Float32Array;
      let best = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
      const maps: FeatureMap[] = mapLayers.map((name) => {
        const y = vision.layerOutput(model!, name, x);
        const layer = model!.layers.find((l) => l.name === name)!;
        return {
          name,
          className: layer.className,
          shape: y.shape.slice(1),
          data: y.dataSync() as Float32Array,
        };
      });
      post({ type: 'prediction', id: msg.id, probs, maps, ms: performance.now() - t0 }, [
        probs.buffer,
        ...maps.map((m) => m.data.buffer),
      ]);
      const t1 = performance.now();
      const explanation = await explain(x, msg.explain ?? best, msg.camLayer, msg.occlusion);
      post({ type: 'explanation', id: msg.id, explanation, ms: performance.now() - t1 }, [
        explanation.gradCam.buffer,
        explanation.saliency.buffer,
        ...(explanation.occlusion ? [explanation.occlusion.buffer] : []),
      ]);
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
