#include "passes/dead_node_elimination.h"

#include <gtest/gtest.h>

#include "passes/fixtures.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(DeadNodeElimination, DropsBranchesThatReachNoOutputAndUnusedConstants) {
  ir::Graph g = dead_branches_graph();
  const ir::Graph before = g;
  ASSERT_TRUE(g.find_value("unused_w").has_value());
  const auto changes = run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(find_node(g, "conv_dead"), nullptr);
  EXPECT_EQ(find_node(g, "sigmoid_dead"), nullptr);
  EXPECT_EQ(count_ops(g, OpKind::kSigmoid), 0u);
  EXPECT_EQ(g.nodes().size(), before.nodes().size() - 2);
  EXPECT_FALSE(g.find_value("unused_w").has_value());
  EXPECT_FALSE(g.find_value("conv_dead_w").has_value());
  ASSERT_EQ(changes.size(), 3u);  // two nodes, one line for the constants
  EXPECT_NE(changes.back().find("unused constants"), std::string::npos);
  expect_same_function(before, g);
}

TEST(DeadNodeElimination, LeavesALiveGraphAlone) {
  ir::Graph g = conv_bn_relu_chain();
  const ir::Graph before = g;
  EXPECT_TRUE(run_pass(passes::DeadNodeElimination(), g, test_context()).empty());
  EXPECT_EQ(g.nodes().size(), before.nodes().size());
  EXPECT_EQ(g.value_count(), before.value_count());
  expect_same_function(before, g);
}

TEST(DeadNodeElimination, KeepsAMultiOutputNodeWhenOneOutputIsLive) {
  GraphBuilder b("partial");
  const ir::ValueId x = b.input("x", {1, 2, 3, 3});
  const ir::ValueId c = b.conv("conv", x, 2, 1);
  ir::Graph g = b.finish();
  // A second, unread output on the conv's node must not make it dead.
  ir::Value extra;
  extra.name = "extra";
  extra.shape = {1, 2, 3, 3};
  g.nodes()[0].outputs.push_back(g.add_value(std::move(extra)));
  g.outputs.push_back(c);
  // Not run_pass: shape inference knows no two-output Conv.
  auto r = passes::DeadNodeElimination().run(g, test_context());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_TRUE(r->changes.empty());
}

}  // namespace
}  // namespace inferd::test
