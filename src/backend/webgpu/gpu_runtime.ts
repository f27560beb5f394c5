/**
 * The machinery every WebGPU kernel shares: the device, one command encoder that records
 * dispatches until a read (or a batch of them) submits it, the compile-once pipeline cache,
 * the buffer pools, the storages' lifetime (step scopes and a FinalizationRegistry), and the
 * reads back to the CPU.
 *
 * A kernel is a KernelCall: a cache key, its WGSL (made only the first time the key is seen),
 * its input storages, the outputs to make, scalar parameters and the workgroup grid. Bindings
 * follow one convention, which the WGSL must declare in this order (all in group 0):
 * inputs at 0..n−1 as `var<storage, read>`, outputs next as `var<storage, read_write>`, and, if
 * the call has parameters, a `var<uniform>` struct last whose fields are the parameters in
 * order, each a 4-byte u32, i32 or f32. Every binding must be used by the shader (pipelines use
 * the automatic layout, which drops unused bindings).
 */
import { BackendError } from '../../util/errors.js';
import type { Backend, DType, Storage } from '../backend.js';
import { freedTensorError, ScopeTracker } from '../shared/scopes.js';
import { BufferPool, type PoolStats } from './buffer_pool.js';
import { BufferUsage, MAX_GROUPS_PER_DIM, MapMode, WORKGROUP } from './gpu_constants.js';
import { GpuStorage } from './gpu_storage.js';

/** A scalar parameter of a kernel: its WGSL type and value. */
export type Param = ['u32' | 'i32' | 'f32', number];

/** One kernel launch. */
export interface KernelCall {
  /** Names the pipeline: the same key must always come with the same WGSL. */
  key: string;
  /** The shader source; called only when the key is new. */
  wgsl: () => string;
  /** Input storages, bound at 0..n−1 (read-only). */
  inputs: Storage[];
  /** Outputs to make, bound after the inputs (read-write). */
  outputs: { size: number; dtype: DType }[];
  /**
   * Storages already made (with alloc) to bind as the outputs instead of new ones: for a kernel
   * that fills one block of a result, as concat does once per input. `outputs` is then unused.
   */
  into?: GpuStorage[];
  /** Scalar parameters, bound last as one uniform struct. */
  params?: Param[];
  /** Workgroups along x, y, z; a dimension of 0 launches nothing. */
  groups: [number, number?, number?];
}

/** Dispatches recorded before the encoder is submitted without being asked. */
const MAX_PENDING = 64;

/** Workgroups [x, y] covering n threads of `size` each in x, within the per-dimension limit. */
export function linearGroups(n: number, size = WORKGROUP): [number, number] {
  const g = Math.ceil(n / size);
  if (g <= MAX_GROUPS_PER_DIM) return [g, 1];
  const y = Math.ceil(g / MAX_GROUPS_PER_DIM);
  return [Math.ceil(g / y), y];
}

/**
 * The WGSL of a linear index over a grid from linearGroups: declares `i` (the value this thread
 * handles) from `gid` (global_invocation_id) and `nwg` (num_workgroups), for workgroups of
 * `size` threads in x.
 */
export function linearIndex(size = WORKGROUP): string {
  return `let i = gid.y * (nwg.x * ${size}u) + gid.x;`;
}

