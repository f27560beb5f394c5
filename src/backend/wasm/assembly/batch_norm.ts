/**
 * Training-mode batch norm over the last axis (channels) of x viewed as [rows, C]: the batch
 * statistics in one pass, and the backward with their gradient included. Sums in float64 in
 * scratch (`acc`, from the caller), as the native addon and the reference accumulate.
 */

function f32At(p: usize, i: i32): f32 {
  return load<f32>(p + ((<usize>i) << 2));
}

function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + ((<usize>i) << 3));
}

function setF64(p: usize, i: i32, v: f64): void {
  store<f64>(p + ((<usize>i) << 3), v);
}

/**
 * mean[c] and the biased variance[c] over the rows, in one pass: sums of x − shift and of its
 * square, shifted by the channel's first finite value so that a mean far from 0 keeps its
 * accuracy. NaN when there are no rows. acc: 3·C float64.
 */
export function moments(
  x: usize,
  rows: i32,
  C: i32,
  mean: usize,
  variance: usize,
  acc: usize,
): void {
  if (rows == 0) {
    for (let c = 0; c < C; c++) {
      store<f32>(mean + ((<usize>c) << 2), NaN);
      store<f32>(variance + ((<usize>c) << 2), NaN);
    }
    return;
  }
  const shift = acc;
  const s1 = acc + ((<usize>C) << 3);
  const s2 = s1 + ((<usize>C) << 3);
  for (let c = 0; c < C; c++) {
    const v = <f64>f32At(x, c);
    // biome-ignore lint/suspicious/noGlobalIsFinite: AssemblyScript's builtin for f64, no conversion
    setF64(shift, c, isFinite<f64>(v) ? v : 0);
    setF64(s1, c, 0);
    setF64(s2, c, 0);
  }
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>C) << 2);
    for (let c = 0; c < C; c++) {
      const d = <f64>f32At(xr, c) - f64At(shift, c);
      setF64(s1, c, f64At(s1, c) + d);
      setF64(s2, c, f64At(s2, c) + d * d);
    }
  }
  const n = <f64>rows;
  for (let c = 0; c < C; c++) {
    const d = f64At(s1, c) / n;
    const q = f64At(s2, c) / n - d * d;
    store<f32>(mean + ((<usize>c) << 2), <f32>(f64At(shift, c) + d));
    // Rounding may leave a tiny negative; wasm's f64.max keeps NaN.
    store<f32>(variance + ((<usize>c) << 2), <f32>Math.max(q, 0));
  }
}

/**
 * dx = γ·r/N·(N·dy − Σdy − x̂·Σ(dy·x̂)), r = 1/√(variance + ε), x̂ = (x − mean)·r, with mean and
 * variance x's own batch statistics; dGamma = Σ dy·x̂, dBeta = Σ dy. acc: 3·C float64.
 */
export function batchNormTrainingBackward(
  dy: usize,
  x: usize,
  mean: usize,
  variance: usize,
  gamma: usize,
  rows: i32,
  C: i32,
  eps: f64,
  dx: usize,
  dGamma: usize,
  dBeta: usize,
  acc: usize,
): void {
  const rr = acc;
  const sDy = rr + ((<usize>C) << 3);
  const sDyXh = sDy + ((<usize>C) << 3);
  for (let c = 0; c < C; c++) {
    setF64(rr, c, 1.0 / Math.sqrt(<f64>f32At(variance, c) + eps));
    setF64(sDy, c, 0);
    setF64(sDyXh, c, 0);
  }
  for (let r = 0; r < rows; r++) {
    const o = (<usize>r * <usize>C) << 2;
    for (let c = 0; c < C; c++) {
      const g = <f64>f32At(dy + o, c);
      const xh = (<f64>f32At(x + o, c) - <f64>f32At(mean, c)) * f64At(rr, c);
      setF64(sDy, c, f64At(sDy, c) + g);
      setF64(sDyXh, c, f64At(sDyXh, c) + g * xh);
    }
  }
  const n = <f64>rows;
  for (let c = 0; c < C; c++) {
    store<f32>(dGamma + ((<usize>c) << 2), <f32>f64At(sDyXh, c));
    store<f32>(dBeta + ((<usize>c) << 2), <f32>f64At(sDy, c));
    // From here on: a = γr, b = −γr·Σdy/N, k = −γr²·Σdy·x̂/N, so dx = a·dy + b + k·(x − mean).
    const gr = <f64>f32At(gamma, c) * f64At(rr, c);
    const k = (-gr * f64At(rr, c) * f64At(sDyXh, c)) / n;
    setF64(sDy, c, (-gr * f64At(sDy, c)) / n);
    setF64(sDyXh, c, k);
    setF64(rr, c, gr);
  }
  for (let r = 0; r < rows; r++) {
    const o = (<usize>r * <usize>C) << 2;
    for (let c = 0; c < C; c++) {
      const d =
        f64At(rr, c) * <f64>f32At(dy + o, c) +
        f64At(sDy, c) +
        f64At(sDyXh, c) * (<f64>f32At(x + o, c) - <f64>f32At(mean, c));
      store<f32>(dx + o + ((<usize>c) << 2), <f32>d);
    }
  }
}
