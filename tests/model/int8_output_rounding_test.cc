// output_quantization_fusion end to end: the generated MobileNetV2 (random weights), every
// layer INT8 after calibration on the bundled photos, built with the FakeQuantize nodes in
// front of its depthwise convolutions fused into the expansions that write their inputs,
// and built without that pass. The two plans compute the same network: only an activation
// element whose float sum lands on a rounding boundary may fall one grid step apart.
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

std::string generated_mobilenetv2() {
  const std::string dir = std::string(INFERD_BINARY_DIR) + "/generated_models";
  const std::string path = dir + "/mobilenetv2.onnx";
  if (!std::filesystem::exists(path)) {
    const std::string cmd = "/usr/bin/python3 " + test::source_dir() + "/tools/models/gen_models.py " + dir +
                            " --only mobilenetv2 > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  return path;
}

struct Built {
  std::vector<float> output;
  size_t fused = 0;  // convolutions with a rounded output
};

Built run_int8(const std::string& path, const BuildOptions& options, const Tensor& input, int batch) {
  auto cpu = create_backend("cpu", BackendOptions{});
  EXPECT_TRUE(cpu.is_ok());
  auto built = build_plan(path, **cpu, options);
  EXPECT_TRUE(built.is_ok()) << built.status().message();
  if (!built.is_ok()) return {};
  Built b;
  for (const ir::Node& n : built->plan.graph.nodes()) b.fused += n.attrs.has("output_scale") ? 1 : 0;
  auto engine = Engine::create(std::move(built->plan), *cpu).value();
  auto ctx = engine->create_context().value();
  auto out = ctx->run(input.floats(), batch);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  if (out.is_ok()) b.output.assign(out->begin(), out->end());
  return b;
}

TEST(Int8OutputRounding, MobileNetV2ComputesTheSameWithTheRoundingFused) {
  const std::string path = generated_mobilenetv2();
  auto folder = model_from_file(path, "");
  ASSERT_TRUE(folder.is_ok()) << folder.status().message();
  CalibrationOptions calibration;
  calibration.images_dir = test::source_dir() + "/images";
  calibration.min_agreement = 0;  // every layer INT8: random weights have no answers to keep
  auto table = calibrate_model(*folder, calibration);
  ASSERT_TRUE(table.is_ok()) << table.status().message();

  BuildOptions options(2, "fp32");  // the calibration makes it INT8
  options.calibration = std::make_shared<const CalibrationTable>(std::move(*table));
  // The same layers INT8 in both builds: which ones the clock would keep float varies
  // from build to build, and a layer's float and INT8 versions may differ by a grid step.
  options.time_int8_layers = false;
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
