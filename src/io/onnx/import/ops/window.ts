/** Conv and pooling windows: ONNX's kernel, strides, dilations and pads → receptive's. */

import type { ImportContext, TensorVal } from '../context.js';
import type { OnnxNode } from '../decode.js';

type Pair = [number, number];
export type Pads = [[number, number], [number, number]];

export interface Window {
  kernel: Pair;
  strides: Pair;
  dilations: Pair;
  /** [[top, bottom], [left, right]], resolved for the input's size. */
  pads: Pads;
}

function pairAttr(cx: ImportContext, node: OnnxNode, name: string, fallback: Pair): Pair {
  const v = cx.attr<number[]>(node, name);
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length !== 2 || v.some((d) => !Number.isInteger(d) || d < 1))
    throw cx.error(
      `${name} ${JSON.stringify(v)} is not two positive integers (only 2-D windows are supported).`,
    );
  return [v[0]!, v[1]!];
}

/** The height and width of an NHWC-held image, which must be known. */
export function spatialSize(cx: ImportContext, x: TensorVal): Pair {
  const [h, w] = [x.t.shape[1], x.t.shape[2]];
  if (h == null || w == null)
    throw cx.error(
      'the height and width of its input must be fixed in the model (they are symbolic).',
    );
  return [h, w];
}

/**
 * The node's window on an input of this size: explicit pads, auto_pad SAME_UPPER (the odd
 * pixel after, as receptive's 'same'), SAME_LOWER (the odd pixel before) or VALID; with
 * ceil_mode, the extra pixels after that make the last partial window count (a window must
 * start inside the input or its leading padding, as PyTorch and ONNX Runtime have it).
 */
export function windowOf(cx: ImportContext, node: OnnxNode, size: Pair, kernel: Pair): Window {
  const strides = pairAttr(cx, node, 'strides', [1, 1]);
  const dilations = pairAttr(cx, node, 'dilations', [1, 1]);
  const autoPad = cx.attr<string>(node, 'auto_pad', 'NOTSET');
  const ceil = cx.attr<number>(node, 'ceil_mode', 0) === 1;
  const pads: Pads = [
    [0, 0],
    [0, 0],
  ];
  const explicit = cx.attr<number[]>(node, 'pads');
  if (autoPad === 'NOTSET' || autoPad === '') {
    if (explicit) {
      if (explicit.length !== 4 || explicit.some((p) => !Number.isInteger(p) || p < 0))
        throw cx.error(
          `pads ${JSON.stringify(explicit)} must be 4 non-negative integers [top, left, bottom, right].`,
        );
      pads[0] = [explicit[0]!, explicit[2]!];
      pads[1] = [explicit[1]!, explicit[3]!];
    }
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (const a of [0, 1]) {
      const span = dilations[a]! * (kernel[a]! - 1) + 1;
      const out = Math.ceil(size[a]! / strides[a]!);
      const total = Math.max((out - 1) * strides[a]! + span - size[a]!, 0);
      const small = Math.floor(total / 2);
      pads[a] = autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    }
  } else if (autoPad !== 'VALID') {
    throw cx.error(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID.`);
  }
  if (ceil) {
    for (const a of [0, 1]) {
      const span = dilations[a]! * (kernel[a]! - 1) + 1;
      const padded = size[a]! + pads[a]![0] + pads[a]![1];
      let out = Math.ceil((padded - span) / strides[a]!) + 1;
      if ((out - 1) * strides[a]! >= size[a]! + pads[a]![0]) out--;
      const extra = (out - 1) * strides[a]! + span - padded;
      if (extra > 0) pads[a]![1] += extra;
    }
  }
  return { kernel, strides, dilations, pads };
}

/** receptive's padding argument for explicit pads ('valid' where there are none). */
export function paddingArg(pads: Pads): 'valid' | Pads {
  return pads.flat().every((p) => p === 0) ? 'valid' : pads;
}

/** A ConstTensor's values as float32 (weights). */
export function floats(data: Float32Array | Float64Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}
