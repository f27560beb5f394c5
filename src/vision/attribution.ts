/**
 * Why the network answered as it did: Grad-CAM (and Grad-CAM++), saliency (and SmoothGrad),
 * integrated gradients and occlusion, for any Sequential or functional model with one image
 * input and a [batch, classes] output, on every backend.
 *
 * The class score that gradients explain is the logit: when the model ends in a softmax (a
 * Softmax layer or an activation: 'softmax'), the value before it, as in the Grad-CAM paper
 * (the probability's gradient vanishes where the model is sure); otherwise the output itself.
 * Occlusion measures the drop of the class probability: the softmax output, or softmax of the
 * output when the model has none.
 *
 * Gradients are taken with respect to the input or the inner layer only (valueAndGrads):
 * weights get no `.grad` and their gradients are never computed. Each pass runs in a step
 * scope, so a backend with its own memory (wasm) frees the intermediates at once: nothing to
 * dispose().
 */
import { noGrad, valueAndGrads } from '../autograd.js';
import { backend } from '../backend/registry.js';
import type { RawImage } from '../data/image_codec.js';
import { type Model, Model as ModelClass } from '../model/model.js';
import type { SymbolicTensor } from '../nn/layer.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { resize } from '../ops/resize.js';
import { reshape } from '../ops/shape.js';
import { makeReadable, oneHot, Tensor, tensor } from '../tensor.js';
import { scopedValues, stepScope } from '../train/step_scope.js';
import { ArgumentError, fmtShape, NonFiniteError, ShapeError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';
import { checkOptions } from '../util/options.js';
import { Random } from '../util/random.js';
import { type OverlayOptions, overlayHeatmap, scalePerImage } from './heatmap.js';
import { checkModelInput, layerNode, runGraph, spatialLayerNames } from './model_graph.js';

/** Which class each image's explanation is for: one for all, one per image, or (default) the predicted one. */
export type ClassIndex = number | number[];

/** What every explanation takes: the class, and how its picture is drawn. */
export interface ExplainBaseOptions {
  /** The class to explain: a number, one per image, or (default) each image's predicted class. */
  classIndex?: ClassIndex;
  /** How `picture` is drawn (colormap, alpha, the image's normalization). */
  picture?: OverlayOptions;
}

/** A model, an input batch and its output's class count, checked once. */
interface Prepared {
  model: Model;
  x: Tensor;
  n: number;
  classes: number;
  output: SymbolicTensor;
}

const BASE_KEYS = ['classIndex', 'picture'];

/**
 * Checks the model and the input (NHWC float32 images, finite, of the model's input shape, a
 * [batch, classes] output), building a Sequential that has not seen its input shape yet.
 */
async function prepare(model: Model, x: Tensor, where: string): Promise<Prepared> {
  if (!model || !Array.isArray((model as { inputs?: unknown }).inputs) || !model.graphNodes)
    throw new ArgumentError(
      `${where}: expects a model (rc.Sequential or rc.Model), got ${String(model)}.`,
    );
  if (!(x instanceof Tensor))
    throw new ArgumentError(
      `${where}: x must be a Tensor of images [batch, height, width, channels].`,
    );
  if (x.rank !== 4)
    throw new ShapeError(
      `${where}: x must be images [batch, height, width, channels], got ${fmtShape(x.shape)}.` +
        (x.rank === 3 ? ' Add the batch axis: rc.expandDims(x, 0).' : ''),
    );
  if (x.dtype !== 'float32')
    throw new ArgumentError(`${where}: x must be float32, got ${x.dtype}.`);
  if (x.shape[0] === 0)
    throw new ShapeError(`${where}: x is an empty batch; give at least one image.`);
  if (model.graphNodes.length === 0) model.build([null, ...x.shape.slice(1)]);
  checkModelInput(model, x, where);
  // Read on the CPU from here on (the noise of SmoothGrad, the baselines, the pictures): made
  // readable once, as webgpu's GPU-computed tensors need.
  await makeReadable([x]);
  const v = x.dataSync();
  const bad = firstNonFinite(v);
  if (bad >= 0)
    throw new NonFiniteError(
      `${where}: x holds ${v[bad]} at index ${bad}; explanations need finite pixels. Check how the image was loaded and normalized.`,
    );
  const output = model.outputs[0]!;
  const classes = output.shape[output.shape.length - 1];
  if (output.shape.length !== 2 || typeof classes !== 'number')
    throw new ShapeError(
      `${where}: the model's output must be class scores [batch, classes], got [${output.shape.map((d) => d ?? 'batch').join(', ')}].`,
    );
  return { model, x, n: x.shape[0]!, classes, output };
}

/** The class of each image as the option says, checked; null for "the predicted one" (argmaxRows of the output). */
function resolveClasses(
  p: Prepared,
  classIndex: ClassIndex | undefined,
  where: string,
): number[] | null {
  const check = (c: unknown, i: number) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= p.classes)
      throw new ArgumentError(
        `${where}: classIndex${Array.isArray(classIndex) ? `[${i}]` : ''} must be an integer in 0..${p.classes - 1} (the model has ${p.classes} classes), got ${String(c)}.`,
      );
    return c;
  };
  if (classIndex === undefined) return null;
  if (Array.isArray(classIndex)) {
    if (classIndex.length !== p.n)
      throw new ArgumentError(
        `${where}: classIndex has ${classIndex.length} entries for ${p.n} images; give one per image or a single number.`,
      );
    return classIndex.map(check);
  }
  const c = check(classIndex, 0);
  return new Array(p.n).fill(c);
}

