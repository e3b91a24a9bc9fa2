// Shape inference of the tensor-manipulation ops: expected shapes and error messages.
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

TEST(ShapeInferenceTensor, ConcatAlongChannels) {
  GraphFixture f;
  auto z = f.node(OpKind::kConcat, {f.input("a", {N, 2, 4, 4}), f.input("b", {N, 3, 4, 4})}, attrs({{"axis", int64_t{-3}}}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(z), (Shape{N, 5, 4, 4}));
  // A constant with batch 1 next to dynamic-batch inputs is a mismatch.
  GraphFixture mixed;
  mixed.node(OpKind::kConcat, {mixed.input("a", {N, 2, 4, 4}), mixed.weight("c", {1, 1, 4, 4})},
             attrs({{"axis", int64_t{1}}}), "cat");
  mixed.expect_error(StatusCode::kInvalidArgument, "input 'c' [1,1,4,4] does not match input 'a' [N,2,4,4] outside axis 1");
}

TEST(ShapeInferenceTensor, ConcatErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kConcat, {f.input("a", {1, 2, 4, 4}), f.input("b", {1, 3, 4, 5})}, attrs({{"axis", int64_t{1}}}), "cat");
    f.expect_error(StatusCode::kInvalidArgument,
                   "node 'cat' (Concat): input 'b' [1,3,4,5] does not match input 'a' [1,2,4,4] outside axis 1");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConcat, {f.input("a", {N, 2}), f.input("b", {N, 2})}, attrs({{"axis", int64_t{0}}}), "cat");
    f.expect_error(StatusCode::kUnimplemented, "Concat along the batch axis needs its concrete value");
  }
  {
    GraphFixture f;
    f.node(OpKind::kConcat, {f.input("a", {1, 2})}, {}, "cat");
    f.expect_error(StatusCode::kInvalidArgument, "node 'cat' (Concat): attribute 'axis' is missing");
  }
}

TEST(ShapeInferenceTensor, Flatten) {
  GraphFixture f;
  auto x = f.input("x", {N, 3, 4, 5});
  auto one = f.node(OpKind::kFlatten, {x}, attrs({{"axis", int64_t{1}}}));
  auto s = f.input("s", {2, 3, 4});
  auto zero = f.node(OpKind::kFlatten, {s}, attrs({{"axis", int64_t{0}}}));
  auto two = f.node(OpKind::kFlatten, {s}, attrs({{"axis", int64_t{-1}}}));
  auto end = f.node(OpKind::kFlatten, {s}, attrs({{"axis", int64_t{3}}}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(one), (Shape{N, 60}));
  EXPECT_EQ(f.shape(zero), (Shape{1, 24}));
  EXPECT_EQ(f.shape(two), (Shape{6, 4}));
  EXPECT_EQ(f.shape(end), (Shape{24, 1}));
  GraphFixture bad;
  bad.node(OpKind::kFlatten, {bad.input("x", {N, 3, 4})}, attrs({{"axis", int64_t{2}}}), "fl");
  bad.expect_error(StatusCode::kUnimplemented, "node 'fl' (Flatten): Flatten with axis 2 of input 'x' [N,3,4] merges the batch");
}

TEST(ShapeInferenceTensor, ReshapeZeroMinusOneAllowZero) {
  GraphFixture f;
  auto x = f.input("x", {2, 3, 4});
  auto a = f.node(OpKind::kReshape, {x, f.ints("s1", {0, -1})});
  auto b = f.node(OpKind::kReshape, {x, f.ints("s2", {4, 0, 2})});
  auto c = f.node(OpKind::kReshape, {x, f.ints("s3", {-1})});
  auto e = f.input("e", {0, 3});
  auto d = f.node(OpKind::kReshape, {e, f.ints("s4", {3, 0})}, attrs({{"allowzero", int64_t{1}}}));
  auto dyn = f.input("dyn", {N, 1000});
  auto g = f.node(OpKind::kReshape, {dyn, f.ints("s5", {-1, 1000, 1, 1})});
  auto h = f.node(OpKind::kReshape, {f.input("h", {N, 4, 6}), f.ints("s6", {0, 2, -1})});
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(a), (Shape{2, 12}));
  EXPECT_EQ(f.shape(b), (Shape{4, 3, 2}));
  EXPECT_EQ(f.shape(c), (Shape{24}));
  EXPECT_EQ(f.shape(d), (Shape{3, 0}));
  EXPECT_EQ(f.shape(g), (Shape{N, 1000, 1, 1}));
  EXPECT_EQ(f.shape(h), (Shape{N, 2, 12}));
}

