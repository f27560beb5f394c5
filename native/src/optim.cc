// The fused SGD update (optim/sgd.ts's step of one parameter in one pass over memory): the
// composed elementwise ops read and write the parameter's size four to six times and leave two
// to four temporaries of that size per parameter; this reads p, g and the momentum buffer once
// and writes the new p and buffer. Values match the composed ops bit for bit (each operation
// rounded to float32; the build turns contraction into fused multiply-adds off).
#include "common.h"

namespace rc {

/** Elements per thread at least (elementwise.cc's grain for its Adam update: two streams in, two out). */
constexpr int64_t SGD_GRAIN = (1 << 15) / 4;

/** SGD's scalars, rounded to float32 as the composed ops round their scalar operands. */
struct SgdScalars {
  float lr, momentum, weightDecay;
};

template <bool WD, bool MOM, bool NEST>
static inline __attribute__((always_inline)) void sgdLoop(const SgdScalars &h, const float *__restrict p,
                                                          const float *__restrict g, const float *__restrict buf,
                                                          float *__restrict pOut, float *__restrict bufOut, int64_t b,
                                                          int64_t e) {
  for (int64_t i = b; i < e; i++) {
    float gi = g[i];
    if (WD) gi = gi + p[i] * h.weightDecay;  // add(grad, mul(p, wd))
    float d = gi;
    if (MOM) {
      const float bi = buf[i] * h.momentum + gi;  // add(mul(buf, momentum), g)
      bufOut[i] = bi;
      d = NEST ? gi + bi * h.momentum : bi;  // add(g, mul(buf, momentum)) or buf
    }
    pOut[i] = p[i] - d * h.lr;  // sub(p, mul(d, lr))
  }
}

RC_CLONES static void sgdRange(const SgdScalars &h, bool wd, bool mom, bool nest, const float *p, const float *g,
                               const float *buf, float *pOut, float *bufOut, int64_t b, int64_t e) {
  if (!mom) {
    if (wd) sgdLoop<true, false, false>(h, p, g, buf, pOut, bufOut, b, e);
    else sgdLoop<false, false, false>(h, p, g, buf, pOut, bufOut, b, e);
  } else if (nest) {
    if (wd) sgdLoop<true, true, true>(h, p, g, buf, pOut, bufOut, b, e);
    else sgdLoop<false, true, true>(h, p, g, buf, pOut, bufOut, b, e);
  } else {
    if (wd) sgdLoop<true, true, false>(h, p, g, buf, pOut, bufOut, b, e);
    else sgdLoop<false, true, false>(h, p, g, buf, pOut, bufOut, b, e);
  }
}

/**
 * sgd(p, g, buf, pOut, bufOut, scalars, nesterov): one SGD step of one parameter; buf and bufOut
 * are null without momentum. scalars: a Float32Array of the learning rate, the momentum and the
 * weight decay (0: none).
 */
static Napi::Value Sgd(const Napi::CallbackInfo &info) {
  const float *p = floats(info[0], 0, "p");
  const int64_t n = int64_t(info[0].As<Napi::Float32Array>().ElementLength());
  const float *g = floats(info[1], size_t(n), "g");
  const bool mom = !info[2].IsNull() && !info[2].IsUndefined();
  const float *buf = mom ? floats(info[2], size_t(n), "buf") : nullptr;
  float *pOut = floats(info[3], size_t(n), "pOut");
  float *bufOut = mom ? floats(info[4], size_t(n), "bufOut") : nullptr;
  const float *s = floats(info[5], 3, "scalars");
  const bool nest = info[6].ToBoolean().Value();
  const SgdScalars h{s[0], s[1], s[2]};
  const bool wd = h.weightDecay != 0.0f;
  parallelFor(n, SGD_GRAIN, [&](int64_t b, int64_t e) { sgdRange(h, wd, mom, nest, p, g, buf, pOut, bufOut, b, e); }, 16);
  return info.Env().Undefined();
}

void initOptim(Napi::Env env, Napi::Object exports) { fn<Sgd>(env, exports, "sgd"); }

}  // namespace rc
