#include "passes/batchnorm_folding.h"

#include <gtest/gtest.h>

#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(BatchNormFolding, FoldsIntoConvsAndKeepsStandaloneAndSharedOnes) {
  ir::Graph g = conv_bn_relu_chain();
  const ir::Graph before = g;
  ASSERT_EQ(count_ops(g, OpKind::kBatchNormalization), 4u);
  const auto changes = run_pass(passes::BatchNormFolding(), g, test_context());
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(count_ops(g, OpKind::kBatchNormalization), 2u);
  EXPECT_NE(find_node(g, "bn0"), nullptr);  // follows no conv
  EXPECT_NE(find_node(g, "bn3"), nullptr);  // conv3's output is also a graph output
  EXPECT_EQ(find_node(g, "bn1"), nullptr);
  // conv2 had no bias: folding created one; its output now has the BN's name.
  const ir::Node* conv2 = find_node(g, "conv2");
  ASSERT_NE(conv2, nullptr);
  ASSERT_EQ(conv2->inputs.size(), 3u);
  EXPECT_TRUE(g.value(conv2->inputs[2]).is_constant());
  EXPECT_EQ(g.value(conv2->outputs[0]).name, "bn2_out");
  expect_same_function(before, g, 1e-4f, /*relative=*/true);
}

TEST(BatchNormFolding, FoldsIntoGemmWithEitherWeightLayoutAndAnyBias) {
  ir::Graph g = gemm_bn_graph();
  const ir::Graph before = g;
  run_pass(passes::BatchNormFolding(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kBatchNormalization), 0u);
  EXPECT_EQ(count_ops(g, OpKind::kGemm), 3u);
  expect_same_function(before, g, 1e-4f, /*relative=*/true);
}

TEST(BatchNormFolding, LeavesSharedWeightsOfOtherConvsUntouched) {
  GraphBuilder b("shared_weights");
  const ir::ValueId x = b.input("x", {1, 3, 4, 4});
  const ir::ValueId c1 = b.conv("conv1", x, 3, 3, 1, 1);
  ir::Graph& g0 = b.graph();
  // conv2 reads conv1's weight constant as well.
  const ir::Node conv1 = g0.nodes().back();
  ir::Attributes attrs = conv1.attrs;
  const ir::ValueId c2 = b.node(OpKind::kConv, "conv2", {x, conv1.inputs[1], conv1.inputs[2]}, attrs);
  b.output(b.batchnorm("bn", c1, 3));
  b.output(c2);
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  run_pass(passes::BatchNormFolding(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kBatchNormalization), 0u);
  const ir::Node* a = find_node(g, "conv1");
  const ir::Node* c = find_node(g, "conv2");
  ASSERT_TRUE(a && c);
  EXPECT_NE(a->inputs[1], c->inputs[1]);
  expect_same_function(before, g, 1e-4f, true);
}

TEST(BatchNormFolding, DoesNotFoldPastAFusedActivation) {
  GraphBuilder b("after_activation");
  const ir::ValueId c = b.conv("conv", b.input("x", {1, 3, 4, 4}), 3, 1);
  b.graph().nodes().back().attrs.set("activation", std::string("Relu"));
  b.output(b.batchnorm("bn", c, 3));
  ir::Graph g = b.finish();
  EXPECT_TRUE(run_pass(passes::BatchNormFolding(), g, test_context()).empty());
  EXPECT_EQ(count_ops(g, OpKind::kBatchNormalization), 1u);
}

}  // namespace
}  // namespace inferd::test
