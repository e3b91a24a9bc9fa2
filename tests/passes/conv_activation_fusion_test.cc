#include "passes/conv_activation_fusion.h"

#include <gtest/gtest.h>

#include "passes/batchnorm_folding.h"
#include "passes/conv_add_fusion.h"
#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

struct ActivationCase {
  OpKind op;
  ir::Attributes attrs;
};

std::vector<ActivationCase> activation_cases() {
  std::vector<ActivationCase> cases;
  ir::Attributes clip, leaky, hard;
  clip.set("min", -0.1f);
  clip.set("max", 0.2f);
  leaky.set("alpha", 0.3f);
  hard.set("alpha", 0.3f);
  hard.set("beta", 0.4f);
  cases.push_back({OpKind::kRelu, {}});
  cases.push_back({OpKind::kClip, clip});
  cases.push_back({OpKind::kLeakyRelu, leaky});
  cases.push_back({OpKind::kSigmoid, {}});
  cases.push_back({OpKind::kTanh, {}});
  cases.push_back({OpKind::kHardSigmoid, hard});
  cases.push_back({OpKind::kHardSwish, {}});
  return cases;
}

TEST(ConvActivationFusion, FusesEveryActivationIntoConvAndGemm) {
  for (const auto& c : activation_cases()) {
    SCOPED_TRACE(std::string(ir::to_string(c.op)));
    GraphBuilder b("act");
    const ir::ValueId x = b.input("x", {2, 3, 4, 4});
    b.output(b.node(c.op, "act_conv", {b.conv("conv", x, 4, 3, 1, 1)}, c.attrs));
    const ir::ValueId flat = b.node(OpKind::kFlatten, "flatten", {x});
    b.output(b.node(c.op, "act_gemm", {b.gemm("gemm", flat, 48, 5, true, true)}, c.attrs));
    ir::Graph g = b.finish();
    const ir::Graph before = g;
    EXPECT_EQ(run_pass(passes::ConvActivationFusion(), g, test_context()).size(), 2u);
    EXPECT_EQ(count_ops(g, c.op), 0u);
    const ir::Node* conv = find_node(g, "conv");
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(conv->attrs.get_string("activation", ""), ir::to_string(c.op));
    EXPECT_EQ(g.value(conv->outputs[0]).name, "act_conv_out");
    expect_same_function(before, g);
  }
}

TEST(ConvActivationFusion, FusesIntoConvTranspose) {
  GraphBuilder b("deconv");
  const ir::ValueId x = b.input("x", {2, 4, 3, 3});
  ir::Attributes a;
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("pads", std::vector<int64_t>{1, 1, 0, 0});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("output_padding", std::vector<int64_t>{1, 1});
  a.set("group", int64_t{2});
  const ir::ValueId up =
      b.node(OpKind::kConvTranspose, "up", {x, b.weight("w", {4, 3, 3, 3}), b.weight("b", {6})}, a);
  b.output(b.node(OpKind::kTanh, "act", {up}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::ConvActivationFusion(), g, test_context()).size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kTanh), 0u);
  const ir::Node* fused = find_node(g, "up");
  ASSERT_NE(fused, nullptr);
  EXPECT_EQ(fused->attrs.get_string("activation", ""), "Tanh");
  EXPECT_EQ(g.value(fused->outputs[0]).shape, (Shape{2, 6, 7, 7}));  // 2*2 + 1 + 3 - 1
  expect_same_function(before, g);
}

TEST(ConvActivationFusion, FusesReluAfterAResidual) {
  ir::Graph g = residual_block();
  const ir::Graph before = g;
  run_pass(passes::BatchNormFolding(), g, test_context());
  run_pass(passes::ConvAddFusion(), g, test_context());
  run_pass(passes::ConvActivationFusion(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kRelu), 0u);
  EXPECT_EQ(g.nodes().size(), count_ops(g, OpKind::kConv));
  expect_same_function(before, g, 1e-4f, true);
}

TEST(ConvActivationFusion, LeavesSharedOutputsAndUnsupportedFusions) {
  GraphBuilder b("shared");
  const ir::ValueId x = b.input("x", {1, 3, 4, 4});
  const ir::ValueId c = b.conv("conv", x, 3, 1);
  b.output(b.relu("relu", c));
  b.output(b.node(OpKind::kSigmoid, "sigmoid", {c}));
  b.output(b.relu("relu2", b.conv("conv2", x, 3, 1)));
  ir::Graph g = b.finish();
  BackendAnswers no;
  no.fuse = false;
  EXPECT_TRUE(run_pass(passes::ConvActivationFusion(), g, test_context(no)).empty());
  EXPECT_EQ(run_pass(passes::ConvActivationFusion(), g, test_context()).size(), 1u);  // conv2 only
  EXPECT_EQ(count_ops(g, OpKind::kRelu), 1u);
}

}  // namespace
}  // namespace inferd::test
