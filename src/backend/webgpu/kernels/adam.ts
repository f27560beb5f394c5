/**
 * One Adam step of one parameter in a single pass. (Not written yet: each kernel throws until it is.)
 */
import { BackendError } from '../../../util/errors.js';
import type { AdamScalars, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';

function missing(name: string): never {
  throw new BackendError(`webgpu: the ${name} kernel is not written yet.`);
}

export function adamUpdate(
  _rt: GpuRuntime,
  _p: Storage,
  _g: Storage,
  _m: Storage,
  _v: Storage,
  _vMax: Storage | null,
  _h: AdamScalars,
): { p: Storage; m: Storage; v: Storage; vMax: Storage | null } | null {
  return missing('adamUpdate');
}
