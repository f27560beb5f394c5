// Memory-bound kernels: elementwise ops (with the broadcast as two merged axes), sums over one
// of two merged axes, batch normalization and the fused Adam update. Plain loops that the
// compiler vectorizes, one contiguous piece per thread. Elementwise values match the js reference
// bit for bit (float32 operations are correctly rounded there too; exp, log, rsqrt and sigmoid
// are computed in float64 as JavaScript does), except tanh, which is Eigen's rational
// approximation in float32 (within 1e-6 relative); sums add in another order, and
// batch norm multiplies by gamma / sd where the reference divides (an ulp or so).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace rc {

// Op codes shared with native_backend.ts.
enum Unary { NEG, ABS, EXP, LOG, SQRT, RSQRT, SQUARE, RECIPROCAL, RELU, STEP, SIGN, TANH, SIGMOID, GELU };
enum Binary { ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, EQUAL, GREATER };

/** Below this many elements a kernel runs on the calling thread. */
constexpr int64_t GRAIN = 1 << 15;

/**
 * tanh as Eigen computes it for float32 (and the wasm backend): a rational function, odd
 * degree 13 over even degree 6, on x clamped to ±7.905 where it reaches ±1 in float32; exact
 * (x itself) below 0.0004. Within 3e-7 relative of Math.tanh. Written without branches so that
 * the loop vectorizes: 16 values an instruction with AVX-512.
 */
static inline float tanhRational(float v) {
  constexpr float clamp = 7.90531110763549805f;
  const float x = v < -clamp ? -clamp : (v > clamp ? clamp : v);  // (fmin/fmax would not vectorize)
  const float x2 = x * x;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = x2 * p + -8.60467152213735e-11f;
  p = x2 * p + 5.12229709037114e-08f;
  p = x2 * p + 1.48572235717979e-05f;
  p = x2 * p + 6.37261928875436e-04f;
  p = x2 * p + 4.89352455891786e-03f;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = x2 * q + 2.26843463243900e-03f;
  q = x2 * q + 4.89352518554385e-03f;
  const float r = (x * p) / q;
  return std::fabs(v) < 0.0004f || v != v ? v : r;
}

/**
 * e^v in float64 without a call, so that the loops over it vectorize: v = n·ln2 + r (Cody–Waite,
 * ln2 split so that n·ln2hi is exact; n rounded by adding 1.5·2⁵², whose bits then hold it), e^r
 * by its Taylor polynomial to r¹³ (|r| ≤ ln2/2: truncation under 1e-17), times 2ⁿ from its bits.
 * Within an ulp or two of Math.exp, so float32 results round alike (no difference on a sweep of
 * 3·10⁸ floats through GELU and its gradient against std::exp). For −700 ≤ v ≤ 0; NaN kept.
 */
