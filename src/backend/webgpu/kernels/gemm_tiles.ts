/**
 * The tiled GEMM every product-shaped kernel shares (matmul, and the convolutions as implicit
 * GEMM): C[z] (M × N) = A[z] (M × K) · B[z] (K × N), where the caller writes how an element of A
 * and of B is fetched (`loadA(z, row, k)`, `loadB(z, k, col)`: an im2col gather, a transposed
 * read...) and how a result is stored (`store(z, row, col, v)`: bias, residual, ReLU...).
 *
 * A workgroup of 16 × 16 threads computes a 64 × 64 tile of C, 4 × 4 values a thread, walking K
 * in steps of 16: each step the 256 threads copy a 64 × 16 tile of A and a 16 × 64 tile of B
 * into workgroup memory (a vec4 of each, zeros past the edges), then each thread accumulates its
 * 4 × 4 block from them with vec4 products. The workgroups stride over z, the row tiles and the
 * column tiles, so any M, N and batch fit the 65535-per-dimension grid.
 *
 * Few tiles over a long K (a filter gradient sums over every output pixel; a late ResNet layer
 * has 49 rows) would leave most of a GPU idle: there K is split into up to 32 ranges computed
 * by separate workgroups into partial sums, which a second kernel adds and stores.
 */
import type { Storage } from '../../backend.js';
import {
  bindings,
  type GpuRuntime,
  linearGroups,
  linearIndex,
  type Param,
} from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';

/** Output tile rows and columns a workgroup computes. */
const TILE = 64;
/** The depth of a K step. */
const TK = 16;
/** Most workgroups along one dispatch dimension. */
const MAX_GROUPS = 65535;
/** Below this many workgroups, a long K is split. */
const FEW_TILES = 64;
/** The shortest K range a split gets. */
const MIN_SPLIT_K = 256;
/** The most ranges K is split into. */
const MAX_SPLITS = 32;

type Field = [name: string, type: 'u32' | 'i32' | 'f32'];

/** One GEMM-shaped kernel: the fetches, the store and the sizes. */
export interface GemmSpec {
  /** Names the pipeline (with every choice baked into the WGSL below). */
  key: string;
  /** Inputs loadA and loadB read: WGSL name, element type, storage; bound in this order. */
  inputs: [name: string, type: string, storage: Storage][];
  /** Inputs only the store reads (bias, residual), bound after `inputs`. */
  storeInputs?: [name: string, type: string, storage: Storage][];
  /** The output's WGSL name and size (float32). */
  output: [name: string, size: number];
  /** Parameters after the GEMM's own, as the uniform struct's fields. */
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
  /** WGSL functions the store calls (an epilogue). */
  storeHelpers?: string;
}

/** The uniform fields both kernels declare: the GEMM's own, then the caller's. */
function fields(spec: GemmSpec): Field[] {
  return [
    ['M', 'u32'],
    ['N', 'u32'],
    ['K', 'u32'],
    ['Z', 'u32'],
    ['S', 'u32'],
    ['kChunk', 'u32'],
    ...spec.params.map(([n, t]): Field => [n, t]),
  ];
}

function storeFn(spec: GemmSpec): string {
  return `${spec.storeHelpers ?? ''}
fn store(z: u32, row: u32, col: u32, v: f32) {
  ${spec.store}
}`;
}

/** The tiled kernel; `split` stores partial sums [S][Z][M][N] instead of calling store. */
function gemmWgsl(spec: GemmSpec, split: boolean): string {
  const inputs = spec.inputs.map(([n, t]): [string, string] => [n, t]);
  if (!split) inputs.push(...(spec.storeInputs ?? []).map(([n, t]): [string, string] => [n, t]));
  const out: [string, string] = split ? ['partial', 'f32'] : [spec.output[0], 'f32'];
  const store = split
    ? 'partial[((s * p.Z + z) * p.M + r) * p.N + c] = acc[i][j];'
    : 'store(z, r, c, acc[i][j]);';
  return `${bindings(inputs, [out], fields(spec))}
// A tile stored k-major ([${TK}][${TILE}] as vec4s of 4 consecutive rows), B tile [${TK}][${TILE}]
// as vec4s of 4 consecutive columns.
var<workgroup> As: array<vec4<f32>, ${(TK * TILE) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(TK * TILE) / 4}>;

fn loadA(z: u32, row: u32, k: u32) -> f32 {
  ${spec.loadA}
}
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  ${spec.loadB}
}
// 4 consecutive rows of A (columns of B), zeros past the edges.
fn loadA4(z: u32, row: u32, k: u32, kEnd: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k < kEnd) {
    if (row < p.M) { v.x = loadA(z, row, k); }
    if (row + 1u < p.M) { v.y = loadA(z, row + 1u, k); }
    if (row + 2u < p.M) { v.z = loadA(z, row + 2u, k); }
    if (row + 3u < p.M) { v.w = loadA(z, row + 3u, k); }
  }
  return v;
}
fn loadB4(z: u32, k: u32, col: u32, kEnd: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k < kEnd) {
    if (col < p.N) { v.x = loadB(z, k, col); }
    if (col + 1u < p.N) { v.y = loadB(z, k, col + 1u); }
    if (col + 2u < p.N) { v.z = loadB(z, k, col + 2u); }
    if (col + 3u < p.N) { v.w = loadB(z, k, col + 3u); }
  }
  return v;
}
${split ? '' : storeFn(spec)}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tilesM = (p.M + ${TILE - 1}u) / ${TILE}u;
  let tilesN = (p.N + ${TILE - 1}u) / ${TILE}u;
  // zs runs over the products and, within each, the ranges of K.
  for (var zs = wid.z; zs < p.Z * p.S; zs += nwg.z) {
    let z = zs % p.Z;
    let s = zs / p.Z;
    let kBegin = s * p.kChunk;
    let kEnd = min(p.K, kBegin + p.kChunk);
    for (var tm = wid.y; tm < tilesM; tm += nwg.y) {
      for (var tn = wid.x; tn < tilesN; tn += nwg.x) {
        let row0 = tm * ${TILE}u;
        let col0 = tn * ${TILE}u;
        var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var k0 = kBegin; k0 < kEnd; k0 += ${TK}u) {
          // Each thread fills one vec4 of each tile (whole vectors: no two threads write parts
          // of one): 4 rows of A at one k, consecutive threads at consecutive k; 4 columns of B
          // at one k, consecutive threads at consecutive columns.
          As[(li % ${TK}u) * ${TILE / 4}u + li / ${TK}u] = loadA4(z, row0 + (li / ${TK}u) * 4u, k0 + li % ${TK}u, kEnd);
          Bs[(li / ${TILE / 4}u) * ${TILE / 4}u + li % ${TILE / 4}u] = loadB4(z, k0 + li / ${TILE / 4}u, col0 + (li % ${TILE / 4}u) * 4u, kEnd);
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
              if (c < p.N) { ${store} }
            }
          }
        }
      }
    }
  }
}`;
}

