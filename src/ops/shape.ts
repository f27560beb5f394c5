/** Data-movement ops: reshape, broadcastTo, transpose, slice, concat, pad, squeeze, expandDims, cast. */
import { record } from '../autograd.js';
import type { DType } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { broadcastShapes, checkShape, normalizeAxis, sameShape, sizeOf } from '../util/shape.js';
import { be, expectTensor, wrap } from './util.js';

/** Same values, new shape; one dimension may be -1 and is inferred. Shares storage. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  expectTensor(x, 'reshape', 'x');
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1)
    throw new ArgumentError(`reshape: at most one dimension can be -1, got ${fmtShape(shape)}.`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  if (unknown === 1 && known !== 0 && x.size % known !== 0) {
    throw new ShapeError(
      `reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} values) into ${fmtShape(shape)}: ${x.size} is not a multiple of ${known}, so the -1 cannot be inferred.`,
    );
  }
  const target = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  checkShape(target, 'reshape');
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(
      `reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} values) into ${fmtShape(shape)} (${sizeOf(target)} values). The sizes must be equal.`,
    );
  }
  const out = wrap(x.storage, target);
  return record('reshape', out, [x], (dy) => [reshape(dy, x.shape)]);
}

/** Repeats x along axes of size 1 (and new leading axes) to the given shape. */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  expectTensor(x, 'broadcastTo', 'x');
  const target = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (!sameShape(target, shape)) {
    throw new ShapeError(
      `broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}.`,
    );
  }
  if (sameShape(x.shape, shape)) return x;
  // x + 0 with a scalar zero: the kernel broadcasts, so no full-size tensor of zeros is made.
  const zero = be().fill(1, 0, x.dtype);
  const out = wrap(be().binary('add', x.storage, x.shape, zero, [], shape), shape);
  return record('broadcastTo', out, [x], (dy) => [sumTo(dy, x.shape)]);
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = wrap(
    be().reduce('sum', g.storage, g.shape, axes),
    g.shape.filter((_, i) => !axes.includes(i)),
  );
  return reshape(summed, shape);
}

/** Permutes axes; the default reverses them. */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  expectTensor(x, 'transpose', 'x');
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new ArgumentError(
      `transpose: perm ${JSON.stringify(p)} is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}.`,
    );
  }
  const shape = p.map((a) => x.shape[a]!);
  const out = wrap(be().transpose(x.storage, x.shape, p), shape);
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => {
    inverse[a] = i;
  });
  return record('transpose', out, [x], (dy) => [transpose(dy, inverse)]);
}

/** A box of x: `begin` per axis, `size` per axis (-1 = to the end). */
export function slice(x: Tensor, begin: number[], size?: number[]): Tensor {
  expectTensor(x, 'slice', 'x');
  if (begin.length !== x.rank || (size && size.length !== x.rank)) {
    throw new ShapeError(
      `slice: begin and size need one entry per axis of ${fmtShape(x.shape)}, got begin ${fmtShape(begin)}${size ? ` and size ${fmtShape(size)}` : ''}.`,
    );
  }
  const sz = x.shape.map((d, i) =>
    size === undefined || size[i] === -1 ? d - begin[i]! : size[i]!,
  );
  x.shape.forEach((d, i) => {
    if (
      !Number.isInteger(begin[i]) ||
      begin[i]! < 0 ||
      !Number.isInteger(sz[i]) ||
      sz[i]! < 0 ||
      begin[i]! + sz[i]! > d
    ) {
      throw new ShapeError(
        `slice: axis ${i} of ${fmtShape(x.shape)} cannot be sliced from ${begin[i]} with size ${sz[i]}.`,
      );
    }
  });
  const out = wrap(be().slice(x.storage, x.shape, begin, sz), sz);
  return record('slice', out, [x], (dy) => [
    pad(
      dy,
      x.shape.map((d, i) => [begin[i]!, d - begin[i]! - sz[i]!]),
    ),
  ]);
}

