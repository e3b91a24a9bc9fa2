// Caffe import, layer by layer: small nets written in the test (topology and weights both
// as protobuf text; the weights serialised to the binary .caffemodel form), run through
// the reference kernels and checked against Caffe's formulas computed here (Deconvolution's
// scatter, WITHIN_CHANNEL LRN's pool-and-power composition); the legacy V1
// format against the current one; and the errors of bad layers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "import/caffe_test_net.h"
#include "passes/pass_manager.h"
#include "support/reference_run.h"
#include "support/test_util.h"

namespace inferd {
namespace {

using test::blob;
using test::caffemodel;
using test::ramp;
using test::run_one;

const std::string kInput = R"(input: "data" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3 )";

// Conv (2->2, 1x1, weights and bias known) -> BatchNorm -> Scale (+bias), as ResNet-style
// Caffe models write it: y = gamma * (conv - mean/f) / sqrt(var/f + eps) + beta.
TEST(CaffeLayers, BatchNormAndScaleComputeCaffesFormulaAndFoldIntoTheConv) {
  const std::string net = kInput + R"(
    layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
            convolution_param { num_output: 2 kernel_size: 1 } }
    layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { eps: 0.001 } }
    layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } })";
  const std::string weights = R"(
    layer { name: "conv" )" + blob({2, 2, 1, 1}, {0.5f, -1.0f, 2.0f, 0.25f}) + blob({2}, {0.1f, -0.2f}) + R"( }
    layer { name: "bn" )" + blob({2}, {4.0f, -2.0f}) + blob({2}, {8.0f, 0.5f}) + blob({1}, {2.0f}) + R"( }
    layer { name: "sc" )" + blob({2}, {1.5f, -0.5f}) + blob({2}, {0.3f, 0.7f}) + " }";
  const Tensor x = test::random_tensor({1, 2, 3, 3}, 11, -2.0f, 2.0f);
  auto y = run_one(net, weights, x);
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  const float w[2][2] = {{0.5f, -1.0f}, {2.0f, 0.25f}}, b[2] = {0.1f, -0.2f};
  const float mean[2] = {2.0f, -1.0f}, var[2] = {4.0f, 0.25f}, gamma[2] = {1.5f, -0.5f}, beta[2] = {0.3f, 0.7f};
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 9; ++i) {
      const float conv = w[c][0] * x.floats()[i] + w[c][1] * x.floats()[9 + i] + b[c];
      const float want = gamma[c] * (conv - mean[c]) / std::sqrt(var[c] + 0.001f) + beta[c];
      EXPECT_NEAR(y->floats()[static_cast<size_t>(c * 9 + i)], want, 1e-5f) << c << "," << i;
    }
  // The optimizer folds both into the convolution: one node left, same numbers.
  auto g = import_caffe_bytes(net, caffemodel(weights), "net.prototxt");
  ASSERT_TRUE(g.is_ok());
  ASSERT_TRUE(passes::optimize(*g, passes::PassContext{}).is_ok());
  EXPECT_EQ(g->nodes().size(), 1u);
  auto folded = test::reference_run(*g, {x});
  ASSERT_TRUE(folded.is_ok()) << folded.status().message();
  EXPECT_LT(test::compare((*folded)[0], *y).max_abs, 1e-5f);
}

TEST(CaffeLayers, SigmoidTanHWeightedSumMaxAndReshape) {
  const std::string net = kInput + R"(
    layer { name: "s" type: "Sigmoid" bottom: "data" top: "s" }
    layer { name: "t" type: "TanH" bottom: "data" top: "t" }
    layer { name: "sum" type: "Eltwise" bottom: "s" bottom: "t" top: "sum"
            eltwise_param { operation: SUM coeff: 2 coeff: -0.5 } }
    layer { name: "max" type: "Eltwise" bottom: "sum" bottom: "t" bottom: "s" top: "max" eltwise_param { operation: MAX } }
    layer { name: "flat" type: "Reshape" bottom: "max" top: "flat" reshape_param { shape { dim: 0 dim: -1 } } })";
  const Tensor x = test::random_tensor({1, 2, 3, 3}, 12, -3.0f, 3.0f);
  auto y = run_one(net, "", x);
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(y->shape(), (Shape{1, 18}));
  for (size_t i = 0; i < 18; ++i) {
    const float v = x.floats()[i];
    const float s = 1.0f / (1.0f + std::exp(-v)), t = std::tanh(v);
    EXPECT_NEAR(y->floats()[i], std::max({2.0f * s - 0.5f * t, s, t}), 1e-6f) << i;
  }
}

