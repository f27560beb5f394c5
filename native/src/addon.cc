// receptive's native backend: the N-API module. Kernels live in conv.cc (oneDNN convolutions),
// pool.cc (oneDNN pooling), gemm.cc (oneDNN's sgemm) and elementwise.cc (plain loops); this
// file holds what they share and the module's small functions (version, threads).
#include "common.h"

namespace rc {

dnnl::engine &engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream &stream() {
  static dnnl::stream s(engine());
  return s;
}

static int epoch = 0;

int maxThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int threadEpoch() { return epoch; }

float *floats(const Napi::Value &v, size_t min, const char *what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() < min) {
    throw Napi::RangeError::New(v.Env(), std::string(what) + " has " + std::to_string(a.ElementLength()) +
                                             " elements, needs " + std::to_string(min));
  }
  return a.Data();
}

const int32_t *ints(const Napi::Value &v, size_t min, const char *what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an Int32Array");
  }
  auto a = v.As<Napi::Int32Array>();
  if (a.ElementLength() < min) {
    throw Napi::RangeError::New(v.Env(), std::string(what) + " is too short");
  }
  return a.Data();
}

int64_t integer(const Napi::Value &v, const char *what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an integer");
  }
  return static_cast<int64_t>(d);
}

/**
 * Starts OpenMP's worker threads with every signal blocked (threads inherit the mask of the
 * thread that creates them): signals then go to Node's threads, never into a kernel running on
 * a worker (see SignalsHeld in common.h). Workers already started keep their mask.
 */
static void startWorkersWithoutSignals() {
#ifdef _OPENMP
  SignalsHeld held;
#pragma omp parallel
  { static_cast<void>(omp_get_thread_num()); }
#endif
}

/** setThreads(n): the threads OpenMP (and so oneDNN) uses from now on. */
static Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  const int64_t n = integer(info[0], "threads");
  // receptive's setThreads refuses more than 256 first; this bound keeps libgomp from trying
  // to start tens of thousands of threads (it crashed the process) if a caller skips it.
  if (n < 1 || n > 1024) throw Napi::RangeError::New(info.Env(), "threads must be between 1 and 1024");
#ifdef _OPENMP
  if (n != omp_get_max_threads()) {
    omp_set_num_threads(static_cast<int>(n));
    epoch++;
    startWorkersWithoutSignals();
  }
#endif
  return info.Env().Undefined();
}

static Napi::Value GetThreads(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), maxThreads());
}

/** { onednn: '2.6.3', isa: 'avx512_core_amx', threads } for messages and the bench. */
static Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const dnnl_version_t *v = dnnl_version();
  Napi::Object o = Napi::Object::New(env);
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  const char *isa = "unknown";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: isa = "sse41"; break;
    case dnnl::cpu_isa::avx: isa = "avx"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    default: break;
  }
  o.Set("isa", isa);
  o.Set("threads", maxThreads());
  // conv2dFused takes its residual as an array (an addon built before took it in y only): the
  // TS side asks, so that a stale build still gets y filled in.
  o.Set("residualArray", true);
  return o;
}

}  // namespace rc

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rc::startWorkersWithoutSignals();
  rc::fn<rc::SetThreads>(env, exports, "setThreads");
  rc::fn<rc::GetThreads>(env, exports, "getThreads");
  rc::fn<rc::Info>(env, exports, "info");
  rc::initConv(env, exports);
  rc::initPool(env, exports);
  rc::initGemm(env, exports);
  rc::initElementwise(env, exports);
  rc::initOptim(env, exports);
  return exports;
}

NODE_API_MODULE(receptive_native, Init)
