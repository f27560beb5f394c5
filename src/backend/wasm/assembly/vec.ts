/** Small vector loops (SIMD body, scalar tail) that the convolution kernels share. n in floats. */

/** dst[0..n) = 0 */
export function vzero(dst: usize, n: i32): void {
  let i = 0;
  const z = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) v128.store(dst + ((<usize>i) << 2), z);
  for (; i < n; i++) store<f32>(dst + ((<usize>i) << 2), 0);
}

/** dst[0..n) = src[0..n) */
export function vcopy(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dst + o, v128.load(src + o));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dst + o, load<f32>(src + o));
  }
}

/** dst[i] += src[i] */
export function vadd(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** dst[i] += a[i] · b[i] */
export function vmuladd(dst: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(
      dst + o,
      f32x4.add(v128.load(dst + o), f32x4.mul(v128.load(a + o), v128.load(b + o))),
    );
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(a + o) * load<f32>(b + o));
  }
}

/** dst[i] += s · b[i] */
export function vaxpy(dst: usize, s: f32, b: usize, n: i32): void {
  let i = 0;
  const sv = f32x4.splat(s);
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(sv, v128.load(b + o))));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dst + o, load<f32>(dst + o) + s * load<f32>(b + o));
  }
}

/** Σ a[i] · b[i] */
export function vdot(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let acc = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s =
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    f32x4.extract_lane(acc, 2) +
    f32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}

/**
 * dst[0..n) = src[0..n) in whole vectors: may read up to 3 floats past src + n and write up
 * to 3 past dst + n. For filling a buffer front to back (the next run overwrites the excess;
 * the buffer needs 16 bytes of slack).
 */
export function vcopyOver(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dst + o, v128.load(src + o));
  }
}

/** dst[0..n) = 0 in whole vectors (see vcopyOver). */
export function vzeroOver(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) v128.store(dst + ((<usize>i) << 2), z);
}
