/**
 * Inference for "Draw a digit": LeNet-5 trained on MNIST, its probabilities and feature maps,
 * then why it answered: Grad-CAM, saliency and occlusion heat maps of one class.
 *
 * Everything runs on the backend the page chose (wasm or webgpu), and values are read with
 * `await t.data()`, which both allow (webgpu refuses synchronous reads of what it computed).
 */
import type {
  BackendChoice,
  DigitReply,
  DigitRequest,
  Explanation,
  FeatureMap,
} from '../protocol.js';
import { loadModel, type Model, setBackend, type Tensor, tensor, vision } from '../rc.js';
import { scope, startBackend } from './env.js';

/** The model on wasm (the worker's default backend: where tensors are made between requests). */
let model: Model | null = null;
/** The model on webgpu, while webgpu is chosen and started. */
let gpuModel: Model | null = null;
let modelUrl = '';
let mapLayers: string[] = [];
const post = (m: DigitReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

/** Starts `want` (webgpu falls back to wasm where it cannot start) and loads the model there. */
async function useBackend(want: BackendChoice) {
  gpuModel = null;
  const env = await startBackend(want);
  if (env.backend === 'webgpu') {
    try {
      gpuModel = await loadModel(modelUrl);
    } finally {
      // Tensors are made on the backend in use: wasm stays the worker's default.
      await setBackend('wasm');
    }
  }
  return env;
}

/** A map's values scaled to 0..1 by its largest (negative values, where there are any, as 0). */
async function toUnit(t: Tensor): Promise<Float32Array> {
  const v = new Float32Array(await t.data());
  let hi = 0;
  for (let i = 0; i < v.length; i++) hi = Math.max(hi, v[i]!);
  for (let i = 0; i < v.length; i++) v[i] = hi > 0 ? Math.max(0, v[i]!) / hi : 0;
  return v;
}

/** The heat maps, on the backend the page chose (call with it in use, x made there). */
async function explain(
  m: Model,
  x: Tensor,
  classIndex: number,
  layer: string | null,
  occlude: boolean,
): Promise<Explanation> {
  const t0 = performance.now();
  // Default layer: the library's (LeNet-5's last pooling output, 4×4).
  const cam = await vision.gradCam(m, x, layer === null ? { classIndex } : { classIndex, layer });
  const gradCam = new Float32Array(await cam.heatmap.data());
  const t1 = performance.now();
  const saliency = await toUnit((await vision.saliency(m, x, { classIndex })).map);
  const t2 = performance.now();
  // A 4×4 grey patch every 2 pixels: 13 × 13 positions, one batch of 169 small images.
  const occlusion = occlude
    ? await toUnit((await vision.occlusion(m, x, { classIndex, patch: 4, stride: 2 })).map)
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

/** The values of a tensor on any backend, as a fresh array the page may take. */
async function valuesOf(t: Tensor): Promise<Float32Array> {
  return new Float32Array(await t.data());
}

async function predict(msg: Extract<DigitRequest, { type: 'predict' }>): Promise<void> {
  if (!model) throw new Error('the model is not loaded yet');
  const m = gpuModel ?? model;
  const t0 = performance.now();
  let xOn: Tensor;
  let probs: Float32Array;
  let maps: FeatureMap[];
  if (gpuModel) await setBackend('webgpu');
  try {
    xOn = tensor(msg.pixels, [1, 28, 28, 1]);
    probs = await valuesOf(m.predict(xOn));
    maps = [];
    for (const name of mapLayers) {
      const y = vision.layerOutput(m, name, xOn);
      const layer = m.layers.find((l) => l.name === name)!;
      maps.push({
        name,
        className: layer.className,
        shape: y.shape.slice(1),
        data: await valuesOf(y),
      });
    }
  } finally {
    if (gpuModel) await setBackend('wasm');
  }
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  const ms = performance.now() - t0;
  post({ type: 'prediction', id: msg.id, probs, maps, ms, backend: gpuModel ? 'webgpu' : 'wasm' }, [
    probs.buffer,
    ...maps.map((f) => f.data.buffer),
  ]);
  const t1 = performance.now();
  let explanation: Explanation;
  if (gpuModel) await setBackend('webgpu');
  try {
    const x = tensor(msg.pixels, [1, 28, 28, 1]);
    explanation = await explain(m, x, msg.explain ?? best, msg.camLayer, msg.occlusion);
  } finally {
    if (gpuModel) await setBackend('wasm');
  }
  const backend = gpuModel ? 'webgpu' : 'wasm';
  post({ type: 'explanation', id: msg.id, explanation, ms: performance.now() - t1, backend }, [
    explanation.gradCam.buffer,
    explanation.saliency.buffer,
    ...(explanation.occlusion ? [explanation.occlusion.buffer] : []),
  ]);
}

async function handle(msg: DigitRequest): Promise<void> {
  // Where it failed: after an error on webgpu the page goes back to wasm.
  let on = gpuModel ? 'webgpu' : 'wasm';
  try {
    if (msg.type === 'init') {
      modelUrl = msg.modelUrl;
      await startBackend('wasm');
      model = await loadModel(modelUrl);
      mapLayers = vision.spatialLayerNames(model);
      const env = await useBackend('wasm'); // webgpu, if chosen, follows as its own message
      post({ type: 'ready', env, params: model.countParams(), layers: mapLayers });
    } else if (msg.type === 'backend') {
      on = msg.backend;
      post({ type: 'backend', env: await useBackend(msg.backend) });
    } else if (msg.type === 'predict') {
      await predict(msg);
    }
  } catch (err) {
    if (on === 'webgpu') gpuModel = null;
    post({ type: 'error', message: (err as Error).message, backend: on });
  }
}

// One message at a time: each awaits the GPU, and a switch must not land inside a prediction.
let queue = Promise.resolve();
scope.onmessage = (e: MessageEvent<DigitRequest>) => {
  queue = queue.then(() => handle(e.data));
};
