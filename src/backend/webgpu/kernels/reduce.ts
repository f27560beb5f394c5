/**
 * Reductions over any set of axes, argMax and softmax in WGSL.
 *
 * All three reduce "rows": each output value (a row) gathers the values of the reduced axes.
 * A workgroup of 256 threads is a TX × TY tile: TX rows side by side, TY threads along each row
 * that stride through it and then combine their partial results in workgroup memory (a tree,
 * which keeps float32 sums of long rows accurate). Where the reduced values are contiguous in
 * memory (the last axis is reduced) TY is wide, so neighbouring threads read neighbouring
 * values; where the last axis is kept (batch-norm statistics, bias gradients: axes [0, 1, 2] of
 * NHWC) TX is wide, so neighbouring threads read neighbouring rows. Very long rows are cut into
 * chunks reduced by separate workgroups into partial results, which a second pass reduces.
 *
 * Semantics are the js reference's (js/reduce.ts): int32 inputs are read as f32, results are
 * float32 (argMax's int32), max and min propagate NaN, an empty reduction gives 0, −∞ or +∞,
 * argMax takes the first of equal maxima and skips NaN, softmax subtracts the maximum first.
 */
import type { DType, ReduceOp, Storage } from '../../backend.js';
import { bindings, type GpuRuntime, linearGroups, type Param, wgslType } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';

/** Threads per workgroup of the row kernels (TX · TY). */
const THREADS = 256;

/** Values a thread of a row should have at least (fewer threads per row below that). */
const MIN_PER_THREAD = 16;

/**
 * Values one thread reduces at most in one pass: longer rows are cut into chunks of
 * TY · PER_THREAD values, reduced again in a second pass. (Fewer, fuller workgroups: on
 * SwiftShader each workgroup costs much more than its values; 256 sequential float32 sums
 * stay within ~1e-6 of their value.)
 */
const PER_THREAD = 256;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Rows up to this long take one thread each where there are MANY_ROWS of them. */
const SHORT_ROW_MANY = 128;
const MANY_ROWS = 4096;

/**
 * The tile of a row kernel: `rows` rows of `rowLen` values; `innerRun` is how many consecutive
 * rows sit next to each other in memory (0 where each row's own values are contiguous). Short
 * rows take one thread each (TY = 1: no workgroup memory, no barriers) where there are rows
 * enough to keep the GPU busy; otherwise each thread takes MIN_PER_THREAD values or more.
 */
function tile(rows: number, rowLen: number, innerRun: number): [tx: number, ty: number] {
  if (rows >= MANY_ROWS && rowLen <= SHORT_ROW_MANY) return [THREADS, 1];
  let ty = Math.min(THREADS, nextPow2(Math.ceil(rowLen / MIN_PER_THREAD)));
  if (innerRun > 0) ty = Math.min(ty, THREADS / Math.min(64, nextPow2(innerRun)));
  return [THREADS / ty, ty];
}

/** Workgroups [x, y] for `total` of them (a 2-D grid beyond the per-dimension limit). */
function groupGrid(total: number): [number, number] {
  return linearGroups(total, 1);
}

/** WGSL: the flat index of this workgroup (kernels return when it is past the last). */
const GROUP_INDEX = 'let w = wid.y * nwg.x + wid.x;';

/** Values one thread combines per level of the workgroup tree (fewer levels, fewer barriers). */
const RADIX = 16;

/** The tree's levels over TY threads: [threads left, values each combines], top down. */
function levels(ty: number): [next: number, fan: number][] {
  const out: [number, number][] = [];
  for (let width = ty; width > 1; ) {
    const fan = Math.min(RADIX, width);
    width /= fan;
    out.push([width, fan]);
  }
  return out;
}

/**
 * WGSL: `result` = `value` combined over the TY threads of each row, through a tree in `sh`
 * (index li = lid.y·TX + lid.x) where each thread left combines up to RADIX values per level;
 * `reuse` adds a barrier after it so `sh` can be written again.
 */
function combineRow(
  tx: number,
  ty: number,
  value: string,
  result: string,
  combine: (a: string, b: string) => string,
  reuse = false,
): string {
  if (ty === 1) return `let ${result} = ${value};`;
  let s = `sh[li] = ${value};\n  workgroupBarrier();\n`;
  for (const [next, fan] of levels(ty))
    s += `  if (lid.y < ${next}u) {
    var v = sh[li];
    for (var j = 1u; j < ${fan}u; j++) { v = ${combine('v', `sh[li + j * ${next * tx}u]`)}; }
    sh[li] = v;
  }
  workgroupBarrier();\n`;
  s += `  let ${result} = sh[lid.x];`;
  return reuse ? `${s}\n  workgroupBarrier();` : s;
}

