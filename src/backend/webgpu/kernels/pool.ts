/**
 * Max and average pooling and their gradients. (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { PoolInfo, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function maxPool(_rt: GpuRuntime, _x: Storage, _info: PoolInfo): Storage {
  return missing('maxPool');
}

export function maxPoolBackward(
  _rt: GpuRuntime,
  _dy: Storage,
  _x: Storage,
  _info: PoolInfo,
): Storage {
  return missing('maxPoolBackward');
}

export function avgPool(_rt: GpuRuntime, _x: Storage, _info: PoolInfo): Storage {
  return missing('avgPool');
}

export function avgPoolBackward(_rt: GpuRuntime, _dy: Storage, _info: PoolInfo): Storage {
  return missing('avgPoolBackward');
}
