// Convolutions through oneDNN: forward, backward-data and backward-weights.
//
// Layouts: receptive keeps activations NHWC and filters HWIO (described to oneDNN by their
// strides). Most convolutions run directly on the NHWC activations; filters are reordered into
// the blocked layout the implementation wants (cheap next to the convolution, and kept when a
// filter is used again, as in repeated predictions).
//
// Algorithm, chosen by rules measured on this code's own shapes (see README, "native backend"):
// 3×3 stride-1 convolutions over at least 32 channels and 1024 output pixels (a batch of
// feature maps of 4×4 and up) use Winograd's F(4×4, 3×3), 1.3–1.9× faster in all three passes
// here, at the cost of reordering the activations into oneDNN's blocked layout and back; its
// results differ from direct convolution by ~3e-6 relative (direct: ~2e-7). In training,
// smaller ones (late VGG layers) are faster direct. The fused inference passes take Winograd
// at any size from 4×4 on: ResNet-18's batch-1 convolutions at 28×28, 14×14 and 7×7 ran
// 1.1–1.3× faster with it, reorders included (oneDNN's own timings; the 7×7×512 stage's three:
// 2.5 → 1.9 ms plus 0.1 of reorders; at batch 8, 18 → 12–13.5 ms plus 0.5–0.7).
// RECEPTIVE_NATIVE_WINOGRAD=0 turns Winograd off. Convolutions with few channels (LeNet's)
// prefer oneDNN's plain JIT kernel to its "brgconv" one, which it would pick by default:
// 1.3–1.7× faster there.
//
// Primitives are built once per geometry and kept: building one costs tens of microseconds to
// milliseconds, running a small one a few microseconds.
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "common.h"
#include "conv_direct.h"

namespace rc {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

static Geo readGeo(const Napi::Value &v) {
  const int32_t *g = ints(v, GEO_FIELDS, "conv geometry");
  Geo o{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16], g[17]};
  // The TS ops refuse these first; this keeps a bad geometry from reaching oneDNN (or the
  // direct kernel, which would index out of bounds) if a caller skips them.
  if (o.groups < 1 || o.inC < 1 || o.outC < 1 || o.kh < 1 || o.kw < 1 || o.batch < 0 || o.inH < 1 || o.inW < 1 ||
      o.outH < 1 || o.outW < 1 || o.inC % o.groups || o.outC % o.groups || o.strideH < 1 || o.strideW < 1 ||
      o.dilationH < 1 || o.dilationW < 1) {
    throw Napi::RangeError::New(v.Env(), "invalid conv geometry: every size, stride and dilation must be at least 1");
  }
  return o;
}

static bool winogradAllowed() {
  static const bool allowed = [] {
    const char *e = std::getenv("RECEPTIVE_NATIVE_WINOGRAD");
    return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "false") == 0 || std::strcmp(e, "off") == 0));
  }();
  return allowed;
}

/** A geometry that oneDNN's Winograd kernels take and that is big enough to gain (see the top). */
static bool winogradShape(const Geo &g) {
  return winogradAllowed() && g.kh == 3 && g.kw == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 &&
         g.dilationW == 1 && g.groups == 1 && g.inC >= 32 && g.outC >= 32 && g.outH >= 4 && g.outW >= 4;
}

/** Where Winograd measured faster than direct convolution in all three passes of training. */
static bool preferWinograd(const Geo &g) { return winogradShape(g) && g.batch * g.outH * g.outW >= 1024; }

/** Few channels: oneDNN's plain JIT kernel beats the brgconv one it would pick. */
static bool preferPlainJit(const Geo &g) { return g.groups == 1 && g.inC * g.outC <= 256; }

