/**
 * WebGPU's numeric flags, from the specification. Written out here because Node has no
 * GPUBufferUsage / GPUMapMode globals (the backend's module must load there too, to say it
 * cannot run) and TypeScript's DOM library declares the types but not these values.
 */

/** GPUBufferUsage flags. */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** GPUMapMode flags. */
export const MapMode = { READ: 0x0001, WRITE: 0x0002 } as const;

/** Threads per workgroup of the elementwise-style kernels (one value each). */
export const WORKGROUP = 64;

/** Most workgroups along one dispatch dimension (the specification's default limit). */
export const MAX_GROUPS_PER_DIM = 65535;