TEST(ShapeInferenceTensor, ReshapeErrors) {
  const auto expect = [](Shape in, Ints target, StatusCode code, const std::string& part) {
    GraphFixture f;
    f.node(OpKind::kReshape, {f.input("x", in), f.ints("s", target)}, {}, "rs");
    f.expect_error(code, part);
  };
  expect({2, 3}, {-1, -1}, StatusCode::kInvalidArgument, "the target shape has more than one -1");
  expect({2, 3}, {4, 2}, StatusCode::kInvalidArgument, "cannot reshape [2,3] (6 elements) to [4,2]");
  expect({2, 3}, {4, -1}, StatusCode::kInvalidArgument, "cannot reshape [2,3] to [4,1] with -1 at dim 1");
  expect({2, 3}, {0, 0, 0}, StatusCode::kInvalidArgument, "target dim 2 is 0 (copy) but the input has rank 2");
  expect({2, 3}, {-2, 3}, StatusCode::kInvalidArgument, "target dim 0 is -2");
  expect({N, 4}, {2, -1}, StatusCode::kUnimplemented, "Reshape from [N,4] to a fixed shape needs the concrete batch size");
  expect({N, 4}, {-1, 2}, StatusCode::kUnimplemented, "moves part of the batch into other dims");
  GraphFixture f;
  f.node(OpKind::kReshape, {f.input("x", {2, 3}), f.input("s", {2}, DataType::kInt64)}, {}, "rs");
  f.expect_error(StatusCode::kUnimplemented, "node 'rs' (Reshape): the target shape 's' is not a constant");
}

TEST(ShapeInferenceTensor, ReshapeTargetFromShapeChain) {
  GraphFixture f;
  auto x = f.input("x", {N, 8, 2, 2});
  auto s = f.node(OpKind::kShape, {x});
  auto n = f.node(OpKind::kGather, {s, f.ints("zero", {0}, true)}, attrs({{"axis", int64_t{0}}}));
  auto n1 = f.node(OpKind::kUnsqueeze, {n}, attrs({{"axes", Ints{0}}}));
  auto target = f.node(OpKind::kConcat, {n1, f.ints("rest", {-1})}, attrs({{"axis", int64_t{0}}}));
  auto y = f.node(OpKind::kReshape, {x, target});
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(s), (Shape{4}));
  EXPECT_EQ(f.g.value(s).dtype, DataType::kInt64);
  EXPECT_EQ(f.shape(n), (Shape{}));
  EXPECT_EQ(f.shape(n1), (Shape{1}));
  EXPECT_EQ(f.shape(target), (Shape{2}));
  EXPECT_EQ(f.shape(y), (Shape{N, 32}));
}

TEST(ShapeInferenceTensor, TransposeSqueezeUnsqueeze) {
  GraphFixture f;
  auto x = f.input("x", {N, 3, 1, 5});
  auto t = f.node(OpKind::kTranspose, {x}, attrs({{"perm", Ints{0, 3, 1, 2}}}));
  auto sq = f.node(OpKind::kSqueeze, {x}, attrs({{"axes", Ints{-2}}}));
  auto un = f.node(OpKind::kUnsqueeze, {sq}, attrs({{"axes", Ints{1, -1}}}));
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(t), (Shape{N, 5, 3, 1}));
  EXPECT_EQ(f.shape(sq), (Shape{N, 3, 5}));
  EXPECT_EQ(f.shape(un), (Shape{N, 1, 3, 5, 1}));
}

TEST(ShapeInferenceTensor, TransposeSqueezeUnsqueezeErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kTranspose, {f.input("x", {2, 3, 4})}, attrs({{"perm", Ints{0, 0, 1}}}), "t");
    f.expect_error(StatusCode::kInvalidArgument, "node 't' (Transpose): perm is not a permutation of the input dims");
  }
  {
    GraphFixture f;
    f.node(OpKind::kSqueeze, {f.input("x", {2, 3})}, attrs({{"axes", Ints{1}}}), "sq");
    f.expect_error(StatusCode::kInvalidArgument, "node 'sq' (Squeeze): cannot squeeze dim 1 of size 3");
  }
  {
    GraphFixture f;
    f.node(OpKind::kSqueeze, {f.input("x", {N, 1})}, {}, "sq");
    f.expect_error(StatusCode::kUnimplemented, "Squeeze without axes needs the concrete batch size");
  }
  {
    GraphFixture f;
    f.node(OpKind::kUnsqueeze, {f.input("x", {2, 3})}, attrs({{"axes", Ints{3}}}), "un");
    f.expect_error(StatusCode::kInvalidArgument, "node 'un' (Unsqueeze): axis 3 is out of range for rank 3");
  }
  {
    GraphFixture f;
    f.node(OpKind::kUnsqueeze, {f.input("x", {N, 3})}, attrs({{"axes", Ints{0}}}), "un");
    f.expect_error(StatusCode::kUnimplemented, "the batch (dynamic dim 0) would move to dim 1 of the output");
  }
}

