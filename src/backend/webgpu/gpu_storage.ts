/**
 * A tensor's values on the GPU: a pooled buffer, its size and type, and (for values that came
 * from the CPU through write) the host copy, which lets the synchronous readers work on data
 * the user or a dataset gave. Values a kernel computed have no host copy: only readAsync reads
 * them.
 */
import type { Backend, DType, Storage } from '../backend.js';

export class GpuStorage implements Storage {
  /** Set once the storage is freed (a step scope ended): using it is an error. */
  freed = false;

  constructor(
    readonly backend: Backend,
    readonly size: number,
    readonly dtype: DType,
    /** The buffer (at least 4·size bytes, rounded up to the pool's bucket). */
    readonly buffer: GPUBuffer,
    /**
     * The values on the CPU, where they came from there or were read back and kept
     * (makeReadable): storages never change after they are made, so the copy stays right.
     */
    public host: Float32Array | Int32Array | null = null,
  ) {}
}
