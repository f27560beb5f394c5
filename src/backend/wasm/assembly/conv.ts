/**
 * 2-D convolution over NHWC input and HWIO filters [kh, kw, inC / groups, outC], forward and
 * both gradients, with stride, padding, dilation and groups.
 *
 * General case: im2col + GEMM, in chunks of output pixels so the column buffer stays small.
 * Per group g, the column matrix has one row per output pixel and K = kh·kw·inC/groups columns
 * ordered (tap, input channel) — exactly the row order of the group's slice of the HWIO
 * filter, so
 *   forward:         Y[:, g] = col · W[:, g]                 (W rows (tap, ic), row stride outC)
 *   backward input:  col = dY[:, g] · W[:, g]ᵀ, then col2im adds it back into dX
 *   backward filter: dW[:, g] += colᵀ · dY[:, g], accumulated over the chunks
 * A 1×1 kernel with stride 1 and no padding skips im2col: the input itself is the matrix.
 * Depthwise convolution (one input channel per group) has its own direct loops, since its
 * GEMMs would be tiny (K = kh·kw, N = depth multiplier).
 *
 * The geometry arrives as 18 i32 values at `info` (see ConvGeo; src/backend/shared/geometry.ts); all pointers are byte
 * addresses into this module's memory, chosen by the JS side.
 */
import { GEMM_WS_BYTES, gemm } from './gemm';
import { vadd, vaxpy, vcopyOver, vdot, vmuladd, vzero, vzeroOver } from './vec';

@unmanaged
class ConvGeo {
  batch: i32;
  inH: i32;
  inW: i32;
  inC: i32;
  outH: i32;
  outW: i32;
  outC: i32;
  kh: i32;
  kw: i32;
  strideH: i32;
  strideW: i32;
  dilationH: i32;
  dilationW: i32;
  padTop: i32;
  padLeft: i32;
  padBottom: i32;
  padRight: i32;
  groups: i32;
}

function isPointwise(c: ConvGeo): bool {
  return (
    c.kh == 1 &&
    c.kw == 1 &&
    c.strideH == 1 &&
    c.strideW == 1 &&
    c.padTop == 0 &&
    c.padLeft == 0 &&
    c.outH == c.inH &&
    c.outW == c.inW
  );
}

/**
 * Writes rows [r0, r0 + rows) of group g's column matrix (K = kh·kw·icPerG floats a row) to
 * col; taps that fall into the padding are zeros. With add = true it runs the other way
 * (col2im): adds each column entry back onto the input pixel it came from.
 */
function im2col(c: ConvGeo, x: usize, r0: i32, rows: i32, g: i32, col: usize, add: bool): void {
  // The geometry in locals: fields of c are memory loads the compiler cannot hoist.
  const inH = c.inH;
  const inW = c.inW;
  const inC = c.inC;
  const outH = c.outH;
  const outW = c.outW;
  const kh = c.kh;
  const kw = c.kw;
  const sH = c.strideH;
  const sW = c.strideW;
  const dH = c.dilationH;
  const dW = c.dilationW;
  const padTop = c.padTop;
  const padLeft = c.padLeft;
  const icPerG = inC / c.groups;
  const run = kw * icPerG;
  const runB = (<usize>run) << 2;
  const icB = (<usize>icPerG) << 2;
  const inCB = (<usize>inC) << 2;
  const rowB = (<usize>(inW * inC)) << 2;
  const imgB = (<usize>(inH * inW * inC)) << 2;
  const hw = outH * outW;
  const b = r0 / hw;
  const rem = r0 - b * hw;
  let oh = rem / outW;
  let ow = rem - oh * outW;
  // With one group and no horizontal dilation, a kernel row's taps are one contiguous run.
  const contiguous = c.groups == 1 && dW == 1;
  let dst = col;
  let xImg = x + <usize>b * imgB + ((<usize>(g * icPerG)) << 2);
  for (let r = 0; r < rows; r++) {
    const ih0 = oh * sH - padTop;
    const iw0 = ow * sW - padLeft;
    const inside = contiguous && iw0 >= 0 && iw0 + kw <= inW;
    for (let i = 0; i < kh; i++) {
      const ih = ih0 + i * dH;
      if (ih < 0 || ih >= inH) {
        if (!add) vzeroOver(dst, run);
      } else if (inside) {
        // All kw taps inside and adjacent in memory: one run of kw·inC floats.
        const src = xImg + <usize>ih * rowB + <usize>iw0 * inCB;
        if (add) vadd(src, dst, run);
        else vcopyOver(dst, src, run);
      } else {
        const xRow = xImg + <usize>ih * rowB;
        let d = dst;
        for (let j = 0; j < kw; j++) {
          const iw = iw0 + j * dW;
          if (iw < 0 || iw >= inW) {
            if (!add) vzeroOver(d, icPerG);
          } else {
            const src = xRow + <usize>iw * inCB;
            if (add) vadd(src, d, icPerG);
            else if (icPerG == 1) store<f32>(d, load<f32>(src));
            else vcopyOver(d, src, icPerG);
          }
          d += icB;
        }
      }
      dst += runB;
    }
    if (++ow == outW) {
      ow = 0;
      if (++oh == outH) {
        oh = 0;
        xImg += imgB;
      }
    }
  }
}