/** WGSL: the workgroup memory of a tile with TY > 1. */
function shared(ty: number, name = 'sh', type = 'f32'): string {
  return ty === 1 ? '' : `var<workgroup> ${name}: array<${type}, ${THREADS}>;`;
}

/** max and min that propagate NaN (as the reference's `v > m || isNaN(v)`). */
const COMBINE: Record<ReduceOp, (a: string, b: string) => string> = {
  sum: (a, b) => `(${a} + ${b})`,
  max: (a, b) => `maxNaN(${a}, ${b})`,
  min: (a, b) => `minNaN(${a}, ${b})`,
};

/**
 * NaN is found from its bits: compilers may treat float comparisons as ordered, so `v != v`
 * can be false for NaN (it is on SwiftShader).
 */
const NAN_HELPERS = `
fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn maxNaN(a: f32, b: f32) -> f32 { return select(select(a, b, b > a), b, isNan(b)); }
fn minNaN(a: f32, b: f32) -> f32 { return select(select(a, b, b < a), b, isNan(b)); }
fn expNaN(z: f32) -> f32 { return select(exp(z), z, isNan(z)); }`;

/** An input value as f32. */
function load(dtype: DType, index: string): string {
  return dtype === 'int32' ? `f32(x[${index}])` : `x[${index}]`;
}

/** Axes of one kind merged: [size, stride] from the outermost, size-1 axes dropped. */
export type Dims = [size: number, stride: number][];

/**
 * The reduction's geometry with neighbouring axes of the same kind merged and axes of size 1
 * dropped: the kept axes (the output's, in order) and the reduced ones, each as [size, input
 * stride] from the outermost, and whether the innermost axis of size > 1 is kept. Input offset
 * of output row o and reduced index r: o and r each split over their axes row-major.
 */
export function reduceGeometry(
  shape: number[],
  axes: number[],
): { kept: Dims; red: Dims; innerKept: boolean } {
  const reduced = new Set(axes);
  const kept: Dims = [];
  const red: Dims = [];
  let stride = 1;
  let last: boolean | null = null; // the kind of the axis just inside the current one
  let innerKept = false;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    if (size !== 1) {
      const isRed = reduced.has(d);
      const list = isRed ? red : kept;
      if (last === null) innerKept = !isRed;
      if (last === isRed) list[0]![0] *= size;
      else list.unshift([size, stride]);
      last = isRed;
    }
    stride *= size;
  }
  return { kept, red, innerKept };
}

/** WGSL: a function `name(q) -> u32` from a flat index over `dims` to its input offset. */
function offsetFn(name: string, prefix: string, count: number): string {
  if (count === 0) return `fn ${name}(q0: u32) -> u32 { return 0u; }`;
  let s = `fn ${name}(q0: u32) -> u32 {\n  var q = q0;\n  var off = 0u;\n`;
  for (let d = count - 1; d > 0; d--)
    s += `  off += (q % p.${prefix}n${d}) * p.${prefix}s${d};\n  q = q / p.${prefix}n${d};\n`;
  return `${s}  return off + q * p.${prefix}s0;\n}`;
}

function dimParams(prefix: string, dims: Dims): [string, 'u32'][] {
  return dims.flatMap((_, d): [string, 'u32'][] => [
    [`${prefix}n${d}`, 'u32'],
    [`${prefix}s${d}`, 'u32'],
  ]);
}

function dimValues(dims: Dims): Param[] {
  return dims.flatMap(([n, s]): Param[] => [
    ['u32', n],
    ['u32', s],
  ]);
}

/** Sum, max or min of x (of `shape`) over `axes` (sorted, unique); float32, those axes dropped. */
export function reduce(
  rt: GpuRuntime,
  op: ReduceOp,
  x: Storage,
  shape: number[],
  axes: number[],
): GpuStorage {
  const { kept, red, innerKept } = reduceGeometry(shape, axes);
  const rows = kept.reduce((a, [n]) => a * n, 1);
  const rowLen = red.reduce((a, [n]) => a * n, 1);
  if (shape.some((n) => n === 0)) {
    // No values at all: kept axes of size 0 give no output, reduced ones the identity.
    const outSize = shape.reduce((a, n, d) => (axes.includes(d) ? a : a * n), 1);
    return reduceRows(rt, op, x, outSize, 0, [], [], false);
  }
  return reduceRows(rt, op, x, rows, rowLen, kept, red, innerKept);
}

