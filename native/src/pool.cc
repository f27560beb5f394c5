// Max and average pooling over NHWC, forward and backward: plain loops with the channels
// innermost (they vectorize), one piece of the batch (or of the output rows) per thread.
// They follow the reference kernels exactly: the first maximum of a window in row-major order
// takes the gradient, padding never wins a max and is not counted in an average, and averages
// accumulate in float64, so the results are bit-identical to the js backend's.
//
// Speed: LeNet's pools have 6 or 16 channels, too few for a loop over channels to vectorize
// well when the count is only known at run time, so the loops are templates on the channel
// count, instantiated for the small counts (0 = any count). Where windows do not overlap
// (stride ≥ window, the common case) the gradient is written once per input pixel instead of
// added into zeros, so its array needs no clearing.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common.h"

namespace rc {

/** PoolInfo's fields in the order src/backend/shared/geometry.ts packs them (a test checks). */
struct PoolGeo {
  int64_t batch, inH, inW, channels, outH, outW, kh, kw, strideH, strideW, padTop, padLeft;
};

static PoolGeo readPool(const Napi::Value &v) {
  const int32_t *g = ints(v, 12, "pool geometry");
  PoolGeo p{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]};
  if (p.strideH < 1 || p.strideW < 1 || p.kh < 1 || p.kw < 1 || p.batch < 0 || p.inH < 0 || p.inW < 0 || p.channels < 0 ||
      p.outH < 0 || p.outW < 0)
    throw Napi::RangeError::New(v.Env(), "invalid pool geometry");
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

/** Whether windows never overlap, so each input pixel belongs to one window at most. */
static inline bool disjoint(const PoolGeo &p) { return p.strideH >= p.kh && p.strideW >= p.kw; }

/** The output index whose window holds input index i along one axis, or -1 (padding between windows). */
static inline int64_t owner(int64_t i, int64_t pad, int64_t stride, int64_t k, int64_t outN) {
  const int64_t t = i + pad, o = t / stride;
  return o < outN && t - o * stride < k ? o : -1;
}

/** GCC/Clang vector types of L lanes (lowered to whatever registers the target has). */
template <int L>
struct Lanes {
  typedef float F __attribute__((vector_size(L * 4)));
  typedef int32_t I __attribute__((vector_size(L * 4)));
};

/** Vector lanes for CC channels: the smallest of 4, 8 or 16 that holds them. */
template <int CC>
constexpr int lanesFor() {
  return CC <= 4 ? 4 : CC <= 8 ? 8 : 16;
}

/**
 * CC floats (or ints) into the first lanes of a vector. Where a whole vector's worth can be
 * read before `end`, one load (the other lanes hold whatever follows, unused); else a copy of
 * CC values (slower: it goes through the stack).
 */
template <class V, class T, int CC>
static inline V loadLanes(const T *p, const T *end) {
  V v = {};
  if (p + sizeof(V) / sizeof(T) <= end) {
    __builtin_memcpy(&v, p, sizeof(V));
  } else {
    __builtin_memcpy(&v, p, CC * sizeof(T));
  }
  return v;
}

/**
 * The max-pooling window position (row-major) of each channel's first maximum, for output
 * pixel (b, oh, ow) whose window is [h0, h1) × [w0, w1); -1 where the window is all padding.
 */
template <int CC>
static inline void argMax(const PoolGeo &p, const float *__restrict x, const float *xEnd, int64_t b, int64_t h0,
                          int64_t h1, int64_t w0, int64_t w1, float *__restrict best, int32_t *__restrict arg) {
  if constexpr (CC > 0) {
    // Few channels: whole vectors, without branches (the extra lanes compare zeros). A loop
    // over 6 channels compiles to a mispredicted branch per value instead.
    typedef typename Lanes<lanesFor<CC>()>::F VF;
    typedef typename Lanes<lanesFor<CC>()>::I VI;
    VF bl = VF{} - std::numeric_limits<float>::infinity();
    VI al = VI{} - 1;
    int32_t t = 0;
    for (int64_t ih = h0; ih < h1; ih++) {
      for (int64_t iw = w0; iw < w1; iw++, t++) {
        const VF v = loadLanes<VF, float, CC>(x + ((b * p.inH + ih) * p.inW + iw) * CC, xEnd);
        const VI more = v > bl;
        bl = more ? v : bl;
        al = more ? (VI{} + t) : al;
      }
    }
    __builtin_memcpy(best, &bl, CC * 4);
    __builtin_memcpy(arg, &al, CC * 4);
  } else {
    const int64_t C = p.channels;
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
  }
}

/** o[c] = g[c] (as 0 + g[c]) where a[c] == t, else 0: one pixel's share of a max's gradient. */
template <int CC>
static inline void maxShare(int64_t C, float *__restrict o, const int32_t *__restrict a, const int32_t *aEnd,
                            const float *__restrict g, const float *gEnd, int32_t t) {
  if constexpr (CC > 0) {
    typedef typename Lanes<lanesFor<CC>()>::F VF;
    typedef typename Lanes<lanesFor<CC>()>::I VI;
    const VI al = loadLanes<VI, int32_t, CC>(a, aEnd);
    const VF gl = loadLanes<VF, float, CC>(g, gEnd);
    const VF ol = al == (VI{} + t) ? (VF{} + gl) : VF{};
    __builtin_memcpy(o, &ol, CC * 4);
  } else {
    for (int64_t c = 0; c < C; c++) o[c] = a[c] == t ? 0.0f + g[c] : 0.0f;
  }
}

/** Output rows [r0, r1) of (batch · outH) rows; mode 0 = max, 1 = average. CC: channels, or 0. */
template <int CC>
RC_CLONES static void poolRows(const PoolGeo &p, const float *__restrict x, float *__restrict y, int64_t r0, int64_t r1,
                               int mode) {
  const int64_t C = CC > 0 ? CC : p.channels;
  const float *xEnd = x + p.batch * p.inH * p.inW * C;
  std::vector<double> accStore(C);
  double *__restrict acc = accStore.data();
  for (int64_t r = r0; r < r1; r++) {
    const int64_t b = r / p.outH, oh = r % p.outH;
    for (int64_t ow = 0; ow < p.outW; ow++) {
      int64_t h0, h1, w0, w1;
      window(p, oh, ow, h0, h1, w0, w1);
      float *__restrict out = y + ((b * p.outH + oh) * p.outW + ow) * C;
      const int64_t n = std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0);
      if constexpr (CC > 0) {
        // Few channels: whole vectors (see argMax); sums in float64 lanes.
        constexpr int L = lanesFor<CC>();
        typedef typename Lanes<L>::F VF;
        typedef double VD __attribute__((vector_size(L * 8)));
        if (mode == 0) {
          VF m = VF{} - std::numeric_limits<float>::infinity();
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) {
              const VF v = loadLanes<VF, float, CC>(x + ((b * p.inH + ih) * p.inW + iw) * CC, xEnd);
              m = v > m ? v : m;
            }
          __builtin_memcpy(out, &m, CC * 4);
        } else {
          VD s = {};
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++)
              s += __builtin_convertvector(
                  (loadLanes<VF, float, CC>(x + ((b * p.inH + ih) * p.inW + iw) * CC, xEnd)), VD);
          // A power of two's inverse is exact: multiplying by it is dividing by it.
          const VD q = (n & (n - 1)) == 0 ? s * (1.0 / double(n)) : s / double(n);
          const VF avg = n > 0 ? __builtin_convertvector(q, VF) : VF{};
          __builtin_memcpy(out, &avg, CC * 4);
        }
        continue;
      }
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
            for (int64_t c = 0; c < C; c++) acc[c] += double(in[c]);
          }
        }
        for (int64_t c = 0; c < C; c++) out[c] = n > 0 ? float(acc[c] / double(n)) : 0.0f;
      }
    }
  }
}

