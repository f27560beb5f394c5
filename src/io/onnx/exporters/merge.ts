/**
 * ONNX for the merge layers: Add, Multiply, Maximum, Minimum, Divide, Power (broadcasting as
 * receptive's), Concatenate.
 */

import type { Layer } from '../../../nn/layer.js';
import {
  Add,
  Concatenate,
  Divide,
  Maximum,
  Minimum,
  Multiply,
  Power,
} from '../../../nn/layers/merge.js';
import { normalizeAxis } from '../../../util/shape.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, NHWC_TO_NCHW_AXIS, type Value } from '../graph.js';

/** Images stay NCHW when every input is an image; otherwise everything goes channels last. */
function sameLayout(ctx: ExportContext, inputs: Value[]): Value[] {
  const images = inputs.every((v) => v.shape.length === 4);
  return inputs.map((v) => (images ? ctx.graph.toNCHW(v) : ctx.graph.toNHWC(v)));
}

function elementwise(op: 'Add' | 'Mul' | 'Max' | 'Min' | 'Div' | 'Pow') {
  return (l: Layer, inputs: Value[], ctx: ExportContext): Value => {
    const vs = sameLayout(ctx, inputs);
    let acc = vs[0]!.name;
    vs.slice(1).forEach((v, i) => {
      acc = ctx.graph.node(op, [acc, v.name], {}, i === vs.length - 2 ? l.name : `${l.name}_${i}`);
    });
    return { name: acc, shape: ctx.outShape(l, inputs, true), nchw: vs[0]!.nchw };
  };
}

function exportConcatenate(l: Concatenate, inputs: Value[], ctx: ExportContext): Value {
  const vs = sameLayout(ctx, inputs);
  const rank = inputs[0]!.shape.length;
  const axis = normalizeAxis(l.axis, rank, l.label);
  const onnxAxis = vs[0]!.nchw ? NHWC_TO_NCHW_AXIS[axis]! : axis;
  const out = ctx.graph.node(
    'Concat',
    vs.map((v) => v.name),
    { axis: attr.int(onnxAxis) },
    l.name,
  );
  return { name: out, shape: ctx.outShape(l, inputs, true), nchw: vs[0]!.nchw };
}

registerOnnxExporter(Add.className, elementwise('Add'));
registerOnnxExporter(Multiply.className, elementwise('Mul'));
registerOnnxExporter(Maximum.className, elementwise('Max'));
registerOnnxExporter(Minimum.className, elementwise('Min'));
registerOnnxExporter(Divide.className, elementwise('Div'));
registerOnnxExporter(Power.className, elementwise('Pow'));
registerOnnxExporter(Concatenate.className, exportConcatenate);
