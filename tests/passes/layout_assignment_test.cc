#include "passes/layout_assignment.h"

#include <gtest/gtest.h>

#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::Layout;
using ir::OpKind;

TEST(LayoutAssignment, ReordersAtTheGraphBoundariesOnly) {
  GraphBuilder b("nhwc_chain");
  const ir::ValueId x = b.input("x", {1, 3, 8, 8});
  const ir::ValueId c1 = b.conv("conv1", x, 4, 3, 1, 1);
  b.output(b.conv("conv2", b.relu("relu", c1), 4, 3, 1, 1));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  const auto changes = run_pass(passes::LayoutAssignment(), g, test_context());
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(count_ops(g, OpKind::kReorder), 2u);
  EXPECT_EQ(g.value(*g.find_value("x_nhwc")).layout, Layout::kNHWC);
  EXPECT_EQ(g.value(*g.find_value("conv1_out")).layout, Layout::kNHWC);
  EXPECT_EQ(g.value(*g.find_value("relu_out")).layout, Layout::kNHWC);
  // The output keeps its name and NCHW; conv2 writes a renamed NHWC value.
  EXPECT_EQ(g.value(g.outputs[0]).name, "conv2_out");
  const ir::Node* conv2 = find_node(g, "conv2");
  ASSERT_NE(conv2, nullptr);
  EXPECT_EQ(g.value(conv2->outputs[0]).name, "conv2_out_nhwc");
  EXPECT_EQ(g.value(conv2->outputs[0]).layout, Layout::kNHWC);
  expect_same_function(before, g);
}

TEST(LayoutAssignment, NeverReordersValuesWithOnePixel) {
  GraphBuilder b("one_pixel");
  const ir::ValueId x = b.input("x", {1, 3, 6, 6});
  const ir::ValueId pooled = b.node(OpKind::kGlobalAveragePool, "gap", {b.conv("conv1", x, 4, 3, 1, 1)});
  b.output(b.conv("conv2", pooled, 5, 1));  // [1,5,1,1] output, NHWC-preferring producer
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  run_pass(passes::LayoutAssignment(), g, test_context());
  // x -> NHWC for conv1, conv1_out -> NCHW for the pool; nothing for the 1x1 values.
  EXPECT_EQ(count_ops(g, OpKind::kReorder), 2u);
  EXPECT_FALSE(g.find_value("gap_out_nhwc").has_value());
  EXPECT_EQ(g.value(g.outputs[0]).name, "conv2_out");
  expect_same_function(before, g);
}

TEST(LayoutAssignment, SharesOneReorderAmongReadersAndIsIdempotent) {
  GraphBuilder b("shared");
  const ir::ValueId x = b.input("x", {1, 3, 6, 6});
  const ir::ValueId c = b.conv("conv", x, 4, 3, 1, 1);
  b.output(b.node(OpKind::kGlobalAveragePool, "gap1", {c}));
  b.output(b.node(OpKind::kGlobalAveragePool, "gap2", {c}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  run_pass(passes::LayoutAssignment(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kReorder), 2u);  // x -> NHWC, conv_out -> NCHW (shared)
  const size_t nodes = g.nodes().size();
  EXPECT_TRUE(run_pass(passes::LayoutAssignment(), g, test_context()).empty());
  EXPECT_EQ(g.nodes().size(), nodes);
  expect_same_function(before, g);
}

TEST(LayoutAssignment, AnNchwBackendNeedsNoReorders) {
  ir::Graph g = inception_block();
  BackendAnswers nchw;
  nchw.conv_layout = Layout::kNCHW;
  EXPECT_TRUE(run_pass(passes::LayoutAssignment(), g, test_context(nchw)).empty());
  EXPECT_EQ(count_ops(g, OpKind::kReorder), 0u);
}

TEST(LayoutAssignment, WithoutACallbackEverythingIsNchw) {
  ir::Graph g = residual_block();
  EXPECT_TRUE(run_pass(passes::LayoutAssignment(), g, passes::PassContext{}).empty());
  for (size_t i = 0; i < g.value_count(); ++i) EXPECT_EQ(g.value(static_cast<ir::ValueId>(i)).layout, Layout::kNCHW);
}

}  // namespace
}  // namespace inferd::test