/** Joins tensors along an axis; all other axes must match. */
export function concat(xs: Tensor[], axis = -1): Tensor {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new ArgumentError('concat: needs a non-empty array of tensors.');
  for (const [i, x] of xs.entries()) expectTensor(x, 'concat', `tensors[${i}]`);
  const first = xs[0]!;
  const ax = normalizeAxis(axis, first.rank, 'concat');
  for (const [i, x] of xs.entries()) {
    if (
      x.rank !== first.rank ||
      x.shape.some((d, k) => k !== ax && d !== first.shape[k]) ||
      x.dtype !== first.dtype
    ) {
      throw new ShapeError(
        `concat: tensors[${i}] has shape ${fmtShape(x.shape)} (${x.dtype}) but tensors[0] has ${fmtShape(first.shape)} (${first.dtype}); ` +
          `all axes except axis ${ax} must match, and dtypes too.`,
      );
    }
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((a, x) => a + x.shape[ax]!, 0);
  const out = wrap(
    be().concat(
      xs.map((x) => x.storage),
      xs.map((x) => x.shape),
      ax,
    ),
    shape,
  );
  return record('concat', out, xs, (dy) => {
    let offset = 0;
    return xs.map((x) => {
      const begin = x.shape.map((_, k) => (k === ax ? offset : 0));
      offset += x.shape[ax]!;
      return slice(dy, begin, x.shape);
    });
  });
}

/** Stacks same-shaped tensors along a new axis. */
export function stack(xs: Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new ArgumentError('stack: needs a non-empty array of tensors.');
  for (const [i, x] of xs.entries()) {
    expectTensor(x, 'stack', `tensors[${i}]`);
    if (!sameShape(x.shape, xs[0]!.shape)) {
      throw new ShapeError(
        `stack: tensors[${i}] has shape ${fmtShape(x.shape)} but tensors[0] has ${fmtShape(xs[0]!.shape)}; stack needs tensors of one shape.`,
      );
    }
  }
  const ax = normalizeAxis(axis, xs[0]!.rank + 1, 'stack');
  return concat(
    xs.map((x) => expandDims(x, ax)),
    ax,
  );
}

/** How {@link pad} fills the border: ONNX Pad's modes (PyTorch's constant, reflect, replicate). */
export type PadMode = 'constant' | 'reflect' | 'edge';

/** Options of {@link pad}. */
export interface PadOptions {
  /**
   * `'constant'` fills with `value`; `'reflect'` mirrors the values next to the edge, the edge
   * itself not repeated ([1, 2, 3] padded by 2 each side: [3, 2, 1, 2, 3, 2, 1]); `'edge'`
   * repeats the edge value ([1, 1, 1, 2, 3, 3, 3]).
   * @default 'constant'
   */
  mode?: PadMode;
  /**
   * The fill of mode `'constant'`.
   * @default 0
   */
  value?: number;
}

/** The modes of {@link pad}. */
export const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'edge'];

/**
 * Pads each axis with [before, after] entries: copies of a value (zeros by default; a number as
 * the third argument is that value), or the input's own values mirrored or repeated at its edges
 * (`{ mode: 'reflect' | 'edge' }`, whose gradient adds each copy's back to the value it came from).
 * @throws ArgumentError for paddings that are not [before, after] non-negative integers per axis, or an unknown mode
 * @throws ShapeError for a reflection wider than the axis less one, or an edge copy of an empty axis
 * @example
 * ```ts
 * rc.pad(rc.tensor([1, 2, 3]), [[2, 2]], { mode: 'reflect' }).dataSync();   // [3, 2, 1, 2, 3, 2, 1]
 * ```
 */
export function pad(x: Tensor, paddings: number[][], options: number | PadOptions = 0): Tensor {
  expectTensor(x, 'pad', 'x');
  if (
    !Array.isArray(paddings) ||
    paddings.length !== x.rank ||
    paddings.some(
      (p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0),
    )
  ) {
    throw new ArgumentError(
      `pad: paddings must give [before, after] non-negative integers for each of the ${x.rank} axes of ${fmtShape(x.shape)}, got ${JSON.stringify(paddings)}.`,
    );
  }
  if (typeof options !== 'number') checkOptions('pad', options, ['mode', 'value']);
  const opts: PadOptions = typeof options === 'number' ? { value: options } : (options ?? {});
  const mode = opts.mode ?? 'constant';
  if (!PAD_MODES.includes(mode))
    throw new ArgumentError(
      `pad: mode must be one of ${PAD_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(opts.mode)}.`,
    );
  const pads = paddings as [number, number][];
  if (mode !== 'constant') {
    if (opts.value !== undefined && opts.value !== 0)
      throw new ArgumentError(
        `pad: mode '${mode}' takes its values from the input; value ${opts.value} is for mode 'constant' only.`,
      );
    return pads.reduce((acc, [before, after], axis) => padAxis(acc, axis, before, after, mode), x);
  }
  const value = padValue(opts.value ?? 0);
  const shape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const out = wrap(be().pad(x.storage, x.shape, pads, value), shape);
  return record('pad', out, [x], (dy) => [
    slice(
      dy,
      pads.map((p) => p[0]),
      x.shape,
    ),
  ]);
}

