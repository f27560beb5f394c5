/**
 * The wasm kernel module's exports, compiled by `npm run build:wasm` (scripts/build-wasm.mjs)
 * twice: a SIMD128 baseline and a relaxed-SIMD (FMA) variant. Memory is exported; the JS side
 * owns everything above heapBase() and passes byte addresses.
 */
export { conv2dBackwardFilter, conv2dBackwardInput, conv2dForward } from './conv';
export { gemm } from './gemm';

import { GEMM_WS_BYTES, gemm } from './gemm';

/** Bytes of scratch that gemm (and each convolution, besides its column buffer) needs. */
export function gemmWorkspaceBytes(): i32 {
  return GEMM_WS_BYTES;
}

/** Batched C[b] = op(A[b]) · op(B[b]) for row-major A [m, k] (or [k, m]) and B [k, n] (or [n, k]). */
export function matmul(
  batch: i32,
  m: i32,
  n: i32,
  k: i32,
  transA: i32,
  transB: i32,
  a: usize,
  b: usize,
  c: usize,
  ws: usize,
): void {
  const rsA = transA ? 1 : k;
  const csA = transA ? m : 1;
  const rsB = transB ? 1 : n;
  const csB = transB ? k : 1;
  for (let i = 0; i < batch; i++) {
    gemm(
      m,
      n,
      k,
      a + ((<usize>(i * m * k)) << 2),
      rsA,
      csA,
      b + ((<usize>(i * k * n)) << 2),
      rsB,
      csB,
      c + ((<usize>(i * m * n)) << 2),
      n,
      0,
      ws,
    );
  }
}

/** First free byte after the module's static data: the JS side's scratch starts here. */
export function heapBase(): usize {
  return __heap_base;
}

export { adamUpdate } from './adam';
export { batchNormTrainingBackward, moments } from './batch_norm';
export { activationGrad, binary, sum2d, unary } from './elementwise';
export { avgPool, maxPool } from './pool';
export { vadd as addInto } from './vec';
