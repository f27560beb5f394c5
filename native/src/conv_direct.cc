// A hand-written input gradient for convolutions with few input channels, where oneDNN's
// kernels, built around blocks of 16 channels, leave most of each vector empty: LeNet-5's
// second convolution (6 → 16 channels, batch 128) took 305 µs inside a training step there,
// 230 here (197 on its own). conv.cc uses it where the rule below holds, on processors with
// AVX-512 (elsewhere oneDNN's).
//
// Output-gradient pixel (oy, ox) adds, for each kernel row ky, into input-gradient row
// oy·s + ky·d − pad a run of kw·C contiguous floats (kw pixels × C channels) from pixel
// ox·s − pad. The run is the product of the pixel's gradient channels with filter row ky laid
// out [out channel][kx, in channel]: at most 4 vectors. Neighbouring runs overlap, and adding
// a run into memory that a partly overlapping run was just written to stalls the processor
// (the store cannot be forwarded to the load), so the runs of a row go round-robin into M row
// buffers, far enough apart in each, summed at the end.
//
// Sums run in another order than the reference's, with FMA: results agree to rounding. The
// kernel is built for AVX-512 alone and calls no library code (the entry point, built for any
// processor, allocates), so nothing is instantiated for AVX-512 and then shared with code that
// runs on any processor.
#include "conv_direct.h"

// x86-64 with GCC or Clang only: elsewhere (another architecture) oneDNN runs every pass.
#if defined(__x86_64__) && defined(__GNUC__)
#define RC_DIRECT 1
#include <immintrin.h>
#else
#define RC_DIRECT 0
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "common.h"

#define RC_INLINE inline __attribute__((always_inline))

namespace rc {

#if RC_DIRECT
/** What a few-channel input-gradient call needs. */
struct FewK {
  Geo g;
  int64_t VW, BL, M;       // vectors per run; floats of a row buffer (a multiple of 16); buffers
  const float *wt;         // [ky][oc][VW·16]: filter row ky, lane kx·inC + ic, zero past kw·inC
  const int64_t *runAt;    // [outW]: where pixel ox's run starts in the M buffers
  __mmask16 keep;          // the last vector's lanes inside the run
};

// ---------------------------------------------------------------------------------------------
// The kernels, built for AVX-512.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")

/** B output-gradient pixels from ox (gradients dz, outC each) into the buffers. */
template <int VW, int B>
static RC_INLINE void inputRuns(const FewK &f, const float *dz, const float *wk, float *buf, int64_t ox) {
  const int64_t O = f.g.outC;
  __m512 a[B][VW];
#pragma GCC unroll 16
  for (int j = 0; j < B; j++)
#pragma GCC unroll 4
    for (int v = 0; v < VW; v++) a[j][v] = _mm512_setzero_ps();
  for (int64_t oc = 0; oc < O; oc++) {
    __m512 w[VW];
#pragma GCC unroll 4
    for (int v = 0; v < VW; v++) w[v] = _mm512_loadu_ps(wk + (oc * VW + v) * 16);
#pragma GCC unroll 16
    for (int j = 0; j < B; j++) {
      const __m512 d = _mm512_set1_ps(dz[j * O + oc]);
#pragma GCC unroll 4
      for (int v = 0; v < VW; v++) a[j][v] = _mm512_fmadd_ps(d, w[v], a[j][v]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < B; j++) {
    float *b = buf + f.runAt[ox + j];
#pragma GCC unroll 4
    for (int v = 0; v < VW - 1; v++) _mm512_storeu_ps(b + 16 * v, _mm512_add_ps(_mm512_loadu_ps(b + 16 * v), a[j][v]));
    float *e = b + 16 * (VW - 1);
    _mm512_mask_storeu_ps(e, f.keep, _mm512_add_ps(_mm512_loadu_ps(e), a[j][VW - 1]));
  }
}

template <int VW>
static RC_INLINE void inputRow(const FewK &f, const float *dz, const float *wk, float *buf) {
  constexpr int B = VW <= 2 ? 8 : 16 / VW;  // B·VW accumulators
  const int64_t W = f.g.outW, O = f.g.outC;
  int64_t ox = 0;
  for (; ox + B <= W; ox += B) inputRuns<VW, B>(f, dz + ox * O, wk, buf, ox);
  for (; ox < W; ox++) inputRuns<VW, 1>(f, dz + ox * O, wk, buf, ox);
}

/** Input-gradient rows [r0, r1) (row r: image r / inH, row r mod inH); buf: M·BL floats. */
static void fewInputRows(const FewK &f, float *buf, const float *dy, float *dx, int64_t r0, int64_t r1) {
  const Geo &g = f.g;
  const int64_t rowLen = g.inW * g.inC, total = f.M * f.BL;
  int64_t n = r0 / g.inH, iy = r0 % g.inH;
  for (int64_t r = r0; r < r1; r++) {
    for (int64_t i = 0; i < total; i += 16) _mm512_store_ps(buf + i, _mm512_setzero_ps());
    for (int64_t ky = 0; ky < g.kh; ky++) {
      int64_t oy = iy + g.padTop - ky * g.dilationH;
      if (oy < 0) continue;
      if (g.strideH > 1) {
        if (oy % g.strideH) continue;
        oy /= g.strideH;
      }
      if (oy >= g.outH) continue;
      const float *dz = dy + (n * g.outH + oy) * g.outW * g.outC;
      const float *wk = f.wt + ky * g.outC * f.VW * 16;
      switch (f.VW) {
        case 1: inputRow<1>(f, dz, wk, buf); break;
        case 2: inputRow<2>(f, dz, wk, buf); break;
        case 3: inputRow<3>(f, dz, wk, buf); break;
        default: inputRow<4>(f, dz, wk, buf); break;
      }
    }
    for (int64_t m = 1; m < f.M; m++) {
      const float *b = buf + m * f.BL;
      for (int64_t i = 0; i < f.BL; i += 16) _mm512_store_ps(buf + i, _mm512_add_ps(_mm512_load_ps(buf + i), _mm512_load_ps(b + i)));
    }
    std::memcpy(dx + r * rowLen, buf + g.padLeft * g.inC, size_t(rowLen) * sizeof(float));
    if (++iy == g.inH) iy = 0, n++;
  }
}

#pragma GCC pop_options
// ---------------------------------------------------------------------------------------------
// Rules, set-up and entry points (built for any processor).

static bool directAllowed() {
  static const bool allowed = [] {
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq") ||
        !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl"))
      return false;
    const char *e = std::getenv("RECEPTIVE_NATIVE_DIRECT");
    return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "false") == 0 || std::strcmp(e, "off") == 0));
  }();
  return allowed;
}