/** The index of the largest value of each row of an [n, k] array. */
function argmaxRows(v: ArrayLike<number>, n: number, k: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (v[i * k + j]! > v[i * k + best]!) best = j;
    return best;
  });
}

/** The logits of an output: what the softmax at its end (if any) was applied to. */
function logitsOf(out: Tensor): Tensor {
  return out.logits ?? out;
}

/** The model's output for x without gradients, in a scope; as JS numbers [n, classes]. */
async function outputValues(
  p: Prepared,
  x: Tensor | Float32Array,
  which: 'logits' | 'probabilities',
): Promise<Float32Array> {
  let softmaxed = false;
  const [v] = await scopedValues(() =>
    noGrad(() => {
      const out = runGraph(p.model, inScope(p, x), [p.output])[0]!;
      softmaxed = out.logits !== undefined;
      return [which === 'logits' ? logitsOf(out) : out];
    }),
  );
  return which === 'probabilities' && !softmaxed ? softmaxRows(v!, p.classes) : v!;
}

/** Values made in a pass become a tensor inside its scope, so that the scope frees it. */
function inScope(p: Prepared, x: Tensor | Float32Array): Tensor {
  return x instanceof Tensor
    ? x
    : tensor(x, [x.length / (p.x.size / p.n || 1), ...p.x.shape.slice(1)]);
}

/** A result handed to the caller: a tensor outside the backend's managed memory (as predict's). */
function result(v: Float32Array, shape: number[]): Tensor {
  return stepScope(
    null,
    (t) => [t],
    () => tensor(v, shape),
  );
}

function softmaxRows(v: Float32Array, k: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < v.length / k; r++) {
    let hi = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) hi = Math.max(hi, v[r * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += out[r * k + j] = Math.exp(v[r * k + j]! - hi);
    for (let j = 0; j < k; j++) out[r * k + j]! /= s;
  }
  return out;
}

/**
 * One forward and backward pass: the gradient of the summed class scores (logits) with respect
 * to the input (`at` undefined) or to the output of node `at`, with that tensor's value, the
 * scores per image and the classes (`null`: each image's predicted class, read from this pass's
 * logits; where reads are asynchronous (webgpu), from a forward pass before it). Images do not
 * interact in inference mode, so each image's gradient is its own score's. The values are read
 * once the pass is done, with data().
 */
