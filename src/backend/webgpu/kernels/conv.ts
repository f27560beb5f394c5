/**
 * Convolution forward, input gradient and filter gradient, NHWC input and HWIO filters
 * [kh, kw, inC/groups, outC], as implicit GEMMs on gemm_tiles.ts with the groups along the
 * grid's z; the same sums as the js reference (src/backend/js/conv.ts), in another order.
 *
 * - forward: M = batch·outH·outW output pixels, N = outC/groups, K = kh·kw·inC/groups; the
 *   A tile is gathered from x as it is loaded (im2col never stored), zeros where a tap falls
 *   in the padding. Depthwise convolutions (one input channel a group) have a direct kernel,
 *   as their GEMM would be 1 column wide.
 * - input gradient: M = batch·inH·inW input pixels, N = inC/groups, K = kh·kw·outC/groups;
 *   A gathers, for each tap, the dy pixel that tap reaches from this input pixel (none where
 *   the stride skips it or it falls outside dy), B reads w with its in and out channels swapped.
 * - filter gradient: M = kh·kw·inC/groups, N = outC/groups, K = batch·outH·outW: the forward's
 *   gathered A, transposed, times dy.
 *
 * conv2dFused applies bias, residual and ReLU as each value is stored.
 */
import type { ConvFusion, ConvInfo, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';
import * as depthwise from './conv_depthwise.js';
import { elemType, epilogue, geometry } from './conv_params.js';
import { readF32, runGemm } from './gemm_tiles.js';

/** x's im2col element: output pixel r, (tap, input channel) kk of group g; 0 in the padding. */
function im2col(x: Storage, r: string, kk: string, g: string): string {
  return `let r_ = i32(${r});
  let kk_ = i32(${kk});
  let ow = r_ % p.outW;
  let t = r_ / p.outW;
  let oh = t % p.outH;
  let b = t / p.outH;
  let ic = kk_ % p.icPerG;
  let tap = kk_ / p.icPerG;
  let ih = oh * p.strideH - p.padTop + (tap / p.kw) * p.dilationH;
  let iw = ow * p.strideW - p.padLeft + (tap % p.kw) * p.dilationW;
  if (ih < 0 || ih >= p.inH || iw < 0 || iw >= p.inW) { return 0.0; }
  return ${readF32('x', x, `((b * p.inH + ih) * p.inW + iw) * p.inC + i32(${g}) * p.icPerG + ic`)};`;
}

/** The forward convolution, with an optional epilogue. */
function forward(
  rt: GpuRuntime,
  x: Storage,
  w: Storage,
  c: ConvInfo,
  fused: ConvFusion | null,
): GpuStorage {
  const ep = epilogue(fused);
  const size = c.batch * c.outH * c.outW * c.outC;
  if (c.inC === c.groups) return depthwise.forward(rt, x, w, c, ep);
  const types = `${elemType(x)}${elemType(w)}`;
  return runGemm(rt, {
    key: `conv2d_${types}_${ep.key}`,
    inputs: [
      ['x', elemType(x), x],
      ['w', elemType(w), w],
    ],
    storeInputs: ep.inputs,
    output: ['y', size],
    params: geometry(c),
    m: c.batch * c.outH * c.outW,
    n: c.outC / c.groups,
    k: c.kh * c.kw * (c.inC / c.groups),
    z: c.groups,
    loadA: im2col(x, 'row', 'k', 'z'),
    loadB: `return ${readF32('w', w, 'i32(k) * p.outC + i32(z) * p.ocPerG + i32(col)')};`,
    store: `let ch = i32(z) * p.ocPerG + i32(col);
  let o = i32(row) * p.outC + ch;
  y[o] = epilogue(v, o, ch);`,
    storeHelpers: ep.wgsl,
  });
}

/** y = conv(x, w), NHWC [batch, outH, outW, outC]. */
export function conv2d(rt: GpuRuntime, x: Storage, w: Storage, info: ConvInfo): Storage {
  return forward(rt, x, w, info, null);
}

/** relu?(conv(x, w) + bias (+ residual)), applied as each value is stored. */
export function conv2dFused(
  rt: GpuRuntime,
  x: Storage,
  w: Storage,
  info: ConvInfo,
  fused: ConvFusion,
): Storage | null {
  return forward(rt, x, w, info, fused);
}

/** dL/dx, of the input's size. */
export function conv2dBackwardInput(rt: GpuRuntime, dy: Storage, w: Storage, c: ConvInfo): Storage {
  if (c.inC === c.groups) return depthwise.backwardInput(rt, dy, w, c);
  return runGemm(rt, {
    key: `conv2d_dx_${elemType(dy)}${elemType(w)}`,
    inputs: [
      ['dy', elemType(dy), dy],
      ['w', elemType(w), w],
    ],
    output: ['dx', c.batch * c.inH * c.inW * c.inC],
    params: geometry(c),
    m: c.batch * c.inH * c.inW,
    n: c.inC / c.groups,
    k: c.kh * c.kw * (c.outC / c.groups),
    z: c.groups,
    loadA: `let r = i32(row);
  let kk = i32(k);
  let iw = r % p.inW;
  let t = r / p.inW;
  let ih = t % p.inH;
  let b = t / p.inH;
  let oc = kk % p.ocPerG;
  let tap = kk / p.ocPerG;
  let th = ih + p.padTop - (tap / p.kw) * p.dilationH;
  let tw = iw + p.padLeft - (tap % p.kw) * p.dilationW;
  if (th < 0 || tw < 0 || th % p.strideH != 0 || tw % p.strideW != 0) { return 0.0; }
  let oh = th / p.strideH;
  let ow = tw / p.strideW;
  if (oh >= p.outH || ow >= p.outW) { return 0.0; }
  return ${readF32('dy', dy, '((b * p.outH + oh) * p.outW + ow) * p.outC + i32(z) * p.ocPerG + oc')};`,
    loadB: `let kk = i32(k);
  let tap = kk / p.ocPerG;
  return ${readF32('w', w, '(tap * p.icPerG + i32(col)) * p.outC + i32(z) * p.ocPerG + kk % p.ocPerG')};`,
    store: 'dx[i32(row) * p.inC + i32(z) * p.icPerG + i32(col)] = v;',
  });
}

/** dL/dw, of the filter's size. */
export function conv2dBackwardFilter(
  rt: GpuRuntime,
  x: Storage,
  dy: Storage,
  c: ConvInfo,
): Storage {
  if (c.inC === c.groups) return depthwise.backwardFilter(rt, x, dy, c);
  return runGemm(rt, {
    key: `conv2d_dw_${elemType(x)}${elemType(dy)}`,
    inputs: [
      ['x', elemType(x), x],
      ['dy', elemType(dy), dy],
    ],
    output: ['dw', c.kh * c.kw * (c.inC / c.groups) * c.outC],
    params: geometry(c),
    m: c.kh * c.kw * (c.inC / c.groups),
    n: c.outC / c.groups,
    k: c.batch * c.outH * c.outW,
    z: c.groups,
    loadA: im2col(x, 'k', 'row', 'z'),
    loadB: `return ${readF32('dy', dy, 'i32(k) * p.outC + i32(z) * p.ocPerG + i32(col)')};`,
    store: 'dw[i32(row) * p.outC + i32(z) * p.ocPerG + i32(col)] = v;',
  });
}
