/**
 * Single-precision GEMM with WebAssembly SIMD128: C = op(A) · op(B) (+ C when accumulating).
 *
 * Goto-style blocking (NC columns of B, KC of the shared dimension, MC rows of A) around a
 * 4×8 register micro-tile: A is packed in 4-row panels stored [k][4], B in 8-column panels
 * stored [k][8]; each step of k splats one A value per row (v128.load32_splat) and multiplies
 * it with two f32x4 of B into 8 accumulators. Larger tiles need more than the ~12 live v128
 * values V8 keeps in registers and run at half the speed (DESIGN.md), so the tile stays 4×8.
 * Edge panels are packed with zeros and their tiles go through a small temporary, so any
 * m, n, k works. On the 2-core Intel Xeon (AVX-512) this was tuned on, mul + add share three
 * FP ports, which caps the tile at about 46 GFLOP/s even in L1 (1024³: about 43); the
 * relaxed-SIMD build's fused multiply-add reaches about 58 in L1 (1024³: about 50).
 *
 * Matrices are addressed by element strides, so transposes cost nothing here: element (i, p)
 * of A is at a + 4·(i·rsA + p·csA), element (p, j) of B at b + 4·(p·rsB + j·csB), and row i of
 * C starts at c + 4·i·ldc. Pointers are byte addresses; strides are in elements.
 */

export const MC: i32 = 128;
export const KC: i32 = 256;
export const NC: i32 = 1024;

/** Bytes of workspace that gemm needs at `ws`: the packed A block, B block and an edge tile. */
export const GEMM_WS_BYTES: i32 = (MC * KC + KC * NC + 32) * 4;

/**
 * a·b + c per lane. The relaxed-SIMD build (kernels_relaxed.wasm, used where the engine
 * validates it) turns this into a fused multiply-add; the baseline build multiplies and adds.
 */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Packs mc × kc of A (at a, strides in elements) into 4-row panels [k][4], zero-padded. */