function isDepthwise(c: ConvGeo): bool {
  return c.groups > 1 && c.groups == c.inC;
}

const FORWARD = 0;
const BACKWARD_INPUT = 1;
const BACKWARD_FILTER = 2;

/**
 * Depthwise convolution (inC / groups = 1; output channel ch·mult + m reads input channel ch),
 * all three passes in one loop nest over (output pixel, tap), vectorized over channels, for
 * output pixels [r0, r1) of the whole batch. y, dx, dw must be zeroed by the caller according
 * to mode.
 */
function depthwise(mode: i32, c: ConvGeo, x: usize, w: usize, y: usize, r0: i32, r1: i32): void {
  const C = c.inC;
  const mult = c.outC / C;
  const hw = c.outH * c.outW;
  for (let r = r0; r < r1; r++) {
    const b = r / hw;
    const oh = (r - b * hw) / c.outW;
    const ow = r - b * hw - oh * c.outW;
    const yRow = y + ((<usize>(r * c.outC)) << 2);
    for (let i = 0; i < c.kh; i++) {
      const ih = oh * c.strideH - c.padTop + i * c.dilationH;
      if (ih < 0 || ih >= c.inH) continue;
      for (let j = 0; j < c.kw; j++) {
        const iw = ow * c.strideW - c.padLeft + j * c.dilationW;
        if (iw < 0 || iw >= c.inW) continue;
        const xRow = x + ((<usize>(((b * c.inH + ih) * c.inW + iw) * C)) << 2);
        const wTap = w + ((<usize>((i * c.kw + j) * c.outC)) << 2);
        if (mult == 1) {
          if (mode == FORWARD) vmuladd(yRow, xRow, wTap, C);
          else if (mode == BACKWARD_INPUT) vmuladd(xRow, yRow, wTap, C);
          else vmuladd(wTap, xRow, yRow, C);
        } else {
          for (let ch = 0; ch < C; ch++) {
            const xp = xRow + ((<usize>ch) << 2);
            const o = (<usize>(ch * mult)) << 2;
            if (mode == FORWARD) vaxpy(yRow + o, load<f32>(xp), wTap + o, mult);
            else if (mode == BACKWARD_INPUT)
              store<f32>(xp, load<f32>(xp) + vdot(yRow + o, wTap + o, mult));
            else vaxpy(wTap + o, load<f32>(xp), yRow + o, mult);
          }
        }
      }
    }
  }
}

/*
 * The three passes below work on output pixels [r0, r1) of the whole batch (M = batch·outH·outW
 * rows), so that threads can split one call: forward by any rows; backward input by whole images
 * (col2im adds into neighbouring pixels, so two threads must never share an image: it zeroes dx
 * for the images [r0, r1) covers); backward filter by any rows, each thread into its own dw,
 * which the caller sums.
 */

/** y = conv(x, w) for output pixels [r0, r1). ws: GEMM_WS_BYTES + chunk·K·4 bytes of scratch. */
export function conv2dForward(
  info: usize,
  x: usize,
  w: usize,
  y: usize,
  ws: usize,
  chunk: i32,
  r0: i32,
  r1: i32,
): void {
  const c = changetype<ConvGeo>(info);
  const icPerG = c.inC / c.groups;
  const ocPerG = c.outC / c.groups;
  const K = c.kh * c.kw * icPerG;
  if (isDepthwise(c)) {
    vzero(y + ((<usize>(r0 * c.outC)) << 2), (r1 - r0) * c.outC);
    depthwise(FORWARD, c, x, w, y, r0, r1);
    return;
  }
  if (isPointwise(c)) {
    const xr = x + ((<usize>(r0 * c.inC)) << 2);
    const yr = y + ((<usize>(r0 * c.outC)) << 2);
    for (let g = 0; g < c.groups; g++) {
      const gi = (<usize>(g * icPerG)) << 2;
      const go = (<usize>(g * ocPerG)) << 2;
      gemm(r1 - r0, ocPerG, icPerG, xr + gi, c.inC, 1, w + go, c.outC, 1, yr + go, c.outC, 0, ws);
    }
    return;
  }
  const col = ws + GEMM_WS_BYTES;
  for (let r = r0; r < r1; r += chunk) {
    const rows = min(chunk, r1 - r);
    for (let g = 0; g < c.groups; g++) {
      const go = (<usize>(g * ocPerG)) << 2;
      im2col(c, x, r, rows, g, col, false);
      const yc = y + ((<usize>(r * c.outC)) << 2) + go;
      gemm(rows, ocPerG, K, col, K, 1, w + go, c.outC, 1, yc, c.outC, 0, ws);
    }
  }
}

