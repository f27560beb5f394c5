/** ONNX for pooling and resampling: MaxPool, AveragePool, global pooling, Pad, Resize. */

import { fmtSymShape } from '../../../nn/layer.js';
import {
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  MaxPooling2D,
  Padding2D,
  Resizing,
  UpSampling2D,
  ZeroPadding2D,
} from '../../../nn/layers/pooling.js';
import type { ResizeCoordinates } from '../../../ops/resize.js';
import { type ExportContext, OnnxExportError, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';
import { windowAttrs } from './conv.js';

function pool(op: 'MaxPool' | 'AveragePool') {
  return (l: MaxPooling2D | AveragePooling2D, [x]: Value[], ctx: ExportContext): Value => {
    const v = ctx.graph.toNCHW(x!);
    const dilation = l instanceof MaxPooling2D ? l.dilationRate : ([1, 1] as [number, number]);
    const attrs = windowAttrs(v.shape, l.poolSize, l.strides, dilation, l.padding);
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

/**
 * ONNX Resize's attributes for receptive's resizing: linear, or nearest with the rounding that
 * picks rc.resize's pixel (asymmetric: floor(i·in/out); half-pixel: floor((i + ½)·in/out), which
 * is half_pixel's (i + ½)·in/out − ½ rounded half up; align-corners: rounded half up).
 */
function resizeAttrs(interpolation: 'nearest' | 'bilinear', coordinates: ResizeCoordinates) {
  const ctm = {
    'half-pixel': 'half_pixel',
    'align-corners': 'align_corners',
    asymmetric: 'asymmetric',
  }[coordinates];
  return {
    mode: attr.str(interpolation === 'bilinear' ? 'linear' : 'nearest'),
    coordinate_transformation_mode: attr.str(ctm),
    ...(interpolation === 'nearest'
      ? { nearest_mode: attr.str(coordinates === 'asymmetric' ? 'floor' : 'round_prefer_ceil') }
      : {}),
  };
}

/** Upsampling by whole factors: Resize by scales. */
function exportUpSampling(l: UpSampling2D, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const scales = ctx.graph.weight(`${l.name}_scales`, [4], new Float32Array([1, 1, ...l.size]));
  // Nearest repeats pixels: asymmetric with floor says so, whatever the layer's coordinates.
  const coordinates =
    l.interpolation === 'nearest' && l.coordinates !== 'align-corners'
      ? 'asymmetric'
      : l.coordinates;
  const out = ctx.graph.node(
    'Resize',
    [v.name, '', scales],
    resizeAttrs(l.interpolation, coordinates),
    l.name,
  );
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
}

/**
 * Resizing to a fixed size: Resize by sizes, [batch, channels] of the input (its Shape) then
 * [height, width]; with factors of its own, Resize by those scales, which must give the size.
 */
function exportResizing(l: Resizing, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const g = ctx.graph;
  let inputs: string[];
  if (l.scale) {
    const [h, w] = [x!.shape[1], x!.shape[2]];
    // ONNX Runtime's output size: the float32 product of factor and size, truncated.
    const fits =
      typeof h === 'number' &&
      typeof w === 'number' &&
      Math.floor(Math.fround(Math.fround(l.scale[0]) * h)) === l.height &&
      Math.floor(Math.fround(Math.fround(l.scale[1]) * w)) === l.width;
    if (!fits)
      throw new OnnxExportError(
        `exportOnnx: ${l.label}: its factors [${l.scale.join(', ')}] do not give its size [${l.height}, ${l.width}] from the input ${fmtSymShape(x!.shape)}; ONNX Resize takes either factors or sizes.`,
      );
    const scales = g.weight(`${l.name}_scales`, [4], new Float32Array([1, 1, ...l.scale]));
    inputs = [v.name, '', scales];
  } else {
    const shape = g.node('Shape', [v.name], {}, `${l.name}_shape`);
    const nc = g.node(
      'Slice',
      [shape, g.int64s(`${l.name}_zero`, [0]), g.int64s(`${l.name}_two`, [2])],
      {},
      `${l.name}_batch_channels`,
    );
    const sizes = g.node(
      'Concat',
      [nc, g.int64s(`${l.name}_hw`, [l.height, l.width])],
      { axis: attr.int(0) },
      `${l.name}_sizes`,
    );
    inputs = [v.name, '', '', sizes];
  }
  const out = g.node('Resize', inputs, resizeAttrs(l.interpolation, l.coordinates), l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
}

registerOnnxExporter(MaxPooling2D.className, pool('MaxPool'));
registerOnnxExporter(AveragePooling2D.className, pool('AveragePool'));
registerOnnxExporter(GlobalAveragePooling2D.className, globalPool('GlobalAveragePool'));
registerOnnxExporter(GlobalMaxPooling2D.className, globalPool('GlobalMaxPool'));
registerOnnxExporter(ZeroPadding2D.className, exportZeroPadding);
registerOnnxExporter(Padding2D.className, exportPadding);
registerOnnxExporter(UpSampling2D.className, exportUpSampling);
registerOnnxExporter(Resizing.className, exportResizing);