async function gradientPass(
  p: Prepared,
  input: Tensor | Float32Array,
  classes: number[] | null,
  at?: SymbolicTensor,
): Promise<{
  value: Float32Array;
  grad: Float32Array;
  shape: number[];
  scores: number[];
  classes: number[];
}> {
  // A read inside the pass would stall webgpu, which refuses it: there the class comes first,
  // at the cost of a forward pass (Grad-CAM of ResNet-18 at batch 1 on native: 51 against 24 ms).
  const first =
    classes ??
    (backend().deferReads
      ? argmaxRows(await outputValues(p, input, 'logits'), p.n, p.classes)
      : null);
  let cls: number[] = first ?? [];
  let shape: number[] = [];
  const [value, grad, rows] = await scopedValues(() => {
    let watched: Tensor | undefined;
    let picked: Tensor | undefined;
    const x = inScope(p, input);
    // An inner layer's output comes from inference without the tape (fused where the
    // backend fuses, as predict runs); only the graph after it is differentiated.
    const given = new Map<SymbolicTensor, Tensor>();
    if (at)
      given.set(
        at,
        noGrad(() => prefixModel(p.model, at).call(x, { training: false })),
      );
    const { grads } = valueAndGrads((watch) => {
      watched = watch(at ? given.get(at)! : x);
      const start = new Map([[at ?? p.model.inputs[0]!, watched]]);
      const out = runGraph(p.model, x, [p.output], undefined, start)[0]!;
      const logits = logitsOf(out);
      cls = first ?? argmaxRows(logits.dataSync(), p.n, p.classes);
      picked = mul(logits, oneHot(cls, p.classes));
      return sum(picked);
    });
    shape = watched!.shape;
    return [watched!, grads[0]!, picked!];
  });
  const scores = cls.map((_, i) => {
    let s = 0;
    for (let k = 0; k < p.classes; k++) s += rows![i * p.classes + k]!;
    return s;
  });
  return { value: value!, grad: grad!, shape, scores, classes: cls };
}

const prefixes = new WeakMap<Model, Map<SymbolicTensor, Model>>();

/** The model from its input to `node` (the same layers and weights), made once per node. */
function prefixModel(model: Model, node: SymbolicTensor): Model {
  let byNode = prefixes.get(model);
  if (!byNode) prefixes.set(model, (byNode = new Map()));
  let m = byNode.get(node);
  if (!m) {
    m = new ModelClass({
      inputs: model.inputs[0]!,
      outputs: node,
      name: `${model.name}_to_${node.layer.name}`,
    });
    byNode.set(node, m);
  }
  return m;
}

/** Bilinear upsampling (half-pixel centres, PyTorch's align_corners=False) of maps [n, h, w] to [n, H, W]. */
function upsample(v: Float32Array, n: number, h: number, w: number, H: number, W: number): Tensor {
  if (h === H && w === W) return result(v, [n, H, W]);
  return stepScope(
    null,
    (t) => [t],
    () => noGrad(() => reshape(resize(tensor(v, [n, h, w, 1]), [H, W]), [n, H, W])),
  );
}

function pictures(
  p: Prepared,
  heat: Float32Array,
  options: OverlayOptions | undefined,
): RawImage[] {
  const [n, H, W] = p.x.shape as [number, number, number];
  return stepScope(
    null,
    () => [],
    () => overlayHeatmap(p.x, tensor(heat, [n, H, W]), options),
  );
}

// --- Grad-CAM ---------------------------------------------------------------------------------

/** Options of {@link gradCam}. */
export interface GradCamOptions extends ExplainBaseOptions {
  /**
   * The layer whose feature maps are weighed, by name (an image-like [batch, h, w, c] output).
   * Default: the last layer with such an output and more than one pixel (the last convolution
   * block of a classifier, as in the paper).
   */
  layer?: string;
  /**
   * 'gradcam' (default): each channel weighed by the mean of its gradient (Selvaraju et al.
   * 2017). 'gradcam++': by the positive gradients, each weighted by
   * g² / (2g² + Σ A · g³) (Chattopadhyay et al. 2018, as pytorch-grad-cam computes it).
   */
  method?: 'gradcam' | 'gradcam++';
}

/** What {@link gradCam} returns. */
export interface GradCamResult {
  /** [n, H, W] at the input's resolution, in 0..1 per image (bilinear upsampling of `layerHeatmap`). */
  heatmap: Tensor;
  /** [n, h, w] at the layer's resolution: ReLU of the weighed channels, divided by each image's maximum. */
  layerHeatmap: Tensor;
  /** The heat map blended over each input image (RGB, the input's size). */
  picture: RawImage[];
  /** The class explained for each image. */
  classIndex: number[];
  /** The layer used. */
  layer: string;
}

