/**
 * The receptive field of one unit: which input pixels a layer's output at (row, col) depends
 * on, computed analytically by walking the graph back from that layer to the input. Each
 * layer maps an interval of its output rows (or columns) to an interval of its input:
 *   window (conv, pool):   [lo·s − padBefore, hi·s − padBefore + d·(k − 1)]
 *   zero padding:          [lo − before, hi − before]
 *   upsampling by f:       [⌊lo/f⌋, ⌊hi/f⌋]
 *   pointwise layers:      unchanged (activations, batch norm, add, concatenate, ...)
 * Where paths merge (residual, inception) the box is the union. This gives the textbook size
 * (LeNet-5: conv 5×5 → 5, pool 2 → 5 + 1 = 6 with jump 2, conv 5×5 → 6 + (5 − 1)·2 = 14), and,
 * clipping at every layer to the real pixels, the box a unit actually sees near a border.
 */
import type { RawImage } from '../data/image_codec.js';
import type { Model } from '../model/model.js';
import type { Layer, SymbolicTensor } from '../nn/layer.js';
import { axisGeometry, type Padding, transposedAxisGeometry } from '../ops/conv_geometry.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { convertChannels, tensorToImage, zoom } from './images.js';
import { layerNode } from './model_graph.js';

type Geometry =
  | { kind: 'window'; k: number[]; s: number[]; d: number[]; padding: Padding }
  | { kind: 'transposed'; k: number[]; s: number[]; d: number[]; padding: Padding; op: number[] }
  | { kind: 'pad'; before: number[] }
  | { kind: 'up'; f: number[] }
  | { kind: 'point' };

/** Layers that work on each pixel (or mix only channels): the field passes through unchanged. */
const POINTWISE = new Set([
  'InputLayer',
  'Activation',
  'ReLU',
  'BatchNormalization',
  'Dropout',
  'LocalResponseNormalization',
  'Add',
  'Multiply',
  'Concatenate',
  'Dense',
  // Its gate is one number per channel from a global average: a scale, not a spatial window
  // (as receptive-field calculators treat squeeze-and-excitation).
  'SqueezeExcite',
]);

type Fields = {
  kernelSize?: [number, number];
  poolSize?: [number, number];
  strides?: [number, number];
  dilationRate?: [number, number];
  padding?: unknown;
  size?: [number, number];
  interpolation?: string;
  coordinates?: string;
  outputPadding?: [number, number] | null;
};

function geometry(layer: Layer): Geometry {
  const f = layer as unknown as Fields;
  const c = layer.className;
  if (POINTWISE.has(c)) return { kind: 'point' };
  if (
    ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'SpatialSeparableConv2D'].includes(c) &&
    f.kernelSize
  ) {
    return {
      kind: 'window',
      k: f.kernelSize,
      s: f.strides!,
      d: f.dilationRate!,
      padding: f.padding as Padding,
    };
  }
  if ((c === 'MaxPooling2D' || c === 'AveragePooling2D') && f.poolSize)
    return {
      kind: 'window',
      k: f.poolSize,
      s: f.strides!,
      d: f.dilationRate ?? [1, 1],
      padding: f.padding as Padding,
    };
  // Its widest branch is the 5×5 convolution ('same', stride 1); the 3×3 pool is inside it.
  if (c === 'InceptionModule')
    return { kind: 'window', k: [5, 5], s: [1, 1], d: [1, 1], padding: 'same' };
  // The spatial attention gate is a k×k 'same' convolution of the channel statistics.
  if (c === 'CBAM' && f.kernelSize)
    return { kind: 'window', k: f.kernelSize, s: [1, 1], d: [1, 1], padding: 'same' };
  if (c === 'Conv2DTranspose' && f.kernelSize) {
    return {
      kind: 'transposed',
      k: f.kernelSize,
      s: f.strides!,
      d: f.dilationRate!,
      padding: f.padding as Padding,
      op: f.outputPadding ?? [0, 0],
    };
  }
  if (c === 'ZeroPadding2D') {
    const p = f.padding as [[number, number], [number, number]];
    return { kind: 'pad', before: [p[0][0], p[1][0]] };
  }
  // Nearest upsampling repeats pixels; a bilinear one also reads neighbours (not traced).
  if (
    c === 'UpSampling2D' &&
    f.size &&
    (f.interpolation ?? 'nearest') === 'nearest' &&
    f.coordinates !== 'align-corners'
  )
    return { kind: 'up', f: f.size };
  throw new ArgumentError(
    `receptiveField: the geometry of layer '${layer.name}' (${c}) is not known, so the field cannot be traced through it. ` +
      'Pick a layer before it.',
  );
}

