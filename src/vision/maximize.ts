/**
 * What a filter (or a class) wants to see: activation maximization. Gradient ascent on the
 * input image, from its least exciting faint-noise start, with two regularizers that keep the image natural-looking
 * instead of adversarial high-frequency noise: jitter (the image is shifted by a few random
 * pixels before each step) and blur (a small Gaussian blur every few steps). Gradients are taken
 * with respect to the image only (valueAndGrads); each step runs in a scope.
 */
import { valueAndGrads } from '../autograd.js';
import type { RawImage } from '../data/image_codec.js';
import type { Model } from '../model/model.js';
import type { SymbolicTensor } from '../nn/layer.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { type Tensor, tensor } from '../tensor.js';
import { scopedValues, stepScope } from '../train/step_scope.js';
import { ArgumentError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { Random } from '../util/random.js';
import { layerNode, runGraph } from './model_graph.js';
import { tile } from './pictures.js';
import { toBytes } from './pixels.js';

/** Options of {@link maximizeActivation}. */
export interface MaximizeOptions {
  /** The layer whose channel (or unit, for a [batch, units] output) is excited, by name. */
  layer?: string;
  /**
   * Which channel(s) of `layer`: a number, a list (one image each, drawn as a grid), or 'all'.
   * Default: the layer's first 16 channels.
   */
  filter?: number | number[] | 'all';
  /** Instead of a layer's filter: the class(es) whose score (the logit, before a final softmax) is raised. */
  classIndex?: number | number[];
  /** Gradient-ascent steps (default 128). */
  steps?: number;
  /** Step size, as a fraction of the value range per step of unit root-mean-square gradient (default 0.1). */
  learningRate?: number;
  /** Largest random shift in pixels before each step (default: a sixteenth of the image's side, at least 1; 0: none). */
  jitter?: number;
  /** Blur the image every this many steps (default 4; 0: never). */
  blurEvery?: number;
  /** Standard deviation of the 3×3 Gaussian blur, in pixels (default 0.4). */
  blurSigma?: number;
  /** The values an image may take, [low, high] (default [0, 1]); the image is kept inside. */
  range?: [number, number];
  /** The input image's [height, width, channels] where the model does not fix it. */
  inputShape?: number[];
  /** Seed of the starting noise and the jitter (default 0). */
  seed?: number;
  /**
   * What of a filter is raised: 'mean' (default), its mean over the whole feature map; or
   * 'centre', its one unit at the centre of the map (row ⌊h/2⌋, column ⌊w/2⌋), which sees a
   * patch of the image (its receptive field), so the rest of the image is left free. For a
   * [batch, units] output or a class score both are the same.
   */
  objective?: 'mean' | 'centre';
}

/** What {@link maximizeActivation} returns. */
export interface MaximizeResult {
  /** Shape [k, H, W, C]: one image per filter or class, in the order asked. */
  images: Tensor;
  /** Which filters (or classes) the images are for. */
  targets: number[];
  /**
   * Each target's activation (mean over the feature map, its centre unit with objective
   * 'centre', or the logit) at its start: the least exciting, among faint-noise images around flat tones from the range's low end to its high
   * end (and, for targets none of those reaches, stronger noise around mid-grey), of those where
   * the target responds at all (has a gradient).
   */
  start: number[];
  /** The same at the final image. */
  end: number[];
  /**
   * Dead targets: those whose gradient is 0 at every starting image (a ReLU unit that no start
   * turns on), so have nothing to climb; their image is left mid-grey.
   */
  skipped: number[];
  /** The images as one grid picture (each min-max normalized, enlarged to about 64 px per cell). */
  picture: RawImage;
}

const KEYS = [
  'layer',
  'filter',
  'classIndex',
  'steps',
  'learningRate',
  'jitter',
  'blurEvery',
  'blurSigma',
  'range',
  'inputShape',
  'seed',
  'objective',
];

function intIn(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new ArgumentError(
      `maximizeActivation: ${name} must be an integer in ${lo}..${hi}, got ${String(v)}.`,
    );
  return v;
}

function numIn(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !(v >= lo && v <= hi))
    throw new ArgumentError(
      `maximizeActivation: ${name} must be a number in ${lo}..${hi}, got ${String(v)}.`,
    );
  return v;
}

