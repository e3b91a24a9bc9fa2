// Small ONNX models built in C++: attribute normalisation per operator and opset.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "import/onnx_model_builder.h"

namespace inferd {
namespace {

using ir::OpKind;
using test::OnnxModelBuilder;
using test::set_attr;
using Ints = std::vector<int64_t>;

ir::Graph import_ok(const OnnxModelBuilder& b) {
  auto g = b.import();
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  return g.is_ok() ? std::move(g).value() : ir::Graph{};
}

// Conv 1x3x7x7 with a 4x4 kernel, stride 2: output ceil(7/2) = 4, total padding
// (4-1)*2 + 4 - 7 = 3, the odd pixel at the end (UPPER) or the start (LOWER).
OnnxModelBuilder same_pad_conv(const std::string& mode) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 3, 7, 7});
  b.weight("w", {8, 3, 4, 4});
  auto& conv = b.node("Conv", {"x", "w"}, {"y"}, "conv");
  set_attr(conv, "auto_pad", mode);
  set_attr(conv, "strides", Ints{2, 2});
  b.output("y");
  return b;
}

TEST(OnnxOpsImport, ConvAutoPadSameUpper) {
  const ir::Graph g = import_ok(same_pad_conv("SAME_UPPER"));
  const ir::Node& conv = test::first_node(g, OpKind::kConv);
  EXPECT_EQ(conv.attrs.get_ints("pads"), (Ints{1, 1, 2, 2}));
  EXPECT_FALSE(conv.attrs.has("auto_pad"));
  EXPECT_FALSE(conv.attrs.has("onnx.auto_pad"));
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{1, 8, 4, 4}));
}

TEST(OnnxOpsImport, ConvAutoPadSameLowerAndValid) {
  const ir::Graph lower = import_ok(same_pad_conv("SAME_LOWER"));
  EXPECT_EQ(test::first_node(lower, OpKind::kConv).attrs.get_ints("pads"), (Ints{2, 2, 1, 1}));
  const ir::Graph valid = import_ok(same_pad_conv("VALID"));
  EXPECT_EQ(test::first_node(valid, OpKind::kConv).attrs.get_ints("pads"), (Ints{0, 0, 0, 0}));
  EXPECT_EQ(test::value_named(valid, "y").shape, (Shape{1, 8, 2, 2}));
}

TEST(OnnxOpsImport, ConvDefaultsAndKernelFromWeight) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 4, 9, 9});
  b.weight("w", {6, 2, 3, 3});
  b.weight("b", {6}, 2);
  set_attr(b.node("Conv", {"x", "w", "b"}, {"y"}), "group", int64_t{2});
  b.output("y");
  const ir::Graph g = import_ok(b);
  const ir::Node& conv = test::first_node(g, OpKind::kConv);
  EXPECT_EQ(conv.name, "y");  // unnamed nodes take their output's name
  EXPECT_EQ(conv.attrs.get_ints("strides"), (Ints{1, 1}));
  EXPECT_EQ(conv.attrs.get_ints("dilations"), (Ints{1, 1}));
  EXPECT_EQ(conv.attrs.get_ints("pads"), (Ints{0, 0, 0, 0}));
  EXPECT_EQ(conv.attrs.get_int("group", 0), 2);
  EXPECT_EQ(conv.inputs.size(), 3u);
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{2, 6, 7, 7}));
}

// ConvTranspose 1x4x5x6, weight [4, 3, 3, 3] with group 2 (6 outputs), stride 2, pads
// 1,0,1,2, output_padding 1: H = 2*4 + 1 + 3 - 2 = 10, W = 2*5 + 1 + 3 - 2 = 12.
TEST(OnnxOpsImport, ConvTransposeAttributesAndShape) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4, 5, 6});
  b.weight("w", {4, 3, 3, 3});
  b.weight("b", {6}, 2);
  auto& node = b.node("ConvTranspose", {"x", "w", "b"}, {"y"}, "up");
  set_attr(node, "group", int64_t{2});
  set_attr(node, "strides", Ints{2, 2});
  set_attr(node, "pads", Ints{1, 0, 1, 2});
  set_attr(node, "output_padding", Ints{1, 1});
  set_attr(node, "kernel_shape", Ints{3, 3});
  b.output("y");
  const ir::Graph g = import_ok(b);
  const ir::Node& up = test::first_node(g, OpKind::kConvTranspose);
  EXPECT_EQ(up.attrs.get_ints("output_padding"), (Ints{1, 1}));
  EXPECT_EQ(up.attrs.get_ints("dilations"), (Ints{1, 1}));
  EXPECT_EQ(up.attrs.get_int("group", 0), 2);
  EXPECT_FALSE(up.attrs.has("onnx.kernel_shape"));
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{1, 6, 10, 12}));
}

