/** Reference batched matrix product: C[b] = op(A[b]) · op(B[b]), row-major. */
import type { MatmulInfo } from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';

export function matmul(a: NumArray, b: NumArray, info: MatmulInfo, out: FloatArray): void {
  const { batch, m, n, k, transA, transB } = info;
  for (let bi = 0; bi < batch; bi++) {
    const ao = bi * m * k;
    const bo = bi * k * n;
    const co = bi * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[ao + p * m + i]! : a[ao + i * k + p]!;
          const bv = transB ? b[bo + j * k + p]! : b[bo + p * n + j]!;
          s += av * bv;
        }
        out[co + i * n + j] = s;
      }
    }
  }
}
