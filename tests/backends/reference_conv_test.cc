// Conv, ConvTranspose, Gemm, MatMul and the fused activations: hand-checked numbers, plus
// Conv against an independent im2col + matrix-multiply formulation and ConvTranspose
// against zero insertion + the reference Conv with flipped, transposed weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

ir::Attributes conv_attrs(std::vector<int64_t> strides, std::vector<int64_t> pads, std::vector<int64_t> dilations,
                          int64_t group) {
  ir::Attributes a;
  a.set("strides", std::move(strides));
  a.set("pads", std::move(pads));
  a.set("dilations", std::move(dilations));
  a.set("group", group);
  return a;
}

const Tensor kX3x3 = floats({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});

TEST(ReferenceConv, TwoByTwoKernelWithBias) {
  const Tensor w = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor b = floats({1}, {1});
  const Tensor y = run_kernel1(OpKind::kConv, conv_attrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 1), {kX3x3, w, b}, {1, 1, 2, 2});
  // 1*1+2*2+3*4+4*5 = 37, then the other three windows, plus bias 1.
  EXPECT_EQ(values_of(y), (std::vector<float>{38, 48, 68, 78}));
}

TEST(ReferenceConv, PaddingAndStride) {
  const Tensor ones = floats({1, 1, 3, 3}, std::vector<float>(9, 1.0f));
  const Tensor y = run_kernel1(OpKind::kConv, conv_attrs({2, 2}, {1, 1, 1, 1}, {1, 1}, 1), {kX3x3, ones}, {1, 1, 2, 2});
  // Each 3x3 window at stride 2 over the padded input sees one 2x2 corner of x.
  EXPECT_EQ(values_of(y), (std::vector<float>{12, 16, 24, 28}));
}

TEST(ReferenceConv, AsymmetricPadsShiftTheWindow) {
  const Tensor w = floats({1, 1, 1, 1}, {1});
  // pads top=1, left=0, bottom=0, right=1: output row 0 is padding, column 3 is padding.
  const Tensor y = run_kernel1(OpKind::kConv, conv_attrs({1, 1}, {1, 0, 0, 1}, {1, 1}, 1), {kX3x3, w}, {1, 1, 4, 4});
  EXPECT_EQ(values_of(y), (std::vector<float>{0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0}));
}

TEST(ReferenceConv, ResidualThenActivation) {
  const Tensor x = random_tensor({1, 2, 4, 4}, 1);
  const Tensor w = random_tensor({3, 2, 3, 3}, 2);
  const Tensor b = random_tensor({3}, 3);
  const Tensor r = random_tensor({1, 3, 4, 4}, 4, -2.0f, 2.0f);
  ir::Attributes attrs = conv_attrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
  const Tensor plain = run_kernel1(OpKind::kConv, attrs, {x, w, b}, {1, 3, 4, 4});
  attrs.set("activation", std::string("Clip"));
  attrs.set("min", 0.0f);
  attrs.set("max", 0.5f);
  const Tensor fused = run_kernel1(OpKind::kConv, attrs, {x, w, b, r}, {1, 3, 4, 4});
  Tensor expected = plain;
  int clipped = 0;
  for (int64_t i = 0; i < expected.size(); ++i) {
    const float v = plain.floats()[i] + r.floats()[i];
    expected.floats()[i] = std::fmin(std::fmax(v, 0.0f), 0.5f);
    clipped += v < 0.0f || v > 0.5f;
  }
  EXPECT_GT(clipped, 4);  // the activation really acts
  EXPECT_TRUE(near(fused, expected));
}

