// 2-D convolution (NHWC activations, HWIO filters as TF.js stores them) on oneDNN: forward with optional
// bias and fused activation, backward data, backward weights. Primitives are created once per geometry and
// cached; activations are used in place (no layout change), filters are reordered into the layout the
// primitive prefers on every call (they change every step; the reorder is small next to the convolution).
//
// Unpadded 1×1 convolutions are plain matrix products and run as gather + sgemm here instead: oneDNN 2.6's
// jit_1x1 backward-weights kernel with stride 2 returned wrong filters on some calls (nondeterministically,
// with 2 threads; tests/engine/native/conv_test.ts repeats the case).
#include <array>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>
#include "activation.h"
#include "common.h"

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// Geometry as passed from TypeScript (lib/engine/native/kernels/conv.ts), in this order.
struct Geom {
  int32_t n, h, w, c, kh, kw, co, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow;
};
constexpr int kGeomLen = 17;
using Key = std::array<int32_t, kGeomLen + 2>;

Geom read_geom(const int32_t* g) {
  return Geom{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16]};
}
Key make_key(const int32_t* g, int32_t a, int32_t b) {
  Key k{};
  for (int i = 0; i < kGeomLen; i++) k[i] = g[i];
  k[kGeomLen] = a;
  k[kGeomLen + 1] = b;
  return k;
}

struct Descs {
  memory::desc src, wei_any, wei_hwio, dst, bias;
  memory::dims strides, dilates, pad_l, pad_r;
};

Descs descs(const Geom& g) {
  return Descs{
      memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nhwc),
      memory::desc({g.co, g.c, g.kh, g.kw}, dt::f32, tag::any),
      memory::desc({g.co, g.c, g.kh, g.kw}, dt::f32, tag::hwio),
      memory::desc({g.n, g.co, g.oh, g.ow}, dt::f32, tag::nhwc),
      memory::desc({g.co}, dt::f32, tag::x),
      {g.sh, g.sw},
      {g.dh - 1, g.dw - 1},  // oneDNN counts dilation from 0
      {g.pt, g.pl},
      {g.pb, g.pr},
  };
}

// Activation codes shared with lib/engine/native/kernels/conv.ts.
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kSigmoid = 4, kLeakyRelu = 5 };

primitive_attr activation_attr(int act, float alpha) {
  post_ops po;
  switch (act) {
    case kLinear: break;
    case kRelu: po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f); break;
    case kElu: po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    case kLeakyRelu: po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    default: throw std::invalid_argument("unknown activation code " + std::to_string(act));
  }
  primitive_attr attr;
  attr.set_post_ops(po);
  return attr;
}

convolution_forward::primitive_desc forward_pd(const Descs& d, bool bias, const primitive_attr& attr) {
  auto desc = bias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src,
                                               d.wei_any, d.bias, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r)
                   : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src,
                                               d.wei_any, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r);
  return convolution_forward::primitive_desc(desc, attr, ood::cpu_engine());
}

// Filters in the primitive's layout: either the caller's HWIO buffer itself, or a reordered copy.
struct Filters {
  memory::desc user;
  memory::desc prim;
  bool needs_reorder;
  std::unique_ptr<reorder> to_prim;    // user -> prim (forward, backward data)
  std::unique_ptr<reorder> to_user;    // prim -> user (backward weights)
  std::unique_ptr<memory> scratch;     // prim-layout buffer owned by oneDNN

  Filters(const memory::desc& user_desc, const memory::desc& prim_desc, bool into_prim)
      : user(user_desc), prim(prim_desc), needs_reorder(user_desc != prim_desc) {
    if (!needs_reorder) return;
    scratch = std::make_unique<memory>(prim, ood::cpu_engine());
    memory u(user, ood::cpu_engine(), DNNL_MEMORY_NONE);
    if (into_prim) to_prim = std::make_unique<reorder>(u, *scratch);
    else to_user = std::make_unique<reorder>(*scratch, u);
  }
};

// A cached primitive with its descriptor and the filter layout it wants. For backward weights the filters
// are the primitive's output (diff_weights), reordered back to HWIO; otherwise they are an input.
template <class Primitive>
struct Cached {
  typename Primitive::primitive_desc pd;
  Primitive prim;
  Filters filters;
  Cached(typename Primitive::primitive_desc p, const memory::desc& hwio, const memory::desc& prim_filters,
         bool filters_are_input)
      : pd(p), prim(p), filters(hwio, prim_filters, filters_are_input) {}
};
using Forward = Cached<convolution_forward>;
using BackwardData = Cached<convolution_backward_data>;
using BackwardWeights = Cached<convolution_backward_weights>;

