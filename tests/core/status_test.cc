#include "core/status.h"

#include <gtest/gtest.h>

#include "core/tensor.h"

namespace inferd {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("expected a positive number, got " + std::to_string(x));
  return x;
}

Status twice(int x, int* out) {
  ASSIGN_OR_RETURN(int v, parse_positive(x));
  *out = 2 * v;
  return Status::ok();
}

TEST(Status, PropagatesErrorsWithContext) {
  int out = 0;
  EXPECT_TRUE(twice(3, &out).is_ok());
  EXPECT_EQ(out, 6);
  Status s = twice(-1, &out).with_context("config.toml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "config.toml: expected a positive number, got -1");
}

TEST(Tensor, HalfRoundTripIsExactForHalfValues) {
  for (uint32_t h = 0; h < 0x7c00; h += 7) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    EXPECT_EQ(float_to_half(f), h) << h;
  }
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
}

TEST(Tensor, ShapeToStringMarksDynamicBatch) {
  EXPECT_EQ(to_string(Shape{kDynamicDim, 3, 224, 224}), "[N,3,224,224]");
  EXPECT_EQ(element_count(Shape{kDynamicDim, 3, 2}, 4), 24);
}

}  // namespace
}  // namespace inferd