static inline __attribute__((always_inline)) double expCore(double v) {
  const double shifter = 6755399441055744.0;
  const double kd = v * 1.4426950408889634 + shifter;
  const double n = kd - shifter;
  int64_t kbits, sbits;
  std::memcpy(&kbits, &kd, sizeof kbits);
  std::memcpy(&sbits, &shifter, sizeof sbits);
  const double r = (v - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int64_t bits = (kbits - sbits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/** e^v for v ≤ 0: expCore, and 0 below −700 (which any float32 result rounds to anyway). */
static inline __attribute__((always_inline)) double expNonPositive(double v) {
  return v < -700.0 ? 0.0 : expCore(v < -700.0 ? -700.0 : v);
}

/**
 * erf of a float32 value in float64, as src/backend/shared/fast_js.ts computes it (the values
 * the native backend's erf op gives, in JS): below 1 in magnitude the Maclaurin series to x²³ in
 * Horner form, beyond it 1 − erfc with Numerical Recipes' Chebyshev-fitted erfc, ±1 beyond 6.
 * Both are computed and one selected, without branches, so that the loops vectorize; NaN gives
 * NaN through the erfc side.
 */
static inline __attribute__((always_inline)) double erfFast(double x) {
  const double ax = std::fabs(x);
  const double x2 = x * x;
  double s = -1.0 / (39916800.0 * 23);
  s = x2 * s + 1.0 / (3628800.0 * 21);
  s = x2 * s - 1.0 / (362880.0 * 19);
  s = x2 * s + 1.0 / (40320.0 * 17);
  s = x2 * s - 1.0 / (5040.0 * 15);
  s = x2 * s + 1.0 / (720.0 * 13);
  s = x2 * s - 1.0 / (120.0 * 11);
  s = x2 * s + 1.0 / (24.0 * 9);
  s = x2 * s - 1.0 / (6.0 * 7);
  s = x2 * s + 1.0 / (2.0 * 5);
  s = x2 * s - 1.0 / 3;
  s = x2 * s + 1;
  const double series = 1.1283791670955126 * x * s;
  const double t = 1 / (1 + 0.5 * ax);
  const double erfc =
      t * expNonPositive(-ax * ax - 1.26551223 +
                         t * (1.00002368 +
                              t * (0.37409196 +
                                   t * (0.09678418 +
                                        t * (-0.18628806 +
                                             t * (0.27886807 +
                                                  t * (-1.13520398 +
                                                       t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  const double tail = ax > 6 ? (x > 0 ? 1.0 : -1.0) : (x > 0 ? 1 - erfc : erfc - 1);
  return ax < 1 ? series : tail;
}

/** √½ and 1/√(2π) as the float32 scalars the composed ops multiply by. */
constexpr float SQRT1_2F = float(0.70710678118654752440);
constexpr float INV_SQRT_2PIF = float(0.39894228040143267794);

/** GELU as ops/activations.ts defines it: x·0.5·(1 + erf(x·√½)), each step rounded to float32. */
static inline __attribute__((always_inline)) float geluValue(float x) {
  const float a = x * 0.5f;
  const float e = float(erfFast(double(x * SQRT1_2F)));
  return a * (1.0f + e);
}

/**
 * Elements [b, e) of GELU's gradient dy·(Φ + x·φ), Φ = (1 + erf(x·√½))·0.5,
 * φ = exp(x·x·(−0.5))·(1/√(2π)), each step in float32; Φ, the exponent, e^ and the sum in loops
 * of their own over blocks, each of which vectorizes (one loop for all would not).
 */
RC_CLONES static void geluGradRange(const float *dy, const float *x, float *out, int64_t b, int64_t e) {
  constexpr int64_t B = 256;
  float cdf[B], h[B], pdf[B];
  for (int64_t s = b; s < e; s += B) {
    const int64_t m = std::min(B, e - s);
    const float *xs = x + s;
    for (int64_t j = 0; j < m; j++) cdf[j] = (1.0f + float(erfFast(double(xs[j] * SQRT1_2F)))) * 0.5f;
    // The exponent clamped in float32 in a loop of its own (e^−700 rounds to 0 in float32 as
    // e^−∞ does; NaN stays NaN): with the clamp beside the exp the loop does not vectorize.
    for (int64_t j = 0; j < m; j++) {
      const float v = (xs[j] * xs[j]) * -0.5f;
      h[j] = v < -700.0f ? -700.0f : v;
    }
    for (int64_t j = 0; j < m; j++) pdf[j] = float(expCore(double(h[j])));
    for (int64_t j = 0; j < m; j++) out[s + j] = dy[s + j] * (cdf[j] + xs[j] * (pdf[j] * INV_SQRT_2PIF));
  }
}

RC_CLONES static void unaryRange(int op, const float *x, float *y, int64_t b, int64_t e) {
  switch (op) {
    case NEG: for (int64_t i = b; i < e; i++) y[i] = -x[i]; break;
    case ABS: for (int64_t i = b; i < e; i++) y[i] = std::fabs(x[i]); break;
    case EXP: for (int64_t i = b; i < e; i++) y[i] = float(std::exp(double(x[i]))); break;
    case LOG: for (int64_t i = b; i < e; i++) y[i] = float(std::log(double(x[i]))); break;
    case SQRT: for (int64_t i = b; i < e; i++) y[i] = std::sqrt(x[i]); break;
    case RSQRT: for (int64_t i = b; i < e; i++) y[i] = float(1.0 / std::sqrt(double(x[i]))); break;
    case SQUARE: for (int64_t i = b; i < e; i++) y[i] = x[i] * x[i]; break;
    case RECIPROCAL: for (int64_t i = b; i < e; i++) y[i] = 1.0f / x[i]; break;
    // Math.max(x, 0): NaN stays NaN, -0 becomes +0.
    case RELU: for (int64_t i = b; i < e; i++) y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f); break;
    case STEP: for (int64_t i = b; i < e; i++) y[i] = x[i] > 0.0f ? 1.0f : 0.0f; break;
    // Math.sign: ±1, or the value itself for ±0 and NaN.
    case SIGN: for (int64_t i = b; i < e; i++) y[i] = x[i] > 0.0f ? 1.0f : (x[i] < 0.0f ? -1.0f : x[i]); break;
    case TANH: for (int64_t i = b; i < e; i++) y[i] = tanhRational(x[i]); break;
    case SIGMOID: for (int64_t i = b; i < e; i++) y[i] = float(1.0 / (1.0 + std::exp(-double(x[i])))); break;
    case GELU: for (int64_t i = b; i < e; i++) y[i] = geluValue(x[i]); break;
  }
}

/** Math.max / Math.min: NaN if either is NaN; +0 beats -0 for max, -0 beats +0 for min. */
static inline float jsMax(float a, float b) {
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
static inline float jsMin(float a, float b) {
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

template <int AI, int BI>
static inline void binaryRow(int op, const float *a, const float *b, float *o, int64_t n) {
#define RC_LOOP(expr) \
  for (int64_t i = 0; i < n; i++) { \
    const float x = a[i * AI], y = b[i * BI]; \
    o[i] = (expr); \
  } \
  break;
  switch (op) {
    case ADD: RC_LOOP(x + y)
    case SUB: RC_LOOP(x - y)
    case MUL: RC_LOOP(x * y)
    case DIV: RC_LOOP(x / y)
    case MAXIMUM: RC_LOOP(jsMax(x, y))
    case MINIMUM: RC_LOOP(jsMin(x, y))
    case EQUAL: RC_LOOP(x == y ? 1.0f : 0.0f)
    case GREATER: RC_LOOP(x > y ? 1.0f : 0.0f)
  }
#undef RC_LOOP
}

struct Broadcast {
  int64_t outer, aO, bO, inner, aI, bI;
};

/** Output elements [s, e) of the [outer, inner] broadcast. */
RC_CLONES static void binaryRange(int op, const float *a, const float *b, float *out, const Broadcast &g, int64_t s, int64_t e) {
  while (s < e) {
    const int64_t r = s / g.inner, i0 = s % g.inner, i1 = std::min(g.inner, i0 + (e - s));
    const float *pa = a + r * g.aO + i0 * g.aI, *pb = b + r * g.bO + i0 * g.bI;
    float *po = out + s;
    const int64_t n = i1 - i0;
    if (g.aI && g.bI) binaryRow<1, 1>(op, pa, pb, po, n);
    else if (g.aI) binaryRow<1, 0>(op, pa, pb, po, n);
    else if (g.bI) binaryRow<0, 1>(op, pa, pb, po, n);
    else binaryRow<0, 0>(op, pa, pb, po, n);
    s += n;
  }
}

/**
 * Rows [r0, r1) of a bias-style broadcast: a (or b, if bIsRow is false) is a full [outer, inner]
 * matrix, the other one row of `inner` values repeated (inner small, e.g. 6 channels). The row
 * is repeated into `pattern` (reps rows long) so that the loop runs over reps · inner values at
 * a time and vectorizes.
 */
RC_CLONES static void rowBroadcastRange(int op, const float *full, const float *pattern, bool fullIsA, float *out,
                                        int64_t inner, int64_t reps, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r += reps) {
    const int64_t n = std::min(reps, r1 - r) * inner;
    const float *f = full + r * inner;
    float *o = out + r * inner;
    if (fullIsA) binaryRow<1, 1>(op, f, pattern, o, n);
    else binaryRow<1, 1>(op, pattern, f, o, n);
  }
}

/** unary(op, x, y): y = op(x), both of the same length. */
static Napi::Value UnaryOp(const Napi::CallbackInfo &info) {
  const int op = int(integer(info[0], "op"));
  if (op < NEG || op > GELU) throw Napi::RangeError::New(info.Env(), "unknown unary op");
  const float *x = floats(info[1], 0, "x");
  const int64_t n = int64_t(info[1].As<Napi::Float32Array>().ElementLength());
  float *y = floats(info[2], size_t(n), "y");
  // exp, log, sigmoid and tanh cost tens of cycles a value: threads pay off sooner.
  const int64_t grain = op == EXP || op == LOG || op == SIGMOID || op == TANH || op == GELU ? GRAIN / 8 : GRAIN;
  parallelFor(n, grain, [&](int64_t b, int64_t e) { unaryRange(op, x, y, b, e); }, 16);
  return info.Env().Undefined();
}

/** binary(op, a, b, out, outer, aOuter, bOuter, inner, aInner, bInner): out[r, i] = a[r·aO + i·aI] op b[...]. */
static Napi::Value BinaryOp(const Napi::CallbackInfo &info) {
  const int op = int(integer(info[0], "op"));
  if (op < ADD || op > GREATER) throw Napi::RangeError::New(info.Env(), "unknown binary op");
  Broadcast g{integer(info[4], "outer"), integer(info[5], "aOuter"), integer(info[6], "bOuter"),
              integer(info[7], "inner"), integer(info[8], "aInner"), integer(info[9], "bInner")};
  if (g.outer < 0 || g.inner < 0 || (g.aI != 0 && g.aI != 1) || (g.bI != 0 && g.bI != 1)) {
    throw Napi::RangeError::New(info.Env(), "invalid broadcast");
  }
  const int64_t n = g.outer * g.inner;
  const auto span = [&](int64_t o, int64_t i) { return n == 0 ? 0 : size_t((g.outer - 1) * o + (g.inner - 1) * i + 1); };
  const float *a = floats(info[1], span(g.aO, g.aI), "a");
  const float *b = floats(info[2], span(g.bO, g.bI), "b");
  float *out = floats(info[3], size_t(n), "out");
  // A full matrix with one row repeated (bias adds over few channels): rows too short to
  // vectorize one at a time, so the repeated row is laid out many times over.
  const bool aRow = g.aO == 0 && g.aI == 1 && g.bO == g.inner && g.bI == 1;
  const bool bRow = g.bO == 0 && g.bI == 1 && g.aO == g.inner && g.aI == 1;
  if ((aRow || bRow) && g.inner < 64 && g.outer > 1) {
    const int64_t reps = (256 + g.inner - 1) / g.inner;
    std::vector<float> pattern(static_cast<size_t>(reps * g.inner));
    for (int64_t i = 0; i < reps * g.inner; i++) pattern[size_t(i)] = (aRow ? a : b)[i % g.inner];
    parallelFor(g.outer, std::max<int64_t>(1, GRAIN / g.inner), [&](int64_t r0, int64_t r1) {
      rowBroadcastRange(op, bRow ? a : b, pattern.data(), bRow, out, g.inner, reps, r0, r1);
    });
    return info.Env().Undefined();
  }
  parallelFor(n, GRAIN, [&](int64_t s, int64_t e) { binaryRange(op, a, b, out, g, s, e); }, 16);
  return info.Env().Undefined();
}

/**
 * Column sums of rows [r0, r1) of an [outer, inner] matrix, added into acc (float64). Short rows
 * (few channels) are summed `reps` rows at a time into a wide accumulator, so the loop vectorizes.
 */
RC_CLONES static void columnSums(const float *x, int64_t inner, int64_t r0, int64_t r1, double *acc) {
  const int64_t reps = inner < 64 ? (256 + inner - 1) / inner : 1;
  const int64_t w = reps * inner;
  std::vector<double> wide(static_cast<size_t>(w), 0.0);
  int64_t r = r0;
  for (; r + reps <= r1; r += reps) {
    const float *rows = x + r * inner;
    for (int64_t j = 0; j < w; j++) wide[size_t(j)] += rows[j];
  }
  for (; r < r1; r++) {
    const float *row = x + r * inner;
    for (int64_t c = 0; c < inner; c++) acc[c] += row[c];
  }
  for (int64_t j = 0; j < w; j++) acc[j % inner] += wide[size_t(j)];
}

RC_CLONES static double rangeSum(const float *x, int64_t b, int64_t e) {
  double s = 0;
  for (int64_t i = b; i < e; i++) s += x[i];
  return s;
}

/** sum2d(x, outer, inner, overOuter, out): sums of an [outer, inner] matrix over one axis. */
static Napi::Value Sum2d(const Napi::CallbackInfo &info) {
  const int64_t outer = integer(info[1], "outer"), inner = integer(info[2], "inner");
  const bool overOuter = info[3].ToBoolean();
  const float *x = floats(info[0], size_t(outer * inner), "x");
  float *out = floats(info[4], size_t(overOuter ? inner : outer), "out");
  if (overOuter) {
    // Each thread sums its rows into its own accumulator; they are added at the end.
    const int T = maxThreads();
    std::vector<double> acc(size_t(T) * size_t(inner), 0.0);
    std::vector<char> used(static_cast<size_t>(T), 0);
    parallelFor(outer, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, inner)), [&](int64_t r0, int64_t r1) {
#ifdef _OPENMP
      const int t = omp_in_parallel() ? omp_get_thread_num() : 0;
#else
      const int t = 0;
#endif
      used[size_t(t)] = 1;
      columnSums(x, inner, r0, r1, acc.data() + size_t(t) * size_t(inner));
    });
    for (int64_t c = 0; c < inner; c++) {
      double s = 0;
      for (int t = 0; t < T; t++) s += used[size_t(t)] ? acc[size_t(t) * size_t(inner) + size_t(c)] : 0.0;
      out[c] = float(s);
    }
  } else if (outer == 1) {
    const int T = maxThreads();
    std::vector<double> part(static_cast<size_t>(T), 0.0);
    parallelFor(inner, GRAIN, [&](int64_t b, int64_t e) {
#ifdef _OPENMP
      const int t = omp_in_parallel() ? omp_get_thread_num() : 0;
#else
      const int t = 0;
#endif
      part[size_t(t)] = rangeSum(x, b, e);
    }, 16);
    double s = 0;
    for (double p : part) s += p;
    out[0] = float(s);
  } else {
    parallelFor(outer, std::max<int64_t>(1, GRAIN / std::max<int64_t>(1, inner)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) out[r] = float(rangeSum(x, r * inner, (r + 1) * inner));
    });
  }
  return info.Env().Undefined();
}

/** Rows [r0, r1) of y = x · scale + shift (scale = gamma / sd, shift = beta − mean · scale). */
RC_CLONES static void bnRows(const float *x, const float *scale, const float *shift, int64_t C, float *y, int64_t r0,
                             int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
    for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
  }
}

/** batchNorm(x, mean, variance, gamma, beta, y, channels, epsilon). */
static Napi::Value BatchNorm(const Napi::CallbackInfo &info) {
  const int64_t C = integer(info[6], "channels");
  const double eps = info[7].As<Napi::Number>().DoubleValue();
  if (C < 1) throw Napi::RangeError::New(info.Env(), "channels must be positive");
  const float *x = floats(info[0], 0, "x");
  const int64_t n = int64_t(info[0].As<Napi::Float32Array>().ElementLength());
  if (n % C) throw Napi::RangeError::New(info.Env(), "x's size is not a multiple of channels");
  const float *mean = floats(info[1], size_t(C), "mean"), *var = floats(info[2], size_t(C), "variance");
  const float *gamma = floats(info[3], size_t(C), "gamma"), *beta = floats(info[4], size_t(C), "beta");
  float *y = floats(info[5], size_t(n), "y");
  // One multiply-add a value (the reference divides in float64: results differ by an ulp or so).
  std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; c++) {
    const double s = double(gamma[c]) / std::sqrt(double(var[c]) + eps);
    scale[size_t(c)] = float(s);
    shift[size_t(c)] = float(double(beta[c]) - double(mean[c]) * s);
  }
  parallelFor(n / C, std::max<int64_t>(1, GRAIN / C), [&](int64_t r0, int64_t r1) {
    bnRows(x, scale.data(), shift.data(), C, y, r0, r1);
  });
  return info.Env().Undefined();
}

/** Rows [r0, r1) of batchNorm's backward: dx, and into acc the per-channel Σdy and Σdy·(x − mean). */
RC_CLONES static void bnBackwardRows(const float *dy, const float *x, const float *mean, const double *r, const float *gamma,
                                     int64_t C, float *dx, double *sumDy, double *sumDyXc, int64_t r0, int64_t r1) {
  for (int64_t row = r0; row < r1; row++) {
    const float *g = dy + row * C, *xr = x + row * C;
    float *d = dx + row * C;
    for (int64_t c = 0; c < C; c++) {
      d[c] = float(double(g[c]) * r[c] * gamma[c]);
      sumDy[c] += g[c];
      sumDyXc[c] += double(g[c]) * (double(xr[c]) - mean[c]);
    }
  }
}

/** Per-thread float64 accumulators of `width` values each, summed over the threads at the end. */
struct ThreadSums {
  int64_t width;
  std::vector<double> acc;
  explicit ThreadSums(int64_t w) : width(w), acc(size_t(maxThreads()) * size_t(w), 0.0) {}
  /** This thread's accumulators (inside parallelFor). */
  double *mine() {
#ifdef _OPENMP
    const int t = omp_in_parallel() ? omp_get_thread_num() : 0;
#else
    const int t = 0;
#endif
    return acc.data() + size_t(t) * size_t(width);
  }
  double total(int64_t j) const {
    double s = 0;
    for (size_t t = 0; t < acc.size() / size_t(width); t++) s += acc[t * size_t(width) + size_t(j)];
    return s;
  }
};

/**
 * The arguments batch norm's two backward kernels share, (dy, x, mean, variance, gamma,
 * channels, epsilon, dx, ...), checked, and r = 1/√(variance + ε) per channel in float64.
 */
struct BnBackwardArgs {
  const float *dy, *x, *mean, *var, *gamma;
  float *dx;
  int64_t C, rows;
  std::vector<double> r;
  explicit BnBackwardArgs(const Napi::CallbackInfo &info) {
    C = integer(info[5], "channels");
    const double eps = info[6].As<Napi::Number>().DoubleValue();
    if (C < 1) throw Napi::RangeError::New(info.Env(), "channels must be positive");
    x = floats(info[1], 0, "x");
    const int64_t n = int64_t(info[1].As<Napi::Float32Array>().ElementLength());
    if (n % C) throw Napi::RangeError::New(info.Env(), "x's size is not a multiple of channels");
    rows = n / C;
    dy = floats(info[0], size_t(n), "dy");
    mean = floats(info[2], size_t(C), "mean");
    var = floats(info[3], size_t(C), "variance");
    gamma = floats(info[4], size_t(C), "gamma");
    dx = floats(info[7], size_t(n), "dx");
    r.resize(size_t(C));
    for (int64_t c = 0; c < C; c++) r[size_t(c)] = 1.0 / std::sqrt(double(var[c]) + eps);
  }
  /** Rows per task of a parallelFor over the rows. */
  int64_t grain() const { return std::max<int64_t>(1, GRAIN / C); }
};

/** batchNormBackward(dy, x, mean, variance, gamma, channels, epsilon, dx, dMean, dVariance, dGamma, dBeta). */
static Napi::Value BatchNormBackward(const Napi::CallbackInfo &info) {
  const BnBackwardArgs a(info);
  const int64_t C = a.C;
  float *dMean = floats(info[8], size_t(C), "dMean"), *dVar = floats(info[9], size_t(C), "dVariance");
  float *dGamma = floats(info[10], size_t(C), "dGamma"), *dBeta = floats(info[11], size_t(C), "dBeta");
  ThreadSums sums(2 * C);
  parallelFor(a.rows, a.grain(), [&](int64_t r0, int64_t r1) {
    double *s = sums.mine();
    bnBackwardRows(a.dy, a.x, a.mean, a.r.data(), a.gamma, C, a.dx, s, s + C, r0, r1);
  });
  for (int64_t c = 0; c < C; c++) {
    const double sDy = sums.total(c), sDyXc = sums.total(C + c);
    const double rc = a.r[size_t(c)], gc = a.gamma[c];
    dMean[c] = float(-sDy * rc * gc);
    dVar[c] = float(-0.5 * sDyXc * gc * rc * rc * rc);
    dGamma[c] = float(sDyXc * rc);
    dBeta[c] = float(sDy);
  }
  return info.Env().Undefined();
}

/** Rows [r0, r1): into s1, s2 the per-channel Σ(x − shift) and Σ(x − shift)², in float64. */
RC_CLONES static void momentRows(const float *x, const double *shift, int64_t C, double *s1, double *s2, int64_t r0,
                                 int64_t r1) {
  for (int64_t row = r0; row < r1; row++) {
    const float *xr = x + row * C;
    for (int64_t c = 0; c < C; c++) {
      const double d = double(xr[c]) - shift[c];
      s1[c] += d;
      s2[c] += d * d;
    }
  }
}

/**
 * moments(x, channels, mean, variance): per channel (the last axis) the mean and the biased
 * variance over the rows, in one pass: sums of x − shift and its square in float64, shifted by
 * the channel's first value so that a mean far from 0 costs no accuracy. NaN when x is empty.
 */
static Napi::Value Moments(const Napi::CallbackInfo &info) {
  const int64_t C = integer(info[1], "channels");
  if (C < 1) throw Napi::RangeError::New(info.Env(), "channels must be positive");
  const float *x = floats(info[0], 0, "x");
  const int64_t n = int64_t(info[0].As<Napi::Float32Array>().ElementLength());
  if (n % C) throw Napi::RangeError::New(info.Env(), "x's size is not a multiple of channels");
  float *mean = floats(info[2], size_t(C), "mean"), *var = floats(info[3], size_t(C), "variance");
  const int64_t rows = n / C;
  if (rows == 0) {
    for (int64_t c = 0; c < C; c++) mean[c] = var[c] = std::numeric_limits<float>::quiet_NaN();
    return info.Env().Undefined();
  }
  std::vector<double> shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; c++) shift[size_t(c)] = std::isfinite(x[c]) ? x[c] : 0.0;
  ThreadSums sums(2 * C);
  parallelFor(rows, std::max<int64_t>(1, GRAIN / C), [&](int64_t r0, int64_t r1) {
    double *a = sums.mine();
    momentRows(x, shift.data(), C, a, a + C, r0, r1);
  });
  for (int64_t c = 0; c < C; c++) {
    const double d = sums.total(c) / double(rows), q = sums.total(C + c) / double(rows) - d * d;
    mean[c] = float(shift[size_t(c)] + d);
    var[c] = float(q < 0 ? 0.0 : q);  // (rounding; NaN stays NaN)
  }
  return info.Env().Undefined();
}

/** Rows [r0, r1): into sDy, sDyXh the per-channel Σdy and Σdy·x̂, x̂ = (x − mean)·r. */
RC_CLONES static void bnTrainSumRows(const float *dy, const float *x, const float *mean, const double *r, int64_t C,
                                     double *sDy, double *sDyXh, int64_t r0, int64_t r1) {
  for (int64_t row = r0; row < r1; row++) {
    const float *g = dy + row * C, *xr = x + row * C;
    for (int64_t c = 0; c < C; c++) {
      sDy[c] += g[c];
      sDyXh[c] += double(g[c]) * ((double(xr[c]) - mean[c]) * r[c]);
    }
  }
}

/** Rows [r0, r1) of dx = a·dy + b + k·(x − mean), per channel (a = γr, b = −γr·Σdy/N, k = −γr²·Σdy·x̂/N). */
RC_CLONES static void bnTrainDxRows(const float *dy, const float *x, const float *mean, const double *a, const double *b,
                                    const double *k, int64_t C, float *dx, int64_t r0, int64_t r1) {
  for (int64_t row = r0; row < r1; row++) {
    const float *g = dy + row * C, *xr = x + row * C;
    float *d = dx + row * C;
    for (int64_t c = 0; c < C; c++) d[c] = float(a[c] * g[c] + b[c] + k[c] * (double(xr[c]) - mean[c]));
  }
}

/**
 * batchNormTrainingBackward(dy, x, mean, variance, gamma, channels, epsilon, dx, dGamma, dBeta):
 * training-mode batch norm's backward with x's own batch statistics,
 * dx = γ·r/N·(N·dy − Σdy − x̂·Σ(dy·x̂)), dGamma = Σdy·x̂, dBeta = Σdy (float64 sums).
 */
static Napi::Value BatchNormTrainingBackward(const Napi::CallbackInfo &info) {
  const BnBackwardArgs in(info);
  const int64_t C = in.C, rows = in.rows;
  float *dGamma = floats(info[8], size_t(C), "dGamma"), *dBeta = floats(info[9], size_t(C), "dBeta");
  ThreadSums sums(2 * C);
  parallelFor(rows, in.grain(), [&](int64_t r0, int64_t r1) {
    double *s = sums.mine();
    bnTrainSumRows(in.dy, in.x, in.mean, in.r.data(), C, s, s + C, r0, r1);
  });
  std::vector<double> a(static_cast<size_t>(C)), b(static_cast<size_t>(C)), k(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; c++) {
    const double sDy = sums.total(c), sDyXh = sums.total(C + c), gr = double(in.gamma[c]) * in.r[size_t(c)];
    a[size_t(c)] = gr;
    b[size_t(c)] = -gr * sDy / double(rows);
    k[size_t(c)] = -gr * in.r[size_t(c)] * sDyXh / double(rows);
    dGamma[c] = float(sDyXh);
    dBeta[c] = float(sDy);
  }
  parallelFor(rows, in.grain(), [&](int64_t r0, int64_t r1) {
    bnTrainDxRows(in.dy, in.x, in.mean, a.data(), b.data(), k.data(), C, in.dx, r0, r1);
  });
  return info.Env().Undefined();
}

/**
 * Elements [b, e) of an activation's gradient from dy and v (relu: its input; tanh, sigmoid:
 * their output): the composed ops of ops/activations.ts, each rounded to float32 in their order.
 */
RC_CLONES static void activationGradRange(int op, const float *dy, const float *v, float *out, int64_t b, int64_t e) {
  switch (op) {
    case 0: for (int64_t i = b; i < e; i++) out[i] = dy[i] * (v[i] > 0.0f ? 1.0f : 0.0f); break;
    case 1: for (int64_t i = b; i < e; i++) out[i] = dy[i] * (1.0f - v[i] * v[i]); break;
    case 2: for (int64_t i = b; i < e; i++) out[i] = dy[i] * (v[i] * (1.0f - v[i])); break;
    case 3: geluGradRange(dy, v, out, b, e); break;
  }
}

/** activationGrad(op, dy, v, out): op 0 relu, 1 tanh, 2 sigmoid (v their output), 3 gelu (v its input). */
static Napi::Value ActivationGrad(const Napi::CallbackInfo &info) {
  const int op = int(integer(info[0], "op"));
  if (op < 0 || op > 3) throw Napi::RangeError::New(info.Env(), "activationGrad: unknown op");
  const float *dy = floats(info[1], 0, "dy");
  const int64_t n = int64_t(info[1].As<Napi::Float32Array>().ElementLength());
  const float *v = floats(info[2], size_t(n), "v");
  float *out = floats(info[3], size_t(n), "out");
  parallelFor(n, op == 3 ? GRAIN / 8 : GRAIN, [&](int64_t b, int64_t e) { activationGradRange(op, dy, v, out, b, e); }, 16);
  return info.Env().Undefined();
}

/**
 * firstNonFinite(x): the index of the first NaN or ±Infinity in x, or -1. fit() checks every
 * batch a dataset makes with it. The exponent bits say it (all ones), so the scan needs no
 * floating-point compare that -ffast-math-like flags could drop; blocks of 1,024 values are
 * tested branch-free (the loop vectorizes) and only a block that holds one is searched.
 */
static Napi::Value FirstNonFinite(const Napi::CallbackInfo &info) {
  const float *x = floats(info[0], 0, "x");
  const int64_t n = int64_t(info[0].As<Napi::Float32Array>().ElementLength());
  const uint32_t *bits = reinterpret_cast<const uint32_t *>(x);
  constexpr int64_t BLOCK = 1024;
  for (int64_t b = 0; b < n; b += BLOCK) {
    const int64_t e = std::min(n, b + BLOCK);
    uint32_t any = 0;
    for (int64_t i = b; i < e; i++) any |= uint32_t((bits[i] & 0x7f800000u) == 0x7f800000u);
    if (!any) continue;
    for (int64_t i = b; i < e; i++)
      if ((bits[i] & 0x7f800000u) == 0x7f800000u) return Napi::Number::New(info.Env(), double(i));
  }
  return Napi::Number::New(info.Env(), -1);
}

/** Adam's scalars, each rounded to float32 as the composed ops round their scalar operands. */
struct AdamScalars {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, sqrtBias2, epsilon, stepSize;
};

/**
 * Elements [b, e) of one Adam step, the operations of optim/adam.ts in their order, each rounded
 * to float32 (no fused multiply-add: the build turns contraction off), so the values are those of
 * the composed elementwise ops bit for bit. The outputs are new arrays (restrict: the loop
 * vectorizes, square roots and divisions included, with AMSGrad a loop of its own).
 */
template <bool AMS>
static inline __attribute__((always_inline)) void adamLoop(const AdamScalars &h, const float *__restrict p,
                                                           const float *__restrict g, const float *__restrict m,
                                                           const float *__restrict v, const float *__restrict vMax,
                                                           float *__restrict pOut, float *__restrict mOut,
                                                           float *__restrict vOut, float *__restrict vMaxOut,
                                                           int64_t b, int64_t e) {
  for (int64_t i = b; i < e; i++) {
    const float gi = g[i];
    const float mi = m[i] * h.beta1 + gi * h.oneMinusBeta1;
    const float vi = v[i] * h.beta2 + (gi * gi) * h.oneMinusBeta2;
    float second = vi;
    if (AMS) second = vMaxOut[i] = jsMax(vMax[i], vi);
    const float denom = std::sqrt(second) / h.sqrtBias2 + h.epsilon;
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = p[i] - (mi / denom) * h.stepSize;
  }
}

RC_CLONES static void adamRange(const AdamScalars &h, const float *p, const float *g, const float *m, const float *v,
                                const float *vMax, float *pOut, float *mOut, float *vOut, float *vMaxOut, int64_t b,
                                int64_t e) {
  if (vMax) adamLoop<true>(h, p, g, m, v, vMax, pOut, mOut, vOut, vMaxOut, b, e);
  else adamLoop<false>(h, p, g, m, v, vMax, pOut, mOut, vOut, vMaxOut, b, e);
}

/**
 * adam(p, g, m, v, vMax, pOut, mOut, vOut, vMaxOut, scalars): one Adam step of one parameter;
 * vMax and vMaxOut are null without AMSGrad. scalars: a Float32Array of beta1, 1 − beta1, beta2,
 * 1 − beta2, sqrt(1 − beta2^t), epsilon, lr / (1 − beta1^t).
 */
static Napi::Value Adam(const Napi::CallbackInfo &info) {
  const float *p = floats(info[0], 0, "p");
  const int64_t n = int64_t(info[0].As<Napi::Float32Array>().ElementLength());
  const float *g = floats(info[1], size_t(n), "g"), *m = floats(info[2], size_t(n), "m");
  const float *v = floats(info[3], size_t(n), "v");
  const bool ams = !info[4].IsNull() && !info[4].IsUndefined();
  const float *vMax = ams ? floats(info[4], size_t(n), "vMax") : nullptr;
  float *pOut = floats(info[5], size_t(n), "pOut"), *mOut = floats(info[6], size_t(n), "mOut");
  float *vOut = floats(info[7], size_t(n), "vOut");
  float *vMaxOut = ams ? floats(info[8], size_t(n), "vMaxOut") : nullptr;
  const float *s = floats(info[9], 7, "scalars");
  const AdamScalars h{s[0], s[1], s[2], s[3], s[4], s[5], s[6]};
  parallelFor(n, GRAIN / 4, [&](int64_t b, int64_t e) { adamRange(h, p, g, m, v, vMax, pOut, mOut, vOut, vMaxOut, b, e); }, 16);
  return info.Env().Undefined();
}

void initElementwise(Napi::Env env, Napi::Object exports) {
  fn<Adam>(env, exports, "adam");
  fn<ActivationGrad>(env, exports, "activationGrad");
  fn<FirstNonFinite>(env, exports, "firstNonFinite");
  fn<UnaryOp>(env, exports, "unary");
  fn<BinaryOp>(env, exports, "binary");
  fn<Sum2d>(env, exports, "sum2d");
  fn<BatchNorm>(env, exports, "batchNorm");
  fn<BatchNormBackward>(env, exports, "batchNormBackward");
  fn<Moments>(env, exports, "moments");
  fn<BatchNormTrainingBackward>(env, exports, "batchNormTrainingBackward");
}

}  // namespace rc
