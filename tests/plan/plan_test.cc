#include "plan/plan.h"

#include <gtest/gtest.h>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/version.h"
#include "runtime/engine.h"
#include "support/model_env.h"
#include "support/test_util.h"

namespace inferd {
namespace {

class PlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
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

// Per-node backend choices (what Backend::tune picked) travel with the plan, byte for byte.
TEST_F(PlanTest, BackendChoicesRoundTrip) {
  Plan plan = *plan_;
  plan.node_choices.assign(plan.graph.nodes().size(), {});
  plan.node_choices.front() = {1, 2, 3};
  plan.node_choices.back() = std::vector<uint8_t>(300, 0xab);
  auto loaded = deserialize_plan(serialize_plan(plan), "x.plan");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->node_choices, plan.node_choices);
  // A plan without choices stores one empty blob per node.
  Plan none = *plan_;
  none.node_choices.clear();
  auto empty = deserialize_plan(serialize_plan(none), "x.plan");
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty->node_choices, std::vector<std::vector<uint8_t>>(plan.graph.nodes().size()));
}

// Version-1 plans (before backend choices) are refused, saying to rebuild.
TEST_F(PlanTest, OlderFormatVersionIsRefusedSayingToRebuild) {
  auto bytes = serialize_plan(*plan_);
  bytes[8] = 1;  // the u32 format version after the 8-byte magic
  auto loaded = deserialize_plan(bytes, "old.plan");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(loaded.status().message().find("plan format version 1, this inferd reads version 2: rebuild it"),
            std::string::npos)
      << loaded.status().message();
}

// The header records the device it was built for, and the engine checks it.
TEST_F(PlanTest, TargetIsTheDevicesAndIsCheckedAtLoad) {
  EXPECT_EQ(plan_->header.target, backend_->device().target());
  Plan other = *plan_;
  other.header.target = "riscv64";
  auto engine = Engine::create(std::move(other), backend_);
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(engine.status().message().find("'riscv64'"), std::string::npos) << engine.status().message();
  EXPECT_NE(engine.status().message().find("rebuild the plan with `inferd build`"), std::string::npos);
}

TEST_F(PlanTest, PlanOfAnotherBackendIsRefusedNamingIt) {
  Plan other = *plan_;
  other.header.backend = "cuda";
  auto engine = Engine::create(std::move(other), backend_);
  ASSERT_FALSE(engine.is_ok());
  EXPECT_NE(engine.status().message().find("plan built for the cuda backend; this engine uses cpu"),
            std::string::npos)
      << engine.status().message();
}

}  // namespace
}  // namespace inferd
