/**
 * Reference convolution kernels: direct loops over NHWC input and HWIO filters.
 * All three walk the same (output pixel, kernel tap, group, input channel, output channel)
 * nest; the forward pass gathers products into y, the two backward passes send the same
 * products back to x and to w. The innermost loop runs over output channels, which are
 * contiguous in both y and w.
 */
import type { ConvInfo } from '../backend.js';
import type { FloatArray, NumArray } from './arrays.js';

type Mode = 'forward' | 'backwardInput' | 'backwardFilter';

function run(mode: Mode, c: ConvInfo, x: NumArray, w: NumArray, y: NumArray): void {
  const icPerG = c.inC / c.groups;
  const ocPerG = c.outC / c.groups;
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
            const wTap = (i * c.kw + j) * icPerG * c.outC;
            for (let g = 0; g < c.groups; g++) {
              const yg = yRow + g * ocPerG;
              for (let ic = 0; ic < icPerG; ic++) {
                const xi = xRow + g * icPerG + ic;
                const wi = wTap + ic * c.outC + g * ocPerG;
                if (mode === 'forward') {
                  const xv = x[xi]!;
                  for (let oc = 0; oc < ocPerG; oc++) y[yg + oc] = y[yg + oc]! + xv * w[wi + oc]!;
                } else if (mode === 'backwardInput') {
                  let s = 0;
                  for (let oc = 0; oc < ocPerG; oc++) s += y[yg + oc]! * w[wi + oc]!;
                  x[xi] = x[xi]! + s;
                } else {
                  const xv = x[xi]!;
                  for (let oc = 0; oc < ocPerG; oc++) w[wi + oc] = w[wi + oc]! + xv * y[yg + oc]!;
                }
              }
            }
          }
        }
      }
    }
  }
}

/** y = conv(x, w). */
export function conv2d(x: NumArray, w: NumArray, c: ConvInfo, out: FloatArray): void {
  out.fill(0);
  run('forward', c, x, w, out);
}

/** dx given dy: each product x·w sends dy·w back to x. */
export function conv2dBackwardInput(dy: NumArray, w: NumArray, c: ConvInfo, out: FloatArray): void {
  out.fill(0);
  run('backwardInput', c, out, w, dy);
}

/** dw given x and dy: each product x·w sends dy·x back to w. */
export function conv2dBackwardFilter(
  x: NumArray,
  dy: NumArray,
  c: ConvInfo,
  out: FloatArray,
): void {
  out.fill(0);
  run('backwardFilter', c, x, out, dy);
}
