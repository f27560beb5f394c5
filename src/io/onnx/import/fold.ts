/**
 * Constant folding: nodes whose inputs are all known at import are evaluated here, so the
 * Constant / Shape → Gather → Unsqueeze → Concat → Reshape chains exporters write around
 * Reshape become fixed shapes. Shape of a model tensor is known except its batch axis, which
 * folds to NaN: a Reshape reads NaN in its first place as "the batch"; anywhere else it is a
 * shape that depends on the batch, which cannot be fixed (an error there).
 */

import { permute, permutedShape } from '../../layouts.js';
import type { ImportContext, Val } from './context.js';
import type { ConstTensor, OnnxNode } from './decode.js';

type Folder = (
  node: OnnxNode,
  inputs: (ConstTensor | undefined)[],
  cx: ImportContext,
) => ConstTensor;

const sizeOf = (dims: number[]) => dims.reduce((a, d) => a * d, 1);

/** The most values a folded constant may hold: shape computations are small; a hostile file is not. */
const MAX_FOLDED = 1 << 24;

function checkSize(cx: ImportContext, n: number): void {
  if (!(n <= MAX_FOLDED))
    throw cx.error(
      `folding it at import would make a constant of ${n} values (at most ${MAX_FOLDED}); the file is damaged or not a CNN.`,
    );
}

export function constOf(
  dims: number[],
  values: ArrayLike<number>,
  dtype: ConstTensor['dtype'] = 'int',
): ConstTensor {
  const data = dtype === 'float' ? Float32Array.from(values) : Float64Array.from(values);
  return { dims, data, dtype };
}

function need(cx: ImportContext, t: ConstTensor | undefined, what: string): ConstTensor {
  if (!t) throw cx.error(`its ${what} is missing.`);
  return t;
}

/** Axes from an attribute (old opsets) or an input (newer ones). */
function axesOf(
  node: OnnxNode,
  inputs: (ConstTensor | undefined)[],
  cx: ImportContext,
  i: number,
): number[] | undefined {
  const a = cx.attr<number[]>(node, 'axes');
  if (a) return a;
  const t = inputs[i];
  return t ? [...t.data] : undefined;
}

function normAxis(cx: ImportContext, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) throw cx.error(`axis ${a} is out of range for rank ${rank}.`);
  return r;
}

