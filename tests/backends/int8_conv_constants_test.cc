// The constants a signed-int8 kernel runs an INT8 convolution with (backends/api/
// int8_conv_constants.h), checked on the CPU: for random inputs and weights on their grids,
// the convolution of the stored levels (an unsigned grid shifted by -128, the padding written
// as the level of 0) times the per-channel scale plus the corrected bias gives what the folded
// Conv means (the input rounded onto its grid, zero padding, the float weights), for strides,
// padding, dilation and groups, on both grids.
#include "backends/api/int8_conv_constants.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/quantize.h"

namespace inferd {
namespace {

struct Geometry {
  int n = 2, c = 8, h = 7, w = 6, m = 6, k = 3, stride = 1, pad = 1, dilation = 1, group = 1;
  int out(int size) const { return (size + 2 * pad - dilation * (k - 1) - 1) / stride + 1; }
};

struct Case {
  Geometry g;
  std::vector<float> x, w, bias, weight_scales;
  float input_scale = 0.05f;
  int qmin = 0, qmax = 255;
};

// NCHW input, [M, C/g, k, k] weights on a per-channel int8 grid, a bias.
Case make_case(const Geometry& g, bool is_unsigned, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(is_unsigned ? -0.5f : -8.0f, 8.0f), scale(0.001f, 0.02f);
  std::uniform_int_distribution<int> level(-127, 127);
  Case c;
  c.g = g;
  c.qmin = is_unsigned ? 0 : -128;
  c.qmax = is_unsigned ? 255 : 127;
  c.x.resize(size_t(g.n) * g.c * g.h * g.w);
  for (float& v : c.x) v = value(rng);
  const int per = g.c / g.group * g.k * g.k;
  for (int m = 0; m < g.m; ++m) {
    c.weight_scales.push_back(scale(rng));
    c.bias.push_back(value(rng));
    for (int i = 0; i < per; ++i) c.w.push_back(static_cast<float>(level(rng)) * c.weight_scales.back());
  }
  return c;
}

// What the folded Conv means, in double: X rounded onto its grid, zero padding, W and B as given.
double meant(const Case& c, int n, int m, int oy, int ox) {
  const Geometry& g = c.g;
  const int cpg = g.c / g.group, group = m / (g.m / g.group);
  double sum = c.bias[size_t(m)];
  for (int ci = 0; ci < cpg; ++ci)
    for (int r = 0; r < g.k; ++r)
      for (int s = 0; s < g.k; ++s) {
        const int iy = oy * g.stride - g.pad + r * g.dilation, ix = ox * g.stride - g.pad + s * g.dilation;
        if (iy < 0 || ix < 0 || iy >= g.h || ix >= g.w) continue;
        const int channel = group * cpg + ci;
        const float xv = c.x[((size_t(n) * g.c + channel) * g.h + iy) * g.w + ix];
        const float q = quantized_level(xv, c.input_scale, float(c.qmin), float(c.qmax));
        sum += double(q) * c.input_scale * c.w[((size_t(m) * cpg + ci) * g.k + r) * g.k + s];
      }
  return sum;
}

// What a signed-int8 kernel computes: int32 sums over the stored levels of an input padded
// explicitly with the level of 0 (-offset), then acc * scale + bias in float.
float computed(const Case& c, const Int8ConvConstants& k, int n, int m, int oy, int ox) {
  const Geometry& g = c.g;
  const int cpg = g.c / g.group, group = m / (g.m / g.group);
  int64_t acc = 0;
  for (int ci = 0; ci < cpg; ++ci)
    for (int r = 0; r < g.k; ++r)
      for (int s = 0; s < g.k; ++s) {
        const int iy = oy * g.stride - g.pad + r * g.dilation, ix = ox * g.stride - g.pad + s * g.dilation;
        int stored = -k.offset;  // the padding the kernel writes
        if (iy >= 0 && ix >= 0 && iy < g.h && ix < g.w) {
          const float xv = c.x[((size_t(n) * g.c + group * cpg + ci) * g.h + iy) * g.w + ix];
          stored = static_cast<int>(quantized_level(xv, c.input_scale, float(c.qmin), float(c.qmax))) - k.offset;
        }
        EXPECT_GE(stored, -128);
        EXPECT_LE(stored, 127);
        acc += int64_t(stored) * k.weight_levels[((size_t(m) * cpg + ci) * g.k + r) * g.k + s];
      }
  return static_cast<float>(acc) * k.scale[size_t(m)] + k.bias[size_t(m)];
}

void expect_exact_convolution(const Geometry& g, bool is_unsigned, uint32_t seed) {
  const Case c = make_case(g, is_unsigned, seed);
  Tensor w(DataType::kFloat32, {g.m, g.c / g.group, g.k, g.k});
  std::copy(c.w.begin(), c.w.end(), w.floats().begin());
  auto k = int8_conv_constants(w, c.bias, c.input_scale, c.qmin, c.qmax, c.weight_scales);
  ASSERT_TRUE(k.is_ok()) << k.status().message();
  EXPECT_EQ(k->offset, is_unsigned ? 128 : 0);
  double worst = 0;
  for (int n = 0; n < g.n; ++n)
    for (int m = 0; m < g.m; ++m)
      for (int oy = 0; oy < g.out(g.h); ++oy)
        for (int ox = 0; ox < g.out(g.w); ++ox) {
          const double want = meant(c, n, m, oy, ox);
          worst = std::max(worst, std::fabs(computed(c, *k, n, m, oy, ox) - want) / (1.0 + std::fabs(want)));
        }
  // float's rounding of acc * scale + bias only: the sums themselves are exact integers.
  EXPECT_LT(worst, 1e-5) << "k=" << g.k << " stride=" << g.stride << " pad=" << g.pad << " dilation=" << g.dilation
                         << " group=" << g.group << (is_unsigned ? " uint8" : " int8");
}

TEST(Int8ConvConstants, ShiftedLevelsWithTheirPaddingGiveTheFoldedConvolution) {
  uint32_t seed = 1;
  for (bool is_unsigned : {true, false}) {
    expect_exact_convolution({}, is_unsigned, seed++);                                  // 3x3, pad 1
    expect_exact_convolution({2, 8, 9, 9, 6, 3, 2, 1, 1, 1}, is_unsigned, seed++);      // stride 2
    expect_exact_convolution({2, 16, 5, 5, 8, 1, 1, 0, 1, 1}, is_unsigned, seed++);     // 1x1
    expect_exact_convolution({1, 8, 11, 10, 4, 5, 1, 2, 1, 1}, is_unsigned, seed++);    // 5x5, pad 2
    expect_exact_convolution({1, 8, 12, 12, 4, 3, 1, 2, 2, 1}, is_unsigned, seed++);    // dilation 2
    expect_exact_convolution({2, 8, 6, 6, 6, 3, 1, 1, 1, 2}, is_unsigned, seed++);      // 2 groups
    expect_exact_convolution({1, 4, 15, 15, 4, 7, 2, 3, 1, 1}, is_unsigned, seed++);    // 7x7 stride 2
  }
}

TEST(Int8ConvConstants, RefusesWhatNoSignedKernelCanRunExactly) {
  Tensor w(DataType::kFloat32, {2, 1, 1, 1});
  w.floats()[0] = 0.5f;
  w.floats()[1] = 0.25f;
  const std::vector<float> scales = {0.5f / 127, 0.25f / 127}, bias = {1.0f, 2.0f};
  EXPECT_TRUE(int8_conv_constants(w, bias, 0.1f, 0, 255, scales).is_ok());
  EXPECT_TRUE(int8_conv_constants(w, {}, 0.1f, -127, 127, scales).is_ok());
  const Status grid = int8_conv_constants(w, bias, 0.1f, -5, 5, scales).status();
  EXPECT_NE(grid.message().find("-128/-127..127 or 0..255"), std::string::npos) << grid.message();
  const Status count = int8_conv_constants(w, bias, 0.1f, 0, 255, {scales.data(), 1}).status();
  EXPECT_NE(count.message().find("1 weight scales for 2 output channels"), std::string::npos) << count.message();
  EXPECT_FALSE(int8_conv_constants(w, bias, 0.0f, 0, 255, scales).is_ok());
  w.floats()[1] = 0.2501f * 0.5f;  // off channel 1's grid
  const Status off = int8_conv_constants(w, bias, 0.1f, 0, 255, scales).status();
  EXPECT_NE(off.message().find("not on output channel 1's int8 grid"), std::string::npos) << off.message();
}

// A Conv without weight_scales reads its weights on their own per-channel grid, max|w| / 127,
// as the CPU backend does (the op harness's INT8 cases have none).
TEST(Int8ConvConstants, WithoutWeightScalesUsesEachChannelsOwnGrid) {
  Tensor w(DataType::kFloat32, {2, 1, 1, 2});
  const float values[] = {0.5f, -0.5f * 64 / 127, -0.125f, 0.125f * 3 / 127};  // on the grids
  std::copy(std::begin(values), std::end(values), w.floats().begin());
  auto k = int8_conv_constants(w, {}, 0.1f, -128, 127, {});
  ASSERT_TRUE(k.is_ok()) << k.status().message();
  EXPECT_FLOAT_EQ(k->scale[0], 0.1f * 0.5f / 127);
  EXPECT_FLOAT_EQ(k->scale[1], 0.1f * 0.125f / 127);
  EXPECT_EQ(k->weight_levels[0], 127);
  EXPECT_EQ(k->weight_levels[1], -64);
  EXPECT_EQ(k->weight_levels[2], -127);
}

}  // namespace
}  // namespace inferd
