/**
 * The wasm kernels' module: the builds (SIMD128, relaxed SIMD; each with or without shared
 * memory), embedded as base64 and compiled once per build, and what their exports look like.
 * Browsers refuse synchronous compilation of large modules on the main thread (Chrome's limit
 * was 4 KB, later 8 MB); these are about 11 KB, and Node allows any size.
 */
import {
  KERNELS_RELAXED_BASE64,
  KERNELS_RELAXED_SHARED_BASE64,
  KERNELS_SIMD_BASE64,
  KERNELS_SIMD_SHARED_BASE64,
} from './kernels_wasm.generated.js';

/** The kernel module's exports (src/backend/wasm/assembly/index.ts). Addresses are bytes. */
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  gemmWorkspaceBytes(): number;
  matmul(
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    a: number,
    b: number,
    c: number,
    ws: number,
  ): void;
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    c: number,
    ldc: number,
    accumulate: number,
    ws: number,
  ): void;
  addInto(dst: number, src: number, n: number): void;
  activationGrad(op: number, dy: number, v: number, out: number, n: number): void;
  moments(
    x: number,
    rows: number,
    channels: number,
    mean: number,
    variance: number,
    acc: number,
  ): void;
  batchNormTrainingBackward(
    dy: number,
    x: number,
    mean: number,
    variance: number,
    gamma: number,
    rows: number,
    channels: number,
    epsilon: number,
    dx: number,
    dGamma: number,
    dBeta: number,
    acc: number,
  ): void;
  adamUpdate(
    n: number,
    p: number,
    g: number,
    m: number,
    v: number,
    vMax: number,
    pOut: number,
    mOut: number,
    vOut: number,
    vMaxOut: number,
    b1: number,
    b2: number,
    c1: number,
    c2: number,
    eps: number,
    sqrtBias2: number,
    stepSize: number,
  ): void;
  conv2dForward(
    info: number,
    x: number,
    w: number,
    y: number,
    ws: number,
    chunk: number,
    r0: number,
    r1: number,
  ): void;
  binary(
    op: number,
    a: number,
    b: number,
    out: number,
    outer: number,
    aO: number,
    bO: number,
    inner: number,
    aI: number,
    bI: number,
  ): void;
  unary(op: number, x: number, out: number, n: number): void;
  sum2d(x: number, outer: number, inner: number, overOuter: number, out: number): void;
  avgPool(info: number, x: number, y: number, backward: number): void;
  maxPool(info: number, x: number, dy: number, out: number): void;
  conv2dBackwardInput(
    info: number,
    dy: number,
    w: number,
    dx: number,
    ws: number,
    chunk: number,
    r0: number,
    r1: number,
  ): void;
  conv2dBackwardFilter(
    info: number,
    x: number,
    dy: number,
    dw: number,
    ws: number,
    chunk: number,
    r0: number,
    r1: number,
  ): void;
}

/** Which build of the kernels to load: 'relaxed' (FMA) if the engine accepts it, else 'simd'. */
export type WasmVariant = 'simd' | 'relaxed';

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** A build: its instruction set, and whether it imports a shared memory (for threads). */
export type Build = `${WasmVariant}${'' | '-shared'}`;
const BASE64: Record<Build, string> = {
  simd: KERNELS_SIMD_BASE64,
  relaxed: KERNELS_RELAXED_BASE64,
  'simd-shared': KERNELS_SIMD_SHARED_BASE64,
  'relaxed-shared': KERNELS_RELAXED_SHARED_BASE64,
};
const bytesCache = new Map<Build, Uint8Array<ArrayBuffer>>();
const moduleCache = new Map<Build, WebAssembly.Module>();
const validCache = new Map<Build, boolean>();

function buildBytes(b: Build): Uint8Array<ArrayBuffer> {
  let bytes = bytesCache.get(b);
  if (!bytes) {
    bytes = decodeBase64(BASE64[b]);
    bytesCache.set(b, bytes);
  }
  return bytes;
}

export function buildSupported(b: Build): boolean {
  let ok = validCache.get(b);
  if (ok === undefined) {
    try {
      ok = typeof WebAssembly === 'object' && WebAssembly.validate(buildBytes(b));
    } catch {
      ok = false;
    }
    validCache.set(b, ok);
  }
  return ok;
}

/** Whether this engine can run the given build (validates the module itself). */
export function wasmVariantSupported(v: WasmVariant): boolean {
  return buildSupported(v);
}

/** Whether the wasm backend can run here at all (WebAssembly with SIMD128). */
export function wasmSupported(): boolean {
  return wasmVariantSupported('simd');
}

export function compiledModule(b: Build): WebAssembly.Module {
  let m = moduleCache.get(b);
  if (!m) {
    m = new WebAssembly.Module(buildBytes(b));
    moduleCache.set(b, m);
  }
  return m;
}
