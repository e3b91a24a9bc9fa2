// The CPU backend's answers to the planner (supports, layouts, strided outputs),
// its errors, and the kernels the op harness cannot reach: the in-place Concat, a
// residual that already lives in the output buffer, the thread-count option.
#include "backends/cpu/cpu_backend.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "backends/cpu/cpu_device.h"
#include "backends/reference/reference.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// A graph holding one node over fresh activations of the given shapes.
struct OneNode {
  ir::Graph graph;
  ir::Node* node = nullptr;

  OneNode(OpKind op, std::vector<Shape> inputs, std::vector<Shape> outputs, ir::Attributes attrs = {}) {
    ir::Node n;
    n.name = "n0";
    n.op = op;
    n.attrs = std::move(attrs);
    for (const Shape& s : inputs) n.inputs.push_back(add_activation("x", s));
    for (const Shape& s : outputs) n.outputs.push_back(add_activation("y", s));
    node = &graph.add_node(std::move(n));
  }
  // Value names need not be unique here: the backend addresses values by id.
  ir::ValueId add_activation(std::string name, Shape shape) {
    ir::Value v;
    v.name = std::move(name);
    v.shape = std::move(shape);
    return graph.add_value(std::move(v));
  }
  ir::ValueId add_weight(const Shape& s, uint32_t seed) {
    const ir::ValueId id = graph.add_constant("w" + std::to_string(seed), random_tensor(s, seed));
    node->inputs.push_back(id);
    return id;
  }
};

TEST(CpuBackend, SupportsEveryOpButShape) {
  const auto backend = cpu::make_cpu_backend();
  for (OpKind op : {OpKind::kMatMul, OpKind::kPad, OpKind::kLRN, OpKind::kReorder, OpKind::kSlice}) {
    OneNode n(op, {{1, 4, 3, 3}}, {{1, 4, 3, 3}});
    EXPECT_TRUE(backend->supports(n.graph, *n.node)) << ir::to_string(op);
  }
  OneNode shape(OpKind::kShape, {{1, 4, 3, 3}}, {{4}});
  EXPECT_FALSE(backend->supports(shape.graph, *shape.node));
  const Result<std::unique_ptr<PackedOp>> packed = backend->pack(shape.graph, *shape.node);
  ASSERT_FALSE(packed.is_ok());
  EXPECT_NE(packed.status().message().find("node 'n0' (Shape)"), std::string::npos) << packed.status().message();
}

TEST(CpuBackend, RejectsUnknownFusedActivation) {
  const auto backend = cpu::make_cpu_backend();
  OneNode conv(OpKind::kConv, {{1, 4, 3, 3}}, {{1, 2, 3, 3}}, {});
  conv.add_weight({2, 4, 1, 1}, 1);
  EXPECT_TRUE(backend->supports(conv.graph, *conv.node));
  conv.node->attrs.set("activation", std::string("Gelu"));
  EXPECT_FALSE(backend->supports(conv.graph, *conv.node));
  conv.node->attrs.set("activation", std::string("MaxPool"));  // an op, but no activation
  EXPECT_FALSE(backend->pack(conv.graph, *conv.node).is_ok());
}