/**
 * Synthesizes the input that most excites a filter of a layer (the mean of its feature map, or
 * with `objective: 'centre'` its unit at the map's centre) or a class's score, by gradient
 * ascent with jitter and blur. Several filters or classes give several images, optimized
 * together as one batch, and `picture` shows them as a grid.
 *
 * ```ts
 * const { picture, start, end } = await rc.vision.maximizeActivation(model, { layer: 'conv2d_2', filter: 'all' });
 * await rc.vision.maximizeActivation(model, { layer: 'conv2d_2', filter: 3, objective: 'centre' });
 * await rc.vision.maximizeActivation(model, { classIndex: 7, steps: 256 });
 * ```
 * @throws ArgumentError for an unknown layer, a filter or class out of range, neither layer
 *   nor classIndex (or both), bad settings (an objective other than 'mean' or 'centre')
 */
export async function maximizeActivation(
  model: Model,
  options: MaximizeOptions,
): Promise<MaximizeResult> {
  const where = 'maximizeActivation';
  checkOptions(where, options, KEYS);
  if (!options || (options.layer === undefined) === (options.classIndex === undefined))
    throw new ArgumentError(`${where}: give either { layer, filter } or { classIndex }.`);
  if (!model || !Array.isArray((model as { inputs?: unknown }).inputs) || !model.graphNodes)
    throw new ArgumentError(
      `${where}: expects a model (rc.Sequential or rc.Model), got ${String(model)}.`,
    );
  if (model.inputs.length > 1)
    throw new ArgumentError(`${where}: ${model.label} has several inputs; this takes one.`);
  let shape = options.inputShape;
  if (model.graphNodes.length === 0) {
    if (!shape)
      throw new ArgumentError(
        `${where}: ${model.label} is not built; give inputShape [height, width, channels].`,
      );
    model.build([null, ...shape]);
  }
  const known = model.inputs[0]!.shape.slice(1);
  if (shape !== undefined) {
    if (
      !Array.isArray(shape) ||
      shape.length !== known.length ||
      shape.some((d, i) => !Number.isInteger(d) || d < 1 || (known[i] !== null && known[i] !== d))
    )
      throw new ArgumentError(
        `${where}: inputShape ${JSON.stringify(shape)} does not fit the model's input [${known.map((d) => d ?? '?').join(', ')}].`,
      );
  } else {
    if (known.some((d) => d === null))
      throw new ArgumentError(
        `${where}: ${model.label} takes images of any size; give inputShape [height, width, channels].`,
      );
    shape = known as number[];
  }
  if (shape.length !== 3)
    throw new ArgumentError(
      `${where}: expects a model of images [batch, height, width, channels].`,
    );
  const [H, W, C] = shape as [number, number, number];
  if (C !== 1 && C !== 3)
    throw new ArgumentError(
      `${where}: expects grey or RGB images (1 or 3 channels), the model takes ${C}.`,
    );

  // The target node and its channel count.
  let node: SymbolicTensor;
  let targets: number[];
  if (options.classIndex !== undefined) {
    node = model.outputs[0]!;
    const classes = node.shape[node.shape.length - 1];
    if (node.rank !== 2 || typeof classes !== 'number')
      throw new ArgumentError(
        `${where}: classIndex needs a model with class scores [batch, classes].`,
      );
    const list = Array.isArray(options.classIndex) ? options.classIndex : [options.classIndex];
    targets = list.map((c) => intIn(c, 'classIndex', 0, classes - 1));
  } else {
    node = layerNode(model, String(options.layer));
    const channels = node.shape[node.shape.length - 1];
    if ((node.rank !== 4 && node.rank !== 2) || typeof channels !== 'number')
      throw new ArgumentError(
        `${where}: layer '${node.layer.name}' must have an image-like [batch, h, w, c] or [batch, units] output.`,
      );
    const f = options.filter ?? Array.from({ length: Math.min(16, channels) }, (_, i) => i);
    targets =
      f === 'all'
        ? Array.from({ length: channels }, (_, i) => i)
        : (Array.isArray(f) ? f : [f]).map((c) => intIn(c, 'filter', 0, channels - 1));
  }
  if (targets.length === 0) throw new ArgumentError(`${where}: no filter or class to maximize.`);
  const steps = intIn(options.steps ?? 128, 'steps', 0, 100000);
  const lr = numIn(options.learningRate ?? 0.1, 'learningRate', 0, 100);
  const jitter = intIn(
    options.jitter ?? Math.max(1, Math.round(Math.min(H, W) / 16)),
    'jitter',
    0,
    Math.min(H, W),
  );
  const blurEvery = intIn(options.blurEvery ?? 4, 'blurEvery', 0, 100000);
  const sigma = numIn(options.blurSigma ?? 0.4, 'blurSigma', 0.01, 100);
  const range = options.range ?? [0, 1];
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every(Number.isFinite) ||
    !(range[0] < range[1])
  )
    throw new ArgumentError(
      `${where}: range must be [low, high] with low < high, got ${JSON.stringify(range)}.`,
    );
  const [lo, hi] = range;
  const rng = new Random(options.seed ?? 0);
  const mode = options.objective ?? 'mean';
  if (mode !== 'mean' && mode !== 'centre')
    throw new ArgumentError(
      `${where}: objective must be 'mean' or 'centre', got ${JSON.stringify(mode)}.`,
    );

  const k = targets.length;
  const size = H * W * C;
  const img = new Float32Array(k * size);
  const useLogits = options.classIndex !== undefined;
  const objective = (x: Float32Array) =>
    activationAndGrad(model, node, x, [k, H, W, C], targets, useLogits, mode === 'centre');
  // The start: for each target, the least exciting of a few faint-noise images around flat
  // tones (dark to light), among those where it responds at all (has a gradient: a ReLU unit
  // at 0 has none to climb). Many filters fire on any flat tone through their bias, and a grey start
  // would leave them little room; from their least exciting tone the rise is what the filter
  // learnt. Targets that respond to none, not even to strong noise, are dead: left at their
  // start and listed in `skipped`.
  const starts: [number, number][] = [
    [0, 0.02],
    [0.25, 0.02],
    [0.5, 0.02],
    [0.75, 0.02],
    [1, 0.02],
    [0.5, 0.25],
    [0.5, 0.5],
  ];
  const start = new Array<number>(k).fill(0);
  img.fill(lo + 0.5 * (hi - lo));
  const candidate = new Float32Array(k * size);
  let found = new Array<boolean>(k).fill(false);
  for (const [tone, noise] of starts) {
    for (let j = 0; j < k * size; j++)
      candidate[j] = Math.min(hi, Math.max(lo, lo + (hi - lo) * (tone + noise * rng.normal())));
    const { values, grad } = await objective(candidate);
    const next = found.slice();
    for (let i = 0; i < k; i++) {
      const v = values[i]!;
      let moves = false;
      for (let j = i * size; j < (i + 1) * size && !moves; j++) moves = grad[j] !== 0;
      if (!moves || (found[i] && v >= start[i]!)) continue;
      // Strong noise is a last resort, for targets that no faint start reaches.
      if (noise > 0.1 && found[i]) continue;
      start[i] = v;
      next[i] = true;
      img.set(candidate.subarray(i * size, (i + 1) * size), i * size);
    }
    found = next;
  }
  const skipped = targets.filter((_, i) => !found[i]);
  const kernel = gauss3(sigma);
  for (let s = 0; s < steps; s++) {
    const dy = jitter ? rng.int(2 * jitter + 1) - jitter : 0;
    const dx = jitter ? rng.int(2 * jitter + 1) - jitter : 0;
    const { grad } = await objective(roll(img, k, H, W, C, dy, dx));
    const g = roll(grad, k, H, W, C, -dy, -dx);
    for (let i = 0; i < k; i++) {
      let ss = 0;
      for (let j = i * size; j < (i + 1) * size; j++) ss += g[j]! * g[j]!;
      const step = (lr * (hi - lo)) / (Math.sqrt(ss / size) + 1e-8);
      for (let j = i * size; j < (i + 1) * size; j++)
        img[j] = Math.min(hi, Math.max(lo, img[j]! + step * g[j]!));
    }
    if (blurEvery > 0 && (s + 1) % blurEvery === 0) blur(img, k, H, W, C, kernel);
  }
  const end = (await objective(img)).values;
  const images = stepScope(
    null,
    (t) => [t],
    () => tensor(img, [k, H, W, C]),
  );
  const cells = Array.from({ length: k }, (_, i) => ({
    height: H,
    width: W,
    data: toBytes(img.subarray(i * size, (i + 1) * size), 'minmax', '0..1', where),
  }));
  const picture = tile(cells, C === 3 ? 3 : 1, {
    scale: Math.max(1, Math.round(64 / Math.max(H, W))),
    gutter: 2,
    columns: Math.min(k, Math.ceil(Math.sqrt(k))),
  });
  return { images, targets, start, end, skipped, picture };
}

