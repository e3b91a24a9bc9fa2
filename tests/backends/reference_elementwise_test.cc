// Activations, broadcasting Add/Mul/Sum and Softmax on hand-checked inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

const Tensor kRamp = floats({1, 1, 1, 6}, {-4, -1, -0.5f, 0, 0.5f, 4});

std::vector<float> unary(OpKind op, const ir::Attributes& attrs = {}) {
  return values_of(run_kernel1(op, attrs, {kRamp}, kRamp.shape()));
}

TEST(ReferenceActivationOps, HandValues) {
  EXPECT_EQ(unary(OpKind::kRelu), (std::vector<float>{0, 0, 0, 0, 0.5f, 4}));
  ir::Attributes clip;
  clip.set("min", -1.0f);
  clip.set("max", 1.0f);
  EXPECT_EQ(unary(OpKind::kClip, clip), (std::vector<float>{-1, -1, -0.5f, 0, 0.5f, 1}));
  ir::Attributes leaky;
  leaky.set("alpha", 0.25f);
  EXPECT_EQ(unary(OpKind::kLeakyRelu, leaky), (std::vector<float>{-1, -0.25f, -0.125f, 0, 0.5f, 4}));
  ir::Attributes hard_sigmoid;
  hard_sigmoid.set("alpha", 0.25f);
  hard_sigmoid.set("beta", 0.5f);
  EXPECT_EQ(unary(OpKind::kHardSigmoid, hard_sigmoid), (std::vector<float>{0, 0.25f, 0.375f, 0.5f, 0.625f, 1}));
  const std::vector<float> hard_swish = unary(OpKind::kHardSwish);
  const std::vector<float> sigmoid = unary(OpKind::kSigmoid);
  const std::vector<float> tanh = unary(OpKind::kTanh);
  for (size_t i = 0; i < 6; ++i) {
    const float x = kRamp.floats()[i];
    EXPECT_FLOAT_EQ(hard_swish[i], x * std::fmin(1.0f, std::fmax(0.0f, x / 6.0f + 0.5f))) << x;
    EXPECT_FLOAT_EQ(sigmoid[i], 1.0f / (1.0f + std::exp(-x))) << x;
    EXPECT_FLOAT_EQ(tanh[i], std::tanh(x)) << x;
  }
}