TEST(CpuBackend, ConvWithMismatchedChannelsIsAnError) {
  const auto backend = cpu::make_cpu_backend();
  OneNode conv(OpKind::kConv, {{1, 6, 3, 3}}, {{1, 2, 3, 3}}, {});
  conv.add_weight({2, 4, 1, 1}, 1);  // expects 4 input channels
  const Result<std::unique_ptr<PackedOp>> packed = backend->pack(conv.graph, *conv.node);
  ASSERT_FALSE(packed.is_ok());
  EXPECT_EQ(packed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(packed.status().message().find("node 'n0' (Conv)"), std::string::npos) << packed.status().message();
}

TEST(CpuBackend, PrefersNhwcAroundConvolutions) {
  const auto backend = cpu::make_cpu_backend();
  const auto layout = [&](OpKind op, Shape in) {
    OneNode n(op, {in}, {in});
    return backend->preferred_layout(n.graph, *n.node);
  };
  for (OpKind op : {OpKind::kConv, OpKind::kMaxPool, OpKind::kGlobalAveragePool, OpKind::kLRN, OpKind::kRelu,
                    OpKind::kAdd, OpKind::kConcat})
    EXPECT_EQ(layout(op, {1, 8, 4, 4}), ir::Layout::kNHWC) << ir::to_string(op);
  EXPECT_EQ(layout(OpKind::kRelu, {1, 8}), ir::Layout::kNCHW);
  EXPECT_EQ(layout(OpKind::kGemm, {1, 8}), ir::Layout::kNCHW);
  EXPECT_EQ(layout(OpKind::kSoftmax, {1, 8, 4, 4}), ir::Layout::kNCHW);
  EXPECT_EQ(layout(OpKind::kFlatten, {1, 8, 4, 4}), ir::Layout::kNCHW);
}

// Only kernels that write a channel slice without staging it through a copy say yes.
TEST(CpuBackend, StridedOutputOnlyWhereNoCopyIsNeeded) {
  const auto backend = cpu::make_cpu_backend();
  const auto strided = [&](OpKind op) {
    OneNode n(op, {{1, 8, 4, 4}}, {{1, 8, 4, 4}});
    return backend->supports_strided_output(n.graph, *n.node);
  };
  for (OpKind op : {OpKind::kConcat, OpKind::kReorder, OpKind::kBatchNormalization, OpKind::kMul, OpKind::kSlice})
    EXPECT_TRUE(strided(op)) << ir::to_string(op);
  for (OpKind op : {OpKind::kConv, OpKind::kMaxPool, OpKind::kLRN, OpKind::kRelu, OpKind::kAdd, OpKind::kShape})
    EXPECT_FALSE(strided(op)) << ir::to_string(op);
}

// Runs `op` once on dense views.
void run_once(const PackedOp& op, std::vector<ConstTensorView> in, std::vector<TensorView> out) {
  auto kernel = op.create_kernel();
  ASSERT_TRUE(kernel.is_ok()) << kernel.status().message();
  ASSERT_TRUE(kernel.value()->reshape(in, out).is_ok());
  const cpu::CpuDevice device;
  auto stream = device.create_stream().value();
  auto workspace = device.allocate(kernel.value()->workspace_bytes(), MemoryKind::kHost);
  ASSERT_TRUE(workspace.is_ok()) << workspace.status().message();
  const Status ran =
      kernel.value()->enqueue(in, out, EnqueueContext{*stream, workspace->data(), workspace->bytes()});
  ASSERT_TRUE(ran.is_ok()) << ran.message();
}

TensorView view_of(Tensor& t) {
  return {t.data<float>(), t.shape(), dense_strides(t.shape())};
}

TEST(CpuBackend, InPlaceConcatLeavesItsOutputAlone) {
  const auto backend = cpu::make_cpu_backend();
  OneNode concat(OpKind::kConcat, {{1, 2, 3, 3}, {1, 2, 3, 3}}, {{1, 4, 3, 3}}, [] {
    ir::Attributes a;
    a.set("axis", int64_t{1});
    a.set("in_place", int64_t{1});
    return a;
  }());
  auto packed = backend->pack(concat.graph, *concat.node);
  ASSERT_TRUE(packed.is_ok());
  EXPECT_EQ(packed.value()->implementation(), "inplace:concat");
  Tensor a = random_tensor({1, 2, 3, 3}, 1), b = random_tensor({1, 2, 3, 3}, 2), y = random_tensor({1, 4, 3, 3}, 3);
  const Tensor before = y;
  run_once(*packed.value(), {view_of(a), view_of(b)}, {view_of(y)});
  EXPECT_EQ(compare(y, before).max_abs, 0.0f);
}

// The residual already sits in the output buffer (the planner reused R's buffer):
// the kernel must not copy it onto itself, and must still add it.
TEST(CpuBackend, ConvResidualInTheOutputBuffer) {
  const auto backend = cpu::make_cpu_backend();
  OneNode conv(OpKind::kConv, {{1, 4, 5, 5}}, {{1, 6, 5, 5}}, {});
  conv.node->attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  conv.node->attrs.set("activation", std::string("Relu"));
  const ir::ValueId w = conv.add_weight({6, 4, 3, 3}, 1);
  const ir::ValueId bias = conv.add_weight({6}, 2);
  conv.node->inputs.push_back(conv.add_activation("r", {1, 6, 5, 5}));
  auto packed = backend->pack(conv.graph, *conv.node);
  ASSERT_TRUE(packed.is_ok()) << packed.status().message();

  Tensor x = random_tensor({1, 4, 5, 5}, 3), r = random_tensor({1, 6, 5, 5}, 4);
  Tensor wt = *conv.graph.value(w).constant, bt = *conv.graph.value(bias).constant;
  Tensor expected(DataType::kFloat32, {1, 6, 5, 5});
  const std::vector<ConstTensorView> ref_in{view_of(x), view_of(wt), view_of(bt), view_of(r)};
  const std::vector<TensorView> ref_out{view_of(expected)};
  ref::reference_kernel(OpKind::kConv)(conv.node->attrs, ref_in, ref_out);

  Tensor y = r;  // output buffer == residual buffer
  run_once(*packed.value(), {view_of(x), view_of(wt), view_of(bt), view_of(y)}, {view_of(y)});
  const Diff d = compare(y, expected);
  EXPECT_LE(d.max_abs, 1e-4f);
}

// Packed for NCHW (the graph's layout: oneDNN picks its GEMM-based convolution and
// that one's weights format) but run on NHWC views (brgconv, another weights format):
// the kernel re-packs its own copy at reshape and must still compute the same thing.
TEST(CpuBackend, ConvRepacksWeightsForAnotherLayout) {
  const auto backend = cpu::make_cpu_backend();
  OneNode conv(OpKind::kConv, {{1, 16, 6, 6}}, {{1, 32, 6, 6}}, {});
  conv.node->attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  const ir::ValueId w = conv.add_weight({32, 16, 3, 3}, 1);
  auto packed = backend->pack(conv.graph, *conv.node);
  ASSERT_TRUE(packed.is_ok()) << packed.status().message();

  Tensor x = random_tensor({1, 16, 6, 6}, 2), wt = *conv.graph.value(w).constant;
  Tensor expected(DataType::kFloat32, {1, 32, 6, 6});
  const std::vector<ConstTensorView> ref_in{view_of(x), view_of(wt)};
  ref::reference_kernel(OpKind::kConv)(conv.node->attrs, ref_in, std::vector<TensorView>{view_of(expected)});

  std::vector<float> x_nhwc(static_cast<size_t>(x.size())), y_nhwc(static_cast<size_t>(expected.size()));
  const TensorView xv{x_nhwc.data(), x.shape(), nhwc_strides(x.shape())};
  const TensorView yv{y_nhwc.data(), expected.shape(), nhwc_strides(expected.shape())};
  for (int64_t c = 0; c < 16; ++c)
    for (int64_t hw = 0; hw < 36; ++hw) x_nhwc[hw * 16 + c] = x.floats()[c * 36 + hw];
  run_once(*packed.value(), {xv, view_of(wt)}, {yv});
  float max_err = 0;
  for (int64_t c = 0; c < 32; ++c)
    for (int64_t hw = 0; hw < 36; ++hw)
      max_err = std::max(max_err, std::fabs(y_nhwc[hw * 32 + c] - expected.floats()[c * 36 + hw]));
  EXPECT_LE(max_err, 1e-4f);
}

// Scratch and scratchpads live in the context's workspace: a kernel given less than it
// asked for fails, naming the primitives and both sizes, instead of writing past it.
TEST(CpuBackend, KernelRefusesAWorkspaceSmallerThanItAskedFor) {
  const auto backend = cpu::make_cpu_backend();
  OneNode conv(OpKind::kConv, {{1, 16, 6, 6}}, {{1, 32, 6, 6}}, {});
  conv.node->attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  const ir::ValueId w = conv.add_weight({32, 16, 3, 3}, 1);
  auto packed = backend->pack(conv.graph, *conv.node);
  ASSERT_TRUE(packed.is_ok()) << packed.status().message();
  auto kernel = packed.value()->create_kernel().value();
  Tensor x = random_tensor({1, 16, 6, 6}, 2), wt = *conv.graph.value(w).constant;
  Tensor y(DataType::kFloat32, {1, 32, 6, 6});
  const std::vector<ConstTensorView> in{view_of(x), view_of(wt)};
  const std::vector<TensorView> out{view_of(y)};
  ASSERT_TRUE(kernel->reshape(in, out).is_ok());
  ASSERT_GT(kernel->workspace_bytes(), 0u);
  auto stream = cpu::CpuDevice().create_stream().value();
  std::vector<char> small(kernel->workspace_bytes() - 1);
  const Status s = kernel->enqueue(in, out, EnqueueContext{*stream, small.data(), small.size()});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("bytes of workspace; it was given " + std::to_string(small.size())), std::string::npos)
      << s.message();
}

TEST(CpuBackend, ThreadOptionReachesTheRunningThread) {
  const auto backend = cpu::make_cpu_backend({.threads = 1});
  OneNode relu(OpKind::kRelu, {{1, 4, 3, 3}}, {{1, 4, 3, 3}});
  auto packed = backend->pack(relu.graph, *relu.node);
  ASSERT_TRUE(packed.is_ok());
  int threads_seen = 0;
  std::thread worker([&] {  // a thread the backend's constructor never ran on
    Tensor x = random_tensor({1, 4, 3, 3}, 1), y(DataType::kFloat32, {1, 4, 3, 3});
    run_once(*packed.value(), {view_of(x)}, {view_of(y)});
    threads_seen = omp_get_max_threads();
  });
  worker.join();
  EXPECT_EQ(threads_seen, 1);
}

}  // namespace
}  // namespace inferd::test
