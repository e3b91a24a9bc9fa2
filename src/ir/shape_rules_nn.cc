// Shape rules of the neural-network ops. Formulas follow the ONNX operator spec
// (https://onnx.ai/onnx/operators/): Conv, MaxPool/AveragePool, Gemm, MatMul, ...
#include <algorithm>

#include "core/levels.h"
#include "ir/shape_inference.h"
#include "ir/shape_rules.h"

namespace inferd::ir::shape_rules {
namespace {

// Reads an ints attribute of `count` values, each in [min_value, 2^31]; absent ->
// `count` copies of `fallback`, or an error when `required`.
Result<std::vector<int64_t>> ints_attr(const NodeShapes& s, const std::string& name, size_t count,
                                       int64_t fallback, int64_t min_value, bool required = false) {
  if (!s.attrs().has(name)) {
    if (required) return s.fail("attribute '" + name + "' is missing");
    return std::vector<int64_t>(count, fallback);
  }
  std::vector<int64_t> v = s.attrs().get_ints(name);
  if (v.size() != count)
    return s.fail("attribute '" + name + "' has " + std::to_string(v.size()) + " values, expected " +
                  std::to_string(count));
  for (int64_t x : v)
    if (x < min_value || x > kMaxTensorElements)
      return s.fail("attribute '" + name + "' value " + std::to_string(x) + " is out of range");
  return v;
}

std::string dim_text(int64_t d) { return d == kDynamicDim ? std::string("N") : std::to_string(d); }
std::string dims_text(int64_t a, int64_t b) { return dim_text(a) + "x" + dim_text(b); }

struct Window {
  int64_t kernel, stride, dilation, pad_begin, pad_end;
};

// Output size of a sliding window along one spatial dim. With ceil_mode the last
// window must still start inside the input or its left padding (as ONNX Runtime,
// PyTorch and Caffe do), so that no window lies wholly in the padding.
Result<int64_t> window_output(const NodeShapes& s, const char* axis_name, int64_t in, const Window& w,
                              bool ceil_mode) {
  const int64_t effective = (w.kernel - 1) * w.dilation + 1;
  const int64_t span = in + w.pad_begin + w.pad_end;
  if (span < effective)
    return s.fail("kernel " + std::to_string(effective) + " (dilated) is larger than the padded input " +
                  axis_name + " " + std::to_string(span));
  const int64_t numerator = span - effective;
  int64_t out = (ceil_mode ? (numerator + w.stride - 1) / w.stride : numerator / w.stride) + 1;
  if (ceil_mode && (out - 1) * w.stride >= in + w.pad_begin) --out;
  return out;
}

// The 2-D spatial output of Conv and the pools from strides/pads/dilations attrs.
Result<Shape> spatial_output(const NodeShapes& s, const Shape& in, int64_t kh, int64_t kw, bool ceil_mode,
                             bool has_dilations) {
  ASSIGN_OR_RETURN(auto strides, ints_attr(s, "strides", 2, 1, 1));
  ASSIGN_OR_RETURN(auto pads, ints_attr(s, "pads", 4, 0, 0));
  std::vector<int64_t> dilations{1, 1};
  if (has_dilations) {
    ASSIGN_OR_RETURN(dilations, ints_attr(s, "dilations", 2, 1, 1));
  }
  ASSIGN_OR_RETURN(int64_t oh, window_output(s, "height", in[2], {kh, strides[0], dilations[0], pads[0], pads[2]},
                                             ceil_mode));
  ASSIGN_OR_RETURN(int64_t ow, window_output(s, "width", in[3], {kw, strides[1], dilations[1], pads[1], pads[3]},
                                             ceil_mode));
  return Shape{oh, ow};
}

// Input 0 of rank 4, float; or INT8 levels (core/levels.h) where the op takes them.
Status require_2d_input(const NodeShapes& s, const char* what, bool levels_taken = false) {
  if (!(levels_taken && is_levels(s.input(0).dtype))) RETURN_IF_ERROR(s.require_float(0));
  if (s.in_shape(0).size() != 4)
    return s.unsupported(std::string("only 2-D ") + what + " is supported; " + s.describe_input(0) +
                         " has rank " + std::to_string(s.in_shape(0).size()));
  return Status::ok();
}

// Numpy broadcasting of two shapes (dims aligned on the right).
Result<Shape> broadcast_pair(const NodeShapes& s, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (da == kDynamicDim || db == kDynamicDim) {
      return s.unsupported("broadcasting " + to_string(a) + " with " + to_string(b) +
                           " needs the concrete batch size; give the model a fixed batch size");
    } else {
      return s.fail("cannot broadcast " + to_string(a) + " with " + to_string(b));
    }
  }
  return out;
}

bool is_float(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kBFloat16;
}

// The float type of a Conv that reads levels and writes values: no float input says it but
// the residual, so it is the one declared for the output (the plan's activation type, fp16
// on a GPU), fp32 for a value not typed yet.
DataType float_after_levels(const NodeShapes& s) {
  if (s.has_input(3)) return s.input(3).dtype;
  const DataType declared = s.graph().value(s.node().outputs[0]).dtype;
  return is_float(declared) ? declared : DataType::kFloat32;
}

}  // namespace

