// `inferd quantize`'s writer (builder/qdq_export.h): a calibration written as ONNX Q/DQ
// pairs computes, once imported back, what the calibrated graph computes (the same INT8
// grids; only the biases move, to int32 on the accumulator's grid), and keeps float what the
// calibration left float.
#include "builder/qdq_export.h"

#include <gtest/gtest.h>

#include "builder/calibration.h"
#include "import/onnx/onnx_importer.h"
#include "import/onnx/onnx_tensor.h"
#include "ir/activation.h"
#include "onnx_model_builder.h"
#include "passes/qdq_folding.h"
#include "support/reference_run.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

// x [1,4,6,6] -> Conv 3x3 (6 out, bias) -> Relu -> y -> Flatten -> Gemm (transB, bias) -> z
OnnxModelBuilder conv_gemm_model(int64_t opset = 13) {
  OnnxModelBuilder b(opset);
  b.input("x", {1, 4, 6, 6});
  b.weight("w", {6, 4, 3, 3}, 1);
  b.weight("b", {6}, 2);
  set_attr(b.node("Conv", {"x", "w", "b"}, {"c"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"y"});
  b.node("Flatten", {"y"}, {"f"});
  b.weight("gw", {5, 216}, 3);
  b.weight("gb", {5}, 4);
  set_attr(b.node("Gemm", {"f", "gw", "gb"}, {"z"}), "transB", int64_t{1});
  b.output("z");
  return b;
}

CalibrationTable table_for(bool gemm_int8) {
  CalibrationTable t;
  t.method = "max";
  t.entries.push_back({"x", 1.0f, true, CalibrationTable::Grid::kInt8});        // |x| <= 1
  t.entries.push_back({"f", 4.0f, gemm_int8, CalibrationTable::Grid::kUint8});  // after the Relu
  return t;
}

// The outputs on `x` of the calibrated graph, of the exported model (imported back, its
// pairs folded into FakeQuantize and constants as every build does first) and of the float
// graph; and how many of the folded roundings are E4M3.
struct ExportRuns {
  Tensor calibrated, exported, plain;
  size_t e4m3_roundings = 0;
};

Result<ExportRuns> run_export(const OnnxModelBuilder& b, const CalibrationTable& table,
                              const std::vector<uint8_t>& exported_model, const Tensor& x) {
  ExportRuns runs;
  ASSIGN_OR_RETURN(ir::Graph calibrated, b.import());
  RETURN_IF_ERROR(apply_calibration(calibrated, table));
  ASSIGN_OR_RETURN(auto want, reference_run(calibrated, {x}));
  ASSIGN_OR_RETURN(ir::Graph reimported, import_onnx_bytes(exported_model, "exported.onnx", ""));
  RETURN_IF_ERROR(passes::QdqFolding().run(reimported, passes::PassContext{}).status());
  for (const ir::Node& n : reimported.nodes())
    runs.e4m3_roundings += n.op == ir::OpKind::kFakeQuantize && ir::fake_quantizes_to_e4m3(n.attrs);
  ASSIGN_OR_RETURN(auto got, reference_run(reimported, {x}));
  ASSIGN_OR_RETURN(ir::Graph plain, b.import());
  ASSIGN_OR_RETURN(auto fp32, reference_run(plain, {x}));
  runs.calibrated = std::move(want[0]);
  runs.exported = std::move(got[0]);
  runs.plain = std::move(fp32[0]);
  return runs;
}

int count_op(const onnx::ModelProto& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

TEST(QdqExport, TheExportedModelComputesWhatTheCalibratedGraphComputes) {
  const OnnxModelBuilder b = conv_gemm_model();
  const CalibrationTable table = table_for(true);
  auto exported = export_qdq_onnx(b.bytes(), table, "model.onnx");
  ASSERT_TRUE(exported.is_ok()) << exported.status().message();
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromArray(exported->model.data(), static_cast<int>(exported->model.size())));
  EXPECT_EQ(count_op(m, "QuantizeLinear"), 2);    // x and f
  EXPECT_EQ(count_op(m, "DequantizeLinear"), 6);  // x, f, two weights, two biases
  for (const auto& t : m.graph().initializer())   // the float weights are gone
    EXPECT_TRUE(t.name() != "w" && t.name() != "gw" && t.name() != "b" && t.name() != "gb") << t.name();

  auto runs = run_export(b, table, exported->model, random_tensor({1, 4, 6, 6}, 7));
  ASSERT_TRUE(runs.is_ok()) << runs.status().message();
  EXPECT_EQ(runs->e4m3_roundings, 0u);
  // The int32 biases round by at most half a step of x_scale * w_scale (< 1e-3 here), which
  // can move a Relu output by as much and, through a uint8 step of 4/255, rarely one level.
  const Diff d = compare(runs->exported, runs->calibrated);
  EXPECT_LT(d.max_abs, 0.05f) << "max |diff| " << d.max_abs;
  // And the quantization is really there: the float model differs by more than that.
  const Diff from_float = compare(runs->exported, runs->plain);
  std::printf("exported vs calibrated graph: %g; vs the float graph: %g\n", d.max_abs, from_float.max_abs);
  EXPECT_GT(from_float.max_abs, d.max_abs);
}

TEST(QdqExport, ALayerTheCalibrationLeftFloatStaysFloat) {
  auto exported = export_qdq_onnx(conv_gemm_model().bytes(), table_for(false), "model.onnx");
  ASSERT_TRUE(exported.is_ok()) << exported.status().message();
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromArray(exported->model.data(), static_cast<int>(exported->model.size())));
  EXPECT_EQ(count_op(m, "QuantizeLinear"), 1);  // x only
  for (const auto& node : m.graph().node()) {
    if (node.op_type() == "Gemm") {
      EXPECT_EQ(node.input(1), "gw");  // float weights read directly
    }
  }
}