TEST(OnnxOpsImport, ConvTransposeRefusalsNameTheNode) {
  const auto error = [](const std::function<void(onnx::NodeProto&)>& set, Shape w = {4, 3, 3, 3}) {
    OnnxModelBuilder b(13);
    b.input("x", {1, 4, 5, 5});
    b.weight("w", w);
    set(b.node("ConvTranspose", {"x", "w"}, {"y"}, "up"));
    b.output("y");
    auto g = b.import();
    return g.is_ok() ? std::string("imported") : g.status().message();
  };
  const auto has = [](const std::string& message, const std::string& part) {
    return message.find(part) != std::string::npos;
  };
  const std::string shape = error([](onnx::NodeProto& n) { set_attr(n, "output_shape", Ints{10, 10}); });
  EXPECT_TRUE(has(shape, "'up'") && has(shape, "output_shape")) << shape;
  const std::string same = error([](onnx::NodeProto& n) { set_attr(n, "auto_pad", std::string("SAME_UPPER")); });
  EXPECT_TRUE(has(same, "'up'") && has(same, "auto_pad 'SAME_UPPER'")) << same;
  const std::string channels = error([](onnx::NodeProto&) {}, {3, 3, 3, 3});
  EXPECT_TRUE(has(channels, "'up'") && has(channels, "input channels 4 do not match weight")) << channels;
  // 1*(5-1) + 3 - 4 - 4 = -1 rows.
  const std::string negative = error([](onnx::NodeProto& n) { set_attr(n, "pads", Ints{4, 0, 4, 0}); });
  EXPECT_TRUE(has(negative, "'up'") && has(negative, "output height would be -1")) << negative;
  const std::string kernel = error([](onnx::NodeProto& n) { set_attr(n, "kernel_shape", Ints{2, 2}); });
  EXPECT_TRUE(has(kernel, "kernel_shape 2x2 does not match weight 3x3")) << kernel;
}

// Clip-6 (model opsets 7..10) takes min/max as attributes, Clip-11+ as optional inputs.
TEST(OnnxOpsImport, ClipAttributesBeforeOpset11InputsAfter) {
  OnnxModelBuilder old_form(10);
  old_form.input("x", {1, 4});
  auto& clip6 = old_form.node("Clip", {"x"}, {"y"});
  set_attr(clip6, "min", 0.0f);
  set_attr(clip6, "max", 6.0f);
  old_form.output("y");

  OnnxModelBuilder new_form(13);
  new_form.input("x", {1, 4});
  new_form.scalar("lo", 0.0f);
  new_form.scalar("hi", 6.0f);
  new_form.node("Clip", {"x", "lo", "hi"}, {"y"});
  new_form.output("y");

  for (const auto* b : {&old_form, &new_form}) {
    const ir::Graph g = import_ok(*b);
    const ir::Node& clip = test::first_node(g, OpKind::kClip);
    EXPECT_EQ(clip.inputs.size(), 1u);
    EXPECT_EQ(clip.attrs.get_float("min", -1), 0.0f);
    EXPECT_EQ(clip.attrs.get_float("max", -1), 6.0f);
    EXPECT_EQ(g.value_count(), 2u);  // the min/max constants are gone
  }
}

TEST(OnnxOpsImport, ClipWithoutBoundsGetsFullRange) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4});
  b.node("Clip", {"x", "", "hi"}, {"y"});
  b.scalar("hi", 1.5f);
  b.output("y");
  const ir::Graph g = import_ok(b);
  const ir::Node& clip = test::first_node(g, OpKind::kClip);
  EXPECT_EQ(clip.attrs.get_float("min", 0), std::numeric_limits<float>::lowest());
  EXPECT_EQ(clip.attrs.get_float("max", 0), 1.5f);
}

TEST(OnnxOpsImport, ClipWithComputedBoundIsUnimplemented) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4});
  b.input("lo", {});
  b.node("Clip", {"x", "lo"}, {"y"}, "clip");
  b.output("y");
  auto g = b.import();
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(g.status().message(), "model.onnx: node 'clip' (Clip): min input 'lo' is not a constant");
}

