// int8_storage: a value every reader quantizes onto one grid is stored as its levels, the
// producer rounding onto that grid; the function stays the same (the reference kernels read
// and write levels), and everything it must not touch stays fp32.
#include "passes/int8_storage.h"

#include <gtest/gtest.h>

#include "builder/calibration.h"
#include "ir/shape_inference.h"
#include "passes/conv_activation_fusion.h"
#include "passes/dead_node_elimination.h"
#include "passes/fixtures.h"
#include "passes/precision_assignment.h"
#include "passes/quantized_layer_folding.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// x -> conv p -> [relu] -> conv c (and conv d, when `two_readers`) -> outputs, calibrated
// and folded: p, c (and d) are INT8 convolutions; p's output is read only by them.
// b's graph with its input x and the value `quantized` calibrated (unsigned: a ReLU's output),
// ReLUs fused and the quantizers folded: every Conv reading them is INT8.
ir::Graph calibrated_and_folded(GraphBuilder& b, const std::string& quantized, bool is_unsigned = true) {
  ir::Graph g = b.finish();
  EXPECT_TRUE(apply_calibration(
                  g, CalibrationTable{"entropy",
                                      {{"x", 0.8f},
                                       {quantized, 0.6f, true,
                                        is_unsigned ? CalibrationTable::Grid::kUint8 : CalibrationTable::Grid::kInt8}}})
                  .is_ok());
  run_pass(passes::ConvActivationFusion(), g, test_context());
  run_pass(passes::QuantizedLayerFolding(), g, test_context());
  run_pass(passes::DeadNodeElimination(), g, test_context());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);
  return g;
}

ir::Graph folded_chain(bool relu, bool two_readers = false) {
  GraphBuilder b("chain");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  ir::ValueId p = b.conv("p", x, 8, 3, 1, 1);
  if (relu) p = b.relu("r", p);
  b.output(b.conv("c", p, 6, 1));
  if (two_readers) b.output(b.conv("d", p, 5, 3, 1, 1));
  return calibrated_and_folded(b, relu ? "r_out" : "p_out", relu);
}

ir::ValueId output_of(const ir::Graph& g, const std::string& node) {
  return find_node(g, node)->outputs[0];
}

TEST(Int8Storage, AValueOnlyInt8ConvolutionsReadIsStoredAsItsLevels) {
  for (bool relu : {false, true}) {
    ir::Graph g = folded_chain(relu);
    const ir::Graph before = g;
    const auto changes = run_pass(passes::Int8Storage(), g, test_context());
    ASSERT_EQ(changes.size(), 1u) << relu;
    const ir::Node* p = find_node(g, "p");
    EXPECT_EQ(g.value(p->outputs[0]).dtype, relu ? DataType::kUint8 : DataType::kInt8);
    EXPECT_EQ(p->attrs.get_int("output_levels", 0), 1);
    EXPECT_FLOAT_EQ(p->attrs.get_float("output_scale", 0), find_node(g, "c")->attrs.get_float("input_scale", 1));
    EXPECT_EQ(p->attrs.get_int("output_qmin", -1), relu ? 0 : -128);
    EXPECT_NE(changes[0].find(relu ? "uint8 levels" : "int8 levels"), std::string::npos) << changes[0];
    expect_same_function(before, g, 1e-5f, /*relative=*/true);
  }
}

// In an fp16 plan (a GPU's) the Conv that reads levels writes fp16 values: shape inference,
// which plan validation reruns on load, gives the declared fp16 back, not fp32 (the plan
// of 2026-12-06 that failed to load: "stores ... as float16 but its inputs give float32").
TEST(Int8Storage, AReaderOfLevelsKeepsItsPlansFloatTypeThroughShapeInference) {
  ir::Graph g = folded_chain(true);
  run_pass(passes::Int8Storage(), g, test_context());
  ASSERT_TRUE(passes::assign_activation_dtype(g, DataType::kFloat16).is_ok());
  const ir::ValueId c_out = output_of(g, "c");
  ASSERT_EQ(g.value(c_out).dtype, DataType::kFloat16);
  for (ir::Node& n : g.nodes()) {
    const DataType stored = g.value(n.outputs[0]).dtype;
    ASSERT_TRUE(ir::infer_node_shapes(g, n).is_ok()) << n.name;
    EXPECT_EQ(g.value(n.outputs[0]).dtype, stored) << n.name;
  }
  EXPECT_EQ(g.value(output_of(g, "p")).dtype, DataType::kUint8);
}

