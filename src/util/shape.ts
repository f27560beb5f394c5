/**
 * Pure shape arithmetic shared by every layer of the code: no tensors, no kernels.
 */
import { ArgumentError, fmtShape, ShapeError } from './errors.js';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: the step in the flat array for one step along each axis. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that a shape is a list of non-negative integers. */
export function checkShape(shape: readonly number[], where: string): void {
  if (!Array.isArray(shape))
    throw new ArgumentError(`${where}: shape must be an array of integers, got ${String(shape)}.`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(
        `${where}: every dimension must be a non-negative integer, got shape ${fmtShape(shape)}.`,
      );
    }
  }
}

/** NumPy broadcasting: align on the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together ` +
          `(axis ${i - rank} has ${da} vs ${db}; each pair of sizes must match or one must be 1). ` +
          'Reshape one of them, e.g. add an axis of size 1 with expandDims.',
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Turns a possibly negative axis into 0..rank-1, or throws naming the op. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ArgumentError(
      `${op}: axis ${axis} is out of range for a tensor of rank ${rank} (use -${rank}..${rank - 1}).`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes an axis list (undefined = all axes), sorted and without repeats. */
export function normalizeAxes(
  axes: number | readonly number[] | undefined,
  rank: number,
  op: string,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, op)))];
  return out.sort((x, y) => x - y);
}

/** A value as a message shows it: NaN and Infinity as themselves (JSON writes them as null). */
function shown(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(shown).join(',')}]`;
  return JSON.stringify(v) ?? String(v);
}

/** A number or a pair, as Keras takes kernelSize, strides, dilationRate and poolSize. */
export function pair(v: number | readonly number[], name: string, where: string): [number, number] {
  const p: unknown[] = typeof v === 'number' ? [v, v] : Array.isArray(v) ? [...v] : [];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && (x as number) >= 1)) {
    throw new ArgumentError(
      `${where}: ${name} must be a positive integer or a pair of positive integers [h, w], got ${shown(v)}.`,
    );
  }
  return [p[0] as number, p[1] as number];
}
