/** ONNX for the convolution layers: Conv (groups, dilation, explicit pads) and ConvTranspose. */
import type { Shape } from '../../../nn/layer.js';
import {
  Conv2D,
  Conv2DTranspose,
  DepthwiseConv2D,
  SeparableConv2D,
  SpatialSeparableConv2D,
} from '../../../nn/layers/conv.js';
import { axisGeometry, type Padding, transposedAxisGeometry } from '../../../ops/conv_geometry.js';
import type { Tensor } from '../../../tensor.js';
import { DEPTHWISE_PERM, HWIO_TO_OIHW, permute, permutedShape } from '../../layouts.js';
import { type ExportContext, OnnxExportError, registerOnnxExporter } from '../context.js';
import { type Attr, attr, type Value } from '../graph.js';

type Pair = [number, number];

/**
 * Conv / pool attributes for receptive's padding on a known input: TensorFlow's 'same' puts the
 * odd pixel after, which ONNX writes as explicit pads [top, left, bottom, right]. Where the size
 * is unknown, 'same' becomes auto_pad SAME_UPPER, which is the same rule.
 */
export function windowAttrs(
  inShape: Shape,
  kernel: Pair,
  strides: Pair,
  dilations: Pair,
  padding: Padding,
): Record<string, Attr> {
  const attrs: Record<string, Attr> = {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(strides),
  };
  if (dilations[0] !== 1 || dilations[1] !== 1) attrs.dilations = attr.ints(dilations);
  const [h, w] = [inShape[1], inShape[2]];
  if (h == null || w == null) {
    if (padding === 'same') attrs.auto_pad = attr.str('SAME_UPPER');
    else if (padding !== 'valid') attrs.pads = attr.ints(explicitPads(padding));
    return attrs;
  }
  const gh = axisGeometry(h, kernel[0], strides[0], dilations[0], padding, 0);
  const gw = axisGeometry(w, kernel[1], strides[1], dilations[1], padding, 1);
  attrs.pads = attr.ints([gh.padBefore, gw.padBefore, gh.padAfter, gw.padAfter]);
  return attrs;
}

function explicitPads(padding: number | [[number, number], [number, number]]): number[] {
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  return [padding[0][0], padding[1][0], padding[0][1], padding[1][1]];
}

/** A receptive kernel as an ONNX initializer, permuted (and reshaped) into ONNX's layout. */
function kernelInit(ctx: ExportContext, w: Tensor, perm: number[], dims?: number[]): string {
  const data = permute(w.dataSync() as Float32Array, w.shape, perm);
  return ctx.graph.weight(w.name ?? 'kernel', dims ?? permutedShape(w.shape, perm), data);
}

function biasInit(ctx: ExportContext, b: Tensor | null): string[] {
  return b ? [ctx.graph.weight(b.name ?? 'bias', b.shape, b.dataSync() as Float32Array)] : [];
}

/** One Conv node on an NCHW value. */
export function conv(
  ctx: ExportContext,
  x: Value,
  weights: { kernel: string; bias: string[] },
  geometry: { kernel: Pair; strides: Pair; dilations: Pair; padding: Padding; groups: number },
  outShape: Shape,
  name: string,
): Value {
  const v = ctx.graph.toNCHW(x);
  const attrs = windowAttrs(
    v.shape,
    geometry.kernel,
    geometry.strides,
    geometry.dilations,
    geometry.padding,
  );
  if (geometry.groups !== 1) attrs.group = attr.int(geometry.groups);
  const out = ctx.graph.node('Conv', [v.name, weights.kernel, ...weights.bias], attrs, name);
  return { name: out, shape: outShape, nchw: true };
}

/** Conv2D: HWIO kernel → OIHW initializer. */
export function exportConv2D(l: Conv2D, [x]: Value[], ctx: ExportContext): Value {
  const y = conv(
    ctx,
    x!,
    { kernel: kernelInit(ctx, l.kernel, HWIO_TO_OIHW), bias: biasInit(ctx, l.bias) },
    {
      kernel: l.kernelSize,
      strides: l.strides,
      dilations: l.dilationRate,
      padding: l.padding,
      groups: l.groups,
    },
    ctx.outShape(l, [x!]),
    l.activation === 'linear' ? l.name : `${l.name}_conv`,
  );
  return ctx.activation(y, l.activation, l.name);
}

/** DepthwiseConv2D: a Conv with one group per input channel; [kh, kw, c, m] → [c·m, 1, kh, kw]. */
function depthwiseKernel(ctx: ExportContext, w: Tensor): string {
  const [kh, kw, c, m] = w.shape as [number, number, number, number];
  return kernelInit(ctx, w, DEPTHWISE_PERM, [c * m, 1, kh, kw]);
}

function exportDepthwise(l: DepthwiseConv2D, [x]: Value[], ctx: ExportContext): Value {
  const y = conv(
    ctx,
    x!,
    { kernel: depthwiseKernel(ctx, l.kernel), bias: biasInit(ctx, l.bias) },
    {
      kernel: l.kernelSize,
      strides: l.strides,
      dilations: l.dilationRate,
      padding: l.padding,
      groups: l.kernel.shape[2]!,
    },
    ctx.outShape(l, [x!]),
    l.activation === 'linear' ? l.name : `${l.name}_conv`,
  );
  return ctx.activation(y, l.activation, l.name);
}

