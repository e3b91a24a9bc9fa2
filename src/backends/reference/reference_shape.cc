// Reference kernels for ops that move elements without arithmetic: the copies
// (Identity, Flatten, Reshape, Squeeze, Unsqueeze, Reorder), Concat, Transpose,
// Pad, Gather, Slice (ONNX semantics; Slice is inferd's channel-range op).
#include "backends/reference/reference_kernels.h"

namespace inferd::ref {

// Copies element i of x to element i of y, both in logical row-major order. The
// shapes may differ (Reshape, Flatten, ...) but hold the same number of elements;
// the output view carries the output shape, so shape inputs are not read.
void copy_elements(const ir::Attributes&, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  if (y.size() == 0) return;
  std::vector<int64_t> xi(x.shape.size(), 0), yi(y.shape.size(), 0);
  do {
    y.f32()[offset_of(y, yi)] = x.f32()[offset_of(x, xi)];
    next_index(xi, x.shape);
  } while (next_index(yi, y.shape));
}

// Each input lands in y at its running offset along `axis`: fp32 values, or the one-byte
// INT8 levels (int8_storage) copied as they are.
void concat(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const TensorView& y = out[0];
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis", 1), y.shape.size()));
  const bool bytes = is_levels(y.dtype);
  int64_t start = 0;
  std::vector<int64_t> yi;
  for (const ConstTensorView& x : in) {
    for_each_index(x.shape, [&](const std::vector<int64_t>& idx) {
      yi = idx;
      yi[axis] += start;
      if (bytes)
        static_cast<uint8_t*>(y.data)[offset_of(y, yi)] = static_cast<const uint8_t*>(x.data)[offset_of(x, idx)];
      else
        y.f32()[offset_of(y, yi)] = x.f32()[offset_of(x, idx)];
    });
    start += x.shape[axis];
  }
}

// y dim d is x dim perm[d] (perm defaults to reversing the dims).
void transpose(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const size_t rank = x.shape.size();
  std::vector<int64_t> perm = attrs.get_ints("perm");
  if (perm.empty())
    for (size_t d = rank; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  std::vector<int64_t> xi(rank);
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    for (size_t d = 0; d < rank; ++d) xi[static_cast<size_t>(perm[d])] = idx[d];
    y.f32()[offset_of(y, idx)] = x.f32()[offset_of(x, xi)];
  });
}

// Constant-mode Pad: pads = [begin_0 .. begin_{r-1}, end_0 .. end_{r-1}]; y[i] is
// x[i - begin] where that lies inside x, else `value`. Negative pads crop.
void pad(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const size_t rank = x.shape.size();
  const std::vector<int64_t> pads = attrs.get_ints("pads", std::vector<int64_t>(2 * rank, 0));
  const float value = attrs.get_float("value", 0.0f);
  std::vector<int64_t> xi(rank);
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    bool inside = true;
    for (size_t d = 0; d < rank; ++d) {
      xi[d] = idx[d] - pads[d];
      inside = inside && xi[d] >= 0 && xi[d] < x.shape[d];
    }
    y.f32()[offset_of(y, idx)] = inside ? x.f32()[offset_of(x, xi)] : value;
  });
}

// y[pre, j.., post] = data[pre, indices[j..], post] along `axis`; y's shape is
// data.shape[:axis] + indices.shape + data.shape[axis+1:]. Indices are int64
// (the view's data points at int64 values); negative ones count from the end.
void gather(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& data = in[0];
  const ConstTensorView& indices = in[1];
  const TensorView& y = out[0];
  const auto* index_values = reinterpret_cast<const int64_t*>(indices.data);
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis", 0), data.shape.size()));
  const size_t index_rank = indices.shape.size();
  std::vector<int64_t> di(data.shape.size());
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    const std::span<const int64_t> index_part(idx.data() + axis, index_rank);
    int64_t picked = index_values[offset_of(indices, index_part)];
    if (picked < 0) picked += data.shape[axis];
    for (size_t d = 0; d < axis; ++d) di[d] = idx[d];
    di[axis] = picked;
    for (size_t d = axis + 1; d < di.size(); ++d) di[d] = idx[d - 1 + index_rank];
    y.f32()[offset_of(y, idx)] = data.f32()[offset_of(data, di)];
  });
}

// The range [start, end) of x along `axis`; y's shape holds end - start there.
void slice(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis", 1), x.shape.size()));
  int64_t start = attrs.get_int("start", 0);
  if (start < 0) start += x.shape[axis];
  std::vector<int64_t> xi;
  for_each_index(y.shape, [&](const std::vector<int64_t>& idx) {
    xi = idx;
    xi[axis] += start;
    y.f32()[offset_of(y, idx)] = x.f32()[offset_of(x, xi)];
  });
}

}  // namespace inferd::ref
