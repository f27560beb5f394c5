/**
 * Shape operators on model tensors: Flatten, Reshape, Transpose, Concat, Pad, and the ones that
 * pass data through (Identity, Dropout). Layout moves fold into the NHWC holding where they can
 * (a Transpose NCHW→NHWC costs nothing); the rest become Permute / Reshape layers.
 */
import { Dropout, Flatten, Reshape } from '../../../../nn/layers/core.js';
import { Concatenate } from '../../../../nn/layers/merge.js';
import { Padding2D, ZeroPadding2D } from '../../../../nn/layers/pooling.js';
import { Permute, Slice } from '../../../../nn/layers/tensor_ops.js';
import {
  HELD_TO_ONNX,
  type ImportContext,
  ONNX_TO_HELD,
  registerOp,
  type TensorVal,
} from '../context.js';
import type { OnnxNode } from '../decode.js';

/** Flatten to [batch, features]: an NHWC-held image becomes 'flat' (HWC order) unless the order is the same either way. */
function flatten(node: OnnxNode, cx: ImportContext, v: TensorVal): TensorVal {
  if (v.layout.kind === 'flat') return v;
  if (v.layout.kind === 'plain' && v.t.shape.length === 2) return v;
  const t = cx.apply(new Flatten({ name: cx.layerName(node.name) }), v.t);
  if (v.layout.kind === 'nhwc') {
    const [, h, w, c] = v.t.shape;
    if (h == null || w == null || c == null)
      throw cx.error('its input must have fixed height, width and channels.');
    if (h * w !== 1 && c !== 1) return cx.tensor(t, { kind: 'flat', image: v.t, c, h, w });
  }
  return cx.tensor(t);
}

registerOp('Flatten', (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const rank = cx.rank(v);
  const axis0 = cx.attr<number>(node, 'axis', 1);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  if (axis !== 1)
    throw cx.error(`axis ${axis0}: only Flatten at axis 1 (keeping the batch axis) is supported.`);
  cx.setOutput(node, flatten(node, cx, v));
});

registerOp('Reshape', (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const shapeT =
    cx.opset < 5 ? cx.attr<number[]>(node, 'shape') : [...cx.constInput(node, 1, 'shape').data];
  if (!shapeT) throw cx.error('it has no shape.');
  const inShape = cx.onnxShape(v);
  const allowZero = cx.attr<number>(node, 'allowzero', 0) === 1;
  const first = shapeT[0];
  const batchKept =
    first !== undefined &&
    (Number.isNaN(first) || first === -1 || (first === 0 && !allowZero) || first === cx.batchSize);
  if (!batchKept)
    throw cx.error(
      `its target shape [${shapeT.join(', ')}] does not keep the batch axis first (it must start with 0, -1 or the batch size); importOnnx keeps examples separate.`,
    );
  const rest = shapeT.slice(1).map((d, i) => {
    if (d === 0 && !allowZero) {
      const k = inShape[i + 1];
      if (k == null) throw cx.error(`copies axis ${i + 1} of its input, whose size is not fixed.`);
      return k;
    }
    if (Number.isNaN(d))
      throw cx.error(
        `its target shape [${shapeT.join(', ')}] depends on the batch size beyond its first axis; it cannot be fixed at import.`,
      );
    return d;
  });
  if (rest.some((d) => d === 0 || d < -1))
    throw cx.error(
      `its target shape [${shapeT.join(', ')}] has sizes importOnnx cannot reshape to.`,
    );
  reshapeTo(node, cx, v, rest);
});

/** Reshapes each example to `rest` (a flatten of an image keeps its NHWC order: 'flat'). */
function reshapeTo(node: OnnxNode, cx: ImportContext, v: TensorVal, rest: number[]): void {
  if (rest.length === 1 && v.layout.kind !== 'plain') {
    cx.setOutput(node, flatten(node, cx, v));
    return;
  }
  // An NHWC-held image with one channel (or one pixel) has NCHW's element order already.
  const [, h, w, c] = v.t.shape;
  const sameOrder = v.layout.kind === 'nhwc' && (c === 1 || (h === 1 && w === 1));
  const p = sameOrder ? cx.tensor(v.t) : cx.toPlain(v);
  const same = rest.length === p.t.shape.length - 1 && rest.every((d, i) => d === p.t.shape[i + 1]);
  if (same) {
    cx.setOutput(node, p);
    return;
  }
  const t = cx.apply(new Reshape({ name: cx.layerName(node.name), targetShape: rest }), p.t);
  cx.setOutput(node, cx.tensor(t));
}

