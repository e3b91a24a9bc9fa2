#include "passes/conv_add_fusion.h"

#include <gtest/gtest.h>

#include "passes/batchnorm_folding.h"
#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(ConvAddFusion, FusesResidualAddsIntoConvs) {
  ir::Graph g = residual_block();
  run_pass(passes::BatchNormFolding(), g, test_context());
  const ir::Graph before = g;
  ASSERT_EQ(count_ops(g, OpKind::kAdd), 2u);
  const auto changes = run_pass(passes::ConvAddFusion(), g, test_context());
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(count_ops(g, OpKind::kAdd), 0u);
  // The identity shortcut: conv_b adds the block input x and writes add_b's value.
  const ir::Node* conv_b = find_node(g, "conv_b");
  ASSERT_NE(conv_b, nullptr);
  ASSERT_EQ(conv_b->inputs.size(), 4u);
  EXPECT_EQ(g.value(conv_b->inputs[3]).name, "x");
  EXPECT_EQ(g.value(conv_b->outputs[0]).name, "add_b_out");
  // The projection block: both operands are Convs; whichever runs later absorbs the
  // other (which one depends on the topological order, both are right).
  const ir::Node* conv_s = find_node(g, "conv_s");
  const ir::Node* conv_d = find_node(g, "conv_d");
  ASSERT_NE(conv_s, nullptr);
  ASSERT_NE(conv_d, nullptr);
  ASSERT_EQ(conv_s->inputs.size() + conv_d->inputs.size(), 4u + 3u);
  const ir::Node* fused = conv_s->inputs.size() == 4 ? conv_s : conv_d;
  const ir::Node* other = fused == conv_s ? conv_d : conv_s;
  EXPECT_EQ(fused->inputs[3], other->outputs[0]);
  expect_same_function(before, g);
}

TEST(ConvAddFusion, LeavesBroadcastingAddsAndUnsupportedFusions) {
  GraphBuilder b("broadcast");
  const ir::ValueId x = b.input("x", {1, 4, 3, 3});
  const ir::ValueId c = b.conv("conv", x, 4, 1);
  b.output(b.add("add_bias", c, b.weight("per_channel", {1, 4, 1, 1})));
  b.output(b.add("add_x", b.conv("conv2", x, 4, 1), x));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  BackendAnswers no;
  no.fuse = false;
  EXPECT_TRUE(run_pass(passes::ConvAddFusion(), g, test_context(no)).empty());
  EXPECT_EQ(count_ops(g, OpKind::kAdd), 2u);
  // With support, only the same-shape residual fuses.
  EXPECT_EQ(run_pass(passes::ConvAddFusion(), g, test_context()).size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kAdd), 1u);
  EXPECT_NE(find_node(g, "add_bias"), nullptr);
  expect_same_function(before, g);
}

TEST(ConvAddFusion, FusesATwoInputSum) {
  GraphBuilder b("sum");
  const ir::ValueId x = b.input("x", {1, 4, 3, 3});
  b.output(b.node(OpKind::kSum, "sum", {x, b.conv("conv", x, 4, 3, 1, 1)}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::ConvAddFusion(), g, test_context()).size(), 1u);
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "sum_out");
  expect_same_function(before, g);
}

TEST(ConvAddFusion, LeavesAConvWhoseOutputHasOtherReaders) {
  GraphBuilder b("shared_output");
  const ir::ValueId x = b.input("x", {1, 4, 3, 3});
  const ir::ValueId c = b.conv("conv", x, 4, 1);
  b.output(b.add("add", c, x));
  b.output(b.relu("relu", c));
  ir::Graph g = b.finish();
  EXPECT_TRUE(run_pass(passes::ConvAddFusion(), g, test_context()).empty());
  EXPECT_EQ(count_ops(g, OpKind::kAdd), 1u);
}

}  // namespace
}  // namespace inferd::test
