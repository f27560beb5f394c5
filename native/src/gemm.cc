// Matrix products through oneDNN's sgemm (JIT-generated AVX-512 / AVX2 kernels, threaded).
#include "common.h"

namespace rc {

/** matmul(a, b, c, batch, m, n, k, transA, transB): c[i] = op(a[i]) · op(b[i]), row-major. */
static Napi::Value Matmul(const Napi::CallbackInfo &info) {
  const int64_t batch = integer(info[3], "batch"), m = integer(info[4], "m"), n = integer(info[5], "n"),
                k = integer(info[6], "k");
  const bool tA = info[7].ToBoolean(), tB = info[8].ToBoolean();
  if (batch < 0 || m < 1 || n < 1 || k < 1) throw Napi::RangeError::New(info.Env(), "matmul: sizes must be positive");
  const float *a = floats(info[0], size_t(batch * m * k), "a");
  const float *b = floats(info[1], size_t(batch * k * n), "b");
  float *c = floats(info[2], size_t(batch * m * n), "c");
  SignalsHeld held;  // (see common.h)
  for (int64_t i = 0; i < batch; i++) {
    const dnnl_status_t st = dnnl_sgemm(tA ? 'T' : 'N', tB ? 'T' : 'N', m, n, k, 1.0f, a + i * m * k, tA ? m : k,
                                        b + i * k * n, tB ? k : n, 0.0f, c + i * m * n, n);
    if (st != dnnl_success) throw Napi::Error::New(info.Env(), "oneDNN sgemm failed with status " + std::to_string(st));
  }
  return info.Env().Undefined();
}

void initGemm(Napi::Env env, Napi::Object exports) { fn<Matmul>(env, exports, "matmul"); }

}  // namespace rc
