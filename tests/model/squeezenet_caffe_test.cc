// The real SqueezeNet 1.1 in Caffe's format (deploy.prototxt + .caffemodel of the shared
// assets) against the repository's ONNX SqueezeNet, the same weights: both model folders
// through the product path (folder -> plan -> CPU engine), every bundled photo through each
// model's own preprocessing; the probabilities agree within 1e-4 and the top-1 is the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/file.h"
#include "server/classifier.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;

const char* kPrototxt = "models/caffe_prototxt/squeezenet_v1.1_deploy.prototxt";
const char* kCaffemodel = "models/squeezenet1.1.caffemodel";

// A model folder beside the repository's ONNX one: its config.toml and labels, the Caffe
// files in version 1. The published prototxt declares 227x227; the ONNX twin (and
// config.toml) take 224x224, which changes no weight.
Result<std::string> caffe_model_folder() {
  const fs::path folder = fs::path(test::temp_dir()) / "caffe_squeezenet";
  const fs::path onnx = fs::path(test::source_dir()) / "models/squeezenet";
  fs::remove_all(folder);
  fs::create_directories(folder / "1");
  for (const char* file : {"config.toml", "labels.txt"}) fs::copy_file(onnx / file, folder / file);
  fs::copy_file(test::asset_path(kCaffemodel), folder / "1/model.caffemodel");  // a link out is refused
  ASSIGN_OR_RETURN(auto bytes, read_file(test::asset_path(kPrototxt)));
  std::string text(bytes.begin(), bytes.end());
  const std::string from = "dim: 227 dim: 227";
  const auto at = text.find(from);
  if (at == std::string::npos) return invalid_argument(std::string(kPrototxt) + " does not declare 227x227");
  text.replace(at, from.size(), "dim: 224 dim: 224");
  std::ofstream(folder / "1/deploy.prototxt") << text;
  return folder.string();
}

// The model's probabilities for one photo, preprocessed as the model's config says.
Result<std::vector<float>> classify(const LoadedModel& m, ExecutionContext& ctx, const std::string& photo) {
  ASSIGN_OR_RETURN(auto bytes, read_file(photo));
  std::vector<float> input(3 * static_cast<size_t>(m.preprocess.width * m.preprocess.height));
  RETURN_IF_ERROR(image_to_tensor(m, bytes, input.data()));
  return ctx.run(input, 1);
}

size_t top1(const std::vector<float>& p) {
  return static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
}

TEST(SqueezeNetCaffe, EqualsItsOnnxTwinWithin1e4OnEveryBundledPhoto) {
  if (auto missing = test::missing_assets({kPrototxt, kCaffemodel}); !missing.empty()) GTEST_SKIP() << missing;
  auto folder = caffe_model_folder();
  ASSERT_TRUE(folder.is_ok()) << folder.status().message();
  LoadOptions options;
  options.backend = "cpu";
  auto caffe = load_classifier(*folder, "", options);
  auto onnx = load_classifier(test::source_dir() + "/models/squeezenet", "", options);
  ASSERT_TRUE(caffe.is_ok()) << caffe.status().message();
  ASSERT_TRUE(onnx.is_ok()) << onnx.status().message();
  // Two different plans (the Caffe net's input is "data", the ONNX one's "data_0"), which
  // may well agree to the bit: the same weights and, once optimized, the same kernels.
  EXPECT_EQ(caffe->engine->inputs().at(0).name, "data");
  EXPECT_EQ(onnx->engine->inputs().at(0).name, "data_0");
  auto caffe_ctx = caffe->engine->create_context();
  auto onnx_ctx = onnx->engine->create_context();
  ASSERT_TRUE(caffe_ctx.is_ok() && onnx_ctx.is_ok());
  const auto photos = bundled_photos();
  ASSERT_GE(photos.size(), 10u);  // the repository's five and the assets' seed_gre five at least
  float worst = 0;
  std::string worst_photo;
  for (const std::string& photo : photos) {
    auto a = classify(*caffe, **caffe_ctx, photo);
    auto b = classify(*onnx, **onnx_ctx, photo);
    ASSERT_TRUE(a.is_ok()) << photo << ": " << a.status().message();
    ASSERT_TRUE(b.is_ok()) << photo << ": " << b.status().message();
    ASSERT_EQ(a->size(), 1000u) << photo;
    ASSERT_EQ(b->size(), 1000u) << photo;
    float max_abs = 0;
    for (size_t i = 0; i < a->size(); ++i) max_abs = std::max(max_abs, std::fabs((*a)[i] - (*b)[i]));
    EXPECT_LE(max_abs, 1e-4f) << photo;
    EXPECT_EQ(top1(*a), top1(*b)) << photo;
    if (max_abs >= worst) worst = max_abs, worst_photo = photo;
  }
  std::cout << photos.size() << " photos: worst max |caffe - onnx| probability " << worst << " (" << worst_photo
            << ")\n";
}

}  // namespace
}  // namespace inferd
