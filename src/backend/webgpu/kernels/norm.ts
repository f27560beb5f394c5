/**
 * Normalization over the last axis (channels) in WGSL: batch normalization with given
 * statistics and its gradients, and TensorFlow's local response normalization and its gradient.
 * The per-channel sums of batchNormBackward are a two-pass reduction: workgroups over tiles of
 * channels × chunks of rows write partial sums, and one thread per channel adds a channel's
 * partials and forms the four gradients.
 */
import type { Storage } from '../../backend.js';
import { bindings, type GpuRuntime, linearGroups } from '../gpu_runtime.js';
import type { GpuStorage } from '../gpu_storage.js';
import { linearMain } from './elementwise.js';

export function batchNorm(
  rt: GpuRuntime,
  x: Storage,
  mean: Storage,
  variance: Storage,
  gamma: Storage,
  beta: Storage,
  channels: number,
  epsilon: number,
): Storage {
  const n = x.size;
  return rt.run({
    key: 'batch_norm',
    wgsl: () =>
      `${bindings(
        [
          ['x', 'f32'],
          ['mean', 'f32'],
          ['variance', 'f32'],
          ['gamma', 'f32'],
          ['beta', 'f32'],
        ],
        [['out', 'f32']],
        [
          ['n', 'u32'],
          ['channels', 'u32'],
          ['eps', 'f32'],
        ],
      )}\n${linearMain(
        `let c = i % p.channels;
  out[i] = ((x[i] - mean[c]) / sqrt(variance[c] + p.eps)) * gamma[c] + beta[c];`,
      )}`,
    inputs: [x, mean, variance, gamma, beta],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [
      ['u32', n],
      ['u32', channels],
      ['f32', epsilon],
    ],
    groups: linearGroups(n),
  })[0]!;
}

/** Threads per workgroup of the partial sums: channels × rows, tc · tr = 256. */
const SUM_THREADS = 256;

/**
 * The partial sums of batchNormBackward, per chunk of rows: Σ dy and Σ dy·(x − mean) of each
 * channel, laid out [chunk][2][channels]. A workgroup is `tc` channels (adjacent in memory, so
 * reads coalesce) by `tr` rows; its threads add strided rows, then a tree in workgroup memory
 * adds the `tr` rows of each channel.
 */
function partialSums(
  rt: GpuRuntime,
  dy: Storage,
  x: Storage,
  mean: Storage,
  channels: number,
): { partials: GpuStorage; chunks: number } {
  const rows = channels > 0 ? x.size / channels : 0;
  let tc = 1;
  while (tc < channels && tc < 64) tc *= 2;
  const tr = SUM_THREADS / tc;
  // At least four rows per thread before the tree; at most 256 chunks for the second pass.
  const chunks = Math.max(1, Math.min(256, Math.ceil(rows / (tr * 4))));
  const rowsPerChunk = Math.max(1, Math.ceil(rows / chunks));
  const partials = rt.run({
    key: 'batch_norm_partial_sums',
    wgsl: () =>
      `${bindings(
        [
          ['dy', 'f32'],
          ['x', 'f32'],
          ['mean', 'f32'],
        ],
        [['partials', 'f32']],
        [
          ['channels', 'u32'],
          ['rows', 'u32'],
          ['rowsPerChunk', 'u32'],
          ['tc', 'u32'],
          ['tr', 'u32'],
        ],
      )}
var<workgroup> s1: array<f32, ${SUM_THREADS}>;
var<workgroup> s2: array<f32, ${SUM_THREADS}>;
@compute @workgroup_size(${SUM_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let cx = l % p.tc;
  let ry = l / p.tc;
  let c = wg.x * p.tc + cx;
  let start = wg.y * p.rowsPerChunk;
  let end = min(start + p.rowsPerChunk, p.rows);
  var a1 = 0.0;
  var a2 = 0.0;
  if (c < p.channels) {
    let m = mean[c];
    for (var r = start + ry; r < end; r += p.tr) {
      let g = dy[r * p.channels + c];
      a1 += g;
      a2 += g * (x[r * p.channels + c] - m);
    }
  }
  s1[l] = a1;
  s2[l] = a2;
  workgroupBarrier();
  for (var s = p.tr / 2u; s > 0u; s = s / 2u) {
    if (ry < s) {
      s1[l] += s1[l + s * p.tc];
      s2[l] += s2[l + s * p.tc];
    }
    workgroupBarrier();
  }
  if (ry == 0u && c < p.channels) {
    partials[wg.y * 2u * p.channels + c] = s1[l];
    partials[wg.y * 2u * p.channels + p.channels + c] = s2[l];
  }
}`,
    inputs: [dy, x, mean],
    outputs: [{ size: chunks * 2 * channels, dtype: 'float32' }],
    params: [
      ['u32', channels],
      ['u32', rows],
      ['u32', rowsPerChunk],
      ['u32', tc],
      ['u32', tr],
    ],
    groups: [Math.ceil(channels / tc), chunks],
  })[0]!;
  return { partials, chunks };
}

