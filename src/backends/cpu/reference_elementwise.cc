// Reference kernels for elementwise ops (activations, broadcasting Add/Mul/Sum)
// and Softmax. Semantics follow the ONNX operator specs
// (https://onnx.ai/onnx/operators/) with the canonical attributes of ir/op.cc.
#include <cmath>
#include <limits>

#include "backends/cpu/reference_kernels.h"

namespace inferd::cpu::ref {
namespace {

using ir::OpKind;

// The ONNX default parameters of each activation.
Activation activation_defaults(OpKind kind) {
  Activation a;
  a.kind = kind;
  a.min = -std::numeric_limits<float>::infinity();
  a.max = std::numeric_limits<float>::infinity();
  if (kind == OpKind::kLeakyRelu) a.alpha = 0.01f;
  if (kind == OpKind::kHardSigmoid) {
    a.alpha = 0.2f;
    a.beta = 0.5f;
  }
  return a;
}

// y[i] = act(x[i]) for every logical index (shapes of x and y are equal).
void map_unary(const TensorView& x, const TensorView& y, const Activation& act) {
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    y.data[offset_of(y, idx)] = act(x.data[offset_of(x, idx)]);
  });
}

// y = combine over all inputs, with numpy multidirectional broadcasting.
template <typename Combine>
void broadcast_reduce(Inputs in, const TensorView& y, Combine combine) {
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    float acc = in[0].data[broadcast_offset(in[0], idx)];
    for (size_t i = 1; i < in.size(); ++i) acc = combine(acc, in[i].data[broadcast_offset(in[i], idx)]);
    y.data[offset_of(y, idx)] = acc;
  });
}

}  // namespace

float Activation::operator()(float x) const {
  if (unknown) return std::numeric_limits<float>::quiet_NaN();
  if (!kind) return x;
  switch (*kind) {
    case OpKind::kRelu: return x > 0.0f ? x : 0.0f;
    case OpKind::kClip: return std::fmin(std::fmax(x, min), max);
    case OpKind::kLeakyRelu: return x >= 0.0f ? x : alpha * x;
    case OpKind::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
    case OpKind::kHardSigmoid: return std::fmax(0.0f, std::fmin(1.0f, alpha * x + beta));
    // ONNX HardSwish: x * HardSigmoid(x) with alpha = 1/6, beta = 0.5.
    case OpKind::kHardSwish: return x * std::fmax(0.0f, std::fmin(1.0f, x / 6.0f + 0.5f));
    default: return std::numeric_limits<float>::quiet_NaN();
  }
}

Activation unary_activation(OpKind kind, const ir::Attributes& attrs) {
  Activation a = activation_defaults(kind);
  a.alpha = attrs.get_float("alpha", a.alpha);
  a.beta = attrs.get_float("beta", a.beta);
  a.min = attrs.get_float("min", a.min);
  a.max = attrs.get_float("max", a.max);
  return a;
}

Activation fused_activation(const ir::Attributes& attrs, bool op_owns_alpha_beta) {
  const std::string name = attrs.get_string("activation", "");
  if (name.empty()) return {};
  const std::optional<OpKind> kind = ir::op_kind_from_string(name);
  if (!kind || !ir::is_activation(*kind)) {
    Activation bad;
    bad.unknown = true;
    return bad;
  }
  Activation a = activation_defaults(*kind);
  if (!op_owns_alpha_beta) {
    a.alpha = attrs.get_float("alpha", a.alpha);
    a.beta = attrs.get_float("beta", a.beta);
  }
  a.alpha = attrs.get_float("activation_alpha", a.alpha);
  a.beta = attrs.get_float("activation_beta", a.beta);
  a.min = attrs.get_float("min", a.min);
  a.max = attrs.get_float("max", a.max);
  return a;
}

void relu(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_activation(OpKind::kRelu, attrs));
}
void clip(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_activation(OpKind::kClip, attrs));
}
void leaky_relu(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_activation(OpKind::kLeakyRelu, attrs));
}
void sigmoid(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_activation(OpKind::kSigmoid, attrs));
}
void hard_sigmoid(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_activation(OpKind::kHardSigmoid, attrs));
}
void hard_swish(const ir::Attributes& attrs, Inputs in, Outputs out) {
  map_unary(in[0], out[0], unary_activation(OpKind::kHardSwish, attrs));
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

// Softmax over `axis` (opset 13), or with legacy_2d over all dims >= axis as one
// row (opset < 13 coerces the input to 2-D [prod(d<axis), prod(d>=axis)]).
// The row maximum is subtracted first so exp() cannot overflow.
void softmax(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const TensorView& x = in[0];
  const TensorView& y = out[0];
  const bool legacy_2d = attrs.get_int("legacy_2d", 0) != 0;
  const size_t rank = x.shape.size();
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis", legacy_2d ? 1 : -1), rank));
  const DimSplit split = split_dims(x.shape, axis, legacy_2d ? rank : axis + 1);
  const std::vector<int64_t> row_x = offsets_of(x, split.inner);
  const std::vector<int64_t> row_y = offsets_of(y, split.inner);
  for_each_index(split.outer, [&](const std::vector<int64_t>& idx) {
    const float* xs = x.data + offset_of(x, idx);
    float* ys = y.data + offset_of(y, idx);
    float row_max = -std::numeric_limits<float>::infinity();
    for (int64_t off : row_x) row_max = std::fmax(row_max, xs[off]);
    double total = 0;
    for (int64_t off : row_x) total += std::exp(static_cast<double>(xs[off]) - row_max);
    for (size_t i = 0; i < row_x.size(); ++i)
      ys[row_y[i]] = static_cast<float>(std::exp(static_cast<double>(xs[row_x[i]]) - row_max) / total);
  });
}

}  // namespace inferd::cpu::ref
