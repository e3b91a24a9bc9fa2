// Shape inference of the neural-network ops: expected shapes and error messages.
#include <gtest/gtest.h>

#include "graph_fixture.h"
#include "ir/shape_inference.h"

namespace inferd {
namespace {

using ir::OpKind;
using test::attrs;
using test::GraphFixture;
using Ints = std::vector<int64_t>;
constexpr int64_t N = kDynamicDim;

ir::Attributes conv_attrs(Ints strides, Ints pads, Ints dilations = {1, 1}, int64_t group = 1) {
  return attrs({{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", group}});
}

TEST(ShapeInferenceNn, ConvStridesPadsDilationsGroup) {
  GraphFixture f;
  auto x = f.input("x", {2, 8, 15, 20});
  auto y = f.node(OpKind::kConv, {x, f.weight("w", {16, 8, 3, 3})}, conv_attrs({2, 2}, {1, 1, 1, 1}));
  auto z = f.node(OpKind::kConv, {y, f.weight("w2", {16, 4, 3, 5})}, conv_attrs({1, 2}, {0, 2, 0, 1}, {2, 1}, 4));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(y), (Shape{2, 16, 8, 10}));  // (15+2-3)/2+1 = 8, (20+2-3)/2+1 = 10
  EXPECT_EQ(f.shape(z), (Shape{2, 16, 4, 5}));   // 8-5+1 = 4 (3 dilated by 2 spans 5), (10+3-5)/2+1 = 5
}

TEST(ShapeInferenceNn, ConvBiasResidualAndDynamicBatch) {
  GraphFixture f;
  auto x = f.input("x", {N, 3, 8, 8});
  auto r = f.input("r", {N, 4, 8, 8});
  auto y = f.node(OpKind::kConv, {x, f.weight("w", {4, 3, 3, 3}), f.weight("b", {4}), r}, conv_attrs({1, 1}, {1, 1, 1, 1}));
  auto d = f.node(OpKind::kConv, {x, f.weight("w1", {4, 3, 1, 1}), ir::kNoValue}, conv_attrs({1, 1}, {0, 0, 0, 0}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(y), (Shape{N, 4, 8, 8}));
  EXPECT_EQ(f.shape(d), (Shape{N, 4, 8, 8}));
}

TEST(ShapeInferenceNn, ConvErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 64, 8, 8}), f.weight("w", {8, 32, 3, 3})}, conv_attrs({1, 1}, {0, 0, 0, 0}), "conv3");
    f.expect_error(StatusCode::kInvalidArgument, "node 'conv3' (Conv): input channels 64 do not match weight 32 x group 1");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 4, 8, 8}), f.weight("w", {6, 1, 3, 3})}, conv_attrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 4), "c");
    f.expect_error(StatusCode::kInvalidArgument, "weight output channels 6 are not divisible by group 4");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 3, 4, 4}), f.weight("w", {2, 3, 5, 5})}, conv_attrs({1, 1}, {0, 0, 0, 0}), "c");
    f.expect_error(StatusCode::kInvalidArgument, "kernel 5 (dilated) is larger than the padded input height 4");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 3, 8, 8}), f.weight("w", {2, 3, 3, 3}), f.weight("b", {3})},
           conv_attrs({1, 1}, {0, 0, 0, 0}), "c");
    f.expect_error(StatusCode::kInvalidArgument, "bias input 'b' [3] does not match 2 output channels");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 3, 8}), f.weight("w", {2, 3, 3})}, {}, "c");
    f.expect_error(StatusCode::kUnimplemented, "only 2-D convolution is supported");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 3, 8, 8}), f.weight("w", {2, 3, 3, 3})}, conv_attrs({0, 1}, {0, 0, 0, 0}), "c");
    f.expect_error(StatusCode::kInvalidArgument, "attribute 'strides' value 0 is out of range");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConv, {f.input("x", {1, 3, 8, 8})}, {}, "c");
    f.expect_error(StatusCode::kInvalidArgument, "node 'c' (Conv): has 1 inputs, expected 2 to 4");
  }
}

ir::Attributes pool_attrs(Ints kernel, Ints strides, Ints pads, int64_t ceil_mode) {
  return attrs({{"kernel_shape", kernel}, {"strides", strides}, {"pads", pads}, {"ceil_mode", ceil_mode},
                {"count_include_pad", int64_t{0}}});
}