TEST(ReferenceActivation, EveryFusedActivationByName) {
  auto act = [](const std::string& name, float x, std::vector<std::pair<std::string, float>> params = {}) {
    ir::Attributes a;
    a.set("activation", name);
    for (auto& [k, v] : params) a.set(k, v);
    return ref::apply_activation(a, x);
  };
  EXPECT_EQ(act("Relu", -2.0f), 0.0f);
  EXPECT_EQ(act("Relu", 1.5f), 1.5f);
  EXPECT_EQ(act("Clip", 7.0f, {{"min", 0.0f}, {"max", 6.0f}}), 6.0f);
  EXPECT_EQ(act("Clip", -1.0f, {{"min", 0.0f}, {"max", 6.0f}}), 0.0f);
  EXPECT_FLOAT_EQ(act("LeakyRelu", -2.0f, {{"alpha", 0.1f}}), -0.2f);
  EXPECT_FLOAT_EQ(act("LeakyRelu", -2.0f), -0.02f);  // ONNX default alpha 0.01
  EXPECT_FLOAT_EQ(act("Sigmoid", 0.0f), 0.5f);
  EXPECT_FLOAT_EQ(act("Sigmoid", 2.0f), 1.0f / (1.0f + std::exp(-2.0f)));
  EXPECT_FLOAT_EQ(act("HardSigmoid", 1.0f), 0.7f);  // defaults alpha 0.2, beta 0.5
  EXPECT_FLOAT_EQ(act("HardSigmoid", 1.0f, {{"alpha", 0.5f}, {"beta", 0.25f}}), 0.75f);
  EXPECT_FLOAT_EQ(act("HardSwish", 3.0f), 3.0f);
  EXPECT_FLOAT_EQ(act("HardSwish", -3.0f), 0.0f);
  EXPECT_FLOAT_EQ(act("HardSwish", 1.0f), 1.0f * (1.0f / 6.0f + 0.5f));
  EXPECT_EQ(ref::apply_activation(ir::Attributes{}, -3.0f), -3.0f);  // no activation
  EXPECT_TRUE(std::isnan(act("Softplus", 1.0f)));                    // unknown names cannot pass silently
}

// The output spatial size of a convolution (ONNX, no ceil).
int64_t conv_out(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end) {
  return (in + pad_begin + pad_end - ((k - 1) * dilation + 1)) / stride + 1;
}

// Convolution as ONNX defines it, computed another way: per image and group, gather
// the receptive fields into columns (im2col), then multiply by the weight matrix.
Tensor conv_by_im2col(const Tensor& x, const Tensor& w, const Tensor& b, const std::vector<int64_t>& stride,
                      const std::vector<int64_t>& pads, const std::vector<int64_t>& dil, int64_t group) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t M = w.shape()[0], KH = w.shape()[2], KW = w.shape()[3];
  const int64_t OH = conv_out(H, KH, stride[0], dil[0], pads[0], pads[2]);
  const int64_t OW = conv_out(W, KW, stride[1], dil[1], pads[1], pads[3]);
  const int64_t cg = C / group, mg = M / group, rows = cg * KH * KW, cols = OH * OW;
  Tensor y(DataType::kFloat32, {N, M, OH, OW});
  const float* xs = x.data<float>();
  const float* ws = w.data<float>();
  float* ys = y.data<float>();
  std::vector<float> column(static_cast<size_t>(rows * cols));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < group; ++g) {
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t c = g * cg + r / (KH * KW), kh = (r / KW) % KH, kw = r % KW;
        for (int64_t p = 0; p < cols; ++p) {
          const int64_t ih = (p / OW) * stride[0] - pads[0] + kh * dil[0];
          const int64_t iw = (p % OW) * stride[1] - pads[1] + kw * dil[1];
          const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          column[static_cast<size_t>(r * cols + p)] = inside ? xs[((n * C + c) * H + ih) * W + iw] : 0.0f;
        }
      }
      for (int64_t mi = 0; mi < mg; ++mi) {
        const int64_t m = g * mg + mi;
        for (int64_t p = 0; p < cols; ++p) {
          float acc = b.floats()[static_cast<size_t>(m)];
          for (int64_t r = 0; r < rows; ++r) acc += ws[m * rows + r] * column[static_cast<size_t>(r * cols + p)];
          ys[(n * M + m) * cols + p] = acc;
        }
      }
    }
  return y;
}

TEST(ReferenceConv, MatchesIm2colOnRandomShapes) {
  std::mt19937 rng(2024);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t group = pick(1, 3), N = pick(1, 2), C = group * pick(1, 3), M = group * pick(1, 3);
    const int64_t KH = pick(1, 3), KW = pick(1, 3), H = pick(4, 9), W = pick(4, 9);
    const std::vector<int64_t> stride{pick(1, 2), pick(1, 2)}, dil{pick(1, 2), pick(1, 2)};
    const std::vector<int64_t> pads{pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2)};
    const Tensor x = random_tensor({N, C, H, W}, 100 + trial);
    const Tensor w = random_tensor({M, C / group, KH, KW}, 200 + trial);
    const Tensor b = random_tensor({M}, 300 + trial);
    const Tensor expected = conv_by_im2col(x, w, b, stride, pads, dil, group);
    const Tensor y = run_kernel1(OpKind::kConv, conv_attrs(stride, pads, dil, group), {x, w, b}, expected.shape());
    EXPECT_TRUE(near(y, expected)) << "trial " << trial << " group " << group << " x " << to_string(x.shape()) << " w "
                                   << to_string(w.shape());
  }
}

