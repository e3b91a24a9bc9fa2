// FP8 E4M3 (core/fp8.h): the codes' values (ONNX's FLOAT8E4M3FN, what FP8 Q/DQ models
// store) against the format's table, the code of a value, and the rounding FakeQuantize with
// format "e4m3" computes on every backend: against the 256 codes (nearest value, ties to the
// even code, saturation at 448), by hand on known values, and through the elementwise
// activation that the CUDA kernel applies.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp8.h"
#include "ir/activation.h"

namespace inferd {
namespace {

// The finite non-negative values, ascending, with their codes (to tell the even one).
std::vector<std::pair<float, int>> positive_values() {
  std::vector<std::pair<float, int>> v;
  for (int c = 0; c < 0x7F; ++c) v.push_back({e4m3_to_float(static_cast<uint8_t>(c)), c});
  return v;
}

// The nearest value by brute force, ties to the even code, saturated at 448.
float nearest_e4m3(float x) {
  const float a = std::fabs(x);
  float best = 0, best_error = INFINITY;
  int best_code = 0;
  for (const auto& [value, code] : positive_values()) {
    const float error = std::fabs(value - a);
    if (error < best_error || (error == best_error && code % 2 == 0 && best_code % 2 == 1))
      best = value, best_error = error, best_code = code;
  }
  return std::copysign(best, x);
}

TEST(E4m3Codes, DecodeAsTheFormatsTableSays) {
  EXPECT_EQ(e4m3_to_float(0x00), 0.0f);
  EXPECT_EQ(e4m3_to_float(0x01), 0.001953125f);  // the smallest subnormal, 2^-9
  EXPECT_EQ(e4m3_to_float(0x07), 0.013671875f);  // the largest subnormal, 7 x 2^-9
  EXPECT_EQ(e4m3_to_float(0x08), 0.015625f);     // the smallest normal, 2^-6
  EXPECT_EQ(e4m3_to_float(0x38), 1.0f);
  EXPECT_EQ(e4m3_to_float(0x3D), 1.625f);
  EXPECT_EQ(e4m3_to_float(0x7E), 448.0f);
  EXPECT_EQ(e4m3_to_float(0xB8), -1.0f);
  EXPECT_TRUE(std::signbit(e4m3_to_float(0x80)));  // -0
  EXPECT_TRUE(std::isnan(e4m3_to_float(0x7F)));
  EXPECT_TRUE(std::isnan(e4m3_to_float(0xFF)));
  for (int c = 1; c < 0x7F; ++c)
    EXPECT_LT(e4m3_to_float(static_cast<uint8_t>(c - 1)), e4m3_to_float(static_cast<uint8_t>(c))) << c;
}

TEST(E4m3Codes, EveryFiniteCodeIsTheCodeOfItsValue) {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7F) == 0x7F) continue;  // NaN
    EXPECT_EQ(e4m3_code(e4m3_to_float(static_cast<uint8_t>(c))), c) << c;
  }
  EXPECT_EQ(e4m3_code(1.0625f), 0x38);  // rounded first: a tie, to the even code (1.0)
  EXPECT_EQ(e4m3_code(1e6f), 0x7E);     // saturated
  EXPECT_EQ(e4m3_code(-1e6f), 0xFE);
  EXPECT_EQ(e4m3_code(0.0009f), 0x00);  // below half of 2^-9
}

TEST(E4m3Rounding, EveryCodeIsItsOwnRounding) {
  for (const auto& [value, code] : positive_values()) {
    EXPECT_EQ(round_to_e4m3(value), value) << code;
    EXPECT_EQ(round_to_e4m3(-value), -value) << code;
  }
  EXPECT_EQ(e4m3_to_float(0x7E), kE4m3Max);
}

TEST(E4m3Rounding, MatchesTheNearestCodeOnRandomValuesAndMidpoints) {
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> exponent(-12.0f, 9.5f);
  for (int i = 0; i < 20000; ++i) {
    const float x = (i % 2 ? 1 : -1) * std::exp2(exponent(rng));
    ASSERT_EQ(round_to_e4m3(x), nearest_e4m3(x)) << x;
  }
  // Every midpoint between neighbours is a tie: the even code wins.
  const auto v = positive_values();
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    const float mid = (v[k].first + v[k + 1].first) / 2;
    const float even = v[k].second % 2 == 0 ? v[k].first : v[k + 1].first;
    EXPECT_EQ(round_to_e4m3(mid), even) << mid;
  }
}

TEST(E4m3Rounding, HandValues) {
  EXPECT_EQ(round_to_e4m3(1.0625f), 1.0f);     // a tie: 1.0 (mantissa 000) over 1.125 (001)
  EXPECT_EQ(round_to_e4m3(1.1f), 1.125f);
  EXPECT_EQ(round_to_e4m3(0.3f), 0.3125f);     // [0.25, 0.5) in steps of 1/32
  EXPECT_EQ(round_to_e4m3(300.0f), 288.0f);    // [256, 448] in steps of 32
  EXPECT_EQ(round_to_e4m3(440.0f), 448.0f);
  EXPECT_EQ(round_to_e4m3(1e6f), 448.0f);      // saturated, not infinite
  EXPECT_EQ(round_to_e4m3(-1e6f), -448.0f);
  EXPECT_EQ(round_to_e4m3(0.001f), 0.001953125f);  // subnormal: 2^-9
  EXPECT_EQ(round_to_e4m3(0.0009765625f), 0.0f);   // half of 2^-9: a tie, to zero (even)
  EXPECT_EQ(round_to_e4m3(0.0f), 0.0f);
}

TEST(E4m3Rounding, FakeQuantizeWithFormatE4m3ScalesAroundIt) {
  ir::Attributes attrs;
  attrs.set("scale", 0.01f);
  attrs.set("format", std::string("e4m3"));
  auto act = ir::standalone_activation(ir::OpKind::kFakeQuantize, attrs);
  ASSERT_TRUE(act.is_ok()) << act.status().message();
  EXPECT_EQ(act->kind, ir::Activation::Kind::kFakeQuantizeE4m3);
  EXPECT_EQ(ir::op_kind_of(*act), ir::OpKind::kFakeQuantize);
  for (float x : {0.003f, -0.7f, 1.234f, 9.0f, -100.0f})
    EXPECT_EQ(ir::apply_activation(*act, x), round_to_e4m3(x / 0.01f) * 0.01f) << x;
  EXPECT_FLOAT_EQ(ir::apply_activation(*act, 100.0f), 4.48f);  // saturated at 448 x scale
  attrs.set("format", std::string("e5m2"));
  const auto refused = ir::standalone_activation(ir::OpKind::kFakeQuantize, attrs);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("format 'e5m2'"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace inferd