/** One pass over `rows` rows of `rowLen` values (and more passes while chunks remain). */
function reduceRows(
  rt: GpuRuntime,
  op: ReduceOp,
  x: Storage,
  rows: number,
  rowLen: number,
  kept: Dims,
  red: Dims,
  innerKept: boolean,
): GpuStorage {
  const [tx, ty] = tile(rows, rowLen, innerKept ? kept[kept.length - 1]![0] : 0);
  const rowGroups = Math.ceil(rows / tx);
  const chunk = ty * PER_THREAD;
  const chunks = Math.max(1, Math.ceil(rowLen / chunk));
  const t = wgslType(x.dtype);
  const fields: [string, 'u32' | 'f32'][] = [
    ['rows', 'u32'],
    ['rowLen', 'u32'],
    ['chunk', 'u32'],
    ['chunks', 'u32'],
    ['rowGroups', 'u32'],
    ['init', 'f32'],
    ...dimParams('k', kept),
    ...dimParams('r', red),
  ];
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  const combine = COMBINE[op];
  const out = rt.run({
    key: `reduce_${op}_${t}_k${kept.length}_r${red.length}_${tx}x${ty}`,
    wgsl: () => `${bindings([['x', t]], [['out', 'f32']], fields)}
${NAN_HELPERS}
${offsetFn('keptOffset', 'k', kept.length)}
${offsetFn('redOffset', 'r', red.length)}
${shared(ty)}
@compute @workgroup_size(${tx}, ${ty})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  ${GROUP_INDEX}
  let c = w / p.rowGroups;
  if (c >= p.chunks) { return; }
  let row = (w % p.rowGroups) * ${tx}u + lid.x;
  let valid = row < p.rows;
  var acc = p.init;
  if (valid) {
    let base = keptOffset(row);
    let end = min(c * p.chunk + p.chunk, p.rowLen);
    for (var r = c * p.chunk + lid.y; r < end; r += ${ty}u) {
      acc = ${combine('acc', load(x.dtype, 'base + redOffset(r)'))};
    }
  }
  let li = lid.y * ${tx}u + lid.x;
  ${combineRow(tx, ty, 'acc', 'rowAcc', combine)}
  if (lid.y == 0u && valid) { out[c * p.rows + row] = rowAcc; }
}`,
    inputs: [x],
    outputs: [{ size: rows * chunks, dtype: 'float32' }],
    params: [
      ['u32', rows],
      ['u32', rowLen],
      ['u32', chunk],
      ['u32', chunks],
      ['u32', rowGroups],
      ['f32', init],
      ...dimValues(kept),
      ...dimValues(red),
    ],
    groups: groupGrid(rowGroups * chunks),
  })[0]!;
  if (chunks === 1) return out;
  // The partial results, [chunks, rows]: reduce over the chunks.
  const next =
    rows === 1
      ? reduceRows(rt, op, out, 1, chunks, [], [[chunks, 1]], false)
      : reduceRows(rt, op, out, rows, chunks, [[rows, 1]], [[chunks, rows]], true);
  rt.free(out);
  return next;
}

