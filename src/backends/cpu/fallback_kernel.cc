// The generic adapter that runs any node on its naive reference kernel
// (reference.h): the CPU backend's answer for every op without a oneDNN path,
// and for attributes the oneDNN path declines. Slow but complete: it indexes
// through strides, so every layout and channel slice works.
#include <cctype>
#include <string>

#include "backends/cpu/dnnl_ops.h"
#include "backends/reference/reference.h"

namespace inferd::cpu {
namespace {

class ReferenceKernel final : public Kernel {
 public:
  ReferenceKernel(ref::ReferenceFn fn, std::shared_ptr<const ir::Attributes> attrs)
      : fn_(fn), attrs_(std::move(attrs)) {}
  Status reshape(std::span<const ConstTensorView> in, std::span<const TensorView> out) override {
    for (const auto& v : in)
      if (v.data != nullptr && v.dtype != DataType::kFloat32 && v.dtype != DataType::kInt64)
        return unimplemented(std::string("the reference kernels read fp32 and int64, not ") + to_string(v.dtype));
    for (const auto& v : out)
      if (v.dtype != DataType::kFloat32)
        return unimplemented(std::string("the reference kernels write fp32, not ") + to_string(v.dtype));
    return Status::ok();
  }
  Status enqueue(std::span<const ConstTensorView> in, std::span<const TensorView> out, const EnqueueContext&) override {
    fn_(*attrs_, in, out);
    return Status::ok();
  }

 private:
  ref::ReferenceFn fn_;
  std::shared_ptr<const ir::Attributes> attrs_;
};

class ReferenceOp final : public PackedOp {
 public:
  ReferenceOp(ref::ReferenceFn fn, ir::Attributes attrs, std::string implementation)
      : fn_(fn),
        attrs_(std::make_shared<const ir::Attributes>(std::move(attrs))),
        implementation_(std::move(implementation)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    return std::unique_ptr<Kernel>(std::make_unique<ReferenceKernel>(fn_, attrs_));
  }
  std::string_view implementation() const override { return implementation_; }

 private:
  ref::ReferenceFn fn_;
  std::shared_ptr<const ir::Attributes> attrs_;
  std::string implementation_;
};

}  // namespace

PackResult pack_reference(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions&) {
  const ref::ReferenceFn fn = ref::reference_kernel(node.op);
  if (fn == nullptr) return unimplemented(ir::describe(graph, node) + ": the CPU backend has no kernel for this op");
  std::string name = "reference:";
  for (char c : ir::to_string(node.op)) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::unique_ptr<PackedOp>(std::make_unique<ReferenceOp>(fn, node.attrs, std::move(name)));
}

}  // namespace inferd::cpu