/** A scratch area for activations in a blocked layout, reused by every call (one call at a time). */
class Arena {
 public:
  void reset() { used_ = 0; }
  void *take(size_t bytes) {
    const size_t at = used_;
    used_ += (bytes + 63) / 64 * 64;
    if (used_ > size_) {
      // Grows between calls only: a call's regions are all taken before it runs.
      size_ = used_ + used_ / 2;
      data_.reset(static_cast<char *>(std::aligned_alloc(64, (size_ + 63) / 64 * 64)));
    }
    return data_.get() + at;
  }
  /** Whether a take() since reset() grew the area (the call must take its regions again). */
  bool grewSince(size_t before) const { return size_ != before; }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(char *p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t size_ = 0, used_ = 0;
};

static Arena arena;

/** One argument of a pass: its layout in JS memory, the primitive's, and the reorder between. */
struct Slot {
  int arg;
  bool output;
  bool weights;
  memory::desc user, impl;
  std::unique_ptr<dnnl::reorder> reo;  // null when the layouts agree
  // An output that the primitive adds to (a sum post-op) in another layout than the user's: the
  // residual is reordered into it first.
  std::unique_ptr<dnnl::reorder> reoIn;
  memory own;                          // weights in the implementation's layout (made on first use: ownOf)
};

/** One oneDNN primitive (a pass of a convolution) and its arguments. */
struct Pass {
  enum class State { unbuilt, ok, unsupported } state = State::unbuilt;
  dnnl::primitive prim;
  std::string impl;
  std::vector<Slot> slots;
  // Forward passes only: filters reordered into the implementation's layout and kept, by the id
  // native_backend.ts gives each filter storage (storages never change): a filter used a second
  // time (inference, evaluation) is kept, so repeated predictions skip the reorder. Training
  // makes new filters every step; those are seen once and never kept.
  bool forward = false;
  std::deque<std::pair<double, memory>> kept;
  std::deque<double> seen;
};

struct ConvEntry {
  Geo g;
  memory::desc src, dst, userW;  // NHWC activations; the HWIO filter as it lies in JS memory
  memory::dims strides, dilates, padL, padR;
  bool winograd;  // whether the rule wants Winograd (each pass falls back to direct without it)
  Pass fwd, bd, bw;
  // Inference with a bias: index bit 0 = ReLU applied to the output, bit 1 = a residual added
  // before it (the output array holds the residual on entry: oneDNN's sum post-op).
  Pass fused[4];
};

static memory::desc hwioDesc(const Geo &g) {
  const int64_t I = g.inC / g.groups, O = g.outC, G = g.groups;
  // Element (kh, kw, i, o) sits at ((kh·kw_count + kw)·I + i)·O + o; o = group·(O/G) + o'.
  if (G == 1) return memory::desc({O, I, g.kh, g.kw}, dt::f32, {1, O, g.kw * I * O, I * O});
  return memory::desc({G, O / G, I, g.kh, g.kw}, dt::f32, {O / G, 1, O, g.kw * I * O, I * O});
}

static memory::desc anyWeights(const Geo &g) {
  const int64_t I = g.inC / g.groups, O = g.outC, G = g.groups;
  if (G == 1) return memory::desc({O, I, g.kh, g.kw}, dt::f32, tag::any);
  return memory::desc({G, O / G, I, g.kh, g.kw}, dt::f32, tag::any);
}

static std::map<std::vector<int64_t>, std::unique_ptr<ConvEntry>> cache;
static int cacheEpoch = -1;

static ConvEntry &entry(const Geo &g) {
  if (cacheEpoch != threadEpoch()) {
    cache.clear();
    cacheEpoch = threadEpoch();
  }
  // Caches grow with the number of distinct geometries a program uses (tens for a zoo model);
  // a program that sweeps shapes gets a fresh cache now and then.
  if (cache.size() > 512) cache.clear();
  std::vector<int64_t> key(reinterpret_cast<const int64_t *>(&g), reinterpret_cast<const int64_t *>(&g) + GEO_FIELDS);
  auto &slot = cache[key];
  if (!slot) {
    slot = std::make_unique<ConvEntry>();
    ConvEntry &e = *slot;
    e.g = g;
    e.src = memory::desc({g.batch, g.inC, g.inH, g.inW}, dt::f32, tag::nhwc);
    e.dst = memory::desc({g.batch, g.outC, g.outH, g.outW}, dt::f32, tag::nhwc);
    e.userW = hwioDesc(g);
    e.strides = {g.strideH, g.strideW};
    e.dilates = {g.dilationH - 1, g.dilationW - 1};  // oneDNN counts the gaps
    e.padL = {g.padTop, g.padLeft};
    e.padR = {g.padBottom, g.padRight};
    e.winograd = preferWinograd(g);
  }
  return *slot;
}

static bool unimplemented(const dnnl::error &err) { return err.status == dnnl_unimplemented; }

/** The activation layout to ask for: NHWC as in JS memory, or oneDNN's choice for Winograd. */
static memory::desc act(const memory::desc &nhwc, bool winograd) {
  return winograd ? memory::desc(nhwc.dims(), dt::f32, tag::any) : nhwc;
}

template <class PD>
static PD plainJitIfWanted(PD pd, const Geo &g) {
  if (!preferPlainJit(g)) return pd;
  PD probe = pd;
  do {
    if (std::strncmp(probe.impl_info_str(), "jit:", 4) == 0) return probe;
  } while (probe.next_impl());
  return pd;
}

static Slot slot(int arg, bool output, bool weights, const memory::desc &user, const memory::desc &impl) {
  Slot s{arg, output, weights, user, impl, nullptr, nullptr, memory()};
  if (impl != user) {
    s.reo = output ? std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(engine(), impl, engine(), user))
                   : std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(engine(), user, engine(), impl));
  }
  return s;
}

