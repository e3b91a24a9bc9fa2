// The INT8 passes that change where a rounding happens or how a value is stored, end to end
// on generated networks (random weights), every layer INT8 after calibration on the bundled
// photos, each built with and without the pass:
// - output_quantization_fusion (MobileNetV2): the FakeQuantize nodes in front of its
//   depthwise convolutions fused into the expansions that write their inputs; only an
//   activation element whose float sum lands on a rounding boundary may fall one grid step
//   apart;
// - int8_storage (ResNet-50): the values between its INT8 convolutions stored as u8/s8
//   levels, which the next convolution reads as they are.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "runtime/engine.h"
#include "server/calibrator.h"
#include "support/test_util.h"

namespace inferd {
namespace {

std::string generated_model(const std::string& name) {
  const std::string dir = std::string(INFERD_BINARY_DIR) + "/generated_models";
  const std::string path = dir + "/" + name + ".onnx";
  if (!std::filesystem::exists(path)) {
    const std::string cmd = "/usr/bin/python3 " + test::source_dir() + "/tools/models/gen_models.py " + dir +
                            " --only " + name + " > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  return path;
}

struct Built {
  std::vector<float> output;
  size_t fused = 0;          // convolutions with a rounded output (fp32 values)
  size_t level_outputs = 0;  // convolutions writing u8/s8 levels (int8_storage)
};

Built run_int8(const std::string& path, const BuildOptions& options, const Tensor& input, int batch) {
  auto cpu = create_backend("cpu", BackendOptions{});
  EXPECT_TRUE(cpu.is_ok());
  auto built = build_plan(path, **cpu, options);
  EXPECT_TRUE(built.is_ok()) << built.status().message();
  if (!built.is_ok()) return {};
  Built b;
  for (const ir::Node& n : built->plan.graph.nodes()) {
    const bool levels = n.attrs.get_int("output_levels", 0) != 0;
    b.fused += n.attrs.has("output_scale") && !levels ? 1 : 0;
    b.level_outputs += levels ? 1 : 0;
  }
  auto engine = Engine::create(std::move(built->plan), *cpu).value();
  auto ctx = engine->create_context().value();
  auto out = ctx->run(input.floats(), batch);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  if (out.is_ok()) b.output.assign(out->begin(), out->end());
  return b;
}

// Every layer INT8 (calibrated on the bundled photos), the same layers in every build:
// which ones the clock would keep float varies from build to build, and a layer's float
// and INT8 versions may differ by a grid step.
BuildOptions int8_everywhere(const std::string& path) {
  auto folder = model_from_file(path, "");
  EXPECT_TRUE(folder.is_ok()) << folder.status().message();
  CalibrationOptions calibration;
  calibration.images_dir = test::source_dir() + "/images";
  calibration.min_agreement = 0;  // every layer INT8: random weights have no answers to keep
  auto table = calibrate_model(*folder, calibration);
  EXPECT_TRUE(table.is_ok()) << table.status().message();
  BuildOptions options(2, "fp32");  // the calibration makes it INT8
  if (table.is_ok()) options.calibration = std::make_shared<const CalibrationTable>(std::move(*table));
  options.time_int8_layers = false;
  return options;
}

TEST(Int8OutputRounding, MobileNetV2ComputesTheSameWithTheRoundingFused) {
  const std::string path = generated_model("mobilenetv2");
  const BuildOptions options = int8_everywhere(path);
  ASSERT_TRUE(options.calibration);
  BuildOptions unfused = options;
  unfused.disabled_passes = {"output_quantization_fusion"};
  const Tensor input = test::random_tensor({2, 3, 224, 224}, 11, -2.0f, 2.0f);
  const Built with = run_int8(path, options, input, 2), without = run_int8(path, unfused, input, 2);
  // MobileNetV2's 17 depthwise convolutions run in float behind a FakeQuantize each.
  EXPECT_GE(with.fused, 17u);
  EXPECT_EQ(without.fused, 0u);
  ASSERT_EQ(with.output.size(), without.output.size());
  ASSERT_FALSE(with.output.empty());
  float max_rel = 0;
  for (size_t i = 0; i < with.output.size(); ++i)
    max_rel = std::max(max_rel, std::fabs(with.output[i] - without.output[i]) / std::max(1e-6f, without.output[i]));
  std::cout << "rounding fused into " << with.fused << " convolutions; probabilities within " << max_rel
            << " (relative) of the unfused plan's\n";
  EXPECT_LE(max_rel, 1e-3f) << "probabilities of the fused plan against the unfused one";
  const size_t classes = with.output.size() / 2;
  for (size_t s = 0; s < 2; ++s) {
    const auto top = [&](const std::vector<float>& v) {
      return std::max_element(v.begin() + s * classes, v.begin() + (s + 1) * classes) - v.begin();
    };
    EXPECT_EQ(top(with.output), top(without.output)) << "sample " << s;
  }
}

}  // namespace
}  // namespace inferd

namespace inferd {
namespace {

TEST(Int8Storage, ResNet50ComputesTheSameWithLevelsBetweenItsConvolutions) {
  const std::string path = generated_model("resnet50");
  const BuildOptions options = int8_everywhere(path);
  ASSERT_TRUE(options.calibration);
  BuildOptions fp32_values = options;
  fp32_values.disabled_passes = {"int8_storage"};
  const Tensor input = test::random_tensor({2, 3, 224, 224}, 12, -2.0f, 2.0f);
  const Built levels = run_int8(path, options, input, 2), values = run_int8(path, fp32_values, input, 2);
  // Each bottleneck's two inner activations (1x1 -> 3x3 -> 1x1): 16 blocks.
  EXPECT_EQ(levels.level_outputs, 32u);
  EXPECT_EQ(values.level_outputs, 0u);
  ASSERT_EQ(levels.output.size(), values.output.size());
  ASSERT_FALSE(levels.output.empty());
  float max_abs = 0;
  for (size_t i = 0; i < levels.output.size(); ++i)
    max_abs = std::max(max_abs, std::fabs(levels.output[i] - values.output[i]));
  std::cout << "levels stored by " << levels.level_outputs << " convolutions; probabilities within " << max_abs
            << " of the fp32-valued plan's\n";
  // The same levels either way: only the float summation order of a kernel may differ.
  EXPECT_LE(max_abs, 1e-5f);
}

}  // namespace
}  // namespace inferd
