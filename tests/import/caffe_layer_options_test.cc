// Caffe import, the layer options a published net may set: each small net is imported, run
// through the reference kernels on random non-zero inputs and checked against what Caffe
// computes for that layer, written out here loop by loop (Caffe's formulas, not the IR's).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "import/caffe_test_net.h"
#include "support/test_util.h"

namespace inferd {
namespace {

using test::blob;
using test::ramp;
using test::run_caffe;
using test::run_one;

// A [1, C, H, W] tensor's element.
float at(const Tensor& t, int64_t c, int64_t h, int64_t w) {
  const Shape& s = t.shape();
  return t.floats()[static_cast<size_t>((c * s[2] + h) * s[3] + w)];
}

struct Window {
  int64_t kh, kw, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

// Caffe's convolution (im2col + gemm) of a [1, C, H, W] input, group 1: weights
// [M, C, kh, kw], output (H + 2 ph - (dh (kh - 1) + 1)) / sh + 1 rounded down.
std::vector<float> caffe_conv(const Tensor& x, const std::vector<float>& w, const std::vector<float>& b, int64_t m,
                              const Window& k, Shape* out_shape) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = (H + 2 * k.ph - (k.dh * (k.kh - 1) + 1)) / k.sh + 1;
  const int64_t OW = (W + 2 * k.pw - (k.dw * (k.kw - 1) + 1)) / k.sw + 1;
  *out_shape = {1, m, OH, OW};
  std::vector<float> y;
  for (int64_t o = 0; o < m; ++o)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float acc = b[static_cast<size_t>(o)];
        for (int64_t c = 0; c < C; ++c)
          for (int64_t i = 0; i < k.kh; ++i)
            for (int64_t j = 0; j < k.kw; ++j) {
              const int64_t h = oh * k.sh - k.ph + i * k.dh, v = ow * k.sw - k.pw + j * k.dw;
              if (h < 0 || h >= H || v < 0 || v >= W) continue;
              acc += at(x, c, h, v) * w[static_cast<size_t>(((o * C + c) * k.kh + i) * k.kw + j)];
            }
        y.push_back(acc);
      }
  return y;
}

// Caffe's pooling: output size ceil((H + 2p - k) / s) + 1, less one when the last window
// would start inside the bottom padding; AVE divides by the window clipped to the padded
// input (padding counted), MAX takes the window clipped to the input.
std::vector<float> caffe_pool(const Tensor& x, bool max, const Window& k, Shape* out_shape) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const auto out_size = [](int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
    int64_t n = static_cast<int64_t>(std::ceil(static_cast<double>(in + 2 * pad - kernel) / stride)) + 1;
    if (pad > 0 && (n - 1) * stride >= in + pad) --n;
    return n;
  };
  const int64_t OH = out_size(H, k.kh, k.sh, k.ph), OW = out_size(W, k.kw, k.sw, k.pw);
  *out_shape = {1, C, OH, OW};
  std::vector<float> y;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t hs = oh * k.sh - k.ph, ws = ow * k.sw - k.pw;
        int64_t he = std::min(hs + k.kh, H + k.ph), we = std::min(ws + k.kw, W + k.pw);
        const auto padded_area = static_cast<float>((he - hs) * (we - ws));
        hs = std::max<int64_t>(hs, 0), ws = std::max<int64_t>(ws, 0);
        he = std::min(he, H), we = std::min(we, W);
        float acc = max ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (int64_t h = hs; h < he; ++h)
          for (int64_t v = ws; v < we; ++v) acc = max ? std::max(acc, at(x, c, h, v)) : acc + at(x, c, h, v);
        y.push_back(max ? acc : acc / padded_area);
      }
  return y;
}

void expect_values(const Tensor& got, const Shape& shape, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.shape(), shape) << what;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.floats()[i], want[i], 1e-4f) << what << " element " << i;
}

const std::string kInput = R"(input: "data" input_shape { dim: 1 dim: 2 dim: 7 dim: 8 } )";