/** The default Grad-CAM layer: the last image-like output with more than one pixel. */
function defaultCamLayer(model: Model): SymbolicTensor {
  const nodes = model.graphNodes.filter(
    (t) => t.inputs.length > 0 && t.rank === 4 && (t.shape[1] ?? 2) * (t.shape[2] ?? 2) > 1,
  );
  const last = nodes[nodes.length - 1];
  if (!last)
    throw new ArgumentError(
      `gradCam: ${model.label} has no layer with an image-like output [batch, h, w, c] to weigh; Grad-CAM needs a convolutional model.`,
    );
  return last;
}

/**
 * Grad-CAM: where in the image the evidence for a class lies, seen by a convolution layer.
 * The layer's feature maps are weighed by how much the class score (the logit) grows with each
 * (the mean gradient per channel), summed, and kept where positive; then scaled to 0..1 per image
 * and upsampled bilinearly to the input's size. Costs one forward pass and a backward pass from
 * the output down to the layer only.
 *
 * ```ts
 * const { heatmap, picture } = await rc.vision.gradCam(model, x);          // predicted class
 * await rc.vision.gradCam(model, x, { layer: 'conv2d_2', classIndex: 3, method: 'gradcam++' });
 * ```
 * @throws ArgumentError for an unknown layer (the error lists the layers that fit), a layer
 *   without image-like output, a classIndex out of range, unknown options
 * @throws ShapeError for an x that does not fit the model's input
 * @throws NonFiniteError for NaN or infinite pixels
 */
export async function gradCam(
  model: Model,
  x: Tensor,
  options: GradCamOptions = {},
): Promise<GradCamResult> {
  const where = 'gradCam';
  checkOptions(where, options, [...BASE_KEYS, 'layer', 'method']);
  const { method = 'gradcam' } = options;
  if (method !== 'gradcam' && method !== 'gradcam++')
    throw new ArgumentError(
      `${where}: method must be 'gradcam' or 'gradcam++', got ${JSON.stringify(method)}.`,
    );
  const p = await prepare(model, x, where);
  const node =
    options.layer === undefined ? defaultCamLayer(model) : layerNode(model, String(options.layer));
  if (node.rank !== 4)
    throw new ArgumentError(
      `${where}: layer '${node.layer.name}' has output [${node.shape.map((d) => d ?? 'batch').join(', ')}], not image-like [batch, h, w, c]; choose one of: ${spatialLayerNames(model).join(', ')}.`,
    );
  const {
    value: A,
    grad: G,
    shape,
    classes,
  } = await gradientPass(p, x, resolveClasses(p, options.classIndex, where), node);
  const [n, h, w, k] = shape as [number, number, number, number];
  const cam = camFromGradients(A, G, n, h * w, k, method);
  const scaled = scalePerImage(cam, n);
  const [, H, W] = x.shape as [number, number, number];
  const heatmap = upsample(scaled, n, h, w, H, W);
  await makeReadable([heatmap]);
  return {
    heatmap,
    layerHeatmap: result(scaled, [n, h, w]),
    picture: pictures(p, new Float32Array(heatmap.dataSync()), options.picture),
    classIndex: classes,
    layer: node.layer.name,
  };
}