TEST(OnnxOpsImport, SqueezeAxesAttributeBeforeOpset13InputAfter) {
  OnnxModelBuilder old_form(11);
  old_form.input("x", {2, 1, 3, 1});
  set_attr(old_form.node("Squeeze", {"x"}, {"y"}), "axes", Ints{1, -1});
  old_form.output("y");

  OnnxModelBuilder new_form(13);
  new_form.input("x", {2, 1, 3, 1});
  new_form.ints("axes", {1, -1});
  new_form.node("Squeeze", {"x", "axes"}, {"y"});
  new_form.output("y");

  for (const auto* b : {&old_form, &new_form}) {
    const ir::Graph g = import_ok(*b);
    const ir::Node& squeeze = test::first_node(g, OpKind::kSqueeze);
    EXPECT_EQ(squeeze.inputs.size(), 1u);
    EXPECT_EQ(squeeze.attrs.get_ints("axes"), (Ints{1, 3}));  // non-negative, sorted
    EXPECT_EQ(test::value_named(g, "y").shape, (Shape{2, 3}));
  }
}

TEST(OnnxOpsImport, SqueezeWithoutAxesSqueezesEveryOne) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 5, 1});
  b.node("Squeeze", {"x"}, {"y"});
  b.output("y");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(test::first_node(g, OpKind::kSqueeze).attrs.get_ints("axes"), (Ints{0, 2}));
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{5}));
}

TEST(OnnxOpsImport, UnsqueezeOpset11And13) {
  OnnxModelBuilder old_form(11);
  old_form.input("x", {3, 4});
  set_attr(old_form.node("Unsqueeze", {"x"}, {"y"}), "axes", Ints{0, -1});
  old_form.output("y");
  OnnxModelBuilder new_form(13);
  new_form.input("x", {3, 4});
  new_form.ints("axes", {0, -1});
  new_form.node("Unsqueeze", {"x", "axes"}, {"y"});
  new_form.output("y");
  for (const auto* b : {&old_form, &new_form}) {
    const ir::Graph g = import_ok(*b);
    EXPECT_EQ(test::first_node(g, OpKind::kUnsqueeze).attrs.get_ints("axes"), (Ints{0, 3}));
    EXPECT_EQ(test::value_named(g, "y").shape, (Shape{1, 3, 4, 1}));
  }
}

TEST(OnnxOpsImport, SoftmaxOpset11IsLegacy2d) {
  OnnxModelBuilder b(11);
  b.input("x", {2, 3, 4});
  b.node("Softmax", {"x"}, {"y"});
  b.output("y");
  const ir::Graph g = import_ok(b);
  const ir::Node& softmax = test::first_node(g, OpKind::kSoftmax);
  EXPECT_EQ(softmax.attrs.get_int("axis", -1), 1);
  EXPECT_EQ(softmax.attrs.get_int("legacy_2d", 0), 1);

  OnnxModelBuilder b13(13);
  b13.input("x", {2, 3, 4});
  b13.node("Softmax", {"x"}, {"y"});
  b13.output("y");
  const ir::Graph g13 = import_ok(b13);
  const ir::Node& softmax13 = test::first_node(g13, OpKind::kSoftmax);
  EXPECT_EQ(softmax13.attrs.get_int("axis", -1), 2);
  EXPECT_FALSE(softmax13.attrs.has("legacy_2d"));
}

TEST(OnnxOpsImport, PoolsFillDefaults) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 2, 6, 6});
  auto& max = b.node("MaxPool", {"x"}, {"m"});
  set_attr(max, "kernel_shape", Ints{3, 3});
  set_attr(max, "strides", Ints{2, 2});
  set_attr(max, "ceil_mode", int64_t{1});
  auto& avg = b.node("AveragePool", {"m"}, {"a"});
  set_attr(avg, "kernel_shape", Ints{2, 2});
  set_attr(avg, "auto_pad", std::string("SAME_UPPER"));
  b.output("a");
  const ir::Graph g = import_ok(b);
  const ir::Node& mp = test::first_node(g, OpKind::kMaxPool);
  EXPECT_EQ(mp.attrs.get_ints("pads"), (Ints{0, 0, 0, 0}));
  EXPECT_EQ(mp.attrs.get_int("count_include_pad", -1), 0);
  EXPECT_EQ(test::value_named(g, "m").shape, (Shape{1, 2, 3, 3}));  // ceil((6-3)/2)+1 = 3
  const ir::Node& ap = test::first_node(g, OpKind::kAveragePool);
  EXPECT_EQ(ap.attrs.get_ints("pads"), (Ints{0, 0, 1, 1}));
  EXPECT_EQ(ap.attrs.get_ints("strides"), (Ints{1, 1}));
  EXPECT_EQ(test::value_named(g, "a").shape, (Shape{1, 2, 3, 3}));
}

