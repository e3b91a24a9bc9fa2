// The op-test case lists (see op_cases.h).
#include "support/op_cases.h"

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

// ConvTranspose: w is [Cin, Cout/group, kH, kW]; the bias has Cout = w[1] * group entries.
OpCase deconv_case(std::string name, ir::Attributes a, Shape x, Shape w, bool bias, Shape y,
                   std::string impl = "onednn:deconv") {
  const int64_t group = a.get_int("group", 1);
  std::vector<CaseInput> in{activation(x), weight(w), bias ? weight({w[1] * group}) : absent()};
  return {std::move(name), OpKind::kConvTranspose, std::move(a), std::move(in), {y}, std::move(impl)};
}

ir::Attributes deconv(V strides, V pads, V output_padding = {0, 0}, V dilations = {1, 1}, int64_t group = 1) {
  return attrs({{"strides", strides},
                {"pads", pads},
                {"dilations", dilations},
                {"group", group},
                {"output_padding", output_padding}});
}

OpCase gemm_case(std::string name, ir::Attributes a, Shape x, Shape b, CaseInput c, Shape y) {
  return {std::move(name),
          OpKind::kGemm,
          std::move(a),
          {activation(x), weight(b), std::move(c)},
          {y},
          "onednn:inner_product+gemv"};
}

// `a` with an INT8 input (quantized_layer_folding's attributes): uint8 or int8 levels over
// [0 or -threshold, threshold].
ir::Attributes int8_input(ir::Attributes a, bool is_unsigned, float threshold) {
  a.set("input_scale", threshold / (is_unsigned ? 255.0f : 127.0f));
  a.set("input_qmin", int64_t{is_unsigned ? 0 : -128});
  a.set("input_qmax", int64_t{is_unsigned ? 255 : 127});
  return a;
}

