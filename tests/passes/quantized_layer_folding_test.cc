// quantized_layer_folding: a FakeQuantize in front of a Conv with int8-grid weights becomes
// the Conv's INT8 input attributes, computing the same function; everything it must not
// fold stays as it was.
#include "passes/quantized_layer_folding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "builder/calibration.h"
#include "passes/dead_node_elimination.h"
#include "passes/output_quantization_fusion.h"
#include "passes/fixtures.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// x -> conv a -> relu -> conv b -> output, calibrated: x int8, relu's output uint8.
ir::Graph calibrated_graph() {
  GraphBuilder b("calibrated");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId r = b.relu("r", b.conv("a", x, 8, 3, 1, 1));
  b.output(b.conv("b", r, 6, 1));
  ir::Graph g = b.finish();
  const CalibrationTable table{"entropy", {{"x", 0.8f}, {"r_out", 0.6f, true, CalibrationTable::Grid::kUint8}}};
  EXPECT_TRUE(apply_calibration(g, table).is_ok());
  return g;
}

TEST(QuantizedLayerFolding, FoldsCalibratedInputsIntoTheirConvolutions) {
  ir::Graph g = calibrated_graph();
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::QuantizedLayerFolding(), g, test_context()).size(), 2u);
  run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);
  const ir::Node* a = find_node(g, "a");
  const ir::Node* b = find_node(g, "b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(g.value(a->inputs[0]).name, "x");
  EXPECT_FLOAT_EQ(a->attrs.get_float("input_scale", 0), 0.8f / 127);
  EXPECT_EQ(a->attrs.get_int("input_qmin", 0), -128);
  EXPECT_EQ(g.value(b->inputs[0]).name, "r_out");
  EXPECT_FLOAT_EQ(b->attrs.get_float("input_scale", 0), 0.6f / 255);
  EXPECT_EQ(b->attrs.get_int("input_qmin", -1), 0);
  EXPECT_EQ(b->attrs.get_int("input_qmax", 0), 255);
  // The reference kernels quantize a folded input exactly as the FakeQuantize did.
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

TEST(QuantizedLayerFolding, LeavesWhatAnInt8KernelCouldNotComputeExactly) {
  {  // the backend says no: nothing changes
    ir::Graph g = calibrated_graph();
    BackendAnswers no;
    no.fuse = false;
    EXPECT_TRUE(run_pass(passes::QuantizedLayerFolding(), g, test_context(no)).empty());
  }
  {  // a conv whose weights are not on an int8 grid
    GraphBuilder b("unfoldable");
    const ir::ValueId x = b.input("x", {1, 4, 6, 6});
    const ir::ValueId s = b.node(OpKind::kFakeQuantize, "s", {x}, test::fake_quantize_attrs(0.01f, 0, -128, 127));
    b.output(b.conv("float_weights", s, 8, 3, 1, 1));  // random weights: off every int8 grid
    ir::Graph g = b.finish();
    EXPECT_TRUE(run_pass(passes::QuantizedLayerFolding(), g, test_context()).empty());
    EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 1u);
  }
}

TEST(QuantizedLayerFolding, AQuantizerWithOtherReadersStaysForThem) {
  GraphBuilder b("shared");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId q = b.node(OpKind::kFakeQuantize, "q", {x}, test::fake_quantize_attrs(0.02f, 0, -128, 127));
  b.output(b.conv("conv", q, 8, 3, 1, 1));
  b.output(b.max_pool("pool", q, 2, 2, 0));
  ir::Graph g = b.finish();
  Tensor& w = *g.value(find_node(g, "conv")->inputs[1]).constant;
  const int64_t per_channel = w.size() / w.shape()[0];
  for (int64_t m = 0; m < w.shape()[0]; ++m) {  // onto each channel's grid max|w| / 127
    float* c = w.data<float>() + m * per_channel;
    float max_abs = 0;
    for (int64_t k = 0; k < per_channel; ++k) max_abs = std::max(max_abs, std::abs(c[k]));
    for (int64_t k = 0; k < per_channel; ++k) c[k] = std::nearbyint(c[k] / (max_abs / 127)) * (max_abs / 127);
  }
  ASSERT_TRUE(passes::int8_weight_scales(w));
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::QuantizedLayerFolding(), g, test_context()).size(), 1u);
  run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 1u);  // the pool still reads it
  EXPECT_EQ(g.value(find_node(g, "conv")->inputs[0]).name, "x");
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