// Never destroyed (see runtime.cpp): primitives must not be torn down after the OpenMP runtime at exit.
auto& forward_cache = *new std::map<Key, std::unique_ptr<Forward>>();
auto& backward_data_cache = *new std::map<Key, std::unique_ptr<BackwardData>>();
auto& backward_weights_cache = *new std::map<Key, std::unique_ptr<BackwardWeights>>();

bool pointwise(const Geom& g) {
  return g.kh == 1 && g.kw == 1 && g.pt == 0 && g.pl == 0 && g.dh == 1 && g.dw == 1;
}
long out_rows(const Geom& g) { return static_cast<long>(g.n) * g.oh * g.ow; }

// True when the 1×1 convolution reads every input pixel, in order (no gather needed).
bool dense_rows(const Geom& g) { return g.sh == 1 && g.sw == 1 && g.oh == g.h && g.ow == g.w; }

// xs[n, oh, ow, :] = x[n, oh·sh, ow·sw, :]; returns x itself when nothing needs gathering.
const float* gather(const Geom& g, const float* x, std::vector<float>& buf) {
  if (dense_rows(g)) return x;
  buf.resize(static_cast<size_t>(out_rows(g)) * g.c);
#pragma omp parallel for schedule(static) collapse(2)
  for (int n = 0; n < g.n; n++)
    for (int oh = 0; oh < g.oh; oh++)
      for (int ow = 0; ow < g.ow; ow++) {
        const float* src = x + ((static_cast<long>(n) * g.h + oh * g.sh) * g.w + ow * g.sw) * g.c;
        std::copy(src, src + g.c, buf.data() + ((static_cast<long>(n) * g.oh + oh) * g.ow + ow) * g.c);
      }
  return buf.data();
}

// dx = 0 except dx[n, oh·sh, ow·sw, :] = dxs[n, oh, ow, :].
void scatter(const Geom& g, const float* dxs, float* dx) {
  const long image = static_cast<long>(g.h) * g.w * g.c;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < g.n; n++) {
    std::fill(dx + n * image, dx + (n + 1) * image, 0.f);
    for (int oh = 0; oh < g.oh; oh++)
      for (int ow = 0; ow < g.ow; ow++) {
        const float* src = dxs + ((static_cast<long>(n) * g.oh + oh) * g.ow + ow) * g.c;
        std::copy(src, src + g.c, dx + n * image + (static_cast<long>(oh) * g.sh * g.w + ow * g.sw) * g.c);
      }
  }
}

void sgemm(char ta, char tb, long m, long n, long k, const float* a, long lda, const float* b, long ldb, float* c,
           long ldc) {
  const dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
  if (st != dnnl_success) throw std::runtime_error("dnnl_sgemm status " + std::to_string(static_cast<int>(st)));
}

thread_local std::vector<float> pointwise_buffer;

// The filter memory to hand to the primitive, reordering the user's HWIO data into place if needed.
memory filters_for_primitive(Filters& f, float* user_ptr) {
  memory user(f.user, ood::cpu_engine(), user_ptr);
  if (!f.needs_reorder) return user;
  f.to_prim->execute(ood::cpu_stream(), user, *f.scratch);
  return *f.scratch;
}

}  // namespace

// y = act(conv(x, w) + bias). bias may be null. act: see Act; alpha is the leaky-ReLU slope.
OOD_EXPORT int ood_conv2d_forward(const int32_t* geom, float* x, float* w, float* bias, float* y, int act,
                                  float alpha) {
  return ood::guarded("conv2d forward", [&] {
    const Geom g = read_geom(geom);
    if (pointwise(g)) {
      if (!ood::valid_activation(act)) throw std::invalid_argument("unknown activation code " + std::to_string(act));
      const float* xs = gather(g, x, pointwise_buffer);
      sgemm('N', 'N', out_rows(g), g.co, g.c, xs, g.c, w, g.co, y, g.co);
      if (bias || act) ood::bias_activation(y, out_rows(g), g.co, bias, act, alpha);
      return;
    }
    const Key key = make_key(geom, act * 2 + (bias != nullptr), static_cast<int32_t>(alpha * 1e6f));
    auto& entry = forward_cache[key];
    if (!entry) {
      const Descs d = descs(g);
      auto pd = forward_pd(d, bias != nullptr, activation_attr(act, alpha));
      entry = std::make_unique<Forward>(pd, d.wei_hwio, pd.weights_desc(), true);
    }
    auto& eng = ood::cpu_engine();
    memory src(entry->pd.src_desc(), eng, x), dst(entry->pd.dst_desc(), eng, y);
    memory wei = filters_for_primitive(entry->filters, w);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (bias) args.insert({DNNL_ARG_BIAS, memory(entry->pd.bias_desc(), eng, bias)});
    entry->prim.execute(ood::cpu_stream(), args);
    ood::cpu_stream().wait();
  });
}

