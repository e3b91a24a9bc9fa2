// Conv and Gemm on the CPU backend vs the reference kernels, through the op-test
// harness (every layout, batch 1 -> 3 -> 1 on one kernel).
#include <gtest/gtest.h>

#include "cpu_backend_test_harness.h"

namespace inferd::test {
namespace {

using ir::OpKind;
using V = std::vector<int64_t>;

ir::Attributes conv(V strides, V pads, V dilations = {1, 1}, int64_t group = 1) {
  return attrs({{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", group}});
}

ir::Attributes with(ir::Attributes a, std::initializer_list<std::pair<const char*, ir::Attribute>> extra) {
  for (const auto& [name, value] : extra) a.set(name, value);
  return a;
}

OpCase conv_case(std::string name, ir::Attributes a, Shape x, Shape w, bool bias, Shape y, bool residual = false) {
  std::vector<CaseInput> in{activation(x), weight(w), bias ? weight({w[0]}) : absent()};
  if (residual) in.push_back(activation(y));
  return {std::move(name), OpKind::kConv, std::move(a), std::move(in), {y}, "onednn:conv"};
}

std::vector<OpCase> conv_cases() {
  const ir::Attributes same3x3 = conv({1, 1}, {1, 1, 1, 1});
  std::vector<OpCase> cases{
      conv_case("pointwise_1x1", conv({1, 1}, {0, 0, 0, 0}), {1, 16, 7, 7}, {24, 16, 1, 1}, true, {1, 24, 7, 7}),
      conv_case("k3_s1", same3x3, {1, 8, 9, 9}, {16, 8, 3, 3}, true, {1, 16, 9, 9}),
      conv_case("k3_s2", conv({2, 2}, {1, 1, 1, 1}), {1, 8, 10, 10}, {16, 8, 3, 3}, true, {1, 16, 5, 5}),
      // (15 + 3 + 2 - 7) / 2 + 1 = 7 rows; (15 + 2 + 3 - 7) / 2 + 1 = 7 columns.
      conv_case("k7_s2_asymmetric_pads", conv({2, 2}, {3, 2, 2, 3}), {1, 3, 15, 15}, {8, 3, 7, 7}, true, {1, 8, 7, 7}),
      conv_case("group2", conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 2), {1, 8, 8, 8}, {12, 4, 3, 3}, true, {1, 12, 8, 8}),
      conv_case("depthwise", conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 16), {1, 16, 9, 9}, {16, 1, 3, 3}, true,
                {1, 16, 9, 9}),
      conv_case("depthwise_s2", conv({2, 2}, {1, 1, 1, 1}, {1, 1}, 16), {1, 16, 9, 9}, {16, 1, 3, 3}, false,
                {1, 16, 5, 5}),
      conv_case("dilation2", conv({1, 1}, {2, 2, 2, 2}, {2, 2}), {1, 8, 11, 11}, {8, 8, 3, 3}, true, {1, 8, 11, 11}),
      conv_case("no_bias", same3x3, {1, 8, 9, 9}, {16, 8, 3, 3}, false, {1, 16, 9, 9}),
      conv_case("residual", same3x3, {1, 8, 6, 6}, {8, 8, 3, 3}, true, {1, 8, 6, 6}, true),
      conv_case("residual_relu", with(same3x3, {{"activation", std::string("Relu")}}), {1, 8, 6, 6}, {8, 8, 3, 3},
                false, {1, 8, 6, 6}, true),
      conv_case("residual_clip", with(same3x3, {{"activation", std::string("Clip")}, {"min", 0.0f}, {"max", 1.0f}}),
                {1, 8, 6, 6}, {8, 8, 3, 3}, true, {1, 8, 6, 6}, true),
  };
  // Each fused activation, on a small 1x1 convolution.
  const std::vector<std::pair<std::string, ir::Attributes>> activations{
      {"relu", attrs({{"activation", std::string("Relu")}})},
      {"clip", attrs({{"activation", std::string("Clip")}, {"min", -0.5f}, {"max", 0.5f}})},
      {"leaky_relu", attrs({{"activation", std::string("LeakyRelu")}, {"alpha", 0.1f}})},
      {"sigmoid", attrs({{"activation", std::string("Sigmoid")}})},
      {"hard_swish", attrs({{"activation", std::string("HardSwish")}})},
      {"hard_sigmoid", attrs({{"activation", std::string("HardSigmoid")}, {"alpha", 0.3f}, {"beta", 0.4f}})},
  };
  for (const auto& [name, act] : activations) {
    ir::Attributes a = conv({1, 1}, {0, 0, 0, 0});
    for (const auto& [key, value] : act.all()) a.set(key, value);
    // Inputs in [-2, 2] so that clip and hard-sigmoid saturate on both sides.
    OpCase c = conv_case("act_" + name, a, {1, 8, 5, 5}, {8, 8, 1, 1}, true, {1, 8, 5, 5});
    c.inputs[0].lo = -2.0f;
    c.inputs[0].hi = 2.0f;
    cases.push_back(std::move(c));
  }
  return cases;
}

OpCase gemm_case(std::string name, ir::Attributes a, Shape x, Shape b, CaseInput c, Shape y) {
  return {std::move(name), OpKind::kGemm, std::move(a), {activation(x), weight(b), std::move(c)}, {y},
          "onednn:inner_product+gemv"};
}

std::vector<OpCase> gemm_cases() {
  const ir::Attributes trans_b = attrs({{"transB", int64_t{1}}});
  std::vector<OpCase> cases{
      gemm_case("trans_b_bias", trans_b, {1, 64}, {32, 64}, weight({32}), {1, 32}),
      gemm_case("no_trans_b", {}, {1, 64}, {64, 32}, weight({32}), {1, 32}),
      gemm_case("no_bias", trans_b, {1, 64}, {32, 64}, absent(), {1, 32}),
      gemm_case("relu", with(trans_b, {{"activation", std::string("Relu")}}), {1, 64}, {32, 64}, weight({32}),
                {1, 32}),
      // alpha folds into the weights, beta into the bias (C constant, per column).
      gemm_case("alpha_beta", with(trans_b, {{"alpha", 0.5f}, {"beta", 2.0f}}), {1, 48}, {16, 48}, weight({1, 16}),
                {1, 16}),
      gemm_case("scalar_c", trans_b, {1, 48}, {16, 48}, weight({1}), {1, 16}),
      // A classifier head: K = 2048. Accumulation order differs (SIMD partial sums in
      // the GEMV, blocked in oneDNN); the sums reach ~20, so 1e-4 relative still holds.
      gemm_case("classifier_k2048", trans_b, {1, 2048}, {100, 2048}, weight({100}), {1, 100}),
  };
  OpCase batch8 = gemm_case("batch1_then_8", trans_b, {1, 96}, {40, 96}, weight({40}), {1, 40});
  batch8.batches = {1, 8};
  cases.push_back(std::move(batch8));
  // C per row and column ([M, N]) cannot be a bias: the reference kernel runs it.
  OpCase full_c = gemm_case("full_c_reference", trans_b, {1, 16}, {8, 16}, activation({1, 8}), {1, 8});
  full_c.implementation = "reference:gemm";
  cases.push_back(std::move(full_c));
  return cases;
}

class CpuBackendConv : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendConv, MatchesReference) { run_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendConv, ::testing::ValuesIn(conv_cases()),
                         [](const auto& info) { return info.param.name; });

class CpuBackendGemm : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendGemm, MatchesReference) { run_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendGemm, ::testing::ValuesIn(gemm_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace inferd::test