type Interval = [number, number];

/** Maps an interval of a node's output back to its input (one axis). */
function backInterval(g: Geometry, [lo, hi]: Interval, inSize: number, axis: 0 | 1): Interval {
  switch (g.kind) {
    case 'point':
      return [lo, hi];
    case 'pad':
      return [lo - g.before[axis]!, hi - g.before[axis]!];
    case 'up':
      return [Math.floor(lo / g.f[axis]!), Math.floor(hi / g.f[axis]!)];
    case 'window': {
      const { padBefore } = axisGeometry(
        inSize,
        g.k[axis]!,
        g.s[axis]!,
        g.d[axis]!,
        g.padding,
        axis,
      );
      return [
        lo * g.s[axis]! - padBefore,
        hi * g.s[axis]! - padBefore + g.d[axis]! * (g.k[axis]! - 1),
      ];
    }
    case 'transposed': {
      // Output x gets input i when x = i·s − padBefore + d·j for a tap j in 0..k−1.
      const { padBefore } = transposedAxisGeometry(
        inSize,
        g.k[axis]!,
        g.s[axis]!,
        g.d[axis]!,
        g.padding,
        g.op[axis]!,
        axis,
      );
      const s = g.s[axis]!;
      return [
        Math.ceil((lo + padBefore - g.d[axis]! * (g.k[axis]! - 1)) / s),
        Math.floor((hi + padBefore) / s),
      ];
    }
  }
}

/** How a receptive field grows through one layer of a chain. */
export interface ReceptiveFieldStep {
  /** The layer's name. */
  layer: string;
  /** The layer's class. */
  className: string;
  /** Window span d·(k − 1) + 1 and stride, per axis. */
  span: [number, number];
  /** The layer's stride, per axis. */
  stride: [number, number];
  /** Field size and jump (input pixels between neighbouring units) after this layer. */
  size: [number, number];
  /** Input pixels between the fields of neighbouring units after this layer. */
  jump: [number, number];
}

/** A rectangle of input pixels, bounds inclusive. */
export interface Box {
  /** First row. */
  top: number;
  /** First column. */
  left: number;
  /** Last row (inclusive). */
  bottom: number;
  /** Last column (inclusive). */
  right: number;
}

/** The receptive field of one unit: what {@link receptiveField} returns. */
export interface ReceptiveField {
  /** The layer's name. */
  layer: string;
  /** The unit's [row, col] in the layer's output. */
  position: [number, number];
  /** The input [height, width]. */
  inputSize: [number, number];
  /** The textbook size of the field [rows, cols], padding included. */
  size: [number, number];
  /** Input pixels between the fields of neighbouring units: the product of the strides. */
  jump: [number, number];
  /** The field in input coordinates; may reach outside the image where padding was added. */
  box: Box;
  /** The input pixels the unit actually depends on (the field clipped at every layer). */
  inImage: Box;
  /** For a plain chain of layers, how the size grows layer by layer (empty for branching graphs). */
  steps: ReceptiveFieldStep[];
  /** The field drawn on the image, when `options.image` was given. */
  picture?: RawImage;
}