// dx = conv_transpose(dy, w): the gradient of conv2d with respect to its input.
OOD_EXPORT int ood_conv2d_backward_data(const int32_t* geom, float* dy, float* w, float* dx) {
  return ood::guarded("conv2d backward data", [&] {
    const Geom g = read_geom(geom);
    if (pointwise(g)) {
      if (dense_rows(g)) {
        sgemm('N', 'T', out_rows(g), g.c, g.co, dy, g.co, w, g.co, dx, g.c);
        return;
      }
      pointwise_buffer.resize(static_cast<size_t>(out_rows(g)) * g.c);
      sgemm('N', 'T', out_rows(g), g.c, g.co, dy, g.co, w, g.co, pointwise_buffer.data(), g.c);
      scatter(g, pointwise_buffer.data(), dx);
      return;
    }
    const Key key = make_key(geom, 0, 0);
    auto& entry = backward_data_cache[key];
    if (!entry) {
      const Descs d = descs(g);
      auto hint = forward_pd(d, false, primitive_attr());
      auto desc = convolution_backward_data::desc(algorithm::convolution_direct, d.src, d.wei_any, d.dst, d.strides,
                                                  d.dilates, d.pad_l, d.pad_r);
      auto pd = convolution_backward_data::primitive_desc(desc, ood::cpu_engine(), hint);
      entry = std::make_unique<BackwardData>(pd, d.wei_hwio, pd.weights_desc(), true);
    }
    auto& eng = ood::cpu_engine();
    memory diff_dst(entry->pd.diff_dst_desc(), eng, dy), diff_src(entry->pd.diff_src_desc(), eng, dx);
    memory wei = filters_for_primitive(entry->filters, w);
    entry->prim.execute(ood::cpu_stream(),
                        {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_SRC, diff_src}});
    ood::cpu_stream().wait();
  });
}

// dw = Σ x ⊛ dy: the gradient of conv2d with respect to its HWIO filter.
OOD_EXPORT int ood_conv2d_backward_weights(const int32_t* geom, float* x, float* dy, float* dw) {
  return ood::guarded("conv2d backward weights", [&] {
    const Geom g = read_geom(geom);
    if (pointwise(g)) {
      const float* xs = gather(g, x, pointwise_buffer);
      sgemm('T', 'N', g.c, g.co, out_rows(g), xs, g.c, dy, g.co, dw, g.co);
      return;
    }
    const Key key = make_key(geom, 0, 0);
    auto& entry = backward_weights_cache[key];
    if (!entry) {
      const Descs d = descs(g);
      auto hint = forward_pd(d, false, primitive_attr());
      auto desc = convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.wei_any, d.dst,
                                                     d.strides, d.dilates, d.pad_l, d.pad_r);
      auto pd = convolution_backward_weights::primitive_desc(desc, ood::cpu_engine(), hint);
      entry = std::make_unique<BackwardWeights>(pd, d.wei_hwio, pd.diff_weights_desc(), false);
    }
    auto& eng = ood::cpu_engine();
    auto& strm = ood::cpu_stream();
    memory src(entry->pd.src_desc(), eng, x), diff_dst(entry->pd.diff_dst_desc(), eng, dy);
    memory user(entry->filters.user, eng, dw);
    memory out = entry->filters.needs_reorder ? *entry->filters.scratch : user;
    entry->prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, out}});
    if (entry->filters.needs_reorder) entry->filters.to_user->execute(strm, out, user);
    strm.wait();
  });
}

// Drops every cached convolution primitive (tests use it to check that caching does not change results).
OOD_EXPORT void ood_conv2d_clear_cache() {
  forward_cache.clear();
  backward_data_cache.clear();
  backward_weights_cache.clear();
}