// An FP8 table: the same pairs in FLOAT8E4M3FN at opset 19, weights as E4M3 codes, biases
// float, computing exactly what `--precision fp8` builds from the table.
TEST(QdqExport, AnFp8CalibrationBecomesFloat8PairsThatComputeWhatTheCalibratedGraphComputes) {
  const OnnxModelBuilder b = conv_gemm_model();
  CalibrationTable table;
  table.method = "max";
  table.entries.push_back({"x", 1.0f, true, CalibrationTable::Grid::kE4m3});
  table.entries.push_back({"f", 4.0f, true, CalibrationTable::Grid::kE4m3});
  auto exported = export_qdq_onnx(b.bytes(), table, "model.onnx");
  ASSERT_TRUE(exported.is_ok()) << exported.status().message();
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromArray(exported->model.data(), static_cast<int>(exported->model.size())));
  EXPECT_GE(m.ir_version(), 9);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 19);
  EXPECT_EQ(count_op(m, "QuantizeLinear"), 2);    // x and f
  EXPECT_EQ(count_op(m, "DequantizeLinear"), 4);  // x, f and the two weights; the biases stay float
  for (const auto& t : m.graph().initializer()) {
    if (t.name().ends_with("_zero_point") || t.name().ends_with("_quantized")) {
      EXPECT_EQ(t.data_type(), onnx_import::kOnnxFloat8E4m3fn) << t.name();
    }
    EXPECT_NE(t.data_type(), onnx::TensorProto::INT32) << t.name();
  }

  auto runs = run_export(b, table, exported->model, random_tensor({1, 4, 6, 6}, 7));
  ASSERT_TRUE(runs.is_ok()) << runs.status().message();
  EXPECT_EQ(runs->e4m3_roundings, 2u);
  // The same roundings of the same values: only the float arithmetic's order may differ.
  const Diff d = compare(runs->exported, runs->calibrated);
  EXPECT_LT(d.max_abs, 1e-4f) << "max |diff| " << d.max_abs;
  EXPECT_GT(compare(runs->exported, runs->plain).max_abs, 10 * d.max_abs);
}

TEST(QdqExport, RefusalsSayWhy) {
  auto old = export_qdq_onnx(conv_gemm_model(11).bytes(), table_for(true), "old.onnx");
  ASSERT_FALSE(old.is_ok());
  EXPECT_NE(old.status().message().find("old.onnx: opset 11: explicit per-channel quantization needs opset 13"),
            std::string::npos)
      << old.status().message();
  CalibrationTable other;
  other.entries.push_back({"something_else", 1.0f, true, CalibrationTable::Grid::kInt8});
  auto foreign = export_qdq_onnx(conv_gemm_model().bytes(), other, "m.onnx");
  ASSERT_FALSE(foreign.is_ok());
  EXPECT_NE(foreign.status().message().find("no entry for 'x'"), std::string::npos) << foreign.status().message();
  CalibrationTable mixed = table_for(true);
  mixed.entries[0].grid = CalibrationTable::Grid::kE4m3;  // x in FP8, f in uint8
  auto both = export_qdq_onnx(conv_gemm_model().bytes(), mixed, "m.onnx");
  ASSERT_FALSE(both.is_ok());
  EXPECT_NE(both.status().message().find("m.onnx: the calibration table mixes INT8 and FP8 entries"), std::string::npos)
      << both.status().message();
  const std::vector<uint8_t> junk{1, 2, 3};
  EXPECT_EQ(export_qdq_onnx(junk, other, "junk").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace inferd::test
