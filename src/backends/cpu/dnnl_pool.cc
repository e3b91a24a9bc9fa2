// MaxPool / AveragePool / GlobalAveragePool -> oneDNN pooling_forward, and
// LRN -> oneDNN lrn_forward (across channels).
//
// ceil_mode: the output view's shape is authoritative (shape inference applied
// ONNX's rule); padding_r is enlarged until oneDNN's floor formula yields it.
// Enlarged padding changes nothing for max and exclude-padding averages, but an
// include-padding average would count the extension in its divisor, where ONNX
// (like PyTorch) counts only up to the declared padding: that case, and dilated
// pools, run on the reference kernel.
//
// LRN: ONNX sums channels [c - floor((size-1)/2), c + ceil((size-1)/2)] and divides
// alpha by size; oneDNN's window is [c - (size-1)/2, c + (size-1)/2] with alpha/size
// too. They agree for odd sizes only; even sizes run on the reference kernel. Caffe's
// within-channel LRN (region "within_channel", odd sizes only) is oneDNN's
// lrn_within_channel: the size x size window centred on the pixel, alpha / size^2.
#include <algorithm>
#include <string>

#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_ops.h"

namespace inferd::cpu {
namespace {

using dnnl::memory;

struct PoolGeometry {
  dnnl::algorithm algorithm;
  bool global;                                 // kernel = the input's spatial size
  memory::dims kernel, strides, pad_l, pad_r;  // pad_r as declared (before ceil_mode)
};

// The right/bottom padding for which floor((in + l + r - k) / s) + 1 == out.
int64_t fitted_pad_r(int64_t in, int64_t out, int64_t k, int64_t s, int64_t l, int64_t r) {
  return std::max(r, (out - 1) * s + k - in - l);
}

class PoolBuilder final : public PipelineBuilder {
 public:
  explicit PoolBuilder(PoolGeometry geo) : geo_(std::move(geo)) {}

  Pipeline build(Inputs in, Outputs out) const override {
    const ConstTensorView& x = in[0];
    const ConstTensorView& y = out[0];
    memory::dims kernel = geo_.kernel, strides = geo_.strides, pad_l = geo_.pad_l, pad_r = geo_.pad_r;
    if (geo_.global) {
      kernel = {x.shape[2], x.shape[3]};
      strides = {1, 1};
      pad_l = pad_r = {0, 0};
    }
    for (size_t d = 0; d < 2; ++d)
      pad_r[d] = fitted_pad_r(x.shape[2 + d], y.shape[2 + d], kernel[d], strides[d], pad_l[d], pad_r[d]);
    const auto pd = choose_pd(x, y, [&](const memory::desc& s, const memory::desc& d) {
      const dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, geo_.algorithm, s, d, strides, kernel,
                                             pad_l, pad_r);
      return dnnl::pooling_forward::primitive_desc(desc, make_attr(), cpu_engine());
    });
    Pipeline pl;
    add_unary<dnnl::pooling_forward>(pl, x, y, pd);
    return pl;
  }

 private:
  PoolGeometry geo_;
};

class LrnBuilder final : public PipelineBuilder {
 public:
  LrnBuilder(dnnl::algorithm algorithm, int64_t size, float alpha, float beta, float bias)
      : algorithm_(algorithm), size_(size), alpha_(alpha), beta_(beta), bias_(bias) {}

  // One data descriptor for src and dst: the output's; the input is staged when it differs.
  Pipeline build(Inputs in, Outputs out) const override {
    const auto pd = choose_pd(out[0], out[0], [&](const memory::desc&, const memory::desc& d) {
      const dnnl::lrn_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm_, d, size_, alpha_, beta_,
                                         bias_);
      return dnnl::lrn_forward::primitive_desc(desc, make_attr(), cpu_engine());
    });
    Pipeline pl;
    add_unary<dnnl::lrn_forward>(pl, in[0], out[0], pd);
    return pl;
  }

 private:
  dnnl::algorithm algorithm_;
  int64_t size_;
  float alpha_, beta_, bias_;
};

bool is_4d(const ir::Graph& graph, const ir::Node& node) {
  return !node.inputs.empty() && !node.outputs.empty() && graph.value(node.inputs[0]).shape.size() == 4 &&
         graph.value(node.outputs[0]).shape.size() == 4;
}

// Pool geometry from ONNX attributes; nullopt for what oneDNN's pooling cannot express.
std::optional<PoolGeometry> pool_geometry(const ir::Graph& graph, const ir::Node& node) {
  if (node.op == ir::OpKind::kGlobalAveragePool)
    return PoolGeometry{dnnl::algorithm::pooling_avg_exclude_padding, true, {}, {}, {}, {}};
  const std::vector<int64_t> k = node.attrs.get_ints("kernel_shape");
  const std::vector<int64_t> s = node.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> p = node.attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> dilations = node.attrs.get_ints("dilations", {1, 1});
  if (k.size() != 2 || s.size() != 2 || p.size() != 4 || dilations != std::vector<int64_t>{1, 1}) return std::nullopt;
  const bool include_pad = node.attrs.get_int("count_include_pad", 0) != 0;
  PoolGeometry geo{node.op == ir::OpKind::kMaxPool ? dnnl::algorithm::pooling_max
                   : include_pad                   ? dnnl::algorithm::pooling_avg_include_padding
                                                   : dnnl::algorithm::pooling_avg_exclude_padding,
                   false,
                   {k[0], k[1]},
                   {s[0], s[1]},
                   {p[0], p[1]},
                   {p[2], p[3]}};
  if (geo.algorithm == dnnl::algorithm::pooling_avg_include_padding) {
    const Shape& in = graph.value(node.inputs[0]).shape;
    const Shape& out = graph.value(node.outputs[0]).shape;
    for (size_t d = 0; d < 2; ++d)
      if (fitted_pad_r(in[2 + d], out[2 + d], k[d], s[d], p[d], p[2 + d]) != p[2 + d]) return std::nullopt;
  }
  return geo;
}

}  // namespace

PackResult pack_pool(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  if (!is_4d(graph, node)) return std::unique_ptr<PackedOp>();
  std::optional<PoolGeometry> geo = pool_geometry(graph, node);
  if (!geo) return std::unique_ptr<PackedOp>();
  const char* impl = node.op == ir::OpKind::kMaxPool ? "onednn:max_pool" : "onednn:avg_pool";
  return make_pipeline_op(impl, ir::describe(graph, node), std::make_shared<PoolBuilder>(std::move(*geo)), opts);
}

PackResult pack_lrn(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  const int64_t size = node.attrs.get_int("size", 1);
  if (!is_4d(graph, node) || size % 2 == 0) return std::unique_ptr<PackedOp>();
  const bool within = node.attrs.get_string("region", "across_channels") == "within_channel";
  auto builder = std::make_shared<LrnBuilder>(within ? dnnl::algorithm::lrn_within_channel
                                                     : dnnl::algorithm::lrn_across_channels,
                                              size, node.attrs.get_float("alpha", 1e-4f),
                                              node.attrs.get_float("beta", 0.75f), node.attrs.get_float("bias", 1.0f));
  return make_pipeline_op("onednn:lrn", ir::describe(graph, node), std::move(builder), opts);
}

}  // namespace inferd::cpu
