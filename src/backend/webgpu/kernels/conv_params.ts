/**
 * What the convolution kernels (conv.ts, conv_depthwise.ts) share: the geometry as uniform
 * fields, the WGSL element type of an input, and the fused epilogue (bias, residual, ReLU).
 */
import type { ConvFusion, ConvInfo, Storage } from '../../backend.js';
import type { Param } from '../gpu_runtime.js';
import { readF32 } from './gemm_tiles.js';

/** Uniform fields: name, WGSL type, value. */
export type Fields = [name: string, type: 'u32' | 'i32' | 'f32', value: number][];

/** The convolution's geometry as uniform fields (i32: coordinates go negative in the padding). */
export function geometry(c: ConvInfo): Fields {
  const fields: [string, number][] = [
    ['inH', c.inH],
    ['inW', c.inW],
    ['inC', c.inC],
    ['outH', c.outH],
    ['outW', c.outW],
    ['outC', c.outC],
    ['kh', c.kh],
    ['kw', c.kw],
    ['strideH', c.strideH],
    ['strideW', c.strideW],
    ['dilationH', c.dilationH],
    ['dilationW', c.dilationW],
    ['padTop', c.padTop],
    ['padLeft', c.padLeft],
    ['icPerG', c.inC / c.groups],
    ['ocPerG', c.outC / c.groups],
  ];
  return fields.map(([n, v]) => [n, 'i32', v]);
}

/** Fields as `bindings` declares them. */
export function fieldDecls(fields: Fields): [string, 'u32' | 'i32' | 'f32'][] {
  return fields.map(([n, t]) => [n, t]);
}

/** Fields as the call's params. */
export function fieldValues(fields: Fields): Param[] {
  return fields.map(([, t, v]) => [t, v]);
}

/** The WGSL element type of a storage. */
export function elemType(s: Storage): 'f32' | 'i32' {
  return s.dtype === 'int32' ? 'i32' : 'f32';
}

/** A fused epilogue: its extra inputs, the key part naming it, and `fn epilogue`. */
export interface Epilogue {
  /** Names the choices in the pipeline key. */
  key: string;
  /** Inputs bound after x and w: name, WGSL type, storage. */
  inputs: [string, string, Storage][];
  /** `fn epilogue(v: f32, o: i32, ch: i32) -> f32`: the value stored at flat index o, channel ch. */
  wgsl: string;
}

/** The epilogue of conv2dFused (bias, then residual, then ReLU), or the identity. */
export function epilogue(fused: ConvFusion | null): Epilogue {
  const lines: string[] = [];
  const inputs: [string, string, Storage][] = [];
  let key = 'plain';
  if (fused) {
    const res = fused.residual ?? null;
    inputs.push(['bias', elemType(fused.bias), fused.bias]);
    lines.push(`v2 = v2 + ${readF32('bias', fused.bias, 'ch')};`);
    if (res) {
      inputs.push(['residual', elemType(res), res]);
      lines.push(`v2 = v2 + ${readF32('residual', res, 'o')};`);
    }
    // NaN stays NaN, as the relu unary kernel keeps it.
    if (fused.relu) lines.push('v2 = select(v2, 0.0, v2 <= 0.0);');
    key = `bias${res ? '_res' : ''}${fused.relu ? '_relu' : ''}_${inputs.map(([, t]) => t).join('')}`;
  }
  return {
    key,
    inputs,
    wgsl: `fn epilogue(v: f32, o: i32, ch: i32) -> f32 {
  var v2 = v;
  ${lines.join('\n  ')}
  return v2;
}`,
  };
}