// `a` with its output rounded onto a grid (output_quantization_fusion's attributes).
ir::Attributes rounded_output(ir::Attributes a, float scale, int64_t zero_point, int64_t qmin, int64_t qmax) {
  a.set("output_scale", scale);
  a.set("output_zero_point", zero_point);
  a.set("output_qmin", qmin);
  a.set("output_qmax", qmax);
  return a;
}

}  // namespace

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
      // Caffe's WITHIN_CHANNEL: a size x size window per channel, alpha / size^2 (bias 1).
      unary("lrn_within_size3", OpKind::kLRN, with(lrn(3), {{"region", std::string("within_channel")}}), {1, 8, 6, 7},
            {1, 8, 6, 7}, "onednn:lrn"),
      unary("lrn_within_size5", OpKind::kLRN,
            with(lrn(5), {{"region", std::string("within_channel")}, {"bias", 1.0f}, {"alpha", 2.0f}}), {1, 4, 9, 8},
            {1, 4, 9, 8}, "onednn:lrn"),
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
      unary("tanh", OpKind::kTanh, {}, s, s, "onednn:eltwise"),
      unary("hard_sigmoid", OpKind::kHardSigmoid, attrs({{"alpha", 0.25f}, {"beta", 0.5f}}), s, s, "onednn:eltwise"),
      unary("hard_swish", OpKind::kHardSwish, {}, s, s, "onednn:eltwise"),
      {"add", OpKind::kAdd, {}, {activation(s), activation(s)}, {s}, "onednn:binary_add"},
      {"add_broadcast", OpKind::kAdd, {}, {activation(s), activation({1, 8, 1, 1})}, {s}, "reference:add"},
      {"max3", OpKind::kMax, {}, {activation(s), activation(s), activation(s)}, {s}, "reference:max"},
      {"max_broadcast", OpKind::kMax, {}, {activation(s), activation({1, 8, 1, 1})}, {s}, "reference:max"},
      unary("reorder", OpKind::kReorder, {}, s, s, "onednn:reorder"),
      // A network's RGB input, NCHW to NHWC: the GPU's interleaving path.
      unary("reorder_rgb", OpKind::kReorder, {}, {1, 3, 6, 7}, {1, 3, 6, 7}, "onednn:reorder"),
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
      // ONNX Mul's broadcasting (a per-channel scale, as Caffe's Scale and the GIE's
      // elementwise product take it): the smaller operand repeats over the spatial axes.
      {"mul_broadcast", OpKind::kMul, {}, {activation(s), activation({1, 8, 1, 1})}, {s}, "reference:mul"},
      {"sum", OpKind::kSum, {}, {activation(s), activation(s), activation(s)}, {s}, "reference:sum"},
      {"matmul", OpKind::kMatMul, {}, {activation({1, 16}), weight({16, 8})}, {{1, 8}}, "reference:matmul"},
      unary("flatten", OpKind::kFlatten, attrs({{"axis", int64_t{1}}}), s, {1, 200}, "reference:flatten"),
      {"reshape", OpKind::kReshape, {}, {activation(s), int64s({2}, {0, -1})}, {{1, 200}}, "reference:reshape"},
      unary("transpose", OpKind::kTranspose, attrs({{"perm", V{0, 2, 3, 1}}}), s, {1, 5, 5, 8}, "reference:transpose"),
      unary("squeeze", OpKind::kSqueeze, attrs({{"axes", V{2}}}), {1, 8, 1, 5}, {1, 8, 5}, "reference:squeeze"),
      unary("unsqueeze", OpKind::kUnsqueeze, attrs({{"axes", V{1}}}), {1, 8, 5}, {1, 1, 8, 5}, "reference:unsqueeze"),
      unary("identity", OpKind::kIdentity, {}, s, s, "reference:identity"),
      unary("pad", OpKind::kPad, attrs({{"pads", V{0, 0, 1, 2, 0, 0, 2, 1}}, {"value", 0.5f}}), s, {1, 8, 8, 8},
            "reference:pad"),
      // Calibrated activations: uint8 after a ReLU-like range, int8 with a zero point; the
      // inputs reach past the grids so that both saturate.
      unary("fake_quantize_u8", OpKind::kFakeQuantize,
            attrs({{"scale", 0.003f}, {"zero_point", int64_t{0}}, {"qmin", int64_t{0}}, {"qmax", int64_t{255}}}), s, s,
            "reference:fakequantize"),
      unary("fake_quantize_s8_zero_point", OpKind::kFakeQuantize,
            attrs({{"scale", 0.005f}, {"zero_point", int64_t{-3}}, {"qmin", int64_t{-128}}, {"qmax", int64_t{127}}}),
            s, s, "reference:fakequantize"),
      // FP8: rounded to E4M3 (3 mantissa bits, subnormals below 2^-6) and saturated at 448
      // x scale, which the inputs also reach past.
      unary("fake_quantize_e4m3", OpKind::kFakeQuantize, attrs({{"scale", 0.002f}, {"format", std::string("e4m3")}}),
            s, s, "reference:fakequantize"),
      {"gather",
       OpKind::kGather,
       attrs({{"axis", int64_t{1}}}),
       {activation(s), int64s({3}, {4, 0, 6})},
       {{1, 3, 5, 5}},
       "reference:gather"},
  };
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
      conv_case("depthwise", conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 16), {1, 16, 9, 9}, {16, 1, 3, 3}, true, {1, 16, 9, 9}),
      conv_case("depthwise_s2", conv({2, 2}, {1, 1, 1, 1}, {1, 1}, 16), {1, 16, 9, 9}, {16, 1, 3, 3}, false,
                {1, 16, 5, 5}),
      // MobileNetV2's block: depthwise + bias + ReLU6 + a residual, 24 channels (16-byte
      // packs in fp16, 4-wide in fp32, narrower in the channel-slice layouts).
      conv_case("depthwise_relu6_residual",
                with(conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 24),
                     {{"activation", std::string("Clip")}, {"min", 0.0f}, {"max", 6.0f}}),
                {1, 24, 7, 7}, {24, 1, 3, 3}, true, {1, 24, 7, 7}, true),
      // Strides 2 over odd sizes: the last column strip of a row is partly outside.
      conv_case("depthwise_s2_odd", with(conv({2, 2}, {1, 1, 1, 1}, {1, 1}, 32), {{"activation", std::string("Relu")}}),
                {1, 32, 11, 13}, {32, 1, 3, 3}, true, {1, 32, 6, 7}),
      conv_case("depthwise_k5_s2_dilated", conv({2, 2}, {4, 4, 4, 4}, {2, 2}, 8), {1, 8, 13, 11}, {8, 1, 5, 5}, true,
                {1, 8, 7, 6}),
      // An RGB image's first layer: fp16/bf16 pad the 3 channels to 8 for cuDNN.
      conv_case("rgb_k7_s2", with(conv({2, 2}, {3, 3, 3, 3}), {{"activation", std::string("Relu")}}), {1, 3, 15, 15},
                {8, 3, 7, 7}, true, {1, 8, 8, 8}),
      // Image stems the own direct kernel's shared-memory variant takes (C <= 4): MobileNetV2's
      // (3x3 s2, 32 outputs, ReLU6) and ResNet-50's (7x7 s2, 64 outputs), over several tiles of
      // rows and, for the second, of 32 columns.
      conv_case("rgb_stem_k3_s2",
                with(conv({2, 2}, {1, 1, 1, 1}), {{"activation", std::string("Clip")}, {"min", 0.0f}, {"max", 6.0f}}),
                {1, 3, 17, 19}, {32, 3, 3, 3}, true, {1, 32, 9, 10}),
      conv_case("rgb_stem_k7_s2", with(conv({2, 2}, {3, 3, 3, 3}), {{"activation", std::string("Relu")}}),
                {1, 3, 23, 70}, {64, 3, 7, 7}, true, {1, 64, 12, 35}),
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
      {"tanh", attrs({{"activation", std::string("Tanh")}})},
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