/** Splits a shape around one axis: [outer, axisSize, inner]. */
function around(shape: number[], axis: number): [number, number, number] {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

/** WGSL shared by argMax and softmax: this thread's row and where its values start. */
function rowStart(tx: number): string {
  return `${GROUP_INDEX}
  if (w >= p.rowGroups) { return; }
  let row = w * ${tx}u + lid.x;
  let valid = row < p.rows;
  let base = (row / p.inner) * p.n * p.inner + row % p.inner;
  let li = lid.y * ${tx}u + lid.x;`;
}

const ENTRY = `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>)`;

/** The int32 index of the first largest value along `axis` (0 where none is above −∞). */
export function argMax(rt: GpuRuntime, x: Storage, shape: number[], axis: number): GpuStorage {
  const [outer, n, inner] = around(shape, axis);
  const rows = outer * inner;
  const [tx, ty] = tile(rows, n, inner === 1 ? 0 : inner);
  const rowGroups = Math.ceil(rows / tx);
  const t = wgslType(x.dtype);
  // A thread's best is the first of its values above all before it (NaN never is); ties
  // between threads go to the lower index; a row with no value above −∞ gives 0.
  let rowBest = 'let rowIndex = bi;';
  if (ty > 1) {
    rowBest = 'shv[li] = best;\n  shi[li] = bi;\n  workgroupBarrier();\n';
    for (const [next, fan] of levels(ty))
      rowBest += `  if (lid.y < ${next}u) {
    var v = shv[li];
    var vi = shi[li];
    for (var j = 1u; j < ${fan}u; j++) {
      let v2 = shv[li + j * ${next * tx}u];
      let i2 = shi[li + j * ${next * tx}u];
      if (v2 > v || (v2 == v && i2 < vi)) { v = v2; vi = i2; }
    }
    shv[li] = v;
    shi[li] = vi;
  }
  workgroupBarrier();\n`;
    rowBest += '  let rowIndex = shi[lid.x];';
  }
  return rt.run({
    key: `argmax_${t}_${tx}x${ty}`,
    wgsl: () => `${bindings(
      [['x', t]],
      [['out', 'i32']],
      [
        ['rows', 'u32'],
        ['n', 'u32'],
        ['inner', 'u32'],
        ['rowGroups', 'u32'],
        ['negInf', 'f32'],
      ],
    )}
${shared(ty, 'shv')}
${shared(ty, 'shi', 'u32')}
@compute @workgroup_size(${tx}, ${ty})
${ENTRY} {
  ${rowStart(tx)}
  var best = p.negInf;
  var bi = 0xffffffffu;
  if (valid) {
    for (var k = lid.y; k < p.n; k += ${ty}u) {
      let v = ${load(x.dtype, 'base + k * p.inner')};
      if (v > best) { best = v; bi = k; }
    }
  }
  ${rowBest}
  if (lid.y == 0u && valid) { out[row] = select(i32(rowIndex), 0, rowIndex == 0xffffffffu); }
}`,
    inputs: [x],
    outputs: [{ size: rows, dtype: 'int32' }],
    params: [
      ['u32', rows],
      ['u32', n],
      ['u32', inner],
      ['u32', rowGroups],
      ['f32', -Infinity],
    ],
    groups: groupGrid(rowGroups),
  })[0]!;
}

/** softmax (or log-softmax) along `axis`, with the row's maximum subtracted first. */
export function softmax(
  rt: GpuRuntime,
  x: Storage,
  shape: number[],
  axis: number,
  log: boolean,
): GpuStorage {
  const [outer, n, inner] = around(shape, axis);
  const rows = n === 0 ? 0 : outer * inner;
  const [tx, ty] = tile(rows, n, inner === 1 ? 0 : inner);
  const rowGroups = Math.ceil(rows / tx);
  const t = wgslType(x.dtype);
  const value = (k: string) => load(x.dtype, `base + ${k} * p.inner`);
  // softmax keeps each exp in `out` (the thread reads back only what it wrote), then divides.
  const keep = log ? '' : '\n      out[base + k * p.inner] = e;';
  // A NaN anywhere in the row (or ∞ − ∞ from an infinite maximum) makes the whole row NaN, as
  // in the reference; exp and log of NaN are not trusted to give NaN.
  const result = log ? `${value('k')} - rowMax - logTotal` : 'out[base + k * p.inner] / total';
  return rt.run({
    key: `softmax_${log ? 'log' : 'exp'}_${t}_${tx}x${ty}`,
    wgsl: () => `${bindings(
      [['x', t]],
      [['out', 'f32']],
      [
        ['rows', 'u32'],
        ['n', 'u32'],
        ['inner', 'u32'],
        ['rowGroups', 'u32'],
        ['negInf', 'f32'],
      ],
    )}
${NAN_HELPERS}
${shared(ty)}
@compute @workgroup_size(${tx}, ${ty})
${ENTRY} {
  ${rowStart(tx)}
  var m = p.negInf;
  if (valid) {
    for (var k = lid.y; k < p.n; k += ${ty}u) { m = maxNaN(m, ${value('k')}); }
  }
  ${combineRow(tx, ty, 'm', 'rowMax', COMBINE.max, true)}
  var s = 0.0;
  if (valid) {
    for (var k = lid.y; k < p.n; k += ${ty}u) {
      let e = expNaN(${value('k')} - rowMax);
      s += e;${keep}
    }
  }
  ${combineRow(tx, ty, 's', 'total', COMBINE.sum)}${log ? '\n  let logTotal = log(total);' : ''}
  if (valid) {
    for (var k = lid.y; k < p.n; k += ${ty}u) {
      out[base + k * p.inner] = select(${result}, total, isNan(total));
    }
  }
}`,
    inputs: [x],
    outputs: [{ size: outer * n * inner, dtype: 'float32' }],
    params: [
      ['u32', rows],
      ['u32', n],
      ['u32', inner],
      ['u32', rowGroups],
      ['f32', -Infinity],
    ],
    groups: groupGrid(rowGroups),
  })[0]!;
}