static dnnl::algorithm algorithm(bool winograd) {
  return winograd ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
}

/** The forward primitive descriptor with Winograd or direct convolution (throws if none). */
static dnnl::convolution_forward::primitive_desc forwardPd(const ConvEntry &e, bool wino) {
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, algorithm(wino), act(e.src, wino),
                                    anyWeights(e.g), act(e.dst, wino), e.strides, e.dilates, e.padL, e.padR);
  return plainJitIfWanted(dnnl::convolution_forward::primitive_desc(d, engine()), e.g);
}

/**
 * Builds a pass with `make(winograd, hint)`, Winograd first where the rule wants it, direct
 * convolution if oneDNN has no Winograd implementation of it; false: no implementation at all.
 */
template <class Make>
static bool build(ConvEntry &e, Pass &p, const Make &make) {
  if (p.state != Pass::State::unbuilt) return p.state == Pass::State::ok;
  p.state = Pass::State::unsupported;
  for (const bool wino : {true, false}) {
    if (wino && !e.winograd) continue;
    try {
      make(wino, forwardPd(e, wino));
      p.state = Pass::State::ok;
      return true;
    } catch (const dnnl::error &err) {
      if (!unimplemented(err)) throw;
    }
  }
  return false;
}

static bool buildForward(ConvEntry &e) {
  e.fwd.forward = true;
  return build(e, e.fwd, [&](bool, const dnnl::convolution_forward::primitive_desc &pd) {
    e.fwd.prim = dnnl::convolution_forward(pd);
    e.fwd.impl = pd.impl_info_str();
    e.fwd.slots.clear();
    e.fwd.slots.push_back(slot(DNNL_ARG_SRC, false, false, e.src, pd.src_desc()));
    e.fwd.slots.push_back(slot(DNNL_ARG_WEIGHTS, false, true, e.userW, pd.weights_desc()));
    e.fwd.slots.push_back(slot(DNNL_ARG_DST, true, false, e.dst, pd.dst_desc()));
  });
}

/**
 * Whether some output pixel's window lies wholly in the padding. oneDNN 2.6's brgconv kernel
 * with a sum and a ReLU post-op crashes on some of these (seen: a 2×8 kernel, padding 2 or 3),
 * so the residual pass declines them (receptive then adds and applies ReLU separately).
 */
static bool paddingOnlyWindows(const Geo &g) {
  const int64_t h = (g.kh - 1) * g.dilationH + 1, w = (g.kw - 1) * g.dilationW + 1;
  return g.padTop >= h || g.padBottom >= h || g.padLeft >= w || g.padRight >= w;
}

/**
 * Inference: y = conv(x, w) + bias (+ y's residual), then ReLU if `relu`, in one primitive (the
 * bias, residual and ReLU are applied as each output block is written: no extra passes). With
 * a residual on a Winograd geometry (blocked output), the residual is reordered into the
 * blocked output first: one pass, where adding and applying ReLU apart would take two.
 */
static bool buildFused(ConvEntry &e, bool relu, bool residual) {
  Pass &p = e.fused[(relu ? 1 : 0) | (residual ? 2 : 0)];
  if (p.state != Pass::State::unbuilt) return p.state == Pass::State::ok;
  p.state = Pass::State::unsupported;
  p.forward = true;
  const memory::desc bias({e.g.outC}, dt::f32, tag::x);
  if (residual && paddingOnlyWindows(e.g)) return false;
  dnnl::primitive_attr attr;
  dnnl::post_ops ops;
  if (residual) ops.append_sum(1.0f);
  if (relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  attr.set_post_ops(ops);
  for (const bool wino : {true, false}) {
    if (wino && !winogradShape(e.g)) continue;
    try {
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, algorithm(wino), act(e.src, wino),
                                        anyWeights(e.g), bias, act(e.dst, wino), e.strides, e.dilates, e.padL, e.padR);
      auto pd = plainJitIfWanted(dnnl::convolution_forward::primitive_desc(d, attr, engine()), e.g);
      p.prim = dnnl::convolution_forward(pd);
      p.impl = pd.impl_info_str();
      p.slots.clear();
      p.slots.push_back(slot(DNNL_ARG_SRC, false, false, e.src, pd.src_desc()));
      p.slots.push_back(slot(DNNL_ARG_WEIGHTS, false, true, e.userW, pd.weights_desc()));
      p.slots.push_back(slot(DNNL_ARG_BIAS, false, false, bias, pd.bias_desc()));
      p.slots.push_back(slot(DNNL_ARG_DST, true, false, e.dst, pd.dst_desc()));
      Slot &dst = p.slots.back();
      if (residual && dst.reo) {
        dst.reoIn = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(engine(), e.dst, engine(), dst.impl));
      }
      p.state = Pass::State::ok;
      return true;
    } catch (const dnnl::error &err) {
      if (!unimplemented(err)) throw;
    }
  }
  return false;
}

