/** Max and average pooling over NHWC input. */
import { record } from '../autograd.js';
import type { PoolInfo } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { fmtShape } from '../util/errors.js';
import { pair } from '../util/shape.js';
import { checkPoolWindows, type Padding, spatialGeometry } from './conv_geometry.js';
import { be, expectFloat, expectTensor, wrap } from './util.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2DOptions {
  /**
   * The window: one number for both axes, or [rows, columns].
   * @default 2
   */
  poolSize?: number | [number, number];
  /** Step of the window. Defaults to poolSize (windows side by side), as in Keras. */
  strides?: number | [number, number];
  /**
   * `'valid'` or `'same'` (see {@link Padding}); average pooling with `'same'` divides by the
   * real pixels of each window only.
   * @default 'valid'
   */
  padding?: Padding;
}

function poolInfo(op: string, x: Tensor, options: Pool2DOptions): PoolInfo {
  expectFloat(expectTensor(x, op, 'x (NHWC input)', { rank: 4 }), op, 'x');
  const k = pair(options.poolSize ?? 2, 'poolSize', op);
  const s = pair(options.strides ?? k, 'strides', op);
  const [batch, inH, inW, channels] = x.shape as [number, number, number, number];
  const g = spatialGeometry(
    op,
    inH,
    inW,
    k,
    s,
    [1, 1],
    options.padding ?? 'valid',
    `input ${fmtShape(x.shape)}`,
  );
  checkPoolWindows(op, 0, inH, k, s[0], g.h, fmtShape(x.shape));
  checkPoolWindows(op, 1, inW, k, s[1], g.w, fmtShape(x.shape));
  return {
    batch,
    inH,
    inW,
    channels,
    outH: g.h.out,
    outW: g.w.out,
    kh: k[0],
    kw: k[1],
    strideH: s[0],
    strideW: s[1],
    padTop: g.h.padBefore,
    padBottom: g.h.padAfter,
    padLeft: g.w.padBefore,
    padRight: g.w.padAfter,
  };
}

/** Largest value of each window; padding never wins (it counts as −∞). */
export function maxPool2d(x: Tensor, options: Pool2DOptions = {}): Tensor {
  const info = poolInfo('maxPool2d', x, options);
  const out = wrap(be().maxPool(x.storage, info), [
    info.batch,
    info.outH,
    info.outW,
    info.channels,
  ]);
  return record('maxPool2d', out, [x], (dy) => [
    wrap(be().maxPoolBackward(dy.storage, x.storage, info), x.shape),
  ]);
}

/** Mean of each window over its real pixels ('same' padding is not counted). */
export function avgPool2d(x: Tensor, options: Pool2DOptions = {}): Tensor {
  const info = poolInfo('avgPool2d', x, options);
  const out = wrap(be().avgPool(x.storage, info), [
    info.batch,
    info.outH,
    info.outW,
    info.channels,
  ]);
  return record('avgPool2d', out, [x], (dy) => [
    wrap(be().avgPoolBackward(dy.storage, info), x.shape),
  ]);
}
