// Per-operator attribute normalisation (ONNX operator spec, opsets 7..21): each
// converter reads the attributes its op version defines, fills defaults and writes
// the canonical IR attributes of ir/op.cc.
#include "import/onnx/onnx_ops.h"

#include <array>
#include <limits>

#include "ir/shape_inference.h"

namespace inferd::onnx_import {
namespace {

using ir::OpKind;

// Reads a list attribute of a 2-D window op; another length means a 1-D or 3-D op.
Result<std::vector<int64_t>> spatial_ints(NodeContext& c, const std::string& name, size_t count, int64_t fallback,
                                          int64_t min_value) {
  ASSIGN_OR_RETURN(auto v, c.attr_ints(name, std::vector<int64_t>(count, fallback)));
  if (v.size() != count)
    return c.unsupported("attribute '" + name + "' has " + std::to_string(v.size()) + " values, expected " +
                         std::to_string(count) + " (only 2-D " + c.proto().op_type() + " is supported)");
  for (int64_t x : v)
    if (x < min_value || x > ir::kMaxTensorElements)
      return c.fail("attribute '" + name + "' value " + std::to_string(x) + " is out of range");
  return v;
}

Result<int64_t> flag_attr(NodeContext& c, const std::string& name) {
  ASSIGN_OR_RETURN(int64_t v, c.attr_int(name, 0));
  if (v != 0 && v != 1) return c.fail("attribute '" + name + "' must be 0 or 1, not " + std::to_string(v));
  return v;
}

// Secondary outputs the IR does not produce must be unused.
Status drop_outputs_after(NodeContext& c, size_t keep, const std::string& role) {
  for (size_t i = keep; i < c.node().outputs.size(); ++i)
    if (c.output_used(i))
      return c.unsupported(role + " output '" + c.proto().output(static_cast<int>(i)) +
                           "' is used, which inferd does not support");
  c.node().outputs.resize(keep);
  return Status::ok();
}

// A constant input turned into an attribute; a value computed at run time is not supported.
Result<const Tensor*> require_constant(NodeContext& c, size_t i, const std::string& role) {
  const Tensor* t = c.constant_input(i);
  if (t == nullptr) return c.unsupported(role + " input '" + c.input_name(i) + "' is not a constant");
  return t;
}

Result<std::vector<int64_t>> constant_ints(NodeContext& c, size_t i, const std::string& role) {
  ASSIGN_OR_RETURN(const Tensor* t, require_constant(c, i, role));
  if (t->dtype() != DataType::kInt64 || t->shape().size() > 1)
    return c.fail(role + " input '" + c.input_name(i) + "' must be a 1-D int64 tensor");
  const auto v = t->int64s();
  return std::vector<int64_t>(v.begin(), v.end());
}

Result<float> constant_scalar(NodeContext& c, size_t i, const std::string& role) {
  ASSIGN_OR_RETURN(const Tensor* t, require_constant(c, i, role));
  if (t->dtype() != DataType::kFloat32 || t->size() != 1)
    return c.fail(role + " input '" + c.input_name(i) + "' must be a float scalar");
  return t->floats()[0];
}

// Before `inputs_since`, the op took its parameters as attributes and had one input.
Status attribute_form_only(NodeContext& c, int64_t inputs_since) {
  if (c.node().inputs.size() <= 1) return Status::ok();
  return c.fail("has " + std::to_string(c.node().inputs.size()) + " inputs; before opset " +
                std::to_string(inputs_since) + " it takes 1 (parameters are attributes)");
}

// From `inputs_since` on, the op takes these parameters as inputs; the old attributes
// would be silently ignored, so they are an error.
Status input_form_only(NodeContext& c, std::initializer_list<const char*> old_attributes, int64_t inputs_since) {
  for (const char* name : old_attributes)
    if (c.has_attr(name))
      return c.fail(std::string("attribute '") + name + "' is an input since opset " + std::to_string(inputs_since));
  return Status::ok();
}

Status read_auto_pad(NodeContext& c) {
  ASSIGN_OR_RETURN(std::string mode, c.attr_string("auto_pad", "NOTSET"));
  if (mode == "NOTSET") return Status::ok();
  if (mode != "VALID" && mode != "SAME_UPPER" && mode != "SAME_LOWER")
    return c.fail("attribute 'auto_pad' has unsupported value '" + mode +
                  "' (expected NOTSET, VALID, SAME_UPPER or SAME_LOWER)");
  if (c.has_attr("pads")) return c.fail("attributes 'auto_pad' and 'pads' cannot both be set");
  if (mode != "VALID") c.attrs().set(kPendingAutoPad, mode);  // pads need the input size
  return Status::ok();
}

Status convert_conv(NodeContext& c) {
  if (c.has_attr("kernel_shape")) {
    ASSIGN_OR_RETURN(auto kernel, spatial_ints(c, "kernel_shape", 2, 1, 1));
    c.attrs().set(kPendingKernelShape, kernel);
  }
  ASSIGN_OR_RETURN(auto strides, spatial_ints(c, "strides", 2, 1, 1));
  ASSIGN_OR_RETURN(auto dilations, spatial_ints(c, "dilations", 2, 1, 1));
  ASSIGN_OR_RETURN(auto pads, spatial_ints(c, "pads", 4, 0, 0));
  ASSIGN_OR_RETURN(int64_t group, c.attr_int("group", 1));
  if (group < 1 || group > ir::kMaxTensorElements) return c.fail("attribute 'group' must be >= 1");
  const Tensor* w = c.constant_input(1);
  if (w != nullptr && w->shape().size() != 4)
    return c.unsupported("only 2-D convolution is supported; weight '" + c.input_name(1) + "' has shape " +
                         to_string(w->shape()));
  c.attrs().set("strides", strides);
  c.attrs().set("dilations", dilations);
  c.attrs().set("pads", pads);
  c.attrs().set("group", group);
  return read_auto_pad(c);
}

// ConvTranspose with explicit pads only: auto_pad SAME_* and output_shape derive the pads
// from a requested output size, which inferd does not implement yet.
Status convert_conv_transpose(NodeContext& c) {
  if (c.has_attr("output_shape"))
    return c.unsupported("attribute 'output_shape' is not supported (give pads and output_padding instead)");
  ASSIGN_OR_RETURN(std::string auto_pad, c.attr_string("auto_pad", "NOTSET"));
  if (auto_pad != "NOTSET")
    return c.unsupported("auto_pad '" + auto_pad + "' is not supported for ConvTranspose (only NOTSET, with pads)");
  if (c.has_attr("kernel_shape")) {
    ASSIGN_OR_RETURN(auto kernel, spatial_ints(c, "kernel_shape", 2, 1, 1));
    c.attrs().set(kPendingKernelShape, kernel);
  }
  ASSIGN_OR_RETURN(auto strides, spatial_ints(c, "strides", 2, 1, 1));
  ASSIGN_OR_RETURN(auto dilations, spatial_ints(c, "dilations", 2, 1, 1));
  ASSIGN_OR_RETURN(auto pads, spatial_ints(c, "pads", 4, 0, 0));
  ASSIGN_OR_RETURN(auto output_padding, spatial_ints(c, "output_padding", 2, 0, 0));
  ASSIGN_OR_RETURN(int64_t group, c.attr_int("group", 1));
  if (group < 1 || group > ir::kMaxTensorElements) return c.fail("attribute 'group' must be >= 1");
  const Tensor* w = c.constant_input(1);
  if (w != nullptr && w->shape().size() != 4)
    return c.unsupported("only 2-D transposed convolution is supported; weight '" + c.input_name(1) +
                         "' has shape " + to_string(w->shape()));
  c.attrs().set("strides", strides);
  c.attrs().set("dilations", dilations);
  c.attrs().set("pads", pads);
  c.attrs().set("output_padding", output_padding);
  c.attrs().set("group", group);
  return Status::ok();
}

Status convert_pool(NodeContext& c) {
  if (!c.has_attr("kernel_shape")) return c.fail("attribute 'kernel_shape' is missing");
  ASSIGN_OR_RETURN(auto kernel, spatial_ints(c, "kernel_shape", 2, 1, 1));
  ASSIGN_OR_RETURN(auto strides, spatial_ints(c, "strides", 2, 1, 1));
  ASSIGN_OR_RETURN(auto pads, spatial_ints(c, "pads", 4, 0, 0));
  ASSIGN_OR_RETURN(auto dilations, spatial_ints(c, "dilations", 2, 1, 1));
  if (dilations != std::vector<int64_t>{1, 1}) return c.unsupported("attribute 'dilations' (dilated pooling) is not supported");
  ASSIGN_OR_RETURN(int64_t ceil_mode, flag_attr(c, "ceil_mode"));
  ASSIGN_OR_RETURN(int64_t count_include_pad, flag_attr(c, "count_include_pad"));
  if (c.node().op == OpKind::kMaxPool) {
    ASSIGN_OR_RETURN(int64_t storage_order, c.attr_int("storage_order", 0));
    if (storage_order != 0)
      return c.unsupported("attribute 'storage_order'=" + std::to_string(storage_order) +
                           " (column-major Indices) is not supported");
    RETURN_IF_ERROR(drop_outputs_after(c, 1, "the Indices"));
    count_include_pad = 0;
  }
  c.attrs().set("kernel_shape", kernel);
  c.attrs().set("strides", strides);
  c.attrs().set("pads", pads);
  c.attrs().set("ceil_mode", ceil_mode);
  c.attrs().set("count_include_pad", count_include_pad);
  return read_auto_pad(c);
}

Status convert_batch_norm(NodeContext& c) {
  ASSIGN_OR_RETURN(float epsilon, c.attr_float("epsilon", 1e-5f));
  ASSIGN_OR_RETURN(int64_t spatial, c.attr_int("spatial", 1));
  if (spatial != 1) return c.unsupported("attribute 'spatial'=0 (per-element statistics) is not supported");
  ASSIGN_OR_RETURN(int64_t training, c.attr_int("training_mode", 0));
  if (training != 0) return c.unsupported("attribute 'training_mode'=1 is not supported (inference only)");
  RETURN_IF_ERROR(drop_outputs_after(c, 1, "the training (running or saved statistics)"));
  c.attrs().set("epsilon", epsilon);
  return Status::ok();
}

Status convert_lrn(NodeContext& c) {
  if (!c.has_attr("size")) return c.fail("attribute 'size' is missing");
  ASSIGN_OR_RETURN(int64_t size, c.attr_int("size", 0));
  if (size < 1 || size > ir::kMaxTensorElements) return c.fail("attribute 'size' must be >= 1");
  ASSIGN_OR_RETURN(float alpha, c.attr_float("alpha", 1e-4f));
  ASSIGN_OR_RETURN(float beta, c.attr_float("beta", 0.75f));
  ASSIGN_OR_RETURN(float bias, c.attr_float("bias", 1.0f));
  c.attrs().set("size", size);
  c.attrs().set("alpha", alpha);
  c.attrs().set("beta", beta);
  c.attrs().set("bias", bias);
  return Status::ok();
}

Status convert_gemm(NodeContext& c) {
  ASSIGN_OR_RETURN(float alpha, c.attr_float("alpha", 1.0f));
  ASSIGN_OR_RETURN(float beta, c.attr_float("beta", 1.0f));
  ASSIGN_OR_RETURN(int64_t trans_a, flag_attr(c, "transA"));
  ASSIGN_OR_RETURN(int64_t trans_b, flag_attr(c, "transB"));
  c.attrs().set("alpha", alpha);
  c.attrs().set("beta", beta);
  c.attrs().set("transA", trans_a);
  c.attrs().set("transB", trans_b);
  return Status::ok();
}

Status convert_clip(NodeContext& c) {
  float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
  if (c.opset() < 11) {
    RETURN_IF_ERROR(attribute_form_only(c, 11));
    ASSIGN_OR_RETURN(lo, c.attr_float("min", lo));
    ASSIGN_OR_RETURN(hi, c.attr_float("max", hi));
  } else {
    RETURN_IF_ERROR(input_form_only(c, {"min", "max"}, 11));
    if (c.has_input(1)) {
      ASSIGN_OR_RETURN(lo, constant_scalar(c, 1, "min"));
    }
    if (c.has_input(2)) {
      ASSIGN_OR_RETURN(hi, constant_scalar(c, 2, "max"));
    }
    c.node().inputs.resize(1);
  }
  c.attrs().set("min", lo);
  c.attrs().set("max", hi);
  return Status::ok();
}

Status convert_dropout(NodeContext& c) {
  if (c.opset() < 12) RETURN_IF_ERROR(attribute_form_only(c, 12));
  if (c.has_input(2)) {
    const Tensor* training = c.constant_input(2);
    if (training == nullptr || training->size() != 1 || training->byte_size() == 0 ||
        std::to_integer<int>(training->raw()[0]) != 0)
      return c.unsupported("input 'training_mode' must be a constant false (inference only)");
  }
  c.node().inputs.resize(1);  // the ratio does nothing at inference
  return drop_outputs_after(c, 1, "the mask");
}

Status convert_pad(NodeContext& c) {
  ASSIGN_OR_RETURN(std::string mode, c.attr_string("mode", "constant"));
  if (mode != "constant") return c.unsupported("attribute 'mode' value '" + mode + "' is not supported (only constant)");
  std::vector<int64_t> pads;
  float value = 0.0f;
  if (c.opset() < 11) {
    RETURN_IF_ERROR(attribute_form_only(c, 11));
    if (!c.has_attr("pads")) return c.fail("attribute 'pads' is missing");
    ASSIGN_OR_RETURN(pads, c.attr_ints("pads"));
    ASSIGN_OR_RETURN(value, c.attr_float("value", 0.0f));
  } else {
    RETURN_IF_ERROR(input_form_only(c, {"pads", "value"}, 11));
    if (c.has_input(3)) return c.unsupported("input 'axes' is not supported");
    if (!c.has_input(1)) return c.fail("input 'pads' is missing");
    ASSIGN_OR_RETURN(pads, constant_ints(c, 1, "pads"));
    if (c.has_input(2)) {
      ASSIGN_OR_RETURN(value, constant_scalar(c, 2, "constant_value"));
    }
    c.node().inputs.resize(1);
  }
  for (int64_t p : pads)
    if (p < 0 || p > ir::kMaxTensorElements)
      return c.unsupported("pads value " + std::to_string(p) + " is not supported (negative pads crop)");
  c.attrs().set("pads", pads);
  c.attrs().set("value", value);
  return Status::ok();
}

// Squeeze/Unsqueeze: axes from the attribute before opset 13, from a constant input after.
Status convert_axes(NodeContext& c) {
  const bool required = c.node().op == OpKind::kUnsqueeze;
  if (c.opset() < 13) {
    RETURN_IF_ERROR(attribute_form_only(c, 13));
    if (c.has_attr("axes")) {
      ASSIGN_OR_RETURN(auto axes, c.attr_ints("axes"));
      c.attrs().set("axes", axes);
    }
  } else if (Status s = input_form_only(c, {"axes"}, 13); !s.is_ok()) {
    return s;
  } else if (c.has_input(1)) {
    ASSIGN_OR_RETURN(auto axes, constant_ints(c, 1, "axes"));
    c.attrs().set("axes", axes);
  }
  if (required && !c.attrs().has("axes")) return c.fail("axes are missing");
  c.node().inputs.resize(1);
  return Status::ok();
}

Status convert_softmax(NodeContext& c) {
  // Before opset 13 Softmax flattened the input to 2-D at `axis` (default 1).
  const bool legacy = c.opset() < 13;
  ASSIGN_OR_RETURN(int64_t axis, c.attr_int("axis", legacy ? 1 : -1));
  c.attrs().set("axis", axis);
  if (legacy) c.attrs().set("legacy_2d", int64_t{1});
  return Status::ok();
}

Status convert_shape(NodeContext& c) {
  ASSIGN_OR_RETURN(int64_t start, c.attr_int("start", 0));
  if (start != 0 || c.has_attr("end")) return c.unsupported("attributes 'start'/'end' (part of the shape) are not supported");
  return Status::ok();
}

// Ops whose only attribute is an int (`axis` and friends) with a default, or required.
template <const char* kName, int64_t kDefault, bool kRequired>
Status convert_int_attr(NodeContext& c) {
  if (kRequired && !c.has_attr(kName)) return c.fail(std::string("attribute '") + kName + "' is missing");
  ASSIGN_OR_RETURN(int64_t v, c.attr_int(kName, kDefault));
  c.attrs().set(kName, v);
  return Status::ok();
}

Status convert_transpose(NodeContext& c) {
  if (c.has_attr("perm")) {
    ASSIGN_OR_RETURN(auto perm, c.attr_ints("perm"));
    c.attrs().set("perm", perm);
  }
  return Status::ok();
}

Status convert_leaky_relu(NodeContext& c) {
  ASSIGN_OR_RETURN(float alpha, c.attr_float("alpha", 0.01f));
  c.attrs().set("alpha", alpha);
  return Status::ok();
}

Status convert_hard_sigmoid(NodeContext& c) {
  ASSIGN_OR_RETURN(float alpha, c.attr_float("alpha", 0.2f));
  ASSIGN_OR_RETURN(float beta, c.attr_float("beta", 0.5f));
  c.attrs().set("alpha", alpha);
  c.attrs().set("beta", beta);
  return Status::ok();
}

Status no_attributes(NodeContext&) { return Status::ok(); }

constexpr char kAxis[] = "axis";
constexpr char kAllowZero[] = "allowzero";

constexpr std::array<OpConverter, 34> kConverters{{
    {"Conv", OpKind::kConv, 1, 2, 3, 1, "auto_pad,dilations,group,kernel_shape,pads,strides", convert_conv},
    {"ConvTranspose", OpKind::kConvTranspose, 1, 2, 3, 1,
     "auto_pad,dilations,group,kernel_shape,output_padding,output_shape,pads,strides", convert_conv_transpose},
    {"Relu", OpKind::kRelu, 1, 1, 1, 1, "", no_attributes},
    {"Clip", OpKind::kClip, 1, 1, 3, 1, "min,max", convert_clip},
    {"LeakyRelu", OpKind::kLeakyRelu, 1, 1, 1, 1, "alpha", convert_leaky_relu},
    {"Sigmoid", OpKind::kSigmoid, 1, 1, 1, 1, "", no_attributes},
    {"Tanh", OpKind::kTanh, 1, 1, 1, 1, "", no_attributes},
    {"HardSigmoid", OpKind::kHardSigmoid, 1, 1, 1, 1, "alpha,beta", convert_hard_sigmoid},
    {"HardSwish", OpKind::kHardSwish, 14, 1, 1, 1, "", no_attributes},
    {"MaxPool", OpKind::kMaxPool, 1, 1, 1, 2, "auto_pad,ceil_mode,dilations,kernel_shape,pads,storage_order,strides",
     convert_pool},
    {"AveragePool", OpKind::kAveragePool, 1, 1, 1, 1,
     "auto_pad,ceil_mode,count_include_pad,dilations,kernel_shape,pads,strides", convert_pool},
    {"GlobalAveragePool", OpKind::kGlobalAveragePool, 1, 1, 1, 1, "", no_attributes},
    {"LRN", OpKind::kLRN, 1, 1, 1, 1, "alpha,beta,bias,size", convert_lrn},
    {"BatchNormalization", OpKind::kBatchNormalization, 1, 5, 5, 5, "epsilon,momentum,spatial,training_mode",
     convert_batch_norm},
    {"Concat", OpKind::kConcat, 1, 1, kAnyCount, 1, "axis", convert_int_attr<kAxis, 0, true>},
    {"Add", OpKind::kAdd, 7, 2, 2, 1, "", no_attributes},
    {"Mul", OpKind::kMul, 7, 2, 2, 1, "", no_attributes},
    {"Sum", OpKind::kSum, 1, 1, kAnyCount, 1, "", no_attributes},
    {"Max", OpKind::kMax, 1, 1, kAnyCount, 1, "", no_attributes},
    {"Gemm", OpKind::kGemm, 7, 2, 3, 1, "alpha,beta,transA,transB", convert_gemm},
    {"MatMul", OpKind::kMatMul, 1, 2, 2, 1, "", no_attributes},
    {"Flatten", OpKind::kFlatten, 1, 1, 1, 1, "axis", convert_int_attr<kAxis, 1, false>},
    {"Reshape", OpKind::kReshape, 5, 2, 2, 1, "allowzero", convert_int_attr<kAllowZero, 0, false>},
    {"Transpose", OpKind::kTranspose, 1, 1, 1, 1, "perm", convert_transpose},
    {"Squeeze", OpKind::kSqueeze, 1, 1, 2, 1, "axes", convert_axes},
    {"Unsqueeze", OpKind::kUnsqueeze, 1, 1, 2, 1, "axes", convert_axes},
    {"Softmax", OpKind::kSoftmax, 1, 1, 1, 1, "axis", convert_softmax},
    {"Dropout", OpKind::kIdentity, 1, 1, 3, 2, "is_test,ratio,seed", convert_dropout},
    {"Identity", OpKind::kIdentity, 1, 1, 1, 1, "", no_attributes},
    {"Pad", OpKind::kPad, 2, 1, 4, 1, "mode,pads,value", convert_pad},
    {"Shape", OpKind::kShape, 1, 1, 1, 1, "end,start", convert_shape},
    {"Gather", OpKind::kGather, 1, 2, 2, 1, "axis", convert_int_attr<kAxis, 0, false>},
    {"QuantizeLinear", OpKind::kQuantizeLinear, 10, 2, 3, 1, "axis,block_size,output_dtype,saturate",
     convert_quantize_linear},
    {"DequantizeLinear", OpKind::kDequantizeLinear, 10, 2, 3, 1, "axis,block_size", convert_dequantize_linear},
}};

}  // namespace

const OpConverter* find_converter(std::string_view onnx_type) {
  for (const auto& c : kConverters)
    if (c.onnx_type == onnx_type) return &c;
  return nullptr;
}

}  // namespace inferd::onnx_import
