// The CUDA backend end to end: real SqueezeNet 1.1 through the product path (model folder
// -> plan -> engine -> decoded photos -> top-5) against the CPU backend; fp16 against fp32
// on the ImageNet sample; the random-weight architectures of tools/models against the CPU;
// graph replay against eager execution; 8 contexts on one engine in 8 threads; a plan
// round trip; and the errors a GPU plan can meet. Label gpu: run on the device machine.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"
#include "server/classifier.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"
#include "support/test_util.h"

namespace inferd {
namespace {

bool have_gpu() { return !backend_devices("cuda").empty(); }
#define REQUIRE_GPU() \
  if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU on this machine"

const LoadedModel& squeezenet(const std::string& backend, const std::string& precision) {
  static std::map<std::string, LoadedModel> models;
  const std::string key = backend + "/" + precision;
  if (auto it = models.find(key); it != models.end()) return it->second;
  LoadOptions options;
  options.max_batch = 32;
  options.backend = backend;
  options.precision = precision;
  auto m = load_classifier(test::source_dir() + "/models/squeezenet", "", options);
  EXPECT_TRUE(m.is_ok()) << key << ": " << m.status().message();
  return models.emplace(key, std::move(m).value()).first->second;
}

Tensor preprocess_all(const LoadedModel& m, const std::vector<std::string>& paths) {
  const int64_t sample = 3LL * m.preprocess.height * m.preprocess.width;
  Tensor input(DataType::kFloat32, {static_cast<int64_t>(paths.size()), 3, m.preprocess.height, m.preprocess.width});
  for (size_t i = 0; i < paths.size(); ++i) {
    auto bytes = read_file(paths[i]);
    EXPECT_TRUE(bytes.is_ok()) << paths[i];
    Status s = image_to_tensor(m, *bytes, input.data<float>() + static_cast<int64_t>(i) * sample);
    EXPECT_TRUE(s.is_ok()) << paths[i] << ": " << s.message();
  }
  return input;
}

// Rows of output 0 for `input`, in chunks of the engine's max batch on one context.
std::vector<std::vector<float>> run_rows(const Engine& engine, ExecutionContext& ctx, const Tensor& input) {
  const int64_t n = input.shape()[0], sample = input.size() / n;
  std::vector<std::vector<float>> rows;
  for (int64_t first = 0; first < n; first += engine.max_batch()) {
    const int batch = static_cast<int>(std::min<int64_t>(engine.max_batch(), n - first));
    auto out = ctx.run({input.data<float>() + first * sample, static_cast<size_t>(batch * sample)}, batch);
    EXPECT_TRUE(out.is_ok()) << out.status().message();
    if (!out.is_ok()) return rows;
    const size_t classes = out->size() / static_cast<size_t>(batch);
    for (int b = 0; b < batch; ++b)
      rows.emplace_back(out->begin() + static_cast<std::ptrdiff_t>(b * classes),
                        out->begin() + static_cast<std::ptrdiff_t>((b + 1) * classes));
  }
  return rows;
}

std::vector<std::vector<float>> run_rows(const Engine& engine, const Tensor& input) {
  auto ctx = engine.create_context();
  EXPECT_TRUE(ctx.is_ok()) << ctx.status().message();
  return run_rows(engine, **ctx, input);
}

std::vector<int> top5(const std::vector<float>& row) {
  std::vector<int> out;
  for (const auto& p : top_k(row, 5, {})) out.push_back(p.index);
  return out;
}

TEST(CudaSqueezeNet, Fp32Top5EqualsTheCpuOnEveryBundledPhoto) {
  REQUIRE_GPU();
  const auto photos = bundled_photos();
  const auto& cpu = squeezenet("cpu", "fp32");
  const auto& gpu = squeezenet("cuda", "fp32");
  const Tensor input = preprocess_all(cpu, photos);
  const auto want = run_rows(*cpu.engine, input), got = run_rows(*gpu.engine, input);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < photos.size(); ++i) {
    EXPECT_EQ(top5(got[i]), top5(want[i])) << photos[i];
    for (size_t c = 0; c < want[i].size(); ++c) ASSERT_NEAR(got[i][c], want[i][c], 1e-3) << photos[i] << " class " << c;
  }
}

TEST(CudaSqueezeNet, Fp16Top5EqualsTheCpuOnEveryBundledPhoto) {
  REQUIRE_GPU();
  const auto photos = bundled_photos();
  const auto& cpu = squeezenet("cpu", "fp32");
  const auto& gpu = squeezenet("cuda", "fp16");
  const Tensor input = preprocess_all(cpu, photos);
  const auto want = run_rows(*cpu.engine, input), got = run_rows(*gpu.engine, input);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < photos.size(); ++i) {
    // The same five classes in the same order, except that classes whose fp32
    // probabilities lie within 0.02 may swap places (caffe/cat.jpg on the CPU: tiger cat
    // 0.3956, tabby 0.3929; fp16 on the GPU put tabby first).
    const auto want_top = top_k(want[i], 5, {});
    auto a = top5(got[i]), b = top5(want[i]);
    for (size_t k = 0; k < 5; ++k) {
      const bool tied_with_next = k + 1 < 5 && want_top[k].confidence - want_top[k + 1].confidence < 0.02f;
      const bool tied_with_prev = k > 0 && want_top[k - 1].confidence - want_top[k].confidence < 0.02f;
      if (tied_with_next || tied_with_prev) continue;
      EXPECT_EQ(a[k], b[k]) << photos[i] << " rank " << k;
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << photos[i];
  }
}

TEST(CudaSqueezeNet, Fp16AgreesWithFp32OnTheImageNetSample) {
  REQUIRE_GPU();
  const auto expected = read_ort_predictions();
  if (expected.empty()) GTEST_SKIP() << "the ImageNet sample is not in " << test::assets_dir();
  std::vector<std::string> paths;
  for (const auto& e : expected) paths.push_back(test::assets_dir() + "/images/imagenet_sample/" + e.file);
  const auto& fp32 = squeezenet("cuda", "fp32");
  const auto& fp16 = squeezenet("cuda", "fp16");
  const Tensor input = preprocess_all(fp32, paths);
  const auto a = run_rows(*fp32.engine, input), b = run_rows(*fp16.engine, input);
  ASSERT_EQ(a.size(), expected.size());
  ASSERT_EQ(b.size(), expected.size());
  int agree = 0, right32 = 0, right16 = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const int t32 = top5(a[i])[0], t16 = top5(b[i])[0];
    agree += t32 == t16;
    right32 += t32 == expected[i].ground_truth;
    right16 += t16 == expected[i].ground_truth;
  }
  const double n = static_cast<double>(expected.size());
  std::cout << "imagenet sample on the GPU: fp16/fp32 top-1 agreement " << 100.0 * agree / n << "%, accuracy fp32 "
            << 100.0 * right32 / n << "%, fp16 " << 100.0 * right16 / n << "%\n";
  EXPECT_GE(100.0 * agree / n, 99.0);
  EXPECT_LE(std::fabs(100.0 * (right32 - right16) / n), 0.5);
}

