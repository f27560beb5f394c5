// The convolution geometry the addon's convolution files share, and the hand-written kernel
// of conv_direct.cc (see there for where it is used and why).
#pragma once

#include <cstdint>

namespace rc {

/** ConvInfo's fields in the order src/backend/shared/geometry.ts packs them (a test checks). */
struct Geo {
  int64_t batch, inH, inW, inC, outH, outW, outC, kh, kw, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, padBottom, padRight, groups;
};
constexpr int GEO_FIELDS = 18;

/** The hand-written input-gradient kernel's name where it takes this geometry, else nullptr. */
const char *directBackwardDataKernel(const Geo &g);

/** dx = the gradient of conv(x, w) with respect to x. Only where directBackwardDataKernel names one. */
void directBackwardData(const Geo &g, const float *dy, const float *w, float *dx);

}  // namespace rc