/**
 * Gradients for output rows [r0, r1) of (batch · outH) rows, added into dx (zeros on entry). A
 * range of rows is one thread's: where windows overlap the caller gives each thread whole
 * images, so that no two threads add into the same pixel.
 */
template <int CC>
RC_CLONES static void poolBackwardRows(const PoolGeo &p, const float *__restrict x, const float *__restrict dy,
                                       float *__restrict dx, int64_t r0, int64_t r1, int mode) {
  const int64_t C = CC > 0 ? CC : p.channels;
  std::vector<float> bestStore(C);
  std::vector<int32_t> argStore(C);
  std::vector<double> shareStore(C);
  float *__restrict best = bestStore.data();
  int32_t *__restrict arg = argStore.data();
  double *__restrict share = shareStore.data();
  const float *xEnd = x ? x + p.batch * p.inH * p.inW * C : nullptr;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t b = r / p.outH, oh = r % p.outH;
    for (int64_t ow = 0; ow < p.outW; ow++) {
      int64_t h0, h1, w0, w1;
      window(p, oh, ow, h0, h1, w0, w1);
      const float *__restrict g = dy + ((b * p.outH + oh) * p.outW + ow) * C;
      if (mode == 0) {
        argMax<CC>(p, x, xEnd, b, h0, h1, w0, w1, best, arg);
        int32_t t = 0;
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

/**
 * Gradients where windows do not overlap, for input rows [r0, r1) of (batch · inH) rows: every
 * element of those rows is written once (0 outside every window), so dx need not be zeros. The
 * values are the accumulating kernel's: 0 + the share, in the same precision.
 */
template <int CC>
RC_CLONES static void poolBackwardDisjointRows(const PoolGeo &p, const float *__restrict x, const float *__restrict dy,
                                               float *__restrict dx, int64_t r0, int64_t r1, int mode) {
  const int64_t C = CC > 0 ? CC : p.channels;
  const int64_t rowLen = p.inW * C;
  // Per input column: its window's output column (-1: none) and its place in that window's
  // real columns; per output column, the window's real width. (No divisions per pixel.)
  std::vector<int32_t> colOwner(p.inW), colPos(p.inW), width(p.outW);
  for (int64_t ow = 0; ow < p.outW; ow++) {
    int64_t h0, h1, w0, w1;
    window(p, 0, ow, h0, h1, w0, w1);
    width[ow] = int32_t(std::max<int64_t>(0, w1 - w0));
  }
  for (int64_t iw = 0; iw < p.inW; iw++) {
    const int64_t ow = owner(iw, p.padLeft, p.strideW, p.kw, p.outW);
    colOwner[iw] = int32_t(ow);
    colPos[iw] = ow < 0 ? 0 : int32_t(iw - std::max<int64_t>(0, ow * p.strideW - p.padLeft));
  }
  // What the current output row gives: each window's share (average) or first maxima (max).
  std::vector<float> rowStore(p.outW * C);
  std::vector<float> bestStore(C);
  std::vector<int32_t> argStore(p.outW * C);
  float *__restrict row = rowStore.data();
  float *__restrict best = bestStore.data();
  int32_t *__restrict arg = argStore.data();
  const int32_t *argEnd = arg + argStore.size();
  const float *xEnd = x ? x + p.batch * p.inH * p.inW * C : nullptr;
  const float *dyEnd = dy + p.batch * p.outH * p.outW * C;
  int64_t cachedRow = -1;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t b = r / p.inH, ih = r % p.inH;
    float *__restrict d = dx + r * rowLen;
    const int64_t oh = owner(ih, p.padTop, p.strideH, p.kh, p.outH);
    if (oh < 0) {
      for (int64_t i = 0; i < rowLen; i++) d[i] = 0.0f;
      continue;
    }
    const int64_t h0 = std::max<int64_t>(0, oh * p.strideH - p.padTop);
    const int64_t h1 = std::min(oh * p.strideH - p.padTop + p.kh, p.inH);
    const float *__restrict g = dy + (b * p.outH + oh) * p.outW * C;
    if (b * p.outH + oh != cachedRow) {
      cachedRow = b * p.outH + oh;
      for (int64_t ow = 0; ow < p.outW; ow++) {
        int64_t hh0, hh1, w0, w1;
        window(p, oh, ow, hh0, hh1, w0, w1);
        if (mode == 1) {
          const double n = double(std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0));
          for (int64_t c = 0; c < C; c++) row[ow * C + c] = float(0.0 + double(g[ow * C + c]) / n);
        } else {
          argMax<CC>(p, x, xEnd, b, h0, h1, w0, w1, best, arg + ow * C);
        }
      }
    }
    const int32_t rowPos = int32_t(ih - h0);
    for (int64_t iw = 0; iw < p.inW; iw++) {
      float *__restrict o = d + iw * C;
      const int32_t ow = colOwner[iw];
      if (ow < 0) {
        for (int64_t c = 0; c < C; c++) o[c] = 0.0f;
      } else if (mode == 1) {
        const float *__restrict s = row + ow * C;
        for (int64_t c = 0; c < C; c++) o[c] = s[c];
      } else {
        // This pixel's place in its window, counted as argMax counts (real pixels, row-major).
        maxShare<CC>(C, o, arg + ow * C, argEnd, g + ow * C, dyEnd, rowPos * width[ow] + colPos[iw]);
      }
    }
  }
}

static int64_t grainRows(const PoolGeo &p) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.outW * p.channels)); }

