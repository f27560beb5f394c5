/**
 * The WebGPU backend: every kernel of the interface as a WGSL compute shader (kernels/), tensors
 * in pooled GPU buffers (buffer_pool.ts) freed by step scopes and a FinalizationRegistry
 * (gpu_runtime.ts), and reads that do not block: `await t.data()` / `await t.array()` read a
 * computed tensor; dataSync() works only on values that came from the CPU, and otherwise says to
 * await instead (a synchronous read would stall the GPU, and browsers cannot do one).
 *
 * Start it with `await rc.setBackend('webgpu')` (registry.ts), which falls back to wasm where
 * no adapter exists. Tested in Chromium on its software adapter (web/e2e/webgpu.mjs).
 */
import { BackendError } from '../../util/errors.js';
import { firstNonFinite } from '../../util/finite.js';
import type {
  ActivationGradOp,
  AdamScalars,
  Backend,
  BinaryOp,
  ConvFusion,
  ConvInfo,
  DType,
  MatmulInfo,
  PoolInfo,
  ReduceOp,
  Storage,
  UnaryOp,
} from '../backend.js';
import type { PoolStats } from './buffer_pool.js';
import { GpuRuntime } from './gpu_runtime.js';
import type { GpuStorage } from './gpu_storage.js';
import * as adam from './kernels/adam.js';
import * as conv from './kernels/conv.js';
import * as ew from './kernels/elementwise.js';
import * as mm from './kernels/matmul.js';
import * as mv from './kernels/movement.js';
import * as norm from './kernels/norm.js';
import * as pool from './kernels/pool.js';
import * as red from './kernels/reduce.js';

/** What the adapter says about itself (GPUAdapterInfo's fields). */
export interface GpuAdapterInfo {
  /** The GPU's maker, e.g. 'nvidia', 'apple', or 'google' for SwiftShader. */
  vendor: string;
  /** Its family, e.g. 'ampere', or 'swiftshader' for the software adapter. */
  architecture: string;
  /** A device name where the browser gives one (often empty). */
  device: string;
  /** A free-form description where the browser gives one (often empty). */
  description: string;
}