ir::Attributes deconv_attrs(std::vector<int64_t> strides, std::vector<int64_t> pads, std::vector<int64_t> dilations,
                            int64_t group, std::vector<int64_t> output_padding) {
  ir::Attributes a = conv_attrs(std::move(strides), std::move(pads), std::move(dilations), group);
  a.set("output_padding", std::move(output_padding));
  return a;
}

const Tensor kX2x2 = floats({1, 1, 2, 2}, {1, 2, 3, 4});

TEST(ReferenceConvTranspose, StrideEqualToKernelPaintsOneBlockPerPixel) {
  // Each input pixel paints its own 2x2 block, scaled by the kernel; output_padding adds a
  // last row and column that only the bias reaches.
  const Tensor w = floats({1, 1, 2, 2}, {1, 10, 100, 1000});
  const Tensor b = floats({1}, {0.5f});
  const Tensor y = run_kernel1(OpKind::kConvTranspose, deconv_attrs({2, 2}, {0, 0, 0, 0}, {1, 1}, 1, {1, 1}),
                               {kX2x2, w, b}, {1, 1, 5, 5});
  EXPECT_EQ(values_of(y), (std::vector<float>{1.5f,   10.5f,   2.5f,   20.5f,   0.5f,  //
                                              100.5f, 1000.5f, 200.5f, 2000.5f, 0.5f,  //
                                              3.5f,   30.5f,   4.5f,   40.5f,   0.5f,  //
                                              300.5f, 3000.5f, 400.5f, 4000.5f, 0.5f,  //
                                              0.5f,   0.5f,    0.5f,   0.5f,    0.5f}));
}

TEST(ReferenceConvTranspose, OverlappingTapsSumAndPadsCrop) {
  // Stride 1, a 2x2 kernel of ones: the full 3x3 output is [[1,3,2],[4,10,6],[3,7,4]];
  // pads top=1, left=1 crop the first row and column.
  const Tensor ones = floats({1, 1, 2, 2}, {1, 1, 1, 1});
  const Tensor full = run_kernel1(OpKind::kConvTranspose, deconv_attrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 1, {0, 0}),
                                  {kX2x2, ones}, {1, 1, 3, 3});
  EXPECT_EQ(values_of(full), (std::vector<float>{1, 3, 2, 4, 10, 6, 3, 7, 4}));
  const Tensor cropped = run_kernel1(OpKind::kConvTranspose, deconv_attrs({1, 1}, {1, 1, 0, 0}, {1, 1}, 1, {0, 0}),
                                     {kX2x2, ones}, {1, 1, 2, 2});
  EXPECT_EQ(values_of(cropped), (std::vector<float>{10, 6, 7, 4}));
}

// ConvTranspose computed another way: insert stride-1 zeros between the input pixels, then
// run the reference Conv (stride 1, the same dilation) with the kernel flipped in both
// spatial dims and its channel roles swapped per group, padded by dilation*(k-1) - pad on
// each side plus output_padding at the bottom/right.
Tensor conv_transpose_by_upsampled_conv(const Tensor& x, const Tensor& w, const Tensor& b,
                                        const std::vector<int64_t>& stride, const std::vector<int64_t>& pads,
                                        const std::vector<int64_t>& dil, int64_t group,
                                        const std::vector<int64_t>& extra) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t MG = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3], CG = C / group;
  const int64_t UH = stride[0] * (H - 1) + 1, UW = stride[1] * (W - 1) + 1;
  Tensor up(DataType::kFloat32, {N, C, UH, UW});
  std::fill(up.floats().begin(), up.floats().end(), 0.0f);
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t v = 0; v < W; ++v)
        up.floats()[(nc * UH + h * stride[0]) * UW + v * stride[1]] = x.floats()[(nc * H + h) * W + v];
  Tensor flipped(DataType::kFloat32, {group * MG, CG, KH, KW});
  for (int64_t g = 0; g < group; ++g)
    for (int64_t m = 0; m < MG; ++m)
      for (int64_t c = 0; c < CG; ++c)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw)
            flipped.floats()[(((g * MG + m) * CG + c) * KH + kh) * KW + kw] =
                w.floats()[(((g * CG + c) * MG + m) * KH + (KH - 1 - kh)) * KW + (KW - 1 - kw)];
  const int64_t eh = dil[0] * (KH - 1), ew = dil[1] * (KW - 1);
  const std::vector<int64_t> conv_pads{eh - pads[0], ew - pads[1], eh - pads[2] + extra[0], ew - pads[3] + extra[1]};
  const Shape out{N, group * MG, UH + eh - pads[0] - pads[2] + extra[0], UW + ew - pads[1] - pads[3] + extra[1]};
  return run_kernel1(OpKind::kConv, conv_attrs({1, 1}, conv_pads, dil, group), {up, flipped, b}, out);
}

