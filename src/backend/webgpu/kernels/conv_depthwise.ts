/**
 * Convolutions with one input channel a group (depthwise, any channel multiplier; also a
 * single-channel input), as direct kernels: their GEMMs would be one column wide (forward,
 * input gradient) or a few rows deep (filter gradient), wasting most of each 64 × 64 tile.
 * - forward: a thread an output value, summing its kh·kw taps (then the fused epilogue);
 * - input gradient: a thread an input value, summing over the taps whose output pixel it
 *   reaches (stride and padding inverted exactly) and the channel's multiplier outputs;
 * - filter gradient: a workgroup a filter value, its 256 threads splitting the
 *   batch·outH·outW products and adding their sums in workgroup memory.
 */
import type { ConvInfo, Storage } from '../../backend.js';
import { bindings, type GpuRuntime, linearGroups, linearIndex } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';
import {
  type Epilogue,
  elemType,
  type Fields,
  fieldDecls,
  fieldValues,
  geometry,
} from './conv_params.js';
import { readF32 } from './gemm_tiles.js';

/** One thread a value over a linear grid of `size` (a param named n first). */
function linearKernel(
  rt: GpuRuntime,
  key: string,
  inputs: [string, string, Storage][],
  out: string,
  size: number,
  fields: Fields,
  helpers: string,
  body: string,
): GpuStorage {
  const all: Fields = [['n', 'u32', size], ...fields];
  return rt.run({
    key,
    wgsl: () => `${bindings(
      inputs.map(([n, t]) => [n, t]),
      [[out, 'f32']],
      fieldDecls(all),
    )}
${helpers}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${linearIndex()}
  if (i >= p.n) { return; }
  let o = i32(i);
  ${body}
}`,
    inputs: inputs.map(([, , s]) => s),
    outputs: [{ size, dtype: 'float32' }],
    params: fieldValues(all),
    groups: linearGroups(size),
  })[0]!;
}

/** The forward convolution (with the epilogue, plain or fused). */
export function forward(
  rt: GpuRuntime,
  x: Storage,
  w: Storage,
  c: ConvInfo,
  ep: Epilogue,
): GpuStorage {
  return linearKernel(
    rt,
    `conv2d_depthwise_${elemType(x)}${elemType(w)}_${ep.key}`,
    [['x', elemType(x), x], ['w', elemType(w), w], ...ep.inputs],
    'y',
    c.batch * c.outH * c.outW * c.outC,
    geometry(c),
    ep.wgsl,
    `let oc = o % p.outC;
  let pix = o / p.outC;
  let ow = pix % p.outW;
  let t = pix / p.outW;
  let oh = t % p.outH;
  let b = t / p.outH;
  let g = oc / p.ocPerG;
  var s = 0.0;
  for (var ki = 0; ki < p.kh; ki++) {
    let ih = oh * p.strideH - p.padTop + ki * p.dilationH;
    if (ih < 0 || ih >= p.inH) { continue; }
    for (var kj = 0; kj < p.kw; kj++) {
      let iw = ow * p.strideW - p.padLeft + kj * p.dilationW;
      if (iw < 0 || iw >= p.inW) { continue; }
      s += ${readF32('x', x, '((b * p.inH + ih) * p.inW + iw) * p.inC + g')} * ${readF32('w', w, '(ki * p.kw + kj) * p.outC + oc')};
    }
  }
  y[o] = epilogue(s, o, oc);`,
  );
}

/** dL/dx. */
export function backwardInput(rt: GpuRuntime, dy: Storage, w: Storage, c: ConvInfo): GpuStorage {
  return linearKernel(
    rt,
    `conv2d_depthwise_dx_${elemType(dy)}${elemType(w)}`,
    [
      ['dy', elemType(dy), dy],
      ['w', elemType(w), w],
    ],
    'dx',
    c.batch * c.inH * c.inW * c.inC,
    geometry(c),
    '',
    `let g = o % p.inC;
  let pix = o / p.inC;
  let iw = pix % p.inW;
  let t = pix / p.inW;
  let ih = t % p.inH;
  let b = t / p.inH;
  var s = 0.0;
  for (var ki = 0; ki < p.kh; ki++) {
    let th = ih + p.padTop - ki * p.dilationH;
    if (th < 0 || th % p.strideH != 0 || th / p.strideH >= p.outH) { continue; }
    for (var kj = 0; kj < p.kw; kj++) {
      let tw = iw + p.padLeft - kj * p.dilationW;
      if (tw < 0 || tw % p.strideW != 0 || tw / p.strideW >= p.outW) { continue; }
      let dyRow = ((b * p.outH + th / p.strideH) * p.outW + tw / p.strideW) * p.outC + g * p.ocPerG;
      let wRow = (ki * p.kw + kj) * p.outC + g * p.ocPerG;
      for (var m = 0; m < p.ocPerG; m++) {
        s += ${readF32('dy', dy, 'dyRow + m')} * ${readF32('w', w, 'wRow + m')};
      }
    }
  }
  dx[o] = s;`,
  );
}

/** dL/dw. */
export function backwardFilter(rt: GpuRuntime, x: Storage, dy: Storage, c: ConvInfo): GpuStorage {
  const size = c.kh * c.kw * c.outC;
  const all: Fields = [['n', 'u32', size], ...geometry(c)];
  const rows = c.batch * c.outH * c.outW;
  all.push(['rows', 'i32', rows]);
  return rt.run({
    key: `conv2d_depthwise_dw_${elemType(x)}${elemType(dy)}`,
    wgsl: () => `${bindings(
      [
        ['x', elemType(x)],
        ['dy', elemType(dy)],
      ],
      [['dw', 'f32']],
      fieldDecls(all),
    )}
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  // One filter value a workgroup (uniform, so the early return keeps the barriers uniform).
  let u = wid.y * nwg.x + wid.x;
  if (u >= p.n) { return; }
  let o = i32(u);
  let oc = o % p.outC;
  let tap = o / p.outC;
  let ki = tap / p.kw;
  let kj = tap % p.kw;
  let g = oc / p.ocPerG;
  var s = 0.0;
  for (var r = i32(li); r < p.rows; r += 256) {
    let ow = r % p.outW;
    let t = r / p.outW;
    let oh = t % p.outH;
    let b = t / p.outH;
    let ih = oh * p.strideH - p.padTop + ki * p.dilationH;
    let iw = ow * p.strideW - p.padLeft + kj * p.dilationW;
    if (ih >= 0 && ih < p.inH && iw >= 0 && iw < p.inW) {
      s += ${readF32('x', x, '((b * p.inH + ih) * p.inW + iw) * p.inC + g')} * ${readF32('dy', dy, 'r * p.outC + oc')};
    }
  }
  part[li] = s;
  workgroupBarrier();
  for (var width = 128u; width > 0u; width = width / 2u) {
    if (li < width) { part[li] += part[li + width]; }
    workgroupBarrier();
  }
  if (li == 0u) { dw[o] = part[0]; }
}`,
    inputs: [x, dy],
    outputs: [{ size, dtype: 'float32' }],
    params: fieldValues(all),
    groups: linearGroups(size, 1),
  })[0]!;
}
