/**
 * Data movement in WGSL: transpose, slice, pad, concat, oneHot. One thread per output value
 * over a linear grid; values move as u32 bits, so int32 and float32 tensors take the same
 * kernels and keep their dtype (oneHot's output is float32, as the reference's).
 */
import { sizeOf, stridesOf } from '../../../util/shape.js';
import type { Storage } from '../../backend.js';
import { MAX_GROUPS_PER_DIM } from '../gpu_constants.js';
import { bindings, type GpuRuntime, linearGroups, type Param, wgslType } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';
import { linearMain } from './elementwise.js';

/** A copy of x in a new storage (a transpose that moves nothing, a whole slice). */
function copyOf(rt: GpuRuntime, x: Storage): GpuStorage {
  const out = rt.alloc(x.size, x.dtype);
  rt.copy(x, out);
  return out;
}

/**
 * The WGSL that walks output index `i` (row-major over dims p.d0..) from the last axis to the
 * first, giving each axis's coordinate `c` to `perAxis(d)`.
 */
function walk(rank: number, perAxis: (d: number) => string): string {
  let s = '  var o = i;\n';
  for (let d = rank - 1; d >= 0; d--)
    s += `  { let c = o % p.d${d}; o = o / p.d${d}; ${perAxis(d)} }\n`;
  return s;
}

/**
 * Transpose's shape and perm with the axes of size 1 dropped and the input axes that stay next
 * to each other merged: [N, H, W, C] by [0, 3, 1, 2] becomes [N, H·W, C] by [0, 2, 1]. Fewer
 * axes is less index arithmetic and fewer pipelines.
 */
export function simplifyTranspose(
  shape: number[],
  perm: number[],
): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, d) => d).filter((d) => shape[d] !== 1);
  const rankOf = new Map(kept.map((d, k) => [d, k]));
  const p = perm.filter((d) => shape[d] !== 1).map((d) => rankOf.get(d)!);
  const s = kept.map((d) => shape[d]!);
  // Groups of input axes, in output order, each a run of consecutive input axes.
  const groups: number[][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1]! + 1 === a) last.push(a);
    else groups.push([a]);
  }
  // The merged input axes, numbered in input order.
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  const newShape = byInput.map((g) => g.reduce((acc, a) => acc * s[a]!, 1));
  const newPerm = groups.map((g) => byInput.indexOf(g));
  return { shape: newShape, perm: newPerm };
}

/** Side of the square tiles of the batched 2-D transpose. */
const TILE = 16;

/**
 * [batch, rows, cols] → [batch, cols, rows] through a tile in workgroup memory, so that both
 * the reads and the writes of neighbouring threads are neighbours in memory (the tile's rows
 * are padded by one to keep the column reads off one memory bank).
 */
function transposeTiled(
  rt: GpuRuntime,
  x: Storage,
  batch: number,
  rows: number,
  cols: number,
): GpuStorage {
  return rt.run({
    key: 'transpose_tiled',
    wgsl: () => `${bindings(
      [['x', 'u32']],
      [['out', 'u32']],
      [
        ['rows', 'u32'],
        ['cols', 'u32'],
      ],
    )}
var<workgroup> tile: array<u32, ${TILE * (TILE + 1)}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let base = wg.z * p.rows * p.cols;
  let r0 = wg.y * ${TILE}u;
  let c0 = wg.x * ${TILE}u;
  if (r0 + l.y < p.rows && c0 + l.x < p.cols) {
    tile[l.y * ${TILE + 1}u + l.x] = x[base + (r0 + l.y) * p.cols + c0 + l.x];
  }
  workgroupBarrier();
  if (c0 + l.y < p.cols && r0 + l.x < p.rows) {
    out[base + (c0 + l.y) * p.rows + r0 + l.x] = tile[l.x * ${TILE + 1}u + l.y];
  }
}`,
    inputs: [x],
    outputs: [{ size: x.size, dtype: x.dtype }],
    params: [
      ['u32', rows],
      ['u32', cols],
    ],
    groups: [Math.ceil(cols / TILE), Math.ceil(rows / TILE), batch],
  })[0]!;
}

export function transpose(rt: GpuRuntime, x: Storage, shape: number[], perm: number[]): Storage {
  const t = simplifyTranspose(shape, perm);
  const rank = t.shape.length;
  if (rank <= 1 || t.perm.every((a, i) => a === i)) return copyOf(rt, x);
  // A (batched) matrix transpose whose sides fill most of a tile: the tiled kernel. Narrow
  // sides (an image's 3 channels) waste most of a tile's threads; the generic kernel then.
  const batched = rank === 3 && t.perm[0] === 0 && t.perm[1] === 2;
  if (rank === 2 || batched) {
    const [batch, rows, cols] = rank === 2 ? [1, ...t.shape] : t.shape;
    const fits = Math.max(batch!, Math.ceil(rows! / TILE), Math.ceil(cols! / TILE));
    if (Math.min(rows!, cols!) >= TILE / 2 && fits <= MAX_GROUPS_PER_DIM)
      return transposeTiled(rt, x, batch!, rows!, cols!);
  }
  const inStrides = stridesOf(t.shape);
  const outShape = t.perm.map((a) => t.shape[a]!);
  const fields: [string, 'u32'][] = [['n', 'u32']];
  const params: Param[] = [['u32', x.size]];
  for (let d = 0; d < rank; d++) {
    fields.push([`d${d}`, 'u32'], [`s${d}`, 'u32']);
    params.push(['u32', outShape[d]!], ['u32', inStrides[t.perm[d]!]!]);
  }
  return rt.run({
    key: `transpose_r${rank}`,
    wgsl: () =>
      `${bindings([['x', 'u32']], [['out', 'u32']], fields)}\n${linearMain(
        `var src = 0u;\n${walk(rank, (d) => `src += c * p.s${d};`)}  out[i] = x[src];`,
      )}`,
    inputs: [x],
    outputs: [{ size: x.size, dtype: x.dtype }],
    params,
    groups: linearGroups(x.size),
  })[0]!;
}