const isIdentity = (p: number[]) => p.every((a, i) => a === i);

registerOp('Transpose', (node, cx) => {
  let v = cx.tensorInput(node, 0);
  if (v.layout.kind === 'flat') v = cx.toPlain(v);
  const rank = cx.rank(v);
  const perm = cx.attr<number[]>(node, 'perm') ?? [...Array(rank).keys()].reverse();
  if (perm.length !== rank || perm[0] !== 0)
    throw cx.error(
      `perm ${JSON.stringify(perm)} moves the batch axis (only permutations that keep axis 0 first are supported).`,
    );
  // Where ONNX axis a is held: NHWC-held images keep it at ONNX_TO_HELD's place.
  const pos = (a: number) => (v.layout.kind === 'nhwc' ? ONNX_TO_HELD[a]! : a);
  const plain = perm.map((a) => pos(a));
  const held = rank === 4 ? HELD_TO_ONNX.map((j) => pos(perm[j]!)) : null;
  if (held && isIdentity(held)) return cx.setOutput(node, cx.tensor(v.t, { kind: 'nhwc' }));
  if (isIdentity(plain)) return cx.setOutput(node, cx.tensor(v.t));
  // A 4-D result is held NHWC, ready for the convolution that usually follows.
  const dims = (held ?? plain).slice(1);
  const t = cx.apply(new Permute({ name: cx.layerName(node.name), dims }), v.t);
  cx.setOutput(node, cx.tensor(t, held ? { kind: 'nhwc' } : { kind: 'plain' }));
});

registerOp('Concat', (node, cx) => {
  const vs = node.inputs.map((_, i) => cx.tensorInput(node, i));
  const axis0 = cx.attr<number>(node, 'axis', 1);
  const rank = cx.rank(vs[0]!);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  if (axis === 0) throw cx.error('a Concat along the batch axis is not supported.');
  const images = vs.every((v) => cx.rank(v) === 4) && vs.some((v) => v.layout.kind === 'nhwc');
  const xs = vs.map((v) => (images ? cx.toNhwc(v) : cx.toPlain(v)));
  if (xs.length === 1) return cx.setOutput(node, xs[0]!);
  const layer = new Concatenate({ name: cx.layerName(node.name), axis: cx.heldAxis(xs[0]!, axis) });
  cx.setOutput(
    node,
    cx.tensor(
      cx.apply(
        layer,
        xs.map((x) => x.t),
      ),
      xs[0]!.layout,
    ),
  );
});

