/**
 * The tiled GEMM every product-shaped kernel shares (matmul, and the convolutions as implicit
 * GEMM): C[z] (M × N) = A[z] (M × K) · B[z] (K × N), where the caller writes how an element of A
 * and of B is fetched (`loadA(z, row, k)`, `loadB(z, k, col)`: an im2col gather, a transposed
 * read...) and how a result is stored (`store(z, row, col, v)`: bias, residual, ReLU...).
 *
 * A workgroup of 16 × 16 threads computes a 64 × 64 tile of C, 4 × 4 values a thread, walking K
 * in steps of 16: each step the 256 threads copy a 64 × 16 tile of A and a 16 × 64 tile of B
 * into workgroup memory (4 values each, zeros past the edges), then each thread accumulates its
 * 4 × 4 block from them with vec4 products. The workgroups stride over z, the row tiles and the
 * column tiles, so any M, N and batch fit the 65535-per-dimension grid.
 */
import type { Storage } from '../../backend.js';
import { bindings, type GpuRuntime, type Param } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';

/** Output tile rows and columns a workgroup computes. */
const TILE = 64;
/** The depth of a K step. */
const TK = 16;
/** Most workgroups along one dispatch dimension. */
const MAX_GROUPS = 65535;

/** One GEMM-shaped kernel: the fetches, the store and the sizes. */
export interface GemmSpec {
  /** Names the pipeline (with every choice baked into the WGSL below). */
  key: string;
  /** Input storages and their WGSL names and element types, bound in this order. */
  inputs: [name: string, type: string, storage: Storage][];
  /** The output's WGSL name and size (float32). */
  output: [name: string, size: number];
  /** Parameters after the GEMM's own (M, N, K, Z), as the uniform struct's fields. */
  params: [name: string, type: 'u32' | 'i32' | 'f32', value: number][];
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** The summed dimension. */
  k: number;
  /** Independent products (batch, or convolution groups). */
  z: number;
  /** WGSL body of `fn loadA(z: u32, row: u32, k: u32) -> f32` (row < M and k < K). */
  loadA: string;
  /** WGSL body of `fn loadB(z: u32, k: u32, col: u32) -> f32` (k < K and col < N). */
  loadB: string;
  /** WGSL body of `fn store(z: u32, row: u32, col: u32, v: f32)` (row < M and col < N). */
  store: string;
  /** WGSL functions the bodies above call (an epilogue, a gather). */
  helpers?: string;
}

function gemmWgsl(spec: GemmSpec): string {
  const params: [string, 'u32' | 'i32' | 'f32'][] = [
    ['M', 'u32'],
    ['N', 'u32'],
    ['K', 'u32'],
    ['Z', 'u32'],
    ...spec.params.map(([n, t]): [string, 'u32' | 'i32' | 'f32'] => [n, t]),
  ];
  return `${bindings(
    spec.inputs.map(([n, t]) => [n, t]),
    [[spec.output[0], 'f32']],
    params,
  )}
// A tile stored k-major ([${TK}][${TILE}] as vec4s of 4 consecutive rows), B tile [${TK}][${TILE}]
// as vec4s of 4 consecutive columns.
var<workgroup> As: array<vec4<f32>, ${(TK * TILE) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(TK * TILE) / 4}>;

${spec.helpers ?? ''}
fn loadA(z: u32, row: u32, k: u32) -> f32 {
  ${spec.loadA}
}
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  ${spec.loadB}
}
fn store(z: u32, row: u32, col: u32, v: f32) {
  ${spec.store}
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tilesM = (p.M + ${TILE - 1}u) / ${TILE}u;
  let tilesN = (p.N + ${TILE - 1}u) / ${TILE}u;
  for (var z = wid.z; z < p.Z; z += nwg.z) {
    for (var tm = wid.y; tm < tilesM; tm += nwg.y) {
      for (var tn = wid.x; tn < tilesN; tn += nwg.x) {
        let row0 = tm * ${TILE}u;
        let col0 = tn * ${TILE}u;
        var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var k0 = 0u; k0 < p.K; k0 += ${TK}u) {
          for (var e = 0u; e < 4u; e++) {
            let idx = li + e * 256u;
            // A: consecutive threads take consecutive k of one row.
            let ar = idx / ${TK}u;
            let ak = idx % ${TK}u;
            var av = 0.0;
            if (row0 + ar < p.M && k0 + ak < p.K) { av = loadA(z, row0 + ar, k0 + ak); }
            As[(ak * ${TILE}u + ar) / 4u][ar % 4u] = av;
            // B: consecutive threads take consecutive columns of one k.
            let bk = idx / ${TILE}u;
            let bc = idx % ${TILE}u;
            var bv = 0.0;
            if (k0 + bk < p.K && col0 + bc < p.N) { bv = loadB(z, k0 + bk, col0 + bc); }
            Bs[(bk * ${TILE}u + bc) / 4u][bc % 4u] = bv;
          }
          workgroupBarrier();
          for (var kk = 0u; kk < ${TK}u; kk++) {
            let a = As[kk * ${TILE / 4}u + lid.y];
            let b = Bs[kk * ${TILE / 4}u + lid.x];
            acc[0] += a.x * b;
            acc[1] += a.y * b;
            acc[2] += a.z * b;
            acc[3] += a.w * b;
          }
          workgroupBarrier();
        }
        for (var i = 0u; i < 4u; i++) {
          let r = row0 + lid.y * 4u + i;
          if (r < p.M) {
            for (var j = 0u; j < 4u; j++) {
              let c = col0 + lid.x * 4u + j;
              if (c < p.N) { store(z, r, c, acc[i][j]); }
            }
          }
        }
      }
    }
  }
}`;
}

/** Launches a GEMM-shaped kernel; returns its (float32) output. */
export function runGemm(rt: GpuRuntime, spec: GemmSpec): GpuStorage {
  const tilesM = Math.ceil(spec.m / TILE);
  const tilesN = Math.ceil(spec.n / TILE);
  const params: Param[] = [
    ['u32', spec.m],
    ['u32', spec.n],
    ['u32', spec.k],
    ['u32', spec.z],
    ...spec.params.map(([, t, v]): Param => [t, v]),
  ];
  return rt.run({
    key: `gemm64x64k16_${spec.key}`,
    wgsl: () => gemmWgsl(spec),
    inputs: spec.inputs.map(([, , s]) => s),
    outputs: [{ size: spec.output[1], dtype: 'float32' }],
    params,
    groups: [
      Math.min(tilesN, MAX_GROUPS),
      Math.min(tilesM, MAX_GROUPS),
      Math.min(spec.z, MAX_GROUPS),
    ],
  })[0]!;
}

/** An element of a storage as f32 in WGSL (int32 storages are converted, as the js reference reads them). */
export function readF32(name: string, s: Storage, index: string): string {
  return s.dtype === 'int32' ? `f32(${name}[${index}])` : `${name}[${index}]`;
}