/** Calls f<CC>() with CC the channel count where it has an instantiation, else f<0>(). */
template <class F>
static void byChannels(int64_t C, const F &f) {
  switch (C) {
    case 1: f(std::integral_constant<int, 1>()); break;
    case 2: f(std::integral_constant<int, 2>()); break;
    case 3: f(std::integral_constant<int, 3>()); break;
    case 4: f(std::integral_constant<int, 4>()); break;
    case 6: f(std::integral_constant<int, 6>()); break;
    case 8: f(std::integral_constant<int, 8>()); break;
    case 16: f(std::integral_constant<int, 16>()); break;
    default: f(std::integral_constant<int, 0>()); break;
  }
}

/** pool(mode, x, y, geo): mode 0 max, 1 average. */
static Napi::Value Pool(const Napi::CallbackInfo &info) {
  const int mode = int(integer(info[0], "mode"));
  const PoolGeo p = readPool(info[3]);
  const float *x = floats(info[1], size_t(p.batch * p.inH * p.inW * p.channels), "x");
  float *y = floats(info[2], size_t(p.batch * p.outH * p.outW * p.channels), "y");
  byChannels(p.channels, [&](auto cc) {
    parallelFor(p.batch * p.outH, grainRows(p),
                [&](int64_t r0, int64_t r1) { poolRows<decltype(cc)::value>(p, x, y, r0, r1, mode); });
  });
  return info.Env().Undefined();
}

