/**
 * Batched matrix product (tiled GEMM). (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { MatmulInfo, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function matmul(_rt: GpuRuntime, _a: Storage, _b: Storage, _info: MatmulInfo): Storage {
  return missing('matmul');
}
