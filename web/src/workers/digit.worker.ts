/** Inference for "Draw a digit": LeNet-5 trained on MNIST, its probabilities and feature maps. */
import type { DigitReply, DigitRequest, FeatureMap } from '../protocol.js';
import { loadModel, type Model, tensor, vision } from '../rc.js';
import { scope, startBackend } from './env.js';

let model: Model | null = null;
let mapLayers: string[] = [];
const post = (m: DigitReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

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
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
