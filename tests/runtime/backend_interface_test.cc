// The runtime interface as the CPU backend implements it: enqueue with bindings (in place
// or copied), wait, profiling through stream markers, the registry's device lists, and the
// errors a caller can make.
#include <gtest/gtest.h>

#include <cstring>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "runtime/engine.h"
#include "support/test_util.h"

namespace inferd {
namespace {

std::shared_ptr<const Engine> squeezenet_engine(int max_batch) {
  auto backend = create_backend("cpu", {}).value();
  auto built = build_plan(test::source_dir() + "/models/squeezenet/1/model.onnx", *backend, {max_batch, "fp32"});
  EXPECT_TRUE(built.is_ok()) << built.status().message();
  return Engine::create(std::move(built->plan), backend).value();
}

size_t count_of(const Shape& s) { return static_cast<size_t>(element_count(s)); }

TEST(Enqueue, BindingsFromTheCallerEqualExecuteThroughTheStaging) {
  const auto engine = squeezenet_engine(2);
  auto ctx = engine->create_context().value();
  const Tensor input = test::random_tensor(ctx->input_shape(0, 2), 5, -120.0f, 120.0f);
  const auto want = ctx->run(input.floats(), 2).value();

  // The caller's own buffers: copied in and out by enqueue.
  std::vector<float> out(count_of(ctx->output_shape(0, 2)), -1.0f);
  const IoBinding in_binding{input.raw()}, out_binding{out.data()};
  ASSERT_TRUE(ctx->enqueue(2, std::span(&in_binding, 1), std::span(&out_binding, 1)).is_ok());
  ASSERT_TRUE(ctx->wait().is_ok());
  EXPECT_EQ(out, want);

  // Bound in place (the arena itself): nothing is copied, the result is the same.
  std::memcpy(ctx->device_input(0), input.raw(), input.byte_size());
  const IoBinding in_place{ctx->device_input(0)}, out_place{ctx->device_output(0)};
  ASSERT_TRUE(ctx->enqueue(2, std::span(&in_place, 1), std::span(&out_place, 1)).is_ok());
  ASSERT_TRUE(ctx->wait().is_ok());
  const auto* got = static_cast<const float*>(ctx->device_output(0));
  EXPECT_EQ(std::vector<float>(got, got + want.size()), want);
}

TEST(Enqueue, WrongBindingsAndBatchesAreRefusedSayingWhy) {
  const auto engine = squeezenet_engine(2);
  auto ctx = engine->create_context().value();
  const IoBinding in{ctx->device_input(0)}, out{ctx->device_output(0)};
  const Status none = ctx->enqueue(1, {}, std::span(&out, 1));
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.message().find("bound 0 inputs and 1 outputs; the engine has 1 and 1"), std::string::npos)
      << none.message();
  const Status big = ctx->enqueue(3, std::span(&in, 1), std::span(&out, 1));
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("batch 3 is outside 1..2"), std::string::npos) << big.message();
}

TEST(Enqueue, ProfilingTimesEveryNodeThroughStreamMarkers) {
  const auto engine = squeezenet_engine(1);
  auto ctx = engine->create_context().value();
  ctx->set_profiling(true);
  const Tensor input = test::random_tensor(ctx->input_shape(0, 1), 6, -120.0f, 120.0f);
  const auto profiled = ctx->run(input.floats(), 1).value();
  ASSERT_EQ(ctx->node_times_ms().size(), engine->graph().nodes().size());
  double total = 0;
  for (double ms : ctx->node_times_ms()) {
    EXPECT_GE(ms, 0.0);
    total += ms;
  }
  EXPECT_GT(total, 0.0);
  ctx->set_profiling(false);
  EXPECT_EQ(ctx->run(input.floats(), 1).value(), profiled);
}

TEST(Registry, DeviceListsNameWhatExists) {
  EXPECT_EQ(parse_device_list("cpu", "all").value(), std::vector<int>{0});
  EXPECT_EQ(parse_device_list("cpu", "0").value(), std::vector<int>{0});
  const auto missing = parse_device_list("cpu", "0,3");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("device 3 of the cpu backend does not exist"), std::string::npos)
      << missing.status().message();
  const auto junk = parse_device_list("cpu", "0,,x");
  ASSERT_FALSE(junk.is_ok());
  EXPECT_EQ(junk.status().code(), StatusCode::kInvalidArgument);
  const auto unknown = create_backend("tpu", {});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("backend 'tpu' is not available in this build (available: cpu"),
            std::string::npos)
      << unknown.status().message();
}

TEST(Registry, AutoIsTheCpuWithoutAGpu) {
  if (!backend_devices("cuda").empty()) GTEST_SKIP() << "this machine has a GPU";
  EXPECT_EQ(resolve_backend_name("auto"), "cpu");
  EXPECT_EQ(create_backend("auto", {}).value()->name(), "cpu");
}

TEST(Precision, TheCpuRefusesReducedPrecisionsNamingWhatItRuns) {
  auto cpu = create_backend("cpu", {}).value();
  EXPECT_EQ(cpu->activation_dtype("fp32").value(), DataType::kFloat32);
  auto built = build_plan(test::source_dir() + "/models/squeezenet/1/model.onnx", *cpu, {1, "fp16"});
  ASSERT_FALSE(built.is_ok());
  EXPECT_EQ(built.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(built.status().message().find("the cpu backend runs fp32 only, not fp16"), std::string::npos)
      << built.status().message();
}

}  // namespace
}  // namespace inferd