TEST(ReferenceAdd, BroadcastsPerChannelBias) {
  const Tensor x = random_tensor({2, 3, 2, 2}, 31);
  const Tensor bias = floats({1, 3, 1, 1}, {10, 20, 30});
  const Tensor y = run_kernel1(OpKind::kAdd, {}, {x, bias}, x.shape());
  for (int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(y.floats()[i], x.floats()[i] + bias.floats()[(i / 4) % 3]) << i;
  // The same with the broadcast operand first and shorter rank ([C,1,1] aligns right).
  const Tensor y2 = run_kernel1(OpKind::kAdd, {}, {floats({3, 1, 1}, {10, 20, 30}), x}, x.shape());
  EXPECT_TRUE(identical(y2, y));
}

TEST(ReferenceMax, ThreeInputsWithBroadcasting) {
  // max([2,3] x, [3] per column, scalar) element by element.
  const Tensor x = floats({2, 3}, {-1, 5, 2, 7, -3, 0});
  const Tensor y = run_kernel1(OpKind::kMax, {}, {x, floats({3}, {0, 6, -5}), floats({1}, {1})}, {2, 3});
  EXPECT_EQ(std::vector<float>(y.floats().begin(), y.floats().end()), (std::vector<float>{1, 6, 2, 7, 6, 1}));
}

TEST(ReferenceFakeQuantize, RoundsHalfToEvenSaturatesAndHonoursTheZeroPoint) {
  // uint8 with zero point 3, scale 0.5: q = clamp(round_even(x / 0.5) + 3, 0, 255).
  ir::Attributes a;
  a.set("scale", 0.5f);
  a.set("zero_point", int64_t{3});
  a.set("qmin", int64_t{0});
  a.set("qmax", int64_t{255});
  const Tensor x = floats({8}, {0.25f, 0.75f, 1.1f, -1.4f, -1.6f, -10.0f, 200.0f, 0.0f});
  // 0.25/0.5 = 0.5 -> 0 (even); 1.5 -> 2; 2.2 -> 2; -2.8 -> -3; -3.2 -> -3 (q = 0);
  // -20 -> q = 0 (saturated: -1.5); 400 -> q = 255 (saturated: 126); 0 -> 0.
  EXPECT_EQ(values_of(run_kernel1(OpKind::kFakeQuantize, a, {x}, {8})),
            (std::vector<float>{0.0f, 1.0f, 1.0f, -1.5f, -1.5f, -1.5f, 126.0f, 0.0f}));
}

TEST(ReferenceMul, BothOperandsBroadcast) {
  // [2,1] * [1,3] -> [2,3]: an outer product.
  const Tensor y = run_kernel1(OpKind::kMul, {}, {floats({2, 1}, {2, 3}), floats({1, 3}, {1, 10, 100})}, {2, 3});
  EXPECT_EQ(values_of(y), (std::vector<float>{2, 20, 200, 3, 30, 300}));
  const Tensor scaled = run_kernel1(OpKind::kMul, {}, {floats({2, 1}, {2, 3}), floats({}, {-1})}, {2, 1});
  EXPECT_EQ(values_of(scaled), (std::vector<float>{-2, -3}));
}

TEST(ReferenceSum, ThreeInputsWithBroadcast) {
  const Tensor y = run_kernel1(
      OpKind::kSum, {}, {floats({2, 2}, {1, 2, 3, 4}), floats({2}, {10, 20}), floats({2, 1}, {100, 200})}, {2, 2});
  EXPECT_EQ(values_of(y), (std::vector<float>{111, 122, 213, 224}));
}

ir::Attributes softmax_attrs(int64_t axis, int64_t legacy_2d = 0) {
  ir::Attributes a;
  a.set("axis", axis);
  if (legacy_2d) a.set("legacy_2d", legacy_2d);
  return a;
}

TEST(ReferenceSoftmax, RowsSumToOneAndFollowTheFormula) {
  const Tensor x = random_tensor({3, 5}, 41, -5.0f, 5.0f);
  const Tensor y = run_kernel1(OpKind::kSoftmax, softmax_attrs(-1), {x}, x.shape());
  for (int64_t r = 0; r < 3; ++r) {
    double row_sum = 0, exp_sum = 0;
    for (int64_t c = 0; c < 5; ++c) exp_sum += std::exp(x.floats()[r * 5 + c]);
    for (int64_t c = 0; c < 5; ++c) {
      row_sum += y.floats()[r * 5 + c];
      EXPECT_NEAR(y.floats()[r * 5 + c], std::exp(x.floats()[r * 5 + c]) / exp_sum, 1e-6);
    }
    EXPECT_NEAR(row_sum, 1.0, 1e-6);
  }
}

TEST(ReferenceSoftmax, LargeInputsDoNotOverflow) {
  const Tensor y = run_kernel1(OpKind::kSoftmax, softmax_attrs(1), {floats({1, 2}, {1000, 1000})}, {1, 2});
  EXPECT_EQ(values_of(y), (std::vector<float>{0.5f, 0.5f}));
}

// Sums of y over the index sets produced by `key` (elements with equal keys form a group).
template <typename Key>
std::map<int64_t, double> group_sums(const Tensor& y, Key key) {
  std::map<int64_t, double> sums;
  for (int64_t i = 0; i < y.size(); ++i) sums[key(i)] += y.floats()[i];
  return sums;
}

TEST(ReferenceSoftmax, AxisOneOfFourDims) {
  const Tensor x = random_tensor({2, 3, 2, 2}, 42, -3.0f, 3.0f);
  const Tensor y = run_kernel1(OpKind::kSoftmax, softmax_attrs(-3), {x}, x.shape());  // -3 == axis 1
  // One group per (n, h, w): 8 groups of 3 channels.
  const auto sums = group_sums(y, [](int64_t i) { return (i / 12) * 4 + i % 4; });
  EXPECT_EQ(sums.size(), 8u);
  for (const auto& [group, s] : sums) EXPECT_NEAR(s, 1.0, 1e-6) << group;
}

TEST(ReferenceSoftmax, Legacy2dNormalisesAllTrailingDimsTogether) {
  const Tensor x = random_tensor({2, 3, 2, 2}, 43, -3.0f, 3.0f);
  const Tensor legacy = run_kernel1(OpKind::kSoftmax, softmax_attrs(1, 1), {x}, x.shape());
  // opset < 13: [2, 12] rows, one group per image.
  const auto sums = group_sums(legacy, [](int64_t i) { return i / 12; });
  EXPECT_EQ(sums.size(), 2u);
  for (const auto& [group, s] : sums) EXPECT_NEAR(s, 1.0, 1e-6) << group;
  // Equals softmax over the flattened [2, 12] tensor.
  const Tensor flat = run_kernel1(OpKind::kSoftmax, softmax_attrs(1), {x.reshaped({2, 12})}, {2, 12});
  EXPECT_TRUE(identical(legacy.reshaped({2, 12}), flat));
}

}  // namespace
}  // namespace inferd::test
