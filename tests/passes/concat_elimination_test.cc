#include "passes/concat_elimination.h"

#include <gtest/gtest.h>

#include "passes/conv_activation_fusion.h"
#include "passes/horizontal_conv_fusion.h"
#include "passes/layout_assignment.h"
#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(ConcatElimination, WritesInceptionBranchesStraightIntoTheConcat) {
  ir::Graph g = inception_block();
  const ir::Graph before = g;
  run_pass(passes::ConvActivationFusion(), g, test_context());
  run_pass(passes::HorizontalConvFusion(), g, test_context());
  run_pass(passes::LayoutAssignment(), g, test_context());
  ASSERT_EQ(run_pass(passes::ConcatElimination(), g, test_context()).size(), 1u);
  const ir::Node* concat = find_node(g, "concat");
  ASSERT_NE(concat, nullptr);
  EXPECT_EQ(concat->attrs.get_int("in_place", 0), 1);
  const std::vector<int64_t> offsets{0, 8, 16, 20};
  for (size_t i = 0; i < concat->inputs.size(); ++i) {
    const ir::Value& v = g.value(concat->inputs[i]);
    EXPECT_EQ(v.alias_of, concat->outputs[0]) << v.name;
    EXPECT_EQ(v.alias_channel_offset, offsets[i]) << v.name;
  }
  expect_same_function(before, g);
}

TEST(ConcatElimination, NeedsEveryInputToQualify) {
  GraphBuilder b("blocked");
  const ir::ValueId x = b.input("x", {1, 2, 4, 4});
  const ir::ValueId a = b.conv("a", x, 3, 1);
  const ir::ValueId c = b.conv("c", x, 3, 1);
  b.output(b.concat("with_input", {x, a}));   // a graph input cannot alias
  b.output(b.concat("shared", {c, b.conv("d", x, 2, 1)}));
  b.output(c);                                 // c is also a graph output
  b.output(b.concat("pool_fed", {b.conv("e", x, 2, 1), b.max_pool("pool", x, 1, 1, 0)}));
  ir::Graph g = b.finish();
  EXPECT_TRUE(run_pass(passes::ConcatElimination(), g, test_context()).empty());
  for (size_t i = 0; i < g.value_count(); ++i) EXPECT_EQ(g.value(static_cast<ir::ValueId>(i)).alias_of, ir::kNoValue);
}

TEST(ConcatElimination, RespectsTheBackendAndLayouts) {
  GraphBuilder b("answers");
  const ir::ValueId x = b.input("x", {1, 2, 4, 4});
  b.output(b.concat("cat", {b.conv("a", x, 3, 1), b.conv("b", x, 2, 1)}));
  ir::Graph g = b.finish();
  BackendAnswers no;
  no.strided_conv_output = false;
  EXPECT_TRUE(run_pass(passes::ConcatElimination(), g, test_context(no)).empty());
  g.value(*g.find_value("a_out")).layout = ir::Layout::kNHWC;  // differs from the output
  EXPECT_TRUE(run_pass(passes::ConcatElimination(), g, test_context()).empty());
}

TEST(ConcatElimination, FlattensNestedConcats) {
  GraphBuilder b("nested");
  const ir::ValueId x = b.input("x", {1, 2, 4, 4});
  const ir::ValueId inner = b.concat("inner", {b.conv("a", x, 3, 1), b.conv("b", x, 2, 1)});
  b.output(b.concat("outer", {b.conv("c", x, 4, 1), inner}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::ConcatElimination(), g, test_context()).size(), 2u);
  const ir::ValueId outer = *g.find_value("outer_out");
  for (auto [name, offset] : std::vector<std::pair<std::string, int64_t>>{
           {"c_out", 0}, {"inner_out", 4}, {"a_out", 4}, {"b_out", 7}}) {
    const ir::Value& v = g.value(*g.find_value(name));
    EXPECT_EQ(v.alias_of, outer) << name;
    EXPECT_EQ(v.alias_channel_offset, offset) << name;
  }
  expect_same_function(before, g);
}

}  // namespace
}  // namespace inferd::test