// Caffe's Deconvolution, computed here as Caffe does (col2im: every input pixel scatters
// its kernel-weighted values onto the output), weights [Cin, num_output/group, kH, kW].
std::vector<float> caffe_deconv(const Tensor& x, const std::vector<float>& w, const std::vector<float>& b,
                                int64_t out_channels, int64_t group, int64_t k, int64_t stride, int64_t pad,
                                int64_t out_size) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3], cg = C / group, mg = out_channels / group;
  const int64_t plane = out_size * out_size;
  std::vector<float> y(static_cast<size_t>(out_channels * plane));
  for (int64_t i = 0; i < out_channels * plane; ++i) y[static_cast<size_t>(i)] = b[static_cast<size_t>(i / plane)];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t ih = 0; ih < H; ++ih)
      for (int64_t iw = 0; iw < W; ++iw)
        for (int64_t mm = 0; mm < mg; ++mm)
          for (int64_t kh = 0; kh < k; ++kh)
            for (int64_t kw = 0; kw < k; ++kw) {
              const int64_t oh = ih * stride - pad + kh, ow = iw * stride - pad + kw;
              if (oh < 0 || oh >= out_size || ow < 0 || ow >= out_size) continue;
              const int64_t m = (c / cg) * mg + mm;
              y[static_cast<size_t>((m * out_size + oh) * out_size + ow)] +=
                  x.floats()[static_cast<size_t>((c * H + ih) * W + iw)] *
                  w[static_cast<size_t>(((c * mg + mm) * k + kh) * k + kw)];
            }
  return y;
}

// 2 input channels, group 2, 2 outputs per group, kernel 3, stride 2, pad 1: Caffe's output
// size 2 * (3 - 1) + 3 - 2 * 1 = 5. The V1 twin (DECONVOLUTION = 39) gives the same.
TEST(CaffeLayers, DeconvolutionComputesCaffesScatterInBothFormats) {
  const std::string param = R"(convolution_param { num_output: 4 group: 2 kernel_size: 3 stride: 2 pad: 1 } })";
  const std::string net = kInput + R"(layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" )" + param;
  const std::string v1 = kInput + R"(layers { name: "up" type: DECONVOLUTION bottom: "data" top: "up" )" + param;
  const std::vector<float> w = ramp(36, -1.0f, 0.057f), b{0.1f, -0.2f, 0.3f, 0.4f};
  const std::string blobs = blob({2, 2, 3, 3}, w) + blob({4}, b);
  const Tensor x = test::random_tensor({1, 2, 3, 3}, 14, -1.0f, 1.0f);
  auto y = run_one(net, "layer { name: \"up\" " + blobs + " }", x);
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  ASSERT_EQ(y->shape(), (Shape{1, 4, 5, 5}));
  const std::vector<float> want = caffe_deconv(x, w, b, 4, 2, 3, 2, 1, 5);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y->floats()[i], want[i], 1e-5f) << i;
  auto old_format = run_one(v1, "layers { name: \"up\" " + blobs + " }", x);
  ASSERT_TRUE(old_format.is_ok()) << old_format.status().message();
  EXPECT_LT(test::compare(*old_format, *y).max_abs, 1e-7f);
}

