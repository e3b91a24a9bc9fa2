// The standard architectures (random weights, tools/models/gen_models.py) through
// import -> optimize -> plan -> engine, against ONNX Runtime on the same input.
// Random weights: these check numerics, never accuracy.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

const std::string kGeneratedDir = std::string(INFERD_BINARY_DIR) + "/generated_models";

// NAME.onnx (and, for the BVLC Caffe nets, NAME.caffemodel) from the generator, once.
std::string generated_model(const std::string& name, const std::string& extension = ".onnx") {
  const std::string dir = kGeneratedDir;
  const std::string path = dir + "/" + name + extension;
  if (!std::filesystem::exists(path)) {
    const std::string cmd = "/usr/bin/python3 " + test::source_dir() + "/tools/models/gen_models.py " + dir +
                            " --only " + name + " > /dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  return path;
}

// Input for a [N,3,224,224] model: random, the two samples at different scales so that a
// mix-up of batch items shows.
Tensor two_sample_input(const Shape& shape) {
  Tensor input = test::random_tensor(shape, 7, -2.0f, 2.0f);
  for (float& v : std::span(input.data<float>() + input.size() / 2, static_cast<size_t>(input.size() / 2))) v *= 0.3f;
  return input;
}

struct Errors {
  float max_abs = 0, max_rel = 0;
};

// Random-weight nets give outputs that vary little between inputs, so an absolute bound on
// probabilities alone would be weak: the relative error is measured as well.
Errors errors(std::span<const float> ours, std::span<const float> ref) {
  Errors e;
  for (size_t i = 0; i < ours.size(); ++i) {
    const float err = std::fabs(ours[i] - ref[i]);
    e.max_abs = std::max(e.max_abs, err);
    if (ref[i] > 1e-5f) e.max_rel = std::max(e.max_rel, err / ref[i]);
  }
  return e;
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
  const Tensor input = two_sample_input((*ctx)->input_shape(0, batch));
  auto ours = (*ctx)->run(input.floats(), batch);
  ASSERT_TRUE(ours.is_ok()) << ours.status().message();
  auto theirs = test::run_onnx_runtime(path, input);
  // A clone without scripts/setup.sh has no ONNX Runtime: skipped, naming what to run.
  if (theirs.status().code() == StatusCode::kFailedPrecondition) GTEST_SKIP() << theirs.status().message();
  ASSERT_TRUE(theirs.is_ok()) << theirs.status().message();
  ASSERT_EQ(ours->size(), static_cast<size_t>(theirs->size()));
  const Errors e = errors(*ours, theirs->floats());
  std::cout << GetParam() << ": max abs " << e.max_abs << ", max rel " << e.max_rel << "\n";
  EXPECT_LE(e.max_abs, 1e-3f);
  EXPECT_LE(e.max_rel, 2e-3f);
}

INSTANTIATE_TEST_SUITE_P(Architectures, GeneratedModel,
                         ::testing::Values("resnet50", "googlenet", "alexnet", "mobilenetv2"));

// The BVLC Caffe nets as the generator also writes them (NAME.caffemodel: the ONNX twin's
// weights; AlexNet and CaffeNet in the legacy V1 format of their published files) with
// their published deploy.prototxt: imported from Caffe, built and run on the CPU engine,
// they equal ONNX Runtime on the ONNX twin.
struct CaffeNet {
  const char* name;
  const char* prototxt;  // in the shared assets
};
void PrintTo(const CaffeNet& net, std::ostream* os) { *os << net.name; }
class GeneratedCaffeModel : public ::testing::TestWithParam<CaffeNet> {};

TEST_P(GeneratedCaffeModel, EqualsOnnxRuntimeOnTheOnnxTwin) {
  const std::string asset = std::string("models/caffe_prototxt/") + GetParam().prototxt;
  if (auto missing = test::missing_assets({asset}); !missing.empty()) GTEST_SKIP() << missing;
  const std::string name = GetParam().name, onnx = generated_model(name);
  BuildOptions options(4, "fp32");
  options.weights_path = generated_model(name, ".caffemodel");
  // The published AlexNet/CaffeNet prototxts declare 227x227 (the same 6x6 at pool5 as the
  // generator's 224x224, whose input the ONNX twin declares).
  std::ifstream in(test::asset_path(asset));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (const auto at = text.find("dim: 227 dim: 227"); at != std::string::npos) text.replace(at, 17, "dim: 224 dim: 224");
  const std::string prototxt = kGeneratedDir + "/" + name + ".prototxt";
  std::ofstream(prototxt) << text;

  auto backend = create_backend("cpu", {});
  ASSERT_TRUE(backend.is_ok());
  auto built = build_plan(prototxt, **backend, options);
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  auto engine = Engine::create(std::move(built->plan), *backend);
  ASSERT_TRUE(engine.is_ok()) << engine.status().message();
  auto ctx = (*engine)->create_context().value();
  const Tensor input = two_sample_input(ctx->input_shape(0, 2));
  auto ours = ctx->run(input.floats(), 2);
  ASSERT_TRUE(ours.is_ok()) << ours.status().message();
  auto theirs = test::run_onnx_runtime(onnx, input);
  if (theirs.status().code() == StatusCode::kFailedPrecondition) GTEST_SKIP() << theirs.status().message();
  ASSERT_TRUE(theirs.is_ok()) << theirs.status().message();
  ASSERT_EQ(ours->size(), static_cast<size_t>(theirs->size()));
  const Errors e = errors(*ours, theirs->floats());
  std::cout << name << " (Caffe): max abs " << e.max_abs << ", max rel " << e.max_rel << "\n";
  EXPECT_LE(e.max_abs, 1e-4f);
  EXPECT_LE(e.max_rel, 2e-3f);
}

INSTANTIATE_TEST_SUITE_P(BvlcNets, GeneratedCaffeModel,
                         ::testing::Values(CaffeNet{"alexnet", "bvlc_alexnet_deploy.prototxt"},
                                           CaffeNet{"caffenet", "bvlc_reference_caffenet_deploy.prototxt"},
                                           CaffeNet{"googlenet", "bvlc_googlenet_deploy.prototxt"}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace inferd