TEST(OnnxOpsImport, GemmBatchNormLrnPadDefaults) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  for (const char* p : {"s", "bb", "mean", "var"}) b.weight(p, {3}, 7);
  b.node("BatchNormalization", {"x", "s", "bb", "mean", "var"}, {"bn"});
  set_attr(b.node("LRN", {"bn"}, {"lrn"}), "size", int64_t{3});
  b.ints("pads", {0, 0, 1, 1, 0, 0, 1, 1});
  b.node("Pad", {"lrn", "pads"}, {"pad"});
  b.node("Flatten", {"pad"}, {"flat"});
  b.weight("fc_w", {10, 108});
  auto& gemm = b.node("Gemm", {"flat", "fc_w"}, {"fc"});
  set_attr(gemm, "transB", int64_t{1});
  b.output("fc");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(test::first_node(g, OpKind::kBatchNormalization).attrs.get_float("epsilon", 0), 1e-5f);
  const ir::Node& lrn = test::first_node(g, OpKind::kLRN);
  EXPECT_EQ(lrn.attrs.get_float("alpha", 0), 1e-4f);
  EXPECT_EQ(lrn.attrs.get_float("beta", 0), 0.75f);
  EXPECT_EQ(lrn.attrs.get_float("bias", 0), 1.0f);
  const ir::Node& pad = test::first_node(g, OpKind::kPad);
  EXPECT_EQ(pad.inputs.size(), 1u);
  EXPECT_EQ(pad.attrs.get_ints("pads"), (Ints{0, 0, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(pad.attrs.get_float("value", -1), 0.0f);
  EXPECT_EQ(test::value_named(g, "pad").shape, (Shape{1, 3, 6, 6}));
  const ir::Node& fc = test::first_node(g, OpKind::kGemm);
  EXPECT_EQ(fc.attrs.get_float("alpha", 0), 1.0f);
  EXPECT_EQ(fc.attrs.get_int("transA", -1), 0);
  EXPECT_EQ(fc.attrs.get_int("transB", -1), 1);
  EXPECT_EQ(test::value_named(g, "fc").shape, (Shape{1, 10}));
}

TEST(OnnxOpsImport, PadOpset2Attributes) {
  OnnxModelBuilder b(7);
  b.input("x", {1, 2, 3, 3});
  auto& pad = b.node("Pad", {"x"}, {"y"});
  set_attr(pad, "pads", Ints{0, 0, 2, 2, 0, 0, 2, 2});
  set_attr(pad, "value", 1.5f);
  b.output("y");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(test::first_node(g, OpKind::kPad).attrs.get_float("value", 0), 1.5f);
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{1, 2, 7, 7}));
}

TEST(OnnxOpsImport, ConstantNodesBecomeValues) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 3, 4});
  auto& shape = b.node("Constant", {}, {"shape"});
  set_attr(shape, "value_ints", Ints{0, -1});
  b.node("Reshape", {"x", "shape"}, {"y"});
  b.output("y");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_TRUE(test::value_named(g, "shape").is_constant());
  EXPECT_EQ(test::first_node(g, OpKind::kReshape).attrs.get_int("allowzero", -1), 0);
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{2, 12}));
}

// Shape on a dynamic batch stays a node (the folding pass refuses it); the
// Shape->Gather->Unsqueeze->Concat chain still gives the Reshape an output shape.
TEST(OnnxOpsImport, ShapeChainOnDynamicBatchIsKept) {
  OnnxModelBuilder b(13);
  b.input("x", {-1, 8, 2, 2});
  b.node("Shape", {"x"}, {"s"});
  auto& zero = b.node("Constant", {}, {"zero"});
  set_attr(zero, "value_int", int64_t{0});
  b.node("Gather", {"s", "zero"}, {"n"});
  b.ints("axes0", {0});
  b.node("Unsqueeze", {"n", "axes0"}, {"n1"});
  b.ints("minus1", {-1});
  auto& cat = b.node("Concat", {"n1", "minus1"}, {"target"});
  set_attr(cat, "axis", int64_t{0});
  b.node("Reshape", {"x", "target"}, {"y"});
  b.output("y");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(test::count_ops(g, OpKind::kShape), 1u);
  EXPECT_EQ(test::value_named(g, "s").dtype, DataType::kInt64);
  EXPECT_EQ(test::value_named(g, "s").shape, (Shape{4}));
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{kDynamicDim, 32}));
}