// Caffe's WITHIN_CHANNEL LRN as Caffe composes it: x^2, an average pool (size x size, pad
// (size-1)/2, stride 1, divisor the window clipped to the padded map), then
// x * (1 + alpha * pooled)^-beta. k is not read (set to 5 here to show it).
std::vector<float> caffe_lrn_within(const Tensor& x, int64_t size, float alpha, float beta) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3], pad = (size - 1) / 2;
  std::vector<float> y(static_cast<size_t>(x.size()));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        int64_t hs = h - pad, ws = w - pad;
        const int64_t he = std::min(hs + size, H + pad), we = std::min(ws + size, W + pad);
        const auto divisor = static_cast<float>((he - hs) * (we - ws));
        hs = std::max<int64_t>(hs, 0);
        ws = std::max<int64_t>(ws, 0);
        float pooled = 0;
        for (int64_t i = hs; i < std::min(he, H); ++i)
          for (int64_t j = ws; j < std::min(we, W); ++j) {
            const float v = x.floats()[static_cast<size_t>((c * H + i) * W + j)];
            pooled += v * v;
          }
        const size_t at = static_cast<size_t>((c * H + h) * W + w);
        y[at] = x.floats()[at] * std::pow(1.0f + alpha * pooled / divisor, -beta);
      }
  return y;
}

TEST(CaffeLayers, WithinChannelLrnComputesCaffesFormula) {
  for (int64_t size : {3, 5}) {
    const std::string net = R"(input: "data" input_dim: 1 input_dim: 3 input_dim: 5 input_dim: 6
      layer { name: "norm" type: "LRN" bottom: "data" top: "norm"
              lrn_param { local_size: )" + std::to_string(size) +
                            R"( alpha: 0.8 beta: 0.75 k: 5 norm_region: WITHIN_CHANNEL } })";
    const Tensor x = test::random_tensor({1, 3, 5, 6}, 15, -2.0f, 2.0f);
    auto y = run_one(net, "", x);
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    const std::vector<float> want = caffe_lrn_within(x, size, 0.8f, 0.75f);
    float smallest_ratio = 1.0f;  // the normalisation must really act
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(y->floats()[i], want[i], 1e-5f) << "size " << size << " element " << i;
      if (x.floats()[i] != 0.0f) smallest_ratio = std::min(smallest_ratio, want[i] / x.floats()[i]);
    }
    EXPECT_LT(smallest_ratio, 0.8f);
  }
}

// One small AlexNet-like net in both formats, V1 (`layers {}`, enum types, other field
// numbers) and current, with the same weights: the same graph and the same outputs.
TEST(CaffeLayers, LegacyV1FilesImportLikeTheCurrentFormat) {
  const std::string v1 = kInput + R"(
    layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv"
             convolution_param { num_output: 3 kernel_size: 2 } }
    layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
    layers { name: "norm" type: LRN bottom: "conv" top: "norm" lrn_param { local_size: 3 alpha: 0.1 beta: 0.75 } }
    layers { name: "pool" type: POOLING bottom: "norm" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 1 } }
    layers { name: "drop" type: DROPOUT bottom: "pool" top: "pool" dropout_param { dropout_ratio: 0.5 } }
    layers { name: "fc" type: INNER_PRODUCT bottom: "pool" top: "fc" inner_product_param { num_output: 4 } }
    layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" })";
  const std::string current = kInput + R"(
    layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
            convolution_param { num_output: 3 kernel_size: 2 } }
    layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
    layer { name: "norm" type: "LRN" bottom: "conv" top: "norm" lrn_param { local_size: 3 alpha: 0.1 beta: 0.75 } }
    layer { name: "pool" type: "Pooling" bottom: "norm" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 1 } }
    layer { name: "drop" type: "Dropout" bottom: "pool" top: "pool" dropout_param { dropout_ratio: 0.5 } }
    layer { name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 4 } }
    layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" })";
  const std::string conv = blob({3, 2, 2, 2}, ramp(24, -1.0f, 0.09f)) + blob({3}, {0.1f, 0.2f, -0.3f});
  const std::string fc = blob({4, 3}, ramp(12, -0.6f, 0.1f)) + blob({4}, {0.0f, 0.5f, -0.5f, 1.0f});
  const std::string v1_weights = "layers { name: \"conv\" " + conv + " } layers { name: \"fc\" " + fc + " }";
  const std::string weights = "layer { name: \"conv\" " + conv + " } layer { name: \"fc\" " + fc + " }";
  const Tensor x = test::random_tensor({1, 2, 3, 3}, 13, -1.0f, 1.0f);
  auto old_format = run_one(v1, v1_weights, x);
  auto new_format = run_one(current, weights, x);
  ASSERT_TRUE(old_format.is_ok()) << old_format.status().message();
  ASSERT_TRUE(new_format.is_ok()) << new_format.status().message();
  EXPECT_EQ(old_format->shape(), (Shape{1, 4}));
  EXPECT_EQ(old_format->floats()[0], new_format->floats()[0]);
  EXPECT_LT(test::compare(*old_format, *new_format).max_abs, 1e-7f);
  // A V1 prototxt with current-format weights (as Caffe's upgrade tool leaves them) works too.
  auto mixed = run_one(v1, weights, x);
  ASSERT_TRUE(mixed.is_ok()) << mixed.status().message();
  EXPECT_LT(test::compare(*mixed, *new_format).max_abs, 1e-7f);
}

