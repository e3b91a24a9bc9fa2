// Broken, unsupported and hostile models: each is rejected with a message that names
// what is wrong.
#include <gtest/gtest.h>

#include "import/onnx/onnx_importer.h"
#include "import/onnx_model_builder.h"

namespace inferd {
namespace {

using test::OnnxModelBuilder;
using test::set_attr;
using Ints = std::vector<int64_t>;

Status import_status(const OnnxModelBuilder& b) { return b.import().status(); }

void expect_error(const OnnxModelBuilder& b, StatusCode code, const std::string& message) {
  const Status s = import_status(b);
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_EQ(s.message(), message);
}

void expect_error_containing(const OnnxModelBuilder& b, StatusCode code, const std::string& part) {
  const Status s = import_status(b);
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

// x [1,3,8,8] -> Conv(w [4,3,3,3]) -> y, the conv named "conv".
OnnxModelBuilder conv_model(int64_t opset = 13, const Ints& w_shape = {4, 3, 3, 3}) {
  OnnxModelBuilder b(opset);
  b.input("x", {1, 3, 8, 8});
  b.weight("w", w_shape);
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  b.output("y");
  return b;
}

onnx::NodeProto& node0(OnnxModelBuilder& b) { return *b.graph().mutable_node(0); }

TEST(OnnxBadModels, GarbageAndEmptyBytes) {
  const std::vector<uint8_t> garbage{0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
  auto g = import_onnx_bytes(garbage, "model.onnx", "");
  EXPECT_EQ(g.status().message(), "model.onnx: not a valid ONNX model (protobuf parse failed; truncated or not an .onnx file?)");
  auto empty = import_onnx_bytes({}, "model.onnx", "");
  EXPECT_EQ(empty.status().message(), "model.onnx: not a valid ONNX model (no graph)");
}

TEST(OnnxBadModels, TruncatedSmallModel) {
  OnnxModelBuilder b = conv_model();
  const auto bytes = b.bytes();
  auto g = import_onnx_bytes(std::span<const uint8_t>(bytes.data(), bytes.size() - 7), "model.onnx", "");
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss) << g.status().message();
  EXPECT_NE(g.status().message().find("model.onnx: not a valid ONNX model (protobuf parse failed"), std::string::npos);
}

TEST(OnnxBadModels, UnknownOperator) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("Gelu", {"x"}, {"y"}, "foo");
  b.output("y");
  expect_error(b, StatusCode::kUnimplemented, "model.onnx: node 'foo' (Gelu): unsupported operator Gelu (opset 13)");
}

TEST(OnnxBadModels, OtherDomainIsUnimplemented) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"}, "r").set_domain("com.microsoft");
  b.output("y");
  expect_error(b, StatusCode::kUnimplemented,
               "model.onnx: node 'r' (Relu): operator domain 'com.microsoft' is not supported (only the default "
               "ONNX domain)");
}

TEST(OnnxBadModels, BogusAutoPad) {
  OnnxModelBuilder b = conv_model();
  set_attr(node0(b), "auto_pad", std::string("BOGUS"));
  expect_error(b, StatusCode::kInvalidArgument,
               "model.onnx: node 'conv' (Conv): attribute 'auto_pad' has unsupported value 'BOGUS' (expected "
               "NOTSET, VALID, SAME_UPPER or SAME_LOWER)");
}

TEST(OnnxBadModels, MaxPoolStorageOrder) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 2, 4, 4});
  auto& pool = b.node("MaxPool", {"x"}, {"y"}, "pool");
  set_attr(pool, "kernel_shape", Ints{2, 2});
  set_attr(pool, "storage_order", int64_t{1});
  b.output("y");
  expect_error(b, StatusCode::kUnimplemented,
               "model.onnx: node 'pool' (MaxPool): attribute 'storage_order'=1 (column-major Indices) is not "
               "supported");
}

TEST(OnnxBadModels, WrongAttributeTypeAndUnknownAttribute) {
  OnnxModelBuilder b = conv_model();
  set_attr(node0(b), "strides", 2.0f);
  expect_error(b, StatusCode::kInvalidArgument, "model.onnx: node 'conv' (Conv): attribute 'strides' must be a list of ints");
  OnnxModelBuilder c = conv_model();
  set_attr(node0(c), "fancy", int64_t{1});
  expect_error(c, StatusCode::kUnimplemented, "model.onnx: node 'conv' (Conv): attribute 'fancy' is not supported");
}

TEST(OnnxBadModels, ConvChannelMismatch) {
  expect_error(conv_model(13, {4, 2, 3, 3}), StatusCode::kInvalidArgument,
               "model.onnx: node 'conv' (Conv): input channels 3 do not match weight 2 x group 1");
}

TEST(OnnxBadModels, ConvKernelShapeMismatch) {
  OnnxModelBuilder b = conv_model();
  set_attr(node0(b), "kernel_shape", Ints{5, 5});
  expect_error(b, StatusCode::kInvalidArgument,
               "model.onnx: node 'conv' (Conv): kernel_shape 5x5 does not match weight 3x3 ('w' [4,3,3,3])");
}