export function batchNormBackward(
  rt: GpuRuntime,
  dy: Storage,
  x: Storage,
  mean: Storage,
  variance: Storage,
  gamma: Storage,
  channels: number,
  epsilon: number,
): { dx: Storage; dMean: Storage; dVariance: Storage; dGamma: Storage; dBeta: Storage } {
  const n = x.size;
  const dx = rt.run({
    key: 'batch_norm_dx',
    wgsl: () =>
      `${bindings(
        [
          ['dy', 'f32'],
          ['variance', 'f32'],
          ['gamma', 'f32'],
        ],
        [['dx', 'f32']],
        [
          ['n', 'u32'],
          ['channels', 'u32'],
          ['eps', 'f32'],
        ],
      )}\n${linearMain(
        `let c = i % p.channels;
  let r = 1.0 / sqrt(variance[c] + p.eps);
  dx[i] = dy[i] * r * gamma[c];`,
      )}`,
    inputs: [dy, variance, gamma],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [
      ['u32', n],
      ['u32', channels],
      ['f32', epsilon],
    ],
    groups: linearGroups(n),
  })[0]!;
  const { partials, chunks } = partialSums(rt, dy, x, mean, channels);
  // With r = 1/sqrt(variance + eps), the reference's per-value terms summed:
  // dMean = −r·gamma·Σdy, dVariance = −½·gamma·r³·Σdy·(x − mean), dGamma = r·Σdy·(x − mean),
  // dBeta = Σdy.
  const [dMean, dVariance, dGamma, dBeta] = rt.run({
    key: 'batch_norm_grads',
    wgsl: () =>
      `${bindings(
        [
          ['partials', 'f32'],
          ['variance', 'f32'],
          ['gamma', 'f32'],
        ],
        [
          ['dMean', 'f32'],
          ['dVariance', 'f32'],
          ['dGamma', 'f32'],
          ['dBeta', 'f32'],
        ],
        [
          ['n', 'u32'],
          ['chunks', 'u32'],
          ['eps', 'f32'],
        ],
      )}\n${linearMain(
        `var g = 0.0;
  var gx = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    g += partials[k * 2u * p.n + i];
    gx += partials[k * 2u * p.n + p.n + i];
  }
  let r = 1.0 / sqrt(variance[i] + p.eps);
  dMean[i] = -(g * r * gamma[i]);
  dVariance[i] = -(0.5 * gx * gamma[i] * r * r * r);
  dGamma[i] = gx * r;
  dBeta[i] = g;`,
      )}`,
    inputs: [partials, variance, gamma],
    outputs: [0, 1, 2, 3].map(() => ({ size: channels, dtype: 'float32' as const })),
    params: [
      ['u32', channels],
      ['u32', chunks],
      ['f32', epsilon],
    ],
    groups: linearGroups(channels),
  });
  // Recorded work keeps its buffers until submitted (buffer_pool.ts): freeing now is safe.
  rt.free(partials);
  return { dx, dMean: dMean!, dVariance: dVariance!, dGamma: dGamma!, dBeta: dBeta! };
}

/**
 * Σ x² over the clipped window [c − r, c + r] of the row that starts at `base`; and d^−β as
 * JavaScript's d ** −β gives it where WGSL's pow leaves it undefined: d = 0 (a window of zeros
 * with bias 0) and d < 0 (a negative alpha; finite for whole β).
 */