TEST(ShapeInferenceNn, PoolsWithCeilMode) {
  GraphFixture f;
  auto x = f.input("x", {1, 2, 5, 6});
  auto floor = f.node(OpKind::kMaxPool, {x}, pool_attrs({2, 2}, {2, 2}, {0, 0, 0, 0}, 0));
  auto ceil = f.node(OpKind::kMaxPool, {x}, pool_attrs({2, 2}, {2, 2}, {0, 0, 0, 0}, 1));
  // ceil((5+2-2)/2)+1 = 4, but the 4th window would start at 6 >= 5+1: dropped (as PyTorch/ORT).
  auto last = f.node(OpKind::kAveragePool, {x}, pool_attrs({2, 2}, {2, 2}, {1, 1, 1, 1}, 1));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(floor), (Shape{1, 2, 2, 3}));
  EXPECT_EQ(f.shape(ceil), (Shape{1, 2, 3, 3}));
  EXPECT_EQ(f.shape(last), (Shape{1, 2, 3, 4}));
}

TEST(ShapeInferenceNn, PoolErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kMaxPool, {f.input("x", {1, 2, 5, 5})}, pool_attrs({2, 2}, {1, 1}, {2, 0, 0, 0}, 0), "p");
    f.expect_error(StatusCode::kInvalidArgument, "pads 2 must be smaller than kernel_shape 2x2");
  }
  {
    GraphFixture f;
    f.node(OpKind::kMaxPool, {f.input("x", {1, 2, 5, 5})}, {}, "p");
    f.expect_error(StatusCode::kInvalidArgument, "node 'p' (MaxPool): attribute 'kernel_shape' is missing");
  }
}

TEST(ShapeInferenceNn, GlobalAveragePoolLrnBatchNormActivations) {
  GraphFixture f;
  auto x = f.input("x", {N, 6, 7, 7});
  auto gap = f.node(OpKind::kGlobalAveragePool, {x});
  auto lrn = f.node(OpKind::kLRN, {x}, attrs({{"size", int64_t{5}}}));
  auto bn = f.node(OpKind::kBatchNormalization,
                   {x, f.weight("s", {6}), f.weight("b", {6}), f.weight("m", {6}), f.weight("v", {6})});
  std::vector<ir::ValueId> acts;
  for (OpKind op : {OpKind::kRelu, OpKind::kClip, OpKind::kLeakyRelu, OpKind::kSigmoid, OpKind::kHardSigmoid,
                    OpKind::kHardSwish})
    acts.push_back(f.node(op, {bn}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(gap), (Shape{N, 6, 1, 1}));
  EXPECT_EQ(f.shape(lrn), (Shape{N, 6, 7, 7}));
  EXPECT_EQ(f.shape(bn), (Shape{N, 6, 7, 7}));
  for (auto a : acts) EXPECT_EQ(f.shape(a), (Shape{N, 6, 7, 7}));
}

TEST(ShapeInferenceNn, BatchNormAndActivationErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kBatchNormalization,
           {f.input("x", {1, 6, 2, 2}), f.weight("s", {6}), f.weight("b", {5}), f.weight("m", {6}), f.weight("v", {6})},
           {}, "bn");
    f.expect_error(StatusCode::kInvalidArgument, "node 'bn' (BatchNormalization): bias input 'b' [5] does not match 6 channels");
  }
  {
    GraphFixture f;
    f.node(OpKind::kRelu, {f.input("x", {4}, DataType::kInt64)}, {}, "r");
    f.expect_error(StatusCode::kInvalidArgument, "node 'r' (Relu): input 'x' [4] is int64, expected a float type");
  }
  {
    GraphFixture f;
    f.node(OpKind::kLRN, {f.input("x", {1, 6, 2, 2})}, {}, "lrn");
    f.expect_error(StatusCode::kInvalidArgument, "size 0 must be >= 1");
  }
}

TEST(ShapeInferenceNn, GemmTransposesAndBias) {
  GraphFixture f;
  auto a = f.input("a", {N, 16});
  auto y = f.node(OpKind::kGemm, {a, f.weight("w", {10, 16}), f.weight("c", {10})}, attrs({{"transB", int64_t{1}}}));
  auto at = f.input("at", {16, 3});
  auto z = f.node(OpKind::kGemm, {at, f.weight("w2", {16, 5}), f.weight("c2", {3, 1})}, attrs({{"transA", int64_t{1}}}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(y), (Shape{N, 10}));
  EXPECT_EQ(f.shape(z), (Shape{3, 5}));
}

TEST(ShapeInferenceNn, GemmErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kGemm, {f.input("a", {2, 16}), f.weight("w", {10, 15})}, attrs({{"transB", int64_t{1}}}), "fc");
    f.expect_error(StatusCode::kInvalidArgument, "node 'fc' (Gemm): A is 2x16 (K=16) but B is 15x10 (K=15)");
  }
  {
    GraphFixture f;
    f.node(OpKind::kGemm, {f.input("a", {2, 16}), f.weight("w", {16, 4}), f.weight("c", {3})}, {}, "fc");
    f.expect_error(StatusCode::kInvalidArgument, "C input 'c' [3] does not broadcast to [2,4]");
  }
  {
    GraphFixture f;
    f.node(OpKind::kGemm, {f.input("a", {N, 16}), f.weight("w", {N, 4})}, attrs({{"transA", int64_t{1}}}), "fc");
    f.expect_error(StatusCode::kUnimplemented, "Gemm with transA=1 needs the concrete batch size");
  }
}

