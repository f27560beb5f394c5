/**
 * Add, Sub, Mul, Div. With a constant operand: a ConstantArithmetic layer holding it (in the
 * tensor's layout); between two model tensors: the Add, Subtract and Multiply merge layers.
 */
import { Add, Multiply, Subtract } from '../../../../nn/layers/merge.js';
import { type ArithmeticOp, ConstantArithmetic } from '../../../../nn/layers/tensor_ops.js';
import { permute, permutedShape } from '../../../layouts.js';
import { HELD_TO_ONNX, type ImportContext, registerOp, type TensorVal } from '../context.js';
import type { ConstTensor } from '../decode.js';
import { floats } from './window.js';

const OPS: Record<string, ArithmeticOp> = {
  Add: 'add',
  Sub: 'subtract',
  Mul: 'multiply',
  Div: 'divide',
};

/** The constant in the tensor's layout, its leading 1s dropped (they broadcast alike). */
export function constantFor(
  cx: ImportContext,
  x: TensorVal,
  c: ConstTensor,
): { x: TensorVal; dims: number[]; data: Float32Array } {
  const size = c.data.length;
  if (size === 1) return { x, dims: [], data: floats(c.data) };
  const rank = cx.rank(x);
  if (c.dims.length > rank)
    throw cx.error(
      `its constant [${c.dims.join(', ')}] has a higher rank than the model's value (${rank}); that would broadcast over the batch.`,
    );
  let dims = [...new Array(rank - c.dims.length).fill(1), ...c.dims];
  let data = floats(c.data);
  let v = x;
  if (x.layout.kind === 'flat') v = cx.toPlain(x);
  if (v.layout.kind === 'nhwc') {
    [dims, data] = [permutedShape(dims, HELD_TO_ONNX), permute(data, dims, HELD_TO_ONNX)];
  }
  while (dims.length > 0 && dims[0] === 1) dims = dims.slice(1);
  if (dims.length === rank)
    throw cx.error(
      `its constant [${c.dims.join(', ')}] differs along the batch axis; a constant per example is not supported.`,
    );
  return { x: v, dims, data };
}

registerOp(['Add', 'Sub', 'Mul', 'Div'], (node, cx) => {
  const [a, b] = [cx.input(node, 0), cx.input(node, 1)];
  if (!a || !b) throw cx.error('it needs two inputs.');
  const op = OPS[node.opType]!;
  const name = cx.layerName(node.name);
  // Before opset 7, B broadcast from `axis` on (legacy broadcasting), not from the right.
  const legacyAxis =
    cx.opset < 7 && cx.attr<number>(node, 'broadcast', 0) === 1
      ? cx.attr<number>(node, 'axis')
      : undefined;
  if (legacyAxis !== undefined && b.kind !== 'const')
    throw cx.error(
      'legacy broadcasting (opset < 7, broadcast with axis) between two model tensors is not supported.',
    );
  if (a.kind === 'const' || b.kind === 'const') {
    const [x, c] = (a.kind === 'tensor' ? [a, b] : [b, a]) as [
      TensorVal,
      { kind: 'const'; value: ConstTensor },
    ];
    let value = c.value;
    if (legacyAxis !== undefined) {
      const rank = cx.rank(x);
      const axis = legacyAxis < 0 ? legacyAxis + rank : legacyAxis;
      const trailing = rank - axis - value.dims.length;
      if (trailing < 0)
        throw cx.error(`broadcast axis ${legacyAxis} does not fit B [${value.dims.join(', ')}].`);
      value = { ...value, dims: [...value.dims, ...new Array(trailing).fill(1)] };
    }
    const k = constantFor(cx, x, value);
    const layer = new ConstantArithmetic({
      name,
      op,
      constantShape: k.dims,
      constantFirst: a.kind === 'const',
    });
    const t = cx.apply(layer, k.x.t);
    cx.setWeights(layer, [k.data]);
    cx.setOutput(node, cx.tensor(t, k.x.layout));
    return;
  }
  if (op === 'divide')
    throw cx.error(
      'a division of one model tensor by another is not supported (only by a constant).',
    );
  let [x, y] = [a, b];
  if (
    cx.rank(x) === 4 &&
    cx.rank(y) === 4 &&
    (x.layout.kind === 'nhwc' || y.layout.kind === 'nhwc')
  ) {
    [x, y] = [cx.toNhwc(x), cx.toNhwc(y)];
  } else {
    [x, y] = [cx.toPlain(x), cx.toPlain(y)];
  }
  const layer =
    op === 'add'
      ? new Add({ name })
      : op === 'multiply'
        ? new Multiply({ name })
        : new Subtract({ name });
  cx.setOutput(node, cx.tensor(cx.apply(layer, [x.t, y.t]), x.layout));
});