// An asymmetric grid (zero point 3, ONNX Runtime's uint8 activations) folds with its zero
// point where the backend takes it, computing the same function.
TEST(QuantizedLayerFolding, AnAsymmetricGridFoldsWithItsZeroPoint) {
  GraphBuilder b("asymmetric");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId q = b.node(OpKind::kFakeQuantize, "q", {x}, test::fake_quantize_attrs(0.01f, 3, 0, 255));
  b.output(b.conv("conv", q, 8, 1));
  ir::Graph g = b.finish();
  Tensor& w = *g.value(find_node(g, "conv")->inputs[1]).constant;
  float max_abs = 0;  // onto the per-tensor grid max|w| / 127
  for (int64_t i = 0; i < w.size(); ++i) max_abs = std::max(max_abs, std::abs(w.data<float>()[i]));
  for (int64_t i = 0; i < w.size(); ++i)
    w.data<float>()[i] = std::nearbyint(w.data<float>()[i] / (max_abs / 127)) * (max_abs / 127);
  ASSERT_TRUE(passes::int8_weight_scales(w));
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::QuantizedLayerFolding(), g, test_context()).size(), 1u);
  EXPECT_EQ(find_node(g, "conv")->attrs.get_int("input_zero_point", 0), 3);
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
  // A backend that does not take it: nothing changes.
  ir::Graph h = before;
  passes::PassContext ctx = test_context();
  ctx.supports = [](const ir::Graph&, const ir::Node& n) { return !n.attrs.has("input_zero_point"); };
  EXPECT_TRUE(run_pass(passes::QuantizedLayerFolding(), h, ctx).empty());
}

TEST(QuantizedLayerFolding, TheGridCheckIsPerOutputChannel) {
  Tensor w(DataType::kFloat32, {2, 1, 1, 3});
  float* v = w.data<float>();
  const float row0[] = {1.27f, -0.01f, 0.5f}, row1[] = {0.003f, 0.0f, -0.127f};  // 0.01 and 0.001 steps
  std::copy(row0, row0 + 3, v);
  std::copy(row1, row1 + 3, v + 3);
  EXPECT_EQ(passes::int8_weight_scales(w), (std::vector<float>{0.01f, 0.001f}));
  v[1] = -0.015f;  // half a step off channel 0's grid (and off the per-tensor 0.01 one)
  EXPECT_FALSE(passes::int8_weight_scales(w));
}

// Weights quantized per tensor (ONNX Runtime's quantizer without per_channel): one scale,
// max|w| / 127, that no channel but the largest reaches; each channel carries that scale.
TEST(QuantizedLayerFolding, WeightsOnOnePerTensorGridAreFoldedWithItsScale) {
  Tensor w(DataType::kFloat32, {3, 1, 1, 3});
  // All on 0.01; row 1's max is 0.12, row 2 is all zero (its own scale would be 1).
  const float rows[] = {1.27f, -0.01f, 0.5f, 0.03f, 0.0f, -0.12f, 0.0f, 0.0f, 0.0f};
  std::copy(rows, rows + 9, w.data<float>());
  EXPECT_EQ(passes::int8_weight_scales(w), (std::vector<float>{0.01f, 0.01f, 0.01f}));
  // A conv with such weights behind a symmetric quantizer is folded with those scales.
  GraphBuilder b("per_tensor");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId q = b.node(OpKind::kFakeQuantize, "q", {x}, test::fake_quantize_attrs(0.02f, 0, 0, 255));
  b.output(b.conv("conv", q, 8, 3, 1, 1));
  ir::Graph g = b.finish();
  Tensor& cw = *g.value(find_node(g, "conv")->inputs[1]).constant;
  float max_abs = 0;
  for (int64_t k = 0; k < cw.size(); ++k) max_abs = std::max(max_abs, std::abs(cw.data<float>()[k]));
  for (int64_t k = 0; k < cw.size(); ++k)
    cw.data<float>()[k] = std::nearbyint(cw.data<float>()[k] / (max_abs / 127)) * (max_abs / 127);
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::QuantizedLayerFolding(), g, test_context()).size(), 1u);
  const auto scales = find_node(g, "conv")->attrs.get_floats("weight_scales");
  ASSERT_EQ(scales.size(), 8u);
  for (float s : scales) EXPECT_FLOAT_EQ(s, max_abs / 127);
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

}  // namespace
}  // namespace inferd::test