// Two convolutions of one input: kernel_h/kernel_w, stride_h/stride_w, pad_h/pad_w (all
// unequal), and dilation 2 with kernel_size/pad. Each top no layer reads is an output.
TEST(CaffeLayerOptions, ConvolutionHeightWidthFormsAndDilation) {
  const std::string net = kInput + R"(
    layer { name: "hw" type: "Convolution" bottom: "data" top: "hw"
            convolution_param { num_output: 3 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 2 } }
    layer { name: "dil" type: "Convolution" bottom: "data" top: "dil"
            convolution_param { num_output: 2 kernel_size: 3 pad: 1 dilation: 2 } })";
  const std::vector<float> w_hw = ramp(3 * 2 * 3 * 2, -0.9f, 0.05f), b_hw{0.1f, -0.2f, 0.3f};
  const std::vector<float> w_dil = ramp(2 * 2 * 3 * 3, 0.7f, -0.04f), b_dil{-0.5f, 0.25f};
  const std::string weights = "layer { name: \"hw\" " + blob({3, 2, 3, 2}, w_hw) + blob({3}, b_hw) +
                              " } layer { name: \"dil\" " + blob({2, 2, 3, 3}, w_dil) + blob({2}, b_dil) + " }";
  const Tensor x = test::random_tensor({1, 2, 7, 8}, 21, -1.0f, 1.0f);
  auto y = run_caffe(net, weights, {x});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  ASSERT_EQ(y->size(), 2u);
  Shape shape;
  auto want = caffe_conv(x, w_hw, b_hw, 3, {.kh = 3, .kw = 2, .sh = 2, .sw = 1, .ph = 1, .pw = 2}, &shape);
  EXPECT_EQ(shape, (Shape{1, 3, 4, 11}));
  expect_values((*y)[0], shape, want, "kernel_h/_w");
  want = caffe_conv(x, w_dil, b_dil, 2, {.kh = 3, .kw = 3, .ph = 1, .pw = 1, .dh = 2, .dw = 2}, &shape);
  EXPECT_EQ(shape, (Shape{1, 2, 5, 6}));
  expect_values((*y)[1], shape, want, "dilation");
}

// transpose: true stores the weights as [K, num_output] (x W, not x W^T).
TEST(CaffeLayerOptions, InnerProductTransposeReadsKByNumOutputWeights) {
  const std::string net = kInput + R"(
    layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"
            inner_product_param { num_output: 5 transpose: true } })";
  const int64_t K = 2 * 7 * 8;
  const std::vector<float> w = ramp(static_cast<size_t>(K * 5), -1.0f, 0.0071f), b{0.5f, -0.5f, 0.25f, 0, 1};
  const Tensor x = test::random_tensor({1, 2, 7, 8}, 22, -1.0f, 1.0f);
  auto y = run_one(net, "layer { name: \"fc\" " + blob({K, 5}, w) + blob({5}, b) + " }", x);
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  std::vector<float> want(b);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < 5; ++n)
      want[static_cast<size_t>(n)] += x.floats()[static_cast<size_t>(k)] * w[static_cast<size_t>(k * 5 + n)];
  expect_values(*y, {1, 5}, want, "transposed InnerProduct");
}

TEST(CaffeLayerOptions, ReluNegativeSlopeScalesNegativeInputs) {
  const std::string net = kInput + R"(
    layer { name: "leaky" type: "ReLU" bottom: "data" top: "data" relu_param { negative_slope: 0.125 } })";
  const Tensor x = test::random_tensor({1, 2, 7, 8}, 23, -2.0f, 2.0f);
  auto y = run_one(net, "", x);
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  std::vector<float> want;
  for (float v : x.floats()) want.push_back(v > 0 ? v : 0.125f * v);
  expect_values(*y, x.shape(), want, "negative_slope");
}