/** dx = ∂L/∂x given dy, for the images that output pixels [r0, r1) cover. ws as for forward. */
export function conv2dBackwardInput(
  info: usize,
  dy: usize,
  w: usize,
  dx: usize,
  ws: usize,
  chunk: i32,
  r0: i32,
  r1: i32,
): void {
  const c = changetype<ConvGeo>(info);
  const icPerG = c.inC / c.groups;
  const ocPerG = c.outC / c.groups;
  const K = c.kh * c.kw * icPerG;
  if (isPointwise(c)) {
    // Pixels map one to one: any rows, no zeroing.
    const dyr = dy + ((<usize>(r0 * c.outC)) << 2);
    const dxr = dx + ((<usize>(r0 * c.inC)) << 2);
    for (let g = 0; g < c.groups; g++) {
      const gi = (<usize>(g * icPerG)) << 2;
      const go = (<usize>(g * ocPerG)) << 2;
      gemm(r1 - r0, icPerG, ocPerG, dyr + go, c.outC, 1, w + go, 1, c.outC, dxr + gi, c.inC, 0, ws);
    }
    return;
  }
  const hw = c.outH * c.outW;
  const img = c.inH * c.inW * c.inC;
  if (hw > 0) {
    const b0 = r0 / hw;
    const b1 = (r1 + hw - 1) / hw;
    vzero(dx + ((<usize>(b0 * img)) << 2), (b1 - b0) * img);
  }
  if (isDepthwise(c)) {
    depthwise(BACKWARD_INPUT, c, dx, w, dy, r0, r1);
    return;
  }
  const col = ws + GEMM_WS_BYTES;
  for (let r = r0; r < r1; r += chunk) {
    const rows = min(chunk, r1 - r);
    for (let g = 0; g < c.groups; g++) {
      const go = (<usize>(g * ocPerG)) << 2;
      const dyc = dy + ((<usize>(r * c.outC)) << 2) + go;
      gemm(rows, K, ocPerG, dyc, c.outC, 1, w + go, 1, c.outC, col, K, 0, ws);
      im2col(c, dx, r, rows, g, col, true);
    }
  }
}

/** dw = ∂L/∂w given x and dy, summed over output pixels [r0, r1). ws as for forward. */
export function conv2dBackwardFilter(
  info: usize,
  x: usize,
  dy: usize,
  dw: usize,
  ws: usize,
  chunk: i32,
  r0: i32,
  r1: i32,
): void {
  const c = changetype<ConvGeo>(info);
  const icPerG = c.inC / c.groups;
  const ocPerG = c.outC / c.groups;
  const K = c.kh * c.kw * icPerG;
  if (isDepthwise(c)) {
    vzero(dw, K * c.outC);
    depthwise(BACKWARD_FILTER, c, x, dw, dy, r0, r1);
    return;
  }
  if (isPointwise(c)) {
    const xr = x + ((<usize>(r0 * c.inC)) << 2);
    const dyr = dy + ((<usize>(r0 * c.outC)) << 2);
    for (let g = 0; g < c.groups; g++) {
      const gi = (<usize>(g * icPerG)) << 2;
      const go = (<usize>(g * ocPerG)) << 2;
      gemm(icPerG, ocPerG, r1 - r0, xr + gi, 1, c.inC, dyr + go, c.outC, 1, dw + go, c.outC, 0, ws);
    }
    return;
  }
  if (r1 <= r0) vzero(dw, K * c.outC);
  const col = ws + GEMM_WS_BYTES;
  for (let r = r0; r < r1; r += chunk) {
    const rows = min(chunk, r1 - r);
    for (let g = 0; g < c.groups; g++) {
      const go = (<usize>(g * ocPerG)) << 2;
      im2col(c, x, r, rows, g, col, false);
      const dyc = dy + ((<usize>(r * c.outC)) << 2) + go;
      gemm(K, ocPerG, rows, col, 1, K, dyc, c.outC, 1, dw + go, c.outC, r > r0 ? 1 : 0, ws);
    }
  }
}