// tools/models/gen_models.py's architectures (random weights), when bench/gpu.sh generated
// them into $INFERD_GENERATED_MODELS: the GPU's fp32 top-5 equals the CPU's on random input.
TEST(CudaGeneratedModels, Fp32Top5EqualsTheCpu) {
  REQUIRE_GPU();
  const char* dir = std::getenv("INFERD_GENERATED_MODELS");
  if (dir == nullptr || !std::filesystem::is_directory(dir)) GTEST_SKIP() << "INFERD_GENERATED_MODELS is not set";
  auto cpu = create_backend("cpu", {}).value();
  auto gpu = create_backend("cuda", {}).value();
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".onnx") continue;
    SCOPED_TRACE(entry.path().string());
    ++models;
    auto cpu_plan = build_plan(entry.path().string(), *cpu, {4, "fp32"});
    auto gpu_plan = build_plan(entry.path().string(), *gpu, {4, "fp32"});
    ASSERT_TRUE(cpu_plan.is_ok()) << cpu_plan.status().message();
    ASSERT_TRUE(gpu_plan.is_ok()) << gpu_plan.status().message();
    auto cpu_engine = Engine::create(std::move(cpu_plan->plan), cpu).value();
    auto gpu_engine = Engine::create(std::move(gpu_plan->plan), gpu);
    ASSERT_TRUE(gpu_engine.is_ok()) << gpu_engine.status().message();
    Shape shape = cpu_engine->inputs()[0].shape;
    shape[0] = 4;
    const Tensor input = test::random_tensor(shape, 7);
    const auto want = run_rows(*cpu_engine, input), got = run_rows(**gpu_engine, input);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(top5(got[i]), top5(want[i])) << "sample " << i;
  }
  EXPECT_GT(models, 0) << "no .onnx in " << dir;
}

TEST(CudaEngine, GraphReplayEqualsEagerExecution) {
  REQUIRE_GPU();
  const auto& m = squeezenet("cuda", "fp16");
  const Tensor input = preprocess_all(m, {test::source_dir() + "/images/1.jpg", test::source_dir() + "/images/2.jpg"});
  auto eager = m.engine->create_context().value();
  eager->set_use_graphs(false);
  auto graphed = m.engine->create_context().value();
  const auto want = run_rows(*m.engine, *eager, input);
  for (int run = 0; run < 4; ++run) {  // eager, then captured, then replayed
    const auto got = run_rows(*m.engine, *graphed, input);
    EXPECT_EQ(got, want) << "run " << run;
  }
}