std::vector<OpCase> int8_conv_cases() {
  // uint8 inputs as after a ReLU (a few beyond the threshold saturate), int8 ones signed.
  const auto int8_case = [](std::string name, ir::Attributes a, Shape x, Shape w, bool bias, Shape y,
                            bool residual = false) {
    OpCase c = conv_case(std::move(name), std::move(a), std::move(x), w, bias, std::move(y), residual);
    c.inputs[1] = int8_grid_weight(w);
    const bool is_unsigned = c.attrs.get_int("input_qmin", -128) == 0;
    const bool asymmetric = c.attrs.get_int("input_zero_point", 0) != 0;
    c.inputs[0].lo = is_unsigned && !asymmetric ? 0.0f : -1.2f;
    c.inputs[0].hi = 1.2f;
    c.implementation = "onednn:conv_int8";
    return c;
  };
  const ir::Attributes same3x3 = conv({1, 1}, {1, 1, 1, 1});
  return {
      int8_case("u8_pointwise", int8_input(conv({1, 1}, {0, 0, 0, 0}), true, 1.0f), {1, 16, 7, 7}, {24, 16, 1, 1}, true,
                {1, 24, 7, 7}),
      int8_case("u8_k3_relu", int8_input(with(same3x3, {{"activation", std::string("Relu")}}), true, 1.0f),
                {1, 8, 9, 9}, {16, 8, 3, 3}, true, {1, 16, 9, 9}),
      int8_case("s8_k3_s2", int8_input(conv({2, 2}, {1, 1, 1, 1}), false, 1.0f), {1, 8, 10, 10}, {16, 8, 3, 3}, true,
                {1, 16, 5, 5}),
      // 4 input channels: the fewest the CPU backend runs in INT8 (an RGB stem stays float).
      int8_case("s8_k7_s2", int8_input(conv({2, 2}, {3, 3, 3, 3}), false, 1.1f), {1, 4, 15, 15}, {8, 4, 7, 7}, true,
                {1, 8, 8, 8}),
      int8_case("u8_no_bias", int8_input(same3x3, true, 0.8f), {1, 8, 9, 9}, {16, 8, 3, 3}, false, {1, 16, 9, 9}),
      int8_case("u8_group2", int8_input(conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 2), true, 1.0f), {1, 8, 8, 8}, {12, 4, 3, 3},
                true, {1, 12, 8, 8}),
      int8_case("u8_residual_relu", int8_input(with(same3x3, {{"activation", std::string("Relu")}}), true, 1.0f),
                {1, 8, 6, 6}, {8, 8, 3, 3}, true, {1, 8, 6, 6}, true),
      // Channels in multiples of 16 (what the GPU's own INT8 kernel takes), sized past its
      // tiles' edges: 72 and 136 outputs (tiles of 64 and 128 channels), 144 and 255 pixels
      // (tiles of 128), reductions of 288 and 432 levels (steps of 64), dilation, stride.
      int8_case("s8_c32_k3_s2_72out", int8_input(conv({2, 2}, {1, 1, 1, 1}), false, 1.0f), {1, 32, 21, 21},
                {72, 32, 3, 3}, true, {1, 72, 11, 11}),
      int8_case("u8_c48_dilation2_residual_relu",
                int8_input(with(conv({1, 1}, {2, 2, 2, 2}, {2, 2}), {{"activation", std::string("Relu")}}), true, 1.0f),
                {1, 48, 12, 12}, {48, 48, 3, 3}, true, {1, 48, 12, 12}, true),
      int8_case("u8_c64_pointwise_136out", int8_input(conv({1, 1}, {0, 0, 0, 0}), true, 0.9f), {1, 64, 15, 17},
                {136, 64, 1, 1}, true, {1, 136, 15, 17}),
      // Asymmetric uint8 inputs (ONNX Runtime's, where values can be negative: zero point
      // 100, values from -0.47 to 0.71 on the grid, some saturating), no padding: a
      // pointwise convolution and a strided 3x3 one.
      int8_case("u8_zero_point_pointwise",
                with(int8_input(conv({1, 1}, {0, 0, 0, 0}), true, 1.2f), {{"input_zero_point", int64_t{100}}}),
                {1, 16, 7, 7}, {24, 16, 1, 1}, true, {1, 24, 7, 7}),
      int8_case("u8_zero_point_k3_s2",
                with(int8_input(conv({2, 2}, {0, 0, 0, 0}), true, 1.2f), {{"input_zero_point", int64_t{100}}}),
                {1, 8, 11, 11}, {16, 8, 3, 3}, true, {1, 16, 5, 5}),
  };
}

