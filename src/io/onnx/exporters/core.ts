/** ONNX for the core layers: Dense, Flatten, Reshape, Activation, ReLU, Dropout, and nested models. */

import { Functional } from '../../../nn/functional.js';
import { Activation, Dense, Dropout, Flatten, ReLU, Reshape } from '../../../nn/layers/core.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';

/** x · kernel + bias: Gemm on [batch, features], MatMul (+ Add) on more axes (channels last). */
export function exportDense(l: Dense, [x]: Value[], ctx: ExportContext): Value {
  const g = ctx.graph;
  const v = g.toNHWC(x!);
  const kernel = g.weight(
    l.kernel.name ?? 'kernel',
    l.kernel.shape,
    l.kernel.dataSync() as Float32Array,
  );
  const bias = l.bias
    ? [g.weight(l.bias.name ?? 'bias', l.bias.shape, l.bias.dataSync() as Float32Array)]
    : [];
  const shape = ctx.outShape(l, [x!]);
  const name = l.activation === 'linear' ? l.name : `${l.name}_linear`;
  let out: string;
  if (v.shape.length === 2) {
    out = g.node('Gemm', [v.name, kernel, ...bias], {}, name);
  } else {
    out = g.node('MatMul', [v.name, kernel], {}, bias.length ? `${l.name}_matmul` : name);
    if (bias.length) out = g.node('Add', [out, bias[0]!], {}, name);
  }
  return ctx.activation({ name: out, shape, nchw: false }, l.activation, l.name);
}

/** receptive flattens NHWC examples: back to NHWC first, so the feature order is the same. */
function exportFlatten(l: Flatten, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNHWC(x!);
  const out = ctx.graph.node('Flatten', [v.name], { axis: attr.int(1) }, l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: false };
}

/** Reshape of each example (NHWC order); 0 keeps the batch axis. */
function exportReshape(l: Reshape, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNHWC(x!);
  const shape = ctx.graph.int64s(`${l.name}_shape`, [0, ...l.targetShape]);
  const out = ctx.graph.node('Reshape', [v.name, shape], {}, l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: false };
}

function exportActivation(l: Activation, [x]: Value[], ctx: ExportContext): Value {
  return ctx.activation(x!, l.activation, l.name);
}

/** max(x, 0), leaky below zero (negativeSlope), capped (maxValue), as ReLU.call computes it. */
function exportReLU(l: ReLU, [x]: Value[], ctx: ExportContext): Value {
  const s = l.negativeSlope;
  const g = ctx.graph;
  const capped = l.maxValue !== undefined;
  const name = capped ? `${l.name}_relu` : l.name;
  let y: Value;
  if (s === 0) y = ctx.unary('Relu', x!, name);
  else if (s <= 1) y = ctx.unary('LeakyRelu', x!, name, { alpha: attr.float(s) });
  else {
    const sx = ctx.withScalar('Mul', x!, s, `${l.name}_scaled`);
    y = { ...x!, name: g.node('Min', [x!.name, sx.name], {}, name) };
  }
  if (capped) y = { ...y, name: g.node('Min', [y.name, g.scalar(l.maxValue!)], {}, l.name) };
  return y;
}

/** Dropout is the identity in inference. */
function exportDropout(_l: Dropout, [x]: Value[]): Value {
  return x!;
}

/** A model used as a layer: its graph, inlined. */
function exportNested(m: Functional, inputs: Value[], ctx: ExportContext): Value {
  return ctx.model(m, inputs)[0]!;
}

registerOnnxExporter(Dense.className, exportDense);
registerOnnxExporter(Flatten.className, exportFlatten);
registerOnnxExporter(Reshape.className, exportReshape);
registerOnnxExporter(Activation.className, exportActivation);
registerOnnxExporter(ReLU.className, exportReLU);
registerOnnxExporter(Dropout.className, exportDropout);
// rc.Model ('Functional') and rc.Sequential, nested in a model: their graphs inline.
registerOnnxExporter(Functional.className, exportNested);
registerOnnxExporter('Sequential', exportNested);
