// Data movement: Reorder (same logical tensor, another layout), Slice and Concat, all as
// oneDNN reorders between views: Concat copies each input into its slice of the
// output (same strides as the output, offset along the axis), so any layout and
// any axis work without a concat primitive.
//
// Concat with attr in_place = 1 was eliminated by the planner: each producer
// already wrote its output into its slice of the concat buffer (Value::alias_of),
// so the kernel has nothing left to do.
#include <string>

#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_ops.h"

namespace inferd::cpu {
namespace {

class ReorderBuilder final : public PipelineBuilder {
 public:
  Pipeline build(Inputs in, Outputs out) const override {
    Pipeline pl;
    pl.add_reorder(pl.bind_input(0, desc_of(in[0])), pl.bind_output(0, desc_of(out[0])));
    return pl;
  }
};

class ConcatBuilder final : public PipelineBuilder {
 public:
  explicit ConcatBuilder(int64_t axis) : axis_(axis) {}

  Pipeline build(Inputs in, Outputs out) const override {
    const ConstTensorView& y = out[0];
    const int64_t axis = axis_ < 0 ? axis_ + static_cast<int64_t>(y.shape.size()) : axis_;
    Pipeline pl;
    int64_t start = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const dnnl::memory slice = pl.bind_output(0, desc_of(in[i].shape, y.strides, y.dtype), start * y.strides[axis]);
      pl.add_reorder(pl.bind_input(i, desc_of(in[i])), slice);
      start += in[i].shape[axis];
    }
    return pl;
  }

 private:
  int64_t axis_;
};

// Slice (from horizontal fusion): the channel range [start, end) of the input, read
// as a strided view of the input and reordered into the dense output.
class SliceBuilder final : public PipelineBuilder {
 public:
  SliceBuilder(int64_t axis, int64_t start) : axis_(axis), start_(start) {}

  Pipeline build(Inputs in, Outputs out) const override {
    const ConstTensorView& x = in[0];
    Pipeline pl;
    const dnnl::memory src = pl.bind_input(0, desc_of(out[0].shape, x.strides, x.dtype), start_ * x.strides[axis_]);
    pl.add_reorder(src, pl.bind_output(0, desc_of(out[0])));
    return pl;
  }

 private:
  int64_t axis_, start_;
};

class NoOpKernel final : public Kernel {
 public:
  Status reshape(Inputs, Outputs) override { return Status::ok(); }
  Status enqueue(Inputs, Outputs, const EnqueueContext&) override { return Status::ok(); }
};

class InPlaceConcatOp final : public PackedOp {
 public:
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    return std::unique_ptr<Kernel>(std::make_unique<NoOpKernel>());
  }
  std::string_view implementation() const override { return "inplace:concat"; }
};

}  // namespace

PackResult pack_reorder(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1 || graph.value(node.inputs[0]).shape.empty())
    return std::unique_ptr<PackedOp>();
  return make_pipeline_op("onednn:reorder", ir::describe(graph, node), std::make_shared<ReorderBuilder>(), opts);
}

PackResult pack_slice(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return std::unique_ptr<PackedOp>();
  const auto& in_shape = graph.value(node.inputs[0]).shape;
  const int64_t rank = static_cast<int64_t>(in_shape.size());
  const int64_t axis = node.attrs.get_int("axis", 1), start = node.attrs.get_int("start", 0);
  if (axis < 0 || axis >= rank || start < 0 || start >= in_shape[static_cast<size_t>(axis)])
    return std::unique_ptr<PackedOp>();  // let the reference kernel report it
  return make_pipeline_op("onednn:slice", ir::describe(graph, node), std::make_shared<SliceBuilder>(axis, start), opts);
}

PackResult pack_concat(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  if (node.attrs.get_int("in_place", 0) != 0) return std::unique_ptr<PackedOp>(std::make_unique<InPlaceConcatOp>());
  if (node.inputs.empty() || node.outputs.size() != 1) return std::unique_ptr<PackedOp>();
  const int64_t rank = static_cast<int64_t>(graph.value(node.outputs[0]).shape.size());
  const int64_t axis = node.attrs.get_int("axis", 1);
  if (rank == 0 || axis < -rank || axis >= rank)
    return invalid_argument(ir::describe(graph, node) + ": axis " + std::to_string(axis) + " is outside a rank-" +
                            std::to_string(rank) + " tensor");
  for (ir::ValueId id : node.inputs)
    if (id == ir::kNoValue || graph.value(id).shape.size() != static_cast<size_t>(rank))
      return invalid_argument(ir::describe(graph, node) + ": every input needs rank " + std::to_string(rank));
  return make_pipeline_op("onednn:concat", ir::describe(graph, node), std::make_shared<ConcatBuilder>(axis), opts);
}

}  // namespace inferd::cpu
