// Layout independence: every reference kernel, fed the same logical data through
// dense NCHW views, permuted views (NHWC / column-major) and channel slices of a
// larger buffer, must produce bit-identical logical results and write nothing
// outside its output view.
#include <gtest/gtest.h>

#include <set>

#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

struct OpCase {
  std::string name;
  OpKind op;
  ir::Attributes attrs;
  std::vector<Tensor> inputs;
  Shape output;
};

ir::Attributes attrs_of(std::vector<std::pair<std::string, ir::Attribute>> entries) {
  ir::Attributes a;
  for (auto& [k, v] : entries) a.set(k, std::move(v));
  return a;
}

using Ints = std::vector<int64_t>;

std::vector<OpCase> activation_and_pool_cases() {
  const Tensor x = random_tensor({2, 3, 5, 5}, 1, -3.0f, 3.0f);
  const ir::Attributes pool = attrs_of(
      {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 1, 1}}, {"ceil_mode", int64_t{1}}});
  ir::Attributes avg_incl = pool, avg_excl = pool;
  avg_incl.set("count_include_pad", int64_t{1});
  avg_excl.set("count_include_pad", int64_t{0});
  return {
      {"Relu", OpKind::kRelu, {}, {x}, x.shape()},
      {"Clip", OpKind::kClip, attrs_of({{"min", 0.0f}, {"max", 1.0f}}), {x}, x.shape()},
      {"LeakyRelu", OpKind::kLeakyRelu, attrs_of({{"alpha", 0.1f}}), {x}, x.shape()},
      {"Sigmoid", OpKind::kSigmoid, {}, {x}, x.shape()},
      {"Tanh", OpKind::kTanh, {}, {x}, x.shape()},
      {"Max", OpKind::kMax, {}, {x, random_tensor(x.shape(), 9)}, x.shape()},
      {"HardSigmoid", OpKind::kHardSigmoid, {}, {x}, x.shape()},
      {"HardSwish", OpKind::kHardSwish, {}, {x}, x.shape()},
      {"MaxPool", OpKind::kMaxPool, pool, {x}, {2, 3, 3, 3}},
      {"AveragePoolInclPad", OpKind::kAveragePool, avg_incl, {x}, {2, 3, 3, 3}},
      {"AveragePoolExclPad", OpKind::kAveragePool, avg_excl, {x}, {2, 3, 3, 3}},
      {"GlobalAveragePool", OpKind::kGlobalAveragePool, {}, {x}, {2, 3, 1, 1}},
      {"LRN",
       OpKind::kLRN,
       attrs_of({{"size", int64_t{3}}, {"alpha", 0.2f}, {"beta", 0.75f}, {"bias", 1.0f}}),
       {random_tensor({2, 5, 3, 3}, 2)},
       {2, 5, 3, 3}},
      {"LRNWithinChannel",
       OpKind::kLRN,
       attrs_of({{"size", int64_t{3}},
                 {"alpha", 0.7f},
                 {"beta", 0.75f},
                 {"bias", 1.0f},
                 {"region", std::string("within_channel")}}),
       {random_tensor({2, 3, 4, 5}, 3, -2.0f, 2.0f)},
       {2, 3, 4, 5}},
      {"BatchNormalization",
       OpKind::kBatchNormalization,
       attrs_of({{"epsilon", 1e-3f}}),
       {x, random_tensor({3}, 3), random_tensor({3}, 4), random_tensor({3}, 5), random_tensor({3}, 6, 0.5f, 2.0f)},
       x.shape()},
  };
}

std::vector<OpCase> linear_and_elementwise_cases() {
  const Tensor x = random_tensor({2, 3, 4, 4}, 10);
  const ir::Attributes conv = attrs_of({{"strides", Ints{2, 1}},
                                        {"pads", Ints{1, 0, 2, 1}},
                                        {"dilations", Ints{1, 2}},
                                        {"group", int64_t{2}},
                                        {"activation", std::string("LeakyRelu")},
                                        {"alpha", 0.1f}});
  // H: (5 + 1 + 2 - 3) / 2 + 1 = 3; W: (6 + 0 + 1 - 5) / 1 + 1 = 3.
  const std::vector<Tensor> conv_inputs{random_tensor({2, 4, 5, 6}, 11), random_tensor({6, 2, 3, 3}, 12),
                                        random_tensor({6}, 13), random_tensor({2, 6, 3, 3}, 14)};
  const ir::Attributes deconv = attrs_of({{"strides", Ints{2, 1}},
                                          {"pads", Ints{1, 0, 0, 1}},
                                          {"dilations", Ints{1, 2}},
                                          {"output_padding", Ints{1, 0}},
                                          {"group", int64_t{2}},
                                          {"activation", std::string("Relu")}});
  // H: 2*(5-1) + 1 + 3 - 1 - 0 = 11; W: 1*(6-1) + 0 + 5 - 0 - 1 = 9.
  const std::vector<Tensor> deconv_inputs{random_tensor({2, 4, 5, 6}, 24), random_tensor({4, 3, 3, 3}, 25),
                                          random_tensor({6}, 26)};
  return {
      {"Conv", OpKind::kConv, conv, conv_inputs, {2, 6, 3, 3}},
      {"ConvTranspose", OpKind::kConvTranspose, deconv, deconv_inputs, {2, 6, 11, 9}},
      {"Gemm",
       OpKind::kGemm,
       attrs_of({{"alpha", 0.5f},
                 {"beta", 2.0f},
                 {"transA", int64_t{0}},
                 {"transB", int64_t{1}},
                 {"activation", std::string("Relu")}}),
       {random_tensor({3, 4}, 15), random_tensor({5, 4}, 16), random_tensor({5}, 17)},
       {3, 5}},
      {"MatMul", OpKind::kMatMul, {}, {random_tensor({2, 3, 4, 5}, 18), random_tensor({5, 2}, 19)}, {2, 3, 4, 2}},
      {"Add", OpKind::kAdd, {}, {x, random_tensor({1, 3, 1, 1}, 20)}, x.shape()},
      {"Mul", OpKind::kMul, {}, {x, random_tensor({2, 3, 4, 4}, 21)}, x.shape()},
      {"Sum", OpKind::kSum, {}, {x, random_tensor({3, 1, 4}, 22), random_tensor({2, 3, 4, 4}, 23)}, x.shape()},
      {"Softmax", OpKind::kSoftmax, attrs_of({{"axis", int64_t{1}}}), {x}, x.shape()},
      {"SoftmaxLegacy2d",
       OpKind::kSoftmax,
       attrs_of({{"axis", int64_t{1}}, {"legacy_2d", int64_t{1}}}),
       {x},
       x.shape()},
  };
}

