/** ONNX for the attention blocks SqueezeExcite and CBAM, from their sublayers' exporters. */
import { CBAM, SqueezeExcite } from '../../../nn/layers/attention.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';

/** [batch, c] → [batch, c, 1, 1], a per-channel gate for an NCHW map. */
function asChannelGate(ctx: ExportContext, v: Value, name: string): Value {
  const axes = ctx.graph.int64s('axes_hw', [2, 3]);
  const c = v.shape[1] ?? null;
  return {
    name: ctx.graph.node('Unsqueeze', [v.name, axes], {}, name),
    shape: [v.shape[0] ?? null, 1, 1, c],
    nchw: true,
  };
}

/** Global average pool → reduce (relu) → expand (sigmoid) → x · gate. */
function exportSqueezeExcite(l: SqueezeExcite, [x]: Value[], ctx: ExportContext): Value {
  const g = ctx.graph;
  const v = g.toNCHW(x!);
  const c = v.shape[3] ?? null;
  const pooled = g.node('GlobalAveragePool', [v.name], {}, `${l.name}_squeeze`);
  const z: Value = {
    name: g.node('Flatten', [pooled], { axis: attr.int(1) }, `${l.name}_squeeze_flat`),
    shape: [v.shape[0] ?? null, c],
    nchw: false,
  };
  const gate = ctx.layer(l.expand!, [ctx.layer(l.reduce!, [z])]);
  const out = g.node('Mul', [v.name, asChannelGate(ctx, gate, `${l.name}_gate`).name], {}, l.name);
  return { ...v, name: out };
}

/**
 * Channel attention sigmoid(MLP(avg) + MLP(max)), then spatial attention
 * sigmoid(conv([mean_c; max_c])), each multiplied in.
 */
function exportCBAM(l: CBAM, [x]: Value[], ctx: ExportContext): Value {
  const g = ctx.graph;
  const v = g.toNCHW(x!);
  const [n, , , c] = v.shape;
  const pooled = (op: string, tag: string): Value => ({
    name: g.node(
      'Flatten',
      [g.node(op, [v.name], {}, `${l.name}_${tag}_pool`)],
      { axis: attr.int(1) },
      `${l.name}_${tag}`,
    ),
    shape: [n ?? null, c ?? null],
    nchw: false,
  });
  const mlp = (z: Value) => ctx.layer(l.mlpExpand!, [ctx.layer(l.mlpReduce!, [z])]);
  const sum = g.node(
    'Add',
    [mlp(pooled('GlobalAveragePool', 'avg')).name, mlp(pooled('GlobalMaxPool', 'max')).name],
    {},
    `${l.name}_channel_logits`,
  );
  const channelGate = g.node('Sigmoid', [sum], {}, `${l.name}_channel_gate`);
  const gate = asChannelGate(
    ctx,
    { name: channelGate, shape: [n ?? null, c ?? null], nchw: false },
    `${l.name}_channel_gate_4d`,
  );
  const refined: Value = {
    ...v,
    name: g.node('Mul', [v.name, gate.name], {}, `${l.name}_channel`),
  };
  const keep = { axes: attr.ints([1]), keepdims: attr.int(1) };
  const meanC = g.node('ReduceMean', [refined.name], keep, `${l.name}_mean_c`);
  const maxC = g.node('ReduceMax', [refined.name], keep, `${l.name}_max_c`);
  const stacked: Value = {
    name: g.node('Concat', [meanC, maxC], { axis: attr.int(1) }, `${l.name}_pooled`),
    shape: [n ?? null, v.shape[1] ?? null, v.shape[2] ?? null, 2],
    nchw: true,
  };
  const spatial = ctx.layer(l.spatialConv!, [stacked]);
  const spatialGate = g.node('Sigmoid', [spatial.name], {}, `${l.name}_spatial_gate`);
  return { ...v, name: g.node('Mul', [refined.name, spatialGate], {}, l.name) };
}

registerOnnxExporter(SqueezeExcite.className, exportSqueezeExcite);
registerOnnxExporter(CBAM.className, exportCBAM);
