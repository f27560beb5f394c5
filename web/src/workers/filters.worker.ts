/**
 * "What filters see": for LeNet-5's convolutions and its ten classes, the input images that
 * excite each filter (or class score) most, by rc.vision.maximizeActivation. A few seconds of
 * gradient ascent, so it runs here, in groups of a few filters, each group reported as it ends.
 */
import type { FilterImage, FiltersReply, FiltersRequest } from '../protocol.js';
import { layers, loadModel, type Model, vision } from '../rc.js';
import { scope, startBackend } from './env.js';

const post = (m: FiltersReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
/** Filters optimized together, as one batch: fewer passes than one by one, yet frequent progress. */
const CHUNK = 4;

interface Group {
  name: string;
  title: string;
  targets: number[];
  /** A convolution's kernel [kh, kw, 1, filters] where its input is the grey image itself. */
  kernel?: { shape: number[]; data: Float32Array; bias: Float32Array };
  /** maximizeActivation's target: a layer's filters, or the classes. */
  options: (targets: number[]) => { layer: string; filter: number[] } | { classIndex: number[] };
}

function plan(model: Model): Group[] {
  const convs = model.layers.filter((l) => l instanceof layers.Conv2D) as InstanceType<
    typeof layers.Conv2D
  >[];
  const groups: Group[] = convs.map((l) => {
    const filters = l.filters;
    const k = l.kernel!;
    // Weights loaded from the files came from the CPU: readable synchronously on any backend.
    const bias = l.bias ? (l.bias.dataSync() as Float32Array) : new Float32Array(filters);
    return {
      kernel:
        k.shape[2] === 1 ? { shape: k.shape, data: k.dataSync() as Float32Array, bias } : undefined,
      name: l.name,
      title: `${l.name} (Conv2D, ${filters} filters)`,
      targets: Array.from({ length: filters }, (_, i) => i),
      options: (filter) => ({ layer: l.name, filter }),
    };
  });
  groups.push({
    name: 'classes',
    title: 'the ten classes (the score before the softmax)',
    targets: Array.from({ length: 10 }, (_, i) => i),
    options: (classIndex) => ({ classIndex }),
  });
  return groups;
}

/** Filter f's weights [kh, kw] of a kernel [kh, kw, 1, filters], and its bias. */
function kernelOf(kernel: { shape: number[]; data: Float32Array; bias: Float32Array }, f: number) {
  const [height, width, , filters] = kernel.shape as [number, number, number, number];
  const data = new Float32Array(height * width);
  for (let i = 0; i < height * width; i++) data[i] = kernel.data[i * filters + f]!;
  return { height, width, data, bias: kernel.bias[f]! };
}

scope.onmessage = async (e: MessageEvent<FiltersRequest>) => {
  const msg = e.data;
  try {
    if (msg.type !== 'run') return;
    // The page's backend (webgpu falls back to wasm where it cannot start: env says why).
    const env = await startBackend(msg.backend);
    const t0 = performance.now();
    const model = await loadModel(msg.modelUrl);
    const groups = plan(model);
    const total = groups.reduce((s, g) => s + g.targets.length, 0);
    post({
      type: 'plan',
      env,
      groups: groups.map((g) => ({ name: g.name, title: g.title, count: g.targets.length })),
    });
    let done = 0;
    for (const g of groups) {
      for (let i = 0; i < g.targets.length; i += CHUNK) {
        const targets = g.targets.slice(i, i + CHUNK);
        const r = await vision.maximizeActivation(model, g.options(targets));
        const [, h, w] = r.images.shape as [number, number, number, number];
        const all = await r.images.data();
        const images: FilterImage[] = r.targets.map((target, k) => ({
          target,
          height: h,
          width: w,
          data: new Float32Array(all.subarray(k * h * w, (k + 1) * h * w)),
          start: r.start[k]!,
          end: r.end[k]!,
          kernel: g.kernel && kernelOf(g.kernel, target),
        }));
        done += targets.length;
        post({ type: 'images', group: g.name, images, done, total }, [
          ...images.map((im) => im.data.buffer),
          ...images.flatMap((im) => (im.kernel ? [im.kernel.data.buffer] : [])),
        ]);
      }
    }
    post({ type: 'done', ms: performance.now() - t0 });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