std::vector<OpCase> rounded_conv_cases() {
  const auto rounded = [](OpCase c) {
    c.grid_step = c.attrs.get_float("output_scale", 0);
    return c;
  };
  const ir::Attributes same3x3 = conv({1, 1}, {1, 1, 1, 1});
  const ir::Attributes relu6 = with(same3x3, {{"activation", std::string("Clip")}, {"min", 0.0f}, {"max", 6.0f}});
  OpCase int8_in = conv_case("u8_in_u8_out_relu", rounded_output(int8_input(with(conv({1, 1}, {0, 0, 0, 0}),
                                                                                   {{"activation", std::string("Relu")}}),
                                                                              true, 1.0f),
                                                                   0.01f, 0, 0, 255),
                             {1, 16, 7, 7}, {24, 16, 1, 1}, true, {1, 24, 7, 7});
  int8_in.inputs[1] = int8_grid_weight({24, 16, 1, 1});
  int8_in.inputs[0].lo = 0.0f;
  int8_in.implementation = "onednn:conv_int8";
  return {
      // A float convolution whose output a float layer reads quantized (MobileNetV2's
      // expansions in front of their depthwise convolutions).
      rounded(conv_case("relu6_u8", rounded_output(relu6, 0.01f, 0, 0, 255), {1, 8, 9, 9}, {16, 8, 3, 3}, true,
                        {1, 16, 9, 9})),
      rounded(conv_case("depthwise_s8", rounded_output(conv({1, 1}, {1, 1, 1, 1}, {1, 1}, 8), 0.01f, 0, -128, 127),
                        {1, 8, 9, 9}, {8, 1, 3, 3}, true, {1, 8, 9, 9})),
      // An asymmetric grid (zero point 10) after a residual add: both saturate somewhere.
      rounded(conv_case("residual_zero_point", rounded_output(same3x3, 0.01f, 10, 0, 255), {1, 8, 6, 6}, {8, 8, 3, 3},
                        true, {1, 8, 6, 6}, true)),
      rounded(std::move(int8_in)),
  };
}