static bool buildBackwardData(ConvEntry &e) {
  return build(e, e.bd, [&](bool wino, const dnnl::convolution_forward::primitive_desc &hint) {
    dnnl::convolution_backward_data::desc d(algorithm(wino), act(e.src, wino), anyWeights(e.g), act(e.dst, wino),
                                            e.strides, e.dilates, e.padL, e.padR);
    dnnl::convolution_backward_data::primitive_desc pd(d, engine(), hint);
    e.bd.prim = dnnl::convolution_backward_data(pd);
    e.bd.impl = pd.impl_info_str();
    e.bd.slots.clear();
    e.bd.slots.push_back(slot(DNNL_ARG_DIFF_DST, false, false, e.dst, pd.diff_dst_desc()));
    e.bd.slots.push_back(slot(DNNL_ARG_WEIGHTS, false, true, e.userW, pd.weights_desc()));
    e.bd.slots.push_back(slot(DNNL_ARG_DIFF_SRC, true, false, e.src, pd.diff_src_desc()));
  });
}

/**
 * oneDNN 2.6's jit_1x1 backward-weights kernel, for a strided 1×1 convolution (it first copies
 * the strided pixels into a buffer, "rtus"), corrupts the heap when it runs on more than one
 * thread for some shapes (seen: batch 1, 21×21×5 → 7×7×1 and 15×15×1 → 5×5×4, stride 3, two
 * threads: "double free or corruption (out)", "corrupted size vs. prev_size", segfaults, a
 * few calls in; the randomized tests' heisenbug). Found with test/robust/native_stress_child.ts;
 * forward and backward-data 1×1 kernels did not. Such geometries take oneDNN's next
 * implementation instead.
 */
static bool avoidJit1x1BackwardWeights(const Geo &g) {
  return g.kh == 1 && g.kw == 1 && (g.strideH > 1 || g.strideW > 1);
}

static bool buildBackwardWeights(ConvEntry &e) {
  return build(e, e.bw, [&](bool wino, const dnnl::convolution_forward::primitive_desc &hint) {
    dnnl::convolution_backward_weights::desc d(algorithm(wino), act(e.src, wino), anyWeights(e.g), act(e.dst, wino),
                                               e.strides, e.dilates, e.padL, e.padR);
    dnnl::convolution_backward_weights::primitive_desc pd(d, engine(), hint);
    if (avoidJit1x1BackwardWeights(e.g)) {
      while (std::strncmp(pd.impl_info_str(), "jit_1x1", 7) == 0 && pd.next_impl()) {
      }
      if (std::strncmp(pd.impl_info_str(), "jit_1x1", 7) == 0) {
        throw dnnl::error(dnnl_unimplemented, "only jit_1x1 implements this strided 1x1 backward-weights pass");
      }
    }
    e.bw.prim = dnnl::convolution_backward_weights(pd);
    e.bw.impl = pd.impl_info_str();
    e.bw.slots.clear();
    e.bw.slots.push_back(slot(DNNL_ARG_SRC, false, false, e.src, pd.src_desc()));
    e.bw.slots.push_back(slot(DNNL_ARG_DIFF_DST, false, false, e.dst, pd.diff_dst_desc()));
    e.bw.slots.push_back(slot(DNNL_ARG_DIFF_WEIGHTS, true, true, e.userW, pd.diff_weights_desc()));
  });
}

/** A slot's own buffer for weights in the implementation's layout, made when first needed. */
static memory &ownOf(Slot &s) {
  if (!s.own) s.own = memory(s.impl, engine());
  return s.own;
}