function broadcastDims(cx: ImportContext, a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 1; k <= rank; k++) {
    const x = a.length >= k ? a[a.length - k]! : 1;
    const y = b.length >= k ? b[b.length - k]! : 1;
    if (x !== y && x !== 1 && y !== 1)
      throw cx.error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast.`);
    out.unshift(x === 1 ? y : x);
  }
  return out;
}

/** Elementwise f over two broadcast constants. */
export function broadcastBinary(
  cx: ImportContext,
  a: ConstTensor,
  b: ConstTensor,
  f: (x: number, y: number) => number,
  dtype: ConstTensor['dtype'] = a.dtype === 'float' || b.dtype === 'float' ? 'float' : a.dtype,
): ConstTensor {
  const dims = broadcastDims(cx, a.dims, b.dims);
  const n = sizeOf(dims);
  checkSize(cx, n);
  const out = dtype === 'float' ? new Float32Array(n) : new Float64Array(n);
  const index = (t: ConstTensor, flat: number) => {
    let off = 0;
    let stride = 1;
    let rem = flat;
    const coords: number[] = [];
    for (let i = dims.length - 1; i >= 0; i--) {
      coords[i] = rem % dims[i]!;
      rem = Math.floor(rem / dims[i]!);
    }
    for (let k = 1; k <= t.dims.length; k++) {
      const d = t.dims[t.dims.length - k]!;
      const c = d === 1 ? 0 : coords[dims.length - k]!;
      off += c * stride;
      stride *= d;
    }
    return off;
  };
  for (let i = 0; i < n; i++) out[i] = f(a.data[index(a, i)]!, b.data[index(b, i)]!);
  return { dims, data: out, dtype };
}

const intDiv = (x: number, y: number) => Math.trunc(x / y);

const folders: Record<string, Folder> = {
  Identity: (_n, [x], cx) => need(cx, x, 'input'),
  Cast: (node, [x], cx) => {
    const t = need(cx, x, 'input');
    const to = cx.attr<number>(node, 'to', 1);
    const dtype: ConstTensor['dtype'] =
      to === 1 || to === 10 || to === 11 ? 'float' : to === 9 ? 'bool' : 'int';
    const vals =
      dtype === 'float'
        ? t.data
        : Array.from(t.data, (v) => (dtype === 'bool' ? Number(v !== 0) : Math.trunc(v)));
    return constOf(t.dims, vals, dtype);
  },
  Add: (_n, [a, b], cx) => broadcastBinary(cx, need(cx, a, 'A'), need(cx, b, 'B'), (x, y) => x + y),
  Sub: (_n, [a, b], cx) => broadcastBinary(cx, need(cx, a, 'A'), need(cx, b, 'B'), (x, y) => x - y),
  Mul: (_n, [a, b], cx) => broadcastBinary(cx, need(cx, a, 'A'), need(cx, b, 'B'), (x, y) => x * y),
  Div: (_n, [a, b], cx) => {
    const [x, y] = [need(cx, a, 'A'), need(cx, b, 'B')];
    const int = x.dtype !== 'float' && y.dtype !== 'float';
    return broadcastBinary(cx, x, y, int ? intDiv : (p, q) => p / q);
  },
  Equal: (_n, [a, b], cx) =>
    broadcastBinary(cx, need(cx, a, 'A'), need(cx, b, 'B'), (x, y) => Number(x === y), 'bool'),
  Where: (_n, [c, a, b], cx) => {
    const cond = need(cx, c, 'condition');
    const pick = broadcastBinary(cx, cond, need(cx, a, 'X'), (k, x) => (k ? x : Number.NaN));
    const other = broadcastBinary(cx, cond, need(cx, b, 'Y'), (k, y) => (k ? Number.NaN : y));
    return broadcastBinary(cx, pick, other, (x, y) => (Number.isNaN(x) ? y : x));
  },
  Unsqueeze: (node, inputs, cx) => {
    const t = need(cx, inputs[0], 'input');
    const axes = axesOf(node, inputs, cx, 1) ?? [];
    const rank = t.dims.length + axes.length;
    const norm = axes.map((a) => normAxis(cx, a, rank)).sort((x, y) => x - y);
    const dims = [...t.dims];
    for (const a of norm) dims.splice(a, 0, 1);
    return { ...t, dims };
  },
  Squeeze: (node, inputs, cx) => {
    const t = need(cx, inputs[0], 'input');
    const axes = axesOf(node, inputs, cx, 1);
    const drop = new Set(
      axes
        ? axes.map((a) => normAxis(cx, a, t.dims.length))
        : t.dims.flatMap((d, i) => (d === 1 ? [i] : [])),
    );
    return { ...t, dims: t.dims.filter((_, i) => !drop.has(i)) };
  },
  Concat: (node, inputs, cx) => {
    const ts = inputs.filter((t): t is ConstTensor => !!t);
    const rank = ts[0]!.dims.length;
    const axis = normAxis(cx, cx.attr<number>(node, 'axis', 0), rank);
    const outer = sizeOf(ts[0]!.dims.slice(0, axis));
    const parts: number[] = [];
    for (let o = 0; o < outer; o++)
      for (const t of ts) {
        const inner = sizeOf(t.dims.slice(axis));
        for (let i = 0; i < inner; i++) parts.push(t.data[o * inner + i]!);
      }
    const dims = [...ts[0]!.dims];
    dims[axis] = ts.reduce((a, t) => a + t.dims[axis]!, 0);
    return constOf(dims, parts, ts.some((t) => t.dtype === 'float') ? 'float' : ts[0]!.dtype);
  },
  Gather: (node, [x, idx], cx) => {
    const t = need(cx, x, 'data');
    const ind = need(cx, idx, 'indices');
    const axis = normAxis(cx, cx.attr<number>(node, 'axis', 0), t.dims.length);
    const outer = sizeOf(t.dims.slice(0, axis));
    const inner = sizeOf(t.dims.slice(axis + 1));
    const n = t.dims[axis]!;
    const out: number[] = [];
    for (let o = 0; o < outer; o++)
      for (const raw of ind.data) {
        const k = raw < 0 ? raw + n : raw;
        if (!(k >= 0 && k < n)) throw cx.error(`index ${raw} is out of range for an axis of ${n}.`);
        for (let i = 0; i < inner; i++) out.push(t.data[(o * n + k) * inner + i]!);
      }
    return constOf(
      [...t.dims.slice(0, axis), ...ind.dims, ...t.dims.slice(axis + 1)],
      out,
      t.dtype,
    );
  },
  Slice: (node, inputs, cx) => {
    const t = need(cx, inputs[0], 'data');
    const rank = t.dims.length;
    const old = cx.opset < 10;
    const starts = old
      ? cx.attr<number[]>(node, 'starts', [])
      : [...need(cx, inputs[1], 'starts').data];
    const ends = old ? cx.attr<number[]>(node, 'ends', []) : [...need(cx, inputs[2], 'ends').data];
    const axes = old ? cx.attr<number[]>(node, 'axes') : inputs[3] && [...inputs[3].data];
    const steps = old ? undefined : inputs[4] && [...inputs[4].data];
    // ONNX's rules: negative starts and ends count from the end, then clamp to [0, d] going
    // forward and to [0, d − 1] / [−1, d − 1] going backward (a step of −1 reverses: PyTorch
    // writes its pads reversed so).
    const begin = new Array<number>(rank).fill(0);
    const step = new Array<number>(rank).fill(1);
    const dims = [...t.dims];
    starts.forEach((s, i) => {
      const a = normAxis(cx, axes?.[i] ?? i, rank);
      const d = t.dims[a]!;
      const st = steps?.[i] ?? 1;
      if (!Number.isInteger(st) || st === 0)
        throw cx.error(`Slice step ${st} must be a non-zero integer.`);
      const at = (v: number) => (v < 0 ? v + d : v);
      const [lo, hi] = st > 0 ? [0, d] : [0, d - 1];
      const b = Math.min(Math.max(at(s), lo), hi);
      const e = Math.min(Math.max(at(ends[i]!), st > 0 ? 0 : -1), hi);
      begin[a] = b;
      step[a] = st;
      dims[a] = Math.max(Math.ceil((e - b) / st), 0);
    });
    const out: number[] = [];
    const idx = new Array<number>(rank).fill(0);
    const strides = t.dims.map((_, i) => sizeOf(t.dims.slice(i + 1)));
    for (let o = 0; o < sizeOf(dims); o++) {
      let src = 0;
      for (let i = 0; i < rank; i++) src += (begin[i]! + idx[i]! * step[i]!) * strides[i]!;
      out.push(t.data[src]!);
      for (let i = rank - 1; i >= 0; i--) {
        if (++idx[i]! < dims[i]!) break;
        idx[i] = 0;
      }
    }
    return constOf(dims, out, t.dtype);
  },
  ConstantOfShape: (node, [shape], cx) => {
    const dims = [...need(cx, shape, 'shape').data];
    if (dims.some((d) => !Number.isInteger(d) || d < 0))
      throw cx.error(
        `its shape [${dims.join(', ')}] depends on the batch size, which is not fixed at import.`,
      );
    checkSize(cx, sizeOf(dims));
    const v = cx.attr<ConstTensor>(node, 'value');
    const fill = v ? v.data[0]! : 0;
    return constOf(dims, new Array(sizeOf(dims)).fill(fill), v?.dtype ?? 'float');
  },
  Reshape: (node, [x, s], cx) => {
    const t = need(cx, x, 'data');
    const target = [...need(cx, s, 'shape').data];
    const allowZero = cx.attr<number>(node, 'allowzero', 0) === 1;
    const dims = target.map((d, i) => (d === 0 && !allowZero ? t.dims[i]! : d));
    const known = dims.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    const out = dims.map((d) => (d === -1 ? sizeOf(t.dims) / known : d));
    if (sizeOf(out) !== sizeOf(t.dims))
      throw cx.error(`cannot reshape [${t.dims.join(', ')}] into [${target.join(', ')}].`);
    return { ...t, dims: out };
  },
  Transpose: (node, [x], cx) => {
    const t = need(cx, x, 'data');
    const perm = cx.attr<number[]>(node, 'perm') ?? t.dims.map((_, i) => t.dims.length - 1 - i);
    return {
      dims: permutedShape(t.dims, perm),
      data: permute(t.data, t.dims, perm),
      dtype: t.dtype,
    };
  },
  Range: (_n, [a, b, c], cx) => {
    const [start, limit, delta] = [
      need(cx, a, 'start'),
      need(cx, b, 'limit'),
      need(cx, c, 'delta'),
    ].map((t) => t.data[0]!);
    const n = Math.max(Math.ceil((limit! - start!) / delta!), 0);
    checkSize(cx, n);
    return constOf(
      [n],
      Array.from({ length: n }, (_, i) => start! + i * delta!),
      a!.dtype,
    );
  },
};

/** Operators folded when their inputs are constants (Constant and Shape are always folded). */
export function foldableOps(): string[] {
  return [...Object.keys(folders), 'Constant', 'Shape', 'Size'];
}

/** The value of a Constant node. */
function constantValue(node: OnnxNode, cx: ImportContext): ConstTensor {
  const get = (k: string) => node.attrs.get(k);
  const t = get('value');
  if (t && typeof t === 'object' && !Array.isArray(t)) return t;
  const f = get('value_float');
  if (typeof f === 'number') return constOf([], [f], 'float');
  const fs = get('value_floats');
  if (Array.isArray(fs)) return constOf([fs.length], fs as number[], 'float');
  const i = get('value_int');
  if (typeof i === 'number') return constOf([], [i]);
  const is = get('value_ints');
  if (Array.isArray(is)) return constOf([is.length], is as number[]);
  throw cx.error('has no value importOnnx reads (value, value_float(s) or value_int(s)).');
}

/**
 * Folds the node if it can be: Constant, Shape/Size of a model tensor, or any foldable
 * operator whose inputs are all constants. Returns whether it did.
 */
export function tryFold(node: OnnxNode, cx: ImportContext): boolean {
  if (node.opType === 'Constant') {
    cx.setOutput(node, { kind: 'const', value: constantValue(node, cx) });
    return true;
  }
  const ins: (Val | undefined)[] = node.inputs.map((n) => (n ? cx.get(n) : undefined));
  if (node.opType === 'Shape' || node.opType === 'Size') {
    const v = ins[0];
    if (!v) throw cx.error('its input is missing.');
    const shape = v.kind === 'const' ? v.value.dims : cx.onnxShape(v).map((d) => d ?? Number.NaN);
    if (node.opType === 'Size') {
      cx.setOutput(node, { kind: 'const', value: constOf([], [sizeOf(shape)]) });
      return true;
    }
    const rank = shape.length;
    const clamp = (a: number) => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
    const start = clamp(cx.attr<number>(node, 'start', 0));
    const end = clamp(cx.attr<number>(node, 'end', rank));
    const part = shape.slice(start, end);
    cx.setOutput(node, { kind: 'const', value: constOf([part.length], part) });
    return true;
  }
  const f = folders[node.opType];
  if (!f || ins.some((v) => v && v.kind !== 'const')) return false;
  const value = f(
    node,
    ins.map((v) => (v?.kind === 'const' ? v.value : undefined)),
    cx,
  );
  cx.setOutput(node, { kind: 'const', value });
  return true;
}
