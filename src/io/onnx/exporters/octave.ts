/** ONNX for OctaveConv2D: two convolutions (with average pooling / nearest upsampling) added. */
import { OctaveConv2D } from '../../../nn/layers/octave.js';
import type { Tensor } from '../../../tensor.js';
import { HWIO_TO_OIHW, permute, permutedShape } from '../../layouts.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';
import { conv } from './conv.js';

function exportOctave(l: OctaveConv2D, inputs: Value[], ctx: ExportContext): Value {
  const g = ctx.graph;
  const [xHigh, xLow] = [g.toNCHW(inputs[0]!), l.alphaIn === 0 ? null : g.toNCHW(inputs[1]!)];
  const out = ctx.outShape(l, inputs, l.alphaIn !== 0);
  const s = l.strides[0];
  const pool = (v: Value, p: number, tag: string): Value => {
    if (p === 1) return v;
    const shape = [
      v.shape[0] ?? null,
      (v.shape[1] as number) / p,
      (v.shape[2] as number) / p,
      v.shape[3] ?? null,
    ];
    const attrs = { kernel_shape: attr.ints([p, p]), strides: attr.ints([p, p]) };
    return {
      name: g.node('AveragePool', [v.name], attrs, `${l.name}_${tag}_pool`),
      shape,
      nchw: true,
    };
  };
  const kernel = (w: Tensor) =>
    g.weight(
      w.name ?? 'kernel',
      permutedShape(w.shape, HWIO_TO_OIHW),
      permute(w.dataSync() as Float32Array, w.shape, HWIO_TO_OIHW),
    );
  const convOf = (v: Value, w: Tensor, tag: string): Value => {
    const o = w.shape[3]!;
    const shape = [v.shape[0] ?? null, null, null, o];
    return conv(
      ctx,
      v,
      { kernel: kernel(w), bias: [] },
      { kernel: l.kernelSize, strides: [1, 1], dilations: [1, 1], padding: l.padding, groups: 1 },
      shape,
      `${l.name}_${tag}`,
    );
  };
  let y: string;
  if (l.output === 'high') {
    y = convOf(pool(xHigh, s, 'h2h'), l.kernelFromHigh!, 'h2h').name;
    if (xLow) {
      let fromLow = convOf(xLow, l.kernelFromLow!, 'l2h').name;
      if (s === 1) {
        const scales = g.weight(`${l.name}_scales`, [4], new Float32Array([1, 1, 2, 2]));
        fromLow = g.node(
          'Resize',
          [fromLow, '', scales],
          {
            mode: attr.str('nearest'),
            coordinate_transformation_mode: attr.str('asymmetric'),
            nearest_mode: attr.str('floor'),
          },
          `${l.name}_l2h_up`,
        );
      }
      y = g.node('Add', [y, fromLow], {}, `${l.name}_sum`);
    }
  } else {
    y = convOf(pool(xHigh, 2 * s, 'h2l'), l.kernelFromHigh!, 'h2l').name;
    if (xLow)
      y = g.node(
        'Add',
        [y, convOf(pool(xLow, s, 'l2l'), l.kernelFromLow!, 'l2l').name],
        {},
        `${l.name}_sum`,
      );
  }
  if (l.bias) {
    // The bias is per channel: [c, 1, 1] broadcasts over an NCHW map.
    const b = l.bias;
    const bias = g.weight(b.name ?? 'bias', [b.shape[0]!, 1, 1], b.dataSync() as Float32Array);
    y = g.node('Add', [y, bias], {}, l.activation === 'linear' ? l.name : `${l.name}_biased`);
  }
  return ctx.activation({ name: y, shape: out, nchw: true }, l.activation, l.name);
}

registerOnnxExporter(OctaveConv2D.className, exportOctave);