// Pad of an image's height and width: ZeroPadding2D for zeros, Padding2D for another constant,
// reflection ('reflect') or edge copies ('edge').
registerOp('Pad', (node, cx) => {
  const old = cx.opset < 11;
  const mode = cx.attr<string>(node, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge')
    throw cx.error(`mode '${mode}': only the modes constant, reflect and edge are supported.`);
  const pads = old ? cx.attr<number[]>(node, 'pads', []) : [...cx.constInput(node, 1, 'pads').data];
  const value =
    mode !== 'constant'
      ? 0
      : old
        ? cx.attr<number>(node, 'value', 0)
        : node.inputs[2]
          ? (cx.constInput(node, 2, 'constant_value').data[0] ?? 0)
          : 0;
  if (node.inputs[3]) throw cx.error('the axes input is not supported.');
  if (Number.isNaN(value)) throw cx.error('its constant_value is NaN.');
  const v = cx.tensorInput(node, 0);
  if (cx.rank(v) !== 4 || pads.length !== 8)
    throw cx.error('only the height and width of 4-D images can be padded.');
  const [n0, c0, t, l, n1, c1, b, r] = pads as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (n0 || c0 || n1 || c1)
    throw cx.error(
      `pads ${JSON.stringify(pads)} pad the batch or channel axis; only height and width can be padded.`,
    );
  if ([t, l, b, r].some((p) => p < 0))
    throw cx.error(`pads ${JSON.stringify(pads)}: negative pads (cropping) are not supported.`);
  const x = cx.toNhwc(v);
  const padding: [[number, number], [number, number]] = [
    [t, b],
    [l, r],
  ];
  const name = cx.layerName(node.name);
  const layer =
    mode === 'constant' && value === 0
      ? new ZeroPadding2D({ name, padding })
      : new Padding2D({ name, padding, mode, value });
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
});

registerOp('Identity', (node, cx) => {
  const v = cx.input(node, 0);
  if (!v) throw cx.error('its input is missing.');
  cx.setOutput(node, v);
});

registerOp('Dropout', (node, cx) => {
  if (node.outputs[1] && cx.readers.get(node.outputs[1]))
    throw cx.error('its mask output is read by the graph; importOnnx has no layer for it.');
  const old = cx.opset < 12;
  if (!old && node.inputs[2] && cx.constInput(node, 2, 'training_mode').data[0])
    throw cx.error('it is in training mode; export the model in eval mode.');
  const ratio = old
    ? cx.attr<number>(node, 'ratio', 0.5)
    : node.inputs[1]
      ? cx.constInput(node, 1, 'ratio').data[0]!
      : 0.5;
  const v = cx.tensorInput(node, 0);
  if (!(ratio > 0 && ratio < 1)) return cx.setOutput(node, v);
  // Inference passes data through; the layer keeps dropout for fine-tuning.
  const t = cx.apply(new Dropout({ name: cx.layerName(node.name), rate: ratio }), v.t);
  cx.setOutput(node, cx.tensor(t, v.layout));
});

/** Squeeze / Unsqueeze of a model tensor: a reshape of each example (the batch axis stays). */
registerOp(['Squeeze', 'Unsqueeze'], (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const axesIn =
    cx.opset < 13
      ? cx.attr<number[]>(node, 'axes')
      : node.inputs[1]
        ? [...cx.constInput(node, 1, 'axes').data]
        : undefined;
  const shape = cx.onnxShape(v);
  let out: (number | null)[];
  if (node.opType === 'Squeeze') {
    const rank = shape.length;
    const axes = axesIn
      ? axesIn.map((a) => (a < 0 ? a + rank : a))
      : shape.flatMap((d, i) => (d === 1 ? [i] : []));
    if (axes.includes(0) || axes.some((a) => shape[a] !== 1))
      throw cx.error(
        `axes ${JSON.stringify(axesIn)} of [${shape.map((d) => d ?? 'batch').join(', ')}]: only axes of size 1 after the batch axis can be squeezed.`,
      );
    out = shape.filter((_, i) => !axes.includes(i));
  } else {
    if (!axesIn) throw cx.error('it has no axes.');
    const rank = shape.length + axesIn.length;
    const axes = axesIn.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    if (axes.includes(0)) throw cx.error('a new axis before the batch axis is not supported.');
    out = [...shape];
    for (const a of axes) out.splice(a, 0, 1);
  }
  reshapeTo(node, cx, v, out.slice(1) as number[]);
});

/** A box of each example: begin and size on ONNX's axes, placed on the held axes. */
function sliceOf(
  node: OnnxNode,
  cx: ImportContext,
  v: TensorVal,
  begin: number[],
  size: number[],
  output: number,
): void {
  const x = v.layout.kind === 'flat' ? cx.toPlain(v) : v;
  const rank = begin.length;
  const held = x.layout.kind === 'nhwc' ? ONNX_TO_HELD : [...Array(rank).keys()];
  const hb = new Array<number>(rank).fill(0);
  const hs = new Array<number>(rank).fill(-1);
  for (let a = 1; a < rank; a++) {
    hb[held[a]!] = begin[a]!;
    hs[held[a]!] = size[a]!;
  }
  const name = cx.layerName(output === 0 ? node.name : `${node.name}_${output}`);
  const t = cx.apply(new Slice({ name, begin: hb.slice(1), size: hs.slice(1) }), x.t);
  cx.setOutput(node, cx.tensor(t, x.layout), output);
}

registerOp('Slice', (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const shape = cx.onnxShape(v);
  const rank = shape.length;
  const old = cx.opset < 10;
  const starts = old
    ? cx.attr<number[]>(node, 'starts', [])
    : [...cx.constInput(node, 1, 'starts').data];
  const ends = old ? cx.attr<number[]>(node, 'ends', []) : [...cx.constInput(node, 2, 'ends').data];
  const axes = old
    ? cx.attr<number[]>(node, 'axes')
    : node.inputs[3]
      ? [...cx.constInput(node, 3, 'axes').data]
      : undefined;
  const steps = !old && node.inputs[4] ? [...cx.constInput(node, 4, 'steps').data] : undefined;
  const begin = new Array<number>(rank).fill(0);
  const size = shape.map((d) => d ?? -1);
  starts.forEach((s, i) => {
    const a0 = axes?.[i] ?? i;
    const a = a0 < 0 ? a0 + rank : a0;
    if ((steps?.[i] ?? 1) !== 1)
      throw cx.error('a Slice with a step other than 1 is not supported.');
    const d = shape[a];
    if (a === 0 || d == null) {
      if (s === 0 && ends[i]! >= 2 ** 31 - 1) return; // the whole batch axis
      throw cx.error('a Slice of the batch axis is not supported.');
    }
    const clamp = (x: number) => Math.min(Math.max(x < 0 ? x + d : x, 0), d);
    begin[a] = clamp(s);
    size[a] = clamp(ends[i]!) - begin[a]!;
    if (size[a]! < 1) throw cx.error(`it keeps nothing of axis ${a0} (from ${s} to ${ends[i]}).`);
  });
  sliceOf(node, cx, v, begin, size, 0);
});

registerOp('Split', (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const shape = cx.onnxShape(v);
  const rank = shape.length;
  const axis0 = cx.attr<number>(node, 'axis', 0);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  const d = shape[axis];
  if (axis === 0 || d == null) throw cx.error('a Split of the batch axis is not supported.');
  const n = node.outputs.length;
  const given =
    cx.opset < 13
      ? cx.attr<number[]>(node, 'split')
      : node.inputs[1]
        ? [...cx.constInput(node, 1, 'split').data]
        : undefined;
  // Equal parts; where the axis does not divide, the last is smaller (opset 18's rule).
  const even = Math.ceil(d / n);
  const parts =
    given ?? Array.from({ length: n }, (_, i) => (i < n - 1 ? even : d - even * (n - 1)));
  if (parts.length !== n || parts.reduce((a, p) => a + p, 0) !== d)
    throw cx.error(
      `split sizes [${parts.join(', ')}] do not divide axis ${axis0} of size ${d} into ${n} outputs.`,
    );
  let at = 0;
  parts.forEach((p, i) => {
    const begin = new Array<number>(rank).fill(0);
    const size = shape.map((s) => s ?? -1);
    begin[axis] = at;
    size[axis] = p;
    at += p;
    if (node.outputs[i]) sliceOf(node, cx, v, begin, size, i);
  });
});

/**
 * Gather of a model tensor with constant indices along an axis after the batch: one index
 * (x[:, i], the axis dropped) or a run of consecutive ones (x[:, i:j]) is a Slice. Inception's
 * input transform reads its channels so.
 */
registerOp('Gather', (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const idx = cx.constInput(node, 1, 'indices');
  const shape = cx.onnxShape(v);
  const rank = shape.length;
  const axis0 = cx.attr<number>(node, 'axis', 0);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  const d = shape[axis];
  if (axis <= 0 || axis >= rank || d == null)
    throw cx.error(`axis ${axis0}: only a Gather along an axis after the batch axis is supported.`);
  const ids = [...idx.data].map((i) => (i < 0 ? i + d : i));
  const run = ids.every((i, k) => i === ids[0]! + k) && ids[0]! >= 0 && ids[ids.length - 1]! < d;
  if (idx.dims.length > 1 || ids.length === 0 || !run)
    throw cx.error(
      `indices [${[...idx.data].join(', ')}]: only one index or consecutive indices (a slice) are supported.`,
    );
  const begin = new Array<number>(rank).fill(0);
  const size = shape.map((s) => s ?? -1);
  begin[axis] = ids[0]!;
  size[axis] = ids.length;
  sliceOf(node, cx, v, begin, size, 0);
  if (idx.dims.length === 0) {
    // A scalar index drops the axis.
    const sliced = cx.get(node.outputs[0]!) as TensorVal;
    reshapeTo(node, cx, sliced, shape.filter((_, i) => i !== axis).slice(1) as number[]);
  }
});
