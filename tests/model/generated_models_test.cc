// The standard architectures (random weights, tools/models/gen_models.py) through
// import -> optimize -> plan -> engine, against ONNX Runtime on the same input.
// Random weights: these check numerics, never accuracy.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <span>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "runtime/engine.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"
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

class GeneratedModel : public ::testing::TestWithParam<const char*> {};

TEST_P(GeneratedModel, MatchesOnnxRuntime) {
  const std::string path = generated_model(GetParam());
  auto backend = create_backend("cpu", {});
  ASSERT_TRUE(backend.is_ok());
  auto built = build_plan(path, **backend, {4, "fp32"});
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  EXPECT_LT(built->plan.graph.nodes().size(), built->imported_nodes) << "the optimizer removed nothing";
  auto engine = Engine::create(std::move(built->plan), *backend);
  ASSERT_TRUE(engine.is_ok()) << engine.status().message();
  auto ctx = (*engine)->create_context();
  ASSERT_TRUE(ctx.is_ok());

  const int batch = 2;
  Tensor input = test::random_tensor((*ctx)->input_shape(0, batch), 7, -2.0f, 2.0f);
  // Give the two samples different scales so a mix-up of batch items shows.
  for (float& v : std::span(input.data<float>() + input.size() / 2, static_cast<size_t>(input.size() / 2))) v *= 0.3f;
  auto ours = (*ctx)->run(input.floats(), batch);
  ASSERT_TRUE(ours.is_ok()) << ours.status().message();
  auto theirs = test::run_onnx_runtime(path, input);
  // A clone without scripts/setup.sh has no ONNX Runtime: skipped, naming what to run.
  if (theirs.status().code() == StatusCode::kFailedPrecondition) GTEST_SKIP() << theirs.status().message();
  ASSERT_TRUE(theirs.is_ok()) << theirs.status().message();
  ASSERT_EQ(ours->size(), static_cast<size_t>(theirs->size()));
  // Random-weight nets give outputs that vary little between inputs, so an absolute
  // bound on probabilities alone would be weak: bound the relative error as well.
  float max_abs = 0, max_rel = 0;
  for (size_t i = 0; i < ours->size(); ++i) {
    const float ref = theirs->floats()[i], err = std::fabs((*ours)[i] - ref);
    max_abs = std::max(max_abs, err);
    if (ref > 1e-5f) max_rel = std::max(max_rel, err / ref);
  }
  std::cout << GetParam() << ": max abs " << max_abs << ", max rel " << max_rel << "\n";
  EXPECT_LE(max_abs, 1e-3f);
  EXPECT_LE(max_rel, 2e-3f);
}

INSTANTIATE_TEST_SUITE_P(Architectures, GeneratedModel,
                         ::testing::Values("resnet50", "googlenet", "alexnet", "mobilenetv2"));

}  // namespace
}  // namespace inferd