/** The WGSL binding declarations of a call's convention: inputs, outputs, then params. */
export function bindings(
  inputs: [name: string, type: string][],
  outputs: [name: string, type: string][],
  params: [name: string, type: 'u32' | 'i32' | 'f32'][] = [],
): string {
  const lines: string[] = [];
  let b = 0;
  for (const [name, type] of inputs)
    lines.push(`@group(0) @binding(${b++}) var<storage, read> ${name}: array<${type}>;`);
  for (const [name, type] of outputs)
    lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${name}: array<${type}>;`);
  if (params.length > 0) {
    lines.push(`struct Params { ${params.map(([n, t]) => `${n}: ${t},`).join(' ')} }`);
    lines.push(`@group(0) @binding(${b}) var<uniform> p: Params;`);
  }
  return lines.join('\n');
}

/** The WGSL element type of a dtype. */
export function wgslType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'int32' ? 'i32' : 'f32';
}

export class GpuRuntime {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pool: BufferPool;
  private readonly uniformPool: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private readonly scopes = new ScopeTracker<GpuStorage>();
  private readonly registry: FinalizationRegistry<GPUBuffer>;
  /** The first error the device reported (a shader that failed to compile, a bad binding). */
  private deviceError: string | null = null;
  /** Kernel launches and pipelines compiled, for tests and the benchmark. */
  readonly counts = { dispatches: 0, pipelines: 0, submits: 0 };

  constructor(
    readonly backend: Backend,
    readonly device: GPUDevice,
  ) {
    this.pool = new BufferPool(device);
    this.uniformPool = new BufferPool(device, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    this.registry = new FinalizationRegistry((buf) => this.pool.release(buf));
    device.addEventListener('uncapturederror', (e) => {
      const message = (e as GPUUncapturedErrorEvent).error?.message ?? String(e);
      this.deviceError ??= message;
    });
  }

  // --- Storage ------------------------------------------------------------------------------

  /** A new storage of `size` values, uninitialized (for a kernel to write). */
  alloc(size: number, dtype: DType, host: Float32Array | Int32Array | null = null): GpuStorage {
    const s = new GpuStorage(this.backend, size, dtype, this.pool.acquire(4 * size), host);
    this.registry.register(s, s.buffer, s);
    this.scopes.record(s);
    return s;
  }

  /** A storage holding `values` (copied to the GPU; the host copy is kept for sync reads). */
  upload(values: Float32Array | Int32Array): GpuStorage {
    const s = this.alloc(values.length, values instanceof Int32Array ? 'int32' : 'float32', values);
    if (values.length > 0)
      this.device.queue.writeBuffer(
        s.buffer,
        0,
        values.buffer,
        values.byteOffset,
        values.byteLength,
      );
    return s;
  }

  /** The storage as a GpuStorage of this backend, or a clear error. */
  check(s: Storage): GpuStorage {
    if (!(s instanceof GpuStorage) || s.backend !== this.backend)
      throw new BackendError(
        `webgpu: got a tensor of the '${s?.backend?.name ?? typeof s}' backend; move it with rc.tensor(await t.data(), t.shape) or make it after rc.setBackend('webgpu').`,
      );
    if (s.freed) throw freedTensorError();
    return s;
  }

  free(s: GpuStorage): void {
    if (s.freed) return;
    s.freed = true;
    this.registry.unregister(s);
    this.pool.release(s.buffer);
  }

  beginScope(): void {
    this.scopes.begin();
  }

  endScope(keep: Set<Storage>): Storage[] {
    return this.scopes.end(keep, (s) => this.free(s));
  }

  persist(s: Storage): void {
    this.scopes.persist(s as GpuStorage);
  }

  scopeDepth(): number {
    return this.scopes.depth;
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  // --- Kernels ------------------------------------------------------------------------------

  /** Records one kernel launch (submitted with the next read or batch); returns its outputs. */
  run(call: KernelCall): GpuStorage[] {
    const inputs = call.inputs.map((s) => this.check(s));
    const outputs = call.into
      ? call.into.map((s) => this.check(s))
      : call.outputs.map((o) => this.alloc(o.size, o.dtype));
    const [gx, gy = 1, gz = 1] = call.groups;
    if (gx === 0 || gy === 0 || gz === 0) return outputs;
    for (const g of [gx, gy, gz])
      if (g > MAX_GROUPS_PER_DIM || !Number.isInteger(g))
        throw new BackendError(
          `webgpu: kernel '${call.key}' asks for ${g} workgroups along one dimension (at most ${MAX_GROUPS_PER_DIM}).`,
        );
    const pipeline = this.pipeline(call);
    const entries: GPUBindGroupEntry[] = [...inputs, ...outputs].map((s, binding) => ({
      binding,
      resource: { buffer: s.buffer, size: Math.max(16, 4 * s.size) },
    }));
    let uniform: GPUBuffer | null = null;
    if (call.params && call.params.length > 0) {
      const bytes = Math.ceil((4 * call.params.length) / 16) * 16;
      const data = new ArrayBuffer(bytes);
      const u = new Uint32Array(data);
      const i = new Int32Array(data);
      const f = new Float32Array(data);
      call.params.forEach(([t, v], k) => {
        if (t === 'f32') f[k] = v;
        else if (t === 'i32') i[k] = v;
        else u[k] = v;
      });
      uniform = this.uniformPool.acquire(bytes);
      this.device.queue.writeBuffer(uniform, 0, data);
      entries.push({ binding: entries.length, resource: { buffer: uniform, size: bytes } });
    }
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(gx, gy, gz);
    this.counts.dispatches++;
    if (uniform) this.uniformPool.release(uniform);
    if (++this.pending >= MAX_PENDING) this.flush();
    return outputs;
  }

  /** Copies a storage into another (whole buffer, as a command in order with the kernels). */
  copy(from: Storage, to: GpuStorage): void {
    const src = this.check(from);
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    if (src.size > 0) this.encoder.copyBufferToBuffer(src.buffer, 0, to.buffer, 0, 4 * src.size);
    this.pending++;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits what was recorded; released buffers become reusable. */
  flush(): void {
    this.endPass();
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.counts.submits++;
      this.encoder = null;
    }
    this.pending = 0;
    this.pool.flushed();
    this.uniformPool.flushed();
  }

  private pipeline(call: KernelCall): GPUComputePipeline {
    let p = this.pipelines.get(call.key);
    if (!p) {
      const code = call.wgsl();
      const module = this.device.createShaderModule({ code, label: call.key });
      void module.getCompilationInfo?.().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length > 0)
          this.deviceError ??= `kernel '${call.key}' did not compile: ${errors
            .map((m) => `line ${m.lineNum}: ${m.message}`)
            .join('; ')}`;
      });
      p = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
        label: call.key,
      });
      this.pipelines.set(call.key, p);
      this.counts.pipelines++;
    }
    return p;
  }

  // --- Reads --------------------------------------------------------------------------------

  /** The values of a storage, read back from the GPU. */
  async read(s: Storage): Promise<Float32Array | Int32Array> {
    const g = this.check(s);
    const bytes = Math.max(4, 4 * g.size);
    const staging = this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(g.buffer, 0, staging, 0, Math.ceil(bytes / 4) * 4);
    this.flush();
    try {
      await staging.mapAsync(MapMode.READ);
    } catch (e) {
      throw new BackendError(`webgpu: reading a tensor back failed: ${String(e)}`);
    }
    this.throwIfDeviceError();
    const copy = staging.getMappedRange().slice(0, 4 * g.size);
    staging.unmap();
    staging.destroy();
    return g.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
  }

  /** Throws the device's first reported error (a kernel that did not compile, a bad binding). */
  throwIfDeviceError(): void {
    if (this.deviceError)
      throw new BackendError(`webgpu: the GPU reported an error: ${this.deviceError}`);
  }
}