TEST(OnnxBadModels, Conv3dIsUnimplemented) {
  OnnxModelBuilder b = conv_model(13, {4, 3, 3, 3, 3});
  expect_error_containing(b, StatusCode::kUnimplemented, "only 2-D convolution is supported");
}

TEST(OnnxBadModels, MissingInitializer) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  b.output("y");
  expect_error(b, StatusCode::kInvalidArgument,
               "model.onnx: node 'conv' (Conv): input 'w' is not defined (no initializer, graph input or node output "
               "has that name)");
}

TEST(OnnxBadModels, Cycle) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("Add", {"x", "b"}, {"a"}, "first");
  b.node("Relu", {"a"}, {"b"}, "second");
  b.output("b");
  expect_error_containing(b, StatusCode::kInvalidArgument, "the graph has a cycle");
}

TEST(OnnxBadModels, GemmInnerDimMismatch) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 8});
  b.weight("w", {7, 5});
  b.node("Gemm", {"x", "w"}, {"y"}, "fc");
  b.output("y");
  expect_error(b, StatusCode::kInvalidArgument, "model.onnx: node 'fc' (Gemm): A is 2x8 (K=8) but B is 7x5 (K=7)");
}

TEST(OnnxBadModels, ConcatNonAxisDims) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 2, 4, 4});
  b.input("z", {1, 3, 5, 4});
  set_attr(b.node("Concat", {"x", "z"}, {"y"}, "cat"), "axis", int64_t{1});
  b.output("y");
  expect_error(b, StatusCode::kInvalidArgument,
               "model.onnx: node 'cat' (Concat): input 'z' [1,3,5,4] does not match input 'x' [1,2,4,4] outside axis 1");
}

TEST(OnnxBadModels, UsedSecondaryOutputs) {
  OnnxModelBuilder dropout(13);
  dropout.input("x", {1, 4});
  dropout.node("Dropout", {"x"}, {"y", "mask"}, "drop");
  dropout.output("y");
  dropout.output("mask");
  expect_error(dropout, StatusCode::kUnimplemented,
               "model.onnx: node 'drop' (Dropout): the mask output 'mask' is used, which inferd does not support");

  OnnxModelBuilder pool(13);
  pool.input("x", {1, 2, 4, 4});
  set_attr(pool.node("MaxPool", {"x"}, {"y", "idx"}, "pool"), "kernel_shape", Ints{2, 2});
  pool.node("Identity", {"idx"}, {"z"});
  pool.output("y");
  pool.output("z");
  expect_error_containing(pool, StatusCode::kUnimplemented, "node 'pool' (MaxPool): the Indices output 'idx' is used");

  OnnxModelBuilder bn(13);
  bn.input("x", {1, 3, 2, 2});
  for (const char* p : {"s", "b", "m", "v"}) bn.weight(p, {3});
  bn.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y", "rm"}, "bn");
  bn.output("rm");
  expect_error_containing(bn, StatusCode::kUnimplemented,
                          "node 'bn' (BatchNormalization): the training (running or saved statistics) output 'rm' is used");
}

TEST(OnnxBadModels, VersionsOutsideTheSupportedRange) {
  OnnxModelBuilder old_ir(13, 2);
  old_ir.input("x", {1});
  old_ir.node("Relu", {"x"}, {"y"});
  old_ir.output("y");
  expect_error(old_ir, StatusCode::kUnimplemented, "model.onnx: IR version 2 is not supported (3..10)");
  OnnxModelBuilder old_opset(6);
  old_opset.input("x", {1});
  old_opset.node("Relu", {"x"}, {"y"});
  old_opset.output("y");
  expect_error(old_opset, StatusCode::kUnimplemented, "model.onnx: opset 6 is not supported (7..21)");
  OnnxModelBuilder no_default(13);
  no_default.model().mutable_opset_import(0)->set_domain("com.example");
  expect_error(no_default, StatusCode::kInvalidArgument, "model.onnx: the model imports no opset of the default ONNX domain");
  OnnxModelBuilder hard_swish(13);
  hard_swish.input("x", {1});
  hard_swish.node("HardSwish", {"x"}, {"y"}, "hs");
  hard_swish.output("y");
  expect_error(hard_swish, StatusCode::kInvalidArgument,
               "model.onnx: node 'hs' (HardSwish): operator HardSwish needs opset 14; the model imports opset 13");
}

TEST(OnnxBadModels, OldAttributesOnNewOpsets) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4});
  set_attr(b.node("Clip", {"x"}, {"y"}, "clip"), "max", 6.0f);
  b.output("y");
  expect_error(b, StatusCode::kInvalidArgument, "model.onnx: node 'clip' (Clip): attribute 'max' is an input since opset 11");
}

