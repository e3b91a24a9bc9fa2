// Data-movement kernels on hand-checked inputs: copies (Reshape, Flatten, ...),
// Concat, Transpose, Pad, Gather, Slice, Reorder.
#include <gtest/gtest.h>

#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

Tensor iota(const Shape& shape) {
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.floats()[i] = static_cast<float>(i);
  return t;
}

TEST(ReferenceCopies, KeepRowMajorOrderAcrossShapes) {
  const Tensor x = iota({2, 3, 2, 2});
  const Tensor shape = Tensor::from_int64s({2}, std::vector<int64_t>{2, -1});
  for (OpKind op : {OpKind::kFlatten, OpKind::kReshape}) {
    const Tensor y = run_kernel1(op, {}, {x, shape}, {2, 12});
    EXPECT_EQ(values_of(y), values_of(x)) << ir::to_string(op);
  }
  EXPECT_EQ(values_of(run_kernel1(OpKind::kSqueeze, {}, {iota({1, 3, 1, 2})}, {3, 2})), values_of(iota({3, 2})));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kUnsqueeze, {}, {iota({3, 2})}, {1, 3, 1, 2})), values_of(iota({3, 2})));
  EXPECT_EQ(values_of(run_kernel1(OpKind::kIdentity, {}, {x}, x.shape())), values_of(x));
}

TEST(ReferenceCopies, ReadsAPermutedViewInLogicalOrder) {
  // An NHWC input flattened: the output is still the logical NCHW order.
  const Tensor x = iota({1, 2, 2, 3});
  const Tensor y = run_kernel1(OpKind::kFlatten, {}, {x}, {1, 12}, {ViewLayout::kPermuted});
  EXPECT_EQ(values_of(y), values_of(x));
}

TEST(ReferenceReorder, WritesTheOtherLayout) {
  const Tensor x = iota({1, 2, 2, 2});
  const ConstTensorView in{x.raw(), x.shape(), dense_strides(x.shape())};
  std::vector<float> nhwc(8, -1.0f);
  const TensorView out{nhwc.data(), x.shape(), nhwc_strides(x.shape())};
  ref::reference_kernel(OpKind::kReorder)({}, std::span(&in, 1), std::span(&out, 1));
  // NCHW 0..7 is c0: [0 1; 2 3], c1: [4 5; 6 7]; NHWC interleaves the channels.
  EXPECT_EQ(nhwc, (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
}

TEST(ReferenceConcat, AlongChannelsAndLastAxis) {
  ir::Attributes channels;
  channels.set("axis", int64_t{1});
  const Tensor y = run_kernel1(OpKind::kConcat, channels,
                               {floats({1, 1, 1, 2}, {1, 2}), floats({1, 2, 1, 2}, {3, 4, 5, 6})}, {1, 3, 1, 2});
  EXPECT_EQ(values_of(y), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  ir::Attributes last;
  last.set("axis", int64_t{-1});
  const Tensor z = run_kernel1(OpKind::kConcat, last, {floats({2, 1}, {1, 2}), floats({2, 2}, {3, 4, 5, 6})}, {2, 3});
  EXPECT_EQ(values_of(z), (std::vector<float>{1, 3, 4, 2, 5, 6}));
}

TEST(ReferenceTranspose, PermAndDefaultReverse) {
  ir::Attributes to_nhwc;
  to_nhwc.set("perm", std::vector<int64_t>{0, 2, 3, 1});
  const Tensor y = run_kernel1(OpKind::kTranspose, to_nhwc, {iota({1, 2, 2, 2})}, {1, 2, 2, 2});
  EXPECT_EQ(values_of(y), (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
  const Tensor t = run_kernel1(OpKind::kTranspose, {}, {iota({2, 3})}, {3, 2});
  EXPECT_EQ(values_of(t), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(ReferencePad, ConstantValueOnEachSide) {
  ir::Attributes a;
  a.set("pads", std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 2});  // H begin 1, W end 2
  a.set("value", 9.0f);
  const Tensor y = run_kernel1(OpKind::kPad, a, {floats({1, 1, 2, 2}, {1, 2, 3, 4})}, {1, 1, 3, 4});
  EXPECT_EQ(values_of(y), (std::vector<float>{9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9}));
  ir::Attributes crop;
  crop.set("pads", std::vector<int64_t>{-1, 1, 0, 0});  // drop the first row, one zero column in front
  const Tensor z = run_kernel1(OpKind::kPad, crop, {floats({2, 2}, {1, 2, 3, 4})}, {1, 3});
  EXPECT_EQ(values_of(z), (std::vector<float>{0, 3, 4}));
}

TEST(ReferenceGather, IndicesAlongAnAxis) {
  const Tensor data = iota({3, 2});  // [[0,1],[2,3],[4,5]]
  ir::Attributes rows;
  rows.set("axis", int64_t{0});
  const Tensor idx = Tensor::from_int64s({2, 2}, std::vector<int64_t>{2, 0, -1, 1});
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGather, rows, {data, idx}, {2, 2, 2})),
            (std::vector<float>{4, 5, 0, 1, 4, 5, 2, 3}));
  ir::Attributes cols;
  cols.set("axis", int64_t{1});
  const Tensor scalar = Tensor::from_int64s({}, std::vector<int64_t>{1});
  EXPECT_EQ(values_of(run_kernel1(OpKind::kGather, cols, {data, scalar}, {3})), (std::vector<float>{1, 3, 5}));
}

TEST(ReferenceSlice, ChannelRange) {
  ir::Attributes a;
  a.set("axis", int64_t{1});
  a.set("start", int64_t{1});
  a.set("end", int64_t{3});
  const Tensor y = run_kernel1(OpKind::kSlice, a, {iota({2, 4, 1, 1})}, {2, 2, 1, 1});
  EXPECT_EQ(values_of(y), (std::vector<float>{1, 2, 5, 6}));
}

TEST(ReferenceDispatch, EveryOpButShapeHasAKernel) {
  for (int k = 0; k <= static_cast<int>(OpKind::kReorder); ++k) {
    const auto op = static_cast<OpKind>(k);
    EXPECT_EQ(ref::reference_kernel(op) == nullptr, op == OpKind::kShape) << ir::to_string(op);
  }
}

}  // namespace
}  // namespace inferd::test