TEST(CaffeLayers, BadLayersAreSpecificErrors) {
  const auto error = [](const std::string& layers, const std::string& weights = "") {
    auto g = import_caffe_bytes(kInput + layers, caffemodel(weights), "net.prototxt");
    return g.is_ok() ? std::string("imported") : g.status().message();
  };
  EXPECT_EQ(error(R"(layers { name: "loss" type: SOFTMAX_LOSS bottom: "data" top: "loss" })"),
            "net.prototxt: layer 'loss' (V1 SOFTMAX_LOSS): unsupported layer type");
  EXPECT_EQ(error(R"(layer { name: "c" type: "Convolution" bottom: "data" top: "c"
                           convolution_param { num_output: 4 kernel_size: 3 bias_term: false } })",
                  "layer { name: \"c\" " + blob({4, 2, 2, 2}, ramp(32, 0, 1)) + " }"),
            "net.prototxt: layer 'c' (Convolution): weights of shape [4,2,2,2] do not match num_output 4 and "
            "kernel 3x3");
  EXPECT_EQ(error(R"(layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e"
                           eltwise_param { coeff: 1 } })"),
            "net.prototxt: layer 'e' (Eltwise): has 1 coefficients for 2 inputs");
  EXPECT_EQ(error(R"(layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn"
                           batch_norm_param { use_global_stats: false } })"),
            "net.prototxt: layer 'bn' (BatchNorm): use_global_stats: false (batch statistics are for training)");
  EXPECT_EQ(error(R"(layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" })",
                  "layer { name: \"bn\" " + blob({2}, {0, 0}) + blob({3}, {1, 1, 1}) + blob({1}, {1}) + " }"),
            "net.prototxt: layer 'bn' (BatchNorm): mean and variance hold 2 and 3 values");
  EXPECT_EQ(error(R"(layer { name: "r" type: "Reshape" bottom: "data" top: "r"
                           reshape_param { shape { dim: 2 dim: -1 } } })"),
            "net.prototxt: layer 'r' (Reshape): a Reshape that sets the batch dimension (dim 0 must be 0, or -1 "
            "with the others given)");
  EXPECT_EQ(error(R"(layer { name: "m" type: "Eltwise" bottom: "data" bottom: "data" top: "m"
                           eltwise_param { operation: MAX coeff: 1 coeff: 2 } })"),
            "net.prototxt: layer 'm' (Eltwise): coefficients are for SUM only (Caffe refuses them too)");
  EXPECT_EQ(error(R"(layer { name: "w" type: "LRN" bottom: "data" top: "w"
                           lrn_param { local_size: 4 norm_region: WITHIN_CHANNEL } })"),
            "net.prototxt: layer 'w' (LRN): local_size 4 is even (Caffe takes odd sizes only)");
  EXPECT_EQ(error(R"(layer { name: "d" type: "Deconvolution" bottom: "data" top: "d"
                           convolution_param { num_output: 4 group: 2 kernel_size: 2 bias_term: false } })",
                  "layer { name: \"d\" " + blob({2, 4, 2, 2}, ramp(32, 0, 1)) + " }"),
            "net.prototxt: layer 'd' (Deconvolution): weights of shape [2,4,2,2] do not match num_output 4 (/ group 2) "
            "and kernel 2x2");
}

}  // namespace
}  // namespace inferd