export function slice(
  rt: GpuRuntime,
  x: Storage,
  shape: number[],
  begin: number[],
  size: number[],
): Storage {
  const n = sizeOf(size);
  if (n === x.size) return copyOf(rt, x);
  const rank = shape.length;
  const strides = stridesOf(shape);
  const base = begin.reduce((acc, b, d) => acc + b * strides[d]!, 0);
  const fields: [string, 'u32'][] = [
    ['n', 'u32'],
    ['base', 'u32'],
  ];
  const params: Param[] = [
    ['u32', n],
    ['u32', base],
  ];
  for (let d = 0; d < rank; d++) {
    fields.push([`d${d}`, 'u32'], [`s${d}`, 'u32']);
    params.push(['u32', size[d]!], ['u32', strides[d]!]);
  }
  return rt.run({
    key: `slice_r${rank}`,
    wgsl: () =>
      `${bindings([['x', 'u32']], [['out', 'u32']], fields)}\n${linearMain(
        `var src = p.base;\n${walk(rank, (d) => `src += c * p.s${d};`)}  out[i] = x[src];`,
      )}`,
    inputs: [x],
    outputs: [{ size: n, dtype: x.dtype }],
    params,
    groups: linearGroups(n),
  })[0]!;
}

/** The bits of `value` as the reference stores it in an array of `dtype` (int32: ToInt32). */
function valueBits(value: number, dtype: Storage['dtype']): number {
  if (dtype === 'int32') return (value | 0) >>> 0;
  return new Uint32Array(new Float32Array([value]).buffer)[0]!;
}

export function pad(
  rt: GpuRuntime,
  x: Storage,
  shape: number[],
  paddings: [number, number][],
  value: number,
): Storage {
  const rank = shape.length;
  const outShape = shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const n = sizeOf(outShape);
  if (n === x.size) return copyOf(rt, x);
  const strides = stridesOf(shape);
  const fields: [string, 'u32'][] = [
    ['n', 'u32'],
    ['value', 'u32'],
  ];
  const params: Param[] = [
    ['u32', n],
    ['u32', valueBits(value, x.dtype)],
  ];
  for (let d = 0; d < rank; d++) {
    fields.push([`d${d}`, 'u32'], [`b${d}`, 'u32'], [`x${d}`, 'u32'], [`s${d}`, 'u32']);
    params.push(
      ['u32', outShape[d]!],
      ['u32', paddings[d]![0]],
      ['u32', shape[d]!],
      ['u32', strides[d]!],
    );
  }
  // The coordinate less the padding before wraps around below zero, so one test catches both
  // sides.
  const perAxis = (d: number) =>
    `let k = c - p.b${d}; inside = inside && k < p.x${d}; src += k * p.s${d};`;
  return rt.run({
    key: `pad_r${rank}`,
    wgsl: () =>
      `${bindings([['x', 'u32']], [['out', 'u32']], fields)}\n${linearMain(
        `var src = 0u;\n  var inside = true;\n${walk(rank, perAxis)}  if (inside) { out[i] = x[src]; } else { out[i] = p.value; }`,
      )}`,
    inputs: [x],
    outputs: [{ size: n, dtype: x.dtype }],
    params,
    groups: linearGroups(n),
  })[0]!;
}

/**
 * One dispatch per input, each copying its rows into their place of one output storage (a
 * shader may bind at most 8 storage buffers, so any number of inputs cannot go in one).
 */
export function concat(rt: GpuRuntime, xs: Storage[], shapes: number[][], axis: number): Storage {
  const runs = shapes.map((s) => sizeOf(s.slice(axis)));
  const total = runs.reduce((a, b) => a + b, 0);
  const out = rt.alloc(
    xs.reduce((a, s) => a + s.size, 0),
    xs[0]!.dtype,
  );
  let offset = 0;
  xs.forEach((x, k) => {
    const run = runs[k]!;
    rt.run({
      key: 'concat_block',
      wgsl: () =>
        `${bindings(
          [['x', 'u32']],
          [['out', 'u32']],
          [
            ['n', 'u32'],
            ['run', 'u32'],
            ['total', 'u32'],
            ['offset', 'u32'],
          ],
        )}\n${linearMain('out[(i / p.run) * p.total + p.offset + i % p.run] = x[i];')}`,
      inputs: [x],
      outputs: [],
      into: [out],
      params: [
        ['u32', x.size],
        ['u32', Math.max(1, run)],
        ['u32', total],
        ['u32', offset],
      ],
      groups: linearGroups(x.size),
    });
    offset += run;
  });
  return out;
}

export function oneHot(rt: GpuRuntime, indices: Storage, depth: number): Storage {
  const t = wgslType(indices.dtype);
  const n = indices.size * depth;
  return rt.run({
    key: `one_hot_${t}`,
    wgsl: () =>
      `${bindings(
        [['x', t]],
        [['out', 'f32']],
        [
          ['n', 'u32'],
          ['depth', 'u32'],
        ],
      )}\n${linearMain(`out[i] = select(0.0, 1.0, x[i / p.depth] == ${t}(i % p.depth));`)}`,
    inputs: [indices],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [
      ['u32', n],
      ['u32', Math.max(1, depth)],
    ],
    groups: linearGroups(n),
  })[0]!;
}
