/**
 * Max and average pooling over NHWC input and their gradients, in WGSL, one thread per output
 * value (neighbouring threads take neighbouring channels, so reads are contiguous).
 *
 * The gradients gather instead of scattering: each input pixel sums the gradients of the
 * windows that reach it, in the reference's order (windows row by row), so overlapping windows
 * (stride < window) need no atomic float adds and every value is written. Max pooling's
 * gradient first finds each window's first maximum (one pass over the windows, int32 indices),
 * then each pixel takes the gradients of the windows whose maximum it is.
 *
 * Semantics are the js reference's (js/pool.ts): padding is −∞ for max pooling (NaN never wins;
 * a window of padding only gives −∞ and passes no gradient), average pooling counts real pixels
 * only (a window of padding only gives 0).
 */
import type { DType, PoolInfo, Storage } from '../../backend.js';
import { bindings, type GpuRuntime, linearGroups, type Param, wgslType } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';
import { linearMain } from './elementwise.js';

/** The pooling geometry as uniform fields (after `n`, the threads). */
const GEOMETRY = [
  'batch',
  'inH',
  'inW',
  'ch',
  'outH',
  'outW',
  'kh',
  'kw',
  'strideH',
  'strideW',
  'padTop',
  'padLeft',
] as const;

function fields(extra: [string, 'u32' | 'i32' | 'f32'][] = []): [string, 'u32' | 'i32' | 'f32'][] {
  return [['n', 'u32'], ...GEOMETRY.map((g): [string, 'i32'] => [g, 'i32']), ...extra];
}

function params(n: number, p: PoolInfo, extra: Param[] = []): Param[] {
  const v = [
    p.batch,
    p.inH,
    p.inW,
    p.channels,
    p.outH,
    p.outW,
    p.kh,
    p.kw,
    p.strideH,
    p.strideW,
    p.padTop,
    p.padLeft,
  ];
  return [['u32', n], ...v.map((x): Param => ['i32', x]), ...extra];
}

/** A value as f32, whatever the storage's type. */
function load(name: string, dtype: DType, index: string): string {
  return dtype === 'int32' ? `f32(${name}[${index}])` : `${name}[${index}]`;
}

/**
 * WGSL for average pooling's float64-like arithmetic. The reference sums and divides in
 * float64 and rounds once; float32 pairs (a value and its rounding error: TwoSum, and a
 * quotient's remainder found exactly by splitting it into two 12-bit halves, by its bits) give the same float32 results but
 * in rare ties, where plain float32 sums of values that nearly cancel would be far off. Past
 * ±∞ or NaN the plain result stands.
 */
const EXACT = `
fn finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
// a + b as s + e exactly (s the rounded sum).
fn twoSum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}
// a / n (n a whole number below 4096) as q and the remainder a − q · n, exact: q · n is exact
// in two halves of 12 bits (split by a bit mask, which no compiler contracts).
fn divRem(a: f32, n: f32) -> vec2<f32> {
  let q = a / n;
  let hi = bitcast<f32>(bitcast<u32>(q) & 0xfffff000u);
  let lo = q - hi;
  return vec2<f32>(q, (a - hi * n) - lo * n);
}
// (h + l) / n rounded once.
fn meanOf(h: f32, l: f32, n: f32) -> f32 {
  let hl = twoSum(h, l);
  let q = divRem(hl.x, n);
  // The remainders added before dividing: a mean exactly halfway between two float32 values
  // then rounds to even, as the reference's does.
  let r = q.x + (q.y + hl.y) / n;
  return select(h / n, r, finite(r));
}
// acc + d / n rounded once.
fn addQuotient(acc: f32, d: f32, n: f32) -> f32 {
  let q = divRem(d, n);
  let s = twoSum(acc, q.x);
  let r = s.x + (s.y + q.y / n);
  return select(acc + d / n, r, finite(r));
}`;

/** WGSL: `c`, `ow`, `oh`, `b` of output value `i`, and the window's first row and column. */
const OUTPUT_POSITION = `let c = i32(i % u32(p.ch));
  var q = i32(i / u32(p.ch));
  let ow = q % p.outW;
  q = q / p.outW;
  let oh = q % p.outH;
  let b = q / p.outH;
  let h0 = oh * p.strideH - p.padTop;
  let w0 = ow * p.strideW - p.padLeft;`;

/** WGSL: loops over the real pixels of the window, with `xi` the pixel's input index. */
function windowLoop(body: string): string {
  return `for (var a = max(h0, 0); a < min(h0 + p.kh, p.inH); a++) {
    for (var e = max(w0, 0); e < min(w0 + p.kw, p.inW); e++) {
      let xi = ((b * p.inH + a) * p.inW + e) * p.ch + c;
      ${body}
    }
  }`;
}

function outSize(p: PoolInfo): number {
  return p.batch * p.outH * p.outW * p.channels;
}

function inSize(p: PoolInfo): number {
  return p.batch * p.inH * p.inW * p.channels;
}

/** The largest value of each window (padding is −∞). */
export function maxPool(rt: GpuRuntime, x: Storage, info: PoolInfo): GpuStorage {
  const n = outSize(info);
  const t = wgslType(x.dtype);
  return rt.run({
    key: `maxpool_${t}`,
    wgsl: () =>
      `${bindings([['x', t]], [['out', 'f32']], fields([['negInf', 'f32']]))}\n${linearMain(
        `${OUTPUT_POSITION}
  var m = p.negInf;
  ${windowLoop(`let v = ${load('x', x.dtype, 'xi')};\n      if (v > m) { m = v; }`)}
  out[i] = m;`,
      )}`,
    inputs: [x],
    outputs: [{ size: n, dtype: 'float32' }],
    params: params(n, info, [['f32', -Infinity]]),
    groups: linearGroups(n),
  })[0]!;
}