function packA(mc: i32, kc: i32, a: usize, rs: i32, cs: i32, pa: usize): void {
  for (let i0 = 0; i0 < mc; i0 += 4) {
    const mr = min(4, mc - i0);
    const dst = pa + ((<usize>(i0 * kc)) << 2);
    const src = a + ((<usize>(i0 * rs)) << 2);
    if (mr == 4 && cs == 1) {
      // Rows contiguous in k: transpose 4×4 blocks.
      const r0 = src;
      const r1 = src + ((<usize>rs) << 2);
      const r2 = src + ((<usize>(2 * rs)) << 2);
      const r3 = src + ((<usize>(3 * rs)) << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = (<usize>p) << 2;
        const x0 = v128.load(r0 + o);
        const x1 = v128.load(r1 + o);
        const x2 = v128.load(r2 + o);
        const x3 = v128.load(r3 + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const d = dst + ((<usize>p) << 4);
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
      }
      for (; p < kc; p++) {
        const o = (<usize>p) << 2;
        const d = dst + ((<usize>p) << 4);
        store<f32>(d, load<f32>(r0 + o));
        store<f32>(d, load<f32>(r1 + o), 4);
        store<f32>(d, load<f32>(r2 + o), 8);
        store<f32>(d, load<f32>(r3 + o), 12);
      }
    } else if (mr == 4 && rs == 1) {
      // Columns contiguous in i (A transposed): one vector per k.
      for (let p = 0; p < kc; p++) {
        v128.store(dst + ((<usize>p) << 4), v128.load(src + ((<usize>(p * cs)) << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + ((<usize>p) << 4);
        for (let r = 0; r < 4; r++) {
          store<f32>(
            d + ((<usize>r) << 2),
            r < mr ? load<f32>(src + ((<usize>(r * rs + p * cs)) << 2)) : <f32>0,
          );
        }
      }
    }
  }
}

/** Packs kc × nc of B (at b, strides in elements) into 8-column panels [k][8], zero-padded. */
function packB(kc: i32, nc: i32, b: usize, rs: i32, cs: i32, pb: usize): void {
  for (let j0 = 0; j0 < nc; j0 += 8) {
    const nr = min(8, nc - j0);
    const dst = pb + ((<usize>(j0 * kc)) << 2);
    const src = b + ((<usize>(j0 * cs)) << 2);
    if (nr == 8 && cs == 1) {
      for (let p = 0; p < kc; p++) {
        const s = src + ((<usize>(p * rs)) << 2);
        const d = dst + ((<usize>p) << 5);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (nr == 8 && rs == 1) {
      // B transposed: each of the 8 columns is contiguous in k; transpose 4×4 blocks.
      for (let h = 0; h < 2; h++) {
        const c0 = src + ((<usize>(4 * h * cs)) << 2);
        const c1 = c0 + ((<usize>cs) << 2);
        const c2 = c0 + ((<usize>(2 * cs)) << 2);
        const c3 = c0 + ((<usize>(3 * cs)) << 2);
        const dh = dst + ((<usize>h) << 4);
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = (<usize>p) << 2;
          const x0 = v128.load(c0 + o);
          const x1 = v128.load(c1 + o);
          const x2 = v128.load(c2 + o);
          const x3 = v128.load(c3 + o);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          const d = dh + ((<usize>p) << 5);
          v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
          v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
          v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
        }
        for (; p < kc; p++) {
          const o = (<usize>p) << 2;
          const d = dh + ((<usize>p) << 5);
          store<f32>(d, load<f32>(c0 + o));
          store<f32>(d, load<f32>(c1 + o), 4);
          store<f32>(d, load<f32>(c2 + o), 8);
          store<f32>(d, load<f32>(c3 + o), 12);
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + ((<usize>p) << 5);
        for (let c = 0; c < 8; c++) {
          store<f32>(
            d + ((<usize>c) << 2),
            c < nr ? load<f32>(src + ((<usize>(p * rs + c * cs)) << 2)) : <f32>0,
          );
        }
      }
    }
  }
}

/**
 * The 4×8 micro-kernel: C[0..mr, 0..nr] (+)= Apanel · Bpanel over kc steps. ldcB is C's row
 * stride in bytes; tile is 32 floats of scratch for edge tiles.
 */
function micro(
  kc: i32,
  ap: usize,
  bp: usize,
  c: usize,
  ldcB: usize,
  acc: bool,
  mr: i32,
  nr: i32,
  tile: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  const end = ap + ((<usize>kc) << 4);
  do {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  } while (ap < end);
  if (mr == 4 && nr == 8) {
    let r = c;
    if (acc) {
      c00 = f32x4.add(c00, v128.load(r));
      c01 = f32x4.add(c01, v128.load(r, 16));
    }
    v128.store(r, c00);
    v128.store(r, c01, 16);
    r += ldcB;
    if (acc) {
      c10 = f32x4.add(c10, v128.load(r));
      c11 = f32x4.add(c11, v128.load(r, 16));
    }
    v128.store(r, c10);
    v128.store(r, c11, 16);
    r += ldcB;
    if (acc) {
      c20 = f32x4.add(c20, v128.load(r));
      c21 = f32x4.add(c21, v128.load(r, 16));
    }
    v128.store(r, c20);
    v128.store(r, c21, 16);
    r += ldcB;
    if (acc) {
      c30 = f32x4.add(c30, v128.load(r));
      c31 = f32x4.add(c31, v128.load(r, 16));
    }
    v128.store(r, c30);
    v128.store(r, c31, 16);
  } else {
    v128.store(tile, c00);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
    for (let i = 0; i < mr; i++) {
      const row = c + <usize>i * ldcB;
      const t = tile + ((<usize>i) << 5);
      let j = 0;
      if (nr >= 4) {
        const v = v128.load(t);
        v128.store(row, acc ? f32x4.add(v128.load(row), v) : v);
        j = 4;
      }
      for (; j < nr; j++) {
        const o = (<usize>j) << 2;
        const v = load<f32>(t + o);
        store<f32>(row + o, acc ? load<f32>(row + o) + v : v);
      }
    }
  }
}

/**
 * C (m × n, row stride ldc) = op(A) · op(B), or += when accumulate is nonzero. A is m × k and B
 * k × n as addressed through their strides. ws: GEMM_WS_BYTES of scratch, 16-byte aligned.
 */
export function gemm(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
  ws: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (accumulate == 0) {
      for (let i = 0; i < m; i++) memory.fill(c + ((<usize>(i * ldc)) << 2), 0, (<usize>n) << 2);
    }
    return;
  }
  const pa = ws;
  const pb = ws + ((<usize>(MC * KC)) << 2);
  const tile = pb + ((<usize>(KC * NC)) << 2);
  const ldcB = (<usize>ldc) << 2;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(kc, nc, b + ((<usize>(pc * rsB + jc * csB)) << 2), rsB, csB, pb);
      const acc = accumulate != 0 || pc > 0;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(mc, kc, a + ((<usize>(ic * rsA + pc * csA)) << 2), rsA, csA, pa);
        // A 4-row panel (4·kc floats) stays in L1 while the B block streams from L2: on the
        // Xeon measured, 8% faster than the other order (B panel in L1, A streaming).
        for (let ir = 0; ir < mc; ir += 4) {
          const ap = pa + ((<usize>(ir * kc)) << 2);
          const ci = c + ((<usize>((ic + ir) * ldc + jc)) << 2);
          const mr = min(4, mc - ir);
          for (let jr = 0; jr < nc; jr += 8) {
            const bp = pb + ((<usize>(jr * kc)) << 2);
            micro(kc, ap, bp, ci + ((<usize>jr) << 2), ldcB, acc, mr, min(8, nc - jr), tile);
          }
        }
      }
    }
  }
}
