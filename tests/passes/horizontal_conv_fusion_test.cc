#include "passes/horizontal_conv_fusion.h"

#include <gtest/gtest.h>

#include "passes/conv_activation_fusion.h"
#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(HorizontalConvFusion, MergesTheInceptionOneByOneBranches) {
  ir::Graph g = inception_block();
  run_pass(passes::ConvActivationFusion(), g, test_context());
  const ir::Graph before = g;
  ASSERT_EQ(count_ops(g, OpKind::kConv), 6u);
  const auto changes = run_pass(passes::HorizontalConvFusion(), g, test_context());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("b1_1x1, b2_reduce, b3_reduce"), std::string::npos) << changes[0];
  EXPECT_EQ(count_ops(g, OpKind::kConv), 4u);
  EXPECT_EQ(count_ops(g, OpKind::kSlice), 3u);
  // The merged Conv has 8 + 6 + 4 output channels; the Slices write the old values.
  const ir::Node* merged = find_node(g, "b1_1x1_hmerged");
  ASSERT_NE(merged, nullptr);
  EXPECT_EQ(g.value(merged->outputs[0]).shape, (Shape{1, 18, 7, 7}));
  EXPECT_EQ(merged->attrs.get_string("activation", ""), "Relu");
  const ir::Node* slice = find_node(g, "b2_reduce_slice");
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->attrs.get_int("start", -1), 8);
  EXPECT_EQ(slice->attrs.get_int("end", -1), 14);
  EXPECT_EQ(g.value(slice->outputs[0]).name, "b2_reduce_relu_out");
  expect_same_function(before, g);
}

TEST(HorizontalConvFusion, MergesConvsWithAndWithoutBias) {
  GraphBuilder b("bias_mix");
  const ir::ValueId x = b.input("x", {2, 3, 5, 5});
  b.output(b.conv("with_bias", x, 4, 3, 2, 1, true));
  b.output(b.conv("without_bias", x, 2, 3, 2, 1, false));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::HorizontalConvFusion(), g, test_context()).size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kConv), 1u);
  expect_same_function(before, g);
}

TEST(HorizontalConvFusion, LeavesConvsThatDifferOrAreNotSupported) {
  GraphBuilder b("different");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  b.output(b.conv("k1", x, 4, 1));
  b.output(b.conv("k3", x, 4, 3, 1, 1));          // other kernel size
  b.output(b.conv("k1_s2", x, 4, 1, 2));          // other stride
  b.output(b.conv("k1_g2", x, 4, 1, 1, 0, true, 2));  // grouped
  b.output(b.relu("relu", b.conv("k1_relu", x, 4, 1)));
  b.graph().nodes()[b.graph().nodes().size() - 2].attrs.set("activation", std::string("Sigmoid"));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  BackendAnswers no;
  no.fuse = false;
  EXPECT_TRUE(run_pass(passes::HorizontalConvFusion(), g, test_context(no)).empty());
  EXPECT_TRUE(run_pass(passes::HorizontalConvFusion(), g, test_context()).empty());
  EXPECT_EQ(count_ops(g, OpKind::kConv), 5u);
  expect_same_function(before, g);
}

TEST(HorizontalConvFusion, LeavesConvsWithAResidual) {
  GraphBuilder b("residual");
  const ir::ValueId x = b.input("x", {1, 4, 3, 3});
  b.output(b.conv("plain", x, 4, 1));
  const ir::ValueId r = b.conv("with_residual", x, 4, 1);
  ir::Graph g = b.finish();
  g.nodes().back().inputs.push_back(x);  // residual R = x
  g.outputs.push_back(r);
  EXPECT_TRUE(run_pass(passes::HorizontalConvFusion(), g, test_context()).empty());
}

}  // namespace
}  // namespace inferd::test
