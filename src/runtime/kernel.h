// The interface a backend implements (as ggml-backend / XNNPACK): the runtime
// depends on this header only, never on a backend's internals.
//
// Three phases per op:
//   Backend::pack()      once per Engine: validate the node, pack weights (immutable, shared)
//   Kernel::reshape()    whenever the batch size changes: plan for the shapes (may allocate)
//   Kernel::run()        many times: compute with bound pointers, never allocates
//
// Threading: a Backend and its PackedOps are immutable and safe to share across
// threads. A Kernel belongs to one ExecutionContext and is used by one thread at a time.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd {

// A non-owning view of an fp32 tensor. `shape` is the logical shape (NCHW order for
// 4-D); `strides` (in elements, one per dim) give the physical layout, so NHWC
// tensors and channel slices of a concat buffer are views like any other.
struct TensorView {
  float* data = nullptr;
  Shape shape;
  std::vector<int64_t> strides;

  int64_t size() const { return element_count(shape); }
  bool is_dense_nchw() const;  // strides are the row-major strides of shape
};

std::vector<int64_t> dense_strides(const Shape& shape);
std::vector<int64_t> nhwc_strides(const Shape& shape);  // shape is logical NCHW

class Kernel {
 public:
  virtual ~Kernel() = default;
  // `inputs` has one view per node input (constants included, absent optionals have
  // data == nullptr); `outputs` one per node output. Called before the first run()
  // and whenever any shape changes.
  virtual Status reshape(std::span<const TensorView> inputs, std::span<const TensorView> outputs) = 0;
  virtual void run(std::span<const TensorView> inputs, std::span<const TensorView> outputs) = 0;
};

class PackedOp {
 public:
  virtual ~PackedOp() = default;
  virtual Result<std::unique_ptr<Kernel>> create_kernel() const = 0;
  // Implementation chosen, for reports ("onednn:conv", "reference:lrn").
  virtual std::string_view implementation() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Whether this backend can run `node` as it stands (fused attributes included).
  virtual bool supports(const ir::Graph& graph, const ir::Node& node) const = 0;
  // The layout this backend wants for `node`'s 4-D activation inputs/outputs.
  virtual ir::Layout preferred_layout(const ir::Graph& graph, const ir::Node& node) const = 0;
  // Whether `node` can write its output into a channel slice of a larger buffer.
  virtual bool supports_strided_output(const ir::Graph& graph, const ir::Node& node) const = 0;
  virtual Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& graph, const ir::Node& node) const = 0;
};

}  // namespace inferd