// Two legacy inputs (input_shape each) multiplied element by element.
TEST(CaffeLayerOptions, EltwiseProdMultipliesItsInputs) {
  const std::string net = R"(
    input: "a" input_shape { dim: 1 dim: 2 dim: 3 dim: 4 }
    input: "b" input_shape { dim: 1 dim: 2 dim: 3 dim: 4 }
    layer { name: "prod" type: "Eltwise" bottom: "a" bottom: "b" top: "prod" eltwise_param { operation: PROD } })";
  const Tensor a = test::random_tensor({1, 2, 3, 4}, 24, -2.0f, 2.0f),
               b = test::random_tensor({1, 2, 3, 4}, 25, -2.0f, 2.0f);
  auto y = run_caffe(net, "", {a, b});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  std::vector<float> want;
  for (size_t i = 0; i < 24; ++i) want.push_back(a.floats()[i] * b.floats()[i]);
  expect_values((*y)[0], a.shape(), want, "PROD");
}

// Split hands its bottom to every top (here two, summed: 2x); Flatten keeps the values in
// order as [N, C*H*W].
TEST(CaffeLayerOptions, SplitFeedsEveryTopAndFlattenKeepsTheOrder) {
  const std::string net = kInput + R"(
    layer { name: "split" type: "Split" bottom: "data" top: "s1" top: "s2" }
    layer { name: "sum" type: "Eltwise" bottom: "s1" bottom: "s2" top: "sum" }
    layer { name: "flat" type: "Flatten" bottom: "sum" top: "flat" })";
  const Tensor x = test::random_tensor({1, 2, 7, 8}, 26, -1.0f, 1.0f);
  auto y = run_caffe(net, "", {x});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  ASSERT_EQ(y->size(), 1u);  // the split's tops are read: not outputs
  std::vector<float> want;
  for (float v : x.floats()) want.push_back(2.0f * v);
  expect_values((*y)[0], {1, 112}, want, "Split + Flatten");
}

// pad 1 with Caffe's rounded-up output size, MAX and AVE (the divisor counts the padding).
TEST(CaffeLayerOptions, PaddedPoolingComputesCaffesWindows) {
  for (const char* pool : {"MAX", "AVE"}) {
    const std::string net = kInput + R"(
      layer { name: "pool" type: "Pooling" bottom: "data" top: "pool"
              pooling_param { pool: )" +
                            std::string(pool) + R"( kernel_size: 3 stride: 2 pad: 1 } })";
    const Tensor x = test::random_tensor({1, 2, 7, 8}, 27, -2.0f, 2.0f);
    auto y = run_one(net, "", x);
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    Shape shape;
    const auto want =
        caffe_pool(x, std::string(pool) == "MAX", {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1}, &shape);
    EXPECT_EQ(shape, (Shape{1, 2, 4, 5}));
    expect_values(*y, shape, want, pool);
  }
}

TEST(CaffeLayerOptions, GlobalMaxPoolingTakesEachChannelsMaximum) {
  const std::string net = kInput + R"(
    layer { name: "gmax" type: "Pooling" bottom: "data" top: "gmax"
            pooling_param { pool: MAX global_pooling: true } })";
  const Tensor x = test::random_tensor({1, 2, 7, 8}, 28, -2.0f, 2.0f);
  auto y = run_one(net, "", x);
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  std::vector<float> want;
  for (size_t c = 0; c < 2; ++c)
    want.push_back(*std::max_element(x.floats().begin() + c * 56, x.floats().begin() + (c + 1) * 56));
  expect_values(*y, {1, 2, 1, 1}, want, "global MAX");
}

// input: + input_shape, the legacy declaration (SqueezeNet v1.0's deploy.prototxt uses it):
// the batch becomes dynamic, the other dims are the declared ones.
TEST(CaffeLayerOptions, LegacyInputShapeDeclaresTheInput) {
  const std::string net = R"(input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
    layer { name: "relu" type: "ReLU" bottom: "data" top: "relu" })";
  auto g = import_caffe_bytes(net, {}, "net.prototxt");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_EQ(g->value(g->inputs[0]).name, "data");
  EXPECT_EQ(g->value(g->inputs[0]).shape, (Shape{kDynamicDim, 3, 8, 8}));
  EXPECT_EQ(g->value(g->outputs.at(0)).shape, (Shape{kDynamicDim, 3, 8, 8}));
}

}  // namespace
}  // namespace inferd
