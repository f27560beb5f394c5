// Max and average pooling over NHWC, forward and backward: plain loops with the channels
// innermost (they vectorize), one piece of the batch (or of the output rows) per thread.
// They follow the reference kernels exactly: the first maximum of a window in row-major order
// takes the gradient, padding never wins a max and is not counted in an average, and averages
// accumulate in float64, so the results are bit-identical to the js backend's.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common.h"

namespace rc {

/** PoolInfo's fields, in the order native_backend.ts writes them. */
struct PoolGeo {
  int64_t batch, inH, inW, C, outH, outW, kh, kw, strideH, strideW, padTop, padLeft;
};

static PoolGeo readPool(const Napi::Value &v) {
  const int32_t *g = ints(v, 12, "pool geometry");
  PoolGeo p{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]};
  if (p.strideH < 1 || p.strideW < 1 || p.kh < 1 || p.kw < 1) throw Napi::RangeError::New(v.Env(), "invalid pool geometry");
  return p;
}

/** The real rows [h0, h1) and columns [w0, w1) of output pixel (oh, ow)'s window. */
static inline void window(const PoolGeo &p, int64_t oh, int64_t ow, int64_t &h0, int64_t &h1, int64_t &w0, int64_t &w1) {
  h0 = oh * p.strideH - p.padTop;
  w0 = ow * p.strideW - p.padLeft;
  h1 = std::min(h0 + p.kh, p.inH);
  w1 = std::min(w0 + p.kw, p.inW);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
}

/** Output rows [r0, r1) of (batch · outH) rows; mode 0 = max, 1 = average. */
RC_CLONES static void poolRows(const PoolGeo &p, const float *__restrict x, float *__restrict y, int64_t r0, int64_t r1,
                               int mode) {
  const int64_t C = p.C;
  std::vector<double> accStore(C);
  double *__restrict acc = accStore.data();
  for (int64_t r = r0; r < r1; r++) {
    const int64_t b = r / p.outH, oh = r % p.outH;
    for (int64_t ow = 0; ow < p.outW; ow++) {
      int64_t h0, h1, w0, w1;
      window(p, oh, ow, h0, h1, w0, w1);
      float *__restrict out = y + ((b * p.outH + oh) * p.outW + ow) * C;
      if (mode == 0) {
        for (int64_t c = 0; c < C; c++) out[c] = -std::numeric_limits<float>::infinity();
        for (int64_t ih = h0; ih < h1; ih++) {
          for (int64_t iw = w0; iw < w1; iw++) {
            const float *__restrict in = x + ((b * p.inH + ih) * p.inW + iw) * C;
            for (int64_t c = 0; c < C; c++) out[c] = in[c] > out[c] ? in[c] : out[c];
          }
        }
      } else {
        for (int64_t c = 0; c < C; c++) acc[c] = 0.0;
        for (int64_t ih = h0; ih < h1; ih++) {
          for (int64_t iw = w0; iw < w1; iw++) {
            const float *__restrict in = x + ((b * p.inH + ih) * p.inW + iw) * C;
            for (int64_t c = 0; c < C; c++) acc[c] += in[c];
          }
        }
        const int64_t n = std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0);
        for (int64_t c = 0; c < C; c++) out[c] = n > 0 ? float(acc[c] / double(n)) : 0.0f;
      }
    }
  }
}

/**
 * Gradients for output rows [r0, r1) of (batch · outH) rows, added into dx (zeros on entry). A
 * range of rows is one thread's: where windows overlap (stride < kernel) the caller gives each
 * thread whole images, so that no two threads add into the same pixel.
 */