/** Each image's target activation, and the gradient of their sum with respect to the images. */
async function activationAndGrad(
  model: Model,
  node: SymbolicTensor,
  x: Float32Array,
  shape: number[],
  targets: number[],
  useLogits: boolean,
  centre: boolean,
): Promise<{ values: number[]; grad: Float32Array }> {
  let per = 0;
  let c = 0;
  const [picked, grad] = await scopedValues(() => {
    const input = tensor(x, shape);
    let chosen: Tensor | undefined;
    const { grads } = valueAndGrads((watch) => {
      const out0 = runGraph(model, watch(input), [node])[0]!;
      const out = useLogits ? (out0.logits ?? out0) : out0;
      c = out.shape[out.rank - 1]!;
      per = out.size / (targets.length * c);
      const m = new Float32Array(out.size);
      // The centre unit of an [batch, h, w, c] map: row ⌊h/2⌋, column ⌊w/2⌋.
      const mid =
        centre && out.rank === 4
          ? Math.floor(out.shape[1]! / 2) * out.shape[2]! + Math.floor(out.shape[2]! / 2)
          : -1;
      targets.forEach((t, i) => {
        if (mid >= 0) m[(i * per + mid) * c + t] = 1;
        else for (let q = 0; q < per; q++) m[(i * per + q) * c + t] = 1 / per;
      });
      chosen = mul(out, tensor(m, out.shape));
      return sum(chosen);
    });
    return [chosen!, grads[0]!];
  });
  const values = targets.map((_, i) => {
    let s = 0;
    for (let j = i * per * c; j < (i + 1) * per * c; j++) s += picked![j]!;
    return s;
  });
  return { values, grad: grad! };
}

