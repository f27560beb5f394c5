/**
 * Reference convolution kernels: direct loops over NHWC input and HWIO filters.
 * Each visits the same (output position, kernel tap, input channel) triples; the forward
 * pass gathers, the two backward passes scatter the same products the other way.
 */
import type { ConvInfo } from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';

type Visit = (xi: number, wi: number, yi: number) => void;

/** Calls visit(xIndex, wIndex, yIndex) for every product term of the convolution. */
function forEachTerm(c: ConvInfo, visit: Visit): void {
  const icPerGroup = c.inC / c.groups;
  const ocPerGroup = c.outC / c.groups;
  for (let b = 0; b < c.batch; b++) {
    for (let oh = 0; oh < c.outH; oh++) {
      for (let ow = 0; ow < c.outW; ow++) {
        const yRow = ((b * c.outH + oh) * c.outW + ow) * c.outC;
        for (let i = 0; i < c.kh; i++) {
          const ih = oh * c.strideH - c.padTop + i * c.dilationH;
          if (ih < 0 || ih >= c.inH) continue;
          for (let j = 0; j < c.kw; j++) {
            const iw = ow * c.strideW - c.padLeft + j * c.dilationW;
            if (iw < 0 || iw >= c.inW) continue;
            const xRow = ((b * c.inH + ih) * c.inW + iw) * c.inC;
            const wTap = (i * c.kw + j) * icPerGroup * c.outC;
            for (let oc = 0; oc < c.outC; oc++) {
              const g = Math.floor(oc / ocPerGroup);
              for (let ic = 0; ic < icPerGroup; ic++) {
                visit(xRow + g * icPerGroup + ic, wTap + ic * c.outC + oc, yRow + oc);
              }
            }
          }
        }
      }
    }
  }
}

/** y = conv(x, w): out is zeroed here. */
export function conv2d(x: NumArray, w: NumArray, c: ConvInfo, out: FloatArray): void {
  out.fill(0);
  forEachTerm(c, (xi, wi, yi) => {
    out[yi] = out[yi]! + x[xi]! * w[wi]!;
  });
}

/** dx = dL/dx given dy: each product x·w sends dy·w back to x. */
export function conv2dBackwardInput(dy: NumArray, w: NumArray, c: ConvInfo, out: FloatArray): void {
  out.fill(0);
  forEachTerm(c, (xi, wi, yi) => {
    out[xi] = out[xi]! + dy[yi]! * w[wi]!;
  });
}

/** dw = dL/dw given x and dy: each product x·w sends dy·x back to w. */
export function conv2dBackwardFilter(
  x: NumArray,
  dy: NumArray,
  c: ConvInfo,
  out: FloatArray,
): void {
  out.fill(0);
  forEachTerm(c, (xi, wi, yi) => {
    out[wi] = out[wi]! + dy[yi]! * x[xi]!;
  });
}