/**
 * poolBackward(mode, x, dy, dx, geo): where windows do not overlap (stride ≥ window) dx is
 * written whole; else the gradients are added into it, and it must be zeros. x is only read
 * for max pooling.
 */
static Napi::Value PoolBackward(const Napi::CallbackInfo &info) {
  const int mode = int(integer(info[0], "mode"));
  const PoolGeo p = readPool(info[4]);
  const size_t inSize = size_t(p.batch * p.inH * p.inW * p.channels);
  const float *x = mode == 0 ? floats(info[1], inSize, "x") : nullptr;
  const float *dy = floats(info[2], size_t(p.batch * p.outH * p.outW * p.channels), "dy");
  float *dx = floats(info[3], inSize, "dx");
  byChannels(p.channels, [&](auto cc) {
    constexpr int CC = decltype(cc)::value;
    if (disjoint(p)) {
      const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.inW * p.channels));
      parallelFor(p.batch * p.inH, grain,
                  [&](int64_t r0, int64_t r1) { poolBackwardDisjointRows<CC>(p, x, dy, dx, r0, r1, mode); });
    } else {
      const int64_t perImage = std::max<int64_t>(1, p.inH * p.inW * p.channels);
      parallelFor(p.batch, std::max<int64_t>(1, 16384 / perImage), [&](int64_t b0, int64_t b1) {
        poolBackwardRows<CC>(p, x, dy, dx, b0 * p.outH, b1 * p.outH, mode);
      });
    }
  });
  return info.Env().Undefined();
}

void initPool(Napi::Env env, Napi::Object exports) {
  fn<Pool>(env, exports, "pool");
  fn<PoolBackward>(env, exports, "poolBackward");
}

}  // namespace rc
