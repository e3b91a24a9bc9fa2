#include "runtime/memory_planner.h"

#include <gtest/gtest.h>

#include "core/tensor.h"

namespace inferd {
namespace {

// A chain x -> a -> b -> c -> y of relus: only two buffers are ever live at once.
ir::Graph relu_chain(int length, int64_t channels) {
  ir::Graph g;
  auto make = [&](const std::string& name) {
    ir::Value v;
    v.name = name;
    v.shape = {kDynamicDim, channels, 8, 8};
    return g.add_value(v);
  };
  auto prev = make("x");
  g.inputs = {prev};
  for (int i = 0; i < length; ++i) {
    auto next = make("v" + std::to_string(i));
    g.add_node({"relu" + std::to_string(i), ir::OpKind::kRelu, {prev}, {next}, {}});
    prev = next;
  }
  g.outputs = {prev};
  return g;
}

bool overlaps(int64_t a, int64_t b, int64_t size) {
  return a < b + size && b < a + size;
}

TEST(MemoryPlanner, ChainReusesTwoBuffers) {
  const auto g = relu_chain(10, 16);
  const auto plan = plan_memory(g, 4);
  const int64_t one = 4 * 16 * 8 * 8 * 4;
  EXPECT_EQ(plan.naive_bytes, 11 * one);
  EXPECT_EQ(plan.arena_bytes, 2 * one);
  // A node's input and output never share bytes.
  for (const auto& n : g.nodes())
    EXPECT_FALSE(overlaps(plan.offset[n.inputs[0]], plan.offset[n.outputs[0]], one)) << n.name;
}

TEST(MemoryPlanner, AliasesLiveInTheirTargetAndExtendItsLife) {
  ir::Graph g;
  ir::Value v;
  v.shape = {1, 8, 4, 4};
  v.name = "x";
  auto x = g.add_value(v);
  v.name = "a";
  auto a = g.add_value(v);
  v.name = "b";
  auto b = g.add_value(v);
  v.name = "cat";
  v.shape = {1, 16, 4, 4};
  auto cat = g.add_value(v);
  g.value(a).alias_of = cat;
  g.value(b).alias_of = cat;
  g.value(b).alias_channel_offset = 8;
  g.inputs = {x};
  g.add_node({"ra", ir::OpKind::kRelu, {x}, {a}, {}});
  g.add_node({"rb", ir::OpKind::kRelu, {x}, {b}, {}});
  g.add_node({"concat", ir::OpKind::kConcat, {a, b}, {cat}, {}});
  g.outputs = {cat};
  const auto plan = plan_memory(g, 1);
  EXPECT_EQ(plan.offset[a], plan.offset[cat]);
  EXPECT_EQ(plan.offset[b], plan.offset[cat]);
  EXPECT_FALSE(overlaps(plan.offset[x], plan.offset[cat], 16 * 16 * 4));
  EXPECT_EQ(plan.arena_bytes, (8 + 16) * 16 * 4);
}

// x -> conv_a -> a; conv_b(a, w, b, residual = x or a) -> y.
ir::Graph residual_block(bool residual_read_later) {
  ir::Graph g;
  ir::Value v;
  v.shape = {1, 4, 5, 5};
  v.name = "x";
  auto x = g.add_value(v);
  v.name = "a";
  auto a = g.add_value(v);
  v.name = "y";
  auto y = g.add_value(v);
  v.name = "z";
  auto z = g.add_value(v);
  auto w = g.add_constant("w", Tensor(DataType::kFloat32, {4, 4, 1, 1}));
  auto b = g.add_constant("b", Tensor(DataType::kFloat32, {4}));
  g.inputs = {x};
  g.add_node({"conv_a", ir::OpKind::kConv, {x, w, b}, {a}, {}});
  g.add_node({"conv_b", ir::OpKind::kConv, {a, w, b, x}, {y}, {}});
  if (residual_read_later) {
    g.add_node({"relu", ir::OpKind::kRelu, {x}, {z}, {}});
    g.outputs = {y, z};
  } else {
    g.outputs = {y};
  }
  return g;
}

TEST(MemoryPlanner, ConvWritesOverAResidualThatDiesThere) {
  // x is a graph input: never overwritten.
  auto g = residual_block(false);
  EXPECT_NE(plan_memory(g, 1).offset[2], plan_memory(g, 1).offset[0]);
  // Make the residual an intermediate: conv_b(a, ..., residual = a') where a' = relu(x).
  ir::Graph h;
  ir::Value v;
  v.shape = {1, 4, 5, 5};
  std::vector<ir::ValueId> ids;
  for (const char* name : {"x", "r", "a", "y"}) {
    v.name = name;
    ids.push_back(h.add_value(v));
  }
  auto w = h.add_constant("w", Tensor(DataType::kFloat32, {4, 4, 1, 1}));
  h.inputs = {ids[0]};
  h.add_node({"relu", ir::OpKind::kRelu, {ids[0]}, {ids[1]}, {}});
  h.add_node({"conv_a", ir::OpKind::kConv, {ids[0], w}, {ids[2]}, {}});
  h.add_node({"conv_b", ir::OpKind::kConv, {ids[2], w, ir::kNoValue, ids[1]}, {ids[3]}, {}});
  h.outputs = {ids[3]};
  // The backend's answer (as the CPU backend gives it): a Conv may overwrite its residual.
  const InPlacePredicate conv_residual = [](const ir::Graph&, const ir::Node& n, size_t input) {
    return n.op == ir::OpKind::kConv && input == 3;
  };
  EXPECT_NE(plan_memory(h, 1).offset[ids[3]], plan_memory(h, 1).offset[ids[1]]);  // not unless the backend says so
  const auto plan = plan_memory(h, 1, conv_residual);
  EXPECT_EQ(plan.offset[ids[3]], plan.offset[ids[1]]);  // y written over r
  EXPECT_NE(plan.offset[ids[3]], plan.offset[ids[2]]);  // never over its own input
  // Still read after the conv: no sharing.
  h.outputs = {ids[3], ids[1]};
  const auto kept = plan_memory(h, 1, conv_residual);
  EXPECT_NE(kept.offset[ids[3]], kept.offset[ids[1]]);
}

}  // namespace
}  // namespace inferd
