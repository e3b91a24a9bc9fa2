// The interface a backend implements (as ggml-backend, TensorRT, XNNPACK): the runtime
// and the builder depend on this folder only, never on a backend's internals.
//
// Phases per op:
//   Backend::tune()       build time, once: choices that cost time to make (the cuDNN
//                         algorithm picked by timing, a GEMM heuristic), as an opaque blob
//                         that the plan stores, so loading a plan never re-times anything
//   Backend::pack()       once per Engine: validate the node, pack weights onto the device
//                         (immutable, shared by every context of the engine)
//   Kernel::reshape()     when the batch size changes: plan for the shapes (may allocate)
//   Kernel::enqueue()     many times: enqueue the work on the context's stream with bound
//                         pointers; never allocates; returns every failure as a Status
//
// Threading: a Backend and its PackedOps are immutable and safe to share across threads.
// A Kernel belongs to one ExecutionContext and is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/api/device.h"
#include "backends/api/tensor_view.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

// What a kernel enqueues with: the context's stream and its share of the context's
// workspace (device working memory, at least workspace_bytes() long).
struct EnqueueContext {
  Stream& stream;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // `inputs` has one view per node input (engine constants as read-only host views;
  // absent optionals have data == nullptr); `outputs` one per node output. Called
  // before the first enqueue() and whenever a shape changes.
  virtual Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) = 0;
  // Scratch memory the last reshape()'s shapes need (in the device's working memory).
  virtual size_t workspace_bytes() const { return 0; }
  virtual Status enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                         const EnqueueContext& ctx) = 0;
};

class PackedOp {
 public:
  virtual ~PackedOp() = default;
  virtual Result<std::unique_ptr<Kernel>> create_kernel() const = 0;
  // Implementation chosen, for reports ("onednn:conv", "cudnn:conv implicit_precomp_gemm").
  virtual std::string_view implementation() const = 0;
};

// What tune() is asked for: the plan's precision and the batch sizes to time (ascending;
// 1, a middle one and the plan's max batch). A kernel at batch b uses the choice made for
// the smallest tuned batch >= b.
struct TuneOptions {
  std::string_view precision = "fp32";
  std::vector<int> batches;
};

// What pack() knows besides the node: the plan's precision and tune()'s blob for it.
struct PackOptions {
  std::string_view precision = "fp32";
  std::span<const uint8_t> choices;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual const Device& device() const = 0;

  // ---- the optimizer's questions -------------------------------------------------------
  // Whether this backend can run `node` as it stands (fused attributes and dtypes included).
  virtual bool supports(const ir::Graph& graph, const ir::Node& node) const = 0;
  // The layout this backend wants for `node`'s 4-D activation inputs/outputs.
  virtual ir::Layout preferred_layout(const ir::Graph& graph, const ir::Node& node) const = 0;
  // Whether `node` can write its output into a channel slice of a larger buffer.
  virtual bool supports_strided_output(const ir::Graph& graph, const ir::Node& node) const = 0;
  // Whether `node` may write output 0 over input `input` when that input dies there
  // (same shape, layout and dtype): the memory planner then gives both one buffer.
  virtual bool may_overwrite_input(const ir::Graph& graph, const ir::Node& node, size_t input) const;
  // Whether sibling convolutions of different window sizes should become `merged_conv`,
  // one Conv whose smaller windows are zero-padded to the largest (SqueezeNet's 1x1 and
  // 3x3 expands): a 1x1 branch then costs 9 times its multiply-adds, which pays where
  // launches and memory traffic dominate and not where compute does. Default: no.
  virtual bool prefers_padded_window_merge(const ir::Graph& graph, const ir::Node& merged_conv) const;
  // The batch at which the build times a layer both ways to choose between them (INT8 or
  // float, `quantized_layer_folding`) in a plan of `max_batch`. Default: min(8, max_batch),
  // which keeps a CPU build's clock to seconds.
  virtual int layer_clock_batch(int max_batch) const;
  // The element type activations are stored in at `precision` ("fp32", "tf32", "fp16",
  // "bf16", ...); an error naming what this backend offers otherwise.
  virtual Result<DataType> activation_dtype(std::string_view precision) const;

  // ---- build and load ---------------------------------------------------------------------
  // Choices for `node` worth storing in the plan (empty: none). May run the node on the
  // device to time candidates. The answer may depend only on the node's op, attributes and
  // its inputs' and outputs' dtypes, shapes, layouts, constness and concat placement (never
  // on names or weight values): the builder asks once per such kind of node and reuses the
  // answer for the nodes alike.
  virtual Result<std::vector<uint8_t>> tune(const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) const;
  virtual Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions& options) const = 0;
  // fp32 with no tuned choices (tests, tools).
  Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& graph, const ir::Node& node) const {
    return pack(graph, node, PackOptions{});
  }
};

}  // namespace inferd
