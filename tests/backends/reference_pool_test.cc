// Pooling and normalisation kernels on hand-checked inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

ir::Attributes pool_attrs(int64_t kernel, int64_t stride, std::vector<int64_t> pads, int64_t ceil_mode,
                          int64_t count_include_pad = 0) {
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{kernel, kernel});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::move(pads));
  a.set("ceil_mode", ceil_mode);
  a.set("count_include_pad", count_include_pad);
  return a;
}

Tensor iota(const Shape& shape) {
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.floats()[i] = static_cast<float>(i + 1);
  return t;
}

const Tensor kX3x3 = iota({1, 1, 3, 3});  // 1..9
const Tensor kX4x4 = iota({1, 1, 4, 4});  // x[r][c] = 4r + c + 1

TEST(ReferenceMaxPool, CeilModeAddsAPartialWindow) {
  // kernel 3 stride 2 on 4x4: floor gives 1x1, ceil 2x2; the extra windows hang over the edge.
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMaxPool, pool_attrs(3, 2, {0, 0, 0, 0}, 0), {kX4x4}, {1, 1, 1, 1})),
            (std::vector<float>{11}));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMaxPool, pool_attrs(3, 2, {0, 0, 0, 0}, 1), {kX4x4}, {1, 1, 2, 2})),
            (std::vector<float>{11, 12, 15, 16}));
}

TEST(ReferenceMaxPool, PaddingNeverWins) {
  const Tensor negative = floats({1, 1, 2, 2}, {-1, -2, -3, -4});
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMaxPool, pool_attrs(2, 1, {1, 1, 1, 1}, 0), {negative}, {1, 1, 3, 3})),
            (std::vector<float>{-1, -1, -2, -1, -1, -2, -3, -3, -4}));
}

TEST(ReferenceAveragePool, CountIncludePadBothWays) {
  // kernel 2 stride 2 pads 1 on 3x3: windows {1}, {2,3}, {4,7}, {5,6,8,9}.
  EXPECT_EQ(values_of(run_kernel1(OpKind::kAveragePool, pool_attrs(2, 2, {1, 1, 1, 1}, 0, 1), {kX3x3}, {1, 1, 2, 2})),
            (std::vector<float>{0.25f, 1.25f, 2.75f, 7.0f}));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kAveragePool, pool_attrs(2, 2, {1, 1, 1, 1}, 0, 0), {kX3x3}, {1, 1, 2, 2})),
            (std::vector<float>{1.0f, 2.5f, 5.5f, 7.0f}));
}

TEST(ReferenceAveragePool, CeilModeWindowPastThePaddingIsNotCounted) {
  // No padding: the ceil_mode windows past the input divide by what they cover
  // (e.g. window (0,1) = rows 0..2, cols 2..3 = 45 / 6), in both modes.
  for (int64_t include_pad : {0, 1})
    EXPECT_EQ(values_of(run_kernel1(OpKind::kAveragePool, pool_attrs(3, 2, {0, 0, 0, 0}, 1, include_pad), {kX4x4},
                                    {1, 1, 2, 2})),
              (std::vector<float>{6.0f, 7.5f, 12.0f, 13.5f}))
        << "count_include_pad=" << include_pad;
  // pads 1: window (2,2) covers rows/cols 3..5 of which 3 is input, 4 padding, 5 beyond it.
  const Tensor incl = run_kernel1(OpKind::kAveragePool, pool_attrs(3, 2, {1, 1, 1, 1}, 1, 1), {kX4x4}, {1, 1, 3, 3});
  const Tensor excl = run_kernel1(OpKind::kAveragePool, pool_attrs(3, 2, {1, 1, 1, 1}, 1, 0), {kX4x4}, {1, 1, 3, 3});
  EXPECT_EQ(incl.floats()[8], 16.0f / 4.0f);
  EXPECT_EQ(excl.floats()[8], 16.0f);
  EXPECT_EQ(incl.floats()[0], (1.0f + 2 + 5 + 6) / 9.0f);  // top-left: 2x2 input taps of a 3x3 padded window
  EXPECT_EQ(excl.floats()[0], (1.0f + 2 + 5 + 6) / 4.0f);
}