TEST(OnnxBadModels, SymbolicNonBatchDim) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 3, 8, 8});
  b.graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param("H");
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  expect_error(b, StatusCode::kUnimplemented,
               "model.onnx: input 'x' has a symbolic dim 2 ('H'): only dim 0 (the batch) may be dynamic");
}

TEST(OnnxBadModels, HostileInitializers) {
  OnnxModelBuilder raw = conv_model();
  raw.graph().mutable_initializer(0)->clear_float_data();
  raw.graph().mutable_initializer(0)->set_raw_data(std::string(100, '\0'));
  expect_error(raw, StatusCode::kDataLoss,
               "model.onnx: initializer 'w': raw_data has 100 bytes, expected 432 (108 elements of FLOAT)");

  OnnxModelBuilder negative = conv_model();
  negative.graph().mutable_initializer(0)->set_dims(1, -3);
  expect_error(negative, StatusCode::kInvalidArgument, "model.onnx: initializer 'w' has a negative dim -3");

  OnnxModelBuilder huge = conv_model();
  huge.graph().mutable_initializer(0)->set_dims(0, int64_t{1} << 40);
  expect_error(huge, StatusCode::kResourceExhausted, "model.onnx: initializer 'w' has more than 2^31 elements");

  OnnxModelBuilder overflow = conv_model();
  for (int i = 0; i < 4; ++i) overflow.graph().mutable_initializer(0)->set_dims(i, int64_t{1} << 20);
  expect_error(overflow, StatusCode::kResourceExhausted, "model.onnx: initializer 'w' has more than 2^31 elements");

  OnnxModelBuilder short_typed = conv_model();
  short_typed.graph().mutable_initializer(0)->mutable_float_data()->RemoveLast();
  expect_error(short_typed, StatusCode::kDataLoss,
               "model.onnx: initializer 'w': has 107 values, expected 108 for dims [4,3,3,3]");

  OnnxModelBuilder doubles = conv_model();
  doubles.graph().mutable_initializer(0)->set_data_type(onnx::TensorProto::DOUBLE);
  expect_error_containing(doubles, StatusCode::kUnimplemented, "initializer 'w' has data type DOUBLE");

  OnnxModelBuilder twice = conv_model();
  twice.weight("w", {4, 3, 3, 3});
  expect_error(twice, StatusCode::kInvalidArgument, "model.onnx: value 'w' is defined more than once");
}

TEST(OnnxBadModels, BadCountsAndNames) {
  OnnxModelBuilder few(13);
  few.input("x", {1, 4});
  few.node("Add", {"x"}, {"y"}, "add");
  few.output("y");
  expect_error(few, StatusCode::kInvalidArgument, "model.onnx: node 'add' (Add): has 1 inputs, expected 2 to 2");

  OnnxModelBuilder no_output(13);
  no_output.input("x", {1, 4});
  no_output.node("Relu", {"x"}, {"y"});
  no_output.output("nothing");
  expect_error(no_output, StatusCode::kInvalidArgument, "model.onnx: graph output 'nothing' is not produced by any node");

  OnnxModelBuilder constant_output(13);
  constant_output.input("x", {1, 4});
  constant_output.weight("w", {4});
  constant_output.node("Add", {"x", "w"}, {"y"});
  constant_output.output("w");
  expect_error(constant_output, StatusCode::kUnimplemented,
               "model.onnx: graph output 'w' is a constant; outputs must be computed by nodes");

  OnnxModelBuilder empty_input(13);
  empty_input.input("x", {1, 3, 8, 8});
  empty_input.weight("w", {4, 3, 3, 3});
  empty_input.node("Conv", {"x", ""}, {"y"}, "conv");
  empty_input.output("y");
  expect_error(empty_input, StatusCode::kInvalidArgument, "model.onnx: node 'conv' (Conv): required input #1 is empty");
}

TEST(OnnxBadModels, DynamicBatchThatWouldNeedItsValue) {
  OnnxModelBuilder reshape(13);
  reshape.input("x", {-1, 4, 2});
  reshape.ints("shape", {8, -1});
  reshape.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  reshape.output("y");
  expect_error_containing(reshape, StatusCode::kUnimplemented,
                          "model.onnx: node 'reshape' (Reshape): Reshape from [N,4,2] to a fixed shape needs the "
                          "concrete batch size");

  OnnxModelBuilder gather(13);
  gather.input("x", {-1, 4});
  gather.ints("idx", {0});
  gather.node("Gather", {"x", "idx"}, {"y"}, "g");
  gather.output("y");
  expect_error(gather, StatusCode::kUnimplemented,
               "model.onnx: node 'g' (Gather): Gather along the batch axis needs its concrete size");

  OnnxModelBuilder transpose(13);
  transpose.input("x", {-1, 4});
  transpose.node("Transpose", {"x"}, {"y"}, "t");
  transpose.output("y");
  expect_error(transpose, StatusCode::kUnimplemented,
               "model.onnx: node 't' (Transpose): the batch (dynamic dim 0) would move to dim 1 of the output");
}

}  // namespace
}  // namespace inferd
