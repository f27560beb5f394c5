/** Puts found arrays into a model's weights after checking their shapes; shared by the importers. */
import type { Functional } from '../../nn/functional.js';
import type { Tensor } from '../../tensor.js';
import { fmtShape, ReceptiveError } from '../../util/errors.js';

/** Weights that do not fit the model: a missing or extra name, a wrong shape. */
export class WeightsMismatchError extends ReceptiveError {}

export interface FoundArray {
  /** Where the array came from, for messages ('layers/conv2d/vars/0', 'dense/kernel'). */
  source: string;
  shape: number[];
  data: Float32Array;
}

/** Checks one array against a weight (same shape) and records it. */
export function take(
  where: string,
  w: Tensor,
  a: FoundArray,
  values: Map<Tensor, Float32Array>,
  pairs: [string, string][],
): void {
  if (a.shape.length !== w.shape.length || a.shape.some((d, i) => d !== w.shape[i]))
    throw new WeightsMismatchError(
      `${where}: '${a.source}' has shape ${fmtShape(a.shape)} but the model's weight ${w.name} needs ${fmtShape(w.shape)}; the architectures differ here.`,
    );
  values.set(w, a.data);
  pairs.push([a.source, w.name ?? '']);
}

/** Writes the collected values into the model (weights not collected keep theirs). */
export function applyValues(model: Functional, values: Map<Tensor, Float32Array>): void {
  model.setWeights(model.weights.map((w) => values.get(w) ?? (w.dataSync() as Float32Array)));
}

export function toFloat32(v: ArrayLike<number> | ArrayLike<bigint>): Float32Array {
  if (v instanceof Float32Array) return v;
  return Float32Array.from(v as ArrayLike<number>, (x) => Number(x));
}