TEST(Int8Storage, SeveralReadersOnOneGridShareTheLevels) {
  ir::Graph g = folded_chain(true, /*two_readers=*/true);
  const ir::Graph before = g;
  EXPECT_EQ(run_pass(passes::Int8Storage(), g, test_context()).size(), 1u);
  EXPECT_EQ(g.value(output_of(g, "p")).dtype, DataType::kUint8);
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

TEST(Int8Storage, LeavesValuesAFloatReaderOrTheUserSees) {
  {  // the backend says no: everything as it was
    ir::Graph g = folded_chain(true);
    BackendAnswers no;
    no.fuse = false;
    EXPECT_TRUE(run_pass(passes::Int8Storage(), g, test_context(no)).empty());
    EXPECT_EQ(g.value(output_of(g, "p")).dtype, DataType::kFloat32);
    EXPECT_FALSE(find_node(g, "p")->attrs.has("output_levels"));
    EXPECT_FALSE(find_node(g, "p")->attrs.has("output_scale"));
  }
  {  // a float reader beside the INT8 one: a max pool
    GraphBuilder b("pool_reader");
    const ir::ValueId x = b.input("x", {1, 4, 6, 6});
    const ir::ValueId p = b.conv("p", x, 8, 3, 1, 1);
    b.output(b.conv("c", p, 6, 1));
    b.output(b.max_pool("pool", p, 2, 2, 0));
    ir::Graph g = b.finish();
    ASSERT_TRUE(apply_calibration(g, CalibrationTable{"entropy", {{"x", 0.8f}, {"p_out", 0.6f}}}).is_ok());
    run_pass(passes::QuantizedLayerFolding(), g, test_context());
    EXPECT_TRUE(run_pass(passes::Int8Storage(), g, test_context()).empty());
    EXPECT_EQ(g.value(output_of(g, "p")).dtype, DataType::kFloat32);
  }
  {  // the INT8 convolutions' outputs are graph outputs (c) or read by nothing quantized
    ir::Graph g = folded_chain(false);
    run_pass(passes::Int8Storage(), g, test_context());
    EXPECT_EQ(g.value(output_of(g, "c")).dtype, DataType::kFloat32);
  }
}

// Levels pass through the max pools and channel Concats between INT8 convolutions: the
// values joined through them are stored alike, their writers all round onto the readers' grid.
TEST(Int8Storage, LevelsPassThroughAMaxPool) {
  GraphBuilder b("through_pool");
  const ir::ValueId x = b.input("x", {1, 4, 9, 9});
  const ir::ValueId p = b.relu("r", b.conv("p", x, 8, 3, 1, 1));
  b.output(b.conv("c", b.max_pool("pool", p, 3, 2, 1), 6, 1));
  ir::Graph g = calibrated_and_folded(b, "pool_out");
  const ir::Graph before = g;
  const auto changes = run_pass(passes::Int8Storage(), g, test_context());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("1 max pool/concat(s) pass them on"), std::string::npos) << changes[0];
  EXPECT_EQ(g.value(output_of(g, "p")).dtype, DataType::kUint8);
  EXPECT_EQ(g.value(output_of(g, "pool")).dtype, DataType::kUint8);
  EXPECT_EQ(find_node(g, "p")->attrs.get_int("output_levels", 0), 1);
  EXPECT_FLOAT_EQ(find_node(g, "p")->attrs.get_float("output_scale", 0),
                  find_node(g, "c")->attrs.get_float("input_scale", 1));
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

TEST(Int8Storage, LevelsPassThroughAConcatOfInt8Convolutions) {
  GraphBuilder b("through_concat");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId l = b.relu("ra", b.conv("a", x, 8, 1));
  const ir::ValueId r = b.relu("rb", b.conv("b", x, 4, 3, 1, 1));
  b.output(b.conv("c", b.concat("cat", {l, r}), 6, 1));
  ir::Graph g = calibrated_and_folded(b, "cat_out");
  const ir::Graph before = g;
  ASSERT_EQ(run_pass(passes::Int8Storage(), g, test_context()).size(), 1u);
  for (const char* writer : {"a", "b"}) {
    EXPECT_EQ(g.value(output_of(g, writer)).dtype, DataType::kUint8) << writer;
    EXPECT_EQ(find_node(g, writer)->attrs.get_int("output_levels", 0), 1) << writer;
  }
  EXPECT_EQ(g.value(output_of(g, "cat")).dtype, DataType::kUint8);
  expect_same_function(before, g, 1e-5f, /*relative=*/true);
}

TEST(Int8Storage, AConcatWithAFloatWriterOrReaderStaysFp32) {
  {  // one of the Concat's inputs comes from a float layer (not quantized: the image)
    GraphBuilder b("float_writer");
    const ir::ValueId x = b.input("x", {1, 4, 6, 6});
    b.output(b.conv("c", b.concat("cat", {b.relu("ra", b.conv("a", x, 8, 1)), x}), 6, 1));
    ir::Graph g = calibrated_and_folded(b, "cat_out");
    EXPECT_TRUE(run_pass(passes::Int8Storage(), g, test_context()).empty());
    EXPECT_EQ(g.value(output_of(g, "cat")).dtype, DataType::kFloat32);
    EXPECT_EQ(g.value(output_of(g, "a")).dtype, DataType::kFloat32);
  }
  {  // the pooled value is also a graph output
    GraphBuilder b("seen_pool");
    const ir::ValueId x = b.input("x", {1, 4, 9, 9});
    const ir::ValueId pool = b.max_pool("pool", b.relu("r", b.conv("p", x, 8, 3, 1, 1)), 3, 2, 1);
    b.output(b.conv("c", pool, 6, 1));
    b.output(pool);
    ir::Graph g = calibrated_and_folded(b, "pool_out");
    EXPECT_TRUE(run_pass(passes::Int8Storage(), g, test_context()).empty());
    EXPECT_EQ(g.value(output_of(g, "p")).dtype, DataType::kFloat32);
  }
}

}  // namespace
}  // namespace inferd::test
