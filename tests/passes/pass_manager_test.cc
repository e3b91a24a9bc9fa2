#include "passes/pass_manager.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/log.h"
#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

const std::vector<std::string> kOrder{"identity_elimination",
                                      "qdq_folding",
                                      "repeated_rounding_elimination",
                                      "constant_folding",
                                      "dead_node_elimination",
                                      "batchnorm_folding",
                                      "conv_add_fusion",
                                      "conv_activation_fusion",
                                      "concat_conv_merge",
                                      "concat_conv_split",
                                      "horizontal_conv_fusion",
                                      "quantized_layer_folding",
                                      "concat_conv_split",
                                      "output_quantization_fusion",
                                      "layout_assignment",
                                      "concat_elimination",
                                      "int8_storage",
                                      "dead_node_elimination"};

std::vector<passes::PassReport> optimize_ok(ir::Graph& g, const passes::PassContext& ctx) {
  auto r = passes::optimize(g, ctx);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  if (!r.is_ok()) return {};
  expect_shapes_valid(g);
  return std::move(r).value();
}

TEST(Optimize, KeepsEveryFixtureComputingTheSameFunction) {
  for (const auto& answers : {BackendAnswers{}, BackendAnswers{true, ir::Layout::kNCHW, false, false},
                              BackendAnswers{false, ir::Layout::kNHWC, true, true}}) {
    for (ir::Graph g : {conv_bn_relu_chain(), gemm_bn_graph(), residual_block(), inception_block(),
                        dead_branches_graph()}) {
      SCOPED_TRACE(g.name);
      const ir::Graph before = g;
      optimize_ok(g, test_context(answers));
      expect_same_function(before, g, 1e-4f, /*relative=*/true);
    }
  }
}

TEST(Optimize, ReducesAResidualNetworkToConvs) {
  ir::Graph g = residual_block();
  const ir::Graph before = g;
  optimize_ok(g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kConv), 5u);
  EXPECT_EQ(count_ops(g, OpKind::kReorder), 2u);  // in at the input, out at the output
  EXPECT_EQ(g.nodes().size(), 7u);
  expect_same_function(before, g, 1e-4f, true);
}

TEST(Optimize, MakesTheInceptionConcatFree) {
  ir::Graph g = inception_block();
  const ir::Graph before = g;
  optimize_ok(g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kRelu), 0u);
  EXPECT_EQ(count_ops(g, OpKind::kSlice), 3u);
  const ir::Node* concat = find_node(g, "concat");
  ASSERT_NE(concat, nullptr);
  EXPECT_EQ(concat->attrs.get_int("in_place", 0), 1);
  expect_same_function(before, g);
}

TEST(Optimize, FoldsTheShapeChain) {
  ir::Graph g = shape_chain_graph(2);
  optimize_ok(g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kShape), 0u);
  EXPECT_EQ(count_ops(g, OpKind::kMul), 0u);
  EXPECT_EQ(count_ops(g, OpKind::kGemm), 1u);
  expect_same_function(shape_chain_graph(2, true), g);
  // With a dynamic batch the Shape stays for the backend to reject with a clear error.
  ir::Graph dynamic = shape_chain_graph(kDynamicDim);
  optimize_ok(dynamic, test_context());
  EXPECT_EQ(count_ops(dynamic, OpKind::kShape), 1u);
}

TEST(Optimize, ReportsEveryPassInOrderAndLogsOneLineEach) {
  ir::Graph g = residual_block();
  const size_t imported = g.nodes().size();
  const LogLevel saved = log_level();
  set_log_level(LogLevel::kInfo);
  testing::internal::CaptureStderr();
  const auto reports = optimize_ok(g, test_context());
  const std::string log = testing::internal::GetCapturedStderr();
  set_log_level(saved);
  ASSERT_EQ(reports.size(), kOrder.size());
  size_t nodes = imported;
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].pass, kOrder[i]);
    EXPECT_EQ(reports[i].nodes_before, nodes) << kOrder[i];
    EXPECT_GE(reports[i].ms, 0.0);
    nodes = reports[i].nodes_after;
  }
  EXPECT_EQ(nodes, g.nodes().size());
  const size_t bn = static_cast<size_t>(std::find(kOrder.begin(), kOrder.end(), "batchnorm_folding") - kOrder.begin());
  EXPECT_EQ(reports[bn].changes.size(), 5u);  // five BNs folded
  EXPECT_EQ(reports[bn].nodes_after, reports[bn].nodes_before - 5);
  size_t lines = 0;
  for (size_t at = log.find("event=pass "); at != std::string::npos; at = log.find("event=pass ", at + 1)) ++lines;
  EXPECT_EQ(lines, kOrder.size()) << log;
  EXPECT_NE(log.find("name=batchnorm_folding nodes_before=" + std::to_string(reports[bn].nodes_before)),
            std::string::npos)
      << log;
}

// A pass that breaks the graph: reads a value nobody writes.
class BreakingPass final : public passes::Pass {
 public:
  std::string_view name() const override { return "breaking"; }
  Result<passes::PassResult> run(ir::Graph& g, const passes::PassContext&) const override {
    ir::Value orphan;
    orphan.name = "orphan";
    orphan.shape = {1};
    g.nodes().front().inputs[0] = g.add_value(std::move(orphan));
    return passes::PassResult{};
  }
};

class FailingPass final : public passes::Pass {
 public:
  std::string_view name() const override { return "failing"; }
  Result<passes::PassResult> run(ir::Graph&, const passes::PassContext&) const override {
    return invalid_argument("node 'x' (Conv): something is wrong");
  }
};

TEST(RunPasses, NamesThePassThatFailedOrBrokeTheGraph) {
  std::vector<std::unique_ptr<passes::Pass>> failing;
  failing.push_back(std::make_unique<FailingPass>());
  ir::Graph g = residual_block();
  auto r = passes::run_passes(g, test_context(), failing);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "pass failing: node 'x' (Conv): something is wrong");

  std::vector<std::unique_ptr<passes::Pass>> breaking;
  breaking.push_back(std::make_unique<BreakingPass>());
  r = passes::run_passes(g, test_context(), breaking);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("after pass breaking"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("orphan"), std::string::npos) << r.status().message();
}

TEST(RunPasses, DefaultOrderIsTheDocumentedOne) {
  const auto passes = passes::default_pass_order();
  ASSERT_EQ(passes.size(), kOrder.size());
  for (size_t i = 0; i < passes.size(); ++i) EXPECT_EQ(passes[i]->name(), kOrder[i]);
}

}  // namespace
}  // namespace inferd::test
