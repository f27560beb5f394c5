/**
 * Convolution forward, input gradient and filter gradient as implicit GEMM; depthwise and grouped. (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { ConvFusion, ConvInfo, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function conv2d(_rt: GpuRuntime, _x: Storage, _w: Storage, _info: ConvInfo): Storage {
  return missing('conv2d');
}

export function conv2dFused(
  _rt: GpuRuntime,
  _x: Storage,
  _w: Storage,
  _info: ConvInfo,
  _fused: ConvFusion,
): Storage | null {
  return missing('conv2dFused');
}

export function conv2dBackwardInput(
  _rt: GpuRuntime,
  _dy: Storage,
  _w: Storage,
  _info: ConvInfo,
): Storage {
  return missing('conv2dBackwardInput');
}

export function conv2dBackwardFilter(
  _rt: GpuRuntime,
  _x: Storage,
  _dy: Storage,
  _info: ConvInfo,
): Storage {
  return missing('conv2dBackwardFilter');
}