const WINDOW_SQUARES = `
fn powNeg(d: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (d > 0.0) { return pow(d, -b); }
  // Infinity and NaN from runtime bits: WGSL rejects them as constants.
  let z = bitcast<u32>(d) & 0u;
  if (d == 0.0) { return select(0.0, bitcast<f32>(0x7f800000u | z), b > 0.0); }
  if (floor(b) != b) { return bitcast<f32>(0x7fc00000u | z); }
  let m = pow(-d, -b);
  return select(m, -m, fract(b * 0.5) != 0.0);
}
fn windowSquares(base: u32, c: u32) -> f32 {
  let lo = base + select(0u, c - p.radius, c > p.radius);
  let hi = base + min(p.channels - 1u, c + p.radius);
  var s = 0.0;
  for (var k = lo; k <= hi; k++) { s += x[k] * x[k]; }
  return s;
}`;

const LRN_PARAMS: [string, 'u32' | 'f32'][] = [
  ['n', 'u32'],
  ['channels', 'u32'],
  ['radius', 'u32'],
  ['bias', 'f32'],
  ['alpha', 'f32'],
  ['beta', 'f32'],
];

export function lrn(
  rt: GpuRuntime,
  x: Storage,
  channels: number,
  depthRadius: number,
  bias: number,
  alpha: number,
  beta: number,
): Storage {
  const n = x.size;
  return rt.run({
    key: 'lrn',
    wgsl: () =>
      `${bindings([['x', 'f32']], [['out', 'f32']], LRN_PARAMS)}\n${WINDOW_SQUARES}\n${linearMain(
        `let c = i % p.channels;
  let d = p.bias + p.alpha * windowSquares(i - c, c);
  out[i] = x[i] * powNeg(d, p.beta);`,
      )}`,
    inputs: [x],
    outputs: [{ size: n, dtype: 'float32' }],
    params: [
      ['u32', n],
      ['u32', channels],
      ['u32', depthRadius],
      ['f32', bias],
      ['f32', alpha],
      ['f32', beta],
    ],
    groups: linearGroups(n),
  })[0]!;
}

/**
 * Two passes: D_c^−β and t_c = dy_c·x_c·D_c^−β / D_c per value, then
 * dx_j = dy_j·D_j^−β − 2αβ·x_j·Σ t_c over j's window (the windows are symmetric).
 */
export function lrnBackward(
  rt: GpuRuntime,
  x: Storage,
  dy: Storage,
  channels: number,
  depthRadius: number,
  bias: number,
  alpha: number,
  beta: number,
): Storage {
  const n = x.size;
  const params: ['u32' | 'f32', number][] = [
    ['u32', n],
    ['u32', channels],
    ['u32', depthRadius],
    ['f32', bias],
    ['f32', alpha],
    ['f32', beta],
  ];
  const [dpow, t] = rt.run({
    key: 'lrn_backward_terms',
    wgsl: () =>
      `${bindings(
        [
          ['x', 'f32'],
          ['dy', 'f32'],
        ],
        [
          ['dpow', 'f32'],
          ['t', 'f32'],
        ],
        LRN_PARAMS,
      )}\n${WINDOW_SQUARES}\n${linearMain(
        `let c = i % p.channels;
  let d = p.bias + p.alpha * windowSquares(i - c, c);
  let dp = powNeg(d, p.beta);
  dpow[i] = dp;
  t[i] = dy[i] * x[i] * dp / d;`,
      )}`,
    inputs: [x, dy],
    outputs: [
      { size: n, dtype: 'float32' },
      { size: n, dtype: 'float32' },
    ],
    params,
    groups: linearGroups(n),
  });
  const dx = rt.run({
    key: 'lrn_backward',
    wgsl: () =>
      `${bindings(
        [
          ['x', 'f32'],
          ['dy', 'f32'],
          ['dpow', 'f32'],
          ['t', 'f32'],
        ],
        [['out', 'f32']],
        LRN_PARAMS,
      )}\n${linearMain(
        `let c = i % p.channels;
  let base = i - c;
  let lo = base + select(0u, c - p.radius, c > p.radius);
  let hi = base + min(p.channels - 1u, c + p.radius);
  var s = 0.0;
  for (var k = lo; k <= hi; k++) { s += t[k]; }
  out[i] = dy[i] * dpow[i] - 2.0 * p.alpha * p.beta * x[i] * s;`,
      )}`,
    inputs: [x, dy, dpow!, t!],
    outputs: [{ size: n, dtype: 'float32' }],
    params,
    groups: linearGroups(n),
  })[0]!;
  rt.free(dpow!);
  rt.free(t!);
  return dx;
}