TEST(ReferenceGlobalAveragePool, MeanOfEachPlane) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 11);
  const Tensor y = run_kernel1(OpKind::kGlobalAveragePool, {}, {x}, {2, 3, 1, 1});
  for (int64_t plane = 0; plane < 6; ++plane) {
    double total = 0;
    for (int64_t i = 0; i < 20; ++i) total += x.floats()[plane * 20 + i];
    EXPECT_NEAR(y.floats()[plane], total / 20, 1e-6) << plane;
  }
}

// ONNX LRN, one channel at a time, written from the spec's formula.
float lrn_formula(const std::vector<float>& x, size_t c, int64_t size, float alpha, float beta, float bias) {
  const auto lo = static_cast<int64_t>(c) - (size - 1) / 2;
  const auto hi = static_cast<int64_t>(c) + (size - 1 + 1) / 2;  // ceil((size-1)/2)
  double square_sum = 0;
  for (int64_t i = std::max<int64_t>(lo, 0); i <= std::min<int64_t>(hi, static_cast<int64_t>(x.size()) - 1); ++i)
    square_sum += static_cast<double>(x[static_cast<size_t>(i)]) * x[static_cast<size_t>(i)];
  return static_cast<float>(x[c] / std::pow(bias + alpha / size * square_sum, beta));
}

TEST(ReferenceLRN, MatchesScalarFormulaOnFiveChannels) {
  const std::vector<float> x{1, -2, 3, 4, -5};
  for (int64_t size : {1, 2, 3, 4, 5}) {
    ir::Attributes a;
    a.set("size", size);
    a.set("alpha", 0.3f);
    a.set("beta", 0.75f);
    a.set("bias", 2.0f);
    const Tensor y = run_kernel1(OpKind::kLRN, a, {floats({1, 5, 1, 1}, x)}, {1, 5, 1, 1});
    for (size_t c = 0; c < 5; ++c)
      EXPECT_NEAR(y.floats()[c], lrn_formula(x, c, size, 0.3f, 0.75f, 2.0f), 1e-6) << "size " << size << " c " << c;
  }
  // One value by hand: size 3, channel 0 sums 1^2 + 2^2 = 5.
  ir::Attributes a;
  a.set("size", int64_t{3});
  a.set("alpha", 0.3f);
  a.set("beta", 0.75f);
  a.set("bias", 2.0f);
  const Tensor y = run_kernel1(OpKind::kLRN, a, {floats({1, 5, 1, 1}, x)}, {1, 5, 1, 1});
  EXPECT_NEAR(y.floats()[0], 1.0 / std::pow(2.0 + 0.1 * 5.0, 0.75), 1e-6);
}

TEST(ReferenceBatchNormalization, PerChannelAffine) {
  const Tensor x = random_tensor({2, 3, 2, 2}, 21);
  const Tensor scale = floats({3}, {1.5f, -2.0f, 0.5f});
  const Tensor bias = floats({3}, {0.1f, 0.2f, -0.3f});
  const Tensor mean = floats({3}, {0.5f, -0.25f, 0.0f});
  const Tensor var = floats({3}, {4.0f, 0.25f, 1.0f});
  ir::Attributes a;
  a.set("epsilon", 1e-3f);
  const Tensor y = run_kernel1(OpKind::kBatchNormalization, a, {x, scale, bias, mean, var}, x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    const size_t c = static_cast<size_t>((i / 4) % 3);
    const float expected =
        scale.floats()[c] * (x.floats()[i] - mean.floats()[c]) / std::sqrt(var.floats()[c] + 1e-3f) + bias.floats()[c];
    EXPECT_NEAR(y.floats()[i], expected, 1e-5) << i;
  }
}

}  // namespace
}  // namespace inferd::test