RC_CLONES static void poolBackwardRows(const PoolGeo &p, const float *__restrict x, const float *__restrict dy,
                                       float *__restrict dx, int64_t r0, int64_t r1, int mode) {
  const int64_t C = p.C;
  std::vector<float> bestStore(C);
  std::vector<int32_t> argStore(C);
  std::vector<double> shareStore(C);
  float *__restrict best = bestStore.data();
  int32_t *__restrict arg = argStore.data();  // the window position (row-major) of the first maximum
  double *__restrict share = shareStore.data();
  for (int64_t r = r0; r < r1; r++) {
    const int64_t b = r / p.outH, oh = r % p.outH;
    for (int64_t ow = 0; ow < p.outW; ow++) {
      int64_t h0, h1, w0, w1;
      window(p, oh, ow, h0, h1, w0, w1);
      const float *__restrict g = dy + ((b * p.outH + oh) * p.outW + ow) * C;
      if (mode == 0) {
        for (int64_t c = 0; c < C; c++) {
          best[c] = -std::numeric_limits<float>::infinity();
          arg[c] = -1;
        }
        int32_t t = 0;
        for (int64_t ih = h0; ih < h1; ih++) {
          for (int64_t iw = w0; iw < w1; iw++, t++) {
            const float *__restrict in = x + ((b * p.inH + ih) * p.inW + iw) * C;
            for (int64_t c = 0; c < C; c++) {
              const bool more = in[c] > best[c];
              best[c] = more ? in[c] : best[c];
              arg[c] = more ? t : arg[c];
            }
          }
        }
        t = 0;
        for (int64_t ih = h0; ih < h1; ih++) {
          for (int64_t iw = w0; iw < w1; iw++, t++) {
            float *__restrict d = dx + ((b * p.inH + ih) * p.inW + iw) * C;
            for (int64_t c = 0; c < C; c++) d[c] += arg[c] == t ? g[c] : 0.0f;
          }
        }
      } else {
        const double n = double(std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0));
        for (int64_t c = 0; c < C; c++) share[c] = double(g[c]) / n;
        for (int64_t ih = h0; ih < h1; ih++) {
          for (int64_t iw = w0; iw < w1; iw++) {
            float *__restrict d = dx + ((b * p.inH + ih) * p.inW + iw) * C;
            for (int64_t c = 0; c < C; c++) d[c] = float(double(d[c]) + share[c]);
          }
        }
      }
    }
  }
}

static int64_t grainRows(const PoolGeo &p) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.outW * p.C)); }

/** pool(mode, x, y, geo): mode 0 max, 1 average. */
static Napi::Value Pool(const Napi::CallbackInfo &info) {
  const int mode = int(integer(info[0], "mode"));
  const PoolGeo p = readPool(info[3]);
  const float *x = floats(info[1], size_t(p.batch * p.inH * p.inW * p.C), "x");
  float *y = floats(info[2], size_t(p.batch * p.outH * p.outW * p.C), "y");
  parallelFor(p.batch * p.outH, grainRows(p), [&](int64_t r0, int64_t r1) { poolRows(p, x, y, r0, r1, mode); });
  return info.Env().Undefined();
}

/** poolBackward(mode, x, dy, dx, geo): dx must be zeros; x is only read for max pooling. */
static Napi::Value PoolBackward(const Napi::CallbackInfo &info) {
  const int mode = int(integer(info[0], "mode"));
  const PoolGeo p = readPool(info[4]);
  const size_t inSize = size_t(p.batch * p.inH * p.inW * p.C);
  const float *x = mode == 0 ? floats(info[1], inSize, "x") : nullptr;
  const float *dy = floats(info[2], size_t(p.batch * p.outH * p.outW * p.C), "dy");
  float *dx = floats(info[3], inSize, "dx");
  if (p.strideH >= p.kh && p.strideW >= p.kw) {
    // Windows do not overlap: every input pixel has one window at most; rows are independent.
    parallelFor(p.batch * p.outH, grainRows(p), [&](int64_t r0, int64_t r1) { poolBackwardRows(p, x, dy, dx, r0, r1, mode); });
  } else {
    const int64_t perImage = std::max<int64_t>(1, p.inH * p.inW * p.C);
    parallelFor(p.batch, std::max<int64_t>(1, 16384 / perImage), [&](int64_t b0, int64_t b1) {
      poolBackwardRows(p, x, dy, dx, b0 * p.outH, b1 * p.outH, mode);
    });
  }
  return info.Env().Undefined();
}

void initPool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool", Napi::Function::New(env, Pool));
  exports.Set("poolBackward", Napi::Function::New(env, PoolBackward));
}

}  // namespace rc