TEST(ReferenceConvTranspose, MatchesZeroInsertionConvOnRandomShapes) {
  std::mt19937 rng(77);
  auto pick = [&](int lo, int hi) { return static_cast<int64_t>(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (int trial = 0; trial < 40; ++trial) {
    // The first trial pins the combination the task names: groups, stride 2, pads,
    // dilation 2, output_padding 1.
    const bool pinned = trial == 0;
    const int64_t group = pinned ? 2 : pick(1, 3), N = pick(1, 2), C = group * pick(1, 3), MG = pick(1, 3);
    const int64_t KH = pinned ? 3 : pick(1, 3), KW = pinned ? 2 : pick(1, 3), H = pick(2, 6), W = pick(2, 6);
    using Ints = std::vector<int64_t>;
    const Ints stride = pinned ? Ints{2, 2} : Ints{pick(1, 3), pick(1, 3)};
    const Ints dil = pinned ? Ints{2, 2} : Ints{pick(1, 2), pick(1, 2)};
    // Pads up to the dilated kernel's reach (the zero-insertion form needs no cropping);
    // output_padding below the stride or the dilation, as ONNX requires.
    const auto pad = [&](int64_t k, int64_t d) { return pick(0, static_cast<int>(d * (k - 1))); };
    const std::vector<int64_t> pads{pad(KH, dil[0]), pad(KW, dil[1]), pad(KH, dil[0]), pad(KW, dil[1])};
    std::vector<int64_t> extra{pick(0, static_cast<int>(std::max(stride[0], dil[0]) - 1)),
                               pick(0, static_cast<int>(std::max(stride[1], dil[1]) - 1))};
    if (pinned) extra = {1, 1};
    const Tensor x = random_tensor({N, C, H, W}, 400 + trial);
    const Tensor w = random_tensor({C, MG, KH, KW}, 500 + trial);
    const Tensor b = random_tensor({group * MG}, 600 + trial);
    const Tensor expected = conv_transpose_by_upsampled_conv(x, w, b, stride, pads, dil, group, extra);
    const Tensor y = run_kernel1(OpKind::kConvTranspose, deconv_attrs(stride, pads, dil, group, extra), {x, w, b},
                                 expected.shape());
    EXPECT_TRUE(near(y, expected)) << "trial " << trial << " group " << group << " x " << to_string(x.shape())
                                   << " w " << to_string(w.shape()) << " stride " << stride[0] << "x" << stride[1]
                                   << " dilation " << dil[0] << "x" << dil[1];
  }
}

TEST(ReferenceConvTranspose, FusedActivation) {
  const Tensor x = random_tensor({1, 2, 3, 3}, 31);
  const Tensor w = random_tensor({2, 3, 3, 3}, 32);
  const Tensor b = random_tensor({3}, 33);
  ir::Attributes attrs = deconv_attrs({2, 2}, {1, 1, 1, 1}, {1, 1}, 1, {1, 1});
  const Tensor plain = run_kernel1(OpKind::kConvTranspose, attrs, {x, w, b}, {1, 3, 6, 6});
  attrs.set("activation", std::string("Relu"));
  const Tensor fused = run_kernel1(OpKind::kConvTranspose, attrs, {x, w, b}, {1, 3, 6, 6});
  Tensor expected = plain;
  int negative = 0;
  for (float& v : expected.floats()) {
    negative += v < 0.0f;
    v = std::fmax(v, 0.0f);
  }
  EXPECT_GT(negative, 4);  // the activation really acts
  EXPECT_TRUE(identical(fused, expected));
}

ir::Attributes gemm_attrs(float alpha, float beta, int64_t trans_a, int64_t trans_b) {
  ir::Attributes a;
  a.set("alpha", alpha);
  a.set("beta", beta);
  a.set("transA", trans_a);
  a.set("transB", trans_b);
  return a;
}

const Tensor kA = floats({2, 3}, {1, 2, 3, 4, 5, 6});
const Tensor kB = floats({3, 2}, {1, 0, 0, 1, 1, 1});  // A*B = [[4, 5], [10, 11]]

TEST(ReferenceGemm, AlphaBetaAndBroadcastC) {
  const ir::Attributes attrs = gemm_attrs(2.0f, 0.5f, 0, 0);
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB, floats({}, {4})}, {2, 2})),
            (std::vector<float>{10, 12, 22, 24}));  // scalar C
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB, floats({2}, {2, 4})}, {2, 2})),
            (std::vector<float>{9, 12, 21, 24}));  // C [N] repeats down the rows
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB, floats({2, 1}, {2, 4})}, {2, 2})),
            (std::vector<float>{9, 11, 22, 24}));  // C [M,1] repeats along the columns
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB, floats({2, 2}, {2, 4, 6, 8})}, {2, 2})),
            (std::vector<float>{9, 12, 23, 26}));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB}, {2, 2})), (std::vector<float>{8, 10, 20, 22}));
}