/** SeparableConv2D: the depthwise Conv, then a 1×1 Conv with the bias. */
function exportSeparable(l: SeparableConv2D, [x]: Value[], ctx: ExportContext): Value {
  const out = ctx.outShape(l, [x!]);
  const c = l.depthwiseKernel.shape[2]!;
  const m = l.depthMultiplier;
  const d = conv(
    ctx,
    x!,
    { kernel: depthwiseKernel(ctx, l.depthwiseKernel), bias: [] },
    {
      kernel: l.kernelSize,
      strides: l.strides,
      dilations: l.dilationRate,
      padding: l.padding,
      groups: c,
    },
    [out[0] ?? null, out[1] ?? null, out[2] ?? null, c * m],
    `${l.name}_depthwise`,
  );
  const y = conv(
    ctx,
    d,
    { kernel: kernelInit(ctx, l.pointwiseKernel, HWIO_TO_OIHW), bias: biasInit(ctx, l.bias) },
    { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1 },
    out,
    l.activation === 'linear' ? l.name : `${l.name}_pointwise`,
  );
  return ctx.activation(y, l.activation, l.name);
}

/**
 * Conv2DTranspose: ConvTranspose with kernel [kh, kw, out, in] → [in, out, kh, kw]. ONNX's
 * output size is stride·(in − 1) + span − padBegin − padEnd + outputPadding; the pads and
 * output padding are chosen to give receptive's size and alignment exactly.
 */
function exportTranspose(l: Conv2DTranspose, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const out = ctx.outShape(l, [x!]);
  const pads = [0, 0, 0, 0];
  const outputPadding = [0, 0];
  for (const a of [0, 1] as const) {
    const n = v.shape[1 + a];
    if (n == null)
      throw new OnnxExportError(
        `${l.label}: the input's ${a === 0 ? 'height' : 'width'} must be known to export a transposed convolution.`,
      );
    const k = l.kernelSize[a];
    const s = l.strides[a];
    const d = l.dilationRate[a];
    const g = transposedAxisGeometry(n, k, s, d, l.padding, l.outputPadding[a], a);
    const full = s * (n - 1) + d * (k - 1) + 1;
    const before = g.padBefore;
    const end = Math.max(0, full - before - g.out);
    pads[a] = before;
    pads[2 + a] = end;
    outputPadding[a] = g.out - (full - before - end);
  }
  const attrs: Record<string, Attr> = {
    kernel_shape: attr.ints(l.kernelSize),
    strides: attr.ints(l.strides),
    pads: attr.ints(pads),
  };
  if (l.dilationRate[0] !== 1 || l.dilationRate[1] !== 1)
    attrs.dilations = attr.ints(l.dilationRate);
  if (outputPadding.some((p) => p !== 0)) attrs.output_padding = attr.ints(outputPadding);
  const y = ctx.graph.node(
    'ConvTranspose',
    [v.name, kernelInit(ctx, l.kernel, HWIO_TO_OIHW), ...biasInit(ctx, l.bias)],
    attrs,
    l.activation === 'linear' ? l.name : `${l.name}_conv`,
  );
  return ctx.activation({ name: y, shape: out, nchw: true }, l.activation, l.name);
}

/** SpatialSeparableConv2D: a kh×1 Conv, then a 1×kw Conv with the bias. */
function exportSpatialSeparable(
  l: SpatialSeparableConv2D,
  [x]: Value[],
  ctx: ExportContext,
): Value {
  const p = l.padding;
  const [pv, ph]: [Padding, Padding] = Array.isArray(p)
    ? [
        [p[0], [0, 0]],
        [[0, 0], p[1]],
      ]
    : typeof p === 'number'
      ? [
          [
            [p, p],
            [0, 0],
          ],
          [
            [0, 0],
            [p, p],
          ],
        ]
      : [p, p];
  const out = ctx.outShape(l, [x!]);
  const [kh, kw] = l.kernelSize;
  const vIn = x!.shape;
  const vh =
    vIn[1] == null ? null : axisGeometry(vIn[1], kh, l.strides[0], l.dilationRate[0], pv, 0).out;
  const v = conv(
    ctx,
    x!,
    { kernel: kernelInit(ctx, l.kernelV, HWIO_TO_OIHW), bias: [] },
    {
      kernel: [kh, 1],
      strides: [l.strides[0], 1],
      dilations: [l.dilationRate[0], 1],
      padding: pv,
      groups: 1,
    },
    [vIn[0] ?? null, vh, vIn[2] ?? null, l.filters],
    `${l.name}_vertical`,
  );
  const y = conv(
    ctx,
    v,
    { kernel: kernelInit(ctx, l.kernelH, HWIO_TO_OIHW), bias: biasInit(ctx, l.bias) },
    {
      kernel: [1, kw],
      strides: [1, l.strides[1]],
      dilations: [1, l.dilationRate[1]],
      padding: ph,
      groups: 1,
    },
    out,
    l.activation === 'linear' ? l.name : `${l.name}_horizontal`,
  );
  return ctx.activation(y, l.activation, l.name);
}

registerOnnxExporter(Conv2D.className, exportConv2D);
registerOnnxExporter(DepthwiseConv2D.className, exportDepthwise);
registerOnnxExporter(SeparableConv2D.className, exportSeparable);
registerOnnxExporter(Conv2DTranspose.className, exportTranspose);
registerOnnxExporter(SpatialSeparableConv2D.className, exportSpatialSeparable);
