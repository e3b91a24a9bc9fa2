// Caffe import: the real SqueezeNet 1.1 (deploy.prototxt + .caffemodel of the shared assets)
// against the repository's ONNX SqueezeNet with the same weights, through the reference
// kernels; SqueezeNet 1.0's published prototxt (legacy input_shape declaration) with
// weights made here; and the errors of malformed or unsupported files.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "caffe_subset.pb.h"

#include "core/file.h"
#include "import/caffe/caffe_importer.h"
#include "import/onnx/onnx_importer.h"
#include "support/reference_run.h"
#include "support/test_util.h"

namespace inferd {
namespace {

const char* kPrototxt = "models/caffe_prototxt/squeezenet_v1.1_deploy.prototxt";
const char* kCaffemodel = "models/squeezenet1.1.caffemodel";

std::string read_text(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.is_ok()) << path;
  return bytes.is_ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.is_ok()) << path;
  return bytes.is_ok() ? *bytes : std::vector<uint8_t>();
}

// The prototxt declares 227x227 inputs; the ONNX twin takes 224x224.
std::string squeezenet_prototxt_at_224() {
  std::string text = read_text(test::asset_path(kPrototxt));
  const std::string from = "dim: 227 dim: 227", to = "dim: 224 dim: 224";
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(CaffeImport, RealSqueezeNetEqualsItsOnnxTwin) {
  if (auto missing = test::missing_assets({kPrototxt, kCaffemodel}); !missing.empty()) GTEST_SKIP() << missing;
  auto caffe = import_caffe_bytes(squeezenet_prototxt_at_224(), read_bytes(test::asset_path(kCaffemodel)), "squeezenet");
  ASSERT_TRUE(caffe.is_ok()) << caffe.status().message();
  ASSERT_EQ(caffe->inputs.size(), 1u);
  ASSERT_EQ(caffe->outputs.size(), 1u);
  EXPECT_EQ(caffe->value(caffe->inputs[0]).shape, (Shape{kDynamicDim, 3, 224, 224}));
  EXPECT_EQ(caffe->value(caffe->outputs[0]).shape, (Shape{kDynamicDim, 1000}));
  auto onnx = import_onnx(test::source_dir() + "/models/squeezenet/1/model.onnx");
  ASSERT_TRUE(onnx.is_ok()) << onnx.status().message();
  const Tensor x = test::random_tensor({2, 3, 224, 224}, 5, 0.0f, 255.0f);
  auto got = test::reference_run(*caffe, {x});
  auto want = test::reference_run(*onnx, {x});
  ASSERT_TRUE(got.is_ok()) << got.status().message();
  ASSERT_TRUE(want.is_ok()) << want.status().message();
  const Tensor flat = Tensor::from_floats({2, 1000}, (*want)[0].floats());
  const auto diff = test::compare((*got)[0], flat);
  EXPECT_LT(diff.max_abs, 1e-4f);
}

// Random weights of the right shapes for a net of Convolution (square kernel, group 1)
// and channel-preserving layers, channels followed blob by blob from the first input.
std::vector<uint8_t> random_caffemodel(const inferd_caffe::NetParameter& net) {
  std::map<std::string, int64_t> channels{{net.input(0), net.input_shape(0).dim(1)}};
  inferd_caffe::NetParameter weights;
  uint32_t seed = 100;
  for (const auto& l : net.layer()) {
    int64_t c = 0;
    for (const auto& b : l.bottom()) c = l.type() == "Concat" ? c + channels[b] : channels[b];
    if (l.type() == "Convolution") {
      const auto& p = l.convolution_param();
      const int64_t k = p.kernel_size(0), m = p.num_output();
      auto* w = weights.add_layer();
      w->set_name(l.name());
      for (const Shape& shape : {Shape{m, c, k, k}, Shape{m}}) {
        auto* blob = w->add_blobs();
        for (int64_t d : shape) blob->mutable_shape()->add_dim(d);
        const Tensor values = test::random_tensor(shape, seed++, -0.1f, 0.1f);  // alive through the loop
        for (float v : values.floats()) blob->add_data(v);
      }
      c = m;
    }
    for (const auto& t : l.top()) channels[t] = c;
  }
  const std::string bytes = weights.SerializeAsString();
  return {bytes.begin(), bytes.end()};
}

TEST(CaffeImport, SqueezeNetV10LegacyInputShapeDeclaration) {
  const char* prototxt = "models/caffe_prototxt/squeezenet_v1.0_deploy.prototxt";
  if (auto missing = test::missing_assets({prototxt}); !missing.empty()) GTEST_SKIP() << missing;
  const std::string text = read_text(test::asset_path(prototxt));
  inferd_caffe::NetParameter net;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &net));
  ASSERT_EQ(net.input_size(), 1);  // the legacy form: input: + input_shape {}, no Input layer
  ASSERT_EQ(net.input_shape_size(), 1);
  ASSERT_EQ(net.input_dim_size(), 0);
  auto g = import_caffe_bytes(text, random_caffemodel(net), "squeezenet_v1.0");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_EQ(g->value(g->inputs[0]).name, "data");
  EXPECT_EQ(g->value(g->inputs[0]).shape, (Shape{kDynamicDim, 3, 227, 227}));
  ASSERT_EQ(g->outputs.size(), 1u);
  EXPECT_EQ(g->value(g->outputs[0]).shape, (Shape{kDynamicDim, 1000}));
}

TEST(CaffeImport, UnknownLayerTypeNamesTheLayer) {
  const std::string net = R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
    layer { name: "odd" type: "Swish" bottom: "data" top: "odd" })";
  auto g = import_caffe_bytes(net, {}, "net.prototxt");
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().message(), "net.prototxt: layer 'odd' (Swish): unsupported layer type");
}

TEST(CaffeImport, PrototxtSyntaxErrorSaysWhere) {
  auto g = import_caffe_bytes("layer { name: \"a\" type: }", {}, "net.prototxt");
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("net.prototxt: not a Caffe prototxt: line 1, column"), std::string::npos)
      << g.status().message();
}

TEST(CaffeImport, MissingWeightsAndTruncatedFilesAreSpecificErrors) {
  const std::string net = R"(
    input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
    layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
            convolution_param { num_output: 4 kernel_size: 3 } })";
  auto none = import_caffe_bytes(net, {}, "net.prototxt");
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().message(), "net.prototxt: layer 'conv1' (Convolution): the weights file has no blobs for it");
  if (auto missing = test::missing_assets({kCaffemodel}); !missing.empty()) GTEST_SKIP() << missing;
  std::vector<uint8_t> weights = read_bytes(test::asset_path(kCaffemodel));
  weights.resize(weights.size() / 2);
  auto cut = import_caffe_bytes(net, weights, "net.prototxt");
  ASSERT_FALSE(cut.is_ok());
  EXPECT_EQ(cut.status().message(),
            "net.prototxt: the weights file is not a Caffe NetParameter (truncated or corrupt)");
}

}  // namespace
}  // namespace inferd
