/** Reference pooling kernels over NHWC input; each channel is pooled on its own. */
import type { PoolInfo } from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';

/** Calls visit(outIndex, firstInputIndexOfWindow...) through the real pixels of each window. */
function forEachWindow(p: PoolInfo, visit: (yi: number, xis: number[]) => void): void {
  const xis: number[] = [];
  for (let b = 0; b < p.batch; b++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        for (let ch = 0; ch < p.channels; ch++) {
          xis.length = 0;
          for (let i = 0; i < p.kh; i++) {
            const ih = oh * p.strideH - p.padTop + i;
            if (ih < 0 || ih >= p.inH) continue;
            for (let j = 0; j < p.kw; j++) {
              const iw = ow * p.strideW - p.padLeft + j;
              if (iw < 0 || iw >= p.inW) continue;
              xis.push(((b * p.inH + ih) * p.inW + iw) * p.channels + ch);
            }
          }
          visit(((b * p.outH + oh) * p.outW + ow) * p.channels + ch, xis);
        }
      }
    }
  }
}

/** Padding counts as -Infinity, so it never wins; a window of padding only gives -Infinity. */
export function maxPool(x: NumArray, p: PoolInfo, out: FloatArray): void {
  forEachWindow(p, (yi, xis) => {
    let m = -Infinity;
    for (const xi of xis) if (x[xi]! > m) m = x[xi]!;
    out[yi] = m;
  });
}

/** The gradient goes to the first maximum of each window (as in PyTorch and TensorFlow). */
export function maxPoolBackward(dy: NumArray, x: NumArray, p: PoolInfo, out: FloatArray): void {
  out.fill(0);
  forEachWindow(p, (yi, xis) => {
    let m = -Infinity;
    let arg = -1;
    for (const xi of xis) {
      if (x[xi]! > m) {
        m = x[xi]!;
        arg = xi;
      }
    }
    if (arg >= 0) out[arg] = out[arg]! + dy[yi]!;
  });
}

/** Averages over the real pixels of each window (padding is not counted). */
export function avgPool(x: NumArray, p: PoolInfo, out: FloatArray): void {
  forEachWindow(p, (yi, xis) => {
    let s = 0;
    for (const xi of xis) s += x[xi]!;
    out[yi] = xis.length > 0 ? s / xis.length : 0;
  });
}

export function avgPoolBackward(dy: NumArray, p: PoolInfo, out: FloatArray): void {
  out.fill(0);
  forEachWindow(p, (yi, xis) => {
    const g = dy[yi]! / xis.length;
    for (const xi of xis) out[xi] = out[xi]! + g;
  });
}