// INT8 levels between INT8 convolutions (passes/int8_storage.h): input 0 may hold u8/s8
// levels where the Conv quantizes its input (input_scale); with output_levels = 1 the
// output holds the levels of its rounding (uint8 for output_qmin >= 0, else int8) rather
// than fp32 values.
Status conv(NodeShapes& s) {
  const bool levels_in = is_levels(s.input(0).dtype) && s.attrs().has("input_scale");
  RETURN_IF_ERROR(require_2d_input(s, "convolution", levels_in));
  RETURN_IF_ERROR(s.require_float(1));
  RETURN_IF_ERROR(s.require_rank(1, 4));
  const Shape& x = s.in_shape(0);
  const Shape& w = s.in_shape(1);
  const int64_t group = s.attrs().get_int("group", 1);
  if (group < 1 || group > kMaxTensorElements) return s.fail("group " + std::to_string(group) + " is invalid");
  if (x[1] != w[1] * group)
    return s.fail("input channels " + std::to_string(x[1]) + " do not match weight " + std::to_string(w[1]) +
                  " x group " + std::to_string(group));
  if (w[0] % group != 0)
    return s.fail("weight output channels " + std::to_string(w[0]) + " are not divisible by group " +
                  std::to_string(group));
  if (w[2] < 1 || w[3] < 1) return s.fail("weight " + to_string(w) + " has an empty kernel");
  ASSIGN_OR_RETURN(Shape hw, spatial_output(s, x, w[2], w[3], false, true));
  Shape out{x[0], w[0], hw[0], hw[1]};
  if (s.has_input(2)) {
    RETURN_IF_ERROR(s.require_float(2));
    if (s.in_shape(2) != Shape{w[0]})
      return s.fail("bias " + s.describe_input(2) + " does not match " + std::to_string(w[0]) + " output channels");
  }
  if (s.has_input(3)) {
    RETURN_IF_ERROR(s.require_float(3));
    if (s.in_shape(3) != out)
      return s.fail("residual " + s.describe_input(3) + " does not match the output " + to_string(out));
  }
  if (s.attrs().get_int("output_levels", 0) != 0) {
    if (!s.attrs().has("output_scale") || !s.attrs().has("input_scale"))
      return s.fail("output_levels needs an INT8 convolution (input_scale) with a rounded output (output_scale)");
    return s.set_output(s.attrs().get_int("output_qmin", -128) >= 0 ? DataType::kUint8 : DataType::kInt8,
                        std::move(out));
  }
  return s.set_output(levels_in ? float_after_levels(s) : s.activation_dtype(), std::move(out));
}

namespace {
// One spatial dim of a transposed convolution: the input's pixels spread `stride` apart,
// each painting a (dilated) kernel, then `pad_begin`/`pad_end` cropped off and
// `output_padding` added at the end.
Result<int64_t> transposed_output(const NodeShapes& s, const char* axis_name, int64_t in, int64_t kernel,
                                  int64_t stride, int64_t dilation, int64_t pad_begin, int64_t pad_end,
                                  int64_t output_padding) {
  if (in == 0) return int64_t{0};
  const int64_t out = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - pad_begin - pad_end;
  if (out < 1)
    return s.fail("output " + std::string(axis_name) + " would be " + std::to_string(out) + " (input " +
                  std::to_string(in) + ", stride " + std::to_string(stride) + ", kernel " + std::to_string(kernel) +
                  ", dilation " + std::to_string(dilation) + ", pads " + std::to_string(pad_begin) + "+" +
                  std::to_string(pad_end) + ")");
  return out;
}
}  // namespace