/** How many reordered filters a geometry keeps, and how many filter ids it remembers. */
constexpr size_t KEEP = 16, SEEN = 64;

/** The forward filter in the implementation's layout: kept from an earlier call, or reordered. */
static memory forwardWeights(Pass &e, Slot &s, memory user, double id) {
  if (id > 0) {
    for (auto &k : e.kept) {
      if (k.first == id) {
        // Filters that come back are kept: the slot's own buffer (for filters seen once, as
        // training's) is not needed while they do. Winograd's are up to four times a filter's size.
        s.own = memory();
        return k.second;
      }
    }
    for (double seenId : e.seen) {
      if (seenId == id) {
        memory m(s.impl, engine());
        s.reo->execute(stream(), user, m);
        e.kept.emplace_front(id, m);
        if (e.kept.size() > KEEP) e.kept.pop_back();
        return m;
      }
    }
    e.seen.push_front(id);
    if (e.seen.size() > SEEN) e.seen.pop_back();
  }
  s.reo->execute(stream(), user, ownOf(s));
  return s.own;
}

/**
 * Runs a pass on the JS arrays `data` (one per slot, in slot order): inputs reordered into the
 * implementation's layouts first, outputs reordered back after. wId: the forward filter's id.
 * residual: what a sum post-op adds to, put into the output first (reordered into a blocked
 * output, else copied by every thread); null: the output holds it, or there is none.
 */
static void run(ConvEntry &e, Pass &p, float *const *data, double wId, const float *residual = nullptr) {
  // oneDNN's GEMM-based convolutions (its pick for many backward passes: grouped, strided,
  // dilated, few channels) run the same JIT sgemm that corrupts the heap when a signal is
  // handled on the calling thread mid-call (see SignalsHeld): under a profiler's SIGPROF they
  // died with "corrupted size vs. prev_size" or "double free or corruption (out)", and a loaded
  // machine, where calls take longer, makes a stray signal mid-call likelier. Hold them off
  // for every pass (two system calls; a pass takes tens of microseconds at least).
  SignalsHeld held;
  // Activation buffers in blocked layouts come from the arena; take them all, then run.
  size_t before;
  std::vector<void *> scratch(p.slots.size(), nullptr);
  do {
    before = arena.size();
    arena.reset();
    for (size_t i = 0; i < p.slots.size(); i++) {
      if (p.slots[i].reo && !p.slots[i].weights) scratch[i] = arena.take(p.slots[i].impl.get_size());
    }
  } while (arena.grewSince(before));
  std::unordered_map<int, memory> args;
  std::vector<memory> users;
  for (size_t i = 0; i < p.slots.size(); i++) {
    Slot &s = p.slots[i];
    memory user(s.user, engine(), data[i]);
    users.push_back(user);
    if (!s.reo) {
      if (s.output && residual) {
        float *y = data[i];
        parallelFor(int64_t(s.user.get_size() / sizeof(float)), 1 << 15,
                    [&](int64_t b, int64_t end) { std::memcpy(y + b, residual + b, size_t(end - b) * sizeof(float)); }, 16);
      }
      args.emplace(s.arg, user);
    } else if (s.weights && !s.output) {
      args.emplace(s.arg, p.forward ? forwardWeights(p, s, user, wId) : (s.reo->execute(stream(), user, ownOf(s)), s.own));
    } else {
      memory m = s.weights ? ownOf(s) : memory(s.impl, engine(), scratch[i]);
      if (!s.output) s.reo->execute(stream(), user, m);
      if (s.reoIn) {
        memory from = residual ? memory(s.user, engine(), const_cast<float *>(residual)) : user;
        s.reoIn->execute(stream(), from, m);
      }
      args.emplace(s.arg, m);
    }
  }
  p.prim.execute(stream(), args);
  for (size_t i = 0; i < p.slots.size(); i++) {
    Slot &s = p.slots[i];
    if (s.output && s.reo) s.reo->execute(stream(), args.at(s.arg), users[i]);
  }
  stream().wait();
}

static size_t count(const Geo &g, int which) {
  switch (which) {
    case 0: return size_t(g.batch * g.inH * g.inW * g.inC);
    case 1: return size_t(g.batch * g.outH * g.outW * g.outC);
    default: return size_t(g.kh * g.kw * (g.inC / g.groups) * g.outC);
  }
}

/**
 * conv2d(x, w, y, geo, wId): y = conv(x, w); false when oneDNN has no implementation for this
 * geometry. wId: a number that identifies the filter for as long as it lives (0: none).
 */
