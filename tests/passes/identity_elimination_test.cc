#include "passes/identity_elimination.h"

#include <gtest/gtest.h>

#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(IdentityElimination, RemovesIdentitiesAndKeepsTheOutputName) {
  ir::Graph g = dead_branches_graph();
  const ir::Graph before = g;
  const auto changes = run_pass(passes::IdentityElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kIdentity), 0u);
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(g.nodes().size(), before.nodes().size() - 2);
  // The Identity wrote the graph output: conv2 now writes it, under the same name.
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "out_copy_out");
  const auto producer = g.producer(g.outputs[0]);
  ASSERT_TRUE(producer.has_value());
  EXPECT_EQ(g.nodes()[*producer].name, "conv2");
  // relu1 now reads conv1 directly.
  const ir::Node* relu = find_node(g, "relu1");
  ASSERT_NE(relu, nullptr);
  EXPECT_EQ(g.value(relu->inputs[0]).name, "conv1_out");
  expect_same_function(before, g);
}

TEST(IdentityElimination, KeepsAnIdentityCopyingAGraphInputToAnOutput) {
  GraphBuilder b("input_to_output");
  const ir::ValueId x = b.input("x", {1, 2, 3, 3});
  b.output(b.node(OpKind::kIdentity, "copy", {x}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  EXPECT_TRUE(run_pass(passes::IdentityElimination(), g, test_context()).empty());
  EXPECT_EQ(count_ops(g, OpKind::kIdentity), 1u);
  expect_same_function(before, g);
}

TEST(IdentityElimination, KeepsAnIdentityBetweenTwoGraphOutputs) {
  // Both names are bound to the outside; neither may disappear.
  GraphBuilder b("two_outputs");
  const ir::ValueId c = b.conv("conv", b.input("x", {1, 2, 3, 3}), 2, 1);
  b.output(c);
  b.output(b.node(OpKind::kIdentity, "copy", {c}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  run_pass(passes::IdentityElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kIdentity), 1u);
  expect_same_function(before, g);
}

TEST(IdentityElimination, RemovesAChainOfIdentitiesEndingInAnOutput) {
  GraphBuilder b("chain");
  const ir::ValueId c = b.conv("conv", b.input("x", {1, 2, 3, 3}), 2, 1);
  const ir::ValueId i1 = b.node(OpKind::kIdentity, "id1", {c});
  const ir::ValueId r = b.relu("relu", i1);
  b.output(b.node(OpKind::kIdentity, "id3", {b.node(OpKind::kIdentity, "id2", {r})}));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  run_pass(passes::IdentityElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kIdentity), 0u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "id3_out");
  expect_same_function(before, g);
}

}  // namespace
}  // namespace inferd::test
