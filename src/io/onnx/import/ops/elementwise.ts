/**
 * Add, Sub, Mul, Div, Pow, Max, Min. With a constant operand: a ConstantArithmetic layer holding
 * it (in the tensor's layout); between model tensors: the merge layers (Add, Subtract, Multiply,
 * Divide, Power, Maximum, Minimum), broadcasting as ONNX does.
 */
import type { Layer } from '../../../../nn/layer.js';
import {
  Add,
  Divide,
  Maximum,
  Minimum,
  Multiply,
  Power,
  Subtract,
} from '../../../../nn/layers/merge.js';
import { type ArithmeticOp, ConstantArithmetic } from '../../../../nn/layers/tensor_ops.js';
import { permute, permutedShape } from '../../../layouts.js';
import { HELD_TO_ONNX, type ImportContext, registerOp, type TensorVal } from '../context.js';
import type { ConstTensor, OnnxNode } from '../decode.js';
import { floats } from './window.js';

const OPS: Record<string, ArithmeticOp> = {
  Add: 'add',
  Sub: 'subtract',
  Mul: 'multiply',
  Div: 'divide',
  Pow: 'power',
  Max: 'maximum',
  Min: 'minimum',
};

/** The merge layer of two (Max, Min: or more) model tensors. */
const MERGES: Record<ArithmeticOp, new (args: { name: string }) => Layer> = {
  add: Add,
  subtract: Subtract,
  multiply: Multiply,
  divide: Divide,
  power: Power,
  maximum: Maximum,
  minimum: Minimum,
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

/** Model tensors in one layout: NHWC where they are 4-D images and one of them is held so. */
function sameLayout(cx: ImportContext, vs: TensorVal[]): TensorVal[] {
  const images = vs.every((v) => cx.rank(v) === 4) && vs.some((v) => v.layout.kind === 'nhwc');
  return vs.map((v) => (images ? cx.toNhwc(v) : cx.toPlain(v)));
}

registerOp(['Add', 'Sub', 'Mul', 'Div', 'Pow'], (node, cx) => {
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
    withConstant(cx, node, name, op, x, value, a.kind === 'const');
    return;
  }
  const [x, y] = sameLayout(cx, [a, b]);
  const layer = new MERGES[op]({ name });
  cx.setOutput(node, cx.tensor(cx.apply(layer, [x!.t, y!.t]), x!.layout));
});

/** x ∘ c (or c ∘ x) by a ConstantArithmetic layer. */
function withConstant(
  cx: ImportContext,
  node: OnnxNode,
  name: string,
  op: ArithmeticOp,
  x: TensorVal,
  value: ConstTensor,
  constantFirst: boolean,
): void {
  const k = constantFor(cx, x, value);
  const layer = new ConstantArithmetic({ name, op, constantShape: k.dims, constantFirst });
  const t = cx.apply(layer, k.x.t);
  cx.setWeights(layer, [k.data]);
  cx.setOutput(node, cx.tensor(t, k.x.layout));
}

// Max and Min of one or more inputs: the model tensors merged, then a constant among them.
registerOp(['Max', 'Min'], (node, cx) => {
  const vals = node.inputs.map((_, i) => cx.input(node, i)).filter((v) => v !== undefined);
  if (vals.length === 0) throw cx.error('it has no inputs.');
  const tensors = vals.filter((v): v is TensorVal => v.kind === 'tensor');
  const consts = vals.filter((v) => v.kind === 'const');
  if (tensors.length === 0) throw cx.error('all its inputs are constants.');
  if (consts.length > 1)
    throw cx.error('more than one constant input is not supported (fold them into one).');
  const op = OPS[node.opType]!;
  let x = tensors[0]!;
  if (tensors.length > 1) {
    const vs = sameLayout(cx, tensors);
    const layer = new MERGES[op]({
      name: cx.layerName(consts.length ? `${node.name}_merge` : node.name),
    });
    x = cx.tensor(
      cx.apply(
        layer,
        vs.map((v) => v.t),
      ),
      vs[0]!.layout,
    );
  }
  const c = consts[0];
  if (c?.kind === 'const') withConstant(cx, node, cx.layerName(node.name), op, x, c.value, false);
  else cx.setOutput(node, x);
});