static Napi::Value Conv2d(const Napi::CallbackInfo &info) {
  const Geo g = readGeo(info[3]);
  float *data[3] = {floats(info[0], count(g, 0), "x"), floats(info[1], count(g, 2), "w"), floats(info[2], count(g, 1), "y")};
  const double id = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : 0;
  ConvEntry &e = entry(g);
  if (!buildForward(e)) return Napi::Boolean::New(info.Env(), false);
  run(e, e.fwd, data, id);
  return Napi::Boolean::New(info.Env(), true);
}

/**
 * conv2dFused(x, w, bias, y, geo, wId, relu, residual): y = conv(x, w) + bias (+ residual), then
 * ReLU if relu; residual: an array of y's size, or true when y holds it on entry, or false;
 * false when oneDNN has no implementation for this. An array spares the caller a copy into y on
 * its one thread: a blocked output takes the residual by a reorder, y by a threaded copy.
 */
static Napi::Value Conv2dFused(const Napi::CallbackInfo &info) {
  const Geo g = readGeo(info[4]);
  float *data[4] = {floats(info[0], count(g, 0), "x"), floats(info[1], count(g, 2), "w"),
                    floats(info[2], size_t(g.outC), "bias"), floats(info[3], count(g, 1), "y")};
  const double id = info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : 0;
  const bool relu = info[6].ToBoolean();
  const float *residualArray = info[7].IsTypedArray() ? floats(info[7], count(g, 1), "residual") : nullptr;
  const bool residual = residualArray || info[7].ToBoolean();
  ConvEntry &e = entry(g);
  if (!buildFused(e, relu, residual)) return Napi::Boolean::New(info.Env(), false);
  run(e, e.fused[(relu ? 1 : 0) | (residual ? 2 : 0)], data, id, residualArray);
  return Napi::Boolean::New(info.Env(), true);
}

/** conv2dBackwardInput(dy, w, dx, geo): dx = the gradient of conv(x, w) with respect to x. */
static Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo &info) {
  const Geo g = readGeo(info[3]);
  float *data[3] = {floats(info[0], count(g, 1), "dy"), floats(info[1], count(g, 2), "w"), floats(info[2], count(g, 0), "dx")};
  if (directBackwardDataKernel(g)) {
    directBackwardData(g, data[0], data[1], data[2]);
    return Napi::Boolean::New(info.Env(), true);
  }
  ConvEntry &e = entry(g);
  if (!buildBackwardData(e)) return Napi::Boolean::New(info.Env(), false);
  run(e, e.bd, data, 0);
  return Napi::Boolean::New(info.Env(), true);
}

/** conv2dBackwardFilter(x, dy, dw, geo): dw = the gradient with respect to the HWIO filter. */
static Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo &info) {
  const Geo g = readGeo(info[3]);
  float *data[3] = {floats(info[0], count(g, 0), "x"), floats(info[1], count(g, 1), "dy"), floats(info[2], count(g, 2), "dw")};
  ConvEntry &e = entry(g);
  if (!buildBackwardWeights(e)) return Napi::Boolean::New(info.Env(), false);
  run(e, e.bw, data, 0);
  return Napi::Boolean::New(info.Env(), true);
}

/**
 * convImpl(geo): the implementations chosen for forward, backward-data, backward-weights, and
 * the inference pass with a residual and ReLU ("none" where it declines).
 */
static Napi::Value ConvImpl(const Napi::CallbackInfo &info) {
  const Geo g = readGeo(info[0]);
  ConvEntry &e = entry(g);
  Napi::Object o = Napi::Object::New(info.Env());
  const char *direct = directBackwardDataKernel(g);
  o.Set("forward", buildForward(e) ? e.fwd.impl : "none");
  o.Set("backwardData", direct ? direct : buildBackwardData(e) ? e.bd.impl : "none");
  o.Set("backwardWeights", buildBackwardWeights(e) ? e.bw.impl : "none");
  o.Set("fusedResidual", buildFused(e, true, true) ? e.fused[3].impl : "none");
  return o;
}

void initConv(Napi::Env env, Napi::Object exports) {
  fn<Conv2d>(env, exports, "conv2d");
  fn<Conv2dFused>(env, exports, "conv2dFused");
  fn<Conv2dBackwardInput>(env, exports, "conv2dBackwardInput");
  fn<Conv2dBackwardFilter>(env, exports, "conv2dBackwardFilter");
  fn<ConvImpl>(env, exports, "convImpl");
}

}  // namespace rc
