/**
 * Batch normalization (given statistics) and its gradients; local response normalization. (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function batchNorm(
  _rt: GpuRuntime,
  _x: Storage,
  _mean: Storage,
  _variance: Storage,
  _gamma: Storage,
  _beta: Storage,
  _channels: number,
  _epsilon: number,
): Storage {
  return missing('batchNorm');
}

export function batchNormBackward(
  _rt: GpuRuntime,
  _dy: Storage,
  _x: Storage,
  _mean: Storage,
  _variance: Storage,
  _gamma: Storage,
  _channels: number,
  _epsilon: number,
): { dx: Storage; dMean: Storage; dVariance: Storage; dGamma: Storage; dBeta: Storage } {
  return missing('batchNormBackward');
}

export function lrn(
  _rt: GpuRuntime,
  _x: Storage,
  _channels: number,
  _depthRadius: number,
  _bias: number,
  _alpha: number,
  _beta: number,
): Storage {
  return missing('lrn');
}

export function lrnBackward(
  _rt: GpuRuntime,
  _x: Storage,
  _dy: Storage,
  _channels: number,
  _depthRadius: number,
  _bias: number,
  _alpha: number,
  _beta: number,
): Storage {
  return missing('lrnBackward');
}
