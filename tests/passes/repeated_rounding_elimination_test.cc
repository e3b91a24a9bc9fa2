// repeated_rounding_elimination: a FakeQuantize in front of max pools whose outputs are
// rounded again on its grid goes; anything else stays.
#include "passes/repeated_rounding_elimination.h"

#include <gtest/gtest.h>

#include "passes/fixtures.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// x -> FQ a -> MaxPool -> FQ b -> conv -> output, a and b on `b_zero_point`'s grid and a's.
ir::Graph pooled(int64_t b_zero_point, float b_scale = 0.05f) {
  GraphBuilder b("pooled");
  const ir::ValueId x = b.input("x", {1, 4, 8, 8});
  const ir::ValueId a = b.node(OpKind::kFakeQuantize, "a", {x}, fake_quantize_attrs(0.05f, 3, 0, 255));
  const ir::ValueId p = b.max_pool("pool", a, 2, 2, 0);
  const ir::ValueId q = b.node(OpKind::kFakeQuantize, "b", {p}, fake_quantize_attrs(b_scale, b_zero_point, 0, 255));
  b.output(b.conv("conv", q, 8, 3, 1, 1));
  return b.finish();
}

TEST(RepeatedRoundingElimination, TheRoundingInFrontOfAPoolRoundedAgainGoes) {
  ir::Graph g = pooled(3);
  const ir::Graph before = g;
  const auto changes = run_pass(passes::RepeatedRoundingElimination(), g, test_context());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("removed a"), std::string::npos) << changes[0];
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 1u);
  EXPECT_EQ(g.value(find_node(g, "pool")->inputs[0]).name, "x");
  // Exactly the same numbers: the max of rounded values is the rounded max.
  expect_same_function(before, g, 0.0f);
}

TEST(RepeatedRoundingElimination, AnotherGridOrAnotherReaderKeepsIt) {
  for (ir::Graph g : {pooled(4), pooled(3, 0.04f)}) {  // b's zero point or scale differs
    EXPECT_TRUE(run_pass(passes::RepeatedRoundingElimination(), g, test_context()).empty());
    EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 2u);
  }
  // a also read by a conv: that reader needs the rounded values.
  GraphBuilder b("shared");
  const ir::ValueId x = b.input("x", {1, 4, 8, 8});
  const ir::ValueId a = b.node(OpKind::kFakeQuantize, "a", {x}, fake_quantize_attrs(0.05f, 0, 0, 255));
  const ir::ValueId p = b.max_pool("pool", a, 2, 2, 0);
  b.output(b.node(OpKind::kFakeQuantize, "b", {p}, fake_quantize_attrs(0.05f, 0, 0, 255)));
  b.output(b.conv("conv", a, 8, 3, 1, 1));
  ir::Graph g = b.finish();
  EXPECT_TRUE(run_pass(passes::RepeatedRoundingElimination(), g, test_context()).empty());
  // The pool's output a graph output: it would hold unrounded values.
  GraphBuilder c("pool_out");
  const ir::ValueId y = c.input("x", {1, 4, 8, 8});
  const ir::ValueId pa =
      c.max_pool("pool", c.node(OpKind::kFakeQuantize, "a", {y}, fake_quantize_attrs(0.05f, 0, 0, 255)), 2, 2, 0);
  c.output(pa);
  c.output(c.node(OpKind::kFakeQuantize, "b", {pa}, fake_quantize_attrs(0.05f, 0, 0, 255)));
  ir::Graph h = c.finish();
  EXPECT_TRUE(run_pass(passes::RepeatedRoundingElimination(), h, test_context()).empty());
}

}  // namespace
}  // namespace inferd::test