/** ReLU(Σ_c weight_c · A_c) per pixel from activations and gradients [n, hw, k]. */
function camFromGradients(
  A: Float32Array,
  G: Float32Array,
  n: number,
  hw: number,
  k: number,
  method: 'gradcam' | 'gradcam++',
): Float32Array {
  const cam = new Float32Array(n * hw);
  const weights = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * hw * k;
    weights.fill(0);
    if (method === 'gradcam') {
      for (let p = 0; p < hw; p++) for (let c = 0; c < k; c++) weights[c]! += G[o + p * k + c]!;
      for (let c = 0; c < k; c++) weights[c]! /= hw;
    } else {
      const sumA = new Float64Array(k);
      for (let p = 0; p < hw; p++) for (let c = 0; c < k; c++) sumA[c]! += A[o + p * k + c]!;
      for (let p = 0; p < hw; p++) {
        for (let c = 0; c < k; c++) {
          const g = G[o + p * k + c]!;
          if (g === 0) continue;
          const g2 = g * g;
          const aij = g2 / (2 * g2 + sumA[c]! * g2 * g + 1e-7);
          weights[c]! += Math.max(g, 0) * aij;
        }
      }
    }
    for (let p = 0; p < hw; p++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += weights[c]! * A[o + p * k + c]!;
      cam[i * hw + p] = Math.max(0, s);
    }
  }
  return cam;
}

// --- Saliency ---------------------------------------------------------------------------------

/** SmoothGrad's settings: how many noisy copies, and how much noise. */
export interface SmoothGradOptions {
  /** Noisy copies averaged (default 25). */
  samples?: number;
  /** The noise's standard deviation as a fraction of each image's value range (max − min); default 0.15. */
  noise?: number;
  /** Seed of the noise (default 0: the same maps every run). */
  seed?: number;
}

/** Options of {@link saliency}. */
export interface SaliencyOptions extends ExplainBaseOptions {
  /**
   * SmoothGrad (Smilkov et al. 2017): the map averaged over copies of the image with Gaussian
   * noise added, which removes most of the speckle. `true` for the defaults.
   */
  smoothGrad?: boolean | SmoothGradOptions;
}

/** What {@link saliency} returns. */
export interface SaliencyResult {
  /** Shape [n, H, W]: per pixel, the largest |∂ score / ∂ x| over the channels (averaged over SmoothGrad's samples). */
  map: Tensor;
  /** The map (scaled to 0..1 per image) blended over each image. */
  picture: RawImage[];
  /** The class explained for each image. */
  classIndex: number[];
}

function positiveInt(v: unknown, name: string, where: string, max = 1e6): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new ArgumentError(`${where}: ${name} must be an integer in 1..${max}, got ${String(v)}.`);
  return v;
}

/** |gradient| maxed over channels: [n, h, w, c] → [n, h, w], added into `into`. */
function addChannelMaxAbs(g: Float32Array, c: number, into: Float32Array, scale: number): void {
  for (let p = 0; p < into.length; p++) {
    let m = 0;
    for (let k = 0; k < c; k++) m = Math.max(m, Math.abs(g[p * c + k]!));
    into[p]! += m * scale;
  }
}

/**
 * Saliency: how strongly each pixel moves the class score (the logit), the gradient of the
 * score with respect to the input, largest absolute value over the channels (Simonyan et al.
 * 2014). With `smoothGrad`, averaged over noisy copies.
 *
 * ```ts
 * const { map, picture } = await rc.vision.saliency(model, x, { smoothGrad: { samples: 20 } });
 * ```
 * @throws ArgumentError for a classIndex out of range or bad SmoothGrad settings
 * @throws ShapeError for an x that does not fit the model's input
 * @throws NonFiniteError for NaN or infinite pixels
 */