/** Images [k, H, W, C] shifted by (dy, dx) with wrap-around. */
function roll(
  v: Float32Array,
  k: number,
  H: number,
  W: number,
  C: number,
  dy: number,
  dx: number,
): Float32Array {
  if (dy === 0 && dx === 0) return v.slice();
  const out = new Float32Array(v.length);
  for (let i = 0; i < k; i++)
    for (let y = 0; y < H; y++) {
      const ty = (((y + dy) % H) + H) % H;
      for (let x = 0; x < W; x++) {
        const tx = (((x + dx) % W) + W) % W;
        const src = ((i * H + y) * W + x) * C;
        out.set(v.subarray(src, src + C), ((i * H + ty) * W + tx) * C);
      }
    }
  return out;
}

function gauss3(sigma: number): number[] {
  const e = Math.exp(-1 / (2 * sigma * sigma));
  return [e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)];
}

/** A separable 3×3 Gaussian blur in place, edges clamped. */
function blur(v: Float32Array, k: number, H: number, W: number, C: number, g: number[]): void {
  const tmp = new Float32Array(v.length);
  const at = (i: number, y: number, x: number, c: number, a: Float32Array) =>
    a[((i * H + Math.min(H - 1, Math.max(0, y))) * W + Math.min(W - 1, Math.max(0, x))) * C + c]!;
  for (let i = 0; i < k; i++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++)
          tmp[((i * H + y) * W + x) * C + c] =
            g[0]! * at(i, y, x - 1, c, v) +
            g[1]! * at(i, y, x, c, v) +
            g[2]! * at(i, y, x + 1, c, v);
  for (let i = 0; i < k; i++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++)
          v[((i * H + y) * W + x) * C + c] =
            g[0]! * at(i, y - 1, x, c, tmp) +
            g[1]! * at(i, y, x, c, tmp) +
            g[2]! * at(i, y + 1, x, c, tmp);
}