/** The graph nodes `target` depends on, inputs first. */
function ancestors(target: SymbolicTensor): SymbolicTensor[] {
  const order: SymbolicTensor[] = [];
  const seen = new Set<SymbolicTensor>();
  const visit = (t: SymbolicTensor) => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const i of t.inputs) visit(i);
    order.push(t);
  };
  visit(target);
  return order;
}

function spatialSize(t: SymbolicTensor): [number, number] {
  const h = t.shape[1];
  const w = t.shape[2];
  if (t.rank !== 4 || typeof h !== 'number' || typeof w !== 'number') {
    throw new ArgumentError(
      `receptiveField: '${t.layer.name}' has output (${t.shape.map((d) => d ?? 'None').join(', ')}); the field is traced through image-like [batch, h, w, c] tensors of known size only.`,
    );
  }
  return [h, w];
}

/** Propagates the unit's interval back to the input; the union where paths meet. */
function trace(order: SymbolicTensor[], target: SymbolicTensor, at: Interval[], clip: boolean) {
  const box = new Map<SymbolicTensor, Interval[]>([[target, at]]);
  for (let n = order.length - 1; n >= 0; n--) {
    const t = order[n]!;
    const mine = box.get(t);
    if (!mine || t.inputs.length === 0) continue;
    const g = geometry(t.layer);
    for (const input of t.inputs) {
      const inSize = spatialSize(input);
      const mapped = [0, 1].map((a) => {
        let [lo, hi] = backInterval(g, mine[a]!, inSize[a]!, a as 0 | 1);
        if (clip) [lo, hi] = [Math.max(lo, 0), Math.min(hi, inSize[a]! - 1)];
        return [lo, hi] as Interval;
      });
      const prev = box.get(input);
      box.set(
        input,
        prev
          ? mapped.map(([lo, hi], a) => [Math.min(lo, prev[a]![0]), Math.max(hi, prev[a]![1])])
          : mapped,
      );
    }
  }
  return box;
}

/** Size and jump layer by layer along a chain: size += (span − 1)·jump, jump ·= stride. */
function chainSteps(order: SymbolicTensor[]): ReceptiveFieldStep[] {
  if (order.some((t) => t.inputs.length > 1)) return [];
  const steps: ReceptiveFieldStep[] = [];
  let size = [1, 1];
  let jump = [1, 1];
  for (const t of order) {
    if (t.inputs.length === 0) continue;
    const g = geometry(t.layer);
    if (g.kind !== 'window') {
      if (g.kind === 'point' || g.kind === 'pad') continue;
      return []; // upsampling and transposed convolutions have fractional jumps: no table
    }
    const span = [0, 1].map((a) => g.d[a]! * (g.k[a]! - 1) + 1);
    size = [0, 1].map((a) => size[a]! + (span[a]! - 1) * jump[a]!);
    jump = [0, 1].map((a) => jump[a]! * g.s[a]!);
    steps.push({
      layer: t.layer.name,
      className: t.layer.className,
      span: span as [number, number],
      stride: [g.s[0]!, g.s[1]!],
      size: [size[0]!, size[1]!],
      jump: [jump[0]!, jump[1]!],
    });
  }
  return steps;
}

/**
 * The receptive field of the unit at `position` = [row, col] of layer `layerName`'s output
 * (any of its channels: they all see the same pixels). With `options.image` (the input image,
 * a RawImage or a [1, h, w, c] tensor in 0..1), `picture` shows the field on it.
 */
