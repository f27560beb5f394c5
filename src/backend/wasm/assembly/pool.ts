/**
 * Pooling over NHWC input, each channel on its own, vectorized over channels. Results match
 * the js reference bit for bit: average pooling sums in float64 in window order and divides
 * by the number of real pixels; max pooling keeps the first maximum in window order (padding
 * never wins; a window of padding only gives -Infinity) and its gradient goes there.
 */

@unmanaged
class PoolGeo {
  batch: i32;
  inH: i32;
  inW: i32;
  channels: i32;
  outH: i32;
  outW: i32;
  kh: i32;
  kw: i32;
  strideH: i32;
  strideW: i32;
  padTop: i32;
  padLeft: i32;
}

/** avgPool (backward = 0: y from x) or its gradient (backward = 1: dx from dy, dx zeroed here). */
export function avgPool(info: usize, x: usize, y: usize, backward: i32): void {
  const p = changetype<PoolGeo>(info);
  const C = p.channels;
  const inH = p.inH;
  const inW = p.inW;
  const kh = p.kh;
  const kw = p.kw;
  const cB = (<usize>C) << 2;
  if (backward) memory.fill(x, 0, <usize>(p.batch * inH * inW) * cB);
  let yRow = y;
  for (let b = 0; b < p.batch; b++) {
    const xImg = x + <usize>(b * inH * inW) * cB;
    for (let oh = 0; oh < p.outH; oh++) {
      const h = oh * p.strideH - p.padTop;
      const h0 = max(0, h);
      const h1 = min(inH, h + kh);
      for (let ow = 0; ow < p.outW; ow++) {
        const w = ow * p.strideW - p.padLeft;
        const w0 = max(0, w);
        const w1 = min(inW, w + kw);
        const count = <f64>(max(0, h1 - h0) * max(0, w1 - w0));
        let c = 0;
        for (; c + 2 <= C; c += 2) {
          const co = (<usize>c) << 2;
          if (backward) {
            const g = f64x2.div(
              f64x2.promote_low_f32x4(v128.load64_zero(yRow + co)),
              f64x2.splat(count),
            );
            for (let ih = h0; ih < h1; ih++) {
              for (let iw = w0; iw < w1; iw++) {
                const a = xImg + <usize>(ih * inW + iw) * cB + co;
                const s = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(a)), g);
                v128.store64_lane(a, f32x4.demote_f64x2_zero(s), 0);
              }
            }
          } else {
            let s = f64x2.splat(0);
            for (let ih = h0; ih < h1; ih++) {
              for (let iw = w0; iw < w1; iw++) {
                const a = xImg + <usize>(ih * inW + iw) * cB + co;
                s = f64x2.add(s, f64x2.promote_low_f32x4(v128.load64_zero(a)));
              }
            }
            const r = count > 0 ? f64x2.div(s, f64x2.splat(count)) : f64x2.splat(0);
            v128.store64_lane(yRow + co, f32x4.demote_f64x2_zero(r), 0);
          }
        }
        for (; c < C; c++) {
          const co = (<usize>c) << 2;
          if (backward) {
            const g = <f64>load<f32>(yRow + co) / count;
            for (let ih = h0; ih < h1; ih++) {
              for (let iw = w0; iw < w1; iw++) {
                const a = xImg + <usize>(ih * inW + iw) * cB + co;
                store<f32>(a, <f32>(<f64>load<f32>(a) + g));
              }
            }
          } else {
            let s: f64 = 0;
            for (let ih = h0; ih < h1; ih++) {
              for (let iw = w0; iw < w1; iw++) {
                s += <f64>load<f32>(xImg + <usize>(ih * inW + iw) * cB + co);
              }
            }
            store<f32>(yRow + co, count > 0 ? <f32>(s / count) : 0);
          }
        }
        yRow += cB;
      }
    }
  }
}

/**
 * maxPool (dy = 0: y from x) or its gradient (dy ≠ 0: out = dx, zeroed here, from dy and x).
 * idx: scratch for 4 lane indices.
 */
export function maxPool(info: usize, x: usize, dy: usize, out: usize): void {
  const p = changetype<PoolGeo>(info);
  const C = p.channels;
  const inH = p.inH;
  const inW = p.inW;
  const kh = p.kh;
  const kw = p.kw;
  const cB = (<usize>C) << 2;
  const backward = dy != 0;
  if (backward) memory.fill(out, 0, <usize>(p.batch * inH * inW) * cB);
  const lanes = memory.data(16, 16);
  let yo: usize = 0;
  for (let b = 0; b < p.batch; b++) {
    const imgOff = <usize>(b * inH * inW) * cB;
    for (let oh = 0; oh < p.outH; oh++) {
      const h = oh * p.strideH - p.padTop;
      const h0 = max(0, h);
      const h1 = min(inH, h + kh);
      for (let ow = 0; ow < p.outW; ow++) {
        const w = ow * p.strideW - p.padLeft;
        const w0 = max(0, w);
        const w1 = min(inW, w + kw);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const co = (<usize>c) << 2;
          let best = f32x4.splat(-Infinity);
          let arg = i32x4.splat(-1);
          for (let ih = h0; ih < h1; ih++) {
            for (let iw = w0; iw < w1; iw++) {
              const off = imgOff + <usize>(ih * inW + iw) * cB + co;
              const v = v128.load(x + off);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              arg = v128.bitselect(i32x4.splat(<i32>off), arg, gt);
            }
          }
          if (backward) {
            v128.store(lanes, arg);
            for (let l = 0; l < 4; l++) {
              const a = load<i32>(lanes + ((<usize>l) << 2));
              if (a >= 0) {
                const d = out + <usize>a + ((<usize>l) << 2);
                store<f32>(d, load<f32>(d) + load<f32>(dy + yo + co + ((<usize>l) << 2)));
              }
            }
          } else {
            v128.store(out + yo + co, best);
          }
        }
        for (; c < C; c++) {
          const co = (<usize>c) << 2;
          let best: f32 = -Infinity;
          let arg: i32 = -1;
          for (let ih = h0; ih < h1; ih++) {
            for (let iw = w0; iw < w1; iw++) {
              const off = imgOff + <usize>(ih * inW + iw) * cB + co;
              const v = load<f32>(x + off);
              if (v > best) {
                best = v;
                arg = <i32>off;
              }
            }
          }
          if (backward) {
            if (arg >= 0) {
              const d = out + <usize>arg;
              store<f32>(d, load<f32>(d) + load<f32>(dy + yo + co));
            }
          } else {
            store<f32>(out + yo + co, best);
          }
        }
        yo += cB;
      }
    }
  }
}
