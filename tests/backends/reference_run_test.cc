// reference_run: the graph interpreter over the reference kernels.
#include "support/reference_run.h"

#include <gtest/gtest.h>

#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

ir::ValueId add_activation(ir::Graph& g, const std::string& name, Shape shape) {
  ir::Value v;
  v.name = name;
  v.shape = std::move(shape);
  return g.add_value(std::move(v));
}

void add_node(ir::Graph& g, const std::string& name, OpKind op, std::vector<ir::ValueId> in,
              std::vector<ir::ValueId> out, ir::Attributes attrs = {}) {
  ir::Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  g.add_node(std::move(n));
}

struct SmallNet {
  ir::Graph graph;
  Tensor w = random_tensor({4, 3, 3, 3}, 51);
  Tensor b = random_tensor({4}, 52);
  ir::Attributes conv, pool, softmax;
};

// x [N,3,5,5] -> Conv(pad 1) -> Relu -> MaxPool(2, stride 2) -> Reshape [N,16] -> Softmax.
SmallNet small_net() {
  SmallNet net;
  ir::Graph& g = net.graph;
  g.name = "small";
  const ir::ValueId x = add_activation(g, "x", {kDynamicDim, 3, 5, 5});
  const ir::ValueId w = g.add_constant("w", net.w), b = g.add_constant("b", net.b);
  const ir::ValueId shape = g.add_constant("shape", Tensor::from_int64s({2}, std::vector<int64_t>{0, -1}));
  const ir::ValueId c = add_activation(g, "c", {kDynamicDim, 4, 5, 5});
  const ir::ValueId r = add_activation(g, "r", {kDynamicDim, 4, 5, 5});
  const ir::ValueId p = add_activation(g, "p", {kDynamicDim, 4, 2, 2});
  const ir::ValueId f = add_activation(g, "f", {kDynamicDim, 16});
  const ir::ValueId y = add_activation(g, "y", {kDynamicDim, 16});
  net.conv.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  net.pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  net.pool.set("strides", std::vector<int64_t>{2, 2});
  net.softmax.set("axis", int64_t{1});
  add_node(g, "conv", OpKind::kConv, {x, w, b}, {c}, net.conv);
  add_node(g, "relu", OpKind::kRelu, {c}, {r});
  add_node(g, "pool", OpKind::kMaxPool, {r}, {p}, net.pool);
  add_node(g, "flat", OpKind::kReshape, {p, shape}, {f});
  add_node(g, "prob", OpKind::kSoftmax, {f}, {y}, net.softmax);
  g.inputs = {x};
  g.outputs = {y, c};
  return net;
}

TEST(ReferenceRun, MatchesTheKernelsCalledOneByOne) {
  SmallNet net = small_net();
  const Tensor x = random_tensor({2, 3, 5, 5}, 50);
  Result<std::vector<Tensor>> out = reference_run(net.graph, {x});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);
  const Tensor c = run_kernel1(OpKind::kConv, net.conv, {x, net.w, net.b}, {2, 4, 5, 5});
  const Tensor r = run_kernel1(OpKind::kRelu, {}, {c}, c.shape());
  const Tensor p = run_kernel1(OpKind::kMaxPool, net.pool, {r}, {2, 4, 2, 2});
  const Tensor y = run_kernel1(OpKind::kSoftmax, net.softmax, {p.reshaped({2, 16})}, {2, 16});
  EXPECT_TRUE(identical((*out)[0], y));
  EXPECT_TRUE(identical((*out)[1], c));
}

TEST(ReferenceRun, BatchComesFromTheInput) {
  SmallNet net = small_net();
  for (int64_t batch : {1, 3}) {
    Result<std::vector<Tensor>> out = reference_run(net.graph, {random_tensor({batch, 3, 5, 5}, 53)});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ((*out)[0].shape(), (Shape{batch, 16}));
  }
}

TEST(ReferenceRun, RejectsWrongInputs) {
  SmallNet net = small_net();
  Result<std::vector<Tensor>> none = reference_run(net.graph, {});
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("has 1 inputs, got 0"), std::string::npos) << none.status().message();
  Result<std::vector<Tensor>> wrong = reference_run(net.graph, {random_tensor({1, 3, 5, 4}, 54)});
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("input 'x' has shape [1,3,5,4], the graph expects [1,3,5,5]"),
            std::string::npos)
      << wrong.status().message();
}

TEST(ReferenceRun, NamesTheNodeWithoutAKernel) {
  ir::Graph g;
  const ir::ValueId x = add_activation(g, "x", {1, 3});
  const ir::ValueId s = add_activation(g, "s", {2});
  add_node(g, "shape_of_x", OpKind::kShape, {x}, {s});
  g.inputs = {x};
  g.outputs = {s};
  Result<std::vector<Tensor>> out = reference_run(g, {random_tensor({1, 3}, 55)});
  EXPECT_EQ(out.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(out.status().message().find("'shape_of_x' (Shape): no reference kernel"), std::string::npos)
      << out.status().message();
}

TEST(ReferenceRun, RejectsUnsupportedConstantDtype) {
  ir::Graph g;
  const ir::ValueId x = add_activation(g, "x", {1, 2});
  const ir::ValueId half = g.add_constant("half_bias", Tensor(DataType::kFloat16, {1, 2}));
  const ir::ValueId y = add_activation(g, "y", {1, 2});
  add_node(g, "add", OpKind::kAdd, {x, half}, {y});
  g.inputs = {x};
  g.outputs = {y};
  Result<std::vector<Tensor>> out = reference_run(g, {random_tensor({1, 2}, 56)});
  EXPECT_EQ(out.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(out.status().message().find("constant 'half_bias' is float16"), std::string::npos)
      << out.status().message();
}

}  // namespace
}  // namespace inferd::test
