// Precision assignment: activations stored in fp16 with fp32 graph inputs and outputs,
// converted by Reorders (existing layout Reorders convert dtype too), shapes and dtypes
// consistent with shape inference (what plan validation re-checks on load).
#include "passes/precision_assignment.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "passes/pass_manager.h"

namespace inferd::test {
namespace {

size_t values_of(const ir::Graph& g, DataType t) {
  size_t n = 0;
  for (size_t i = 0; i < g.value_count(); ++i) {
    const auto& v = g.value(static_cast<ir::ValueId>(i));
    n += !v.is_constant() && v.dtype == t;
  }
  return n;
}

TEST(PrecisionAssignment, Fp16InsideFp32AtTheBoundaries) {
  ir::Graph g = residual_block();
  ASSERT_TRUE(passes::optimize(g, test_context()).is_ok());
  const size_t reorders_before = count_ops(g, ir::OpKind::kReorder);
  auto changed = passes::assign_activation_dtype(g, DataType::kFloat16);
  ASSERT_TRUE(changed.is_ok()) << changed.status().message();
  for (auto id : g.inputs) EXPECT_EQ(g.value(id).dtype, DataType::kFloat32);
  for (auto id : g.outputs) EXPECT_EQ(g.value(id).dtype, DataType::kFloat32);
  EXPECT_EQ(values_of(g, DataType::kFloat32), g.inputs.size() + g.outputs.size());
  EXPECT_GT(values_of(g, DataType::kFloat16), 0u);
  // The layout pass already placed Reorders at both ends (NCHW <-> NHWC): they convert
  // dtype as well, so no node was added.
  EXPECT_EQ(count_ops(g, ir::OpKind::kReorder), reorders_before);
  for (const auto& n : g.nodes()) {
    if (n.op != ir::OpKind::kReorder || g.value(n.inputs[0]).dtype == g.value(n.outputs[0]).dtype) continue;
    EXPECT_EQ(n.attrs.get_int("to", -1), static_cast<int64_t>(g.value(n.outputs[0]).dtype)) << n.name;
  }
  expect_shapes_valid(g);
}

TEST(PrecisionAssignment, AddsConvertersWhereNoReorderIsThere) {
  ir::Graph g = conv_bn_relu_chain();  // NCHW everywhere: the layout pass inserts nothing
  ASSERT_TRUE(passes::optimize(g, test_context({.conv_layout = ir::Layout::kNCHW})).is_ok());
  const size_t before = count_ops(g, ir::OpKind::kReorder);
  ASSERT_TRUE(passes::assign_activation_dtype(g, DataType::kFloat16).is_ok());
  // One converter per graph input and per graph output.
  EXPECT_EQ(count_ops(g, ir::OpKind::kReorder), before + g.inputs.size() + g.outputs.size());
  for (auto id : g.outputs) EXPECT_EQ(g.value(id).dtype, DataType::kFloat32);
  expect_shapes_valid(g);
}

TEST(PrecisionAssignment, Fp32ChangesNothing) {
  ir::Graph g = residual_block();
  const size_t nodes = g.nodes().size();
  auto changed = passes::assign_activation_dtype(g, DataType::kFloat32);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_TRUE(changed->changes.empty());
  EXPECT_EQ(g.nodes().size(), nodes);
}

}  // namespace
}  // namespace inferd::test