/** The second kernel of a split K: adds the S partial sums of each value and stores it. */
function sumWgsl(spec: GemmSpec): string {
  const inputs: [string, string][] = [
    ['partial', 'f32'],
    ...(spec.storeInputs ?? []).map(([n, t]): [string, string] => [n, t]),
  ];
  return `${bindings(inputs, [[spec.output[0], 'f32']], fields(spec))}
${storeFn(spec)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${linearIndex()}
  let count = p.Z * p.M * p.N;
  if (i >= count) { return; }
  var v = 0.0;
  for (var s = 0u; s < p.S; s++) { v += partial[s * count + i]; }
  store(i / (p.M * p.N), (i / p.N) % p.M, i % p.N, v);
}`;
}

/** How many ranges to split K into: 1 unless the tiles are few and K long. */
function splits(spec: GemmSpec): number {
  const groups = Math.ceil(spec.m / TILE) * Math.ceil(spec.n / TILE) * spec.z;
  if (groups >= FEW_TILES || spec.k < 2 * MIN_SPLIT_K) return 1;
  return Math.min(MAX_SPLITS, Math.floor(spec.k / MIN_SPLIT_K), Math.ceil(FEW_TILES / groups));
}

/** Launches a GEMM-shaped kernel (two where K is split); returns its (float32) output. */
export function runGemm(rt: GpuRuntime, spec: GemmSpec): GpuStorage {
  const s = splits(spec);
  // Each range a whole number of K steps.
  const kChunk = Math.ceil(spec.k / s / TK) * TK;
  const params: Param[] = [
    ['u32', spec.m],
    ['u32', spec.n],
    ['u32', spec.k],
    ['u32', spec.z],
    ['u32', s],
    ['u32', s === 1 ? Math.max(spec.k, 1) : kChunk],
    ...spec.params.map(([, t, v]): Param => [t, v]),
  ];
  const split = s > 1;
  const count = spec.z * spec.m * spec.n;
  const tiles = rt.run({
    key: `gemm64x64k16v${split ? '_split' : ''}_${spec.key}`,
    wgsl: () => gemmWgsl(spec, split),
    inputs: [...spec.inputs, ...(split ? [] : (spec.storeInputs ?? []))].map(([, , x]) => x),
    outputs: [{ size: split ? s * count : spec.output[1], dtype: 'float32' }],
    params,
    groups: [
      Math.min(Math.ceil(spec.n / TILE), MAX_GROUPS),
      Math.min(Math.ceil(spec.m / TILE), MAX_GROUPS),
      Math.min(spec.z * s, MAX_GROUPS),
    ],
  })[0]!;
  if (!split) return tiles;
  const out = rt.run({
    key: `gemm_split_sum_${spec.key}`,
    wgsl: () => sumWgsl(spec),
    inputs: [tiles, ...(spec.storeInputs ?? []).map(([, , x]) => x)],
    outputs: [{ size: spec.output[1], dtype: 'float32' }],
    params,
    groups: linearGroups(count),
  })[0]!;
  rt.free(tiles);
  return out;
}

/** An element of a storage as f32 in WGSL (int32 storages are converted, as the js reference reads them). */
export function readF32(name: string, s: Storage, index: string): string {
  return s.dtype === 'int32' ? `f32(${name}[${index}])` : `${name}[${index}]`;
}