static int64_t runVectors(const Geo &g) { return (g.kw * g.inC + 15) / 16; }

static bool fewInputChannels(const Geo &g) {
  return g.groups == 1 && g.dilationW == 1 && g.inC < 16 && runVectors(g) <= 4 && directAllowed();
}

/** A 64-byte aligned float array, freed with its owner. */
struct Aligned {
  float *p;
  explicit Aligned(size_t n) : p(static_cast<float *>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64))) {
    if (!p) throw std::bad_alloc();
  }
  ~Aligned() { std::free(p); }
  Aligned(const Aligned &) = delete;
  Aligned &operator=(const Aligned &) = delete;
};

static int64_t threadIndex() {
#ifdef _OPENMP
  return omp_in_parallel() ? omp_get_thread_num() : 0;
#else
  return 0;
#endif
}

const char *directBackwardDataKernel(const Geo &g) { return fewInputChannels(g) ? "direct:few-channels" : nullptr; }

void directBackwardData(const Geo &g, const float *dy, const float *w, float *dx) {
  FewK f;
  f.g = g;
  f.VW = runVectors(g);
  const int64_t step = g.strideW * g.inC, run = g.kw * g.inC;
  // Buffer pixel = input pixel + padLeft; pixel ox's run starts at ox·stride.
  f.BL = (std::max((g.outW - 1) * step + 16 * f.VW, (g.padLeft + g.inW) * g.inC) + 15) / 16 * 16;
  f.M = std::max<int64_t>(1, std::min<int64_t>(g.outW, (16 * f.VW + step - 1) / step));  // runs M apart: no overlap
  std::vector<float> wt(size_t(g.kh * g.outC * f.VW * 16), 0.0f);
  for (int64_t ky = 0; ky < g.kh; ky++)
    for (int64_t oc = 0; oc < g.outC; oc++)
      for (int64_t i = 0; i < run; i++)  // i = kx·inC + ic: HWIO element (ky, kx, ic, oc)
        wt[size_t((ky * g.outC + oc) * f.VW * 16 + i)] = w[(ky * g.kw * g.inC + i) * g.outC + oc];
  std::vector<int64_t> runAt(size_t(g.outW));
  for (int64_t ox = 0; ox < g.outW; ox++) runAt[size_t(ox)] = ox % f.M * f.BL + ox * step;
  f.wt = wt.data();
  f.runAt = runAt.data();
  f.keep = __mmask16((1u << (run - 16 * (f.VW - 1))) - 1);
  if (run - 16 * (f.VW - 1) == 16) f.keep = 0xFFFF;
  const int64_t T = maxThreads();
  Aligned buf(size_t(T * f.M * f.BL));
  // Pieces of some thousands of FMAs at least: a row takes about kh / stride · outW · outC · VW.
  const int64_t perRow = std::max<int64_t>(1, g.kh * g.outW * g.outC * f.VW / g.strideH);
  parallelFor(g.batch * g.inH, std::max<int64_t>(1, 8192 / perRow), [&](int64_t r0, int64_t r1) {
    fewInputRows(f, buf.p + threadIndex() * f.M * f.BL, dy, dx, r0, r1);
  });
}

#else  // not x86-64: oneDNN's kernels everywhere

const char *directBackwardDataKernel(const Geo &) { return nullptr; }
void directBackwardData(const Geo &, const float *, const float *, float *) {}

#endif

}  // namespace rc