/** The input index of each window's first maximum (−1 where no pixel is above −∞). */
function windowArgMax(rt: GpuRuntime, x: Storage, info: PoolInfo): GpuStorage {
  const n = outSize(info);
  const t = wgslType(x.dtype);
  return rt.run({
    key: `maxpool_argmax_${t}`,
    wgsl: () =>
      `${bindings([['x', t]], [['out', 'i32']], fields([['negInf', 'f32']]))}\n${linearMain(
        `${OUTPUT_POSITION}
  var m = p.negInf;
  var arg = -1;
  ${windowLoop(`let v = ${load('x', x.dtype, 'xi')};\n      if (v > m) { m = v; arg = xi; }`)}
  out[i] = arg;`,
      )}`,
    inputs: [x],
    outputs: [{ size: n, dtype: 'int32' }],
    params: params(n, info, [['f32', -Infinity]]),
    groups: linearGroups(n),
  })[0]!;
}

/**
 * WGSL: input value `i`'s position, and loops over the windows that reach it (row by row, as
 * the reference visits them), with `yi` the window's output index and its first row and
 * column `h0`, `w0`.
 */
function reachingWindows(body: string): string {
  return `let c = i32(i % u32(p.ch));
  var q = i32(i / u32(p.ch));
  let iw = q % p.inW;
  q = q / p.inW;
  let ih = q % p.inH;
  let b = q / p.inH;
  // Windows oh with oh·strideH − padTop ≤ ih < oh·strideH − padTop + kh (same along w).
  let th = ih + p.padTop - p.kh + 1;
  let tw = iw + p.padLeft - p.kw + 1;
  let ohLo = select(0, (th + p.strideH - 1) / p.strideH, th > 0);
  let owLo = select(0, (tw + p.strideW - 1) / p.strideW, tw > 0);
  let ohHi = min(p.outH - 1, (ih + p.padTop) / p.strideH);
  let owHi = min(p.outW - 1, (iw + p.padLeft) / p.strideW);
  var acc = 0.0;
  for (var oh = ohLo; oh <= ohHi; oh++) {
    for (var ow = owLo; ow <= owHi; ow++) {
      let yi = ((b * p.outH + oh) * p.outW + ow) * p.ch + c;
      let h0 = oh * p.strideH - p.padTop;
      let w0 = ow * p.strideW - p.padLeft;
      ${body}
    }
  }
  out[i] = acc;`;
}

/** dL/dx of max pooling: each window's gradient to its first maximum. */
export function maxPoolBackward(
  rt: GpuRuntime,
  dy: Storage,
  x: Storage,
  info: PoolInfo,
): GpuStorage {
  const n = inSize(info);
  const arg = windowArgMax(rt, x, info);
  const t = wgslType(dy.dtype);
  const out = rt.run({
    key: `maxpool_backward_${t}`,
    wgsl: () =>
      `${bindings(
        [
          ['dy', t],
          ['arg', 'i32'],
        ],
        [['out', 'f32']],
        fields(),
      )}\n${linearMain(
        reachingWindows(`if (arg[yi] == i32(i)) { acc += ${load('dy', dy.dtype, 'yi')}; }`),
      )}`,
    inputs: [dy, arg],
    outputs: [{ size: n, dtype: 'float32' }],
    params: params(n, info),
    groups: linearGroups(n),
  })[0]!;
  rt.free(arg);
  return out;
}

/** The mean of each window's real pixels (0 for a window of padding only). */
export function avgPool(rt: GpuRuntime, x: Storage, info: PoolInfo): GpuStorage {
  const n = outSize(info);
  const t = wgslType(x.dtype);
  return rt.run({
    key: `avgpool_${t}`,
    wgsl: () =>
      `${bindings([['x', t]], [['out', 'f32']], fields())}\n${EXACT}\n${linearMain(
        `${OUTPUT_POSITION}
  var s = 0.0;
  var err = 0.0;
  var count = 0;
  ${windowLoop(`let v = ${load('x', x.dtype, 'xi')};
      let st = twoSum(s, v);
      err += select(0.0, st.y, finite(st.x));
      s = st.x;
      count++;`)}
  out[i] = select(meanOf(s, err, f32(count)), 0.0, count == 0);`,
      )}`,
    inputs: [x],
    outputs: [{ size: n, dtype: 'float32' }],
    params: params(n, info),
    groups: linearGroups(n),
  })[0]!;
}

/** dL/dx of average pooling: each window's gradient spread evenly over its real pixels. */
export function avgPoolBackward(rt: GpuRuntime, dy: Storage, info: PoolInfo): GpuStorage {
  const n = inSize(info);
  const t = wgslType(dy.dtype);
  // A window's real pixels: its rows inside the image times its columns inside it.
  const body = `let rowsIn = min(h0 + p.kh, p.inH) - max(h0, 0);
      let colsIn = min(w0 + p.kw, p.inW) - max(w0, 0);
      acc = addQuotient(acc, ${load('dy', dy.dtype, 'yi')}, f32(rowsIn * colsIn));`;
  return rt.run({
    key: `avgpool_backward_${t}`,
    wgsl: () =>
      `${bindings([['dy', t]], [['out', 'f32']], fields())}\n${EXACT}\n${linearMain(reachingWindows(body))}`,
    inputs: [dy],
    outputs: [{ size: n, dtype: 'float32' }],
    params: params(n, info),
    groups: linearGroups(n),
  })[0]!;
}
