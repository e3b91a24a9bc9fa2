// The op families of the CPU backend, one pack function each (defined in
// dnnl_<family>.cc). cpu_backend.cc's dispatch table maps OpKinds onto them.
//
// A pack function returns the PackedOp, an error Status for a node that is
// invalid, or nullptr when oneDNN cannot run the node as it stands (attributes
// outside what the primitive implements, non-constant weights, ...): the backend
// then falls back to the node's reference kernel.
#pragma once

#include <memory>

#include "backends/api/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd::cpu {

using PackResult = Result<std::unique_ptr<PackedOp>>;
using PackFn = PackResult (*)(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);

PackResult pack_conv(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_conv_transpose(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_gemm(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_pool(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_lrn(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_softmax(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_eltwise(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_add(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_reorder(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_concat(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);
PackResult pack_slice(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);

// The generic adapter over reference_kernel(node.op) (fallback_kernel.cc).
PackResult pack_reference(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts);

// A node input that is present (not an absent optional).
inline bool has_input(const ir::Node& node, size_t i) {
  return i < node.inputs.size() && node.inputs[i] != ir::kNoValue;
}

}  // namespace inferd::cpu