export async function saliency(
  model: Model,
  x: Tensor,
  options: SaliencyOptions = {},
): Promise<SaliencyResult> {
  const where = 'saliency';
  checkOptions(where, options, [...BASE_KEYS, 'smoothGrad']);
  const p = await prepare(model, x, where);
  const sg = options.smoothGrad;
  let smooth: Required<SmoothGradOptions> | null = null;
  if (sg !== undefined && sg !== false) {
    const o = sg === true ? {} : sg;
    checkOptions(`${where}: smoothGrad`, o, ['samples', 'noise', 'seed']);
    const noise = o.noise ?? 0.15;
    if (typeof noise !== 'number' || !(noise >= 0 && noise <= 10))
      throw new ArgumentError(
        `${where}: smoothGrad.noise must be a number in 0..10, got ${String(noise)}.`,
      );
    smooth = {
      samples: positiveInt(o.samples ?? 25, 'smoothGrad.samples', where, 10000),
      noise,
      seed: o.seed ?? 0,
    };
  }
  const [n, H, W, C] = x.shape as [number, number, number, number];
  const map = new Float32Array(n * H * W);
  let classes = resolveClasses(p, options.classIndex, where);
  if (!smooth) {
    const pass = await gradientPass(p, x, classes);
    addChannelMaxAbs(pass.grad, C, map, 1);
    classes = pass.classes;
  } else {
    // The noisy copies explain the class of the image itself.
    classes ??= argmaxRows(await outputValues(p, x, 'logits'), n, p.classes);
    const rng = new Random(smooth.seed);
    const v = x.dataSync();
    const size = H * W * C;
    for (let s = 0; s < smooth.samples; s++) {
      const noisy = new Float32Array(v.length);
      for (let i = 0; i < n; i++) {
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < size; j++) {
          lo = Math.min(lo, v[i * size + j]!);
          hi = Math.max(hi, v[i * size + j]!);
        }
        const sigma = smooth.noise * (hi - lo);
        for (let j = 0; j < size; j++)
          noisy[i * size + j] = v[i * size + j]! + sigma * rng.normal();
      }
      addChannelMaxAbs((await gradientPass(p, noisy, classes)).grad, C, map, 1 / smooth.samples);
    }
  }
  return {
    map: result(map, [n, H, W]),
    picture: pictures(p, scalePerImage(map, n), options.picture),
    classIndex: classes!,
  };
}

// --- Integrated gradients -----------------------------------------------------------------------

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions extends ExplainBaseOptions {
  /**
   * The reference image the path starts from: a number (every value; default 0, black), or a
   * tensor shaped like x or like one image [H, W, C].
   */
  baseline?: number | Tensor;
  /** Intervals of the path (trapezoidal rule: steps + 1 gradient evaluations); default 64. */
  steps?: number;
}

/** What {@link integratedGradients} returns. */
export interface IntegratedGradientsResult {
  /** Shaped like x: (x − baseline) times the gradient averaged along the straight path. */
  attributions: Tensor;
  /** Σ |attributions| over the channels, scaled to 0..1 per image, blended over each image. */
  picture: RawImage[];
  /** The class explained for each image. */
  classIndex: number[];
  /** Per image, the score (logit) at x minus at the baseline: what the attributions add up to. */
  scoreDifference: number[];
  /** Per image, Σ attributions − scoreDifference: how far the sum is from complete (shrinks with more steps). */
  convergenceDelta: number[];
}

/**
 * Integrated gradients (Sundararajan et al. 2017): each input value's share of the class score
 * (the logit), the gradient integrated along the straight path from a baseline to x. Complete:
 * per image, the attributions add up to score(x) − score(baseline), up to the integration error
 * that `convergenceDelta` reports.
 *
 * ```ts
 * const { attributions, convergenceDelta } = await rc.vision.integratedGradients(model, x, { steps: 128 });
 * ```
 * @throws ArgumentError for bad steps, a baseline of the wrong shape, a classIndex out of range
 * @throws ShapeError for an x that does not fit the model's input
 * @throws NonFiniteError for NaN or infinite pixels
 */
