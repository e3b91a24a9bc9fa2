// A Pass rewrites an ir::Graph in place (one pattern + rewrite per file, as ncnn's
// pnnx pass_level5 and ONNX Runtime's rewrite rules). Passes never include backend
// headers: what a backend can run reaches them through PassContext callbacks.
//
// Contract of every pass: on success the graph is topologically sorted, compacted
// (Graph::compact) and every value it created or changed has a valid shape/dtype.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::passes {

// The backend's answers, as callbacks. An empty callback means "no": no fusion is
// supported, every layout is kNCHW, no node writes strided outputs, no convolutions
// merge by padding their windows, and constant folding handles only the data-movement
// and int64 shape arithmetic it knows itself.
struct PassContext {
  // May `node` (possibly a fused node not yet in `graph`) exist in the optimized graph?
  std::function<bool(const ir::Graph&, const ir::Node&)> supports;
  // The layout `node` wants for its 4-D activation inputs and outputs.
  std::function<ir::Layout(const ir::Graph&, const ir::Node&)> preferred_layout;
  // Can `node` write its output into a channel slice of a larger buffer?
  std::function<bool(const ir::Graph&, const ir::Node&)> supports_strided_output;
  // May sibling convolutions of different window sizes merge into `node`, one Conv whose
  // smaller windows are zero-padded to the largest: more multiply-adds, but one kernel
  // and no concatenation? (A win where launches and memory traffic dominate, a loss
  // where compute does.)
  std::function<bool(const ir::Graph&, const ir::Node&)> prefers_padded_window_merge;
  // Computes `node` on constant inputs (constant folding of float ops). `inputs`
  // follow node.inputs (nullptr for an absent optional); `outputs` arrive allocated
  // with the dtype and shape of the node's output values and are filled in place.
  std::function<Status(const ir::Node&, const std::vector<const Tensor*>& inputs,
                       std::vector<Tensor>& outputs)>
      evaluate;
  // Milliseconds one run of `node` takes on the backend, alone (backends/api/node_timing.h,
  // at the build's timing batch): for choices between two versions of a layer that compute
  // the same thing (an INT8 convolution or the float one after its FakeQuantize). Empty:
  // nothing is timed and such passes keep their rules.
  std::function<Result<double>(const ir::Graph&, const ir::Node&)> time_node;

  bool node_supported(const ir::Graph& g, const ir::Node& n) const { return supports && supports(g, n); }
  ir::Layout layout_for(const ir::Graph& g, const ir::Node& n) const {
    return preferred_layout ? preferred_layout(g, n) : ir::Layout::kNCHW;
  }
  bool strided_output_supported(const ir::Graph& g, const ir::Node& n) const {
    return supports_strided_output && supports_strided_output(g, n);
  }
  bool padded_window_merge_preferred(const ir::Graph& g, const ir::Node& n) const {
    return prefers_padded_window_merge && prefers_padded_window_merge(g, n);
  }
};

struct PassResult {
  // One human-readable line per rewrite, e.g. "fused conv1 + relu1 -> conv1 (Relu)".
  std::vector<std::string> changes;
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  virtual Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const = 0;
};

}  // namespace inferd::passes
