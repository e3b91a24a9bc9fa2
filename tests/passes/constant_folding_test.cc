#include "passes/constant_folding.h"

#include <gtest/gtest.h>

#include "passes/fixtures.h"
#include "passes/fold_builtin.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

std::vector<int64_t> int64s_of(const ir::Graph& g, ir::ValueId id) {
  const auto& t = *g.value(id).constant;
  return {t.int64s().begin(), t.int64s().end()};
}

TEST(ConstantFolding, FoldsAStaticShapeChainAndFloatWeightMath) {
  ir::Graph g = shape_chain_graph(2);
  const auto changes = run_pass(passes::ConstantFolding(), g, test_context());
  for (OpKind op : {OpKind::kShape, OpKind::kGather, OpKind::kUnsqueeze, OpKind::kConcat, OpKind::kMul})
    EXPECT_EQ(count_ops(g, op), 0u) << ir::to_string(op);
  EXPECT_EQ(changes.size(), 5u);
  EXPECT_EQ(g.nodes().size(), 3u);  // conv1, reshape, fc
  const ir::Node* reshape = find_node(g, "reshape");
  ASSERT_NE(reshape, nullptr);
  ASSERT_TRUE(g.value(reshape->inputs[1]).is_constant());
  EXPECT_EQ(int64s_of(g, reshape->inputs[1]), (std::vector<int64_t>{2, -1}));
  // The chain's leftovers (the index and -1 constants) are compacted away.
  EXPECT_FALSE(g.find_value("zero").has_value());
  expect_same_function(shape_chain_graph(2, /*target_as_constant=*/true), g);
}

TEST(ConstantFolding, WithoutAnEvaluatorFloatMathStays) {
  ir::Graph g = shape_chain_graph(2);
  BackendAnswers answers;
  answers.evaluate = false;
  run_pass(passes::ConstantFolding(), g, test_context(answers));
  EXPECT_EQ(count_ops(g, OpKind::kMul), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kShape), 0u);
  expect_same_function(shape_chain_graph(2, true), g);
}

TEST(ConstantFolding, ShapeOfADynamicBatchStays) {
  ir::Graph g = shape_chain_graph(kDynamicDim);
  run_pass(passes::ConstantFolding(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kShape), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kGather), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kMul), 0u);  // weight math does not depend on the batch
}

TEST(ConstantFolding, FoldsAConvOnConstantInputsThroughTheEvaluator) {
  GraphBuilder b("const_conv");
  const ir::ValueId x = b.input("x", {1, 4, 5, 5});
  const ir::ValueId k = b.weight("k", {1, 3, 5, 5});
  const ir::ValueId folded = b.relu("relu_k", b.conv("conv_k", k, 4, 3, 1, 1));
  b.output(b.add("add", x, folded));
  ir::Graph g = b.finish();
  const ir::Graph before = g;
  run_pass(passes::ConstantFolding(), g, test_context());
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kAdd), 1u);
  expect_same_function(before, g);
}

TEST(ConstantFolding, NodesWritingGraphOutputsStay) {
  GraphBuilder b("const_output");
  b.input("x", {1, 2});
  b.output(b.node(OpKind::kMul, "mul", {b.weight("a", {2}), b.weight("b", {2})}));
  ir::Graph g = b.finish();
  EXPECT_TRUE(run_pass(passes::ConstantFolding(), g, test_context()).empty());
  EXPECT_EQ(g.nodes().size(), 1u);
}

// --- the pass's own int64/data-movement kernels -------------------------------

struct BuiltinCase {
  ir::Graph g;
  ir::Node node;
  std::vector<Tensor> inputs;
};

std::vector<Tensor> fold(const BuiltinCase& c) {
  std::vector<const Tensor*> in;
  for (const auto& t : c.inputs) in.push_back(&t);
  auto r = passes::fold_builtin(c.g, c.node, in);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  if (!r.is_ok() || !r.value()) return {};
  return **r;
}

Tensor ints(Shape shape, std::vector<int64_t> v) { return Tensor::from_int64s(std::move(shape), v); }
std::vector<int64_t> values(const Tensor& t) { return {t.int64s().begin(), t.int64s().end()}; }

TEST(FoldBuiltin, GatherWithNegativeIndicesAlongAxis1) {
  BuiltinCase c{{}, {"g", OpKind::kGather, {}, {}, {}}, {ints({2, 3}, {1, 2, 3, 4, 5, 6}), ints({2}, {-1, 0})}};
  c.node.attrs.set("axis", int64_t{1});
  const auto out = fold(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values(out[0]), (std::vector<int64_t>{3, 1, 6, 4}));
}

TEST(FoldBuiltin, ConcatAlongAxis1) {
  BuiltinCase c{{}, {"c", OpKind::kConcat, {}, {}, {}}, {ints({2, 1}, {1, 2}), ints({2, 2}, {3, 4, 5, 6})}};
  c.node.attrs.set("axis", int64_t{-1});
  const auto out = fold(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(values(out[0]), (std::vector<int64_t>{1, 3, 4, 2, 5, 6}));
}

TEST(FoldBuiltin, ReshapeCopiesZeroAndInfersMinusOne) {
  BuiltinCase c{{}, {"r", OpKind::kReshape, {}, {}, {}}, {ints({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), ints({2}, {0, -1})}};
  const auto out = fold(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{2, 6}));
}

TEST(FoldBuiltin, SqueezeUnsqueezeSliceAndArithmetic) {
  BuiltinCase sq{{}, {"s", OpKind::kSqueeze, {}, {}, {}}, {ints({1, 3, 1}, {7, 8, 9})}};
  EXPECT_EQ(fold(sq).at(0).shape(), (Shape{3}));
  BuiltinCase un{{}, {"u", OpKind::kUnsqueeze, {}, {}, {}}, {ints({3}, {7, 8, 9})}};
  un.node.attrs.set("axes", std::vector<int64_t>{0, -1});
  EXPECT_EQ(fold(un).at(0).shape(), (Shape{1, 3, 1}));
  BuiltinCase sl{{}, {"sl", OpKind::kSlice, {}, {}, {}}, {ints({2, 3}, {1, 2, 3, 4, 5, 6})}};
  sl.node.attrs.set("axis", int64_t{1});
  sl.node.attrs.set("start", int64_t{1});
  sl.node.attrs.set("end", int64_t{3});
  EXPECT_EQ(values(fold(sl).at(0)), (std::vector<int64_t>{2, 3, 5, 6}));
  BuiltinCase mul{{}, {"m", OpKind::kMul, {}, {}, {}}, {ints({3}, {1, 2, 3}), ints({}, {4})}};
  EXPECT_EQ(values(fold(mul).at(0)), (std::vector<int64_t>{4, 8, 12}));
}

TEST(FoldBuiltin, ReportsAnOutOfRangeIndexWithTheNodeName) {
  BuiltinCase c{{}, {"bad_gather", OpKind::kGather, {}, {}, {}}, {ints({3}, {1, 2, 3}), ints({}, {5})}};
  std::vector<const Tensor*> in{&c.inputs[0], &c.inputs[1]};
  auto r = passes::fold_builtin(c.g, c.node, in);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("bad_gather"), std::string::npos) << r.status().message();
}

TEST(FoldBuiltin, LeavesFloatMathToTheBackend) {
  const Tensor a = random_tensor({3}, 1);
  BuiltinCase c{{}, {"add", OpKind::kAdd, {}, {}, {}}, {a, a}};
  std::vector<const Tensor*> in{&c.inputs[0], &c.inputs[1]};
  auto r = passes::fold_builtin(c.g, c.node, in);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
}

}  // namespace
}  // namespace inferd::test