export async function integratedGradients(
  model: Model,
  x: Tensor,
  options: IntegratedGradientsOptions = {},
): Promise<IntegratedGradientsResult> {
  const where = 'integratedGradients';
  checkOptions(where, options, [...BASE_KEYS, 'baseline', 'steps']);
  const p = await prepare(model, x, where);
  const steps = positiveInt(options.steps ?? 64, 'steps', where, 100000);
  const [n, H, W, C] = x.shape as [number, number, number, number];
  const size = H * W * C;
  const xv = x.dataSync();
  const base = new Float32Array(n * size);
  const b = options.baseline ?? 0;
  if (typeof b === 'number') {
    if (!Number.isFinite(b))
      throw new ArgumentError(`${where}: baseline must be finite, got ${b}.`);
    base.fill(b);
  } else if (b instanceof Tensor) {
    await makeReadable([b]);
    const bv = b.dataSync();
    const one = b.rank === 3 && b.shape.every((d, i) => d === x.shape[i + 1]);
    const all = b.rank === 4 && b.shape.every((d, i) => d === x.shape[i]);
    if (!one && !all)
      throw new ShapeError(
        `${where}: baseline must be shaped like x ${fmtShape(x.shape)} or one image [${H}, ${W}, ${C}], got ${fmtShape(b.shape)}.`,
      );
    for (let i = 0; i < n; i++)
      base.set(one ? bv : bv.subarray(i * size, (i + 1) * size), i * size);
    if (!base.every(Number.isFinite))
      throw new NonFiniteError(`${where}: the baseline holds NaN or infinite values.`);
  } else {
    throw new ArgumentError(`${where}: baseline must be a number or a Tensor, got ${String(b)}.`);
  }
  let classes = resolveClasses(p, options.classIndex, where);
  const avg = new Float64Array(n * size);
  const point = new Float32Array(n * size);
  let first: number[] = [];
  let last: number[] = [];
  // x itself first: its pass decides the predicted classes.
  for (const s of [steps, ...Array.from({ length: steps }, (_, i) => i)]) {
    const a = s / steps;
    for (let j = 0; j < point.length; j++) point[j] = base[j]! + a * (xv[j]! - base[j]!);
    const pass = await gradientPass(p, point, classes);
    const { grad, scores } = pass;
    classes = pass.classes;
    // Trapezoidal rule: the two ends count half.
    const wgt = (s === 0 || s === steps ? 0.5 : 1) / steps;
    for (let j = 0; j < avg.length; j++) avg[j]! += wgt * grad[j]!;
    if (s === 0) first = scores;
    if (s === steps) last = scores;
  }
  const attr = new Float32Array(n * size);
  for (let j = 0; j < attr.length; j++) attr[j] = (xv[j]! - base[j]!) * avg[j]!;
  const scoreDifference = last.map((v, i) => v - first[i]!);
  const convergenceDelta = scoreDifference.map((d, i) => {
    let total = 0;
    for (let j = i * size; j < (i + 1) * size; j++) total += attr[j]!;
    return total - d;
  });
  const mag = new Float32Array(n * H * W);
  for (let q = 0; q < mag.length; q++) {
    let m = 0;
    for (let k = 0; k < C; k++) m += Math.abs(attr[q * C + k]!);
    mag[q] = m;
  }
  return {
    attributions: result(attr, x.shape),
    picture: pictures(p, scalePerImage(mag, n), options.picture),
    classIndex: classes!,
    scoreDifference,
    convergenceDelta,
  };
}

// --- Occlusion --------------------------------------------------------------------------------

/** Options of {@link occlusion}. */
export interface OcclusionOptions extends ExplainBaseOptions {
  /** The grey square's side in pixels, or [height, width]; default about a seventh of the image's smaller side. */
  patch?: number | [number, number];
  /** How far the patch moves each time, or [down, across]; default half the patch. */
  stride?: number | [number, number];
  /** What the patch is filled with: a number, or 'mean' (default: each image's mean per channel, a grey of its own tone). */
  fill?: number | 'mean';
  /** Occluded images per forward pass (default 64). */
  batchSize?: number;
}

/** What {@link occlusion} returns. */
export interface OcclusionResult {
  /**
   * Shape [n, H, W]: per pixel, the mean drop of the class probability over the patches that cover it
   * (negative where hiding the pixel raised it; 0 where no patch reached).
   */
  map: Tensor;
  /** The positive part of the map, scaled to 0..1 per image, blended over each image. */
  picture: RawImage[];
  /** The class explained for each image. */
  classIndex: number[];
  /** Each image's class probability without occlusion. */
  probability: number[];
}

function pair(v: unknown, name: string, where: string, max: number): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2)
    throw new ArgumentError(
      `${where}: ${name} must be a number or [height, width], got ${JSON.stringify(v)}.`,
    );
  return [positiveInt(a[0], name, where, max), positiveInt(a[1], name, where, max)];
}

/** Patch positions along one axis: every stride, and the last one flush with the edge. */
function positions(size: number, patch: number, stride: number): number[] {
  const out: number[] = [];
  for (let y = 0; y + patch <= size; y += stride) out.push(y);
  if (out[out.length - 1] !== size - patch) out.push(size - patch);
  return out;
}