std::vector<OpCase> data_movement_cases() {
  const Tensor x = random_tensor({2, 3, 4, 5}, 30);
  const Tensor x5 = random_tensor({2, 5, 3, 3}, 31);
  return {
      {"Concat",
       OpKind::kConcat,
       attrs_of({{"axis", int64_t{1}}}),
       {random_tensor({2, 2, 3, 3}, 32), random_tensor({2, 3, 3, 3}, 33)},
       {2, 5, 3, 3}},
      {"Flatten", OpKind::kFlatten, attrs_of({{"axis", int64_t{1}}}), {x}, {2, 60}},
      {"Reshape", OpKind::kReshape, {}, {x, Tensor::from_int64s({2}, Ints{10, 12})}, {10, 12}},
      {"Transpose", OpKind::kTranspose, attrs_of({{"perm", Ints{0, 2, 3, 1}}}), {x}, {2, 4, 5, 3}},
      {"Squeeze", OpKind::kSqueeze, attrs_of({{"axes", Ints{2}}}), {random_tensor({2, 3, 1, 4}, 34)}, {2, 3, 4}},
      {"Unsqueeze", OpKind::kUnsqueeze, attrs_of({{"axes", Ints{2}}}), {random_tensor({2, 3, 4}, 35)}, {2, 3, 1, 4}},
      {"Identity", OpKind::kIdentity, {}, {x}, x.shape()},
      {"Pad", OpKind::kPad, attrs_of({{"pads", Ints{0, 0, 1, 2, 0, 0, 2, 1}}, {"value", 0.5f}}), {x5}, {2, 5, 6, 6}},
      {"Gather",
       OpKind::kGather,
       attrs_of({{"axis", int64_t{1}}}),
       {x5, Tensor::from_int64s({3}, Ints{4, 0, -2})},
       {2, 3, 3, 3}},
      {"Slice",
       OpKind::kSlice,
       attrs_of({{"axis", int64_t{1}}, {"start", int64_t{1}}, {"end", int64_t{4}}}),
       {x5},
       {2, 3, 3, 3}},
      {"Reorder", OpKind::kReorder, {}, {x}, x.shape()},
  };
}

std::vector<OpCase> all_cases() {
  std::vector<OpCase> cases = activation_and_pool_cases();
  for (auto* more : {linear_and_elementwise_cases, data_movement_cases})
    for (OpCase& c : more()) cases.push_back(std::move(c));
  return cases;
}

TEST(ReferenceLayout, CasesCoverEveryOpButShape) {
  std::set<OpKind> covered;
  for (const OpCase& c : all_cases()) covered.insert(c.op);
  for (int k = 0; k <= static_cast<int>(OpKind::kReorder); ++k) {
    const auto op = static_cast<OpKind>(k);
    EXPECT_TRUE(op == OpKind::kShape || covered.count(op)) << ir::to_string(op);
  }
}

TEST(ReferenceLayout, EveryOpGivesIdenticalResultsInEveryLayout) {
  const std::vector<std::pair<std::string, ViewSpec>> specs{
      {"dense", {ViewLayout::kDense, 0}},
      {"permuted", {ViewLayout::kPermuted, 0}},
      {"dense slice", {ViewLayout::kDense, 3}},
      {"permuted slice", {ViewLayout::kPermuted, 2}},
  };
  for (const OpCase& c : all_cases()) {
    const Tensor baseline = run_kernel1(c.op, c.attrs, c.inputs, c.output);
    for (const auto& [in_name, in_spec] : specs)
      for (const auto& [out_name, out_spec] : specs) {
        const Tensor y = run_kernel1(c.op, c.attrs, c.inputs, c.output, in_spec, out_spec);
        EXPECT_TRUE(identical(y, baseline)) << c.name << ": inputs " << in_name << ", output " << out_name;
      }
  }
}

}  // namespace
}  // namespace inferd::test
