// Every op but Conv/Gemm on the CPU backend vs the reference kernels, through the
// op-test harness: pools, LRN, softmax, activations, Add, Reorder, Concat on
// oneDNN, and the ops that only the reference adapter runs.
#include <gtest/gtest.h>

#include "cpu_backend_test_harness.h"

namespace inferd::test {
namespace {

using ir::OpKind;
using V = std::vector<int64_t>;

ir::Attributes pool(V kernel, V strides, V pads, int64_t ceil_mode = 0, int64_t count_include_pad = 0) {
  return attrs({{"kernel_shape", kernel},
                {"strides", strides},
                {"pads", pads},
                {"ceil_mode", ceil_mode},
                {"count_include_pad", count_include_pad}});
}

OpCase unary(std::string name, OpKind op, ir::Attributes a, Shape x, Shape y, std::string impl) {
  return {std::move(name), op, std::move(a), {activation(std::move(x))}, {std::move(y)}, std::move(impl)};
}

std::vector<OpCase> pool_cases() {
  return {
      // ceil((12 - 3) / 2) + 1 = 6 where floor mode gives 5.
      unary("max_ceil_mode", OpKind::kMaxPool, pool({3, 3}, {2, 2}, {0, 0, 0, 0}, 1), {1, 8, 12, 12}, {1, 8, 6, 6},
            "onednn:max_pool"),
      unary("max_padded", OpKind::kMaxPool, pool({3, 3}, {2, 2}, {1, 1, 1, 1}), {1, 8, 9, 9}, {1, 8, 5, 5},
            "onednn:max_pool"),
      unary("avg_exclude_pad", OpKind::kAveragePool, pool({3, 3}, {1, 1}, {1, 1, 1, 1}), {1, 8, 7, 7}, {1, 8, 7, 7},
            "onednn:avg_pool"),
      unary("avg_include_pad", OpKind::kAveragePool, pool({3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 1), {1, 8, 7, 7},
            {1, 8, 7, 7}, "onednn:avg_pool"),
      // ceil((12 + 2 - 3) / 2) + 1 = 7: the last window runs past the declared padding.
      unary("avg_ceil_exclude_pad", OpKind::kAveragePool, pool({3, 3}, {2, 2}, {1, 1, 1, 1}, 1), {1, 8, 12, 12},
            {1, 8, 7, 7}, "onednn:avg_pool"),
      // ONNX's divisor stops at the declared padding, oneDNN's would not: reference.
      unary("avg_ceil_include_pad", OpKind::kAveragePool, pool({3, 3}, {2, 2}, {1, 1, 1, 1}, 1, 1), {1, 8, 12, 12},
            {1, 8, 7, 7}, "reference:averagepool"),
      unary("global_average", OpKind::kGlobalAveragePool, {}, {1, 16, 7, 7}, {1, 16, 1, 1}, "onednn:avg_pool"),
  };
}

std::vector<OpCase> normalization_cases() {
  const auto lrn = [](int64_t size) {
    return attrs({{"size", size}, {"alpha", 0.5f}, {"beta", 0.75f}, {"bias", 2.0f}});
  };
  const ir::Attributes axis1 = attrs({{"axis", int64_t{1}}});
  return {
      unary("lrn_size5", OpKind::kLRN, lrn(5), {1, 16, 6, 6}, {1, 16, 6, 6}, "onednn:lrn"),
      // Even sizes: ONNX's window is asymmetric, oneDNN's is not.
      unary("lrn_size4", OpKind::kLRN, lrn(4), {1, 16, 6, 6}, {1, 16, 6, 6}, "reference:lrn"),
      unary("softmax_2d", OpKind::kSoftmax, axis1, {1, 10}, {1, 10}, "onednn:softmax"),
      unary("softmax_4d_axis1", OpKind::kSoftmax, axis1, {1, 6, 3, 3}, {1, 6, 3, 3}, "onednn:softmax"),
      unary("softmax_legacy_2d", OpKind::kSoftmax, attrs({{"axis", int64_t{1}}, {"legacy_2d", int64_t{1}}}),
            {1, 4, 3, 3}, {1, 4, 3, 3}, "onednn:softmax"),
  };
}

std::vector<OpCase> elementwise_cases() {
  const Shape s{1, 8, 5, 5};
  std::vector<OpCase> cases{
      unary("slice", OpKind::kSlice, attrs({{"axis", int64_t{1}}, {"start", int64_t{2}}, {"end", int64_t{6}}}), s,
            {1, 4, 5, 5}, "onednn:slice"),
      unary("relu", OpKind::kRelu, {}, s, s, "onednn:eltwise"),
      unary("clip", OpKind::kClip, attrs({{"min", -1.0f}, {"max", 1.5f}}), s, s, "onednn:eltwise"),
      unary("leaky_relu", OpKind::kLeakyRelu, attrs({{"alpha", 0.2f}}), s, s, "onednn:eltwise"),
      unary("sigmoid", OpKind::kSigmoid, {}, s, s, "onednn:eltwise"),
      unary("hard_sigmoid", OpKind::kHardSigmoid, attrs({{"alpha", 0.25f}, {"beta", 0.5f}}), s, s, "onednn:eltwise"),
      unary("hard_swish", OpKind::kHardSwish, {}, s, s, "onednn:eltwise"),
      {"add", OpKind::kAdd, {}, {activation(s), activation(s)}, {s}, "onednn:binary_add"},
      {"add_broadcast", OpKind::kAdd, {}, {activation(s), activation({1, 8, 1, 1})}, {s}, "reference:add"},
      unary("reorder", OpKind::kReorder, {}, s, s, "onednn:reorder"),
      {"concat_channels",
       OpKind::kConcat,
       attrs({{"axis", int64_t{1}}}),
       {activation({1, 4, 5, 5}), activation({1, 6, 5, 5}), activation({1, 2, 5, 5})},
       {{1, 12, 5, 5}},
       "onednn:concat"},
      {"concat_width",
       OpKind::kConcat,
       attrs({{"axis", int64_t{-1}}}),
       {activation({1, 4, 5, 2}), activation({1, 4, 5, 3})},
       {{1, 4, 5, 5}},
       "onednn:concat"},
  };
  for (OpCase& c : cases) {  // [-3, 3]: past every activation's saturation points
    c.inputs[0].lo = -3.0f;
    c.inputs[0].hi = 3.0f;
  }
  return cases;
}

// Ops without a oneDNN path: the reference adapter must pass views through untouched.
std::vector<OpCase> reference_only_cases() {
  const Shape s{1, 8, 5, 5};
  return {
      {"batch_normalization",
       OpKind::kBatchNormalization,
       attrs({{"epsilon", 1e-5f}}),
       {activation(s), weight({8}), weight({8}), weight({8}), weight({8}, 0.5f, 1.5f)},
       {s},
       "reference:batchnormalization"},
      {"mul", OpKind::kMul, {}, {activation(s), activation(s)}, {s}, "reference:mul"},
      {"sum", OpKind::kSum, {}, {activation(s), activation(s), activation(s)}, {s}, "reference:sum"},
      {"matmul", OpKind::kMatMul, {}, {activation({1, 16}), weight({16, 8})}, {{1, 8}}, "reference:matmul"},
      unary("flatten", OpKind::kFlatten, attrs({{"axis", int64_t{1}}}), s, {1, 200}, "reference:flatten"),
      {"reshape", OpKind::kReshape, {}, {activation(s), int64s({2}, {0, -1})}, {{1, 200}}, "reference:reshape"},
      unary("transpose", OpKind::kTranspose, attrs({{"perm", V{0, 2, 3, 1}}}), s, {1, 5, 5, 8},
            "reference:transpose"),
      unary("squeeze", OpKind::kSqueeze, attrs({{"axes", V{2}}}), {1, 8, 1, 5}, {1, 8, 5}, "reference:squeeze"),
      unary("unsqueeze", OpKind::kUnsqueeze, attrs({{"axes", V{1}}}), {1, 8, 5}, {1, 1, 8, 5}, "reference:unsqueeze"),
      unary("identity", OpKind::kIdentity, {}, s, s, "reference:identity"),
      unary("pad", OpKind::kPad, attrs({{"pads", V{0, 0, 1, 2, 0, 0, 2, 1}}, {"value", 0.5f}}), s, {1, 8, 8, 8},
            "reference:pad"),
      {"gather",
       OpKind::kGather,
       attrs({{"axis", int64_t{1}}}),
       {activation(s), int64s({3}, {4, 0, 6})},
       {{1, 3, 5, 5}},
       "reference:gather"},
  };
}

std::string name_of(const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; }

class CpuBackendPool : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendPool, MatchesReference) { run_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendPool, ::testing::ValuesIn(pool_cases()), name_of);

class CpuBackendNormalization : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendNormalization, MatchesReference) { run_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendNormalization, ::testing::ValuesIn(normalization_cases()), name_of);

class CpuBackendElementwise : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendElementwise, MatchesReference) { run_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendElementwise, ::testing::ValuesIn(elementwise_cases()), name_of);

class CpuBackendReferenceOnly : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendReferenceOnly, MatchesReference) { run_case(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendReferenceOnly, ::testing::ValuesIn(reference_only_cases()), name_of);

}  // namespace
}  // namespace inferd::test
