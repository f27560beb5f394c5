/**
 * Shape operators on model tensors: Flatten, Reshape, Transpose, Concat, Pad, and the ones that
 * pass data through (Identity, Dropout). Layout moves fold into the NHWC holding where they can
 * (a Transpose NCHW→NHWC costs nothing); the rest become Permute / Reshape layers.
 */
import { Dropout, Flatten, Reshape } from '../../../../nn/layers/core.js';
import { Concatenate } from '../../../../nn/layers/merge.js';
import { ZeroPadding2D } from '../../../../nn/layers/pooling.js';
import { Permute } from '../../../../nn/layers/tensor_ops.js';
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
  // [batch, features] of an image: a Flatten.
  if (rest.length === 1 && v.layout.kind !== 'plain') {
    cx.setOutput(node, flatten(node, cx, v));
    return;
  }
  const p = cx.toPlain(v);
  const same = rest.length === p.t.shape.length - 1 && rest.every((d, i) => d === p.t.shape[i + 1]);
  if (same) {
    cx.setOutput(node, p);
    return;
  }
  const t = cx.apply(new Reshape({ name: cx.layerName(node.name), targetShape: rest }), p.t);
  cx.setOutput(node, cx.tensor(t));
});

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

registerOp('Pad', (node, cx) => {
  const old = cx.opset < 11;
  const mode = cx.attr<string>(node, 'mode', 'constant');
  if (mode !== 'constant')
    throw cx.error(`mode '${mode}': only constant (zero) padding is supported.`);
  const pads = old ? cx.attr<number[]>(node, 'pads', []) : [...cx.constInput(node, 1, 'pads').data];
  const value = old
    ? cx.attr<number>(node, 'value', 0)
    : node.inputs[2]
      ? cx.constInput(node, 2, 'constant_value').data[0]!
      : 0;
  if (node.inputs[3]) throw cx.error('the axes input is not supported.');
  if (value !== 0) throw cx.error(`padding with ${value}: only zero padding is supported.`);
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
  const layer = new ZeroPadding2D({
    name: cx.layerName(node.name),
    padding: [
      [t, b],
      [l, r],
    ],
  });
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