// A batch of 3 runs as 4 (squeezenet's engine: max batch 32, sizes 1,2,4,...,32); the
// padded row holds what the previous, different batch of 4 left there, and must not leak
// into the 3 real rows, which must equal each photo run alone.
TEST(CudaEngine, PaddedBatchesKeepTheirRealRows) {
  REQUIRE_GPU();
  const auto& m = squeezenet("cuda", "fp16");
  EXPECT_EQ(m.engine->run_batches(), (std::vector<int>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(m.engine->run_batch(3), 4);
  EXPECT_EQ(m.engine->run_batch(17), 32);
  const auto photos = bundled_photos();
  ASSERT_GE(photos.size(), 4u);
  auto ctx = m.engine->create_context().value();
  ASSERT_TRUE(ctx->prepare().is_ok());
  const Tensor four = preprocess_all(m, {photos[3], photos[2], photos[1], photos[0]});
  (void)run_rows(*m.engine, *ctx, four);
  const Tensor three = preprocess_all(m, {photos[0], photos[1], photos[2]});
  const auto got = run_rows(*m.engine, *ctx, three);
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto alone = run_rows(*m.engine, *ctx, preprocess_all(m, {photos[i]}));
    ASSERT_EQ(alone.size(), 1u);
    for (size_t k = 0; k < alone[0].size(); ++k) EXPECT_NEAR(got[i][k], alone[0][k], 2e-3f) << "photo " << i;
  }
}

TEST(CudaEngine, EightContextsInEightThreadsGiveTheSameAnswers) {
  REQUIRE_GPU();
  const auto& m = squeezenet("cuda", "fp16");
  const auto photos = bundled_photos();
  const Tensor input = preprocess_all(m, photos);
  const auto want = run_rows(*m.engine, input);
  std::vector<std::vector<std::vector<float>>> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      auto ctx = m.engine->create_context();
      if (!ctx.is_ok()) return;
      for (int round = 0; round < 5; ++round) got[t] = run_rows(*m.engine, **ctx, input);
    });
  for (auto& t : threads) t.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(got[t], want) << "thread " << t;
}

TEST(CudaEngine, PlanRoundTripGivesIdenticalOutputs) {
  REQUIRE_GPU();
  auto gpu = create_backend("cuda", {}).value();
  const std::string model = test::source_dir() + "/models/squeezenet/1/model.onnx";
  auto built = build_plan(model, *gpu, {8, "fp16"});
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  const std::string path = test::temp_dir() + "/squeezenet_fp16.plan";
  ASSERT_TRUE(save_plan(built->plan, path).is_ok());
  auto loaded = load_plan(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->node_choices, built->plan.node_choices);
  auto a = Engine::create(std::move(built->plan), gpu).value();
  auto b = Engine::create(std::move(loaded).value(), gpu).value();
  const Tensor input = test::random_tensor({3, 3, 224, 224}, 11, 0.0f, 255.0f);
  EXPECT_EQ(run_rows(*b, input), run_rows(*a, input));
}

TEST(CudaEngine, PlanForAnotherGpuIsRefusedSayingWhatToDo) {
  REQUIRE_GPU();
  auto gpu = create_backend("cuda", {}).value();
  auto built = build_plan(test::source_dir() + "/models/squeezenet/1/model.onnx", *gpu, {1, "fp16"});
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  Plan plan = std::move(built->plan);
  plan.header.target = "sm_80 cuda 13.0 cudnn 9.19.0 cublasLt 13.1.0";
  auto engine = Engine::create(std::move(plan), gpu);
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(engine.status().message().find("sm_80"), std::string::npos) << engine.status().message();
  EXPECT_NE(engine.status().message().find("inferd build"), std::string::npos) << engine.status().message();
}

TEST(CudaEngine, ACpuPlanIsRefusedByTheGpu) {
  REQUIRE_GPU();
  auto cpu = create_backend("cpu", {}).value();
  auto built = build_plan(test::source_dir() + "/models/squeezenet/1/model.onnx", *cpu, {1, "fp32"});
  ASSERT_TRUE(built.is_ok());
  auto engine = Engine::create(std::move(built->plan), create_backend("cuda", {}).value());
  ASSERT_FALSE(engine.is_ok());
  EXPECT_NE(engine.status().message().find("--backend cuda"), std::string::npos) << engine.status().message();
}

// An arena larger than the GPU's free memory is refused when the engine is created, naming
// the size, instead of failing at the first batch.
TEST(CudaEngine, ArenaLargerThanTheGpuIsRefusedAtCreate) {
  REQUIRE_GPU();
  auto gpu = create_backend("cuda", {}).value();
  Plan plan;
  plan.header.backend = "cuda";
  plan.header.target = gpu->device().target();
  plan.header.max_batch = 4096;
  ir::Graph& g = plan.graph;
  ir::Value v;
  v.shape = {kDynamicDim, int64_t{1} << 31};
  v.name = "x";
  const auto x = g.add_value(v);
  v.name = "y";
  const auto y = g.add_value(v);
  g.add_node({"relu", ir::OpKind::kRelu, {x}, {y}, {}});
  g.inputs = {x};
  g.outputs = {y};
  auto engine = Engine::create(std::move(plan), gpu);
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(engine.status().message().find("bytes free on cuda:0"), std::string::npos) << engine.status().message();
}

TEST(CudaEngine, MissingGpuIndexIsAClearError) {
  REQUIRE_GPU();
  auto backend = create_backend("cuda", {0, 999});
  ASSERT_FALSE(backend.is_ok());
  EXPECT_NE(backend.status().message().find("999"), std::string::npos) << backend.status().message();
}

}  // namespace
}  // namespace inferd