std::vector<OpCase> deconv_cases() {
  std::vector<OpCase> cases{
      // H = stride * (H - 1) + output_padding + dilation * (k - 1) + 1 - pad_top - pad_bottom.
      deconv_case("k3_s1_same", deconv({1, 1}, {1, 1, 1, 1}), {1, 8, 6, 6}, {8, 4, 3, 3}, true, {1, 4, 6, 6}),
      // The usual 2x upsampling: 2 * 4 + 4 - 2 = 10.
      deconv_case("k4_s2_p1", deconv({2, 2}, {1, 1, 1, 1}), {1, 8, 5, 5}, {8, 8, 4, 4}, true, {1, 8, 10, 10}),
      // 2 * 4 + 1 + 3 - 2 = 10, two groups of 4 -> 3 channels.
      deconv_case("group2_s2_output_padding", deconv({2, 2}, {1, 1, 1, 1}, {1, 1}, {1, 1}, 2), {1, 8, 5, 5},
                  {8, 3, 3, 3}, true, {1, 6, 10, 10}),
      // 4 + 2 * 2 + 1 - 4 = 5: dilation 2, no bias.
      deconv_case("dilation2_no_bias", deconv({1, 1}, {2, 2, 2, 2}, {0, 0}, {2, 2}), {1, 4, 5, 5}, {4, 8, 3, 3}, false,
                  {1, 8, 5, 5}),
      // Rows: 2 * 4 + 0 + 3 - 0 - 2 = 9; columns (stride 1, dilation 2, which allows
      // output_padding 1): 1 * 5 + 1 + 5 - 1 - 1 = 9.
      deconv_case("asymmetric_pads", deconv({2, 1}, {0, 1, 2, 1}, {0, 1}, {1, 2}), {1, 6, 5, 6}, {6, 5, 3, 3}, true,
                  {1, 5, 9, 9}),
      // output_padding past the last tap (no bottom/right pads): those rows get the bias only.
      deconv_case("output_padding_beyond_taps", deconv({2, 2}, {0, 0, 0, 0}, {1, 1}), {1, 4, 4, 4}, {4, 4, 3, 3}, true,
                  {1, 4, 10, 10}),
      deconv_case("depthwise_s2", deconv({2, 2}, {1, 1, 1, 1}, {1, 1}, {1, 1}, 8), {1, 8, 5, 5}, {8, 1, 3, 3}, true,
                  {1, 8, 10, 10}),
      deconv_case("relu", with(deconv({2, 2}, {1, 1, 1, 1}), {{"activation", std::string("Relu")}}), {1, 8, 4, 4},
                  {8, 8, 4, 4}, true, {1, 8, 8, 8}),
      deconv_case(
          "leaky_relu",
          with(deconv({2, 2}, {0, 0, 0, 0}), {{"activation", std::string("LeakyRelu")}, {"activation_alpha", 0.1f}}),
          {1, 4, 3, 3}, {4, 8, 2, 2}, true, {1, 8, 6, 6}),
  };
  return cases;
}

std::vector<OpCase> gemm_cases() {
  const ir::Attributes trans_b = attrs({{"transB", int64_t{1}}});
  std::vector<OpCase> cases{
      gemm_case("trans_b_bias", trans_b, {1, 64}, {32, 64}, weight({32}), {1, 32}),
      gemm_case("no_trans_b", {}, {1, 64}, {64, 32}, weight({32}), {1, 32}),
      gemm_case("no_bias", trans_b, {1, 64}, {32, 64}, absent(), {1, 32}),
      gemm_case("relu", with(trans_b, {{"activation", std::string("Relu")}}), {1, 64}, {32, 64}, weight({32}), {1, 32}),
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

std::vector<OpCase> int8_gemm_cases() {
  const auto int8_case = [](std::string name, ir::Attributes a, bool is_unsigned, Shape x, Shape b, CaseInput c,
                             Shape y) {
    const bool trans_b = a.get_int("transB", 0) != 0;
    OpCase oc = gemm_case(std::move(name), int8_input(std::move(a), is_unsigned, 1.0f), std::move(x), b, std::move(c),
                          std::move(y));
    oc.inputs[1] = int8_grid_weight(b, trans_b ? 0 : 1);  // one scale per output
    oc.inputs[0].lo = is_unsigned ? 0.0f : -1.2f;        // a few beyond the threshold saturate
    oc.inputs[0].hi = 1.2f;
    oc.implementation = "onednn:inner_product_int8";
    oc.batches = {1, 8};
    return oc;
  };
  const ir::Attributes trans_b = attrs({{"transB", int64_t{1}}});
  return {
      int8_case("u8_trans_b_bias", trans_b, true, {1, 64}, {32, 64}, weight({32}), {1, 32}),
      int8_case("s8_no_trans_b", {}, false, {1, 64}, {64, 32}, weight({32}), {1, 32}),
      int8_case("u8_relu_no_bias", with(trans_b, {{"activation", std::string("Relu")}}), true, {1, 48}, {24, 48},
                absent(), {1, 24}),
      // alpha scales the int32 sums (an output scale), beta the bias.
      int8_case("s8_alpha_beta", with(trans_b, {{"alpha", 0.5f}, {"beta", 2.0f}}), false, {1, 48}, {16, 48},
                weight({1, 16}), {1, 16}),
      // A classifier head: sums of 2048 products stay exact in int32.
      int8_case("u8_classifier_k2048", trans_b, true, {1, 2048}, {100, 2048}, weight({100}), {1, 100}),
  };
}

}  // namespace inferd::test
