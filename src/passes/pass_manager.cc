#include "passes/pass_manager.h"

#include <chrono>

#include "core/log.h"
#include "passes/batchnorm_folding.h"
#include "passes/concat_conv_merge.h"
#include "passes/concat_conv_split.h"
#include "passes/concat_elimination.h"
#include "passes/constant_folding.h"
#include "passes/conv_activation_fusion.h"
#include "passes/conv_add_fusion.h"
#include "passes/dead_node_elimination.h"
#include "passes/horizontal_conv_fusion.h"
#include "passes/identity_elimination.h"
#include "passes/int8_storage.h"
#include "passes/layout_assignment.h"
#include "passes/output_quantization_fusion.h"
#include "passes/qdq_folding.h"
#include "passes/quantized_layer_folding.h"
#include "passes/repeated_rounding_elimination.h"

namespace inferd::passes {
namespace {

// Checks the contract every pass promises: nodes in topological order, every id in
// range, every read value defined (graph input, constant or written earlier), and
// every value written exactly once.
Status check_graph(const ir::Graph& g, std::string_view pass) {
  const auto fail = [&](const std::string& what) {
    return internal_error("after pass " + std::string(pass) + ": " + what);
  };
  const size_t count = g.value_count();
  std::vector<bool> defined(count, false);
  for (size_t i = 0; i < count; ++i) defined[i] = g.value(static_cast<ir::ValueId>(i)).is_constant();
  for (ir::ValueId id : g.inputs) {
    if (id < 0 || static_cast<size_t>(id) >= count) return fail("graph input id out of range");
    defined[static_cast<size_t>(id)] = true;
  }
  for (const auto& n : g.nodes()) {
    for (ir::ValueId id : n.inputs) {
      if (id == ir::kNoValue) continue;
      if (id < 0 || static_cast<size_t>(id) >= count) return fail(ir::describe(g, n) + ": input id out of range");
      if (!defined[static_cast<size_t>(id)])
        return fail(ir::describe(g, n) + ": reads '" + g.value(id).name + "' before it is written");
    }
    for (ir::ValueId id : n.outputs) {
      if (id < 0 || static_cast<size_t>(id) >= count) return fail(ir::describe(g, n) + ": output id out of range");
      if (defined[static_cast<size_t>(id)])
        return fail(ir::describe(g, n) + ": writes '" + g.value(id).name + "', already defined");
      defined[static_cast<size_t>(id)] = true;
    }
  }
  for (ir::ValueId id : g.outputs)
    if (id < 0 || static_cast<size_t>(id) >= count || !defined[static_cast<size_t>(id)])
      return fail("a graph output is never written");
  return Status::ok();
}

}  // namespace

std::vector<std::unique_ptr<Pass>> default_pass_order() {
  // Why this order: folding and clean-up first so patterns see the real graph (Q/DQ
  // pairs before constant folding, which cannot evaluate int8 tensors, and a pair that the
  // one behind a max pool repeats dropped before anything folds either); BN
  // folding before fusions (a fused Conv no longer exposes its output); residual Add
  // before activation (ResNet's Relu(conv + x)); merging the Convs feeding a Concat into
  // one after both (a member's Relu must sit on it, and all members must agree) and
  // before splitting a 1x1 Conv over a Concat (which would take that Concat apart); the
  // split after both too (the chain inherits the fused residual and activation); horizontal
  // merging after those so merged branches share fused activations; an INT8 input's
  // quantization folded into the final convolutions (fused, merged), then split again
  // where a folded convolution now reads a Concat directly; the quantization left in front
  // of float layers folded into the convolutions writing it (after the split, which would
  // round partial sums); layout after all
  // rewrites of compute nodes; concat elimination last, as it needs the final layouts, and
  // INT8 storage after it (a concat member's reader is its Concat: never stored as levels).
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<IdentityElimination>());
  passes.push_back(std::make_unique<QdqFolding>());
  passes.push_back(std::make_unique<RepeatedRoundingElimination>());
  passes.push_back(std::make_unique<ConstantFolding>());
  passes.push_back(std::make_unique<DeadNodeElimination>());
  passes.push_back(std::make_unique<BatchNormFolding>());
  passes.push_back(std::make_unique<ConvAddFusion>());
  passes.push_back(std::make_unique<ConvActivationFusion>());
  passes.push_back(std::make_unique<ConcatConvMerge>());
  passes.push_back(std::make_unique<ConcatConvSplit>());
  passes.push_back(std::make_unique<HorizontalConvFusion>());
  passes.push_back(std::make_unique<QuantizedLayerFolding>());
  passes.push_back(std::make_unique<ConcatConvSplit>());
  passes.push_back(std::make_unique<OutputQuantizationFusion>());
  passes.push_back(std::make_unique<LayoutAssignment>());
  passes.push_back(std::make_unique<ConcatElimination>());
  passes.push_back(std::make_unique<Int8Storage>());
  passes.push_back(std::make_unique<DeadNodeElimination>());
  return passes;
}

Result<std::vector<PassReport>> run_passes(ir::Graph& graph, const PassContext& ctx,
                                           const std::vector<std::unique_ptr<Pass>>& passes) {
  std::vector<PassReport> reports;
  for (const auto& pass : passes) {
    PassReport report;
    report.pass = std::string(pass->name());
    report.nodes_before = graph.nodes().size();
    const auto start = std::chrono::steady_clock::now();
    auto result = pass->run(graph, ctx);
    if (!result.is_ok()) return result.status().with_context("pass " + report.pass);
    report.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    RETURN_IF_ERROR(check_graph(graph, report.pass));
    report.nodes_after = graph.nodes().size();
    report.changes = std::move(result->changes);
    log_info("pass")
        .kv("name", report.pass)
        .kv("nodes_before", report.nodes_before)
        .kv("nodes_after", report.nodes_after)
        .kv("changes", report.changes.size())
        .kv("ms", report.ms);
    reports.push_back(std::move(report));
  }
  return reports;
}

Result<std::vector<PassReport>> optimize(ir::Graph& graph, const PassContext& ctx,
                                         const std::vector<std::string>& disabled) {
  auto passes = default_pass_order();
  std::string known;
  for (const auto& p : passes) known += (known.empty() ? "" : ", ") + std::string(p->name());
  for (const auto& name : disabled) {
    const auto before = passes.size();
    std::erase_if(passes, [&](const std::unique_ptr<Pass>& p) { return p->name() == name; });
    if (passes.size() == before) return invalid_argument("no pass '" + name + "' (passes: " + known + ")");
  }
  return run_passes(graph, ctx, passes);
}

}  // namespace inferd::passes