TEST(ShapeInferenceTensor, PadShapeGatherSliceReorderIdentity) {
  GraphFixture f;
  auto x = f.input("x", {N, 3, 4, 4});
  auto pad = f.node(OpKind::kPad, {x}, attrs({{"pads", Ints{0, 0, 1, 2, 0, 0, 3, 4}}, {"value", 0.0f}}));
  auto shape = f.node(OpKind::kShape, {x});
  auto table = f.weight("table", {10, 6});
  auto rows = f.node(OpKind::kGather, {table, f.ints("idx", {1, 9, -10})}, attrs({{"axis", int64_t{0}}}));
  auto cols = f.node(OpKind::kGather, {x, f.ints("c", {2}, true)}, attrs({{"axis", int64_t{1}}}));
  auto slice = f.node(OpKind::kSlice, {x}, attrs({{"axis", int64_t{1}}, {"start", int64_t{1}}, {"end", int64_t{3}}}));
  auto reorder = f.node(OpKind::kReorder, {x});
  auto identity = f.node(OpKind::kIdentity, {shape});
  ASSERT_TRUE(f.infer().is_ok()) << f.infer().message();
  EXPECT_EQ(f.shape(pad), (Shape{N, 3, 8, 10}));
  EXPECT_EQ(f.shape(shape), (Shape{4}));
  EXPECT_EQ(f.shape(rows), (Shape{3, 6}));
  EXPECT_EQ(f.shape(cols), (Shape{N, 4, 4}));
  EXPECT_EQ(f.shape(slice), (Shape{N, 2, 4, 4}));
  EXPECT_EQ(f.shape(reorder), (Shape{N, 3, 4, 4}));
  EXPECT_EQ(f.shape(identity), (Shape{4}));
  EXPECT_EQ(f.g.value(identity).dtype, DataType::kInt64);
}

TEST(ShapeInferenceTensor, PadGatherSliceErrors) {
  {
    GraphFixture f;
    f.node(OpKind::kPad, {f.input("x", {N, 3})}, attrs({{"pads", Ints{1, 0, 0, 0}}}), "pad");
    f.expect_error(StatusCode::kUnimplemented, "padding the batch dim needs its concrete value");
  }
  {
    GraphFixture f;
    f.node(OpKind::kPad, {f.input("x", {2, 3})}, attrs({{"pads", Ints{1, 0}}}), "pad");
    f.expect_error(StatusCode::kInvalidArgument, "node 'pad' (Pad): pads has 2 values, expected 4");
  }
  {
    GraphFixture f;
    f.node(OpKind::kPad, {f.input("x", {2, 3})}, attrs({{"pads", Ints{0, 0, 0, int64_t{1} << 31}}}), "pad");
    f.expect_error(StatusCode::kInvalidArgument, "has more than 2^31 elements");
  }
  {
    GraphFixture f;
    f.node(OpKind::kGather, {f.weight("t", {4, 2}), f.ints("i", {4})}, attrs({{"axis", int64_t{0}}}), "g");
    f.expect_error(StatusCode::kInvalidArgument, "node 'g' (Gather): index 4 is out of range for axis 0 of size 4");
  }
  {
    GraphFixture f;
    f.node(OpKind::kSlice, {f.input("x", {1, 4})}, attrs({{"axis", int64_t{1}}, {"start", int64_t{2}}, {"end", int64_t{5}}}), "sl");
    f.expect_error(StatusCode::kInvalidArgument, "range [2, 5) is not inside axis 1 of size 4");
  }
}

TEST(ShapeInferenceTensor, NodesAreInferredInOrderAndFailuresNameTheNode) {
  GraphFixture f;
  auto x = f.input("x", {1, 3, 8, 8});
  auto y = f.node(OpKind::kRelu, {x}, {}, "first");
  f.node(OpKind::kAdd, {y, f.weight("b", {4})}, {}, "second");
  const Status s = f.infer();
  EXPECT_EQ(s.message(), "node 'second' (Add): cannot broadcast [1,3,8,8] with [4]");
  EXPECT_EQ(f.shape(y), (Shape{1, 3, 8, 8}));  // the first node was inferred before the failure
}

}  // namespace
}  // namespace inferd