/** The fill value: a number (±Infinity allowed), not NaN. */
function padValue(v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v))
    throw new ArgumentError(`pad: value must be a number, got ${JSON.stringify(v)}.`);
  return v;
}

/**
 * One axis padded by reflection or edge copies: slices and a concat, so the gradient of each
 * copy flows back to the value it copies (no kernel of its own).
 */
function padAxis(x: Tensor, axis: number, before: number, after: number, mode: PadMode): Tensor {
  if (before === 0 && after === 0) return x;
  const n = x.shape[axis]!;
  const limit = mode === 'reflect' ? n - 1 : n > 0 ? Number.POSITIVE_INFINITY : 0;
  if (before > limit || after > limit)
    throw new ShapeError(
      mode === 'reflect'
        ? `pad: mode 'reflect' pads axis ${axis} of ${fmtShape(x.shape)} by at most ${n - 1} (its size less one) each side, got [${before}, ${after}].`
        : `pad: mode 'edge' cannot pad axis ${axis} of ${fmtShape(x.shape)}: it is empty.`,
    );
  const row = (i: number) =>
    slice(
      x,
      x.shape.map((_, k) => (k === axis ? i : 0)),
      x.shape.map((d, k) => (k === axis ? 1 : d)),
    );
  const copies = (count: number, from: (k: number) => number, edge: number): Tensor[] => {
    if (count === 0) return [];
    if (mode === 'edge')
      return [
        broadcastTo(
          row(edge),
          x.shape.map((d, k) => (k === axis ? count : d)),
        ),
      ];
    return Array.from({ length: count }, (_, k) => row(from(k)));
  };
  // Before: x[before], ..., x[1] (reflect) or x[0] repeated; after: x[n-2], ..., x[n-1-after].
  const parts = [
    ...copies(before, (k) => before - k, 0),
    x,
    ...copies(after, (k) => n - 2 - k, n - 1),
  ];
  return concat(parts, axis);
}

/** Removes axes of size 1 (all of them, or the given ones). */
export function squeeze(x: Tensor, axes?: number[]): Tensor {
  expectTensor(x, 'squeeze', 'x');
  const drop =
    axes === undefined
      ? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
      : axes.map((a) => normalizeAxis(a, x.rank, 'squeeze'));
  for (const a of drop) {
    if (x.shape[a] !== 1)
      throw new ShapeError(
        `squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1.`,
      );
  }
  return reshape(
    x,
    x.shape.filter((_, i) => !drop.includes(i)),
  );
}

/** Inserts an axis of size 1 at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  expectTensor(x, 'expandDims', 'x');
  const a = normalizeAxis(axis, x.rank + 1, 'expandDims');
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Converts between float32 and int32 (truncating toward zero). Not differentiable into int32. */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectTensor(x, 'cast', 'x');
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new ArgumentError(`cast: dtype must be 'float32' or 'int32', got '${dtype}'.`);
  if (x.dtype === dtype) return x;
  if (dtype === 'int32') {
    // NaN, infinities and values beyond int32 would wrap around silently: refuse them.
    const v = x.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (!(Math.abs(v[i]!) < 2 ** 31) && Math.trunc(v[i]!) !== -(2 ** 31)) {
        throw new DTypeError(
          `cast: value ${v[i]} at index ${i} of a float32 tensor of shape ${fmtShape(x.shape)} does not fit in int32 (-2147483648..2147483647).`,
        );
      }
    }
  }
  return wrap(be().cast(x.storage, dtype), x.shape);
}
