/**
 * Batched matrix product C[b] = op(A[b]) · op(B[b]) as one tiled GEMM (gemm_tiles.ts), the
 * batch along the grid's z; transposed operands are read transposed in place.
 */
import type { MatmulInfo, Storage } from '../../backend.js';
import type { GpuRuntime } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';
import { readF32, runGemm } from './gemm_tiles.js';

/** C[b] = op(A[b]) · op(B[b]) for every b of the batch. */
export function matmul(rt: GpuRuntime, a: Storage, b: Storage, info: MatmulInfo): GpuStorage {
  const { batch, m, n, k, transA, transB } = info;
  const ta = a.dtype === 'int32' ? 'i32' : 'f32';
  const tb = b.dtype === 'int32' ? 'i32' : 'f32';
  return runGemm(rt, {
    key: `matmul_${ta}_${tb}_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`,
    inputs: [
      ['a', ta, a],
      ['b', tb, b],
    ],
    output: ['c', batch * m * n],
    params: [],
    m,
    n,
    k,
    z: batch,
    loadA: `return ${readF32('a', a, transA ? 'z * p.M * p.K + k * p.M + row' : 'z * p.M * p.K + row * p.K + k')};`,
    loadB: `return ${readF32('b', b, transB ? 'z * p.K * p.N + col * p.K + k' : 'z * p.K * p.N + k * p.N + col')};`,
    store: 'c[z * p.M * p.N + row * p.N + col] = v;',
  });
}
