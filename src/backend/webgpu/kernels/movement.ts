/**
 * Data movement: transpose, slice, pad, concat, oneHot. (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function transpose(
  _rt: GpuRuntime,
  _x: Storage,
  _shape: number[],
  _perm: number[],
): Storage {
  return missing('transpose');
}

export function slice(
  _rt: GpuRuntime,
  _x: Storage,
  _shape: number[],
  _begin: number[],
  _size: number[],
): Storage {
  return missing('slice');
}

export function pad(
  _rt: GpuRuntime,
  _x: Storage,
  _shape: number[],
  _paddings: [number, number][],
  _value: number,
): Storage {
  return missing('pad');
}

export function concat(
  _rt: GpuRuntime,
  _xs: Storage[],
  _shapes: number[][],
  _axis: number,
): Storage {
  return missing('concat');
}

export function oneHot(_rt: GpuRuntime, _indices: Storage, _depth: number): Storage {
  return missing('oneHot');
}
