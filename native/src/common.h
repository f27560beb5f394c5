// Shared by the addon's files: the oneDNN engine and stream, typed-array access, a parallel loop.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <dnnl.hpp>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <csignal>
#include <pthread.h>

// Memory-bound loops are built for AVX-512, AVX2 and the baseline, chosen at load time by the
// CPU (GCC/Clang function multiversioning), so the addon stays portable across x86-64 machines.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__APPLE__)
#define RC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RC_CLONES
#endif

namespace rc {

dnnl::engine &engine();
dnnl::stream &stream();

/** The number of threads kernels use (OpenMP's, which oneDNN shares). */
int maxThreads();

/** Bumped by setThreads: oneDNN primitives are built for a thread count, so caches key on it. */
int threadEpoch();

/**
 * Holds off signals on this thread while it lives; they arrive when it ends. oneDNN 2.6's
 * sgemm corrupted the heap when a signal handler ran on its thread mid-call (seen with a
 * profiler's SIGPROF; any signal could do it), so gemm.cc calls it under one of these, as
 * conv.cc runs every oneDNN convolution (its GEMM-based ones use the same sgemm), and the
 * addon's worker threads block signals for good (see addon.cc).
 */
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    // Not the signals a fault raises: blocked, a crash would end the process silently instead
    // of reaching Node's (or a sanitizer's) report.
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&all, s);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsHeld(const SignalsHeld &) = delete;
  SignalsHeld &operator=(const SignalsHeld &) = delete;

 private:
  sigset_t old_;
};

/** The float32 data of a Float32Array argument holding at least `min` elements (else throws). */
float *floats(const Napi::Value &v, size_t min, const char *what);

/** The int32 data of an Int32Array argument holding at least `min` elements (else throws). */
const int32_t *ints(const Napi::Value &v, size_t min, const char *what);

/** An integer argument (else throws). */
int64_t integer(const Napi::Value &v, const char *what);

/**
 * Runs f(begin, end) over [0, n) split into one contiguous piece per thread, or on the calling
 * thread alone when n is below 2 · grain (a parallel region costs a few microseconds). Piece
 * boundaries fall on multiples of `align` (16 floats for flat arrays: whole cache lines).
 */
template <class F>
void parallelFor(int64_t n, int64_t grain, const F &f, int64_t align = 1) {
  int64_t nt = maxThreads();
  if (grain > 0 && n / grain < nt) nt = n / grain;
  if (nt <= 1) {
    f(int64_t(0), n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(int(nt))
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t b = std::min(n, (n * t / T + align - 1) / align * align);
    const int64_t e = t == T - 1 ? n : std::min(n, (n * (t + 1) / T + align - 1) / align * align);
    if (b < e) f(b, e);
  }
#else
  f(int64_t(0), n);
#endif
}

/**
 * An N-API entry point that never lets a C++ exception escape into Node (which would end the
 * process with std::terminate): oneDNN's dnnl::error, std::bad_alloc and any other exception
 * become a JS Error (native_backend.ts turns it into a BackendError naming the op). Every
 * function the addon exports is registered through this (see fn below).
 */
template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value guarded(const Napi::CallbackInfo &info) {
  try {
    return F(info);
  } catch (const Napi::Error &) {
    throw;  // already a JS error
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN error (status ") + std::to_string(int(e.status)) + "): " + e.what());
  } catch (const std::bad_alloc &) {
    throw Napi::Error::New(info.Env(), "out of memory in the native addon");
  } catch (const std::exception &e) {
    throw Napi::Error::New(info.Env(), std::string("C++ exception: ") + e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), "unknown C++ exception");
  }
}

/** exports[name] = F, guarded. */
template <Napi::Value (*F)(const Napi::CallbackInfo &)>
void fn(Napi::Env env, Napi::Object exports, const char *name) {
  exports.Set(name, Napi::Function::New(env, guarded<F>, name));
}

void initConv(Napi::Env env, Napi::Object exports);
void initPool(Napi::Env env, Napi::Object exports);
void initElementwise(Napi::Env env, Napi::Object exports);
void initGemm(Napi::Env env, Napi::Object exports);
void initOptim(Napi::Env env, Napi::Object exports);

}  // namespace rc
