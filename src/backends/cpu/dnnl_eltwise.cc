// Elementwise ops on oneDNN: standalone activations -> eltwise_forward (HardSigmoid
// as linear then clip, in place), Add of identical shapes -> binary_add, Softmax ->
// softmax_forward on its axis.
//
// eltwise and softmax take one descriptor for src and dst: the output's. An input
// laid out differently is first reordered into a scratch buffer of that layout.
#include <string>

#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_ops.h"
#include "backends/reference/reference.h"

namespace inferd::cpu {
namespace {

using dnnl::memory;
using eltwise_pd = dnnl::eltwise_forward::primitive_desc;

eltwise_pd make_eltwise_pd(const EltwiseStep& step, const memory::desc& d) {
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, step.algorithm, d, step.alpha, step.beta);
  return eltwise_pd(desc, make_attr(), cpu_engine());
}

class EltwiseBuilder final : public PipelineBuilder {
 public:
  explicit EltwiseBuilder(Activation act) : act_(std::move(act)) {}

  Pipeline build(Inputs in, Outputs out) const override {
    const eltwise_pd first = choose_pd(
        out[0], out[0], [&](const memory::desc&, const memory::desc& d) { return make_eltwise_pd(act_.front(), d); });
    Pipeline pl;
    const memory src = pl.input_as(0, in[0], first.src_desc());
    const Pipeline::OutputTarget dst = pl.output_as(0, out[0], first.dst_desc());
    pl.add(first, dnnl::eltwise_forward(first), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst.compute}});
    for (size_t i = 1; i < act_.size(); ++i) {  // further steps run in place on the result
      const eltwise_pd next = make_eltwise_pd(act_[i], first.dst_desc());
      pl.add(next, dnnl::eltwise_forward(next), {{DNNL_ARG_SRC, dst.compute}, {DNNL_ARG_DST, dst.compute}});
    }
    pl.finish_output(dst);
    return pl;
  }

 private:
  Activation act_;
};

class AddBuilder final : public PipelineBuilder {
 public:
  Pipeline build(Inputs in, Outputs out) const override {
    auto make = [](const memory::desc& a, const memory::desc& b, const memory::desc& y) {
      const dnnl::binary::desc desc(dnnl::algorithm::binary_add, a, b, y);
      return dnnl::binary::primitive_desc(desc, make_attr(), cpu_engine());
    };
    const ConstTensorView &a = in[0], &b = in[1];
    const TensorView& y = out[0];
    auto pd = make(desc_of(a), desc_of(b), desc_of(y));
    // The jit kernel wants compact views of one layout: stage slices and mixed layouts
    // through compact copies in the output's layout.
    if (is_reference_impl(pd)) {
      auto staged = make(compact_desc_like(a.shape, y), compact_desc_like(b.shape, y), compact_desc_of(y));
      if (!is_reference_impl(staged)) pd = staged;
    }
    Pipeline pl;
    const memory src0 = pl.input_as(0, a, pd.src0_desc());
    const memory src1 = pl.input_as(1, b, pd.src1_desc());
    const Pipeline::OutputTarget dst = pl.output_as(0, y, pd.dst_desc());
    pl.add(pd, dnnl::binary(pd), {{DNNL_ARG_SRC_0, src0}, {DNNL_ARG_SRC_1, src1}, {DNNL_ARG_DST, dst.compute}});
    pl.finish_output(dst);
    return pl;
  }
};

class SoftmaxBuilder final : public PipelineBuilder {
 public:
  SoftmaxBuilder(int64_t axis, bool legacy_2d, ir::Attributes attrs)
      : axis_(axis), legacy_2d_(legacy_2d), attrs_(std::move(attrs)) {}

  Pipeline build(Inputs in, Outputs out) const override {
    const ConstTensorView& x = in[0];
    const TensorView& y = out[0];
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    Pipeline pl;
    if (legacy_2d_ && axis != rank - 1) return build_legacy(x, y, axis);
    const auto pd = choose_pd(y, y, [&](const memory::desc&, const memory::desc& d) { return make_pd(d, axis); });
    add_unary<dnnl::softmax_forward>(pl, x, y, pd);
    return pl;
  }