/** The error a synchronous read of a GPU-computed tensor gives. */
export function syncReadError(what: string): BackendError {
  return new BackendError(
    `webgpu: ${what} cannot read a tensor computed on the GPU synchronously (it would stall the GPU). ` +
      'Use `await t.data()` or `await t.array()` instead of dataSync() / arraySync().',
  );
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly deferReads = true;
  readonly rt: GpuRuntime;

  constructor(
    device: GPUDevice,
    /** The adapter the device came from. */
    readonly adapter: GpuAdapterInfo,
  ) {
    this.rt = new GpuRuntime(this, device);
  }

  /** Live and pooled GPU buffers (count and bytes). */
  memory(): PoolStats {
    return this.rt.stats();
  }

  // --- Scopes -------------------------------------------------------------------------------

  beginScope(): void {
    this.rt.beginScope();
  }

  endScope(keep: Set<Storage>): Storage[] {
    return this.rt.endScope(keep);
  }

  persist(s: Storage): void {
    this.rt.persist(s);
  }

  free(storages: Iterable<Storage>): void {
    for (const s of storages) this.rt.free(s as GpuStorage);
  }

  scopeDepth(): number {
    return this.rt.scopeDepth();
  }

  // --- Storage ------------------------------------------------------------------------------

  write(values: ArrayLike<number>, dtype: DType): Storage {
    const arr = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    return this.rt.upload(arr);
  }

  read(s: Storage): Float32Array | Int32Array {
    const g = this.rt.check(s);
    if (g.host) return g.host.slice();
    throw syncReadError('dataSync()');
  }

  readAsync(s: Storage): Promise<Float32Array | Int32Array> {
    const g = this.rt.check(s);
    if (g.host) return Promise.resolve(g.host.slice());
    return this.rt.read(g);
  }

  async makeReadable(s: Storage): Promise<void> {
    const g = this.rt.check(s);
    g.host ??= await this.rt.read(g);
  }

  readF64(s: Storage): Float64Array {
    const g = this.rt.check(s);
    if (g.host) return Float64Array.from(g.host);
    throw syncReadError('a float64 read');
  }

  firstNonFinite(s: Storage): number {
    const g = this.rt.check(s);
    if (!g.host) throw syncReadError('the check for NaN and Infinity');
    return g.dtype === 'int32' ? -1 : firstNonFinite(g.host);
  }

  fill(size: number, value: number, dtype: DType): Storage {
    return ew.fill(this.rt, size, value, dtype);
  }

  cast(x: Storage, dtype: DType): Storage {
    return ew.cast(this.rt, x, dtype);
  }

  // --- Elementwise --------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    return ew.unary(this.rt, op, x);
  }

  binary(
    op: BinaryOp,
    a: Storage,
    aShape: number[],
    b: Storage,
    bShape: number[],
    outShape: number[],
  ): Storage {
    return ew.binary(this.rt, op, a, aShape, b, bShape, outShape);
  }

  select(cond: Storage, a: Storage, b: Storage): Storage {
    return ew.select(this.rt, cond, a, b);
  }

  activationGrad(op: ActivationGradOp, dy: Storage, v: Storage): Storage | null {
    return ew.activationGrad(this.rt, op, dy, v);
  }

  // --- Reductions ---------------------------------------------------------------------------

  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
    return red.reduce(this.rt, op, x, shape, axes);
  }

  argMax(x: Storage, shape: number[], axis: number): Storage {
    return red.argMax(this.rt, x, shape, axis);
  }

  softmax(x: Storage, shape: number[], axis: number, log: boolean): Storage {
    return red.softmax(this.rt, x, shape, axis, log);
  }

  // --- Linear algebra and convolution -------------------------------------------------------

  matmul(a: Storage, b: Storage, info: MatmulInfo): Storage {
    return mm.matmul(this.rt, a, b, info);
  }

  conv2d(x: Storage, w: Storage, info: ConvInfo): Storage {
    return conv.conv2d(this.rt, x, w, info);
  }

  conv2dFused(x: Storage, w: Storage, info: ConvInfo, fused: ConvFusion): Storage | null {
    return conv.conv2dFused(this.rt, x, w, info, fused);
  }

  conv2dBackwardInput(dy: Storage, w: Storage, info: ConvInfo): Storage {
    return conv.conv2dBackwardInput(this.rt, dy, w, info);
  }

  conv2dBackwardFilter(x: Storage, dy: Storage, info: ConvInfo): Storage {
    return conv.conv2dBackwardFilter(this.rt, x, dy, info);
  }

  // --- Pooling ------------------------------------------------------------------------------

  maxPool(x: Storage, info: PoolInfo): Storage {
    return pool.maxPool(this.rt, x, info);
  }

  maxPoolBackward(dy: Storage, x: Storage, info: PoolInfo): Storage {
    return pool.maxPoolBackward(this.rt, dy, x, info);
  }

  avgPool(x: Storage, info: PoolInfo): Storage {
    return pool.avgPool(this.rt, x, info);
  }

  avgPoolBackward(dy: Storage, info: PoolInfo): Storage {
    return pool.avgPoolBackward(this.rt, dy, info);
  }

  // --- Normalization ------------------------------------------------------------------------

  batchNorm(
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    beta: Storage,
    channels: number,
    epsilon: number,
  ): Storage {
    return norm.batchNorm(this.rt, x, mean, variance, gamma, beta, channels, epsilon);
  }

  batchNormBackward(
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    gamma: Storage,
    channels: number,
    epsilon: number,
  ): { dx: Storage; dMean: Storage; dVariance: Storage; dGamma: Storage; dBeta: Storage } {
    return norm.batchNormBackward(this.rt, dy, x, mean, variance, gamma, channels, epsilon);
  }

  lrn(
    x: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage {
    return norm.lrn(this.rt, x, channels, depthRadius, bias, alpha, beta);
  }

  lrnBackward(
    x: Storage,
    dy: Storage,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
  ): Storage {
    return norm.lrnBackward(this.rt, x, dy, channels, depthRadius, bias, alpha, beta);
  }

  // --- Data movement ------------------------------------------------------------------------

  transpose(x: Storage, shape: number[], perm: number[]): Storage {
    return mv.transpose(this.rt, x, shape, perm);
  }

  slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage {
    return mv.slice(this.rt, x, shape, begin, size);
  }

  pad(x: Storage, shape: number[], paddings: [number, number][], value: number): Storage {
    return mv.pad(this.rt, x, shape, paddings, value);
  }

  concat(xs: Storage[], shapes: number[][], axis: number): Storage {
    return mv.concat(this.rt, xs, shapes, axis);
  }

  oneHot(indices: Storage, depth: number): Storage {
    return mv.oneHot(this.rt, indices, depth);
  }

  // --- Optimizer ----------------------------------------------------------------------------

  adamUpdate(
    p: Storage,
    g: Storage,
    m: Storage,
    v: Storage,
    vMax: Storage | null,
    h: AdamScalars,
  ): { p: Storage; m: Storage; v: Storage; vMax: Storage | null } | null {
    return adam.adamUpdate(this.rt, p, g, m, v, vMax, h);
  }
}

/** Why WebGPU cannot start here, or the device and adapter it starts on. */
export async function requestWebGpu(): Promise<
  { device: GPUDevice; adapter: GpuAdapterInfo } | { reason: string }
> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu)
    return {
      reason:
        'this environment has no WebGPU (navigator.gpu is missing: Node, or a browser without it or on a page that is not a secure context)',
    };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { reason: `requestAdapter failed: ${String(e)}` };
  }
  if (!adapter) return { reason: 'the browser offers no WebGPU adapter' };
  const limits = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
  } catch (e) {
    return { reason: `requestDevice failed: ${String(e)}` };
  }
  const info = (adapter as { info?: Partial<GpuAdapterInfo> }).info ?? {};
  return {
    device,
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    },
  };
}

/** A WebGpuBackend on the first adapter, or a BackendError that says why not. */
export async function createWebGpuBackend(): Promise<WebGpuBackend> {
  const r = await requestWebGpu();
  if ('reason' in r) throw new BackendError(`webgpu: ${r.reason}.`);
  return new WebGpuBackend(r.device, r.adapter);
}
