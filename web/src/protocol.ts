/** Messages between the page and its workers. The page only draws; the workers run the library. */

/** The backends the page's switch offers. */
export type BackendChoice = 'wasm' | 'webgpu';

/** The GPU webgpu runs on, as the browser names it (SwiftShader: vendor 'google'). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface EnvInfo {
  /** The backend in use. */
  backend: string;
  /** The backend the page asked for. */
  requested: BackendChoice;
  /** webgpu's adapter while webgpu is in use, else null. */
  adapter: AdapterInfo | null;
  /** Why webgpu is not in use although asked for (no adapter, ...), else null. */
  unavailable: string | null;
  crossOriginIsolated: boolean;
  /** SharedArrayBuffer is available (what WebAssembly threads need). */
  sharedMemory: boolean;
  /** Threads the backend runs its big kernels on (1 without shared memory). */
  threads: number;
}

/** One layer's output for one image: [h, w, c] values, channel last. */
export interface FeatureMap {
  name: string;
  className: string;
  shape: number[];
  data: Float32Array;
}

export type DigitRequest =
  | { type: 'init'; modelUrl: string }
  /** Another backend for the prediction and feature maps; the worker answers 'backend'. */
  | { type: 'backend'; backend: BackendChoice }
  /**
   * `explain`: the class the heat maps are for, null for the predicted one; `camLayer`: the
   * layer Grad-CAM weighs, null for the library's default; `occlusion`: whether to occlude
   * too (the page asks only once a stroke ends: it costs ten times the rest).
   */
  | {
      type: 'predict';
      id: number;
      pixels: Float32Array;
      explain: number | null;
      camLayer: string | null;
      occlusion: boolean;
    };

/** Why the network answered: heat maps [28 × 28] of one class, each scaled to 0..1. */
export interface Explanation {
  /** The class explained. */
  classIndex: number;
  /** Grad-CAM at `layer`, upsampled to the input's size. */
  gradCam: Float32Array;
  /** The layer Grad-CAM weighs. */
  layer: string;
  /** |∂ score / ∂ pixel|. */
  saliency: Float32Array;
  /** The drop of the class probability where a patch is greyed out (negative drops as 0); null when not asked. */
  occlusion: Float32Array | null;
  /** Milliseconds each took in the worker (occlusion: 0 when not asked). */
  ms: { gradCam: number; saliency: number; occlusion: number };
}

export type DigitReply =
  | { type: 'ready'; env: EnvInfo; params: number; layers: string[] }
  | { type: 'backend'; env: EnvInfo }
  /** `backend`: where the prediction and feature maps ran (the heat maps follow on the same one). */
  | {
      type: 'prediction';
      id: number;
      probs: Float32Array;
      maps: FeatureMap[];
      ms: number;
      backend: string;
    }
  /** Follows each prediction: the worker takes the next drawing only after it. */
  | { type: 'explanation'; id: number; explanation: Explanation; ms: number; backend: string }
  /** `backend`: the one in use when it failed (the page leaves webgpu after an error on it). */
  | { type: 'error'; message: string; backend: string };

/** One filter's (or class's) synthesized image: [h, w] values, what it most responds to. */
export interface FilterImage {
  target: number;
  height: number;
  width: number;
  data: Float32Array;
  /** The filter's mean activation (or the class's logit) at the starting noise, and at the image. */
  start: number;
  end: number;
  /** A first-layer filter's own weights [kh, kw] (its input has one channel), to set beside it. */
  kernel?: { height: number; width: number; data: Float32Array; bias: number };
}

export type FiltersRequest = { type: 'run'; modelUrl: string; backend: BackendChoice };

export type FiltersReply =
  | { type: 'plan'; groups: { name: string; title: string; count: number }[]; env: EnvInfo }
  | { type: 'images'; group: string; images: FilterImage[]; done: number; total: number }
  | { type: 'done'; ms: number }
  | { type: 'error'; message: string };

export interface TrainConfig {
  dataUrl: string;
  backend: BackendChoice;
  model: 'lenet5' | 'mnist-cnn';
  trainSize: number;
  testSize: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export type TrainRequest =
  | { type: 'start'; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export interface Filters {
  /** HWIO kernel of the first convolution: [kh, kw, inChannels, filters]. */
  shape: number[];
  data: Float32Array;
}

export type TrainReply =
  | { type: 'status'; text: string }
  | { type: 'ready'; env: EnvInfo; params: number; steps: number; filters: Filters }
  | {
      type: 'batch';
      epoch: number;
      batch: number;
      step: number;
      loss: number;
      accuracy: number;
      imagesPerSecond: number;
      filters?: Filters;
    }
  | { type: 'epoch'; epoch: number; step: number; valLoss: number; valAccuracy: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; stopped: boolean }
  | { type: 'error'; message: string };

export type ZooRequest = {
  type: 'build';
  id: number;
  name: string;
  inputShape: number[];
  numClasses?: number;
};

export interface ZooRow {
  name: string;
  className: string;
  shape: string;
  params: number;
  detail: string;
  connected: string[];
}

export type ZooReply =
  | { type: 'names'; names: { name: string; description: string; defaultInput: number[] }[] }
  | {
      type: 'built';
      id: number;
      name: string;
      rows: ZooRow[];
      total: number;
      trainable: number;
      summary: string;
      functional: boolean;
      ms: number;
    }
  | { type: 'error'; id: number; message: string };
