// Imports the real SqueezeNet 1.1 files of the shared assets (a test skips when its file
// is absent, as on a bare clone) and of the repository's model folder.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"
#include "import/onnx/onnx_importer.h"
#include "import/onnx_model_builder.h"
#include "support/test_util.h"

namespace inferd {
namespace {

using ir::OpKind;
using test::count_ops;
using test::value_named;

std::string model_path(const std::string& file) { return test::asset_path("models/" + file); }

// The repository's model: byte-identical to the assets' squeezenet1.1_fp32_dynbatch_opset13.onnx,
// so the tests of that file run from a bare clone too.
std::string bundled_model_path() { return test::source_dir() + "/models/squeezenet/1/model.onnx"; }

std::string missing_models(const std::vector<std::string>& files) {
  std::vector<std::string> relative;
  for (const auto& f : files) relative.push_back("models/" + f);
  return test::missing_assets(relative);
}

void expect_squeezenet_body(const ir::Graph& g, int64_t batch, size_t constants_expected = 52) {
  EXPECT_EQ(count_ops(g, OpKind::kConv), 26u);
  EXPECT_EQ(count_ops(g, OpKind::kRelu), 26u);
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 8u);
  EXPECT_EQ(count_ops(g, OpKind::kMaxPool), 3u);
  EXPECT_EQ(count_ops(g, OpKind::kGlobalAveragePool), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kSoftmax), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kIdentity), 1u);  // the Dropout
  ASSERT_EQ(g.inputs.size(), 1u);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "data_0");
  EXPECT_EQ(g.value(g.inputs[0]).shape, (Shape{batch, 3, 224, 224}));
  EXPECT_EQ(g.value(g.outputs[0]).name, "softmaxout_1");
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{batch, 1000, 1, 1}));
  EXPECT_EQ(g.value(g.outputs[0]).dtype, DataType::kFloat32);
  // conv1: 3x3 stride 2 on 224 -> 111; pool1: 3x3 stride 2 -> 55.
  EXPECT_EQ(value_named(g, "conv1_1").shape, (Shape{batch, 64, 111, 111}));
  EXPECT_EQ(value_named(g, "pool1_1").shape, (Shape{batch, 64, 55, 55}));
  EXPECT_EQ(value_named(g, "fire9/concat_1").shape, (Shape{batch, 512, 13, 13}));
  const ir::Value& w = value_named(g, "conv1_w_0");
  ASSERT_TRUE(w.is_constant());
  EXPECT_EQ(w.dtype, DataType::kFloat32);
  EXPECT_EQ(w.shape, (Shape{64, 3, 3, 3}));
  size_t constants = 0;
  for (size_t i = 0; i < g.value_count(); ++i) constants += g.value(static_cast<ir::ValueId>(i)).is_constant();
  EXPECT_EQ(constants, constants_expected);
  const ir::Node& conv = test::first_node(g, OpKind::kConv);
  EXPECT_EQ(conv.attrs.get_ints("strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv.attrs.get_ints("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(conv.attrs.get_ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.attrs.get_int("group", 0), 1);
}

// The tests ASSERT on the import before touching the graph: an empty graph from a failed
// import crashed them (inputs[0] of nothing).
TEST(SqueezeNetImport, Fp32Ir3InitializersListedAsInputs) {
  if (auto missing = missing_models({"squeezenet1.1_fp32.onnx"}); !missing.empty()) GTEST_SKIP() << missing;
  auto imported = import_onnx(model_path("squeezenet1.1_fp32.onnx"));
  ASSERT_TRUE(imported.is_ok()) << imported.status().message();
  const ir::Graph& g = *imported;
  EXPECT_EQ(g.nodes().size(), 66u);
  ASSERT_NO_FATAL_FAILURE(expect_squeezenet_body(g, 1));
  // Opset 7 Softmax on [1,1000,1,1] at axis 1: the legacy 2-D form equals the new one.
  const ir::Node& softmax = test::first_node(g, OpKind::kSoftmax);
  EXPECT_EQ(softmax.attrs.get_int("axis", -1), 1);
  EXPECT_FALSE(softmax.attrs.has("legacy_2d"));
  const ir::Node& pool = test::first_node(g, OpKind::kMaxPool);
  EXPECT_EQ(pool.attrs.get_ints("kernel_shape"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(pool.attrs.get_int("ceil_mode", -1), 0);
}

TEST(SqueezeNetImport, DynamicBatchOpset7) {
  if (auto missing = missing_models({"squeezenet1.1_fp32_dynbatch.onnx"}); !missing.empty()) GTEST_SKIP() << missing;
  auto imported = import_onnx(model_path("squeezenet1.1_fp32_dynbatch.onnx"));
  ASSERT_TRUE(imported.is_ok()) << imported.status().message();
  const ir::Graph& g = *imported;
  EXPECT_EQ(g.nodes().size(), 66u);
  expect_squeezenet_body(g, kDynamicDim);
}

TEST(SqueezeNetImport, DynamicBatchOpset13WithReshape) {
  auto imported = import_onnx(bundled_model_path());
  ASSERT_TRUE(imported.is_ok()) << imported.status().message();
  const ir::Graph& g = *imported;
  EXPECT_EQ(g.nodes().size(), 68u);  // 70 ONNX nodes, 2 of them Constants
  ASSERT_NO_FATAL_FAILURE(expect_squeezenet_body(g, kDynamicDim, 53));  // + the Reshape target
  EXPECT_EQ(count_ops(g, OpKind::kFlatten), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kReshape), 1u);
  EXPECT_EQ(value_named(g, "123").shape, (Shape{kDynamicDim, 1000}));
  const ir::Node& softmax = test::first_node(g, OpKind::kSoftmax);
  EXPECT_EQ(softmax.attrs.get_int("axis", -1), 1);  // -1 made non-negative
  const ir::Node& dropout = test::first_node(g, OpKind::kIdentity);
  EXPECT_EQ(dropout.inputs.size(), 1u);  // the ratio input is dropped
}

TEST(SqueezeNetImport, Fp16WeightsBecomeFloat32) {
  if (auto missing = missing_models({"squeezenet1.1_fp16_winml.onnx", "squeezenet1.1_fp32.onnx"}); !missing.empty())
    GTEST_SKIP() << missing;
  auto imported16 = import_onnx(model_path("squeezenet1.1_fp16_winml.onnx"));
  auto imported32 = import_onnx(model_path("squeezenet1.1_fp32.onnx"));
  ASSERT_TRUE(imported16.is_ok()) << imported16.status().message();
  ASSERT_TRUE(imported32.is_ok()) << imported32.status().message();
  const ir::Graph& g16 = *imported16;
  const ir::Graph& g32 = *imported32;
  ASSERT_NO_FATAL_FAILURE(expect_squeezenet_body(g16, 1));
  EXPECT_EQ(g16.value(g16.inputs[0]).dtype, DataType::kFloat32);
  // The fp32 file was made by casting the fp16 weights, so they agree exactly.
  for (const char* name : {"conv1_w_0", "conv10_b_0", "fire9/expand3x3_w_0"}) {
    const ir::Value& a = value_named(g16, name);
    const ir::Value& b = value_named(g32, name);
    ASSERT_TRUE(a.is_constant() && b.is_constant()) << name;
    ASSERT_EQ(a.constant->dtype(), DataType::kFloat32);
    ASSERT_EQ(a.shape, b.shape);
    EXPECT_EQ(test::compare(*a.constant, *b.constant).max_abs, 0.0f) << name;
  }
}

// Every model of the assets imports without crashing, and the ones inferd supports
// (all of them today) import without error.
TEST(SqueezeNetImport, EveryAssetModelImports) {
  if (auto missing = test::missing_assets({"models"}); !missing.empty()) GTEST_SKIP() << missing;
  size_t models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::assets_dir() + "/models")) {
    if (entry.path().extension() != ".onnx") continue;
    ++models;
    auto g = import_onnx(entry.path().string());
    EXPECT_TRUE(g.is_ok()) << entry.path() << ": " << g.status().message();
    if (g.is_ok()) {
      EXPECT_GT(g->nodes().size(), 0u);
    }
  }
  EXPECT_GE(models, 4u);
}

TEST(SqueezeNetImport, TruncatedFileIsRejected) {
  auto bytes = read_file(bundled_model_path());  // any real model will do
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  const std::span<const uint8_t> half(bytes->data(), bytes->size() / 2);
  auto g = import_onnx_bytes(half, "model.onnx", "");
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(g.status().message().rfind("model.onnx: not a valid ONNX model (protobuf parse failed", 0), 0u)
      << g.status().message();
}

TEST(SqueezeNetImport, MissingFileNamesThePath) {
  auto g = import_onnx("/nonexistent/model.onnx");
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_NE(g.status().message().find("/nonexistent/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace inferd
