// INT8 calibration end to end on the real SqueezeNet 1.1 (issue 16's accuracy bar): calibrated
// on 100 images of the 334-image ImageNet sample, evaluated on the other 234 against the FP32
// plan and the ground truth. INT8 is simulated (fp32 kernels with the calibrated
// FakeQuantize nodes and int8-grid weights: builder/calibration.h), so this measures what
// the calibration keeps, on the CPU backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"
#include "runtime/engine.h"
#include "server/calibrator.h"
#include "server/classifier.h"
#include "support/model_env.h"
#include "support/test_util.h"

namespace inferd {
namespace {

// Top-1 of every image through a plan built with `options`.
std::vector<int> top1_of(const ModelFolder& folder, const BuildOptions& options,
                         const std::vector<std::string>& paths) {
  auto cpu = create_backend("cpu", BackendOptions{});
  EXPECT_TRUE(cpu.is_ok());
  auto built = build_plan(folder.model_path, **cpu, options);
  EXPECT_TRUE(built.is_ok()) << built.status().message();
  if (!built.is_ok()) return {};
  auto engine = Engine::create(std::move(built->plan), *cpu).value();
  auto ctx = engine->create_context().value();
  const image::PreprocessConfig pre = model_preprocess(folder, engine->inputs()[0].shape).value();
  std::vector<int> top;
  for (const std::string& path : paths) {
    auto bytes = read_file(path);
    EXPECT_TRUE(bytes.is_ok()) << path;
    EXPECT_TRUE(image::decode_and_preprocess(*bytes, pre, int64_t{1} << 26, ctx->input_data(0)).is_ok()) << path;
    EXPECT_TRUE(ctx->execute(1).is_ok());
    const float* out = ctx->output_data(0);
    const auto classes = static_cast<size_t>(element_count(ctx->output_shape(0, 1)));
    top.push_back(static_cast<int>(std::max_element(out, out + classes) - out));
  }
  return top;
}

TEST(SqueezeNetInt8, CalibratedOnAHundredImagesKeepsTheAnswersOfTheOthers) {
  if (auto missing = test::missing_assets({kOrtPredictionsFile}); !missing.empty()) GTEST_SKIP() << missing;
  std::vector<OrtPrediction> sample = read_ort_predictions();
  ASSERT_EQ(sample.size(), 334u);
  std::sort(sample.begin(), sample.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  const std::string dir = test::assets_dir() + "/images/imagenet_sample/";
  CalibrationOptions calibration;
  std::vector<std::string> eval;
  for (size_t i = 0; i < sample.size(); ++i)  // every third-ish image calibrates: 100 spread over the classes
    (i % 10 < 3 && calibration.images.size() < 100 ? calibration.images : eval).push_back(dir + sample[i].file);
  ASSERT_EQ(calibration.images.size(), 100u);
  ASSERT_EQ(eval.size(), 234u);

  auto folder = load_model(test::source_dir() + "/models/squeezenet", "");
  ASSERT_TRUE(folder.is_ok()) << folder.status().message();
  auto table = calibrate_model(*folder, calibration);
  ASSERT_TRUE(table.is_ok()) << table.status().message();
  EXPECT_EQ(table->entries.size(), 18u);  // conv1's and conv10's inputs, each fire module's squeeze and expand inputs
  int quantized = 0, unsigned_8 = 0;
  for (const auto& e : table->entries) quantized += e.int8, unsigned_8 += e.int8 && e.is_unsigned;
  std::cout << quantized << " of " << table->entries.size() << " activations INT8 (" << unsigned_8
            << " of them uint8), the others float (mixed precision)\n";
  EXPECT_GE(quantized, 12) << "mixed precision fell back most of the network: that is not an INT8 model";

  BuildOptions fp32(1, "fp32"), int8(1, "fp32");
  int8.calibration = std::make_shared<const CalibrationTable>(*table);
  const std::vector<int> want = top1_of(*folder, fp32, eval), got = top1_of(*folder, int8, eval);
  ASSERT_EQ(want.size(), eval.size());
  ASSERT_EQ(got.size(), eval.size());
  int same = 0, right_fp32 = 0, right_int8 = 0;
  for (size_t i = 0, e = 0; i < sample.size(); ++i) {
    if (dir + sample[i].file != eval[e]) continue;
    same += got[e] == want[e];
    right_fp32 += want[e] == sample[i].ground_truth;
    right_int8 += got[e] == sample[i].ground_truth;
    if (++e == eval.size()) break;
  }
  const double n = static_cast<double>(eval.size());
  std::cout << "SqueezeNet INT8 (entropy, 100 calibration images) on 234 others: top-1 agreement with FP32 "
            << 100.0 * same / n << "%, accuracy FP32 " << 100.0 * right_fp32 / n << "%, INT8 " << 100.0 * right_int8 / n
            << "%\n";
  // Issue 16's bar. Measured 2026-12-04: 97.4 % with 16 of 18 activations INT8 (uint8 after
  // ReLUs; 95.3 % when every activation was int8).
  EXPECT_GE(100.0 * same / n, 97.0);
  EXPECT_LE(100.0 * (right_fp32 - right_int8) / n, 1.0);
}

}  // namespace
}  // namespace inferd
