#include "plan/plan.h"

#include <gtest/gtest.h>

#include "builder/builder.h"
#include "core/version.h"
#include "runtime/backend_registry.h"
#include "runtime/engine.h"
#include "support/model_env.h"
#include "support/test_util.h"

namespace inferd {
namespace {

class PlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_test_backends();
    backend_ = create_backend("cpu", {}).value();
    auto built = build_plan(test::source_dir() + "/models/squeezenet/1/model.onnx", *backend_, {4, "fp32"});
    ASSERT_TRUE(built.is_ok()) << built.status().message();
    plan_ = new Plan(std::move(built->plan));
  }
  static void TearDownTestSuite() { delete plan_; }

  static std::vector<float> run(const Plan& plan) {
    auto engine = Engine::create(plan, backend_);
    EXPECT_TRUE(engine.is_ok()) << engine.status().message();
    auto ctx = (*engine)->create_context().value();
    const Tensor input = test::random_tensor(ctx->input_shape(0, 3), 11, -100.0f, 100.0f);
    return ctx->run(input.floats(), 3).value();
  }

  static inline std::shared_ptr<const Backend> backend_;
  static inline Plan* plan_ = nullptr;
};

TEST_F(PlanTest, RoundTripGivesIdenticalOutputs) {
  const auto bytes = serialize_plan(*plan_);
  auto loaded = deserialize_plan(bytes, "squeezenet.plan");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->header.max_batch, 4u);
  EXPECT_EQ(loaded->header.engine_version, kEngineVersion);
  EXPECT_EQ(loaded->graph.nodes().size(), plan_->graph.nodes().size());
  EXPECT_EQ(serialize_plan(*loaded), bytes);  // byte-stable
  EXPECT_EQ(run(*loaded), run(*plan_));
}

TEST_F(PlanTest, CorruptPayloadIsRejectedByChecksum) {
  auto bytes = serialize_plan(*plan_);
  bytes[bytes.size() / 2] ^= 0x40;
  auto loaded = deserialize_plan(bytes, "x.plan");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().message(), "x.plan: corrupt plan: checksum mismatch");
}

TEST_F(PlanTest, TruncatedPlanSaysSo) {
  auto bytes = serialize_plan(*plan_);
  bytes.resize(bytes.size() - 1000);
  auto loaded = deserialize_plan(bytes, "x.plan");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_NE(loaded.status().message().find("truncated plan"), std::string::npos) << loaded.status().message();
}

TEST_F(PlanTest, EveryTruncationFailsCleanly) {
  const auto bytes = serialize_plan(*plan_);
  for (size_t n = 0; n < 4096; n += 7) {
    auto loaded = deserialize_plan(std::span(bytes).first(n), "x.plan");
    EXPECT_FALSE(loaded.is_ok()) << n;
  }
}

TEST_F(PlanTest, WrongMagicAndVersionAreExplained) {
  auto bytes = serialize_plan(*plan_);
  auto not_plan = bytes;
  not_plan[0] = 'X';
  EXPECT_EQ(deserialize_plan(not_plan, "m.onnx").status().message(), "m.onnx: not an inferd plan (bad magic)");
  Plan old = *plan_;
  old.header.engine_version = "0.0.9";
  auto loaded = deserialize_plan(serialize_plan(old), "old.plan");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().message(), std::string("old.plan: plan built by inferd 0.0.9; this is ") + kEngineVersion +
                                           ": rebuild it with `inferd build`");
  auto future = bytes;
  future[8] = 9;  // format version
  EXPECT_NE(deserialize_plan(future, "f.plan").status().message().find("format version 9"), std::string::npos);
}

TEST_F(PlanTest, RandomByteFlipsNeverCrash) {
  const auto bytes = serialize_plan(*plan_);
  uint32_t seed = 1;
  for (int i = 0; i < 200; ++i) {
    auto copy = bytes;
    seed = seed * 1664525u + 1013904223u;
    copy[seed % std::min<size_t>(copy.size(), 200)] ^= static_cast<uint8_t>(1 + (seed >> 24) % 255);
    (void)deserialize_plan(copy, "x.plan");  // must return, error or not
  }
}

}  // namespace
}  // namespace inferd