Status conv_transpose(NodeShapes& s) {
  RETURN_IF_ERROR(require_2d_input(s, "transposed convolution"));
  RETURN_IF_ERROR(s.require_float(1));
  RETURN_IF_ERROR(s.require_rank(1, 4));
  const Shape& x = s.in_shape(0);
  const Shape& w = s.in_shape(1);
  const int64_t group = s.attrs().get_int("group", 1);
  if (group < 1 || group > kMaxTensorElements) return s.fail("group " + std::to_string(group) + " is invalid");
  if (x[1] != w[0])
    return s.fail("input channels " + std::to_string(x[1]) + " do not match weight " + to_string(w) +
                  " (ConvTranspose weights are [Cin, Cout/group, kH, kW])");
  if (w[0] % group != 0)
    return s.fail("weight input channels " + std::to_string(w[0]) + " are not divisible by group " +
                  std::to_string(group));
  if (w[2] < 1 || w[3] < 1) return s.fail("weight " + to_string(w) + " has an empty kernel");
  ASSIGN_OR_RETURN(auto strides, ints_attr(s, "strides", 2, 1, 1));
  ASSIGN_OR_RETURN(auto pads, ints_attr(s, "pads", 4, 0, 0));
  ASSIGN_OR_RETURN(auto dilations, ints_attr(s, "dilations", 2, 1, 1));
  ASSIGN_OR_RETURN(auto output_padding, ints_attr(s, "output_padding", 2, 0, 0));
  for (size_t d = 0; d < 2; ++d)
    if (output_padding[d] >= strides[d] && output_padding[d] >= dilations[d])
      return s.fail("output_padding " + std::to_string(output_padding[d]) +
                    " must be smaller than the stride or the dilation");
  ASSIGN_OR_RETURN(int64_t oh, transposed_output(s, "height", x[2], w[2], strides[0], dilations[0], pads[0], pads[2],
                                                 output_padding[0]));
  ASSIGN_OR_RETURN(int64_t ow, transposed_output(s, "width", x[3], w[3], strides[1], dilations[1], pads[1], pads[3],
                                                 output_padding[1]));
  const int64_t out_channels = w[1] * group;
  if (s.has_input(2)) {
    RETURN_IF_ERROR(s.require_float(2));
    if (s.in_shape(2) != Shape{out_channels})
      return s.fail("bias " + s.describe_input(2) + " does not match " + std::to_string(out_channels) +
                    " output channels");
  }
  return s.set_output(s.activation_dtype(), {x[0], out_channels, oh, ow});
}

namespace {
Status pool_of(NodeShapes& s, bool levels_taken) {
  RETURN_IF_ERROR(require_2d_input(s, "pooling", levels_taken));
  ASSIGN_OR_RETURN(auto kernel, ints_attr(s, "kernel_shape", 2, 0, 1, true));
  ASSIGN_OR_RETURN(auto pads, ints_attr(s, "pads", 4, 0, 0));
  for (size_t i = 0; i < 4; ++i)
    if (pads[i] >= kernel[i % 2])
      return s.fail("pads " + std::to_string(pads[i]) + " must be smaller than kernel_shape " +
                    dims_text(kernel[0], kernel[1]));
  const int64_t ceil_mode = s.attrs().get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) return s.fail("ceil_mode must be 0 or 1");
  const Shape& x = s.in_shape(0);
  ASSIGN_OR_RETURN(Shape hw, spatial_output(s, x, kernel[0], kernel[1], ceil_mode == 1, false));
  return s.set_output(s.activation_dtype(), {x[0], x[1], hw[0], hw[1]});
}
}  // namespace

Status pool(NodeShapes& s) {
  return pool_of(s, /*levels_taken=*/false);
}

// A max pool also takes INT8 levels (passes/int8_storage.h) and gives the same type: the max
// of levels is the level of the max.
Status max_pool(NodeShapes& s) {
  return pool_of(s, /*levels_taken=*/true);
}

Status global_average_pool(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  RETURN_IF_ERROR(s.require_min_rank(0, 3));
  Shape out = s.in_shape(0);
  std::fill(out.begin() + 2, out.end(), 1);
  return s.set_output(s.activation_dtype(), std::move(out));
}

