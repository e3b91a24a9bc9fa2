// End-to-end checks of the real, pretrained SqueezeNet 1.1 through the product
// path (model folder -> plan -> engine -> image decode -> top-k), against known
// labels and against ONNX Runtime.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/file.h"
#include "server/classifier.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"
#include "support/test_util.h"

namespace inferd {
namespace {

const LoadedModel& squeezenet() {
  static const LoadedModel model = [] {
    LoadOptions options;
    options.max_batch = 32;
    auto m = load_classifier(test::source_dir() + "/models/squeezenet", "", options);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    return std::move(m).value();
  }();
  return model;
}

// Decodes the files into consecutive samples; returns the input tensor.
Tensor preprocess_all(const std::vector<std::string>& paths) {
  const auto& m = squeezenet();
  const int64_t sample = 3LL * m.preprocess.height * m.preprocess.width;
  Tensor input(DataType::kFloat32, {static_cast<int64_t>(paths.size()), 3, m.preprocess.height, m.preprocess.width});
  for (size_t i = 0; i < paths.size(); ++i) {
    auto bytes = read_file(paths[i]);
    if (!bytes.is_ok()) {  // fail, but never read a failed Result's value
      ADD_FAILURE() << paths[i] << ": " << bytes.status().message();
      continue;
    }
    Status s = image_to_tensor(m, *bytes, input.data<float>() + static_cast<int64_t>(i) * sample);
    EXPECT_TRUE(s.is_ok()) << paths[i] << ": " << s.message();
  }
  return input;
}

// Runs the engine on `input` in chunks of max_batch; returns [N, classes].
std::vector<std::vector<float>> run_engine(const Tensor& input) {
  const auto& m = squeezenet();
  auto ctx = m.engine->create_context();
  EXPECT_TRUE(ctx.is_ok());
  const int64_t n = input.shape()[0], sample = input.size() / n;
  std::vector<std::vector<float>> rows;
  for (int64_t first = 0; first < n; first += m.engine->max_batch()) {
    const int batch = static_cast<int>(std::min<int64_t>(m.engine->max_batch(), n - first));
    auto out = (*ctx)->run({input.data<float>() + first * sample, static_cast<size_t>(batch * sample)}, batch);
    EXPECT_TRUE(out.is_ok()) << out.status().message();
    const size_t classes = out->size() / static_cast<size_t>(batch);
    for (int b = 0; b < batch; ++b)
      rows.emplace_back(out->begin() + static_cast<std::ptrdiff_t>(b * classes),
                        out->begin() + static_cast<std::ptrdiff_t>((b + 1) * classes));
  }
  return rows;
}

std::vector<int> top5(const std::vector<float>& row) {
  std::vector<int> out;
  for (const auto& p : top_k(row, 5, {})) out.push_back(p.index);
  return out;
}

TEST(SqueezeNet, SeedRabbitIsAngora) {
  const auto rows = run_engine(preprocess_all({test::source_dir() + "/images/1.jpg"}));
  const auto top = top_k(rows.at(0), 5, squeezenet().folder.labels);
  EXPECT_EQ(top[0].label, "n02328150 Angora, Angora rabbit");
  EXPECT_NEAR(top[0].confidence, 0.921, 0.01);
}

TEST(SqueezeNet, MatchesOnnxRuntimeOnEveryBundledPhoto) {
  const auto photos = bundled_photos();
  // The repository's five photos always; with the shared assets, theirs too.
  const bool have_assets = test::missing_assets({"images"}).empty();
  ASSERT_GE(photos.size(), have_assets ? 15u : 5u);
  const Tensor input = preprocess_all(photos);
  const auto ours = run_engine(input);
  auto theirs = test::run_onnx_runtime(test::source_dir() + "/models/squeezenet/1/model.onnx", input);
  // A clone without scripts/setup.sh has no ONNX Runtime: skipped, naming what to run.
  if (theirs.status().code() == StatusCode::kFailedPrecondition) GTEST_SKIP() << theirs.status().message();
  ASSERT_TRUE(theirs.is_ok()) << theirs.status().message();
  const size_t classes = ours.at(0).size();
  ASSERT_EQ(static_cast<size_t>(theirs->size()), classes * photos.size());
  for (size_t i = 0; i < photos.size(); ++i) {
    std::vector<float> ref(theirs->data<float>() + i * classes, theirs->data<float>() + (i + 1) * classes);
    float max_abs = 0;
    for (size_t c = 0; c < classes; ++c) max_abs = std::max(max_abs, std::fabs(ours[i][c] - ref[c]));
    EXPECT_LE(max_abs, 1e-3f) << photos[i];
    EXPECT_EQ(top5(ours[i]), top5(ref)) << photos[i];
  }
}

TEST(SqueezeNet, ImageNetSampleAgreesWithOnnxRuntimeAndIsAccurate) {
  if (auto missing = test::missing_assets({kOrtPredictionsFile}); !missing.empty()) GTEST_SKIP() << missing;
  const auto expected = read_ort_predictions();
  ASSERT_EQ(expected.size(), 334u);
  std::vector<std::string> paths;
  for (const auto& e : expected) paths.push_back(test::assets_dir() + "/images/imagenet_sample/" + e.file);
  const auto rows = run_engine(preprocess_all(paths));
  int same_top1 = 0, correct = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const int ours = top5(rows[i])[0];
    same_top1 += ours == expected[i].ort_top1;
    correct += ours == expected[i].ground_truth;
  }
  const double agree = 100.0 * same_top1 / static_cast<double>(expected.size());
  const double accuracy = 100.0 * correct / static_cast<double>(expected.size());
  std::cout << "imagenet sample: top-1 agreement with ONNX Runtime " << agree << "%, top-1 accuracy " << accuracy
            << "% (ONNX Runtime 61.4%)\n";
  EXPECT_GE(agree, 99.0);
  EXPECT_GE(accuracy, 60.0);
}

}  // namespace
}  // namespace inferd