TEST(OnnxOpsImport, Fp16InputIsImportedAsFloat32) {
  OnnxModelBuilder b(13);
  b.input("x", {1, 4}, onnx::TensorProto::FLOAT16);
  auto* w = b.graph().add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT16);
  w->add_dims(4);
  for (float f : {1.0f, -2.0f, 0.5f, 65504.0f}) w->add_int32_data(float_to_half(f));
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(g.value(g.inputs[0]).dtype, DataType::kFloat32);
  const ir::Value& wv = test::value_named(g, "w");
  ASSERT_TRUE(wv.is_constant());
  EXPECT_EQ(std::vector<float>(wv.constant->floats().begin(), wv.constant->floats().end()),
            (std::vector<float>{1.0f, -2.0f, 0.5f, 65504.0f}));
}

TEST(OnnxOpsImport, Int32InitializerBecomesInt64) {
  OnnxModelBuilder b(13);
  b.input("x", {5, 3});
  auto* idx = b.graph().add_initializer();
  idx->set_name("idx");
  idx->set_data_type(onnx::TensorProto::INT32);
  idx->add_dims(2);
  const int32_t raw[2] = {4, -1};
  idx->set_raw_data(std::string(reinterpret_cast<const char*>(raw), sizeof(raw)));
  b.node("Gather", {"x", "idx"}, {"y"});
  b.output("y");
  const ir::Graph g = import_ok(b);
  const ir::Value& v = test::value_named(g, "idx");
  ASSERT_EQ(v.dtype, DataType::kInt64);
  EXPECT_EQ(v.constant->int64s()[0], 4);
  EXPECT_EQ(v.constant->int64s()[1], -1);
  EXPECT_EQ(test::value_named(g, "y").shape, (Shape{2, 3}));
}

TEST(OnnxOpsImport, ActivationsAndMatMul) {
  OnnxModelBuilder b(14);
  b.input("x", {2, 3, 4});
  b.weight("m", {4, 5});
  b.node("MatMul", {"x", "m"}, {"mm"});
  set_attr(b.node("LeakyRelu", {"mm"}, {"l"}), "alpha", 0.2f);
  b.node("HardSigmoid", {"l"}, {"h"});
  b.node("HardSwish", {"h"}, {"hs"});
  b.node("Sigmoid", {"hs"}, {"sg"});
  b.node("Tanh", {"sg"}, {"th"});
  b.node("Max", {"th", "sg", "hs"}, {"s"});
  set_attr(b.node("Transpose", {"s"}, {"t"}), "perm", Ints{0, 2, 1});
  b.node("Transpose", {"t"}, {"t2"});
  b.output("t2");
  const ir::Graph g = import_ok(b);
  EXPECT_EQ(test::first_node(g, OpKind::kLeakyRelu).attrs.get_float("alpha", 0), 0.2f);
  EXPECT_EQ(test::first_node(g, OpKind::kHardSigmoid).attrs.get_float("alpha", 0), 0.2f);
  EXPECT_EQ(test::first_node(g, OpKind::kHardSigmoid).attrs.get_float("beta", 0), 0.5f);
  EXPECT_EQ(test::value_named(g, "mm").shape, (Shape{2, 3, 5}));
  EXPECT_EQ(test::value_named(g, "s").shape, (Shape{2, 3, 5}));
  EXPECT_EQ(g.value(test::first_node(g, OpKind::kTanh).inputs[0]).name, "sg");
  EXPECT_EQ(test::first_node(g, OpKind::kMax).inputs.size(), 3u);
  EXPECT_EQ(test::value_named(g, "t").shape, (Shape{2, 5, 3}));
  EXPECT_EQ(g.nodes().back().attrs.get_ints("perm"), (Ints{2, 1, 0}));  // default: reversed
  EXPECT_EQ(test::value_named(g, "t2").shape, (Shape{3, 5, 2}));
}

}  // namespace
}  // namespace inferd