namespace inferd::test {
namespace {

// Fully connected layers: B [K, N] (outputs along axis 1) and B^T [N, K] (transB, axis 0),
// both calibrated.
TEST(QuantizedLayerFolding, FoldsCalibratedGemmsAlongTheirOutputAxis) {
  GraphBuilder b("fully_connected");
  const ir::ValueId x = b.input("x", {1, 24});
  const ir::ValueId r = b.relu("r", b.gemm("fc1", x, 24, 16, /*trans_b=*/false, /*bias=*/true));
  b.output(b.gemm("fc2", r, 16, 10, /*trans_b=*/true, /*bias=*/true));
  ir::Graph g = b.finish();
  const CalibrationTable table{"entropy", {{"x", 0.9f}, {"r_out", 0.7f, true, CalibrationTable::Grid::kUint8}}};
  ASSERT_TRUE(apply_calibration(g, table).is_ok());
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::QuantizedLayerFolding(), g, test_context()).size(), 2u);
  run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);
  const ir::Node* fc1 = find_node(g, "fc1");
  const ir::Node* fc2 = find_node(g, "fc2");
  ASSERT_TRUE(fc1 && fc2);
  EXPECT_EQ(fc1->attrs.get_floats("weight_scales").size(), 16u);  // B's columns
  EXPECT_EQ(fc2->attrs.get_floats("weight_scales").size(), 10u);  // B^T's rows
  EXPECT_FLOAT_EQ(fc2->attrs.get_float("input_scale", 0), 0.7f / 255);
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

TEST(QuantizedLayerFolding, TheGridAxisOfAGemmWithoutTransBIsItsColumns) {
  // [K = 2, N = 2]: column 0 on a 0.01 grid, column 1 on a 0.001 grid; rows are not.
  Tensor w(DataType::kFloat32, {2, 2});
  const float values[] = {1.27f, 0.003f, -0.01f, -0.127f};
  std::copy(values, values + 4, w.data<float>());
  EXPECT_EQ(passes::int8_weight_scales(w, 1), (std::vector<float>{0.01f, 0.001f}));
  EXPECT_FALSE(passes::int8_weight_scales(w, 0));
}

}  // namespace
}  // namespace inferd::test