 private:
  static dnnl::softmax_forward::primitive_desc make_pd(const memory::desc& d, int64_t axis) {
    const dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference, d, static_cast<int>(axis));
    return dnnl::softmax_forward::primitive_desc(desc, make_attr(), cpu_engine());
  }

  // Opset < 13: softmax over the flattened [prod(dims < axis), prod(dims >= axis)] matrix,
  // which only a dense NCHW tensor is without copying.
  Pipeline build_legacy(const ConstTensorView& x, const ConstTensorView& y, int64_t axis) const {
    Pipeline pl;
    if (!x.is_dense() || !y.is_dense()) {
      pl.add_custom("reference:softmax", [fn = ref::reference_kernel(ir::OpKind::kSoftmax), attrs = attrs_](
                                             Inputs i, Outputs o) { fn(attrs, i, o); });
      return pl;
    }
    int64_t rows = 1, cols = 1;
    for (int64_t d = 0; d < static_cast<int64_t>(x.shape.size()); ++d) (d < axis ? rows : cols) *= x.shape[d];
    const memory::desc matrix({rows, cols}, memory::data_type::f32, memory::format_tag::ab);
    const auto pd = make_pd(matrix, 1);
    pl.add(pd, dnnl::softmax_forward(pd),
           {{DNNL_ARG_SRC, pl.bind_input(0, matrix)}, {DNNL_ARG_DST, pl.bind_output(0, matrix)}});
    return pl;
  }

  int64_t axis_;
  bool legacy_2d_;
  ir::Attributes attrs_;
};

bool same_shapes(const ir::Graph& graph, const ir::Node& node) {
  for (ir::ValueId id : node.inputs)
    if (id == ir::kNoValue || graph.value(id).shape != graph.value(node.outputs[0]).shape) return false;
  return true;
}

}  // namespace

PackResult pack_eltwise(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  if (node.inputs.empty() || node.outputs.empty() || graph.value(node.inputs[0]).shape.empty())
    return std::unique_ptr<PackedOp>();
  ASSIGN_OR_RETURN(Activation act, dnnl_standalone_activation(node.op, node.attrs));
  return make_pipeline_op("onednn:eltwise", ir::describe(graph, node), std::make_shared<EltwiseBuilder>(std::move(act)),
                          opts);
}

PackResult pack_add(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  // Broadcasting Adds (and Adds of a constant) are rare in classifiers: reference.
  if (node.inputs.size() != 2 || node.outputs.empty() || !same_shapes(graph, node) ||
      graph.value(node.inputs[0]).is_constant() || graph.value(node.inputs[1]).is_constant() ||
      graph.value(node.outputs[0]).shape.empty())
    return std::unique_ptr<PackedOp>();
  return make_pipeline_op("onednn:binary_add", ir::describe(graph, node), std::make_shared<AddBuilder>(), opts);
}

PackResult pack_softmax(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  if (node.inputs.empty() || node.outputs.empty()) return std::unique_ptr<PackedOp>();
  const int64_t rank = static_cast<int64_t>(graph.value(node.inputs[0]).shape.size());
  const int64_t axis = node.attrs.get_int("axis", node.attrs.get_int("legacy_2d", 0) != 0 ? 1 : -1);
  if (rank == 0 || axis < -rank || axis >= rank)
    return invalid_argument(ir::describe(graph, node) + ": axis " + std::to_string(axis) + " is outside a rank-" +
                            std::to_string(rank) + " tensor");
  auto builder = std::make_shared<SoftmaxBuilder>(axis, node.attrs.get_int("legacy_2d", 0) != 0, node.attrs);
  return make_pipeline_op("onednn:softmax", ir::describe(graph, node), std::move(builder), opts);
}

}  // namespace inferd::cpu