export function receptiveField(
  model: Model,
  layerName: string,
  position: [number, number],
  options: { image?: RawImage | Tensor; scale?: number } = {},
): ReceptiveField {
  const target = layerNode(model, layerName);
  const [oh, ow] = spatialSize(target);
  if (
    !Array.isArray(position) ||
    position.length !== 2 ||
    !position.every(Number.isInteger) ||
    position[0] < 0 ||
    position[0] >= oh ||
    position[1] < 0 ||
    position[1] >= ow
  ) {
    throw new ArgumentError(
      `receptiveField: position ${JSON.stringify(position)} is outside the ${oh}×${ow} output of '${layerName}'; give [row, col] with 0 ≤ row < ${oh}, 0 ≤ col < ${ow}.`,
    );
  }
  const order = ancestors(target);
  const input = order.find((t) => t.inputs.length === 0)!;
  const inputSize = spatialSize(input);
  const at: Interval[] = [
    [position[0], position[0]],
    [position[1], position[1]],
  ];
  const full = trace(order, target, at, false).get(input)!;
  const seen = trace(order, target, at, true).get(input)!;
  const toBox = (b: Interval[]): Box => ({
    top: b[0]![0],
    bottom: b[0]![1],
    left: b[1]![0],
    right: b[1]![1],
  });
  // The jump: how far the field moves when the unit moves by one (0 for a 1-pixel output).
  const shift = (a: 0 | 1): number => {
    const n = a === 0 ? oh : ow;
    if (n < 2) return chainSteps(order).at(-1)?.jump[a] ?? 1;
    const other: Interval[] = at.map((iv, k) =>
      k === a
        ? [iv[0] + (position[a] + 1 < n ? 1 : -1), iv[1] + (position[a] + 1 < n ? 1 : -1)]
        : iv,
    );
    const moved = trace(order, target, other, false).get(input)!;
    return Math.abs(moved[a]![0] - full[a]![0]);
  };
  const rf: ReceptiveField = {
    layer: layerName,
    position: [position[0], position[1]],
    inputSize,
    size: [full[0]![1] - full[0]![0] + 1, full[1]![1] - full[1]![0] + 1],
    jump: [shift(0), shift(1)],
    box: toBox(full),
    inImage: toBox(seen),
    steps: chainSteps(order),
  };
  if (options.image !== undefined) rf.picture = drawReceptiveField(rf, options.image, options);
  return rf;
}

/**
 * The input image (RGB, enlarged so the box is easy to see) with the pixels outside the field
 * dimmed and a red frame around it. Without an image, a grey canvas of the input's size.
 */
export function drawReceptiveField(
  rf: ReceptiveField,
  image?: RawImage | Tensor,
  options: { scale?: number } = {},
): RawImage {
  const [H, W] = rf.inputSize;
  let base: RawImage;
  if (image === undefined) {
    base = { width: W, height: H, channels: 1, data: new Uint8Array(W * H).fill(160) };
  } else if ('width' in image) {
    base = image;
  } else {
    base = tensorToImage(image, { normalize: 'clip' });
  }
  if (base.height !== H || base.width !== W) {
    throw new ArgumentError(
      `drawReceptiveField: the image is ${base.height}×${base.width} but the model's input is ${H}×${W}; resize it first.`,
    );
  }
  const scale = options.scale ?? Math.max(1, Math.ceil(256 / Math.max(H, W)));
  const rgb = convertChannels(base, 3);
  // A copy: the caller's image is never drawn on.
  const img = zoom({ ...rgb, data: Uint8Array.from(rgb.data) }, scale);
  const { top, left, bottom, right } = rf.inImage;
  const y0 = top * scale;
  const x0 = left * scale;
  const y1 = (bottom + 1) * scale - 1;
  const x1 = (right + 1) * scale - 1;
  // The frame lies just inside the box, so it shows where the box touches the border.
  const t = Math.max(1, Math.round(scale / 4));
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const p = (y * img.width + x) * 3;
      const inside = y >= y0 && y <= y1 && x >= x0 && x <= x1;
      const frame = inside && (y < y0 + t || y > y1 - t || x < x0 + t || x > x1 - t);
      if (frame) {
        img.data[p] = 230;
        img.data[p + 1] = 20;
        img.data[p + 2] = 20;
      } else if (!inside) {
        for (let k = 0; k < 3; k++) img.data[p + k] = Math.round(img.data[p + k]! * 0.35);
      }
    }
  }
  return img;
}
