/** Reference normalization kernels over the last axis (channels) of a flat NHWC array. */
import type { FloatArray, NumArray } from './arrays.js';

/** y = (x - mean) / sqrt(variance + eps) * gamma + beta, per channel. */
export function batchNorm(
  x: NumArray,
  mean: NumArray,
  variance: NumArray,
  gamma: NumArray,
  beta: NumArray,
  channels: number,
  eps: number,
  out: FloatArray,
): void {
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    out[i] = ((x[i]! - mean[c]!) / Math.sqrt(variance[c]! + eps)) * gamma[c]! + beta[c]!;
  }
}

/** Per channel, in float64: Σ dy and Σ dy·(x − mean), the sums both backward passes need. */
function backwardSums(
  dy: NumArray,
  x: NumArray,
  mean: NumArray,
  channels: number,
): { sDy: Float64Array; sDyXc: Float64Array } {
  const sDy = new Float64Array(channels);
  const sDyXc = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    sDy[c] += dy[i]!;
    sDyXc[c] += dy[i]! * (x[i]! - mean[c]!);
  }
  return { sDy, sDyXc };
}

/** r = 1/√(variance + ε) per channel, in float64. */
const rsqrt = (variance: NumArray, channels: number, eps: number) =>
  Float64Array.from({ length: channels }, (_, c) => 1 / Math.sqrt(variance[c]! + eps));

/**
 * Gradients of batchNorm with the statistics treated as inputs. When the statistics are
 * batch statistics, autograd carries dMean and dVariance on into x through the ops that
 * computed them, which gives the full training-mode gradient.
 */
export function batchNormBackward(
  dy: NumArray,
  x: NumArray,
  mean: NumArray,
  variance: NumArray,
  gamma: NumArray,
  channels: number,
  eps: number,
  dx: FloatArray,
  dMean: FloatArray,
  dVariance: FloatArray,
  dGamma: FloatArray,
  dBeta: FloatArray,
): void {
  const r = rsqrt(variance, channels, eps);
  for (let i = 0; i < x.length; i++) dx[i] = dy[i]! * r[i % channels]! * gamma[i % channels]!;
  const { sDy, sDyXc } = backwardSums(dy, x, mean, channels);
  for (let c = 0; c < channels; c++) {
    const rc = r[c]!;
    const gc = gamma[c]!;
    dMean[c] = 0 - sDy[c]! * rc * gc; // (0 −: an empty x gives +0, not −0)
    dVariance[c] = 0 - 0.5 * sDyXc[c]! * gc * rc * rc * rc;
    dGamma[c] = sDyXc[c]! * rc;
    dBeta[c] = sDy[c]!;
  }
}

/**
 * Per-channel mean and biased variance over the rows of x (channels the last axis), in float64:
 * the mean first, then the squared deviations from it (two passes: the reference's accuracy).
 */
export function moments(
  x: NumArray,
  channels: number,
  mean: FloatArray,
  variance: FloatArray,
): void {
  const n = x.length / channels;
  const s = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) s[i % channels] += x[i]!;
  const m = s.map((v) => v / n);
  const q = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - m[i % channels]!;
    q[i % channels] += d * d;
  }
  for (let c = 0; c < channels; c++) {
    mean[c] = m[c]!;
    variance[c] = q[c]! / n;
  }
}

/**
 * Training-mode batch norm's backward (mean and variance x's batch statistics), float64 sums:
 * dx = γ·r/N·(N·dy − Σdy − x̂·Σ(dy·x̂)), r = 1/√(variance + ε), x̂ = (x − mean)·r;
 * dGamma = Σ dy·x̂, dBeta = Σ dy.
 */
export function batchNormTrainingBackward(
  dy: NumArray,
  x: NumArray,
  mean: NumArray,
  variance: NumArray,
  gamma: NumArray,
  channels: number,
  eps: number,
  dx: FloatArray,
  dGamma: FloatArray,
  dBeta: FloatArray,
): void {
  const n = x.length / channels;
  const r = rsqrt(variance, channels, eps);
  const { sDy, sDyXc } = backwardSums(dy, x, mean, channels);
  const sDyXh = sDyXc.map((v, c) => v * r[c]!);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const xh = (x[i]! - mean[c]!) * r[c]!;
    dx[i] = ((gamma[c]! * r[c]!) / n) * (n * dy[i]! - sDy[c]! - xh * sDyXh[c]!);
  }
  for (let c = 0; c < channels; c++) {
    dGamma[c] = sDyXh[c]!;
    dBeta[c] = sDy[c]!;
  }
}

/** Sum of squares over the window [c - r, c + r] of each channel, clipped at the ends. */
function windowSquares(x: NumArray, base: number, channels: number, c: number, r: number): number {
  let s = 0;
  const lo = Math.max(0, c - r);
  const hi = Math.min(channels - 1, c + r);
  for (let k = lo; k <= hi; k++) s += x[base + k]! * x[base + k]!;
  return s;
}

/** TensorFlow's LRN: y = x / (bias + alpha * sum of x² over the channel window) ^ beta. */
export function lrn(
  x: NumArray,
  channels: number,
  r: number,
  bias: number,
  alpha: number,
  beta: number,
  out: FloatArray,
): void {
  for (let base = 0; base < x.length; base += channels) {
    for (let c = 0; c < channels; c++) {
      const d = bias + alpha * windowSquares(x, base, channels, c, r);
      out[base + c] = x[base + c]! * d ** -beta;
    }
  }
}

/**
 * dx_j = dy_j · D_j^-β − 2αβ x_j Σ_{c: |c−j| ≤ r} dy_c x_c D_c^(−β−1),
 * where D_c = bias + α Σ x² over c's window (the windows are symmetric, so j is in c's
 * window exactly when c is in j's).
 */
export function lrnBackward(
  x: NumArray,
  dy: NumArray,
  channels: number,
  r: number,
  bias: number,
  alpha: number,
  beta: number,
  out: FloatArray,
): void {
  const t = new Float64Array(channels);
  const dpow = new Float64Array(channels);
  for (let base = 0; base < x.length; base += channels) {
    for (let c = 0; c < channels; c++) {
      const d = bias + alpha * windowSquares(x, base, channels, c, r);
      dpow[c] = d ** -beta;
      t[c] = (dy[base + c]! * x[base + c]! * dpow[c]!) / d;
    }
    for (let j = 0; j < channels; j++) {
      let s = 0;
      const lo = Math.max(0, j - r);
      const hi = Math.min(channels - 1, j + r);
      for (let c = lo; c <= hi; c++) s += t[c]!;
      out[base + j] = dy[base + j]! * dpow[j]! - 2 * alpha * beta * x[base + j]! * s;
    }
  }
}