TEST(ReferenceGemm, TransposedOperands) {
  const Tensor a_t = floats({3, 2}, {1, 4, 2, 5, 3, 6});
  const Tensor b_t = floats({2, 3}, {1, 0, 1, 0, 1, 1});
  const std::vector<float> expected{4, 5, 10, 11};
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, gemm_attrs(1, 1, 1, 0), {a_t, kB}, {2, 2})), expected);
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, gemm_attrs(1, 1, 0, 1), {kA, b_t}, {2, 2})), expected);
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, gemm_attrs(1, 1, 1, 1), {a_t, b_t}, {2, 2})), expected);
}

TEST(ReferenceGemm, FusedActivationKeepsGemmAlpha) {
  ir::Attributes attrs = gemm_attrs(-1.0f, 1.0f, 0, 0);
  attrs.set("activation", std::string("LeakyRelu"));
  attrs.set("activation_alpha", 0.5f);
  // -A*B = [[-4,-5],[-10,-11]]; LeakyRelu with 0.5, not Gemm's alpha -1.
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB}, {2, 2})), (std::vector<float>{-2, -2.5, -5, -5.5}));
  attrs.set("activation", std::string("Relu"));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGemm, attrs, {kA, kB}, {2, 2})), (std::vector<float>{0, 0, 0, 0}));
}

TEST(ReferenceMatMul, TwoDimensional) {
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMatMul, {}, {kA, kB}, {2, 2})), (std::vector<float>{4, 5, 10, 11}));
}

TEST(ReferenceMatMul, BroadcastBatchesMatchPerBatchGemm) {
  const Tensor a = random_tensor({2, 1, 3, 4}, 7);
  const Tensor b = random_tensor({3, 4, 5}, 8);
  const Tensor y = run_kernel1(OpKind::kMatMul, {}, {a, b}, {2, 3, 3, 5});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const Tensor ai = floats({3, 4}, {a.floats().begin() + i * 12, a.floats().begin() + (i + 1) * 12});
      const Tensor bj = floats({4, 5}, {b.floats().begin() + j * 20, b.floats().begin() + (j + 1) * 20});
      const Tensor expected = run_kernel1(OpKind::kGemm, gemm_attrs(1, 1, 0, 0), {ai, bj}, {3, 5});
      const Tensor got =
          floats({3, 5}, {y.floats().begin() + (i * 3 + j) * 15, y.floats().begin() + (i * 3 + j + 1) * 15});
      EXPECT_TRUE(identical(got, expected)) << i << "," << j;
    }
}

TEST(ReferenceMatMul, VectorOperands) {
  const Tensor v3 = floats({3}, {1, 2, 3});
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMatMul, {}, {v3, kB}, {2})), (std::vector<float>{4, 5}));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMatMul, {}, {kA, v3}, {2})), (std::vector<float>{14, 32}));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kMatMul, {}, {v3, v3}, {})), (std::vector<float>{14}));
}

}  // namespace
}  // namespace inferd::test
