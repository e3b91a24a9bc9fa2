// Engine / ExecutionContext contracts: batch sizes on one plan, many contexts on
// one engine running at once, clear errors for bad batches.
#include <gtest/gtest.h>

#include <thread>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "runtime/engine.h"
#include "support/model_env.h"
#include "support/test_util.h"

namespace inferd {
namespace {

std::shared_ptr<const Engine> squeezenet_engine(int max_batch) {
  auto backend = create_backend("cpu", {}).value();
  auto built = build_plan(test::source_dir() + "/models/squeezenet/1/model.onnx", *backend, {max_batch, "fp32"});
  EXPECT_TRUE(built.is_ok()) << built.status().message();
  return Engine::create(std::move(built->plan), backend).value();
}

TEST(ExecutionContext, EveryBatchSizeGivesThePerSampleResults) {
  const auto engine = squeezenet_engine(4);
  auto ctx = engine->create_context().value();
  const Tensor input = test::random_tensor(ctx->input_shape(0, 4), 3, -120.0f, 120.0f);
  const auto all = ctx->run(input.floats(), 4).value();
  const size_t sample_in = static_cast<size_t>(input.size() / 4), sample_out = all.size() / 4;
  for (int batch : {1, 3, 2}) {  // shrinking and growing on the same context
    const auto out = ctx->run(input.floats().first(sample_in * static_cast<size_t>(batch)), batch).value();
    ASSERT_EQ(out.size(), sample_out * static_cast<size_t>(batch));
    for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], all[i], 1e-6f) << "batch " << batch << " at " << i;
  }
}

TEST(ExecutionContext, ContextsOnOneEngineRunConcurrently) {
  const auto engine = squeezenet_engine(2);
  constexpr int kThreads = 4;
  std::vector<Tensor> inputs;
  std::vector<std::vector<float>> expected;
  {
    auto ctx = engine->create_context().value();
    for (int t = 0; t < kThreads; ++t) {
      inputs.push_back(test::random_tensor(ctx->input_shape(0, 2), 100 + t, -120.0f, 120.0f));
      expected.push_back(ctx->run(inputs.back().floats(), 2).value());
    }
  }
  std::vector<std::vector<float>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto ctx = engine->create_context().value();
      for (int repeat = 0; repeat < 5; ++repeat) got[t] = ctx->run(inputs[t].floats(), 2).value();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(got[t], expected[t]) << "thread " << t;
}

// On the CPU every batch size builds its own primitives; their temporaries share the
// context's workspace, which prepare() sizes at max_batch: running every size afterwards
// (a server meeting every batch size) grows nothing, and the results stay right.
TEST(ExecutionContext, PrepareSizesTheWorkspaceForEveryBatch) {
  const auto engine = squeezenet_engine(8);
  auto ctx = engine->create_context().value();
  const size_t before_prepare = ctx->device_bytes();
  ASSERT_TRUE(ctx->prepare().is_ok());
  const size_t prepared = ctx->device_bytes();
  EXPECT_GT(prepared, before_prepare) << "the max-batch primitives need a workspace";
  const Tensor input = test::random_tensor(ctx->input_shape(0, 8), 5, -120.0f, 120.0f);
  const auto all = ctx->run(input.floats(), 8).value();
  const size_t sample_in = static_cast<size_t>(input.size() / 8), sample_out = all.size() / 8;
  for (int batch = 1; batch <= 8; ++batch) {
    const auto out = ctx->run(input.floats().first(sample_in * static_cast<size_t>(batch)), batch).value();
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], all[i], 1e-5f) << "batch " << batch << " at " << i;
    EXPECT_EQ(ctx->device_bytes(), prepared) << "batch " << batch;
  }
  EXPECT_GE(sample_out, 1000u);
}

TEST(ExecutionContext, RejectsBatchesOutsideThePlan) {
  const auto engine = squeezenet_engine(2);
  auto ctx = engine->create_context().value();
  EXPECT_EQ(ctx->execute(3).message(), "batch 3 is outside 1..2");
  EXPECT_EQ(ctx->execute(0).message(), "batch 0 is outside 1..2");
  const std::vector<float> wrong(10, 1.0f);
  EXPECT_EQ(ctx->run(wrong, 1).status().message(), "input has 10 values, expected 150528 for batch 1");
}

}  // namespace
}  // namespace inferd