TEST(ShapeInferenceNn, MatMulRanks) {
  GraphFixture f;
  auto two = f.node(OpKind::kMatMul, {f.input("a", {N, 4}), f.weight("b", {4, 6})});
  auto batched = f.node(OpKind::kMatMul, {f.input("c", {2, 1, 3, 4}), f.weight("d", {5, 4, 6})});
  auto vec_left = f.node(OpKind::kMatMul, {f.weight("v", {4}), f.weight("e", {2, 4, 6})});
  auto vec_right = f.node(OpKind::kMatMul, {f.input("m", {3, 4}), f.weight("u", {4})});
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(two), (Shape{N, 6}));
  EXPECT_EQ(f.shape(batched), (Shape{2, 5, 3, 6}));
  EXPECT_EQ(f.shape(vec_left), (Shape{2, 6}));
  EXPECT_EQ(f.shape(vec_right), (Shape{3}));
}

TEST(ShapeInferenceNn, MatMulErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kMatMul, {f.input("a", {3, 4}), f.weight("b", {5, 6})}, {}, "mm");
    f.expect_error(StatusCode::kInvalidArgument, "node 'mm' (MatMul): inner dims differ: A [3,4] (K=4) and B [5,6] (K=5)");
  }
  {
    GraphFixture f;
    f.node(OpKind::kMatMul, {f.input("a", {2, 3, 4}), f.weight("b", {3, 4, 6})}, {}, "mm");
    f.expect_error(StatusCode::kInvalidArgument, "cannot broadcast [2] with [3]");
  }
}

TEST(ShapeInferenceNn, BroadcastingAddMulSum) {
  GraphFixture f;
  auto x = f.input("x", {N, 3, 4, 5});
  auto add = f.node(OpKind::kAdd, {x, f.weight("b", {3, 1, 1})});
  auto mul = f.node(OpKind::kMul, {f.weight("s", {5}), x});
  auto same = f.node(OpKind::kAdd, {x, f.input("y", {N, 3, 4, 5})});
  auto sum = f.node(OpKind::kSum, {f.input("p", {2, 1, 4}), f.weight("q", {3, 1}), f.weight("r", {1, 1, 1})});
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(add), (Shape{N, 3, 4, 5}));
  EXPECT_EQ(f.shape(mul), (Shape{N, 3, 4, 5}));
  EXPECT_EQ(f.shape(same), (Shape{N, 3, 4, 5}));
  EXPECT_EQ(f.shape(sum), (Shape{2, 3, 4}));
}

TEST(ShapeInferenceNn, BroadcastErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kAdd, {f.input("x", {1, 3, 4}), f.weight("b", {2, 4})}, {}, "add");
    f.expect_error(StatusCode::kInvalidArgument, "node 'add' (Add): cannot broadcast [1,3,4] with [2,4]");
  }
  {
    GraphFixture f;
    f.node(OpKind::kAdd, {f.input("x", {N, 3}), f.weight("b", {4, 3})}, {}, "add");
    f.expect_error(StatusCode::kUnimplemented, "needs the concrete batch size");
  }
  {
    GraphFixture f;  // the batch would land on dim 1
    f.node(OpKind::kMul, {f.input("x", {N, 3}), f.weight("b", {2, 1, 3})}, {}, "mul");
    f.expect_error(StatusCode::kUnimplemented, "the batch (dynamic dim 0) would move to dim 1 of the output");
  }
}

TEST(ShapeInferenceNn, SoftmaxAxis) {
  GraphFixture f;
  auto y = f.node(OpKind::kSoftmax, {f.input("x", {N, 10})}, attrs({{"axis", int64_t{-1}}}));
  ASSERT_TRUE(f.infer().is_ok());
  EXPECT_EQ(f.shape(y), (Shape{N, 10}));
  GraphFixture bad;
  bad.node(OpKind::kSoftmax, {bad.input("x", {2, 10})}, attrs({{"axis", int64_t{2}}}), "sm");
  bad.expect_error(StatusCode::kInvalidArgument, "node 'sm' (Softmax): axis=2 is out of range for rank 2");
}

}  // namespace
}  // namespace inferd
