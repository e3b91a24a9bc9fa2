// Internal to the reference_*.cc files: the strided-indexing helpers every
// reference kernel shares, and the kernel entry points reference.cc's dispatch
// table names. Nothing outside src/backends/reference/reference*.cc includes this.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "backends/reference/reference.h"
#include "core/levels.h"
#include "ir/activation.h"

namespace inferd::ref {

using Inputs = std::span<const ConstTensorView>;
using Outputs = std::span<const TensorView>;

// Element offset of logical index `idx` in `v` (idx has one entry per dim).
template <typename View>
int64_t offset_of(const View& v, std::span<const int64_t> idx) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * v.strides[d];
  return off;
}

// INT8 levels (core/levels.h), which the kernels that take them compute over as the values
// they stand for: the levels of `v` as fp32 values, level x scale, in a dense tensor of
// the same shape.
Tensor values_of_levels(const ConstTensorView& v, float scale);
// fp32 values on the grid of `scale` (a dense tensor) written into `y` as their levels.
void write_levels(const Tensor& values, float scale, const TensorView& y);

template <typename View>
auto& at4(const View& v, int64_t n, int64_t c, int64_t h, int64_t w) {
  return v.f32()[n * v.strides[0] + c * v.strides[1] + h * v.strides[2] + w * v.strides[3]];
}

// Advances `idx` through `shape` in row-major order; false after the last index.
inline bool next_index(std::vector<int64_t>& idx, const Shape& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++idx[d] < shape[d]) return true;
    idx[d] = 0;
  }
  return false;
}

// Calls fn(idx) for every logical index of `shape` in row-major order (once for a scalar).
template <typename Fn>
void for_each_index(const Shape& shape, Fn&& fn) {
  if (element_count(shape) == 0) return;
  std::vector<int64_t> idx(shape.size(), 0);
  do {
    fn(std::as_const(idx));
  } while (next_index(idx, shape));
}

// Offset in `v` of output index `out_idx` under numpy broadcasting: `v`'s dims
// align to the right of the output's and size-1 dims repeat.
template <typename View>
int64_t broadcast_offset(const View& v, std::span<const int64_t> out_idx) {
  const size_t lead = out_idx.size() - v.shape.size();
  int64_t off = 0;
  for (size_t d = 0; d < v.shape.size(); ++d)
    if (v.shape[d] != 1) off += out_idx[lead + d] * v.strides[d];
  return off;
}

// A reduction over the dims [first, last) of a shape (softmax rows, pooled planes):
// `outer` enumerates the group starts (reduced dims at 1), `inner` the elements of
// one group (the other dims at 1); outer index + inner index = full index.
struct DimSplit {
  Shape outer, inner;
};

inline DimSplit split_dims(const Shape& shape, size_t first, size_t last) {
  DimSplit s{shape, Shape(shape.size(), 1)};
  for (size_t d = first; d < last; ++d) {
    s.outer[d] = 1;
    s.inner[d] = shape[d];
  }
  return s;
}

// Offsets in `v` of every index of `inner`, in row-major order.
template <typename View>
std::vector<int64_t> offsets_of(const View& v, const Shape& inner) {
  std::vector<int64_t> offs;
  for_each_index(inner, [&](const std::vector<int64_t>& idx) { offs.push_back(offset_of(v, idx)); });
  return offs;
}

inline int64_t normalize_axis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

// Input `i` when present (absent optionals have data == nullptr or are missing).
inline const ConstTensorView* optional_input(Inputs in, size_t i) {
  return i < in.size() && in[i].data != nullptr ? &in[i] : nullptr;
}

// A resolved activation, so kernels look attributes up once rather than per element.
struct Activation {
  ir::Activation act;
  bool unknown = false;  // a name no kernel knows: yields NaN so it cannot pass a test
  float operator()(float x) const {
    return unknown ? std::numeric_limits<float>::quiet_NaN() : ir::apply_activation(act, x);
  }
};

// The standalone activation op `kind` with its own attributes (alpha, beta, min, max).
Activation unary_act(ir::OpKind kind, const ir::Attributes& attrs);
// The fused activation of Conv/Gemm (attr "activation"). Its alpha/beta come from
// "activation_alpha"/"activation_beta" when set; otherwise from "alpha"/"beta" unless
// the op uses those names itself (Gemm), in which case the op-level defaults apply.
Activation fused_act(const ir::Attributes& attrs, bool op_owns_alpha_beta);

// Kernels, grouped by the file that defines them.
// reference_conv.cc
void conv(const ir::Attributes& attrs, Inputs in, Outputs out);
void conv_transpose(const ir::Attributes& attrs, Inputs in, Outputs out);
void gemm(const ir::Attributes& attrs, Inputs in, Outputs out);
void matmul(const ir::Attributes& attrs, Inputs in, Outputs out);
// reference_pool.cc
void max_pool(const ir::Attributes& attrs, Inputs in, Outputs out);
void average_pool(const ir::Attributes& attrs, Inputs in, Outputs out);
void global_average_pool(const ir::Attributes& attrs, Inputs in, Outputs out);
void lrn(const ir::Attributes& attrs, Inputs in, Outputs out);
void batch_normalization(const ir::Attributes& attrs, Inputs in, Outputs out);
// reference_elementwise.cc
void relu(const ir::Attributes& attrs, Inputs in, Outputs out);
void clip(const ir::Attributes& attrs, Inputs in, Outputs out);
void leaky_relu(const ir::Attributes& attrs, Inputs in, Outputs out);
void sigmoid(const ir::Attributes& attrs, Inputs in, Outputs out);
void fake_quantize(const ir::Attributes& attrs, Inputs in, Outputs out);
void tanh(const ir::Attributes& attrs, Inputs in, Outputs out);
void hard_sigmoid(const ir::Attributes& attrs, Inputs in, Outputs out);
void hard_swish(const ir::Attributes& attrs, Inputs in, Outputs out);
void add(const ir::Attributes& attrs, Inputs in, Outputs out);
void mul(const ir::Attributes& attrs, Inputs in, Outputs out);
void sum(const ir::Attributes& attrs, Inputs in, Outputs out);
void max(const ir::Attributes& attrs, Inputs in, Outputs out);
void softmax(const ir::Attributes& attrs, Inputs in, Outputs out);
// reference_shape.cc
void copy_elements(const ir::Attributes& attrs, Inputs in, Outputs out);  // Identity, Reshape, ...
void concat(const ir::Attributes& attrs, Inputs in, Outputs out);
void transpose(const ir::Attributes& attrs, Inputs in, Outputs out);
void pad(const ir::Attributes& attrs, Inputs in, Outputs out);
void gather(const ir::Attributes& attrs, Inputs in, Outputs out);
void slice(const ir::Attributes& attrs, Inputs in, Outputs out);

}  // namespace inferd::ref