Status gemm(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  RETURN_IF_ERROR(s.require_float(1));
  RETURN_IF_ERROR(s.require_rank(0, 2));
  RETURN_IF_ERROR(s.require_rank(1, 2));
  const bool trans_a = s.attrs().get_int("transA", 0) != 0;
  const bool trans_b = s.attrs().get_int("transB", 0) != 0;
  if (trans_a) RETURN_IF_ERROR(s.require_static_batch(0, "Gemm with transA=1"));
  RETURN_IF_ERROR(s.require_static_batch(1, "Gemm on a B input with a dynamic dim 0"));
  const Shape& a = s.in_shape(0);
  const Shape& b = s.in_shape(1);
  const int64_t m = trans_a ? a[1] : a[0], k = trans_a ? a[0] : a[1];
  const int64_t kb = trans_b ? b[1] : b[0], n = trans_b ? b[0] : b[1];
  if (k != kb)
    return s.fail("A is " + dims_text(m, k) + " (K=" + std::to_string(k) + ") but B is " + dims_text(kb, n) +
                  " (K=" + std::to_string(kb) + ")");
  if (s.has_input(2)) {
    RETURN_IF_ERROR(s.require_float(2));
    const Shape& c = s.in_shape(2);
    const Shape target{m, n};
    bool ok = c.size() <= 2;
    for (size_t i = 0; ok && i < c.size(); ++i) {
      const int64_t t = target[i + 2 - c.size()];
      ok = c[i] == 1 || (c[i] == t && c[i] != kDynamicDim);
    }
    if (!ok) return s.fail("C " + s.describe_input(2) + " does not broadcast to " + to_string(target));
  }
  return s.set_output(s.activation_dtype(), {m, n});
}

Status matmul(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  RETURN_IF_ERROR(s.require_float(1));
  RETURN_IF_ERROR(s.require_min_rank(0, 1));
  RETURN_IF_ERROR(s.require_min_rank(1, 1));
  // 1-D operands are promoted (A to a row, B to a column) and the added dim dropped.
  Shape a = s.in_shape(0), b = s.in_shape(1);
  const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back(), kb = b[b.size() - 2], n = b.back();
  if (k == kDynamicDim || kb == kDynamicDim || n == kDynamicDim)
    return s.unsupported("MatMul along the dynamic batch dim needs its concrete value");
  if (k != kb)
    return s.fail("inner dims differ: A " + to_string(s.in_shape(0)) + " (K=" + std::to_string(k) + ") and B " +
                  to_string(s.in_shape(1)) + " (K=" + std::to_string(kb) + ")");
  ASSIGN_OR_RETURN(Shape out, broadcast_pair(s, Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)));
  if (!a_vector) out.push_back(m);
  if (!b_vector) out.push_back(n);
  return s.set_output(s.activation_dtype(), std::move(out));
}

Status batch_normalization(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  RETURN_IF_ERROR(s.require_min_rank(0, 2));
  const int64_t channels = s.in_shape(0)[1];
  static const char* const kRoles[] = {"", "scale", "bias", "mean", "var"};
  for (size_t i = 1; i < 5; ++i) {
    RETURN_IF_ERROR(s.require_float(i));
    if (s.in_shape(i) != Shape{channels})
      return s.fail(std::string(kRoles[i]) + " " + s.describe_input(i) + " does not match " +
                    std::to_string(channels) + " channels");
  }
  return s.set_output(s.activation_dtype(), s.in_shape(0));
}

Status lrn(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  RETURN_IF_ERROR(s.require_min_rank(0, 3));
  const int64_t size = s.attrs().get_int("size", 0);
  if (size < 1 || size > kMaxTensorElements) return s.fail("size " + std::to_string(size) + " must be >= 1");
  const std::string region = s.attrs().get_string("region", "across_channels");
  if (region == "within_channel") {
    // Caffe's window is centred, so it refuses even sizes (its pooling would shrink the map).
    RETURN_IF_ERROR(s.require_rank(0, 4));
    if (size % 2 == 0) return s.fail("within-channel size " + std::to_string(size) + " must be odd");
  } else if (region != "across_channels") {
    return s.fail("region '" + region + "' is neither across_channels nor within_channel");
  }
  return s.set_output(s.activation_dtype(), s.in_shape(0));
}

Status float_same_shape(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  if (s.node().op == OpKind::kSoftmax) {
    RETURN_IF_ERROR(s.require_min_rank(0, 1));
    ASSIGN_OR_RETURN(int64_t axis, s.axis("axis", -1, s.in_shape(0).size()));
    (void)axis;
  }
  return s.set_output(s.activation_dtype(), s.in_shape(0));
}

Status broadcast(NodeShapes& s) {
  Shape out = s.in_shape(0);
  for (size_t i = 1; i < s.input_count(); ++i) {
    if (!s.has_input(i)) return s.fail("input #" + std::to_string(i) + " is missing");
    // Float operands may differ in width (an fp16 activation plus an fp32 constant).
    if (is_float(s.input(0).dtype)) RETURN_IF_ERROR(s.require_float(i));
    else RETURN_IF_ERROR(s.require_dtype(i, s.input(0).dtype));
    ASSIGN_OR_RETURN(out, broadcast_pair(s, out, s.in_shape(i)));
  }
  return s.set_output(s.activation_dtype(), std::move(out));
}

}  // namespace inferd::ir::shape_rules
