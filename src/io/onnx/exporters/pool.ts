/** ONNX for pooling and resampling: MaxPool, AveragePool, global pooling, Pad, Resize. */
import {
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  MaxPooling2D,
  Padding2D,
  UpSampling2D,
  ZeroPadding2D,
} from '../../../nn/layers/pooling.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';
import { windowAttrs } from './conv.js';

function pool(op: 'MaxPool' | 'AveragePool') {
  return (l: MaxPooling2D | AveragePooling2D, [x]: Value[], ctx: ExportContext): Value => {
    const v = ctx.graph.toNCHW(x!);
    const attrs = windowAttrs(v.shape, l.poolSize, l.strides, [1, 1], l.padding);
    // receptive averages over the real pixels only; max pooling ignores padding in both.
    if (op === 'AveragePool') attrs.count_include_pad = attr.int(0);
    const out = ctx.graph.node(op, [v.name], attrs, l.name);
    return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
  };
}

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool') {
  return (
    l: GlobalAveragePooling2D | GlobalMaxPooling2D,
    [x]: Value[],
    ctx: ExportContext,
  ): Value => {
    const v = ctx.graph.toNCHW(x!);
    const shape = ctx.outShape(l, [x!]);
    const pooled = ctx.graph.node(op, [v.name], {}, l.keepDims ? l.name : `${l.name}_pool`);
    if (l.keepDims) return { name: pooled, shape, nchw: true };
    const flat = ctx.graph.node('Flatten', [pooled], { axis: attr.int(1) }, l.name);
    return { name: flat, shape, nchw: false };
  };
}

function exportZeroPadding(l: ZeroPadding2D, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const [[t, b], [left, r]] = l.padding;
  const pads = ctx.graph.int64s(`${l.name}_pads`, [0, 0, t, left, 0, 0, b, r]);
  const out = ctx.graph.node('Pad', [v.name, pads], { mode: attr.str('constant') }, l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
}

/** Reflection, edge or constant padding: Pad in that mode (its constant_value for 'constant'). */
function exportPadding(l: Padding2D, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const [[t, b], [left, r]] = l.padding;
  const pads = ctx.graph.int64s(`${l.name}_pads`, [0, 0, t, left, 0, 0, b, r]);
  const inputs = l.mode === 'constant' ? [v.name, pads, ctx.graph.scalar(l.value)] : [v.name, pads];
  const out = ctx.graph.node('Pad', inputs, { mode: attr.str(l.mode) }, l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
}

/** Nearest-neighbour upsampling by whole factors: Resize with asymmetric coordinates, floor rounding. */
function exportUpSampling(l: UpSampling2D, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const scales = ctx.graph.weight(`${l.name}_scales`, [4], new Float32Array([1, 1, ...l.size]));
  const out = ctx.graph.node(
    'Resize',
    [v.name, '', scales],
    {
      mode: attr.str('nearest'),
      coordinate_transformation_mode: attr.str('asymmetric'),
      nearest_mode: attr.str('floor'),
    },
    l.name,
  );
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
}

registerOnnxExporter(MaxPooling2D.className, pool('MaxPool'));
registerOnnxExporter(AveragePooling2D.className, pool('AveragePool'));
registerOnnxExporter(GlobalAveragePooling2D.className, globalPool('GlobalAveragePool'));
registerOnnxExporter(GlobalMaxPooling2D.className, globalPool('GlobalMaxPool'));
registerOnnxExporter(ZeroPadding2D.className, exportZeroPadding);
registerOnnxExporter(Padding2D.className, exportPadding);
registerOnnxExporter(UpSampling2D.className, exportUpSampling);
