// Shared by the reference kernel tests: buffers seen through strided views (dense
// NCHW, NHWC, channel slices of a larger buffer) and a one-call kernel runner.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "backends/reference/reference.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::test {

// kPermuted: NHWC for 4-D tensors, column-major for other ranks >= 2, so every
// kernel meets strides that are not the row-major ones.
enum class ViewLayout { kDense, kPermuted };

struct ViewSpec {
  ViewLayout layout = ViewLayout::kDense;
  // > 0: the view is channels [1, 1 + C) of a buffer with C + extra_channels
  // channels (dim 1), as a concat input or output; applies to rank >= 2.
  int64_t extra_channels = 0;
};

inline std::vector<int64_t> strides_for(const Shape& shape, ViewLayout layout) {
  if (layout == ViewLayout::kDense || shape.size() < 2) return dense_strides(shape);
  if (shape.size() == 4) return nhwc_strides(shape);
  std::vector<int64_t> s(shape.size());
  int64_t step = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    s[d] = step;
    step *= shape[d];
  }
  return s;
}

// Owns a float buffer and a view of `shape` inside it, laid out by `spec`.
class ViewBuffer {
 public:
  static constexpr float kSentinel = 12345.5f;  // fills the buffer, so stray writes show

  ViewBuffer(const Shape& shape, ViewSpec spec) {
    const bool sliced = spec.extra_channels > 0 && shape.size() >= 2;
    Shape buffer_shape = shape;
    if (sliced) buffer_shape[1] += spec.extra_channels;
    storage_.assign(static_cast<size_t>(element_count(buffer_shape)), kSentinel);
    view_.shape = shape;
    view_.strides = strides_for(buffer_shape, spec.layout);
    view_.data = storage_.data() + (sliced ? view_.strides[1] : 0);
  }
  ViewBuffer(const ViewBuffer&) = delete;
  ViewBuffer(ViewBuffer&&) = default;  // the heap buffer, and so view_.data, stays put

  const TensorView& view() const { return view_; }
  // The whole buffer (the view and what lies around it), and where the view starts in it:
  // what a test copies to and from a device to run a kernel there.
  std::span<float> storage() { return storage_; }
  std::span<const float> storage() const { return storage_; }
  int64_t view_offset() const { return static_cast<const float*>(view_.data) - storage_.data(); }

  void write(const Tensor& t) {
    const float* src = t.data<float>();
    for_each_logical([&](int64_t off) { view_.f32()[off] = *src++; });
  }
  Tensor read() const {
    Tensor t(DataType::kFloat32, view_.shape);
    float* dst = t.data<float>();
    for_each_logical([&](int64_t off) { *dst++ = view_.f32()[off]; });
    return t;
  }
  // Buffer elements still holding the sentinel (those outside the view, if untouched).
  int64_t sentinel_count() const {
    int64_t n = 0;
    for (float v : storage_) n += v == kSentinel;
    return n;
  }
  int64_t outside_count() const { return static_cast<int64_t>(storage_.size()) - view_.size(); }

 private:
  template <typename Fn>
  void for_each_logical(Fn fn) const {
    if (view_.size() == 0) return;
    std::vector<int64_t> idx(view_.shape.size(), 0);
    do {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * view_.strides[d];
      fn(off);
    } while (next(idx));
  }
  bool next(std::vector<int64_t>& idx) const {
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < view_.shape[d]) return true;
      idx[d] = 0;
    }
    return false;
  }

  std::vector<float> storage_;
  TensorView view_;
};

// Runs `op`'s reference kernel. Float inputs are copied into views laid out by
// `in_spec`; int64 inputs are passed densely (their view's data points at int64
// values); a default-constructed Tensor is an absent optional input. Checks that
// no write lands outside the output views.
inline std::vector<Tensor> run_kernel(ir::OpKind op, const ir::Attributes& attrs, const std::vector<Tensor>& inputs,
                                      const std::vector<Shape>& output_shapes, ViewSpec in_spec = {},
                                      ViewSpec out_spec = {}) {
  const ref::ReferenceFn fn = ref::reference_kernel(op);
  EXPECT_NE(fn, nullptr) << ir::to_string(op);
  if (!fn) return {};
  std::vector<ViewBuffer> in_buffers, out_buffers;
  std::vector<ConstTensorView> in_views;
  std::vector<TensorView> out_views;
  for (const Tensor& t : inputs) {
    if (t.byte_size() == 0) {
      in_views.push_back({});
    } else if (t.dtype() == DataType::kInt64) {
      in_views.emplace_back(t.raw(), t.shape(), dense_strides(t.shape()), DataType::kInt64);
    } else {
      in_buffers.emplace_back(t.shape(), in_spec);
      in_buffers.back().write(t);
      in_views.push_back(in_buffers.back().view());
    }
  }
  for (const Shape& s : output_shapes) {
    out_buffers.emplace_back(s, out_spec);
    out_views.push_back(out_buffers.back().view());
  }
  fn(attrs, in_views, out_views);
  std::vector<Tensor> results;
  for (const ViewBuffer& b : out_buffers) {
    EXPECT_EQ(b.sentinel_count(), b.outside_count()) << ir::to_string(op) << ": a write landed outside the output view";
    results.push_back(b.read());
  }
  return results;
}

// The single output of run_kernel.
inline Tensor run_kernel1(ir::OpKind op, const ir::Attributes& attrs, const std::vector<Tensor>& inputs,
                          const Shape& output_shape, ViewSpec in_spec = {}, ViewSpec out_spec = {}) {
  std::vector<Tensor> outs = run_kernel(op, attrs, inputs, {output_shape}, in_spec, out_spec);
  return outs.empty() ? Tensor() : std::move(outs[0]);
}

inline Tensor floats(Shape shape, std::vector<float> values) {
  return Tensor::from_floats(std::move(shape), values);
}

inline std::vector<float> values_of(const Tensor& t) {
  auto f = t.floats();
  return {f.begin(), f.end()};
}

// Element-wise |a - b| <= tol, with the first mismatch in the message.
inline ::testing::AssertionResult near(const Tensor& actual, const Tensor& expected, float tol = 1e-4f) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << to_string(actual.shape()) << " vs "
                                         << to_string(expected.shape());
  auto a = actual.floats();
  auto b = expected.floats();
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(a[i] - b[i]) <= tol * std::max(1.0f, std::fabs(b[i]))))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

// Bit-identical values (NaN never matches).
inline ::testing::AssertionResult identical(const Tensor& actual, const Tensor& expected) {
  return near(actual, expected, 0.0f);
}

}  // namespace inferd::test