/**
 * Occlusion (Zeiler and Fergus 2014): greys out a patch at each position in turn and measures
 * how much the class probability drops; where hiding the image hurts the answer most is where
 * the evidence is. Costs one forward pass per position (no gradients).
 *
 * ```ts
 * const { map, picture } = await rc.vision.occlusion(model, x, { patch: 6, stride: 3 });
 * ```
 * @throws ArgumentError for a patch larger than the image, a bad stride or fill, a classIndex out of range
 * @throws ShapeError for an x that does not fit the model's input
 * @throws NonFiniteError for NaN or infinite pixels
 */
export async function occlusion(
  model: Model,
  x: Tensor,
  options: OcclusionOptions = {},
): Promise<OcclusionResult> {
  const where = 'occlusion';
  checkOptions(where, options, [...BASE_KEYS, 'patch', 'stride', 'fill', 'batchSize']);
  const p = await prepare(model, x, where);
  const [n, H, W, C] = x.shape as [number, number, number, number];
  const [ph, pw] = pair(
    options.patch ?? Math.max(1, Math.round(Math.min(H, W) / 7)),
    'patch',
    where,
    Math.max(H, W),
  );
  if (ph > H || pw > W)
    throw new ArgumentError(`${where}: the patch ${ph}×${pw} is larger than the image ${H}×${W}.`);
  const [sh, sw] = pair(
    options.stride ?? [Math.max(1, ph >> 1), Math.max(1, pw >> 1)],
    'stride',
    where,
    Math.max(H, W),
  );
  const fill = options.fill ?? 'mean';
  if (fill !== 'mean' && (typeof fill !== 'number' || !Number.isFinite(fill)))
    throw new ArgumentError(
      `${where}: fill must be a finite number or 'mean', got ${String(fill)}.`,
    );
  const batchSize = positiveInt(options.batchSize ?? 64, 'batchSize', where, 100000);
  const probs0 = await outputValues(p, x, 'probabilities');
  const classes =
    resolveClasses(p, options.classIndex, where) ?? argmaxRows(probs0, p.n, p.classes);
  const probability = classes.map((c, i) => probs0[i * p.classes + c]!);
  const xv = x.dataSync();
  const size = H * W * C;
  const fills = Array.from({ length: n }, (_, i) => {
    const f = new Float32Array(C);
    if (fill !== 'mean') return f.fill(fill);
    for (let q = 0; q < H * W; q++)
      for (let k = 0; k < C; k++) f[k]! += xv[i * size + q * C + k]! / (H * W);
    return f;
  });
  const jobs: [number, number, number][] = [];
  for (let i = 0; i < n; i++)
    for (const y of positions(H, ph, sh))
      for (const x0 of positions(W, pw, sw)) jobs.push([i, y, x0]);
  const drop = new Float64Array(n * H * W);
  const count = new Float64Array(n * H * W);
  for (let start = 0; start < jobs.length; start += batchSize) {
    const chunk = jobs.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * size);
    chunk.forEach(([i, y0, x0], j) => {
      batch.set(xv.subarray(i * size, (i + 1) * size), j * size);
      for (let y = y0; y < y0 + ph; y++)
        for (let xx = x0; xx < x0 + pw; xx++) batch.set(fills[i]!, j * size + (y * W + xx) * C);
    });
    const probs = await outputValues(p, batch, 'probabilities');
    chunk.forEach(([i, y0, x0], j) => {
      const d = probability[i]! - probs[j * p.classes + classes[i]!]!;
      for (let y = y0; y < y0 + ph; y++) {
        for (let xx = x0; xx < x0 + pw; xx++) {
          drop[i * H * W + y * W + xx]! += d;
          count[i * H * W + y * W + xx]! += 1;
        }
      }
    });
  }
  const map = Float32Array.from(drop, (d, q) => (count[q]! > 0 ? d / count[q]! : 0));
  return {
    map: result(map, [n, H, W]),
    picture: pictures(
      p,
      scalePerImage(map, n, (v) => Math.max(0, v)),
      options.picture,
    ),
    classIndex: classes,
    probability,
  };
}
