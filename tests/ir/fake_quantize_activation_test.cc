// FakeQuantize as an elementwise function (ir::apply_activation, what the CUDA backend's
// elementwise kernel computes for it) against core/quantize.h's formula, the reference
// kernel's: equal bit for bit on random values, saturation and ties included; refused
// parameters are errors.
#include <gtest/gtest.h>

#include <random>

#include "core/quantize.h"
#include "ir/activation.h"
#include "support/test_util.h"

namespace inferd {
namespace {

TEST(FakeQuantizeActivation, RoundsAsTheReferenceFormula) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (auto [scale, zero_point, qmin, qmax] : {std::tuple{0.01f, int64_t{0}, int64_t{0}, int64_t{255}},
                                               std::tuple{0.023f, int64_t{0}, int64_t{-128}, int64_t{127}},
                                               std::tuple{0.02f, int64_t{10}, int64_t{0}, int64_t{255}}}) {
    auto act =
        ir::standalone_activation(ir::OpKind::kFakeQuantize, test::fake_quantize_attrs(scale, zero_point, qmin, qmax));
    ASSERT_TRUE(act.is_ok()) << act.status().message();
    const float lo = float(qmin - zero_point), hi = float(qmax - zero_point);
    for (int i = 0; i < 10000; ++i) {
      // Every tenth value on a tie (half a step between two levels).
      const float x = i % 10 == 0 ? (float(i % 500) - 250.5f) * scale : value(rng);
      EXPECT_EQ(ir::apply_activation(*act, x), quantized_level(x, scale, lo, hi) * scale) << x;
    }
    EXPECT_EQ(ir::apply_activation(*act, 1e6f), hi * scale);  // saturated
    EXPECT_EQ(ir::apply_activation(*act, -1e6f), lo * scale);
  }
  // Half to even: 0.5 and 1.5 steps round to 0 and 2.
  auto act = ir::standalone_activation(ir::OpKind::kFakeQuantize, test::fake_quantize_attrs(0.5f, 0, -128, 127));
  ASSERT_TRUE(act.is_ok());
  EXPECT_EQ(ir::apply_activation(*act, 0.25f), 0.0f);
  EXPECT_EQ(ir::apply_activation(*act, 0.75f), 1.0f);
  EXPECT_EQ(ir::op_kind_of(*act), ir::OpKind::kFakeQuantize);
}

TEST(FakeQuantizeActivation, RefusesAGridThatIsNoGrid) {
  EXPECT_FALSE(
      ir::standalone_activation(ir::OpKind::kFakeQuantize, test::fake_quantize_attrs(0.0f, 0, 0, 255)).is_ok());
  EXPECT_FALSE(ir::standalone_activation(ir::OpKind::kFakeQuantize, test::fake_quantize_attrs(0.1f, 0, 5, 5)).is_ok());
  // FakeQuantize is no activation to fuse: Conv/Gemm never take it as theirs.
  ir::Attributes fused;
  fused.set("activation", std::string("FakeQuantize"));
  EXPECT_FALSE(ir::fused_activation(fused, false).is_ok());
}

}  // namespace
}  // namespace inferd
