// Reference kernels for elementwise ops (activations, broadcasting Add/Mul/Sum)
// and Softmax. Semantics follow the ONNX operator specs
// (https://onnx.ai/onnx/operators/) with the canonical attributes of ir/op.cc.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/reference/reference_kernels.h"
#include "core/fp8.h"
#include "core/quantize.h"
#include "core/target_clones.h"
#include "ir/activation.h"

namespace inferd::ref {
namespace {

using ir::OpKind;

// y[i] = act(x[i]) for every logical index (shapes of x and y are equal).
void map_unary(const ConstTensorView& x, const TensorView& y, const Activation& act) {
  for_each_index(
      y.shape, [&](const std::vector<int64_t>& idx) { y.f32()[offset_of(y, idx)] = act(x.f32()[offset_of(x, idx)]); });
}

// y = combine over all inputs, with numpy multidirectional broadcasting.
template <typename Combine>
void broadcast_reduce(Inputs in, const TensorView& y, Combine combine) {
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    float acc = in[0].f32()[broadcast_offset(in[0], idx)];
    for (size_t i = 1; i < in.size(); ++i) acc = combine(acc, in[i].f32()[broadcast_offset(in[i], idx)]);
    y.f32()[offset_of(y, idx)] = acc;
  });
}

}  // namespace

Activation unary_act(OpKind kind, const ir::Attributes& attrs) {
  auto act = ir::standalone_activation(kind, attrs);
  return act.is_ok() ? Activation{act.value()} : Activation{{}, true};
}

Activation fused_act(const ir::Attributes& attrs, bool op_owns_alpha_beta) {
  auto act = ir::fused_activation(attrs, op_owns_alpha_beta);
  return act.is_ok() ? Activation{act.value()} : Activation{{}, true};
}

void relu(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kRelu, attrs));
}
void clip(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kClip, attrs));
}
void leaky_relu(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kLeakyRelu, attrs));
}
void sigmoid(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kSigmoid, attrs));
}
void tanh(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kTanh, attrs));
}
// y[i] = quantized_level(x[i], scale, lo, hi) * scale over n dense values: the loop of
// every calibrated activation, in a clone the compiler vectorizes for the CPU it runs on
// (the CPU backend runs a standalone FakeQuantize on this kernel: ONNX Runtime's Q/DQ
// SqueezeNet kept 12 of them, 16 % of its time at batch 1 before this).
INFERD_TARGET_CLONES("avx512f", "avx2", "default")
void fake_quantize_dense(const float* x, float* y, int64_t n, float scale, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) y[i] = quantized_level(x[i], scale, lo, hi) * scale;
}

// ONNX QuantizeLinear then DequantizeLinear: x / scale in float, rounded half to even
// (nearbyint in the default rounding mode), saturated to [qmin, qmax]; with format "e4m3",
// x / scale rounded to FP8 E4M3 (core/fp8.h) and scaled back.
void fake_quantize(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const float scale = attrs.get_float("scale", 1.0f);
  const bool e4m3 = ir::fake_quantizes_to_e4m3(attrs);
  const auto zero_point = static_cast<float>(attrs.get_int("zero_point", 0));
  const auto qmin = static_cast<float>(attrs.get_int("qmin", -128)),
             qmax = static_cast<float>(attrs.get_int("qmax", 127));
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  // round(v / scale) + zero_point saturated to [qmin, qmax], minus zero_point again: the
  // rounded v / scale saturated to [qmin - zero_point, qmax - zero_point].
  const float lo = qmin - zero_point, hi = qmax - zero_point;
  const auto fq = [&](float v) {
    return e4m3 ? round_to_e4m3(v / scale) * scale : quantized_level(v, scale, lo, hi) * scale;
  };
  // Every calibrated activation of a plan (NCHW or NHWC, never a slice): one pass, no index walk.
  const bool same_packed_layout =
      x.strides == y.strides && (x.is_dense() || (x.shape.size() == 4 && x.strides == nhwc_strides(x.shape)));
  if (same_packed_layout) {
    const int64_t n = element_count(y.shape);
    if (!e4m3) return fake_quantize_dense(x.f32(), y.f32(), n, scale, lo, hi);
    for (int64_t i = 0; i < n; ++i) y.f32()[i] = fq(x.f32()[i]);
    return;
  }
  for_each_index(y.shape,
                 [&](const std::vector<int64_t>& idx) { y.f32()[offset_of(y, idx)] = fq(x.f32()[offset_of(x, idx)]); });
}

void hard_sigmoid(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kHardSigmoid, attrs));
}
void hard_swish(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_act(OpKind::kHardSwish, attrs));
}

void add(const ir::Attributes&, Inputs in, Outputs out) {
  broadcast_reduce(in, out[0], [](float a, float b) { return a + b; });
}
void mul(const ir::Attributes&, Inputs in, Outputs out) {
  broadcast_reduce(in, out[0], [](float a, float b) { return a * b; });
}
void sum(const ir::Attributes&, Inputs in, Outputs out) {
  broadcast_reduce(in, out[0], [](float a, float b) { return a + b; });
}
void max(const ir::Attributes&, Inputs in, Outputs out) {
  broadcast_reduce(in, out[0], [](float a, float b) { return std::fmax(a, b); });
}

// Softmax over `axis` (opset 13), or with legacy_2d over all dims >= axis as one
// row (opset < 13 coerces the input to 2-D [prod(d<axis), prod(d>=axis)]).
// The row maximum is subtracted first so exp() cannot overflow.
void softmax(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const bool legacy_2d = attrs.get_int("legacy_2d", 0) != 0;
  const size_t rank = x.shape.size();
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis", legacy_2d ? 1 : -1), rank));
  const DimSplit split = split_dims(x.shape, axis, legacy_2d ? rank : axis + 1);
  const std::vector<int64_t> row_x = offsets_of(x, split.inner);
  const std::vector<int64_t> row_y = offsets_of(y, split.inner);
  for_each_index(split.outer, [&](const std::vector<int64_t>& idx) {
    const float* xs = x.f32() + offset_of(x, idx);
    float* ys = y.f32() + offset_of(y, idx);
    float row_max = -std::numeric_limits<float>::infinity();
    for (int64_t off : row_x) row_max = std::fmax(row_max, xs[off]);
    double total = 0;
    for (int64_t off : row_x) total += std::exp(static_cast<double>(xs[off]) - row_max);
    for (size_t i = 0; i < row_x.size(); ++i)
      ys[row_y[i]] = static_cast<float>(std::exp(static_cast<double>(xs[row_x[i]]) - row_max) / total);
  });
}

}  // namespace inferd::ref