namespace inferd::test {
namespace {

// A pretend clock: `int8_ms` / `float_ms` per layer name (folded layers carry input_scale),
// `fq_ms` for every FakeQuantize; it records what it was asked.
passes::PassContext clocked(std::map<std::string, std::pair<double, double>> int8_and_float_ms, double fq_ms,
                            std::vector<std::string>* asked = nullptr) {
  passes::PassContext ctx = test_context();
  ctx.time_node = [=](const ir::Graph&, const ir::Node& n) -> Result<double> {
    if (asked) asked->push_back(n.name + (n.attrs.has("input_scale") ? ":int8" : ""));
    if (n.op == OpKind::kFakeQuantize) return fq_ms;
    const auto it = int8_and_float_ms.find(n.name);
    if (it == int8_and_float_ms.end()) return internal_error("no time for " + n.name);
    return n.attrs.has("input_scale") ? it->second.first : it->second.second;
  };
  return ctx;
}

TEST(QuantizedLayerFolding, ALayerWhoseFloatVersionIsFasterStaysFloat) {
  ir::Graph g = calibrated_graph();  // x -> FQ -> a -> relu -> FQ -> b
  const ir::Graph before = g;
  // a: INT8 2 ms against float 1 ms + 0.5 ms for x's quantizer (a graph input's: a pass of
  // its own); b: INT8 0.5 ms against float 1 ms.
  const auto changes = run_pass(passes::QuantizedLayerFolding(), g, clocked({{"a", {2.0, 1.0}}, {"b", {0.5, 1.0}}}, 0.5));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_NE(changes[0].find("kept a in float"), std::string::npos) << changes[0];
  EXPECT_NE(changes[0].find("int8 2.000 ms, float 1.000 ms + 0.500 ms"), std::string::npos) << changes[0];
  EXPECT_NE(changes[1].find("into b"), std::string::npos) << changes[1];
  EXPECT_FALSE(find_node(g, "a")->attrs.has("input_scale"));
  EXPECT_TRUE(find_node(g, "b")->attrs.has("input_scale"));
  run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 1u);  // a's, in front of it
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

TEST(QuantizedLayerFolding, ALayerWithNoInt8KernelAtItsShapeStaysFloatAndOtherErrorsFail) {
  ir::Graph g = calibrated_graph();  // x -> FQ -> a -> relu -> FQ -> b
  passes::PassContext ctx = clocked({{"b", {0.5, 1.0}}}, 0.5);
  const auto timed = ctx.time_node;
  // The backend accepted a's folded node but finds no kernel for it (cuDNN without an
  // INT8 engine for the shape): a stays float, b is folded.
  ctx.time_node = [timed](const ir::Graph& graph, const ir::Node& n) -> Result<double> {
    if (n.name == "a" && n.attrs.has("input_scale")) return unimplemented("no engine for this INT8 convolution");
    return timed(graph, n);
  };
  const auto changes = run_pass(passes::QuantizedLayerFolding(), g, ctx);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_NE(changes[0].find("kept a in float"), std::string::npos) << changes[0];
  EXPECT_NE(changes[0].find("no INT8 kernel for it here: no engine for this INT8 convolution"), std::string::npos)
      << changes[0];
  EXPECT_FALSE(find_node(g, "a")->attrs.has("input_scale"));
  EXPECT_TRUE(find_node(g, "b")->attrs.has("input_scale"));
  // Any other failure of the clock is the build's.
  ir::Graph h = calibrated_graph();
  ctx.time_node = [](const ir::Graph&, const ir::Node&) -> Result<double> { return internal_error("device lost"); };
  EXPECT_EQ(passes::QuantizedLayerFolding().run(h, ctx).status().code(), StatusCode::kInternal);
}

TEST(QuantizedLayerFolding, WithinFivePercentTheInt8LayerIsKept) {
  ir::Graph g = calibrated_graph();
  const auto changes = run_pass(passes::QuantizedLayerFolding(), g, clocked({{"a", {1.5, 1.0}}, {"b", {1.04, 1.0}}}, 0.5));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_TRUE(find_node(g, "a")->attrs.has("input_scale"));  // 1.5 against 1.0 + 0.5
  EXPECT_TRUE(find_node(g, "b")->attrs.has("input_scale"));  // 4 % slower: noise
}

// x -> FQ -> p -> FQ -> c, calibrated.
ir::Graph calibrated_chain() {
  GraphBuilder b("chain");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  b.output(b.conv("c", b.conv("p", x, 8, 3, 1, 1), 6, 1));
  ir::Graph g = b.finish();
  EXPECT_TRUE(apply_calibration(g, CalibrationTable{"entropy", {{"x", 0.8f}, {"p_out", 0.6f}}}).is_ok());
  return g;
}

// x -> FQ -> p -> FQ -> c: c's quantizer is the only reader of p's output, so it will be
// p's rounding (output_quantization_fusion) and costs c's float version nothing.
TEST(QuantizedLayerFolding, AQuantizerThatWillBeARoundingCostsTheFloatLayerNothing) {
  ir::Graph g = calibrated_chain();
  const ir::Graph before = g;
  std::vector<std::string> asked;
  // c: INT8 1.2 ms against float 1.0 ms (+ 0.5 ms it is not charged): float by the clock.
  const auto changes =
      run_pass(passes::QuantizedLayerFolding(), g, clocked({{"p", {0.1, 1.0}}, {"c", {1.2, 1.0}}}, 0.5, &asked));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_TRUE(find_node(g, "p")->attrs.has("input_scale"));
  EXPECT_FALSE(find_node(g, "c")->attrs.has("input_scale"));
  EXPECT_EQ(std::count(asked.begin(), asked.end(), "c:int8"), 1);
  EXPECT_EQ(asked.size(), 5u);  // p: int8, float, its quantizer; c: int8, float
  run_pass(passes::OutputQuantizationFusion(), g, test_context());
  run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);  // c's quantizer is p's rounding now
  EXPECT_TRUE(find_node(g, "p")->attrs.has("output_scale"));
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

// The same chain on a backend whose convolutions cannot round their outputs (CUDA's): c's
// quantizer stays a pass of its own, and c's float version is charged it.
TEST(QuantizedLayerFolding, AQuantizerTheBackendCannotMakeARoundingIsChargedToTheFloatLayer) {
  ir::Graph g = calibrated_chain();
  passes::PassContext ctx = clocked({{"p", {0.1, 1.0}}, {"c", {1.2, 1.0}}}, 0.5);
  ctx.supports = [](const ir::Graph&, const ir::Node& n) { return !n.attrs.has("output_scale"); };
  const auto changes = run_pass(passes::QuantizedLayerFolding(), g, ctx);
  ASSERT_EQ(changes.size(), 2u);
  // c: INT8 1.2 ms against float 1.0 ms + 0.5 ms for its quantizer: INT8.
  EXPECT_NE(changes[1].find("into c (INT8 input, int8; int8 1.200 ms, float 1.000 ms + 0.500 ms"), std::string::npos)
      << changes[1];
  EXPECT_TRUE(find_node(g, "c")->attrs.has("input_scale"));
}

TEST(QuantizedLayerFolding, AClockThatFailsFailsThePass) {
  ir::Graph g = calibrated_graph();
  auto result = passes::QuantizedLayerFolding().run(g, clocked({}, 0.5));
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("no time for a"), std::string::npos) << result.status().message();
}

}  // namespace
}  // namespace inferd::test
