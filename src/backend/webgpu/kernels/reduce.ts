/**
 * Reductions over axes, argMax and softmax. (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { ReduceOp, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function reduce(
  _rt: GpuRuntime,
  _op: ReduceOp,
  _x: Storage,
  _shape: number[],
  _axes: number[],
): Storage {
  return missing('reduce');
}

export function argMax(_rt: GpuRuntime, _x: Storage, _shape: number[], _axis: number): Storage {
  return missing('argMax');
}

export function softmax(
  _rt: GpuRuntime,
  _x: Storage,
  _shape: number[],
  _axis: number,
  _log: boolean,
): Storage {
  return missing('softmax');
}
