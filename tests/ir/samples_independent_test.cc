// ir::samples_independent: which graphs may run a batch padded to a larger one.
#include <gtest/gtest.h>

#include "graph_fixture.h"

namespace inferd {
namespace {

using ir::OpKind;
using test::attrs;
using test::GraphFixture;
constexpr int64_t N = kDynamicDim;

TEST(SamplesIndependent, ConvSoftmaxOverClassesAndChannelConcat) {
  GraphFixture f;
  auto x = f.input("x", {N, 3, 8, 8});
  auto y = f.node(OpKind::kConv, {x, f.weight("w", {4, 3, 3, 3})},
                  attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}}));
  auto cat = f.node(OpKind::kConcat, {y, y}, attrs({{"axis", int64_t{1}}}));
  auto flat = f.node(OpKind::kFlatten, {cat}, attrs({{"axis", int64_t{1}}}));
  f.node(OpKind::kSoftmax, {flat}, attrs({{"axis", int64_t{-1}}}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_TRUE(ir::samples_independent(f.g));
}

TEST(SamplesIndependent, SoftmaxOverTheBatchMixesSamples) {
  GraphFixture f;
  f.node(OpKind::kSoftmax, {f.input("x", {N, 10})}, attrs({{"axis", int64_t{0}}}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_FALSE(ir::samples_independent(f.g));
  GraphFixture negative;  // -2 on a rank-2 value is axis 0 as well
  negative.node(OpKind::kSoftmax, {negative.input("x", {N, 10})}, attrs({{"axis", int64_t{-2}}}));
  ASSERT_TRUE(negative.infer().is_ok());
  EXPECT_FALSE(ir::samples_independent(negative.g));
}

TEST(SamplesIndependent, ABatchMovedOffAxisZeroMixesSamples) {
  GraphFixture f;
  // Shape inference refuses such a graph; the check must not rely on it having run.
  f.node(OpKind::kRelu, {f.input("x", {10, N})});
  EXPECT_FALSE(ir::samples_independent(f.g));
}

}  // namespace
}  // namespace inferd
